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

AlertKind = Literal["unanswered_post", "silent_learner", "dropout_risk", "reflection"]
SubjectType = Literal["post", "learner", "reflection"]
Severity = Literal["info", "warning", "high", "urgent"]
AlertAction = Literal["fire", "resolve"]


def alert_id_for(rule: str, course_id: str, subject_type: str, subject_id: str, episode: str) -> str:
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
