"""A generated Open edX tracking log for benchmarks (deterministic, cached on disk).

About 20,000 learners over 90 days, in event-time order, in both record shapes the bridge
reads (``event_type``/``event`` with the payload as a JSON string, and ``name``/``data``):
video and navigation (~60%), problems (~25%), forum views, votes and posts, enrolments.
Learners fade out at random days, so silence and dropout rules have work to do.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "openedx-facilitation"
    / "bench"
)
COURSE = "course-v1:BenchX+B101+2024_T1"
START = datetime(2024, 1, 8, tzinfo=UTC)
AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36"
)


def path_for(lines: int) -> Path:
    return CACHE / f"tracking-{lines}.log"


def ensure(lines: int = 1_000_000, learners: int | None = None, seed: int = 11) -> Path:
    """The cached log of ``lines`` lines, generated on first use."""
    learners = learners or max(lines // 50, 10)
    target = path_for(lines)
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        for record in _records(lines, learners, random.Random(seed)):
            out.write(orjson.dumps(record) + b"\n")
    tmp.rename(target)
    return target


def _records(lines: int, learners: int, rng: random.Random):  # type: ignore[no-untyped-def]
    days = 90
    fade = [rng.expovariate(1 / 40) for _ in range(learners)]  # the day each learner fades
    threads: list[str] = []
    responses: list[tuple[str, str]] = []
    enrolled = 0
    span = days * 86400
    for i in range(lines):
        at = START + timedelta(seconds=span * i / lines + rng.random())
        if enrolled < learners and (i % (lines // learners) == 0):
            user = enrolled
            enrolled += 1
            yield _server(
                at,
                user,
                "edx.course.enrollment.activated",
                {"course_id": COURSE, "user_id": 1000 + user, "mode": "audit"},
            )
            continue
        day = (at - START).days
        user = rng.randrange(max(enrolled, 1))
        while fade[user] < day and rng.random() < 0.9:
            user = rng.randrange(max(enrolled, 1))
        roll = rng.random()
        if roll < 0.45:
            yield _browser(
                at,
                user,
                "play_video" if roll < 0.3 else "pause_video",
                {"id": f"vid{user % 97}", "code": "html5", "currentTime": roll * 300},
            )
        elif roll < 0.60:
            yield _named(
                at,
                user,
                "edx.ui.lms.sequence.next_selected",
                {
                    "current_tab": 1,
                    "tab_count": 5,
                    "id": f"block-v1:BenchX+B101+2024_T1+type@sequential+block@s{day}",
                },
            )
        elif roll < 0.85:
            yield _server(
                at,
                user,
                "problem_check",
                {
                    "problem_id": f"block-v1:BenchX+B101+2024_T1+type@problem+block@p{roll:.3f}",
                    "attempts": 1,
                    "success": "correct",
                    "grade": 1,
                    "max_grade": 1,
                },
            )
        elif roll < 0.95 and threads:
            yield _named(
                at,
                user,
                "edx.forum.thread.viewed",
                {
                    "id": rng.choice(threads),
                    "commentable_id": "c1",
                    "user_forums_roles": ["Student"],
                },
            )
        elif roll < 0.965 and threads:
            yield _named(
                at,
                user,
                "edx.forum.thread.voted",
                {
                    "id": rng.choice(threads),
                    "undo_vote": False,
                    "vote_value": "up",
                    "commentable_id": "c1",
                    "user_forums_roles": ["Student"],
                },
            )
        elif roll < 0.98 or not threads:
            tid = f"{i:024x}"
            threads.append(tid)
            yield _named(
                at,
                user,
                "edx.forum.thread.created",
                {
                    "id": tid,
                    "commentable_id": "c1",
                    "thread_type": "question" if roll < 0.97 else "discussion",
                    "title": f"A question about week {day // 7}",
                    "body": "Some words " * 20,
                    "anonymous": False,
                    "anonymous_to_peers": False,
                    "user_forums_roles": ["Student"],
                    "user_course_roles": [],
                },
            )
        elif roll < 0.993 or not responses:
            tid, rid = rng.choice(threads), f"{i:024x}"
            responses.append((tid, rid))
            yield _named(
                at,
                user,
                "edx.forum.response.created",
                {
                    "id": rid,
                    "commentable_id": "c1",
                    "discussion": {"id": tid},
                    "body": "An answer " * 15,
                    "user_forums_roles": ["Student"],
                    "user_course_roles": [],
                },
            )
        else:
            tid, rid = rng.choice(responses)
            yield _named(
                at,
                user,
                "edx.forum.comment.created",
                {
                    "id": f"{i:024x}",
                    "commentable_id": "c1",
                    "discussion": {"id": tid},
                    "response": {"id": rid},
                    "body": "Thanks " * 5,
                    "user_forums_roles": ["Student"],
                    "user_course_roles": [],
                },
            )


def _context(user: int, path: str) -> dict[str, object]:
    return {"course_id": COURSE, "org_id": "BenchX", "user_id": 1000 + user, "path": path}


def _browser(at: datetime, user: int, name: str, data: dict[str, object]) -> dict[str, object]:
    return {
        "username": f"learner{user}",
        "event_type": name,
        "ip": "10.0.0.1",
        "agent": AGENT,
        "host": "lms.example.org",
        "referer": f"https://lms.example.org/courses/{COURSE}/courseware/",
        "accept_language": "en",
        "event": orjson.dumps(data).decode(),
        "event_source": "browser",
        "context": _context(user, "/event"),
        "time": at.isoformat(),
        "page": None,
    }


def _server(at: datetime, user: int, name: str, data: dict[str, object]) -> dict[str, object]:
    return {
        "username": f"learner{user}",
        "event_type": name,
        "ip": "10.0.0.1",
        "agent": AGENT,
        "host": "lms.example.org",
        "referer": "",
        "accept_language": "en",
        "event": data,
        "event_source": "server",
        "context": _context(user, f"/courses/{COURSE}/xblock/handler"),
        "time": at.isoformat(),
        "page": None,
    }


def _named(at: datetime, user: int, name: str, data: dict[str, object]) -> dict[str, object]:
    ctx = _context(user, "/api/discussion/v1/threads/")
    ctx.update(
        {"username": f"learner{user}", "ip": "10.0.0.1", "agent": AGENT, "host": "lms.example.org"}
    )
    return {"name": name, "timestamp": at.isoformat(), "data": data, "context": ctx}
