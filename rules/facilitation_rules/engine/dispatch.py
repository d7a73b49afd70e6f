"""The engine's pure surface: route events to subjects, apply updates, tick deadlines.

Three functions, one shape, driven identically by the replay CLI (``facilitation_rules
.replay.Replayer``, in memory) and by the live Faust worker (a table of subject states, an
updates topic keyed by subject, a timer over a ``DueIndex``):

- ``route(event) -> updates``: the subjects an event touches (``subjects.route``).
- ``apply(key, state, update, ctx) -> (state, outputs)``: fires the subject's own deadlines
  due at or before the update's event time first, then applies it. Outputs are alerts and
  further updates for other subjects (e.g. a reply tells the author's learner subject).
- ``tick(key, state, now, ctx) -> (state, outputs)``: fires what is due at or before ``now``.
- ``holds(state, update)``: whether the state already reflects an update, so applying it
  again is a repeat (a re-published event); the live worker asks before it calls an event
  too old to apply "late".

Replay feeds a learner's plain activity to ``learners.active`` (what its update reaches)
without building the event, and applies the course-aggregate changes it reports with
``course_change``, the function behind the course subject's updates.

A state's ``due`` attribute is when it next needs a tick (``inf``: never). No function
reads the clock; ``now`` and event times are UTC epoch seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from facilitation_rules.contract.events import Event
from facilitation_rules.engine.detectors import learners, posts, reflections
from facilitation_rules.engine.outputs import Output, Update
from facilitation_rules.engine.subjects import (
    ACTIVE,
    COURSE_ACTIVE_DAY,
    COURSE_JOINED,
    COURSE_LEFT,
    ENROLLED,
    POST_CREATED,
    REFLECTION_SUBMITTED,
    UNENROLLED,
    route,
)
from facilitation_rules.packs.config import DAY, CourseRules
from facilitation_rules.state import CourseState, LearnerState, PostState, ReflectionState

Outputs = Sequence[Output]
_NONE: tuple[Output, ...] = ()


class Context(Protocol):
    """What a rule may look up besides its own state."""

    def rules_for(self, course_id: str) -> CourseRules | None:
        """The rules of the pack that applies to ``course_id`` (None: no pack applies)."""

    def cohort(self, course_id: str) -> CourseState | None:
        """The course aggregate for cohort comparisons (None when not available here)."""


def subject_key(event: Event) -> str:
    """The subject an incoming event is applied to first: its Kafka key (the contract's
    ``partition_key``); the other subjects it touches are reached as derived updates."""
    return event.partition_key()


def apply(key: str, state: Any, update: Update, ctx: Context) -> tuple[Any, Outputs]:
    course = update.event.course_id
    kind = key[0]
    if kind == "C":
        return apply_course(state, update), _NONE
    rules = ctx.rules_for(course)
    if rules is None:
        return state, _NONE
    if kind == "L":
        return learners.apply(state, update, rules, ctx.cohort(course))
    if kind == "P":
        if state is not None and state.due <= update.t:
            state, fired = posts.tick(state, update.t, rules)
            state, more = posts.apply(state, update, rules)
            return state, [*fired, *more]
        return posts.apply(state, update, rules)
    if kind == "R":
        return reflections.apply(state, update, rules)
    raise ValueError(f"unknown subject key {key!r}")


def tick(key: str, state: Any, now: float, ctx: Context) -> tuple[Any, Outputs]:
    if state is None or state.__class__ is CourseState:
        return state, _NONE
    rules = ctx.rules_for(state.course_id)
    if rules is None:
        return state, _NONE
    kind = key[0]
    if kind == "L":
        return learners.tick(state, now, rules, ctx.cohort(state.course_id))
    if kind == "P":
        return posts.tick(state, now, rules)
    return reflections.tick(state, now, rules)


def holds(state: Any, update: Update) -> bool:
    """Whether ``state`` already reflects ``update``: the subject exists for its creation,
    the learner was active that day and since, enrolled by then, or has left. Counted
    updates (posts, reflections, replies) cannot tell: False."""
    op, t = update.op, update.t
    if isinstance(state, LearnerState):
        if op == ACTIVE:
            return int(t // DAY) in state.days and t <= state.last_active
        if op == ENROLLED:
            return state.enrolled_at is not None and state.enrolled_at <= t
        return op == UNENROLLED and state.unenrolled
    if isinstance(state, PostState):
        return op == POST_CREATED
    return isinstance(state, ReflectionState) and op == REFLECTION_SUBMITTED


def apply_course(state: CourseState | None, u: Update) -> CourseState:
    return course_change(state, u.event.course_id, u.op, u.t)


def course_change(state: CourseState | None, course_id: str, op: str, t: float) -> CourseState:
    """Course aggregates: counts only, so the order of updates never matters."""
    if state is None:
        state = CourseState(course_id=course_id)
    if op == COURSE_ACTIVE_DAY:
        day = int(t // DAY)
        state.active_by_day[day] = state.active_by_day.get(day, 0) + 1
    elif op == COURSE_JOINED:
        state.learners += 1
    elif op == COURSE_LEFT:
        state.learners -= 1
    return state


__all__ = [
    "Context",
    "Output",
    "Outputs",
    "Update",
    "apply",
    "course_change",
    "route",
    "subject_key",
    "tick",
]
