"""Alerts into tutor queues: roster + assignment policy (pure) -> Redis (atomic scripts).

``Router.route(alert)`` is synchronous (a few Redis reads, then one atomic write); the
Faust worker calls ``await router.route_async(alert)``, which runs it in a thread.
``Router.tick()`` does the timed work — wake snoozed nudges, escalate unclaimed ones to a
lead, move an away tutor's nudges, hand due digests to the notifier — and is safe to run
from several workers: every step is an idempotent queue transition.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import redis

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.routing.assignment import (
    Load,
    NoTutor,
    Request,
    assign,
    escalation_due,
    escalation_target,
    needs_reroute,
    redistribute,
)
from facilitation_rules.routing.nudges import Nudge
from facilitation_rules.routing.roster import Roster, RosterError, Tutor, load_roster
from facilitation_stream.delivery.queues import Outcome, TutorQueue, affinity_keys
from facilitation_stream.metrics import Metrics, get_metrics

log = logging.getLogger(__name__)
#: "Assigned lately" window for least-loaded tie-breaks.
RECENT_WINDOW = timedelta(days=7)

RosterProvider = Callable[[str], Roster | None]
Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


class Notifier(Protocol):
    def nudge_assigned(self, nudge: Nudge, tutor: Tutor, roster: Roster, now: datetime) -> None: ...

    def tick(self, rosters: list[Roster], now: datetime) -> None: ...


class RosterFiles:
    """Rosters from a YAML file or a folder of them, reloaded when a file changes.

    A roster that fails validation keeps the last good one for its course and logs why."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._mtimes: dict[Path, float] = {}
        self._by_course: dict[str, Roster] = {}
        self.reload()

    def _files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(p for p in self.path.iterdir() if p.suffix in (".yaml", ".yml"))
        return [self.path]

    def reload(self) -> None:
        for file in self._files():
            mtime = file.stat().st_mtime
            if self._mtimes.get(file) == mtime:
                continue
            self._mtimes[file] = mtime
            try:
                roster = load_roster(file)
            except RosterError as err:
                log.error("roster not loaded: %s", err)
                continue
            self._by_course[roster.course_id] = roster

    def __call__(self, course_id: str) -> Roster | None:
        return self._by_course.get(course_id)

    def all(self) -> list[Roster]:
        return list(self._by_course.values())


@dataclass
class TickReport:
    woken: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    redistributed: list[str] = field(default_factory=list)


