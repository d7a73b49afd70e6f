"""Tutor queues in Redis: one sorted set per tutor, one hash per nudge, atomic transitions.

Synchronous (redis-py); async callers (the API, the Faust worker) run these calls with
``asyncio.to_thread``: each call is one or two round trips to Redis.

Transitions (all atomic Lua scripts, see ``tutor_queue_lua``; all idempotent):
    new -> claimed -> resolved | snoozed(until) | escalated | auto-resolved
Each one appends ``{at, by, action, from, to, note}`` to the nudge's history list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.codec import format_time
from facilitation_rules.routing.nudges import (
    SEVERITY_RANK,
    Nudge,
    NudgeItem,
    merge_key,
    nudge_id_for,
    queue_score,
    summary_reasons,
)
from facilitation_stream.delivery import queue_scripts as lua

DEFAULT_PREFIX = "facilitation:"
#: The states of a nudge still in a queue (``is_open`` in the scripts).
OPEN_STATES = ("new", "claimed", "snoozed", "escalated")
#: Closed nudges (and their alert-id markers) are kept this long for history, then expire.
CLOSED_RETENTION_S = 90 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a transition did. ``status`` is ok/created/merged or noop/duplicate on a repeat,
    or not_found / forbidden / conflict when it was refused."""

    status: str
    nudge_id: str
    state: str
    tutor_id: str

    @property
    def changed(self) -> bool:
        return self.status in ("ok", "created", "merged")

    def to_dict(self) -> dict[str, str]:
        return {
            "status": self.status,
            "nudge_id": self.nudge_id,
            "state": self.state,
            "tutor_id": self.tutor_id,
        }


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


def _now(now: datetime | None) -> datetime:
    # The adapter edge is where wall time may be read; everything below takes it in.
    return (now or datetime.now(UTC)).astimezone(UTC)


def affinity_keys(alert: Alert) -> list[str]:
    keys = [f"{alert.course_id}|learner|{alert.learner_id}"]
    thread_id = alert.details.get("thread_id")
    if thread_id:
        keys.append(f"{alert.course_id}|thread|{thread_id}")
    return keys


