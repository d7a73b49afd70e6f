"""The alerts of the learner rules: their names, firing and resolving them on a state, and
the never-posted alert's reasons.

A learner state keeps its open alerts as rule -> episode (``state.open``, None when
none), so a learner never has two open alerts of one rule; a pack's ``when:`` filter is
checked here, on the learner's fields, before an alert opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from facilitation_rules.contract.alerts import AlertKind
from facilitation_rules.engine.detectors.emit import alert, day_word
from facilitation_rules.engine.outputs import Output
from facilitation_rules.packs.conditions import passes
from facilitation_rules.packs.config import DAY, CourseRules
from facilitation_rules.state import NO_TIME, LearnerState

NEVER_POSTED = "silent_learner.never_posted"
WENT_QUIET = "silent_learner.went_quiet"
DROPOUT = "dropout_risk"
OVERDUE = "reflection.overdue"
_KINDS: dict[str, AlertKind] = {
    NEVER_POSTED: "silent_learner",
    WENT_QUIET: "silent_learner",
    DROPOUT: "dropout_risk",
    OVERDUE: "reflection",
}
_NO_ALERTS: Mapping[str, str] = MappingProxyType({})


def enrolled(state: LearnerState, rules: CourseRules) -> bool:
    if state.unenrolled:
        return False
    return state.enrolled_at is not None or (rules.implicit_enrollment and state.active)


def open_alerts(state: LearnerState) -> Mapping[str, str]:
    return state.open or _NO_ALERTS


def _symbols(state: LearnerState, at: float, rules: CourseRules) -> dict[str, Any]:
    since = (at - state.last_active) / DAY if state.active else -1.0
    return {
        "course_id": state.course_id,
        "learner_id": state.learner_id,
        "enrolled": enrolled(state, rules),
        "posts": float(state.posts),
        "reflections": float(state.reflections),
        "replies_received": float(state.replies_received),
        "active_days": float(len(state.days)),
        "days_since_active": since,
    }


def fire(
    state: LearnerState,
    rule: str,
    episode: str,
    at: float,
    rules: CourseRules,
    out: list[Output],
    reasons: tuple[str, ...],
    details: dict[str, Any] | None = None,
) -> None:
    cfg: Any = {
        NEVER_POSTED: rules.silent,
        WENT_QUIET: rules.silent,
        DROPOUT: rules.dropout,
        OVERDUE: rules.reflection,
    }[rule]
    if cfg.when is not None:
        symbols = _symbols(state, at, rules)
        if details and "risk_score" in details:
            symbols["risk_score"] = float(details["risk_score"])
        if not passes(cfg.when, symbols):
            return
    if state.open is None:
        state.open = {}
    state.open[rule] = episode
    out.append(_alert(state, rule, episode, at, cfg.severity, reasons, details))


RETIREMENT = "learner.retired"


def retire(state: LearnerState | None, course_id: str, learner_id: str, at: float) -> list[Output]:
    """The LMS retired the learner: resolve what is open about them, then one ``redact``
    alert, on which the tutor queues scrub and close the learner's nudges. The caller drops
    the state."""
    out = [resolve(state, rule, at, "the learner's account was retired")
           for rule in sorted(open_alerts(state))] if state is not None else []
    out.append(alert(
        rule=RETIREMENT, kind="retirement", course_id=course_id, subject_type="learner",
        subject_id=learner_id, learner_id=learner_id, episode="retired", at=at,
        severity="info", reasons=("the learner's account was retired",), redact=True,
    ))  # fmt: skip
    return out


def resolve(state: LearnerState, rule: str, at: float, why: str) -> Output:
    assert state.open is not None
    episode = state.open.pop(rule)
    if not state.open:
        state.open = None
    return _alert(state, rule, episode, at, "info", (why,), None, resolve=True)


def _alert(
    state: LearnerState,
    rule: str,
    episode: str,
    at: float,
    severity: str,
    reasons: tuple[str, ...],
    details: dict[str, Any] | None,
    resolve: bool = False,
) -> Output:
    return alert(
        rule=rule,
        kind=_KINDS[rule],
        course_id=state.course_id,
        subject_type="learner",
        subject_id=state.learner_id,
        learner_id=state.learner_id,
        episode=episode,
        at=at,
        severity=severity,
        reasons=reasons,
        resolve=resolve,
        details=details,
    )


def never_posted_reasons(state: LearnerState, rules: CourseRules) -> tuple[str, ...]:
    """Why ``silent_learner.never_posted`` fired, in a tutor's words."""
    days = day_word(rules.silent.never_posted_days or 0)
    since = "the course start"
    if rules.course_start is None or (state.enrolled_at or NO_TIME) > rules.course_start:
        since = "enrolling" if state.enrolled_at is not None else "their first visit"
    seen = "never active" if not state.active else f"active on {len(state.days)} days"
    return (f"no forum post {days} after {since}", seen)
