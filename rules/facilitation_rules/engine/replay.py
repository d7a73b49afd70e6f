"""In-memory replay: the same ``engine`` functions the live worker drives, in one process.

Feed events in event-time order; before each event the clock advances to its time and every
deadline due at or before it fires (each at its own due time), so alerts come out as if the
events had happened live. ``finish(until)`` advances past the last event. Derived updates
are applied at once, in the order they were produced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.events import Event
from facilitation_rules.engine.detectors import learners
from facilitation_rules.engine.dispatch import apply, course_change, tick
from facilitation_rules.engine.due_index import DueIndex
from facilitation_rules.engine.outputs import Output, Update
from facilitation_rules.engine.subjects import (
    COURSE_ACTIVE_DAY,
    COURSE_JOINED,
    course_key,
    learner_key,
    route,
)
from facilitation_rules.packs.config import CourseRules
from facilitation_rules.state import INF, NO_TIME, CourseState

_ACTION_ORDER = {"fire": 0, "resolve": 1, "redact": 2}


class Replayer:
    """Tracks every subject in dicts and fires deadlines from one ``DueIndex``.

    ``rules_for`` maps a course id to its rules (None: no pack applies, nothing is tracked).
    With ``global_clock=False`` feeding fires only each subject's own deadlines before its
    updates (as a live worker between timer ticks); ``advance``/``finish`` fire the rest.
    """

    __slots__ = (
        "_courses",
        "_global",
        "_next",
        "_rules",
        "_rules_for",
        "alerts",
        "clock",
        "index",
        "states",
    )

    def __init__(
        self, rules_for: Callable[[str], CourseRules | None], *, global_clock: bool = True
    ) -> None:
        self._rules_for = rules_for
        self._global = global_clock
        self._rules: dict[str, CourseRules | None] = {}
        #: course id -> (its rules, its course-aggregate key), for the activity hot path
        self._courses: dict[str, tuple[CourseRules | None, str]] = {}
        self.states: dict[str, Any] = {}
        self.index = DueIndex()
        self.alerts: list[Alert] = []
        self.clock = NO_TIME
        self._next = INF

    # -- Context -----------------------------------------------------------------------
    def rules_for(self, course_id: str) -> CourseRules | None:
        try:
            return self._rules[course_id]
        except KeyError:
            rules = self._rules[course_id] = self._rules_for(course_id)
            return rules

    def cohort(self, course_id: str) -> CourseState | None:
        state: CourseState | None = self.states.get(course_key(course_id))
        return state

    # -- Driving -----------------------------------------------------------------------
    def feed(self, event: Event, t: float | None = None) -> None:
        """Apply ``event``; ``t`` is its time in epoch seconds (computed if omitted)."""
        if t is None:
            t = event.occurred_at.timestamp()
        if t >= self._next and self._global:
            self.advance(t)
        if t > self.clock:
            self.clock = t
        for update in route(event, t):
            self._apply(update)

    def feed_activity(self, t: float, course_id: str, learner_id: str) -> None:
        """What ``feed`` does for an ``ActivityRecorded`` by a learner, without the event.

        The hot path of a replay (most of a log is plain activity): the same detector
        function the event's update reaches (``learners.active``); its course-aggregate
        changes are applied at once instead of as updates of the course subject.
        """
        if t >= self._next and self._global:
            self.advance(t)
        if t > self.clock:
            self.clock = t
        try:
            rules, course = self._courses[course_id]
        except KeyError:
            rules, course = self._courses[course_id] = (
                self.rules_for(course_id),
                course_key(course_id),
            )
        if rules is None:
            return
        key = learner_key(course_id, learner_id)
        states = self.states
        state = states.get(key)
        if state is not None:
            changes = learners.quick_activity(state, t, rules)
            if changes == 0:
                return  # the state changed in place, its due time did not
            if changes > 0:  # a new active day
                self._store(key, state)
                states[course] = course_change(states.get(course), course_id, COURSE_ACTIVE_DAY, t)
                return
        out: list[Output] = []
        state, changes = learners.active(
            state, course_id, learner_id, t, rules, states.get(course), out
        )
        self._store(key, state)
        if changes:
            if changes & learners.NEW_DAY:
                states[course] = course_change(states.get(course), course_id, COURSE_ACTIVE_DAY, t)
            if changes & learners.JOINED:
                states[course] = course_change(states.get(course), course_id, COURSE_JOINED, t)
        if out:
            self._emit(out)

    def feed_all(self, events: Iterable[Event]) -> None:
        feed = self.feed
        for event in events:
            feed(event)

    def advance(self, now: float) -> None:
        """Fire everything due at or before ``now``, in due-time order."""
        states, index = self.states, self.index
        for due, key in index.pop_due(now):
            state = states.get(key)
            if state is None:
                continue
            if state.due > due:  # activity moved the deadline since it was scheduled
                if state.due != INF:
                    index.schedule(key, state.due)
                continue
            state, outputs = tick(key, state, due, self)
            if state.due != INF:
                index.schedule(key, state.due)
            if outputs:
                self._emit(outputs)
        self._next = index.next_due()
        if now > self.clock:
            self.clock = now

    def finish(self, until: float | None = None) -> list[Alert]:
        """Advance to ``until`` (default: the last event time); the alerts, sorted."""
        self.advance(self.clock if until is None else until)
        return sorted_alerts(self.alerts)

    def _apply(self, update: Update) -> None:
        key = update.key
        states = self.states
        state, outputs = apply(key, states.get(key), update, self)
        if state is None:
            states.pop(key, None)
        else:
            self._store(key, state)
        if outputs:
            self._emit(outputs)

    def _store(self, key: str, state: Any) -> None:
        """Keep a subject's new state and make sure its next deadline will be ticked."""
        self.states[key] = state
        due = state.due
        if due != INF:
            self.index.schedule(key, due)
            if due < self._next:
                self._next = due

    def _emit(self, outputs: Iterable[Output]) -> None:
        for output in outputs:
            if type(output) is Update:
                self._apply(output)
            else:
                self.alerts.append(output)  # type: ignore[arg-type]


def sorted_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """A deterministic order from content alone: time, id, fire before resolve."""
    return sorted(alerts, key=lambda a: (a.fired_at, a.alert_id, _ACTION_ORDER[a.action]))
