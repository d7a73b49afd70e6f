"""Run the seed course through the engine with a tutor team in the loop (pure, seeded).

One discrete-event loop over simulated time: the course's events go into the engine's
``Replayer``; its alerts become nudges (merged per learner, routed by ``routing.assign``);
the assigned tutor acts during their working hours after a realistic delay, and their
reply goes back into the engine as an event (which resolves the alert). Tutors also browse
the forum every few hours on shift, reading the first page of recently active threads —
with ``engine=False`` that is the only way they find posts.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import statistics
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.events import Actor, Event, PostCreated, Role
from facilitation_rules.engine.replay import Replayer
from facilitation_rules.packs.config import CourseRules
from facilitation_rules.routing.assignment import Load, Request, assign, needs_reroute
from facilitation_rules.routing.roster import Roster, Tutor
from facilitation_rules.simulation.course import START, WEEKS, Course, generate_course

SLA = timedelta(hours=24)
RECENT = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class TutorModel:
    """How tutors behave: the delay before acting on a nudge, and how they browse."""

    act_median_minutes: float = 40.0
    act_sigma: float = 0.8
    #: About once a shift, and a busy shift skips it: tutors without nudges miss posts.
    browse_every_hours: float = 8.0
    browse_skip: float = 0.4
    browse_page: int = 8  # threads on the forum's first page
    browse_attention: float = 0.6  # chance a tutor notices an unanswered post on that page
    browse_max_replies: int = 5


@dataclass
class _Nudge:
    nudge_id: int
    tutor: str
    learner: str
    items: dict[str, Alert] = field(default_factory=dict)  # open items by alert_id
    open: bool = True


@dataclass
class _Post:
    post_id: str
    thread_id: str
    author: str
    at: datetime
    first_reply_at: datetime | None = None


class Simulation:
    def __init__(
        self,
        course: Course,
        roster: Roster,
        rules: CourseRules,
        *,
        engine: bool,
        seed: int,
        model: TutorModel | None = None,
        start: datetime = START,
    ) -> None:
        """``start``: the course's first Monday (``START`` unless its events were moved)."""
        self.course, self.roster, self.engine = course, roster, engine
        self.start = start
        self.model = model or TutorModel()
        self.rng = random.Random(seed * 7919)  # same tutors, same habits in both runs
        self.replayer = Replayer(lambda _course: rules)
        self.end = start + timedelta(weeks=WEEKS)
        self.heap: list[tuple[datetime, int, str, Any]] = []
        self.seq = itertools.count()
        self.posts: dict[str, _Post] = {}
        self.thread_activity: dict[str, datetime] = {}
        self.thread_posts: dict[str, list[str]] = defaultdict(list)
        self.unanswered: set[str] = set()
        self.first_posts: dict[str, str] = {}
        self.nudges: list[_Nudge] = []
        self.by_alert: dict[str, _Nudge] = {}
        self.open_by_learner: dict[str, _Nudge] = {}
        self.assigned: dict[str, deque[datetime]] = {t.tutor_id: deque() for t in roster.tutors}
        self.open_count: dict[str, int] = defaultdict(int)
        self.affinity: dict[str, str] = {}
        self.cursor = 0
        self.tutor_replies = 0
        self.alerts_seen = 0
        self.alerts_by_rule: dict[str, int] = defaultdict(int)
        #: What the tutors did, for a live demo to replay: their replies (events) and, per
        #: alert, who closed its nudge when (a nudge acted on, not one a reply resolved).
        self.replies: list[PostCreated] = []
        self.handled: dict[str, tuple[str, datetime]] = {}

    def push(self, at: datetime, kind: str, payload: Any) -> None:
        heapq.heappush(self.heap, (at, next(self.seq), kind, payload))

    def run(self, until: datetime | None = None) -> dict[str, Any]:
        """Simulate the term (or up to ``until``) and summarise its outcome."""
        for event in self.course.events:
            self.push(event.occurred_at, "event", event)
        for tutor in self.roster.tutors:
            self._schedule_browsing(tutor)
        horizon = self.end + timedelta(days=3)
        t = self.start
        while t < horizon:  # ticks keep alert times close to the engine's due times
            self.push(t, "tick", None)
            t += timedelta(minutes=15)
        while self.heap and (until is None or self.heap[0][0] <= until):
            at, _, kind, payload = heapq.heappop(self.heap)
            if kind == "event":
                self._feed(payload)
            elif kind == "tick":
                self.replayer.advance(at.timestamp())
            elif kind == "browse":
                self._browse(payload, at)
            elif kind == "act":
                self._act(payload, at)
            self._drain(at)
        return self._summary()

    # --- forum and engine ------------------------------------------------------------

    def _feed(self, event: Event) -> None:
        if isinstance(event, PostCreated):
            self._record_post(event)
        self.replayer.feed(event)

    def _record_post(self, ev: PostCreated) -> None:
        author, at = ev.actor.user_id, ev.occurred_at
        self.thread_activity[ev.thread_id] = at
        parent = self.posts.get(ev.parent_post_id or "")
        if parent and parent.author != author and parent.first_reply_at is None:
            parent.first_reply_at = at
            self.unanswered.discard(parent.post_id)
        if ev.actor.role != Role.LEARNER:
            return
        post = _Post(ev.post_id, ev.thread_id, author, at)
        self.posts[ev.post_id] = post
        self.thread_posts[ev.thread_id].append(ev.post_id)
        self.first_posts.setdefault(author, ev.post_id)
        if ev.parent_post_id is None or self.first_posts[author] == ev.post_id:
            self.unanswered.add(ev.post_id)

    def _reply(self, tutor: str, post_id: str, at: datetime) -> None:
        post = self.posts[post_id]
        self.tutor_replies += 1
        reply = PostCreated(
            event_id=f"tutor-reply-{self.tutor_replies}",
            occurred_at=at,
            course_id=self.course.events[0].course_id,
            actor=Actor(user_id=tutor, role=Role.TUTOR),
            post_id=f"{post_id}-t{self.tutor_replies}",
            thread_id=post.thread_id,
            parent_post_id=post_id,
            post_kind="response" if post_id == post.thread_id else "comment",
        )
        self.replies.append(reply)
        self.push(at, "event", reply)

    # --- tutors ------------------------------------------------------------------------

    def _schedule_browsing(self, tutor: Tutor) -> None:
        step = timedelta(hours=self.model.browse_every_hours)
        t = self.start + timedelta(minutes=self.rng.uniform(0, 60))
        while t < self.end + timedelta(days=3):
            if tutor.on_shift(t):
                if self.rng.random() >= self.model.browse_skip:
                    self.push(t, "browse", tutor.tutor_id)
                t += step
            else:
                t = tutor.next_shift_start(t) + timedelta(minutes=self.rng.uniform(5, 40))

    def _browse(self, tutor: str, at: datetime) -> None:
        page = sorted(self.thread_activity, key=self.thread_activity.__getitem__, reverse=True)[
            : self.model.browse_page
        ]
        replies = 0
        for thread in page:
            for post_id in self.thread_posts[thread]:
                if post_id in self.unanswered and self.rng.random() < self.model.browse_attention:
                    replies += 1
                    self.unanswered.discard(post_id)
                    self._reply(tutor, post_id, at + timedelta(minutes=4 * replies))
                if replies >= self.model.browse_max_replies:
                    return

    def _act_time(self, tutor: Tutor, at: datetime) -> datetime:
        start = at if tutor.on_shift(at) else tutor.next_shift_start(at)
        m = self.model
        delay = min(180.0, self.rng.lognormvariate(math.log(m.act_median_minutes), m.act_sigma))
        return start + timedelta(minutes=delay)

    def _act(self, nudge: _Nudge, at: datetime) -> None:
        if not nudge.open:
            return
        for alert_id in nudge.items:
            self.handled[alert_id] = (nudge.tutor, at)
        for item in nudge.items.values():
            if item.subject_type == "post" and item.subject_id in self.unanswered:
                self.unanswered.discard(item.subject_id)
                self._reply(nudge.tutor, item.subject_id, at)
        self._close(nudge)

    # --- nudges ------------------------------------------------------------------------

    def _drain(self, now: datetime) -> None:
        alerts = self.replayer.alerts
        batch = alerts[self.alerts_seen :]
        self.alerts_seen = len(alerts)
        # A breach supersedes its warning at the same instant: take the new alert in before
        # the old one's resolve, so the nudge stays open instead of closing and reopening.
        for alert in sorted(batch, key=lambda a: (a.fired_at, a.action != "fire")):
            if alert.action == "fire":
                self.alerts_by_rule[alert.rule] += 1
            if self.engine:
                self._route(alert, max(now, alert.fired_at))

    def _route(self, alert: Alert, now: datetime) -> None:
        if alert.action == "resolve":
            nudge = self.by_alert.get(alert.alert_id)
            if nudge and nudge.open:
                nudge.items.pop(alert.alert_id, None)
                if not nudge.items:
                    self._close(nudge)
            return
        if alert.alert_id in self.by_alert:
            return
        nudge = self.open_by_learner.get(alert.learner_id)
        if nudge is None:
            nudge = self._create(alert, now)
        elif needs_reroute(self.roster, nudge.tutor, alert, now):
            self._reroute(nudge, alert, now)
        nudge.items[alert.alert_id] = alert
        self.by_alert[alert.alert_id] = nudge

    def _create(self, alert: Alert, now: datetime) -> _Nudge:
        self.cursor += 1
        loads = self._loads(now)
        thread = str(alert.details.get("thread_id") or "")
        affinity = [
            t for t in (self.affinity.get(thread), self.affinity.get(alert.learner_id)) if t
        ]
        decision = assign(
            self.roster,
            Request.from_alert(alert),
            now,
            loads=loads,
            affinity=affinity,
            cursor=self.cursor,
        )
        nudge = _Nudge(len(self.nudges), decision.tutor_id, alert.learner_id)
        self.nudges.append(nudge)
        self.open_by_learner[alert.learner_id] = nudge
        self.assigned[decision.tutor_id].append(now)
        self.open_count[decision.tutor_id] += 1
        if thread:
            self.affinity[thread] = decision.tutor_id
        self.affinity[alert.learner_id] = decision.tutor_id
        tutor = self.roster.get(decision.tutor_id)
        assert tutor is not None
        self.push(self._act_time(tutor, now), "act", nudge)
        return nudge

    def _reroute(self, nudge: _Nudge, alert: Alert, now: datetime) -> None:
        """A time-critical alert merged into a nudge held by an off-shift tutor moves it."""
        decision = assign(
            self.roster,
            Request.from_alert(alert),
            now,
            loads=self._loads(now),
            exclude=frozenset({nudge.tutor}),
        )
        self.open_count[nudge.tutor] -= 1
        nudge.tutor = decision.tutor_id
        self.open_count[nudge.tutor] += 1
        tutor = self.roster.get(nudge.tutor)
        assert tutor is not None
        self.push(self._act_time(tutor, now), "act", nudge)

    def _loads(self, now: datetime) -> dict[str, Load]:
        loads = {}
        for tutor, times in self.assigned.items():
            while times and now - times[0] > RECENT:
                times.popleft()
            loads[tutor] = Load(open=self.open_count[tutor], recent=len(times))
        return loads

    def _close(self, nudge: _Nudge) -> None:
        if not nudge.open:
            return
        nudge.open = False
        self.open_count[nudge.tutor] -= 1
        if self.open_by_learner.get(nudge.learner) is nudge:
            del self.open_by_learner[nudge.learner]

    # --- outcome -----------------------------------------------------------------------

    def _summary(self) -> dict[str, Any]:
        waits = []
        for post_id in self.first_posts.values():
            post = self.posts[post_id]
            reply = post.first_reply_at
            waits.append((reply - post.at).total_seconds() / 3600 if reply else math.inf)
        within = sum(1 for w in waits if w <= SLA.total_seconds() / 3600)
        per_tutor = {t.tutor_id: 0 for t in self.roster.tutors}
        for nudge in self.nudges:
            per_tutor[nudge.tutor] += 1
        counts = list(per_tutor.values())
        median = statistics.median(waits) if waits else math.inf
        return {
            "engine": "on" if self.engine else "off",
            "enrolled": len(self.course.learners),
            "active_to_end": self.course.active_to_end,
            "weeks": WEEKS,
            "posts": len(self.course.posts) + self.tutor_replies,
            "tutor_replies": self.tutor_replies,
            "learner_first_posts": len(waits),
            "replied_within_sla": within,
            "replied_within_sla_share": round(within / len(waits), 4) if waits else None,
            "median_hours_to_first_reply": round(median, 2) if math.isfinite(median) else None,
            "never_replied": sum(1 for w in waits if not math.isfinite(w)),
            "alerts_fired": dict(sorted(self.alerts_by_rule.items())),
            "nudges": len(self.nudges),
            "nudges_per_tutor": per_tutor,
            "tutor_load_spread": (
                round(max(counts) / min(counts), 3) if counts and min(counts) > 0 else None
            ),
        }


def simulate(
    roster: Roster,
    rules: CourseRules,
    *,
    engine: bool = True,
    seed: int = 1,
    model: TutorModel | None = None,
) -> dict[str, Any]:
    return Simulation(
        generate_course(seed), roster, rules, engine=engine, seed=seed, model=model
    ).run()
