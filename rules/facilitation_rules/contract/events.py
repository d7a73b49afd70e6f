"""The event contract (v1): what the XBlocks and the tracking-log bridge publish.

Every event is a frozen, slotted, keyword-only dataclass named in the past tense, with a
versioned name ``org.openedx.facilitation.<subject>.<action>.v1``. ``event_id`` is the
idempotency key: the same learner action always carries the same id, so at-least-once
delivery never counts an action twice. Timestamps are timezone-aware UTC.

Changes to this module are public promises: add optional fields or new event types only.
``tests/contract`` checks the committed JSON Schemas in ``schemas/`` against this code and
rejects non-additive changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

NAMESPACE = "org.openedx.facilitation"
EXCERPT_MAX = 500
#: Every string of the contract has a bound (characters), in the JSON Schemas and in the
#: decoder: free text longer than its bound is cut to it (``TRUNCATED`` fields); any other
#: string longer than its bound (an id, a URL, a name) makes the event rejected. An id
#: gets ``ID_MAX`` unless named here (Open edX keys and usernames fit in 255).
ID_MAX = 255
MAX_LENGTH: dict[str, int] = {"title": 1000, "body_excerpt": EXCERPT_MAX, "url": 2048}
TRUNCATED = frozenset({"title", "body_excerpt"})


def max_length(field_name: str) -> int:
    return MAX_LENGTH.get(field_name, ID_MAX)


class Role(StrEnum):
    LEARNER = "learner"
    STAFF = "staff"
    TUTOR = "tutor"


PostKind = Literal["thread", "response", "comment"]
ThreadType = Literal["discussion", "question"]
ActivityKind = Literal[
    "page_view", "problem", "video", "navigation", "completion", "grade", "other"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who did it: the LMS user id as a string (the username when the log has no id)."""

    user_id: str
    role: Role = Role.LEARNER
    username: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Fields every event carries."""

    event_type: ClassVar[str]
    #: The subject an event is about first: P(ost), L(earner) or R(eflection), and the
    #: field naming it. See ``partition_key``.
    subject_kind: ClassVar[str] = "P"
    key_field: ClassVar[str] = "post_id"

    event_id: str
    occurred_at: datetime
    course_id: str
    actor: Actor

    def partition_key(self) -> str:
        """Kafka key = the key of the subject whose state the event changes first.

        All state of a post, a learner or a shared reflection lives on one partition, so
        the engine applies the event where it lands; the other subjects it touches are
        reached through the engine's updates topic.
        """
        return subject_key(self.subject_kind, self.course_id, getattr(self, self.key_field))

    def _authored_key(self) -> str:
        """What a learner writes is keyed by the learner: the learner's state then sees
        their posts and reflections in the order they wrote them (which post came first
        decides what is watched), and the post's own state is reached as an update."""
        if self.actor.role is Role.LEARNER:
            return subject_key("L", self.course_id, self.actor.user_id)
        return Event.partition_key(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class PostCreated(Event):
    """A thread, a response to a thread, or a comment on a response.

    ``post_id`` is the id the LMS gives the post (the forum thread id for a thread);
    ``parent_post_id`` is the post replied to (None for a thread). ``anonymous`` posts hide
    the author from peers; the engine still knows ``actor``.
    """

    event_type: ClassVar[str] = f"{NAMESPACE}.post.created.v1"

    post_id: str
    thread_id: str
    parent_post_id: str | None = None
    post_kind: PostKind = "thread"
    thread_type: ThreadType = "discussion"
    title: str = ""
    body_excerpt: str = ""
    word_count: int = 0
    anonymous: bool = False
    url: str | None = None

    def partition_key(self) -> str:
        return self._authored_key()


@dataclass(frozen=True, slots=True, kw_only=True)
class PostVoted(Event):
    """A vote: for the engine, activity of the voter (votes are not replies)."""

    event_type: ClassVar[str] = f"{NAMESPACE}.post.voted.v1"
    subject_kind: ClassVar[str] = "L"

    def partition_key(self) -> str:
        return subject_key("L", self.course_id, self.actor.user_id)

    post_id: str
    thread_id: str
    post_kind: PostKind = "thread"
    undo: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PostViewed(Event):
    """A view: for the engine, activity of the viewer."""

    event_type: ClassVar[str] = f"{NAMESPACE}.post.viewed.v1"
    subject_kind: ClassVar[str] = "L"

    def partition_key(self) -> str:
        return subject_key("L", self.course_id, self.actor.user_id)

    post_id: str
    thread_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PostDeleted(Event):
    event_type: ClassVar[str] = f"{NAMESPACE}.post.deleted.v1"

    post_id: str
    thread_id: str
    post_kind: PostKind = "thread"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReflectionSubmitted(Event):
    """A learner's answer to a reflection prompt; ``shared`` makes it a community reflection."""

    event_type: ClassVar[str] = f"{NAMESPACE}.reflection.submitted.v1"
    subject_kind: ClassVar[str] = "R"
    key_field: ClassVar[str] = "reflection_id"

    reflection_id: str
    prompt_id: str
    word_count: int = 0
    shared: bool = False
    body_excerpt: str = ""

    def partition_key(self) -> str:
        return self._authored_key()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReflectionCommented(Event):
    """A peer's (or tutor's) comment on a shared reflection."""

    event_type: ClassVar[str] = f"{NAMESPACE}.reflection.commented.v1"
    subject_kind: ClassVar[str] = "R"
    key_field: ClassVar[str] = "reflection_id"

    reflection_id: str
    prompt_id: str
    comment_id: str
    reflection_author_id: str
    word_count: int = 0
    body_excerpt: str = ""

    def partition_key(self) -> str:
        return self._authored_key()


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrollmentActivated(Event):
    event_type: ClassVar[str] = f"{NAMESPACE}.enrollment.activated.v1"
    subject_kind: ClassVar[str] = "L"
    key_field: ClassVar[str] = "learner_id"

    learner_id: str
    mode: str = "audit"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrollmentDeactivated(Event):
    event_type: ClassVar[str] = f"{NAMESPACE}.enrollment.deactivated.v1"
    subject_kind: ClassVar[str] = "L"
    key_field: ClassVar[str] = "learner_id"

    learner_id: str
    mode: str = "audit"


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityRecorded(Event):
    """Any other learner activity: page views, problems, video, navigation ..."""

    event_type: ClassVar[str] = f"{NAMESPACE}.activity.recorded.v1"
    subject_kind: ClassVar[str] = "L"
    key_field: ClassVar[str] = "learner_id"

    learner_id: str
    activity_kind: ActivityKind = "other"
    object_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LearnerRetired(Event):
    """The LMS retired the learner's account: forget them in this course.

    Sent by the LMS plugin (its retirement signal receivers) once per course the learner
    had anything in, keyed like the learner's own events, so it arrives after them. The
    actor is the learner, without a username. Consumers drop what they keep about the
    learner and redact what names or quotes them.
    """

    event_type: ClassVar[str] = f"{NAMESPACE}.learner.retired.v1"
    subject_kind: ClassVar[str] = "L"
    key_field: ClassVar[str] = "learner_id"

    learner_id: str


EVENT_TYPES: tuple[type[Event], ...] = (
    PostCreated,
    PostVoted,
    PostViewed,
    PostDeleted,
    ReflectionSubmitted,
    ReflectionCommented,
    EnrollmentActivated,
    EnrollmentDeactivated,
    ActivityRecorded,
    LearnerRetired,
)


def _build_registry(types: tuple[type[Event], ...]) -> dict[str, type[Event]]:
    registry: dict[str, type[Event]] = {}
    for cls in types:
        if cls.event_type in registry:
            raise ValueError(f"duplicate event type {cls.event_type}")
        registry[cls.event_type] = cls
    return registry


REGISTRY: dict[str, type[Event]] = _build_registry(EVENT_TYPES)


def subject_key(kind: str, course_id: str, subject_id: str) -> str:
    """``P|course|post_id``, ``L|course|learner_id``, ``R|course|reflection_id``."""
    return f"{kind}|{course_id}|{subject_id}"


def excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    """The first ``limit`` characters, cut at a word boundary where one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ", limit - 40)
    return (cut[:space] if space > 0 else cut[: limit - 1]).rstrip() + "…"


def word_count(text: str) -> int:
    return len(text.split())
