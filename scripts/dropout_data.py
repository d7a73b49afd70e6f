"""Input of scripts/derive_dropout_weights.py: daily activity and drop-out labels.

Readers for the two input shapes (your own daily-activity CSV, and the KDD Cup 2015
per-course files), and the conversion of daily activity into contract events so that the
product CLI (``facilitation learners``) can be checked on the same data.
"""

from __future__ import annotations

import csv
import glob
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from dropout_extras import Mix, csv_mix, kdd_mix

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import (
    ActivityRecorded,
    Actor,
    EnrollmentActivated,
    Event,
    PostCreated,
    ReflectionSubmitted,
)

DAY = 86400
EPOCH = date(1970, 1, 1).toordinal()

# (course, learner) -> day number -> (events, posts, reflections, replies received)
Daily = dict[tuple[str, str], dict[int, tuple[int, int, int, int]]]
Labels = dict[tuple[str, str], int]


def day_number(text: str) -> int:
    return date.fromisoformat(text).toordinal() - EPOCH


def read_daily(path: str, mix: Mix | None = None) -> Daily:
    """The daily-activity CSV; ``mix`` gets its problems/videos/page_views, where given."""
    data: Daily = defaultdict(dict)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key, day = (row["course"], row["learner"]), day_number(row["date"])
            data[key][day] = (
                int(row.get("events") or 0),
                int(row.get("posts") or 0),
                int(row.get("reflections") or 0),
                int(row.get("replies_received") or 0),
            )
            if mix is not None:
                mix.setdefault(key, {})[day] = csv_mix(row)
    return data


def read_labels(path: str) -> Labels:
    with open(path, newline="", encoding="utf-8") as handle:
        return {(r["course"], r["learner"]): int(r["dropped"]) for r in csv.DictReader(handle)}


def read_kdd(
    folder: str, exclude: Iterable[str], mix: Mix | None = None,
    starts: dict[str, int] | None = None,
) -> tuple[Daily, Labels, dict[str, int]]:
    """The per-course KDD Cup 2015 files: activity, labels, and each course's cut-off day.

    Every enrolment has a row for every day of its course's window (zeros included), so
    the cut-off is the day after the last date in the file (and ``starts`` gets the first).
    Discussion events there are forum page views, not posts: they count as activity only.
    ``mix`` gets each active day's problem, video and page-view events.
    """
    skip = set(exclude)
    data: Daily = {}
    cutoffs: dict[str, int] = {}
    for path in sorted(glob.glob(os.path.join(folder, "trainCourse*.csv"))):
        course = re.sub(r"^trainCourse|\.csv$", "", os.path.basename(path))
        if course in skip:
            continue
        first, last = 1 << 30, -1
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                day = day_number(row["time"])
                first, last = min(first, day), max(last, day)
                events = sum(int(v or 0) for k, v in row.items() if k.startswith("event_"))
                key = (course, row["enrollment_id"])
                days = data.setdefault(key, {})
                if events:
                    days[day] = (events, 0, 0, 0)
                    if mix is not None:
                        mix.setdefault(key, {})[day] = kdd_mix(row)
        cutoffs[course] = last + 1
        if starts is not None:
            starts[course] = first
    labels: Labels = {}
    by_learner = {learner: course for course, learner in data}
    for path in sorted(glob.glob(os.path.join(folder, "truth*.csv"))):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if len(row) >= 2 and row[0] in by_learner and row[1].strip().isdigit():
                    labels[(by_learner[row[0]], row[0])] = int(row[1])
    return data, labels, cutoffs


def natural(text: str) -> tuple[int, str]:
    digits = re.match(r"\d+", text)
    return (int(digits.group()) if digits else 0, text)


def emit_events(daily: Daily, cutoffs: Mapping[str, list[int]], labels: Labels | None,
                horizon: int, out: str) -> list[str]:
    """Each course's activity as contract events in ``out/<course>.jsonl`` (an enrolment at
    the course's first day, then per active day at noon UTC: one ActivityRecorded, one
    thread per post, one reflection per reflection; replies received are not emitted) and
    ``out/labels.csv``. Returns one line per course with the ``--at`` to use."""
    os.makedirs(out, exist_ok=True)
    courses: dict[str, list[str]] = defaultdict(list)
    for course, learner in daily:
        courses[course].append(learner)
    lines = []
    with open(os.path.join(out, "labels.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("course", "learner", "dropped"))
        for course, learners in sorted(courses.items()):
            cut = min(cutoffs.get(course, ()), default=None)
            if cut is None:
                continue
            start = min((d for ln in learners for d in daily[(course, ln)]), default=cut)
            name = re.sub(r"[^\w.+-]", "_", course)
            with open(os.path.join(out, f"{name}.jsonl"), "w", encoding="utf-8") as events:
                for learner in sorted(learners, key=natural):
                    days = daily[(course, learner)]
                    for event in _events(course, learner, start, days):
                        events.write(dumps(event) + "\n")
                    if labels is not None:
                        label = labels.get((course, learner))
                    else:
                        label = int(not any(cut <= d < cut + horizon for d in days))
                    if label is not None and any(d < cut for d in days):
                        writer.writerow((course, learner, label))
            at = datetime.fromtimestamp(cut * DAY, UTC).isoformat().replace("+00:00", "Z")
            lines.append(f"{out}/{name}.jsonl --at {at}")
    return lines


def _events(course: str, learner: str, start: int,
            days: Mapping[int, tuple[int, int, int, int]]) -> Iterable[Event]:
    actor = Actor(user_id=learner)
    base = {"course_id": course, "actor": actor}
    yield EnrollmentActivated(event_id=f"enrol-{course}-{learner}",
                              occurred_at=_noon(start, -12), learner_id=learner, **base)
    for day, (events, posts, reflections, _) in sorted(days.items()):
        tag = f"{course}-{learner}-{day}"
        if events > 0:
            yield ActivityRecorded(event_id=f"act-{tag}", occurred_at=_noon(day),
                                   learner_id=learner, **base)
        for n in range(posts):
            yield PostCreated(event_id=f"post-{tag}-{n}", occurred_at=_noon(day, n / 60),
                              post_id=f"p-{tag}-{n}", thread_id=f"p-{tag}-{n}", **base)
        for n in range(reflections):
            yield ReflectionSubmitted(event_id=f"refl-{tag}-{n}", occurred_at=_noon(day, n / 60),
                                      reflection_id=f"r-{tag}-{n}", prompt_id="daily", **base)


def _noon(day: int, hours: float = 0.0) -> datetime:
    return datetime.fromtimestamp((day + 0.5) * DAY + hours * 3600, UTC)
