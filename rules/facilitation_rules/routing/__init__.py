"""Who gets a nudge: rosters, assignment policy, escalation, and the nudge values.

Owns the tutor roster (``roster``), the pure assignment / escalation / redistribution
functions of (roster, now, loads) (``assignment``) and what lands in a tutor's queue
(``nudges``). Redis storage of nudges is the stream package's ``delivery``. May import
``contract`` and ``packs`` (weekday names of the business-hours calendar).
"""
