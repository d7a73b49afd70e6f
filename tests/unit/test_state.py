"""Per-subject states (facilitation_rules.state): the day bitmap, compact pickling."""

from __future__ import annotations

import base64
import pickle

from hypothesis import given
from hypothesis import strategies as st

from facilitation_rules.state import (
    ActiveDays,
    CourseState,
    LearnerState,
    PostState,
    ReflectionState,
)

days = st.lists(st.integers(min_value=19_000, max_value=19_400), max_size=40)


@given(days)
def test_active_days_behave_like_a_set_of_day_numbers(added: list[int]) -> None:
    bitmap, reference = ActiveDays(), set()
    for day in added:
        assert bitmap.add(day) == (day not in reference)  # True only when new
        reference.add(day)
    assert len(bitmap) == len(reference)
    assert list(bitmap) == sorted(reference)
    assert all(d in bitmap for d in reference)
    assert 18_999 not in bitmap and 19_401 not in bitmap and "19000" not in bitmap


@given(days, st.integers(18_990, 19_410), st.integers(-5, 60))
def test_active_days_count_a_window(added: list[int], first: int, span: int) -> None:
    bitmap = ActiveDays(added)
    last = first + span
    assert bitmap.count(first, last) == sum(1 for d in set(added) if first <= d <= last)


def test_states_pickle_without_slot_names_and_share_repeated_strings() -> None:
    course = "course-v1:Org+C1+2024"
    learner = LearnerState(course_id=course, learner_id="42", prompts_from=5.0)
    learner.days.add(19_700)
    learner.open = {"silent_learner.went_quiet": "2024-01-01T00:00:00Z"}
    data = pickle.dumps(learner, protocol=5)
    assert b"last_active" not in data
    back = pickle.loads(data)
    assert back.course_id is LearnerState(course_id=course, learner_id="x").course_id
    assert (list(back.days), back.open, back.prompts_from) == ([19_700], learner.open, 5.0)
    post = PostState(
        course_id=course, post_id="t1", thread_id="t1", author_id="7", author_role="learner",
        post_kind="thread", thread_type="question", created=1.0,
    )  # fmt: skip
    assert post.thread_id is post.post_id
    again = pickle.loads(pickle.dumps(post))
    assert (again.thread_id, again.url, again.due) == ("t1", None, post.due)
    cohort = pickle.loads(pickle.dumps(CourseState(course_id=course)))
    assert cohort.course_id is back.course_id and cohort.active_by_day == {}


def test_a_new_learner_has_no_containers_to_carry() -> None:
    state = LearnerState(course_id="c", learner_id="1")
    assert (state.open, state.answered_prompts, len(state.days)) == (None, (), 0)


# States as 4517989 pickled them (before the compiled build): a learner, a post, a
# reflection and a course aggregate, as a worker's changelog topics may hold them.
_OLD_RECORDS = (
    "gAWV4QEAAAAAAAAojBhmYWNpbGl0YXRpb25fcnVsZXMuc3RhdGWUjAxMZWFybmVyU3RhdGWUk5QpgZQoKYwVY291"
    "cnNlLXYxOk9yZytDMSsyMDI0lGgAjApBY3RpdmVEYXlzlJOUKYGUSwVN9EyGlGJHf/AAAAAAAABOR3/wAAAAAAAA"
    "R3/wAAAAAAAAR3/wAAAAAAAAR3/wAAAAAAAAR0HZVPxAAAAAjAI0MpROfZSMGXNpbGVudF9sZWFybmVyLndlbnRf"
    "cXVpZXSUjBQyMDI0LTAxLTAxVDAwOjAwOjAwWpRzR//wAAAAAAAASwBHQBQAAAAAAABOSwBLAIl0lGJoAIwJUG9z"
    "dFN0YXRllJOUKYGUKE6MATeUjAdsZWFybmVylEd/8AAAAAAAAGgERz/wAAAAAAAAiUd/8AAAAAAAAEd/8AAAAAAA"
    "AIwCdDGUjAZ0aHJlYWSUSwBoE4wIcXVlc3Rpb26UjAJIaZSJTkd/8AAAAAAAAHSUYmgAjA9SZWZsZWN0aW9uU3Rh"
    "dGWUk5QpgZQoaBFOaARHQAAAAAAAAABHf/AAAAAAAACJjAJwMZSMAnIxlIh0lGJoAIwLQ291cnNlU3RhdGWUk5Qp"
    "gZQofZRN9ExLAnNoBEd/8AAAAAAAAEsDdJRidJQu"
)


def _states() -> tuple[LearnerState, PostState, ReflectionState, CourseState]:
    course = "course-v1:Org+C1+2024"
    learner = LearnerState(course_id=course, learner_id="42", prompts_from=5.0)
    learner.days.add(19_700)
    learner.days.add(19_702)
    learner.last_active = 1.7e9
    learner.open = {"silent_learner.went_quiet": "2024-01-01T00:00:00Z"}
    post = PostState(
        course_id=course, post_id="t1", thread_id="t1", author_id="7", author_role="learner",
        post_kind="thread", thread_type="question", created=1.0, title="Hi",
    )  # fmt: skip
    reflection = ReflectionState(
        course_id=course, reflection_id="r1", prompt_id="p1", author_id="7", created=2.0,
        shared=True,
    )  # fmt: skip
    cohort = CourseState(course_id=course)
    cohort.learners, cohort.active_by_day = 3, {19_700: 2}
    return learner, post, reflection, cohort


def test_records_written_before_the_compiled_build_still_load() -> None:
    old = pickle.loads(base64.b64decode(_OLD_RECORDS))
    for loaded, made in zip(old, _states(), strict=True):
        assert type(loaded) is type(made)
        for name in type(made).FIELDS:
            value, expected = getattr(loaded, name), getattr(made, name)
            if isinstance(expected, ActiveDays):
                value, expected = list(value), list(expected)
            assert value == expected, name
    # and records written now are those records plus the fields added since, at the end
    for made in _states():
        added = [name for name, _default in type(made).ADDED]
        assert list(type(made).FIELDS[len(type(made).FIELDS) - len(added) :]) == added
        assert made.__getstate__()[: len(made.FIELDS) - len(added)] == tuple(
            getattr(made, name) for name in made.FIELDS[: len(made.FIELDS) - len(added)]
        )


def test_the_added_fields_round_trip() -> None:
    learner, post, _reflection, _cohort = _states()
    learner.who, learner.last_post = ("maria", "María López"), (5.0, "Hi", "I am stuck", "")
    post.who, post.excerpt, post.context = ("maria", ""), "body", ("The thread", "its text")
    for made in (learner, post):
        loaded = pickle.loads(pickle.dumps(made, protocol=5))
        for name, _default in type(made).ADDED:
            assert getattr(loaded, name) == getattr(made, name), name
