"""A small LMS-wide log of two courses, and rule packs that differ in their SLA: the shared
fixture of the course-team tests (per-course results, comparison, report, browser)."""

from __future__ import annotations

import json
from pathlib import Path

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Role
from facilitation_rules.packs.loader import default_pack_text
from tests.unit.event_factory import activity, enrolled, response, thread

A = "course-v1:OrgA+A101+2024"
B = "course-v1:OrgB+B201+2024"
DEFAULT = default_pack_text()
#: Learners' threads and the hour a tutor answers each (None: never): answered within 6 h,
#: between 6 h and 24 h (only a 6-hour SLA breaches), and after 24 h or never (both do).
ANSWERS = {"t1": 2.0, "t2": 10.0, "t3": 20.0, "t4": 30.0, "t5": None}


def pack_text(name: str, sla: int = 24, question_sla: int = 12, applies_to: str = "all") -> str:
    return (
        DEFAULT.replace("name: default", f"name: {name}")
        .replace("    sla_hours: 24 ", f"    sla_hours: {sla} ")
        .replace("    question_sla_hours: 12", f"    question_sla_hours: {question_sla}")
        .replace("applies_to: all ", f"applies_to: {applies_to} ")
    )


def write_two_courses(path: Path, title: str = "") -> Path:
    """Five learners' threads per course, answered by the course's tutor as ``ANSWERS`` says
    (thread ids ``at1``... and ``bt1``...); ``title`` replaces the title of at5."""
    events = []
    for course, prefix in ((A, "a"), (B, "b")):
        for i, (post, answer) in enumerate(ANSWERS.items()):
            learner = f"{prefix}-learner{i}"
            events += [
                enrolled(0, learner, course),
                thread(1, learner, prefix + post, course=course),
            ]
            if answer is not None:
                tutor = f"{prefix}-tutor"
                events.append(response(1 + answer, tutor, f"{prefix}r{i}", prefix + post,
                                       role=Role.TUTOR, course=course))  # fmt: skip
        events.append(activity(200, f"{prefix}-learner0", course))
    lines = [dumps(e) for e in sorted(events, key=lambda e: e.occurred_at)]
    if title:
        lines = [line.replace('"title at5"', json.dumps(title), 1) for line in lines]
    path.write_text("".join(line + "\n" for line in lines))
    return path
