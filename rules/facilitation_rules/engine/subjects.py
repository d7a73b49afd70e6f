"""Which subjects an event touches: the derived updates, keyed by subject.

A reply touches its thread (answered?), the post it replies to, the replier's activity and
(through the post's state, which knows the author) the author's "replies received". The
engine expresses each as an ``Update`` with a subject key; the live engine sends them
through a Kafka topic keyed by subject, replay applies them in process, in order.

Subject keys: ``P|course|post_id``, ``L|course|learner_id``, ``R|course|reflection_id``,
``C|course``. The first character picks the detector.
"""

from __future__ import annotations

from collections.abc import Callable

from facilitation_rules.contract.events import (
    ActivityRecorded,
    EnrollmentActivated,
    EnrollmentDeactivated,
    Event,
    LearnerRetired,
    PostCreated,
    PostDeleted,
    PostViewed,
    PostVoted,
    ReflectionCommented,
    ReflectionSubmitted,
    Role,
    subject_key,
)
from facilitation_rules.engine.outputs import Update

# Post subject
POST_CREATED = "post.created"
POST_REPLY = "post.reply"  # a direct reply: a response to this thread, a comment on this response
THREAD_REPLY = "post.thread_reply"  # a comment deeper in this thread
POST_TRACK = "post.track"  # the author's first post in the course: watch it
POST_DELETED = "post.deleted"
# Learner subject
ACTIVE = "learner.active"
POSTED = "learner.posted"
REFLECTED = "learner.reflected"
REPLY_RECEIVED = "learner.reply_received"
ENROLLED = "learner.enrolled"
UNENROLLED = "learner.unenrolled"
RETIRED = "learner.retired"
# Shared reflection subject
REFLECTION_SUBMITTED = "reflection.submitted"
REFLECTION_COMMENTED = "reflection.commented"
# Course aggregate
COURSE_ACTIVE_DAY = "course.active_day"
COURSE_JOINED = "course.joined"
COURSE_LEFT = "course.left"

_LEARNER = Role.LEARNER


def post_key(course_id: str, post_id: str) -> str:
    return subject_key("P", course_id, post_id)


def learner_key(course_id: str, learner_id: str) -> str:
    return f"L|{course_id}|{learner_id}"  # subject_key("L", ...), inlined: the hot path


def reflection_key(course_id: str, reflection_id: str) -> str:
    return subject_key("R", course_id, reflection_id)


def course_key(course_id: str) -> str:
    return f"C|{course_id}"


def _post_created(ev: PostCreated, t: float) -> tuple[Update, ...]:
    course = ev.course_id
    out = [Update(post_key(course, ev.post_id), POST_CREATED, ev, t)]
    parent = ev.parent_post_id
    if ev.post_kind != "thread":
        direct = parent or ev.thread_id
        out.append(Update(post_key(course, direct), POST_REPLY, ev, t))
        if direct != ev.thread_id:
            out.append(Update(post_key(course, ev.thread_id), THREAD_REPLY, ev, t))
    if ev.actor.role is _LEARNER:
        out.append(Update(learner_key(course, ev.actor.user_id), POSTED, ev, t))
    return tuple(out)


def _actor_active(ev: PostVoted | PostViewed, t: float) -> tuple[Update, ...]:
    if ev.actor.role is not _LEARNER:
        return ()
    return (Update(learner_key(ev.course_id, ev.actor.user_id), ACTIVE, ev, t),)


def _post_deleted(ev: PostDeleted, t: float) -> tuple[Update, ...]:
    update = Update(post_key(ev.course_id, ev.post_id), POST_DELETED, ev, t)
    if ev.actor.role is not _LEARNER:
        return (update,)
    return (update, Update(learner_key(ev.course_id, ev.actor.user_id), ACTIVE, ev, t))


def _reflection_submitted(ev: ReflectionSubmitted, t: float) -> tuple[Update, ...]:
    course = ev.course_id
    return (
        Update(reflection_key(course, ev.reflection_id), REFLECTION_SUBMITTED, ev, t),
        Update(learner_key(course, ev.actor.user_id), REFLECTED, ev, t),
    )


def _reflection_commented(ev: ReflectionCommented, t: float) -> tuple[Update, ...]:
    course, commenter = ev.course_id, ev.actor.user_id
    out = [Update(reflection_key(course, ev.reflection_id), REFLECTION_COMMENTED, ev, t)]
    if ev.actor.role is _LEARNER:
        out.append(Update(learner_key(course, commenter), ACTIVE, ev, t))
    if commenter != ev.reflection_author_id:
        out.append(Update(learner_key(course, ev.reflection_author_id), REPLY_RECEIVED, ev, t))
    return tuple(out)


def _enrolled(ev: EnrollmentActivated, t: float) -> tuple[Update, ...]:
    return (Update(learner_key(ev.course_id, ev.learner_id), ENROLLED, ev, t),)


def _unenrolled(ev: EnrollmentDeactivated, t: float) -> tuple[Update, ...]:
    return (Update(learner_key(ev.course_id, ev.learner_id), UNENROLLED, ev, t),)


def _retired(ev: LearnerRetired, t: float) -> tuple[Update, ...]:
    return (Update(learner_key(ev.course_id, ev.learner_id), RETIRED, ev, t),)


def _activity(ev: ActivityRecorded, t: float) -> tuple[Update, ...]:
    if ev.actor.role is not _LEARNER:
        return ()
    return (Update(learner_key(ev.course_id, ev.learner_id), ACTIVE, ev, t),)


_ROUTES: dict[type[Event], Callable[..., tuple[Update, ...]]] = {
    PostCreated: _post_created,
    PostVoted: _actor_active,
    PostViewed: _actor_active,
    PostDeleted: _post_deleted,
    ReflectionSubmitted: _reflection_submitted,
    ReflectionCommented: _reflection_commented,
    EnrollmentActivated: _enrolled,
    EnrollmentDeactivated: _unenrolled,
    ActivityRecorded: _activity,
    LearnerRetired: _retired,
}


def route(event: Event, t: float | None = None) -> tuple[Update, ...]:
    """The updates ``event`` causes; ``t`` is its time in epoch seconds (computed if omitted)."""
    handler = _ROUTES.get(type(event))
    if handler is None:
        return ()
    return handler(event, event.occurred_at.timestamp() if t is None else t)