class Router:
    #: What the worker's alert delivery waits out (retries with backoff) instead of
    #: dead-lettering the alert: Redis down, restarting, loading its AOF, failing over.
    transient_errors: tuple[type[BaseException], ...] = (
        redis.ConnectionError,
        redis.TimeoutError,
        redis.ReadOnlyError,
        redis.BusyLoadingError,
    )

    def __init__(
        self,
        queue: TutorQueue,
        rosters: RosterProvider,
        *,
        default_tutor: str = "tutor-1",
        clock: Clock = wall_clock,
        notifier: Notifier | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or get_metrics()
        self.queue = queue
        self.rosters = rosters
        self.default_tutor = default_tutor
        self.clock = clock
        self.notifier = notifier

    async def route_async(self, alert: Alert) -> Outcome:
        return await asyncio.to_thread(self.route, alert)

    def route(self, alert: Alert) -> Outcome:
        """Fire: enqueue (or merge) into the chosen tutor's queue. Resolve: close the item.

        The choice is made from reads; all of its writes (the nudge, a reroute, the
        assignment record, the round-robin cursor) are one atomic queue script."""
        now = self.clock()
        if alert.action == "resolve":
            return self.queue.alert_resolved(alert.alert_id, now=now)
        if alert.action == "redact":
            return self.queue.redact_learner(alert.course_id, alert.learner_id, now=now)
        if self.queue.holds_alert(alert.alert_id):
            # A redelivery: skip the routing work, the script drops it anyway.
            return self.queue.enqueue(alert, self.default_tutor, now=now)
        roster = self.roster(alert.course_id)
        tutor_id, why, cursor = self.default_tutor, "no roster for this course", ""
        loads = self.loads(now) if roster is not None else {}
        lead = (
            escalation_target(roster, "", now, loads)
            if roster is not None and alert.details.get("escalate")
            else None
        )
        if lead:
            tutor_id, why = lead, "escalation: a lead"
        elif roster is not None:
            cursor = f"{alert.course_id}:{alert.rule}"
            try:
                decision = assign(
                    roster,
                    Request.from_alert(alert),
                    now,
                    loads=loads,
                    affinity=self._affinity(alert),
                    cursor=self.queue.round_robin(cursor),
                )
                tutor_id, why = decision.tutor_id, decision.why
            except NoTutor as err:
                why = str(err)
        reroute_from = ""
        if roster is not None:
            holder = self.queue.open_holder(alert)
            if holder and holder[1] == "new" and needs_reroute(roster, holder[0], alert, now):
                reroute_from = holder[0]
        outcome = self.queue.enqueue(
            alert,
            tutor_id,
            now=now,
            why=why,
            reroute_from=reroute_from,
            assigned_since=now - RECENT_WINDOW,
            round_robin=cursor,
        )
        if outcome.status in ("created", "merged"):
            self.metrics.nudges_enqueued.labels(rule=alert.rule).inc()
        if outcome.status == "created" and self.notifier is not None and roster is not None:
            tutor, nudge = roster.get(tutor_id), self.queue.get(outcome.nudge_id)
            if tutor is not None and nudge is not None:
                self.notifier.nudge_assigned(nudge, tutor, roster, now)
        return outcome

    def roster(self, course_id: str) -> Roster | None:
        """The course's roster with run-time away marks applied."""
        roster = self.rosters(course_id)
        away = self.queue.away_tutors() if roster is not None else set()
        if roster is None or not away:
            return roster
        tutors = tuple(
            dataclasses.replace(t, away=True) if t.tutor_id in away else t for t in roster.tutors
        )
        return dataclasses.replace(roster, tutors=tutors)

    def loads(self, now: datetime) -> dict[str, Load]:
        open_counts = self.queue.loads()
        tutors = sorted(set(open_counts) | set(self.queue.tutors()))
        recent = self.queue.assigned_since(tutors, now - RECENT_WINDOW)
        return {
            t: Load(open=open_counts.get(t, 0), recent=r)
            for t, r in zip(tutors, recent, strict=True)
        }

    def _affinity(self, alert: Alert) -> list[str]:
        # Most specific first: the thread's tutor, then the learner's.
        found = [self.queue.affinity(k) for k in reversed(affinity_keys(alert))]
        return [t for t in found if t]

    # --- timed work ----------------------------------------------------------------------

    def tick(self, rosters: list[Roster] | None = None) -> TickReport:
        now = self.clock()
        report = TickReport(woken=self.queue.wake_snoozed(now=now))
        self._escalate(now, report)
        for roster in rosters or []:
            self._redistribute(roster.course_id, now, report)
        if self.notifier is not None:
            self.notifier.tick(
                [r for r in (self.roster(x.course_id) for x in rosters or []) if r], now
            )
        return report

    def _escalate(self, now: datetime, report: TickReport) -> None:
        loads = None
        for nudge_id, since in self.queue.unclaimed():
            nudge = self.queue.get(nudge_id)
            roster = self.roster(nudge.course_id) if nudge else None
            if nudge is None or roster is None or not nudge.rules:
                continue
            if not escalation_due(since, now, roster.policy_for(nudge.rules[0])):
                continue
            loads = loads or self.loads(now)
            lead = escalation_target(roster, nudge.tutor_id, now, loads)
            if lead and self.queue.escalate(nudge_id, lead, now=now).changed:
                report.escalated.append(nudge_id)

    def _redistribute(self, course_id: str, now: datetime, report: TickReport) -> None:
        roster = self.roster(course_id)
        if roster is None:
            return
        loads = None
        for tutor in roster.tutors:
            if not tutor.away:
                continue
            nudges = [n for n in self.queue.list_queue(tutor.tutor_id) if n.course_id == course_id]
            if not nudges:
                continue
            loads = loads or self.loads(now)
            requests = [(n.nudge_id, _request(n)) for n in nudges]
            for nudge_id, decision in redistribute(roster, tutor.tutor_id, requests, now, loads):
                outcome = self.queue.reassign(
                    nudge_id,
                    "system",
                    decision.tutor_id,
                    now=now,
                    own_only=False,
                    action="redistributed",
                )
                if outcome.changed:
                    report.redistributed.append(nudge_id)


def _request(nudge: Nudge) -> Request:
    first = nudge.items[0] if nudge.items else None
    return Request(
        key=nudge.nudge_id,
        rule=first.rule if first else "",
        kind=first.kind if first else "",
        severity=nudge.severity,
    )