class TutorQueue:
    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> None:
        # Typed Any: redis-py's return unions cannot see decode_responses=True (all str).
        self.client: Any = client
        self.prefix = prefix
        self._scripts = {
            name: client.register_script(getattr(lua, name))
            for name in (
                "ENQUEUE",
                "CLAIM",
                "RESOLVE",
                "NOT_USEFUL",
                "SNOOZE",
                "WAKE",
                "REASSIGN",
                "ESCALATE",
                "ALERT_RESOLVED",
                "REDACT",
            )
        }

    def _run(self, name: str, *args: Any) -> Outcome:
        status, nudge_id, state, tutor = self._scripts[name](args=[self.prefix, *args])
        return Outcome(str(status), str(nudge_id), str(state), str(tutor))

    # --- writes -------------------------------------------------------------------------

    def enqueue(
        self,
        alert: Alert,
        tutor_id: str,
        *,
        now: datetime | None = None,
        actor: str = "router",
        why: str = "",
        reroute_from: str = "",
        assigned_since: datetime | None = None,
        round_robin: str = "",
    ) -> Outcome:
        """Put a fired alert in ``tutor_id``'s queue. The same ``alert_id`` twice is one
        nudge; an alert about a learner who already has an open nudge merges into it.

        One atomic script does all of the router's writes: with ``reroute_from``, a merge
        into an unclaimed nudge still held by that tutor moves it to ``tutor_id``; with
        ``assigned_since``, a new nudge is recorded as assigned lately (records older than
        that are dropped); ``round_robin`` names the cursor the choice used (advanced)."""
        at = _now(now)
        due = alert.fired_at
        rank = SEVERITY_RANK.get(alert.severity, SEVERITY_RANK["info"])
        item = NudgeItem.from_alert(alert, format_time(alert.fired_at))
        fields = {
            "nudge_id": nudge_id_for(alert.alert_id),
            "course_id": alert.course_id,
            "learner_id": alert.learner_id,
            "severity": alert.severity,
            "reasons": json.dumps(list(alert.reasons)),
            "merge_key": merge_key(alert),
            "created_at": format_time(at),
            "updated_at": format_time(at),
            "due_at": format_time(due),
            "due_ts": repr(due.timestamp()),
            "claimed_by": "",
            "snoozed_until": "",
            "resolution": "",
            "escalated_from": "",
            "not_useful": "0",
        }
        return self._run(
            "ENQUEUE",
            alert.alert_id,
            fields["nudge_id"],
            fields["merge_key"],
            tutor_id,
            json.dumps(fields),
            json.dumps(item.to_dict()),
            rank,
            repr(queue_score(rank, due)),
            format_time(at),
            repr(at.timestamp()),
            actor,
            json.dumps(affinity_keys(alert)),
            alert.severity,
            why,
            reroute_from,
            "" if assigned_since is None else repr(assigned_since.timestamp()),
            round_robin,
        )

    def claim(
        self, nudge_id: str, actor: str, *, now: datetime | None = None, own_only: bool = True
    ) -> Outcome:
        """``own_only``: the actor may claim only a nudge in their own queue (leads: False)."""
        at = _now(now)
        return self._run(
            "CLAIM", nudge_id, actor, format_time(at), at.timestamp(), "1" if own_only else "0"
        )

    def resolve(
        self,
        nudge_id: str,
        actor: str,
        *,
        now: datetime | None = None,
        own_only: bool = True,
        resolution: str = "done",
    ) -> Outcome:
        at = _now(now)
        return self._run(
            "RESOLVE",
            nudge_id,
            actor,
            format_time(at),
            at.timestamp(),
            "1" if own_only else "0",
            "resolved",
            resolution,
            CLOSED_RETENTION_S,
        )

    def not_useful(
        self,
        nudge_id: str,
        actor: str,
        *,
        now: datetime | None = None,
        own_only: bool = True,
        note: str = "",
    ) -> Outcome:
        """Record "not useful" feedback (counted once per nudge, per rule) and close it."""
        at = _now(now)
        return self._run(
            "NOT_USEFUL",
            nudge_id,
            actor,
            format_time(at),
            at.timestamp(),
            "1" if own_only else "0",
            CLOSED_RETENTION_S,
            note,
        )

    def snooze(
        self,
        nudge_id: str,
        actor: str,
        until: datetime,
        *,
        now: datetime | None = None,
        own_only: bool = True,
    ) -> Outcome:
        at = _now(now)
        until = until.astimezone(UTC)
        if until <= at:
            raise ValueError(f"snooze until {format_time(until)} is not in the future")
        return self._run(
            "SNOOZE",
            nudge_id,
            actor,
            format_time(at),
            at.timestamp(),
            "1" if own_only else "0",
            format_time(until),
            until.timestamp(),
        )

    def reassign(
        self,
        nudge_id: str,
        actor: str,
        to_tutor: str,
        *,
        now: datetime | None = None,
        own_only: bool = True,
        action: str = "reassigned",
    ) -> Outcome:
        at = _now(now)
        return self._run(
            "REASSIGN",
            nudge_id,
            actor,
            format_time(at),
            at.timestamp(),
            "1" if own_only else "0",
            to_tutor,
            action,
        )

    def escalate(
        self, nudge_id: str, lead_id: str, *, now: datetime | None = None, actor: str = "system"
    ) -> Outcome:
        at = _now(now)
        return self._run("ESCALATE", nudge_id, actor, format_time(at), at.timestamp(), lead_id)

    def alert_resolved(
        self, alert_id: str, *, now: datetime | None = None, actor: str = "engine"
    ) -> Outcome:
        """The condition behind ``alert_id`` cleared (a reply arrived, the learner came back)."""
        at = _now(now)
        return self._run("ALERT_RESOLVED", alert_id, actor, format_time(at), CLOSED_RETENTION_S)

    def redact_learner(
        self, course_id: str, learner_id: str, *, now: datetime | None = None, actor: str = "lms"
    ) -> Outcome:
        """The learner was retired: scrub every nudge about them (closing the open ones) and
        refuse new ones."""
        at = _now(now)
        return self._run(
            "REDACT", f"{course_id}|{learner_id}", actor, format_time(at), CLOSED_RETENTION_S
        )

    def wake_snoozed(self, *, now: datetime | None = None) -> list[str]:
        at = _now(now)
        woken = self._scripts["WAKE"](args=[self.prefix, format_time(at), at.timestamp()])
        return [str(x) for x in woken]

    # --- reads --------------------------------------------------------------------------

    def get(self, nudge_id: str) -> Nudge | None:
        data = self.client.hgetall(f"{self.prefix}nudge:{nudge_id}")
        return _nudge_from_hash(data) if data else None

    def list_queue(self, tutor_id: str) -> list[Nudge]:
        """Open nudges of one tutor, most urgent first, then oldest due first."""
        ids = self.client.zrange(f"{self.prefix}queue:{tutor_id}", 0, -1)
        return self._load(ids)

    def tutors(self) -> list[str]:
        return sorted(self.client.smembers(f"{self.prefix}tutors"))

    def list_all(self) -> dict[str, list[Nudge]]:
        return {tutor: self.list_queue(tutor) for tutor in self.tutors()}

    def loads(self) -> dict[str, int]:
        """Open nudges per tutor (new, claimed, snoozed, escalated)."""
        tutors = self.tutors()
        pipe = self.client.pipeline(transaction=False)
        for tutor in tutors:
            pipe.zcard(f"{self.prefix}queue:{tutor}")
        return dict(zip(tutors, (int(n) for n in pipe.execute()), strict=True))

    def history(self, nudge_id: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.client.lrange(f"{self.prefix}hist:{nudge_id}", 0, -1)]

    def holds_alert(self, alert_id: str) -> bool:
        return bool(self.client.exists(f"{self.prefix}alert:{alert_id}"))

    def open_holder(self, alert: Alert) -> tuple[str, str] | None:
        """(tutor, state) of the open nudge this alert would merge into, if any."""
        open_id = self.client.get(f"{self.prefix}merge:{merge_key(alert)}")
        if not open_id:
            return None
        state, tutor = self.client.hmget(f"{self.prefix}nudge:{open_id}", "state", "tutor")
        return (str(tutor), str(state)) if state in OPEN_STATES else None

    def assigned_since(self, tutors: list[str], since: datetime) -> list[int]:
        """How many nudges each tutor was assigned since ``since``."""
        pipe = self.client.pipeline(transaction=False)
        for tutor in tutors:
            pipe.zcount(f"{self.prefix}assigned:{tutor}", since.timestamp(), "+inf")
        return [int(n) for n in pipe.execute()]

    def round_robin(self, name: str) -> int:
        """The next position of the cursor ``name`` (advanced by the enqueue that uses it)."""
        return int(self.client.get(f"{self.prefix}rr:{name}") or 0) + 1

    def affinity(self, key: str) -> str | None:
        value = self.client.get(f"{self.prefix}affinity:{key}")
        return str(value) if value else None

    def set_away(self, tutor_id: str, away: bool) -> None:
        """Mark a tutor away (or back) at run time, on top of the roster's ``away`` flag."""
        key = f"{self.prefix}away"
        self.client.sadd(key, tutor_id) if away else self.client.srem(key, tutor_id)

    def away_tutors(self) -> set[str]:
        return set(self.client.smembers(f"{self.prefix}away"))

    def unclaimed(self) -> list[tuple[str, datetime]]:
        """Unclaimed nudges with the time they entered their current queue."""
        rows = self.client.zrange(f"{self.prefix}unclaimed", 0, -1, withscores=True)
        return [(str(i), datetime.fromtimestamp(float(ts), UTC)) for i, ts in rows]

    def not_useful_counts(self) -> dict[str, int]:
        raw = self.client.hgetall(f"{self.prefix}feedback:not_useful")
        return {rule: int(n) for rule, n in raw.items()}

    def _load(self, ids: list[str]) -> list[Nudge]:
        pipe = self.client.pipeline(transaction=False)
        for nudge_id in ids:
            pipe.hgetall(f"{self.prefix}nudge:{nudge_id}")
        return [_nudge_from_hash(data) for data in pipe.execute() if data]


def _nudge_from_hash(data: dict[str, str]) -> Nudge:
    raw_items = json.loads(data.get("items") or "[]")
    items = tuple(NudgeItem.from_dict(x) for x in raw_items if isinstance(x, dict))
    return Nudge(
        nudge_id=data.get("nudge_id", ""),
        course_id=data.get("course_id", ""),
        learner_id=data.get("learner_id", ""),
        tutor_id=data.get("tutor", ""),
        state=data.get("state", ""),
        severity=data.get("severity", "info"),
        created_at=data.get("created_at", ""),
        updated_at=data.get("updated_at", ""),
        due_at=data.get("due_at", ""),
        items=items,
        claimed_by=data.get("claimed_by", ""),
        snoozed_until=data.get("snoozed_until", ""),
        resolution=data.get("resolution", ""),
        escalated_from=data.get("escalated_from", ""),
        not_useful=data.get("not_useful") == "1",
        reasons=summary_reasons(items),
    )
