"""Alerts: what a rule says about a subject, with a deterministic id.

``alert_id`` is derived from (rule, course, subject, episode), never from time of
processing or randomness, so replaying the same events — or redelivering them after a
crash — yields the same ids, and the tutor queues can drop repeats by id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from facilitation_rules.event_codec import format_time, parse_time

AlertKind = Literal["unanswered_post", "silent_learner", "dropout_risk", "reflection"]
SubjectType = Literal["post", "learner", "reflection"]
Severity = Literal["info", "warning", "high", "urgent"]
AlertAction = Literal["fire", "resolve"]


def alert_id_for(
    rule: str, course_id: str, subject_type: str, subject_id: str, episode: str
) -> str:
    digest = hashlib.blake2b(
        "\x1f".join((rule, course_id, subject_type, subject_id, episode)).encode(),
        digest_size=12,
    ).hexdigest()
    return f"{rule}:{digest}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """An alert fired (or resolved) by a rule at event time ``fired_at``.

    ``action="resolve"`` carries the same ``alert_id`` as the alert it closes: the
    condition cleared (a reply arrived, the learner came back).
    """

    alert_id: str
    rule: str
    kind: AlertKind
    course_id: str
    subject_type: SubjectType
    subject_id: str
    learner_id: str
    fired_at: datetime
    severity: Severity
    reasons: tuple[str, ...]
    action: AlertAction = "fire"
    #: Context a tutor needs to act: post title/excerpt, thread id, url, area, cohort ...
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    """The alert as JSON-ready data (replay output, the alerts topic, the tutor queues)."""
    return {
        "alert_id": alert.alert_id,
        "rule": alert.rule,
        "kind": alert.kind,
        "course_id": alert.course_id,
        "subject_type": alert.subject_type,
        "subject_id": alert.subject_id,
        "learner_id": alert.learner_id,
        "fired_at": format_time(alert.fired_at),
        "severity": alert.severity,
        "reasons": list(alert.reasons),
        "action": alert.action,
        "details": alert.details,
    }


def alert_from_dict(data: dict[str, Any]) -> Alert:
    return Alert(
        alert_id=data["alert_id"],
        rule=data["rule"],
        kind=data["kind"],
        course_id=data["course_id"],
        subject_type=data["subject_type"],
        subject_id=data["subject_id"],
        learner_id=data["learner_id"],
        fired_at=parse_time(data["fired_at"]),
        severity=data["severity"],
        reasons=tuple(data["reasons"]),
        action=data.get("action", "fire"),
        details=dict(data.get("details") or {}),
    )
