"""A seeded course calibrated to the reference MOOC, as contract events (pure).

The reference course: 402 enrolled, 86 active to the end, about 1,073 forum posts over 13
weeks, eight tutors. ``generate_course`` draws learners who enrol over the first weeks,
drop out along a realistic curve (most in weeks 1-3), browse, post threads and reply to
each other at their local daytime. Tutor replies are not generated here: they come from the
tutor model in ``simulation_run`` (nudges and browsing), which feeds them back in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from facilitation_rules.contract.events import (
    ActivityRecorded,
    Actor,
    EnrollmentActivated,
    Event,
    PostCreated,
    Role,
)

COURSE_ID = "course-v1:OpenEdX+Facilitation+2025"
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
WEEKS = 13
ENROLLED = 402
ACTIVE_TO_END = 86
#: Learner posts: tutors' replies (about 200 with the engine on) bring the total near 1,073.
LEARNER_THREADS = 450
PEER_REPLY_SHARE = 0.42  # threads a peer answers
UTC_OFFSETS = (-8, -6, -5, -3, 0, 1, 1, 2, 3, 5.5, 7, 8, 9, 10)
TITLES = (
    "Question about the week {w} quiz",
    "Can't open the week {w} reading",
    "Sharing my notes on week {w}",
    "Is the week {w} deadline firm?",
    "Confused by the example in unit {w}",
    "Introductions: hello from a new learner",
)


@dataclass(frozen=True, slots=True)
class SimPost:
    post_id: str
    thread_id: str
    author: str
    at: datetime
    parent_post_id: str | None


@dataclass
class Course:
    events: list[Event] = field(default_factory=list)
    learners: list[str] = field(default_factory=list)
    active_to_end: int = 0
    posts: list[SimPost] = field(default_factory=list)


def _local_daytime(rng: random.Random, day: datetime, offset: float) -> datetime:
    hour = rng.uniform(8.0, 23.0) - offset  # learners post from 08:00 to 23:00 local time
    return day + timedelta(hours=hour)


def generate_course(seed: int = 1) -> Course:
    rng = random.Random(seed)
    end = START + timedelta(weeks=WEEKS)
    course = Course()
    last_week: dict[str, int] = {}
    offsets: dict[str, float] = {}
    joined: dict[str, datetime] = {}
    finishers = set(rng.sample(range(ENROLLED), ACTIVE_TO_END))
    for i in range(ENROLLED):
        learner = f"learner-{i:03d}"
        course.learners.append(learner)
        offsets[learner] = rng.choice(UTC_OFFSETS)
        join_day = 0 if rng.random() < 0.7 else rng.randrange(0, 28)
        joined[learner] = START + timedelta(days=join_day, hours=rng.uniform(0, 24))
        # Dropout weeks: a long tail after an early cliff; finishers stay to week 13.
        last_week[learner] = (
            WEEKS - 1
            if i in finishers
            else min(WEEKS - 2, int(rng.expovariate(1 / 2.2)) + join_day // 7)
        )
        course.events.append(
            EnrollmentActivated(
                event_id=f"enrol-{learner}",
                occurred_at=joined[learner],
                course_id=COURSE_ID,
                actor=Actor(user_id=learner),
                learner_id=learner,
            )
        )
    course.active_to_end = len(finishers)
    for learner in course.learners:
        for week in range((joined[learner] - START).days // 7, last_week[learner] + 1):
            for k in range(rng.randint(2, 5)):
                day = START + timedelta(weeks=week, days=rng.randrange(7))
                at = max(_local_daytime(rng, day, offsets[learner]), joined[learner])
                course.events.append(
                    ActivityRecorded(
                        event_id=f"act-{learner}-{week}-{k}",
                        occurred_at=at,
                        course_id=COURSE_ID,
                        actor=Actor(user_id=learner),
                        learner_id=learner,
                        activity_kind="page_view",
                    )
                )
    _posts(rng, course, joined, last_week, offsets, end)
    course.events.sort(key=lambda e: (e.occurred_at, e.event_id))
    return course


def _posts(
    rng: random.Random,
    course: Course,
    joined: dict[str, datetime],
    last_week: dict[str, int],
    offsets: dict[str, float],
    end: datetime,
) -> None:
    # Posting propensity is skewed: a few learners post a lot, many post once or never.
    weights = {x: rng.paretovariate(1.6) * (1 + last_week[x]) for x in course.learners}
    posters = rng.choices(
        course.learners, weights=[weights[x] for x in course.learners], k=LEARNER_THREADS
    )
    for n, author in enumerate(posters):
        first = (joined[author] - START).days // 7
        week = rng.randint(first, max(first, last_week[author]))
        day = START + timedelta(weeks=week, days=rng.randrange(7))
        at = max(_local_daytime(rng, day, offsets[author]), joined[author] + timedelta(hours=1))
        thread = f"thread-{n:04d}"
        title = rng.choice(TITLES).format(w=week + 1)
        _post(course, thread, thread, author, at, None, title, "thread")
        if rng.random() < PEER_REPLY_SHARE:
            peers = [
                x
                for x in course.learners
                if x != author and last_week[x] >= week and joined[x] < at
            ]
            if peers:
                peer = rng.choice(peers)
                # Peer replies: median about 7 h, some well after a day.
                reply_at = at + timedelta(hours=rng.lognormvariate(math.log(7), 1.1))
                if reply_at < end:
                    _post(course, f"{thread}-r1", thread, peer, reply_at, thread, "", "response")


def _post(
    course: Course,
    post_id: str,
    thread: str,
    author: str,
    at: datetime,
    parent: str | None,
    title: str,
    kind: str,
) -> None:
    course.posts.append(SimPost(post_id, thread, author, at, parent))
    course.events.append(
        PostCreated(
            event_id=f"post-{post_id}",
            occurred_at=at,
            course_id=COURSE_ID,
            actor=Actor(user_id=author, role=Role.LEARNER),
            post_id=post_id,
            thread_id=thread,
            parent_post_id=parent,
            post_kind=kind,  # type: ignore[arg-type]
            title=title,
            body_excerpt="",
            word_count=40,
            url=f"https://lms.example.org/courses/{COURSE_ID}/discussion/forum/threads/{thread}",
        )
    )
