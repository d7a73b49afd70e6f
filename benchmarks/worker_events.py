"""Contract events for the live-worker benchmark, as (Kafka key, value) pairs.

- ``course_mix``: a realistic stream for sustained throughput — mostly activity and post
  views, some threads with replies and comments, votes, enrollments, reflections — with
  event times over the last hour, so no deadline falls due while it is consumed.
- ``overdue_thread`` / ``thread_due_at``: a learner's question whose first deadline (the
  ``unanswered_post`` warning) has passed on arrival, or falls at a chosen wall time.
- ``new_learners`` / ``new_threads``: one new tracked subject per event (memory).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import (
    ActivityKind,
    ActivityRecorded,
    Actor,
    EnrollmentActivated,
    Event,
    PostCreated,
    PostKind,
    PostViewed,
    PostVoted,
    ReflectionCommented,
    ReflectionSubmitted,
    Role,
)
from facilitation_rules.packs.loader import load_pack

Record = tuple[bytes, bytes]
_KINDS: tuple[ActivityKind, ...] = ("page_view", "problem", "video", "navigation", "completion")


def record(event: Event) -> Record:
    return event.partition_key().encode(), dumps(event).encode()


def first_deadline_s() -> float:
    """Seconds from a learner's question to its first deadline in the default pack."""
    cfg = load_pack().rules_for("course-v1:Bench+B+1")
    assert cfg is not None
    sla = cfg.unanswered.question_sla or cfg.unanswered.sla
    warn = cfg.unanswered.warn_at
    return sla * warn if warn is not None and 0 < warn < 1 else sla


def course_mix(course: str, n: int, learners: int = 5_000, seed: int = 5) -> Iterator[Record]:
    """``n`` events of one course over the hour before now, in event-time order."""
    rng = random.Random(seed)
    end = datetime.now(UTC) - timedelta(seconds=5)
    step = 3600.0 / n
    threads: list[tuple[str, str]] = []  # (thread id, author) of learner threads
    responses: list[tuple[str, str]] = []  # (response id, thread id)
    reflections: list[tuple[str, str]] = []  # (reflection id, author)
    for i in range(n):
        at = end - timedelta(seconds=(n - i) * step)
        learner = f"u{rng.randrange(learners)}"
        actor = Actor(user_id=learner)
        eid = f"b{seed}-{i}"
        roll = rng.random()
        event: Event
        if roll < 0.55 or (roll < 0.84 and not threads):
            event = ActivityRecorded(
                event_id=eid, occurred_at=at, course_id=course, actor=actor,
                learner_id=learner, activity_kind=rng.choice(_KINDS), object_id=f"block-{i % 97}",
            )
        elif roll < 0.80:
            thread, _ = rng.choice(threads)
            event = PostViewed(event_id=eid, occurred_at=at, course_id=course, actor=actor,
                               post_id=thread, thread_id=thread)
        elif roll < 0.84:
            thread, _ = rng.choice(threads)
            event = PostVoted(event_id=eid, occurred_at=at, course_id=course, actor=actor,
                              post_id=thread, thread_id=thread)
        elif roll < 0.87 or not threads:
            thread = f"t{i}"
            threads.append((thread, learner))
            event = PostCreated(
                event_id=eid, occurred_at=at, course_id=course, actor=actor, post_id=thread,
                thread_id=thread, thread_type=rng.choice(("question", "discussion")),
                title=f"Stuck on exercise {i % 40}", body_excerpt="How do I ...", word_count=40,
            )
        elif roll < 0.93:
            thread, _ = rng.choice(threads)
            tutor = rng.random() < 0.3
            who = Actor(user_id=f"tutor-{i % 8}", role=Role.TUTOR) if tutor else actor
            kind: PostKind
            if responses and rng.random() < 0.4:
                parent, thread = rng.choice(responses)
                kind = "comment"
            else:
                parent, kind = thread, "response"
            post = f"r{i}"
            if kind == "response":
                responses.append((post, thread))
            event = PostCreated(
                event_id=eid, occurred_at=at, course_id=course, actor=who, post_id=post,
                thread_id=thread, parent_post_id=parent, post_kind=kind, word_count=25,
            )
        elif roll < 0.95:
            event = EnrollmentActivated(event_id=eid, occurred_at=at, course_id=course,
                                        actor=actor, learner_id=learner, mode="verified")
        elif roll < 0.98 or not reflections:
            reflection = f"x{i}"
            shared = rng.random() < 0.5
            if shared:
                reflections.append((reflection, learner))
            event = ReflectionSubmitted(
                event_id=eid, occurred_at=at, course_id=course, actor=actor,
                reflection_id=reflection, prompt_id=f"week-{i % 6}", word_count=80, shared=shared,
            )
        else:
            reflection, author = rng.choice(reflections)
            event = ReflectionCommented(
                event_id=eid, occurred_at=at, course_id=course, actor=actor,
                reflection_id=reflection, prompt_id="week-1", comment_id=f"c{i}",
                reflection_author_id=author, word_count=20,
            )
        yield record(event)


def thread_due_at(course: str, n: int, due: datetime, first_deadline: float) -> PostCreated:
    """Learner ``n``'s question whose first deadline is ``due`` (in the past: overdue)."""
    return PostCreated(
        event_id=f"q{n}", occurred_at=due - timedelta(seconds=first_deadline), course_id=course,
        actor=Actor(user_id=f"asker-{n}"), post_id=f"q{n}", thread_id=f"q{n}",
        thread_type="question", title="Nobody answers", word_count=12,
    )


def new_learners(course: str, n: int, offset: int = 0) -> Iterator[Record]:
    at = datetime.now(UTC) - timedelta(minutes=5)
    for i in range(offset, offset + n):
        learner = f"m{i}"
        yield record(ActivityRecorded(
            event_id=f"ml{i}", occurred_at=at, course_id=course, actor=Actor(user_id=learner),
            learner_id=learner, activity_kind="page_view", object_id="block-1",
        ))


def new_threads(course: str, n: int, authors: int = 500, offset: int = 0) -> Iterator[Record]:
    """``n`` learner threads by a few ``authors``: the new subjects are almost all threads."""
    at = datetime.now(UTC) - timedelta(minutes=5)
    for i in range(offset, offset + n):
        thread = f"mt{i}"
        yield record(PostCreated(
            event_id=f"mt{i}", occurred_at=at, course_id=course,
            actor=Actor(user_id=f"a{i % authors}"), post_id=thread, thread_id=thread,
            thread_type="discussion", title=f"Question about unit {i % 30}", word_count=30,
        ))
