"""``dispatch.holds``: which updates a state already reflects (re-published events)."""

from __future__ import annotations

from facilitation_rules.engine import dispatch
from facilitation_rules.state import LearnerState, PostState
from facilitation_stream.worker.rules_engine import RulesEngine
from tests.unit.event_factory import activity, enrolled, thread


def _applied(events):  # type: ignore[no-untyped-def]
    engine, states = RulesEngine(None), {}

    def run(key, item):  # type: ignore[no-untyped-def]
        step = engine.apply(key, states.get(key), item)
        if step.state is not None:
            states[key] = step.state
        for target, derived in step.derived:
            run(target, derived)

    for event in events:
        run(engine.subject_key(event), event)
    return engine, states


def test_activity_on_a_day_already_active_and_before_the_last_is_held() -> None:
    events = [enrolled(0, "l1"), activity(10, "l1"), activity(30, "l1")]
    engine, states = _applied(events)
    key = engine.subject_key(events[1])
    assert isinstance(states[key], LearnerState)
    assert engine.repeats(key, states[key], events[1])  # day 0, before the last activity
    assert engine.repeats(key, states[key], events[0])  # enrolled by then
    assert not engine.repeats(key, states[key], activity(50, "l1"))  # a new day
    assert not engine.repeats(key, states[key], activity(31, "l1"))  # after the last one


def test_a_post_that_exists_holds_its_creation_and_counted_updates_never_hold() -> None:
    post = thread(1, "staff-1", "p1")
    update = next(u for u in dispatch.route(post) if u.key.startswith("P|"))
    state = PostState(course_id=post.course_id, post_id="p1", thread_id="p1")
    assert dispatch.holds(state, update)
    assert not dispatch.holds(None, update)
    learner_post = thread(2, "l1", "p2")
    posted = next(u for u in dispatch.route(learner_post) if u.key.startswith("L|"))
    assert not dispatch.holds(LearnerState(course_id=post.course_id, learner_id="l1"), posted)
