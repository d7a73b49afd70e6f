"""Per-subject state the detectors keep: one object per post, learner, shared reflection, course.

Slotted, mutable, plain values (strings, numbers, tuples, a day bitmap) so Faust tables can
store them and the replay hot path allocates nothing it can avoid. States are kept compact
(a worker holds one per tracked learner and thread): course ids and other repeated strings
are interned, empty containers are ``None`` or ``()``, and active days are a bitmap. The
functions in ``facilitation_rules.engine.detectors`` take a state and return it (possibly the same
object, updated): the caller owns the state and writes it back, as a Faust table requires.

Learner state is made of order-insensitive aggregates (max of activity times, the
active days, counts), so the live engine and replay agree however events interleave.
Times are UTC epoch seconds; ``due`` is the earliest time a tick may have work to do.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import ClassVar

INF = math.inf
NO_TIME = -math.inf

#: Fields holding the same few strings in many states: one copy each, also after unpickling.
_INTERNED = frozenset(
    {"author_id", "author_role", "course_id", "post_kind", "prompt_id", "thread_type"}
)


class _Slotted:
    """Pickled as the tuple of its slot values, without the slot names: a changelog record
    of a learner is about half the size.

    ``FIELDS`` names the slots in pickle order (each class sets ``__slots__ = FIELDS``): a
    mypyc-compiled class (setup.py) has no ``__slots__`` to read. Every ``__init__``
    argument has a default because pickle makes the instance with ``cls.__new__(cls)``,
    which in a compiled class runs ``__init__``. Both builds write and read the same
    records, also those written before the compiled build existed.
    """

    __slots__: tuple[str, ...] = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()
    #: Fields appended to ``FIELDS`` since records were first written, with the value an
    #: older (shorter) record reads them as.
    ADDED: ClassVar[tuple[tuple[str, object], ...]] = ()

    def __getstate__(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        names = self.FIELDS
        if len(state) < len(names):
            for name, value in self.ADDED:
                setattr(self, name, value)
            names = names[: len(state)]
        for name, value in zip(names, state, strict=True):
            if name in _INTERNED and type(value) is str:
                value = sys.intern(value)
            setattr(self, name, value)


# Unanswered-post stages, in the order they fire.
STAGE_NONE, STAGE_WARNED, STAGE_BREACHED, STAGE_ESCALATED = 0, 1, 2, 3


class PostState(_Slotted):
    FIELDS = (
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
        # added later (see ``ADDED``): who wrote it, what it says, what it answers
        "who",
        "excerpt",
        "context",
    )
    __slots__ = FIELDS
    ADDED = (("who", None), ("excerpt", ""), ("context", None))

    def __init__(
        self,
        *,
        course_id: str = "",
        post_id: str = "",
        thread_id: str = "",
        author_id: str = "",
        author_role: str = "",
        post_kind: str = "",
        thread_type: str = "",
        created: float = 0.0,
        title: str = "",
        url: str | None = None,
        who: tuple[str, str] | None = None,
        excerpt: str = "",
        context: tuple[str, str] | None = None,
    ) -> None:
        self.course_id = sys.intern(course_id)
        self.post_id = post_id
        self.thread_id = post_id if thread_id == post_id else thread_id
        self.author_id = sys.intern(author_id)  # authors write many posts
        self.author_role = sys.intern(author_role)
        self.post_kind = sys.intern(post_kind)
        self.thread_type = sys.intern(thread_type)
        self.created = created
        self.title = title
        self.url = url
        #: The author's (username, display name) where the LMS sent them; None: neither.
        self.who = who
        self.excerpt = excerpt
        #: A reply's (thread title, thread excerpt) where the producer sent them.
        self.context = context
        self.tracked = False
        self.deleted = False
        #: Event time of the first reply that counts (None: unanswered so far).
        self.answered_at: float | None = None
        self.stage = STAGE_NONE
        self.warn_due = INF
        self.breach_due = INF
        self.escalate_due = INF
        self.due = INF


class ActiveDays(_Slotted):
    """A set of UTC day numbers (epoch seconds // 86400) as a bitmap: bit i is ``first + i``.

    About 60 bytes for a course's worth of days where a ``set`` of ints takes 216 bytes
    empty and 28 more per day; reads like a set (``in``, ``len``, iteration).
    """

    FIELDS = ("bits", "first")
    __slots__ = FIELDS

    def __init__(self, days: Iterable[int] = ()) -> None:
        self.first = 0
        self.bits = 0
        for day in days:
            self.add(day)

    def add(self, day: int) -> bool:
        """Add ``day``; True when it was not there yet."""
        bits = self.bits
        offset = day - self.first
        if not bits or offset < 0:
            self.bits = (bits << -offset | 1) if bits else 1
            self.first = day
            return True
        mask = 1 << offset
        if bits & mask:
            return False
        self.bits = bits | mask
        return True

    def count(self, first: int, last: int) -> int:
        """How many days fall in ``first..last`` (inclusive)."""
        if last < first or not self.bits:
            return 0
        lo = max(first - self.first, 0)
        if last - self.first < lo:
            return 0
        return (self.bits >> lo & ((1 << (last - self.first - lo + 1)) - 1)).bit_count()

    def __contains__(self, day: object) -> bool:
        if type(day) is not int or day < self.first:
            return False
        return bool(self.bits >> (day - self.first) & 1)

    def __len__(self) -> int:
        return self.bits.bit_count()

    def __iter__(self) -> Iterator[int]:
        bits, day = self.bits, self.first
        while bits:
            if bits & 1:
                yield day
            bits >>= 1
            day += 1

    def __repr__(self) -> str:
        return f"ActiveDays({sorted(self)!r})"


class LearnerState(_Slotted):
    FIELDS = (
        "answered_prompts",
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
        "never_posted_checked",
        "open",
        "overdue_checked",
        "posts",
        "prompts_from",
        "quiet_checked",
        "reflections",
        "replies_received",
        "unenrolled",
        # added later (see ``ADDED``)
        "who",
        "last_post",
    )
    __slots__ = FIELDS
    ADDED = (("who", None), ("last_post", None))

    def __init__(
        self, *, course_id: str = "", learner_id: str = "", prompts_from: float = NO_TIME
    ) -> None:
        self.course_id = sys.intern(course_id)
        self.learner_id = learner_id
        self.enrolled_at: float | None = None
        self.unenrolled = False
        self.first_active = INF
        self.last_active = NO_TIME
        self.days = ActiveDays()
        self.posts = 0
        self.first_post_at = INF
        self.replies_received = 0
        self.reflections = 0
        self.answered_prompts: tuple[str, ...] = ()
        #: Open alerts: rule -> episode (the same episode gives the same alert_id); None: none.
        self.open: dict[str, str] | None = None
        #: Reflection prompts due at or before this time are not the learner's (they were
        #: due before the engine knew the learner).
        self.prompts_from = prompts_from
        #: The due time each deadline rule last handled (fired, or skipped by a ``when:``
        #: filter); None / NO_TIME: none yet.
        self.never_posted_checked: float | None = None
        self.quiet_checked: float | None = None
        self.overdue_checked = NO_TIME
        #: Next dropout-risk evaluation time (INF: not scheduled).
        self.eval_due = INF
        #: The earliest due time that activity does not move (never-posted, prompts).
        self.fixed_due = INF
        self.due = INF
        #: (username, display name) from the learner's own events; None: the LMS sent none.
        self.who: tuple[str, str] | None = None
        #: The learner's latest post: (event time, title, excerpt, url); None: none seen.
        self.last_post: tuple[float, str, str, str] | None = None

    @property
    def active(self) -> bool:
        return self.last_active != NO_TIME


class ReflectionState(_Slotted):
    FIELDS = (
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
    __slots__ = FIELDS

    def __init__(
        self,
        *,
        course_id: str = "",
        reflection_id: str = "",
        prompt_id: str = "",
        author_id: str = "",
        created: float = 0.0,
        shared: bool = False,
    ) -> None:
        self.course_id = sys.intern(course_id)
        self.reflection_id = reflection_id
        self.prompt_id = sys.intern(prompt_id)
        self.author_id = author_id
        self.created = created
        self.shared = shared
        self.commented_at: float | None = None
        self.open = False
        self.due = INF


class CourseState(_Slotted):
    """Course-wide aggregates for the cohort comparison of the dropout-risk score."""

    FIELDS = ("active_by_day", "course_id", "due", "learners")
    __slots__ = FIELDS

    def __init__(self, *, course_id: str = "") -> None:
        self.course_id = sys.intern(course_id)
        self.due = INF  # aggregates have no deadlines
        #: Day number -> learners active that day (each learner counted once per day).
        self.active_by_day: dict[int, int] = {}
        #: Learners known in the course (enrolled or seen active), minus unenrolments.
        self.learners = 0

    def mean_active_days(self, first_day: int, last_day: int) -> float:
        """Average number of active days per learner over ``first_day..last_day``."""
        if self.learners <= 0:
            return 0.0
        days = range(first_day, last_day + 1)
        return sum(map(self.active_by_day.get, days, repeat(0, len(days)))) / self.learners
