"""The dropout-risk score: a logistic model over a few engagement features, with reasons.

score = 1 / (1 + exp(-(intercept + sum_i w_i * f_i)))

Features (all computable from ``LearnerState`` plus the course aggregate, at time T):

- ``recency``: weeks since the last activity, capped at 4.
- ``active_days``: active days per week over the recent window (default 14 days).
- ``trend``: change in active days per week, recent window minus the window before it.
- ``cohort``: active days per week minus the course average over the same window.
- ``total_days``: log(1 + active days so far): how much of a habit the course has become.
- ``posts``, ``reflections``, ``replies_received``: log(1 + count) so far.

Each feature's contribution to an alert is ``w_i * (f_i - reference_i)``, where the
reference is the feature's mean among the learners who stayed in the data the weights were
fitted on; the largest positive contributions are the reasons, in plain words.
``scripts/derive_dropout_weights.py`` fits the weights, intercept and references;
docs/dropout-risk.md explains the method and the defaults.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from facilitation_rules.state import NO_TIME, ActiveDays, CourseState, LearnerState

DAY = 86400.0
FEATURES = (
    "recency",
    "active_days",
    "trend",
    "cohort",
    "total_days",
    "posts",
    "reflections",
    "replies_received",
)
RECENCY_CAP_WEEKS = 4.0


@dataclass(frozen=True, slots=True)
class Features:
    days_since_active: float
    active_recent: int
    active_prior: int
    cohort_mean: float
    window_days: int
    active_total: int
    posts: int
    reflections: int
    replies_received: int

    def vector(self) -> dict[str, float]:
        per_week = 7.0 / self.window_days
        return {
            "recency": min(self.days_since_active / 7.0, RECENCY_CAP_WEEKS),
            "active_days": self.active_recent * per_week,
            "trend": (self.active_recent - self.active_prior) * per_week,
            "cohort": (self.active_recent - self.cohort_mean) * per_week,
            "total_days": math.log1p(self.active_total),
            "posts": math.log1p(self.posts),
            "reflections": math.log1p(self.reflections),
            "replies_received": math.log1p(self.replies_received),
        }


def count_days(days: Collection[int], first: int, last: int) -> int:
    """How many of ``days`` fall in ``first..last`` (inclusive)."""
    if isinstance(days, ActiveDays):
        return days.count(first, last)
    span = last - first + 1
    if span <= 0:
        return 0
    if len(days) < span:
        return sum(1 for d in days if first <= d <= last)
    return sum(1 for d in range(first, last + 1) if d in days)


def features_at(
    state: LearnerState, now: float, cohort: CourseState | None, window_days: int
) -> Features:
    today = int(now // DAY)
    first_recent = today - window_days + 1
    recent = count_days(state.days, first_recent, today)
    prior = count_days(state.days, first_recent - window_days, first_recent - 1)
    mean = cohort.mean_active_days(first_recent, today) if cohort is not None else 0.0
    since = (now - state.last_active) / DAY if state.last_active != NO_TIME else 365.0
    return Features(
        days_since_active=max(since, 0.0),
        active_recent=recent,
        active_prior=prior,
        cohort_mean=mean,
        window_days=window_days,
        active_total=len(state.days),
        posts=state.posts,
        reflections=state.reflections,
        replies_received=state.replies_received,
    )


def logit(vector: Mapping[str, float], intercept: float, weights: Mapping[str, float]) -> float:
    return intercept + sum(weights.get(name, 0.0) * value for name, value in vector.items())


def sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def score(vector: Mapping[str, float], intercept: float, weights: Mapping[str, float]) -> float:
    return sigmoid(logit(vector, intercept, weights))


def reasons(
    features: Features,
    vector: Mapping[str, float],
    weights: Mapping[str, float],
    reference: Mapping[str, float],
    limit: int,
) -> tuple[str, ...]:
    """Plain-word reasons for the features that raise the score most, largest first."""
    contributions = sorted(
        (
            (weights.get(name, 0.0) * (value - reference.get(name, 0.0)), name)
            for name, value in vector.items()
        ),
        key=lambda item: (-item[0], item[1]),
    )
    # the learner is scored because they are inactive: that is the reason of last resort
    chosen = [name for c, name in contributions if c > 0][:limit] or ["recency"]
    if "trend" in chosen and "active_days" in chosen:
        chosen.remove("active_days")  # the trend sentence already says it
    return tuple(_describe(name, features) for name in chosen)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _describe(name: str, f: Features) -> str:
    window = f.window_days
    if name == "recency":
        if f.days_since_active >= 365:
            return "no activity yet"
        return f"no activity for {_plural(int(f.days_since_active), 'day')}"
    if name == "active_days":
        return f"active on {f.active_recent} of the last {window} days"
    if name == "trend":
        return f"active on {f.active_recent} of the last {window} days, down from {f.active_prior}"
    if name == "cohort":
        return (
            f"less active than the course average ({f.active_recent} vs "
            f"{f.cohort_mean:.1f} days in the last {window})"
        )
    if name == "total_days":
        if f.active_total == 0:
            return "never active"
        return f"active on only {_plural(f.active_total, 'day')} so far"
    if name == "posts":
        return "no forum posts" if f.posts == 0 else f"only {_plural(f.posts, 'forum post')}"
    if name == "reflections":
        if f.reflections == 0:
            return "no reflections submitted"
        return f"only {_plural(f.reflections, 'reflection')} submitted"
    if f.replies_received == 0:
        return "no replies received to their posts"
    return f"only {_plural(f.replies_received, 'reply')} received to their posts"
