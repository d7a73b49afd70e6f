"""Nudges: what lands in a tutor's queue. Pure values; Redis storage is in the stream package.

One nudge gathers every open alert about one learner in one course (``merge_key``), so a
tutor sees "silent 9 days; 2 posts unanswered" once instead of three separate pings. Each
merged alert is an ``item`` with its own post, link and reason; when every item's condition
has cleared the nudge auto-resolves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from facilitation_rules.contract.alerts import Alert

NudgeState = Literal["new", "claimed", "snoozed", "escalated", "resolved", "auto-resolved"]
OPEN_STATES: frozenset[str] = frozenset({"new", "claimed", "snoozed", "escalated"})
CLOSED_STATES: frozenset[str] = frozenset({"resolved", "auto-resolved"})

#: Lower rank sorts first in a queue: urgent before high before warning before info.
SEVERITY_RANK: dict[str, int] = {"urgent": 0, "high": 1, "warning": 2, "info": 3}
RANK_SEVERITY: dict[int, str] = {rank: sev for sev, rank in SEVERITY_RANK.items()}
#: Ranks are spaced wider than any epoch second, so score orders by rank, then due time.
_RANK_SPAN = 10_000_000_000


def queue_score(rank: int, due_at: datetime) -> float:
    """Sorted-set score: priority first, then the oldest due time."""
    return rank * _RANK_SPAN + due_at.timestamp()


def nudge_id_for(alert_id: str) -> str:
    """A deterministic id from the first alert, so redelivery finds the same nudge."""
    return "n-" + hashlib.blake2b(alert_id.encode(), digest_size=8).hexdigest()


def merge_key(alert: Alert) -> str:
    """Alerts about the same learner in the same course share one open nudge; escalations
    (for a lead) are kept apart from the tutor's nudge they escalate."""
    lead = "|lead" if alert.details.get("escalate") else ""
    return f"{alert.course_id}|{alert.learner_id}{lead}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NudgeItem:
    """One alert inside a nudge: the post or condition and why it matters."""

    alert_id: str
    rule: str
    kind: str
    subject_type: str
    subject_id: str
    fired_at: str
    reasons: tuple[str, ...]
    title: str = ""
    excerpt: str = ""
    url: str = ""
    thread_id: str = ""
    open: bool = True

    @classmethod
    def from_alert(cls, alert: Alert, fired_at: str) -> NudgeItem:
        details = alert.details
        return cls(
            alert_id=alert.alert_id,
            rule=alert.rule,
            kind=alert.kind,
            subject_type=alert.subject_type,
            subject_id=alert.subject_id,
            fired_at=fired_at,
            reasons=tuple(alert.reasons),
            title=str(details.get("title") or ""),
            excerpt=str(details.get("excerpt") or ""),
            url=str(details.get("url") or ""),
            thread_id=str(details.get("thread_id") or ""),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "alert_id": self.alert_id,
            "rule": self.rule,
            "kind": self.kind,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "fired_at": self.fired_at,
            "reasons": list(self.reasons),
            "title": self.title,
            "excerpt": self.excerpt,
            "url": self.url,
            "thread_id": self.thread_id,
            "open": self.open,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> NudgeItem:
        reasons = data.get("reasons") or []
        return cls(
            alert_id=str(data["alert_id"]),
            rule=str(data.get("rule", "")),
            kind=str(data.get("kind", "")),
            subject_type=str(data.get("subject_type", "")),
            subject_id=str(data.get("subject_id", "")),
            fired_at=str(data.get("fired_at", "")),
            reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
            title=str(data.get("title") or ""),
            excerpt=str(data.get("excerpt") or ""),
            url=str(data.get("url") or ""),
            thread_id=str(data.get("thread_id") or ""),
            open=bool(data.get("open", True)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Nudge:
    nudge_id: str
    course_id: str
    learner_id: str
    tutor_id: str
    state: str
    severity: str
    created_at: str
    updated_at: str
    due_at: str
    items: tuple[NudgeItem, ...]
    claimed_by: str = ""
    snoozed_until: str = ""
    resolution: str = ""
    escalated_from: str = ""
    not_useful: bool = False
    reasons: tuple[str, ...] = field(default=())

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.rule for item in self.items))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def to_dict(self) -> dict[str, object]:
        return {
            "nudge_id": self.nudge_id,
            "course_id": self.course_id,
            "learner_id": self.learner_id,
            "tutor_id": self.tutor_id,
            "state": self.state,
            "severity": self.severity,
            "reasons": list(self.reasons),
            "rules": list(self.rules),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "due_at": self.due_at,
            "claimed_by": self.claimed_by,
            "snoozed_until": self.snoozed_until,
            "resolution": self.resolution,
            "escalated_from": self.escalated_from,
            "not_useful": self.not_useful,
            "items": [item.to_dict() for item in self.items],
        }


def summary_reasons(items: tuple[NudgeItem, ...]) -> tuple[str, ...]:
    """All reasons of the open items, in order, without repeats."""
    seen: dict[str, None] = {}
    for item in items:
        if item.open:
            for reason in item.reasons:
                seen.setdefault(reason, None)
    return tuple(seen)
