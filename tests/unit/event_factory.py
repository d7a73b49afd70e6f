"""Small builders of contract events for engine tests (times in hours after T0)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from facilitation_rules.contract.events import (
    ActivityRecorded,
    Actor,
    EnrollmentActivated,
    EnrollmentDeactivated,
    PostCreated,
    PostDeleted,
    PostKind,
    PostVoted,
    ReflectionCommented,
    ReflectionSubmitted,
    Role,
)

COURSE = "course-v1:TestX+T101+2024"
T0 = datetime(2024, 1, 8, 0, 0, tzinfo=UTC)  # a Monday
_ids = itertools.count()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def actor(user: str, role: Role = Role.LEARNER) -> Actor:
    return Actor(user_id=user, role=role)


def thread(
    h: float,
    user: str,
    post_id: str,
    *,
    role: Role = Role.LEARNER,
    question: bool = False,
    course: str = COURSE,
) -> PostCreated:
    return PostCreated(
        event_id=_id("e"),
        occurred_at=at(h),
        course_id=course,
        actor=actor(user, role),
        post_id=post_id,
        thread_id=post_id,
        post_kind="thread",
        thread_type="question" if question else "discussion",
        title=f"title {post_id}",
    )


def response(
    h: float,
    user: str,
    post_id: str,
    thread_id: str,
    *,
    role: Role = Role.LEARNER,
    course: str = COURSE,
) -> PostCreated:
    return _reply("response", h, user, post_id, thread_id, thread_id, role, course)


def comment(
    h: float,
    user: str,
    post_id: str,
    thread_id: str,
    parent: str,
    *,
    role: Role = Role.LEARNER,
    course: str = COURSE,
) -> PostCreated:
    return _reply("comment", h, user, post_id, thread_id, parent, role, course)


def _reply(
    kind: PostKind,
    h: float,
    user: str,
    post_id: str,
    thread_id: str,
    parent: str,
    role: Role,
    course: str,
) -> PostCreated:
    return PostCreated(
        event_id=_id("e"),
        occurred_at=at(h),
        course_id=course,
        actor=actor(user, role),
        post_id=post_id,
        thread_id=thread_id,
        parent_post_id=parent,
        post_kind=kind,
    )


def vote(h: float, user: str, post_id: str, course: str = COURSE) -> PostVoted:
    return PostVoted(**_on_post(h, user, post_id, course))


def deleted(h: float, user: str, post_id: str, course: str = COURSE) -> PostDeleted:
    return PostDeleted(**_on_post(h, user, post_id, course))


def _on_post(h: float, user: str, post_id: str, course: str) -> dict[str, Any]:
    return {
        "event_id": _id("e"),
        "occurred_at": at(h),
        "course_id": course,
        "actor": actor(user),
        "post_id": post_id,
        "thread_id": post_id,
    }


def activity(h: float, user: str, course: str = COURSE) -> ActivityRecorded:
    return ActivityRecorded(
        event_id=_id("e"),
        occurred_at=at(h),
        course_id=course,
        actor=actor(user),
        learner_id=user,
        activity_kind="video",
    )


def enrolled(h: float, user: str, course: str = COURSE) -> EnrollmentActivated:
    return EnrollmentActivated(
        event_id=_id("e"), occurred_at=at(h), course_id=course, actor=actor(user), learner_id=user
    )


def unenrolled(h: float, user: str, course: str = COURSE) -> EnrollmentDeactivated:
    return EnrollmentDeactivated(
        event_id=_id("e"), occurred_at=at(h), course_id=course, actor=actor(user), learner_id=user
    )


def reflection(
    h: float, user: str, rid: str, prompt: str, *, shared: bool = False, course: str = COURSE
) -> ReflectionSubmitted:
    return ReflectionSubmitted(
        event_id=_id("e"),
        occurred_at=at(h),
        course_id=course,
        actor=actor(user),
        reflection_id=rid,
        prompt_id=prompt,
        shared=shared,
        word_count=50,
    )


def reflection_comment(
    h: float,
    user: str,
    rid: str,
    author: str,
    *,
    prompt: str = "p1",
    role: Role = Role.LEARNER,
    course: str = COURSE,
) -> ReflectionCommented:
    return ReflectionCommented(
        event_id=_id("e"),
        occurred_at=at(h),
        course_id=course,
        actor=actor(user, role),
        reflection_id=rid,
        prompt_id=prompt,
        comment_id=_id("c"),
        reflection_author_id=author,
    )
