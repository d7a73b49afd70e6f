"""Write a synthetic Open edX tracking log (deterministic) for benchmarks and load tests.

    .venv/bin/python scripts/make_tracking_log.py OUT.log[.gz] --lines 1000000 [--seed 1]

The mix resembles a course's log: mostly video, page views, problems and navigation, a few
percent forum activity (threads, responses, comments, votes, views) by learners and tutors,
enrollments, some unknown event types and lines with a logger prefix. Records follow the
documented LMS shape (``event_type``/``event``/``context``; browser events carry ``event``
as a JSON string). Not a copy of any real log.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

COURSE = "course-v1:DemoOrg+FAC101+2024_T1"
HOST = "https://lms.example.org"


class _Course:
    def __init__(self, rng: random.Random, learners: int) -> None:
        self.rng = rng
        self.learners = [(1000 + i, f"learner{i}") for i in range(learners)]
        self.tutors = [(50 + i, f"tutor{i}") for i in range(max(1, learners // 50))]
        self.threads: list[str] = []
        self.responses: list[tuple[str, str]] = []
        self.posts = 0
        self.now = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)

    def _post_id(self) -> str:
        self.posts += 1
        return f"65f{self.posts:021x}"

    def record(self) -> dict[str, Any]:
        rng = self.rng
        self.now += timedelta(microseconds=rng.randint(1, 400_000))
        tutor = rng.random() < 0.05
        user_id, username = rng.choice(self.tutors if tutor else self.learners)
        roll = rng.random()
        block = f"block-v1:DemoOrg+FAC101+2024_T1+type@video+block@{rng.randrange(40):032x}"
        page = f"{HOST}/courses/{COURSE}/courseware/week{rng.randrange(8)}/"
        base: dict[str, Any] = {
            "username": username,
            "ip": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
            "agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0",
            "host": "lms.example.org",
            "session": f"{rng.getrandbits(128):032x}",
            "time": self.now.isoformat(),
            "accept_language": "en-GB,en;q=0.9",
            "referer": page,
            "page": page,
            "context": {
                "user_id": user_id,
                "org_id": "DemoOrg",
                "course_id": COURSE,
                "path": "/event",
                "course_user_tags": {},
            },
        }
        if roll < 0.38:
            action = rng.choice(("play_video", "pause_video", "seek_video", "load_video"))
            payload = {"id": block[-32:], "code": "html5", "currentTime": rng.random() * 600}
            return {**base, "event_type": action, "event_source": "browser",
                    "event": json.dumps(payload)}
        if roll < 0.58:
            path = f"/courses/{COURSE}/courseware/week{rng.randrange(8)}/unit{rng.randrange(9)}/"
            base["context"]["path"] = path
            return {**base, "event_type": path, "event_source": "server",
                    "event": json.dumps({"GET": {}, "POST": {}})}
        if roll < 0.73:
            problem = f"block-v1:DemoOrg+FAC101+2024_T1+type@problem+block@{rng.randrange(60):x}"
            return {**base, "event_type": "problem_check", "event_source": "server",
                    "event": {"problem_id": problem, "grade": rng.randint(0, 1),
                              "max_grade": 1, "attempts": rng.randint(1, 3),
                              "success": rng.choice(("correct", "incorrect"))}}
        if roll < 0.85:
            return {**base, "event_type": rng.choice(("seq_next", "seq_goto", "seq_prev")),
                    "event_source": "browser",
                    "event": json.dumps({"old": 1, "new": 2, "id": block})}
        if roll < 0.93:
            return {**base, **self._forum(tutor)}
        if roll < 0.95:
            return {**base, "event_type": "edx.course.enrollment.activated",
                    "event_source": "server",
                    "event": {"course_id": COURSE, "user_id": user_id, "mode": "audit"}}
        return {**base, "event_type": rng.choice(("edx.bi.user.dashboard", "book")),
                "event_source": "browser", "event": "{}"}

    def _forum(self, tutor: bool) -> dict[str, Any]:
        rng = self.rng
        roles = {"user_forums_roles": ["Community TA" if tutor else "Student"],
                 "user_course_roles": []}
        kind = rng.random()
        if kind < 0.2 or not self.threads:
            post = self._post_id()
            self.threads.append(post)
            body = " ".join(rng.choice(("why", "does", "the", "proof", "hold", "step"))
                            for _ in range(rng.randint(5, 80)))
            event = {"id": post, "title": f"Question {post[-4:]}", "body": f"<p>{body}</p>",
                     "thread_type": rng.choice(("question", "discussion")),
                     "commentable_id": "course", "anonymous": rng.random() < 0.05,
                     "anonymous_to_peers": False, **roles}
            return {"event_type": "edx.forum.thread.created", "event_source": "server",
                    "event": event}
        thread = rng.choice(self.threads[-200:])
        if kind < 0.45:
            post = self._post_id()
            self.responses.append((post, thread))
            return {"event_type": "edx.forum.response.created", "event_source": "server",
                    "event": {"id": post, "discussion": {"id": thread},
                              "body": "<p>Try the base case first.</p>", **roles}}
        if kind < 0.6 and self.responses:
            parent, of = rng.choice(self.responses[-200:])
            return {"event_type": "edx.forum.comment.created", "event_source": "server",
                    "event": {"id": self._post_id(), "discussion": {"id": of},
                              "response": {"id": parent}, "body": "Thanks!", **roles}}
        if kind < 0.75:
            return {"event_type": "edx.forum.thread.voted", "event_source": "server",
                    "event": {"id": thread, "vote_value": "up", "undo_vote": False, **roles}}
        return {"event_type": "edx.forum.thread.viewed", "event_source": "server",
                "event": {"id": thread, "title": "Question", **roles}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--learners", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    course = _Course(random.Random(args.seed), args.learners)
    opener = gzip.open if args.out.endswith(".gz") else open
    with opener(args.out, "wt", encoding="utf-8") as out:
        for n in range(args.lines):
            line = json.dumps(course.record(), separators=(",", ":"))
            if n % 10 == 0:  # some deployments log through Python logging: a prefix
                line = f"2024-03-04 08:00:00,000 INFO 17 [tracking] logger.py:41 - {line}"
            out.write(line + "\n")


if __name__ == "__main__":
    main()
