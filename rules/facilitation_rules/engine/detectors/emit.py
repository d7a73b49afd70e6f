"""Building alerts: the helpers the detectors fire and word them with."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from facilitation_rules.contract.alerts import Alert, AlertKind, Severity, SubjectType, alert_id_for
from facilitation_rules.contract.codec import format_time


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def alert(
    *,
    rule: str,
    kind: AlertKind,
    course_id: str,
    subject_type: SubjectType,
    subject_id: str,
    learner_id: str,
    episode: str,
    at: float,
    severity: str,
    reasons: tuple[str, ...],
    resolve: bool = False,
    details: dict[str, Any] | None = None,
    redact: bool = False,
) -> Alert:
    return Alert(
        alert_id=alert_id_for(rule, course_id, subject_type, subject_id, episode),
        rule=rule,
        kind=kind,
        course_id=course_id,
        subject_type=subject_type,
        subject_id=subject_id,
        learner_id=learner_id,
        fired_at=utc(at),
        severity=severity,  # type: ignore[arg-type]  # checked by the pack schema
        reasons=reasons,
        action="redact" if redact else "resolve" if resolve else "fire",
        details=details,
    )


def hours(seconds: float) -> str:
    """ "18 h", "2.5 h", "3 days" — a duration in the words a tutor reads."""
    if seconds >= 72 * 3600:
        return f"{seconds / 86400:.0f} days"
    value = seconds / 3600
    return f"{value:.0f} h" if value >= 10 or value == int(value) else f"{value:.1f} h"


def day_word(n: float) -> str:
    whole = int(n)
    return "1 day" if whole == 1 else f"{whole} days"


def iso_day(ts: float) -> str:
    return utc(ts).date().isoformat()


@lru_cache(maxsize=1 << 16)
def iso_time(ts: float) -> str:
    """``ts`` as the contract writes times; cached: a post's creation time is written into
    each of its alerts, a learner's last activity into the fire and resolve of an episode."""
    return format_time(utc(ts))


__all__ = [
    "Severity",
    "alert",
    "day_word",
    "hours",
    "iso_day",
    "iso_time",
    "utc",
]
