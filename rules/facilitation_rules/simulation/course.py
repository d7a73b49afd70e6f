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
    excerpt,
    word_count,
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
#: Thread titles and what such a thread says; ``{w}`` is the week.
TOPICS = (
    (
        "Question about the week {w} quiz",
        "Question 3 of the week {w} quiz asks for the median, but the answer key seems to use "
        "the mean. Did I misread it, or is the key wrong? I tried it twice and got 4.5.",
    ),
    (
        "Can't open the week {w} reading",
        "The PDF for the week {w} reading gives me a 404 from the course page. Is there "
        "another link? I'm on my phone most days, if that matters.",
    ),
    (
        "Sharing my notes on week {w}",
        "I wrote up my notes on week {w} as a one-page summary. Happy to hear if I got the "
        "second half wrong: the part about sampling bias still confuses me.",
    ),
    (
        "Is the week {w} deadline firm?",
        "I'm travelling for work this week and may miss the week {w} assignment. Is the "
        "deadline firm, or is there a grace period?",
    ),
    (
        "Confused by the example in unit {w}",
        "In the worked example of unit {w}, where does the 0.8 in the second step come from? "
        "I followed everything up to there.",
    ),
    (
        "Introductions: hello from a new learner",
        "Hi all, I joined late and I'm catching up on the first weeks. I work in a clinic "
        "and want to read studies with more confidence. Any tips on where to start?",
    ),
)
#: A peer's reply to each topic, in the same order.
REPLIES = (
    "I think the key uses the mean by mistake: I also got 4.5 for the median.",
    "The link works for me from the Resources page of the course menu, also on my phone.",
    "Thanks for sharing! On sampling bias: the second video of the week has a good example.",
    "Last week the team said late work counts if you post in the week's thread first.",
    "I think the 0.8 is the share from the table in the step before, rounded.",
    "Welcome! The week 1 discussion has a good list of starting points.",
)
FIRST_NAMES = (
    "María", "Wei", "Amara", "Lukas", "Priya", "Diego", "Yuki", "Fatima", "Olu", "Sofia",
    "Mateo", "Aisha", "Jonas", "Mei", "Kwame", "Elena", "Ravi", "Chloé", "Tomás", "Hana",
)  # fmt: skip
LAST_NAMES = (
    "López", "Zhang", "Okafor", "Becker", "Sharma", "Fernández", "Tanaka", "Haddad", "Adeyemi",
    "Rossi", "Silva", "Khan", "Nilsson", "Chen", "Mensah", "Popescu", "Iyer", "Martin",
    "Novak", "Kim",
)  # fmt: skip
_ASCII = str.maketrans("áéíóúñçü", "aeiouncu")


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


def _people(seed: int, learners: int) -> list[Actor]:
    """Names and usernames, drawn apart from the course's own draws (which they leave as
    they were): learner i is ``Actor(user_id="learner-<i>", username=..., name=...)``."""
    rng = random.Random(seed * 1_000_003 + 17)
    out = []
    for i in range(learners):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{first}.{last}{i}".lower().translate(_ASCII)
        out.append(Actor(user_id=f"learner-{i:03d}", username=username, name=f"{first} {last}"))
    return out


def generate_course(seed: int = 1) -> Course:
    rng = random.Random(seed)
    end = START + timedelta(weeks=WEEKS)
    course = Course()
    people = {actor.user_id: actor for actor in _people(seed, ENROLLED)}
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
                actor=people[learner],
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
    _posts(rng, course, joined, last_week, offsets, end, people)
    course.events.sort(key=lambda e: (e.occurred_at, e.event_id))
    return course


def _posts(
    rng: random.Random,
    course: Course,
    joined: dict[str, datetime],
    last_week: dict[str, int],
    offsets: dict[str, float],
    end: datetime,
    people: dict[str, Actor],
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
        topic = rng.randrange(len(TOPICS))  # one draw, as when it was a choice of titles
        title, body = (text.format(w=week + 1) for text in TOPICS[topic])
        _post(course, thread, thread, people[author], at, None, title, "thread", body)
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
                    reply = REPLIES[topic]
                    _post(course, f"{thread}-r1", thread, people[peer], reply_at, thread, "",
                          "response", reply, context=(title, body))  # fmt: skip


def _post(
    course: Course,
    post_id: str,
    thread: str,
    author: Actor,
    at: datetime,
    parent: str | None,
    title: str,
    kind: str,
    body: str,
    context: tuple[str, str] = ("", ""),
) -> None:
    course.posts.append(SimPost(post_id, thread, author.user_id, at, parent))
    course.events.append(
        PostCreated(
            event_id=f"post-{post_id}",
            occurred_at=at,
            course_id=COURSE_ID,
            actor=author,
            post_id=post_id,
            thread_id=thread,
            parent_post_id=parent,
            post_kind=kind,  # type: ignore[arg-type]
            title=title,
            body_excerpt=excerpt(body),
            word_count=word_count(body),
            url=f"https://lms.example.org/courses/{COURSE_ID}/discussion/forum/threads/{thread}",
            thread_title=context[0],
            thread_excerpt=excerpt(context[1]),
        )
    )
