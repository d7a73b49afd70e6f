"""`facilitation learners EVENTS... --at ISO8601`: one CSV row per enrolled learner.

Columns: course_id, learner_id, enrolled_at, last_active_at, active_days, posts,
replies_received, reflections, risk_score, risk_reasons. Every enrolled learner appears,
including those who never did anything; unenrolled learners do not. ``enrolled_at`` is empty
for learners counted as enrolled because they were active (no enrolment event in the log).
"""

from __future__ import annotations

import argparse
import csv
import sys

EXIT_USAGE = 2
COLUMNS = (
    "course_id",
    "learner_id",
    "enrolled_at",
    "last_active_at",
    "active_days",
    "posts",
    "replies_received",
    "reflections",
    "risk_score",
    "risk_reasons",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "learners", help="per-learner engagement and dropout risk at a time, as CSV"
    )
    parser.add_argument("events", nargs="+", metavar="EVENTS")
    parser.add_argument(
        "--at",
        required=True,
        metavar="ISO8601",
        help="the time the figures are computed at (later events are ignored)",
    )
    parser.add_argument("--rules", metavar="FILE", help="rule pack (default: the shipped pack)")
    parser.add_argument("--format", choices=("auto", "contract", "tracking-log"), default="auto")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facilitation_rules.contract.codec import format_time
    from facilitation_rules.engine.detectors.emit import utc
    from facilitation_rules.engine.detectors.learners import enrolled, risk_now
    from facilitation_rules.state import LearnerState
    from facilitation_stream.backtest.ordered_input import (
        UsageError,
        check_files,
        pack_from,
        read_and_replay,
        time_arg,
    )
    from facilitation_stream.ingest.event_files import ReadStats

    try:
        check_files(args.events)
        pack = pack_from(args.rules)
        at = time_arg(args.at, "--at")
    except UsageError as err:
        print(f"facilitation learners: {err}", file=sys.stderr)
        return EXIT_USAGE
    assert at is not None
    stats = ReadStats()
    result = read_and_replay(args.events, args.format, stats, pack, at)
    replayer, now = result.replayer, at.timestamp()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    for key in sorted(k for k in replayer.states if k[0] == "L"):
        state: LearnerState = replayer.states[key]
        rules = replayer.rules_for(state.course_id)
        if rules is None or not enrolled(state, rules):
            continue
        score, reasons = risk_now(state, now, rules, replayer.cohort(state.course_id))
        writer.writerow(
            (
                state.course_id,
                state.learner_id,
                format_time(utc(state.enrolled_at)) if state.enrolled_at is not None else "",
                format_time(utc(state.last_active)) if state.active else "",
                len(state.days),
                state.posts,
                state.replies_received,
                state.reflections,
                f"{score:.3f}" if rules.dropout.weights else "",
                "; ".join(reasons) if rules.dropout.weights else "",
            )
        )
        rows += 1
    print(
        f"learners: {stats.read:,} records read, {stats.events:,} events, "
        f"{len(stats.malformed):,} malformed; {rows:,} enrolled learners",
        file=sys.stderr,
    )
    for bad in stats.malformed:
        print(bad, file=sys.stderr)
    return 0
