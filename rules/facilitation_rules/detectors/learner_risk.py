"""The dropout-risk score of one learner as the learner rules use it.

``assess`` computes the features once (``facilitation_rules.dropout``) and gives the score,
its logit and the vector, so an alert's reasons come from the same numbers as its score.
``evaluation_slot`` and ``days_before_crossing`` decide when the score is next worth
evaluating: once a day at the pack's hour, skipping days on which it cannot cross.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from facilitation_rules import dropout
from facilitation_rules.rule_config import DAY, HOUR, CourseRules, DropoutConfig
from facilitation_rules.state import CourseState, LearnerState


class Assessment(NamedTuple):
    risk: float
    logit: float
    features: dropout.Features
    vector: dict[str, float]


def assess(
    state: LearnerState, at: float, rules: CourseRules, cohort: CourseState | None
) -> Assessment:
    cfg = rules.dropout
    feats = dropout.features_at(state, at, cohort, cfg.window_days)
    vector = feats.vector()
    if cohort is None:  # no course aggregate here: neutral
        vector["cohort"] = cfg.reference.get("cohort", 0.0)
    z = dropout.logit(vector, cfg.intercept, cfg.weights)
    return Assessment(dropout.sigmoid(z), z, feats, vector)


def reasons(assessment: Assessment, cfg: DropoutConfig) -> tuple[str, ...]:
    return dropout.reasons(
        assessment.features, assessment.vector, cfg.weights, cfg.reference, cfg.max_reasons
    )


def risk_now(
    state: LearnerState, at: float, rules: CourseRules, cohort: CourseState | None
) -> tuple[float, tuple[str, ...]]:
    """The dropout-risk score and its reasons at ``at`` (for the learner export)."""
    found = assess(state, at, rules, cohort)
    return found.risk, reasons(found, rules.dropout)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def days_before_crossing(gap: float, active_recent: int, cfg: DropoutConfig) -> int:
    """Whole days that must pass, without activity, before the logit can rise by ``gap``.

    A safe upper bound of the rise: recency adds |w_recency|/7 a day (the cap only slows
    it) and the course average can drift by at most one active day a day; in addition, each
    active day leaving the recent window moves active_days by 7/window, trend by twice that
    and cohort by that - which can happen only ``active_recent`` times.
    """
    if gap <= 0:
        return 1
    w = cfg.weights
    per_day = 7.0 / cfg.window_days
    slow = abs(w.get("recency", 0.0)) / 7.0 + per_day * abs(w.get("cohort", 0.0)) + 1e-9
    fast = per_day * (
        abs(w.get("active_days", 0.0)) + 2 * abs(w.get("trend", 0.0)) + abs(w.get("cohort", 0.0))
    )
    if (slow + fast) * active_recent >= gap:
        return max(1, int(gap / (slow + fast)))
    return max(1, int(active_recent + (gap - (slow + fast) * active_recent) / slow))


def evaluation_slot(at: float, rules: CourseRules) -> float:
    """The first daily evaluation time at or after ``at``."""
    offset = rules.dropout.evaluate_hour * HOUR
    slot = (at - offset) // DAY * DAY + offset
    return slot if slot >= at else slot + DAY
