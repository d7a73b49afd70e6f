"""`facilitation replay EVENTS...`: backtest a rule pack on event files.

stdout: the alerts (JSON lines by default, sorted by fired_at, alert_id, fire before
resolve); byte-identical for the same input. stderr: a summary (records, data quality,
alerts by course and rule, warnings), then, with ``--compare``, what changes with the other
pack per course and rule. Exit 0 even when malformed lines were skipped (1 with
``--strict``), 2 for unusable arguments, 3 when a file is cut short (unless
``--allow-truncated``).

A log of a whole LMS holds many courses: every figure is given per course, ``--course``
keeps one (or a pattern of them), and a pack or a roster applies only to the courses it
names (the summary says which courses that leaves out).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from facilitation_rules.contract.alerts import Alert
    from facilitation_rules.packs.loader import Pack
    from facilitation_stream.backtest.ordered_input import ReplayRun
    from facilitation_stream.ingest.read_stats import ReadStats

EXIT_STRICT = 1
EXIT_USAGE = 2
_COURSES_NAMED = 8


def register(subparsers: argparse._SubParsersAction) -> None:
    from facilitation_stream.cli.reading import add_event_files, add_reading_options

    parser = subparsers.add_parser(
        "replay",
        help="run the rules over event files (backtest): alerts on stdout, summary on stderr",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_event_files(parser)
    parser.add_argument("--rules", metavar="FILE", help="rule pack (default: the shipped pack)")
    parser.add_argument(
        "--compare",
        metavar="FILE",
        help="a second rule pack ('default' for the shipped one): what changes, per course and "
        "rule, on stderr and in the report",
    )
    parser.add_argument(
        "--course",
        metavar="ID|PATTERN",
        help="replay only this course, or the courses a glob matches (course-v1:OrgX+*)",
    )
    parser.add_argument(
        "--until",
        metavar="ISO8601",
        help="advance the clock to this time (a date alone: its midnight UTC; default: the "
        "last event's time)",
    )
    parser.add_argument(
        "--output",
        choices=("jsonl", "table", "html"),
        default="jsonl",
        help="stdout format: alerts as JSON lines, a table to read, or the HTML report",
    )
    parser.add_argument("--report", metavar="FILE", help="also write the HTML report to FILE")
    parser.add_argument(
        "--roster",
        metavar="FILE",
        help="a course's tutor roster (or a list of tutor ids) for the per-tutor load",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 if any line was malformed or too long"
    )
    add_reading_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facilitation_stream.backtest.ordered_input import (
        UsageError,
        check_files,
        course_filter,
        pack_from,
        read_and_compare,
        time_arg,
    )
    from facilitation_stream.cli.reading import EXIT_UNREADABLE, reading_options, unreadable_exit
    from facilitation_stream.ingest.read_stats import MALFORMED, TOO_LONG, ReadStats

    try:
        check_files(args.events)
        pack = pack_from(args.rules)
        packs = [pack]
        if args.compare:
            packs.append(pack_from(None if args.compare == "default" else args.compare))
        until = time_arg(args.until, "--until")
        roster = _roster(args.roster) if args.roster else None
    except UsageError as err:
        print(f"facilitation replay: {err}", file=sys.stderr)
        return EXIT_USAGE
    stats = ReadStats()
    options = reading_options(args)
    runs = read_and_compare(
        args.events, args.format, stats, packs, until, options, course_filter(args.course)
    )
    result = runs[0]
    out = sys.stdout
    if args.output == "jsonl":
        write_jsonl(result.alerts, out)
    elif args.output == "table":
        write_table(result.alerts, out)
    if args.output == "html" or args.report:
        from facilitation_stream.backtest.report_html import ReportInput, render_report

        sources = (args.rules or "the default pack", _compared(args.compare))
        html = render_report(
            ReportInput(
                result, stats, roster, runs[1] if len(runs) > 1 else None, sources,
                len(args.events),
            )
        )  # fmt: skip
        if args.output == "html":
            out.write(html)
        if args.report:
            with open(args.report, "w", encoding="utf-8") as handle:
                handle.write(html)
    out.flush()
    summary(stats, result, args, sys.stderr)
    warnings(result, runs[1:], roster, args, sys.stderr)
    if len(runs) > 1:
        from facilitation_stream.backtest.comparison import compare, write_comparison

        write_comparison(compare(result, runs[1]), sys.stderr)
    if unreadable_exit(stats, args):
        return EXIT_UNREADABLE
    strict = stats.problems[MALFORMED] + stats.problems[TOO_LONG]
    return EXIT_STRICT if args.strict and strict else 0


def _compared(compare: str | None) -> str:
    return "the default pack" if compare in (None, "default") else str(compare)


def _roster(path: str) -> object:
    from facilitation_stream.backtest.ordered_input import UsageError
    from facilitation_stream.backtest.report_html import load_roster

    try:
        return load_roster(path)
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot use roster {path}: {err}") from None


def write_jsonl(alerts: list[Alert], out: TextIO) -> None:
    from facilitation_rules.contract.alerts import alert_to_dict

    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode
    out.writelines(dumps(alert_to_dict(alert)) + "\n" for alert in alerts)


def write_table(alerts: list[Alert], out: TextIO) -> None:
    from facilitation_rules.contract.codec import format_time

    rows = [("FIRED_AT", "ACTION", "COURSE", "RULE", "SEVERITY", "SUBJECT", "LEARNER", "REASON")]
    rows += [
        (
            format_time(a.fired_at),
            a.action,
            a.course_id,
            a.rule,
            a.severity,
            f"{a.subject_type}:{a.subject_id}",
            a.learner_id,
            a.reasons[0] if a.reasons else "",
        )
        for a in alerts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(7)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:7], widths, strict=True)]
        out.write("  ".join([*cells, row[7]]) + "\n")


def summary(stats: ReadStats, result: ReplayRun, args: argparse.Namespace, err: TextIO) -> None:
    from facilitation_stream.cli.reading import problems_summary, write_problems

    unknown = sum(stats.unknown.values())
    err.write(
        f"replay: {len(args.events)} file(s), {stats.read:,} records read, "
        f"{stats.events:,} events, {stats.skipped():,} skipped ({unknown:,} of unknown types, "
        f"{stats.ignored:,} ignored, {problems_summary(stats)})\n"
    )
    if result.outside_pack or result.after_until or result.outside_filter:
        err.write(
            f"replay: {result.fed:,} events applied; {result.outside_pack:,} for courses the "
            f"pack does not apply to, {result.outside_filter:,} for courses --course leaves "
            f"out, {result.after_until:,} after --until (not applied)\n"
        )
    if stats.unknown:
        counts = ", ".join(f"{name} x{n:,}" for name, n in stats.unknown.most_common(10))
        more = f" (+{len(stats.unknown) - 10} more types)" if len(stats.unknown) > 10 else ""
        err.write(f"unknown event types: {counts}{more}\n")
    write_problems(stats, args, err)
    _alert_counts(result.alerts, err)


def _alert_counts(alerts: list[Alert], err: TextIO) -> None:
    fired = Counter((a.course_id, a.rule) for a in alerts if a.action == "fire")
    resolved = Counter((a.course_id, a.rule) for a in alerts if a.action == "resolve")
    if not fired:
        err.write("alerts: none\n")
        return
    courses = sorted({course for course, _ in fired | resolved})
    if len(courses) > 1:
        err.write("alerts by course and rule (fired / resolved):\n")
        for course in courses:
            err.write(f"  {course}\n")
            for c, rule in sorted(k for k in fired | resolved if k[0] == course):
                err.write(f"    {rule:<30} {fired[c, rule]:>7,} / {resolved[c, rule]:,}\n")
    total_fired = Counter(rule for _, rule in fired.elements())
    total_resolved = Counter(rule for _, rule in resolved.elements())
    heading = "all courses" if len(courses) > 1 else courses[0]
    err.write(f"alerts by rule, {heading} (fired / resolved):\n")
    for rule in sorted(total_fired | total_resolved):
        err.write(f"  {rule:<30} {total_fired[rule]:>7,} / {total_resolved[rule]:,}\n")


def _named(counts: Counter[str]) -> str:
    shown = ", ".join(f"{c} ({n:,} events)" for c, n in counts.most_common(_COURSES_NAMED))
    more = len(counts) - _COURSES_NAMED
    return shown + (f" and {more:,} more" if more > 0 else "")


def warnings(
    result: ReplayRun, others: list[ReplayRun], roster: Any, args: argparse.Namespace, err: TextIO
) -> None:
    """What a course lead must know to read the figures right: courses left out, a roster
    for another course, ``when:`` filters that failed to evaluate."""
    from facilitation_stream.backtest.outcomes import courses_of

    pack = result.pack
    assert pack is not None
    replayed = courses_of(result)
    if result.skipped_courses:
        why = f"the pack applies to {_target(pack)}" if result.outside_pack else "--course"
        err.write(
            f"warning: {len(result.skipped_courses):,} course(s) in the log not replayed "
            f"({why}): {_named(result.skipped_courses)}\n"
        )
    if args.course and not replayed:
        err.write(f"warning: --course {args.course} matches no course replayed\n")
    named = getattr(roster, "course_id", None) if roster is not None else None
    if roster is not None and named is None and len(replayed) > 1:
        err.write(
            f"warning: the roster names no course: its tutors take the alerts of all "
            f"{len(replayed)} courses in the per-tutor load\n"
        )
    elif named is not None and named not in replayed:
        err.write(f"warning: the roster is for {named}, which has no events here\n")
    elif named is not None and len(replayed) > 1:
        err.write(
            f"warning: the roster is for {named}: the per-tutor load covers that course only, "
            f"not the {len(replayed) - 1} other(s)\n"
        )
    for run in [result, *others]:
        assert run.pack is not None
        for condition in run.pack.conditions():
            if condition.errors:
                err.write(
                    f"warning: pack {run.pack.name!r}, {condition.label}: {condition.errors:,} "
                    f"evaluation(s) failed ({condition.last_error}) and counted as no match: "
                    "fix the filter, the rule is partly off\n"
                )


def _target(pack: Pack) -> str:
    target = pack.applies_to
    if target == "all":
        return "all courses"
    assert isinstance(target, dict)
    return ", ".join(f"{key} {value}" for key, value in target.items())
