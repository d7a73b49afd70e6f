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
    #: When the post (or a learner's latest post) was written; a reply's target time.
    posted_at: str = ""
    due_at: str = ""
    #: For a reply: the thread it answers.
    thread_title: str = ""
    thread_excerpt: str = ""

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
            posted_at=str(details.get("posted_at") or ""),
            due_at=str(details.get("due_at") or ""),
            thread_title=str(details.get("thread_title") or ""),
            thread_excerpt=str(details.get("thread_excerpt") or ""),
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
            "posted_at": self.posted_at,
            "due_at": self.due_at,
            "thread_title": self.thread_title,
            "thread_excerpt": self.thread_excerpt,
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
            posted_at=str(data.get("posted_at") or ""),
            due_at=str(data.get("due_at") or ""),
            thread_title=str(data.get("thread_title") or ""),
            thread_excerpt=str(data.get("thread_excerpt") or ""),
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
    #: The learner as the LMS names them (empty where it sent no names).
    learner_name: str = ""
    learner_username: str = ""

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
            "learner_name": self.learner_name,
            "learner_username": self.learner_username,
            "summary": reason_sentence(self.items),
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


def reason_sentence(items: tuple[NudgeItem, ...]) -> str:
    """One sentence of why, over the open items: each reason once, and of reasons that say
    the same kind of thing ("active on 1 day so far", "active on 1 of the last 14 days"),
    the first only. Different rules often word one fact twice."""
    said: set[str] = set()
    parts: list[str] = []
    for reason in summary_reasons(items):
        topic = _topic(reason)
        if topic not in said:
            said.add(topic)
            parts.append(reason)
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _topic(reason: str) -> str:
    """What a reason is about: its first two words before a number ("active on", "no
    activity", "no reply")."""
    words = []
    for word in reason.lower().split():
        if any(ch.isdigit() for ch in word):
            break
        words.append(word)
    return " ".join(words[:2]) or reason


def safe_url(url: str) -> str:
    """``url`` when it is an absolute http(s) URL with nothing that could break out of a
    link (spaces, quotes, angle brackets, control characters), else "" — what the tutor
    page shows as a link is what a digest or a webhook may carry."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest or rest[0] in "/\\":
        return ""
    if any(ch.isspace() or ch in '<>"|`\\' or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return ""
    return text


def learner_links(lms_url: str, course_id: str, learner_id: str, username: str) -> dict[str, str]:
    """The learner's profile and progress pages in the LMS (none without an LMS URL)."""
    base = safe_url(lms_url).rstrip("/")
    if not base:
        return {}
    links = {"progress": f"{base}/courses/{_path(course_id)}/progress/{_path(learner_id)}/"}
    if username:
        links["profile"] = f"{base}/u/{_path(username)}"
    return links


def _path(part: str) -> str:
    """``part`` for a URL path: unreserved characters kept, the rest percent-encoded."""
    keep = "-._~:+@"
    return "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in keep) else f"%{ord(ch):02X}"
        if ord(ch) < 128
        else "".join(f"%{b:02X}" for b in ch.encode())
        for ch in part
    )
