"""The dropout-risk score of one learner as the learner rules use it.

``assess`` computes the features once (``dropout_model``) and gives the score, its logit
and the vector, so an alert's reasons come from the same numbers as its score.
``evaluation_slot`` and ``days_before_crossing`` decide when the score is next worth
evaluating: once a day at the pack's hour, skipping days on which it cannot cross.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from facilitation_rules.engine import dropout_model as dropout
from facilitation_rules.packs.config import DAY, HOUR, CourseRules, DropoutConfig
from facilitation_rules.state import NO_TIME, CourseState, LearnerState


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


def quick_logit(
    state: LearnerState, at: float, rules: CourseRules, cohort: CourseState | None
) -> tuple[float, int]:
    """``assess(...).logit`` and the active days in the recent window, without building
    the features (the daily evaluation of every inactive learner; most do not fire).

    The same terms are added in the same order as ``dropout.logit``, so the float is the
    same; a weight of 0 skips its term (adding 0.0 changes nothing), the course average
    is read only when the cohort feature weighs.
    """
    cfg = rules.dropout
    w = cfg.weights
    window = cfg.window_days
    per_week = 7.0 / window
    today = int(at // DAY)
    first_recent = today - window + 1
    days = state.days
    recent = dropout.count_days(days, first_recent, today)
    prior = dropout.count_days(days, first_recent - window, first_recent - 1)
    since = (at - state.last_active) / DAY if state.last_active != NO_TIME else 365.0
    total = 0.0
    total += w.get("recency", 0.0) * min(max(since, 0.0) / 7.0, dropout.RECENCY_CAP_WEEKS)
    total += w.get("active_days", 0.0) * (recent * per_week)
    total += w.get("trend", 0.0) * ((recent - prior) * per_week)
    weight = w.get("cohort", 0.0)
    if weight:
        if cohort is None:
            total += weight * cfg.reference.get("cohort", 0.0)
        else:
            mean = cohort.mean_active_days(first_recent, today)
            total += weight * ((recent - mean) * per_week)
    total += w.get("total_days", 0.0) * math.log1p(len(days))
    total += w.get("posts", 0.0) * math.log1p(state.posts)
    total += w.get("reflections", 0.0) * math.log1p(state.reflections)
    total += w.get("replies_received", 0.0) * math.log1p(state.replies_received)
    return cfg.intercept + total, recent


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
