"""Per-subject state the detectors keep: one object per post, learner, shared reflection, course.

Slotted, mutable, plain values (strings, numbers, sets) so Faust tables can store them and
the replay hot path allocates nothing it can avoid. The functions in ``facilitation_rules
.detectors`` take a state and return it (possibly the same object, updated): the caller owns
the state and writes it back, as a Faust table requires.

Learner state is made of order-insensitive aggregates (max of activity times, a set of
active days, counts), so the live engine and replay agree however events interleave.
Times are UTC epoch seconds; ``due`` is the earliest time a tick may have work to do.
"""

from __future__ import annotations

import math

INF = math.inf
NO_TIME = -math.inf

# Unanswered-post stages, in the order they fire.
STAGE_NONE, STAGE_WARNED, STAGE_BREACHED, STAGE_ESCALATED = 0, 1, 2, 3


class PostState:
    __slots__ = (
        "answered_at",
        "author_id",
        "author_role",
        "breach_due",
        "course_id",
        "created",
        "deleted",
        "due",
        "escalate_due",
        "post_id",
        "post_kind",
        "stage",
        "thread_id",
        "thread_type",
        "title",
        "tracked",
        "url",
        "warn_due",
    )

    def __init__(
        self,
        *,
        course_id: str,
        post_id: str,
        thread_id: str,
        author_id: str,
        author_role: str,
        post_kind: str,
        thread_type: str,
        created: float,
        title: str = "",
        url: str | None = None,
    ) -> None:
        self.course_id = course_id
        self.post_id = post_id
        self.thread_id = thread_id
        self.author_id = author_id
        self.author_role = author_role
        self.post_kind = post_kind
        self.thread_type = thread_type
        self.created = created
        self.title = title
        self.url = url
        self.tracked = False
        self.deleted = False
        #: Event time of the first reply that counts (None: unanswered so far).
        self.answered_at: float | None = None
        self.stage = STAGE_NONE
        self.warn_due = INF
        self.breach_due = INF
        self.escalate_due = INF
        self.due = INF


class LearnerState:
    __slots__ = (
        "answered_prompts",
        "checked",
        "course_id",
        "days",
        "due",
        "enrolled_at",
        "eval_due",
        "first_active",
        "first_post_at",
        "fixed_due",
        "last_active",
        "learner_id",
        "open",
        "posts",
        "reflections",
        "replies_received",
        "unenrolled",
    )

    def __init__(self, *, course_id: str, learner_id: str) -> None:
        self.course_id = course_id
        self.learner_id = learner_id
        self.enrolled_at: float | None = None
        self.unenrolled = False
        self.first_active = INF
        self.last_active = NO_TIME
        #: UTC day numbers (epoch seconds // 86400) with any activity.
        self.days: set[int] = set()
        self.posts = 0
        self.first_post_at = INF
        self.replies_received = 0
        self.reflections = 0
        self.answered_prompts: set[str] = set()
        #: Open alerts: rule -> episode (the same episode gives the same alert_id).
        self.open: dict[str, str] = {}
        #: rule -> the due time last handled (fired, or skipped by a ``when:`` filter).
        self.checked: dict[str, float] = {}
        #: Next dropout-risk evaluation time (INF: not scheduled).
        self.eval_due = INF
        #: The earliest due time that activity does not move (never-posted, prompts).
        self.fixed_due = INF
        self.due = INF

    @property
    def active(self) -> bool:
        return self.last_active != NO_TIME


class ReflectionState:
    __slots__ = (
        "author_id",
        "commented_at",
        "course_id",
        "created",
        "due",
        "open",
        "prompt_id",
        "reflection_id",
        "shared",
    )

    def __init__(
        self,
        *,
        course_id: str,
        reflection_id: str,
        prompt_id: str,
        author_id: str,
        created: float,
        shared: bool,
    ) -> None:
        self.course_id = course_id
        self.reflection_id = reflection_id
        self.prompt_id = prompt_id
        self.author_id = author_id
        self.created = created
        self.shared = shared
        self.commented_at: float | None = None
        self.open = False
        self.due = INF


class CourseState:
    """Course-wide aggregates for the cohort comparison of the dropout-risk score."""

    __slots__ = ("active_by_day", "course_id", "due", "learners")

    def __init__(self, *, course_id: str) -> None:
        self.course_id = course_id
        self.due = INF  # aggregates have no deadlines
        #: Day number -> learners active that day (each learner counted once per day).
        self.active_by_day: dict[int, int] = {}
        #: Learners known in the course (enrolled or seen active), minus unenrolments.
        self.learners = 0

    def mean_active_days(self, first_day: int, last_day: int) -> float:
        """Average number of active days per learner over ``first_day..last_day``."""
        if self.learners <= 0:
            return 0.0
        by_day = self.active_by_day
        total = sum(by_day.get(d, 0) for d in range(first_day, last_day + 1))
        return total / self.learners
