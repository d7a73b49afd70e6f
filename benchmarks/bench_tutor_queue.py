"""What a tutor page request costs on a queue of 500 nudges, past the Redis reads: the
triage (respond-by times, filters, counts, sort) and showing one page of 25, next to the
same-run baseline of what the page used to get — every nudge as a dict, unfiltered."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from facilitation_rules.routing.nudges import Nudge, NudgeItem
from facilitation_rules.routing.roster import load_roster
from facilitation_rules.routing.triage import Filters, counts, is_overdue, ordered, respond_by
from facilitation_stream.delivery.tutor_inputs import present

ROSTER = load_roster(
    Path(__file__).parents[1] / "rules/facilitation_rules/packs/roster.example.yaml"
)
NOW = datetime(2025, 3, 5, 13, tzinfo=UTC)
RULES = ("unanswered_post", "silent_learner.went_quiet", "dropout_risk", "unanswered_post.warning")


def queue(size: int) -> list[Nudge]:
    out = []
    for i in range(size):
        at = (NOW - timedelta(minutes=37 * i)).isoformat()
        item = NudgeItem(
            alert_id=f"a{i}", rule=RULES[i % 4], kind=RULES[i % 4].split(".")[0],
            subject_type="post", subject_id=f"p{i}", fired_at=at, reasons=("no reply for 20 h",),
            title=f"Question {i}", excerpt="I tried twice. " * 20, url=f"https://lms.example/t{i}",
            due_at=at if i % 2 else "",
        )  # fmt: skip
        out.append(Nudge(
            nudge_id=f"n-{i:04d}", course_id=ROSTER.course_id, learner_id=f"L{i}",
            tutor_id="ben", state=("new", "claimed", "snoozed")[i % 3],
            severity=("urgent", "high", "warning", "info")[i % 4], created_at=at, updated_at=at,
            due_at=at, items=(item,), learner_name=f"Learner {i}",
        ))  # fmt: skip
    return out


def triage_page(nudges: list[Nudge], filters: Filters) -> int:
    due = {n.nudge_id: respond_by(n, ROSTER) for n in nudges}
    late = {n.nudge_id for n in nudges if is_overdue(n, ROSTER, NOW)}
    matched = [n for n in nudges if filters.matches(n, n.nudge_id in late)]
    counts(nudges)
    page = ordered(matched, "due", due)[:25]
    return len([present(n, ROSTER, NOW, "https://lms.example.org") for n in page])


def median_ms(fn, runs: int = 30) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    nudges = queue(500)
    baseline = median_ms(lambda: [n.to_dict() for n in nudges])
    whole = median_ms(lambda: triage_page(nudges, Filters()))
    urgent = median_ms(lambda: triage_page(nudges, Filters(severity=frozenset({"urgent"}))))
    print(f"{baseline:6.2f} ms  baseline: 500 nudges as dicts (the page's old, unpaged answer)")
    print(f"{whole:6.2f} ms  triage of 500 + the first page of 25, no filter")
    print(f"{urgent:6.2f} ms  triage of 500 + the first page, severity=urgent")
