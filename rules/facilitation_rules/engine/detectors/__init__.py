"""The built-in detectors: pure ``apply`` / ``tick`` functions per subject type.

``posts`` (unanswered_post), ``learners`` (silent_learner, dropout_risk, overdue reflection
prompts) and ``reflections`` (shared reflection with no peer response). ``engine`` routes
events to them.
"""
