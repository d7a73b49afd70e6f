"""`facilitation learners EVENTS... --at ISO8601`: one CSV row per enrolled learner.

Columns: course_id, learner_id, username, enrolled_at, last_active_at, active_days, posts,
replies_received, reflections, risk_score, open_alerts, reasons. Every enrolled learner
appears, including those who never did anything; unenrolled learners do not.
``enrolled_at`` is empty for learners counted as enrolled because they were active (no
enrolment event in the log). ``username`` is the one the log gives (tracking logs carry
usernames, not full names). ``open_alerts`` lists the rules with an alert open for the
learner at ``--at``; ``reasons`` is one line of every distinct reason: the drop-out score's
and those of the open alerts. ``--course`` keeps one course (or a pattern of them).
"""

from __future__ import annotations

import argparse
import csv
import sys

EXIT_USAGE = 2
COLUMNS = (
    "course_id",
    "learner_id",
    "username",
    "enrolled_at",
    "last_active_at",
    "active_days",
    "posts",
    "replies_received",
    "reflections",
    "risk_score",
    "open_alerts",
    "reasons",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    from facilitation_stream.cli.reading import add_event_files, add_reading_options

    parser = subparsers.add_parser(
        "learners",
        help="per-learner engagement, drop-out risk and open alerts at a time, as CSV",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_event_files(parser)
    parser.add_argument(
        "--at",
        required=True,
        metavar="ISO8601",
        help="the time the figures are computed at; later events are ignored (a date alone: "
        "its midnight UTC)",
    )
    parser.add_argument("--rules", metavar="FILE", help="rule pack (default: the shipped pack)")
    parser.add_argument(
        "--course",
        metavar="ID|PATTERN",
        help="only this course, or the courses a glob matches (course-v1:OrgX+*)",
    )
    add_reading_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facilitation_stream.backtest.ordered_input import (
        UsageError,
        check_files,
        course_filter,
        pack_from,
        read_and_replay,
        time_arg,
    )
    from facilitation_stream.backtest.outcomes import learner_rows
    from facilitation_stream.cli.reading import (
        EXIT_UNREADABLE,
        problems_summary,
        reading_options,
        unreadable_exit,
        write_problems,
    )
    from facilitation_stream.ingest.read_stats import ReadStats

    try:
        check_files(args.events)
        pack = pack_from(args.rules)
        at = time_arg(args.at, "--at")
    except UsageError as err:
        print(f"facilitation learners: {err}", file=sys.stderr)
        return EXIT_USAGE
    assert at is not None
    stats = ReadStats()
    result = read_and_replay(
        args.events, args.format, stats, pack, at, reading_options(args), course_filter(args.course)
    )
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = learner_rows(result, at.timestamp(), stats.usernames)
    for row in rows:
        writer.writerow(
            (
                row.course_id,
                row.learner_id,
                row.username,
                row.enrolled_at,
                row.last_active_at,
                row.active_days,
                row.posts,
                row.replies_received,
                row.reflections,
                row.risk_score,
                " ".join(row.open_alerts),
                "; ".join(row.reasons),
            )
        )
    courses = len({row.course_id for row in rows})
    print(
        f"learners: {stats.read:,} records read, {stats.events:,} events, "
        f"{problems_summary(stats)}; {len(rows):,} enrolled learners in {courses:,} course(s)",
        file=sys.stderr,
    )
    write_problems(stats, args, sys.stderr)
    return EXIT_UNREADABLE if unreadable_exit(stats, args) else 0
