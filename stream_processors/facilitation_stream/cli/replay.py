"""`facilitation replay EVENTS...`: backtest a rule pack on event files.

stdout: the alerts (JSON lines by default, sorted by fired_at, alert_id, fire before
resolve); byte-identical for the same input. stderr: a summary. Exit 0 even when malformed
lines were skipped (1 with ``--strict``), 2 for unusable arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from facilitation_rules.contract.alerts import Alert
    from facilitation_stream.backtest.ordered_input import ReplayRun
    from facilitation_stream.ingest.event_files import ReadStats

EXIT_STRICT = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="run the rules over event files (backtest): alerts on stdout, summary on stderr",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "events",
        nargs="+",
        metavar="EVENTS",
        help="contract JSON lines or Open edX tracking logs, plain or .gz",
    )
    parser.add_argument("--rules", metavar="FILE", help="rule pack (default: the shipped pack)")
    parser.add_argument(
        "--until",
        metavar="ISO8601",
        help="advance the clock to this time (default: the last event's time)",
    )
    parser.add_argument("--format", choices=("auto", "contract", "tracking-log"), default="auto")
    parser.add_argument(
        "--output",
        choices=("jsonl", "table", "html"),
        default="jsonl",
        help="stdout format (html: the report)",
    )
    parser.add_argument("--report", metavar="FILE", help="also write an offline HTML report")
    parser.add_argument(
        "--roster", metavar="FILE", help="roster for the per-tutor load in the report"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if any line was malformed")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
        until = time_arg(args.until, "--until")
        roster = _roster(args.roster) if args.roster else None
    except UsageError as err:
        print(f"facilitation replay: {err}", file=sys.stderr)
        return EXIT_USAGE
    stats = ReadStats()
    result = read_and_replay(args.events, args.format, stats, pack, until)
    out = sys.stdout
    if args.output == "jsonl":
        write_jsonl(result.alerts, out)
    elif args.output == "table":
        write_table(result.alerts, out)
    if args.output == "html" or args.report:
        from facilitation_stream.backtest.report_html import render_report

        html = render_report(result, pack, roster)
        if args.output == "html":
            out.write(html)
        if args.report:
            with open(args.report, "w", encoding="utf-8") as handle:
                handle.write(html)
    out.flush()
    summary(stats, result, len(args.events), sys.stderr)
    return EXIT_STRICT if args.strict and stats.malformed else 0


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

    rows = [("FIRED_AT", "ACTION", "RULE", "SEVERITY", "SUBJECT", "LEARNER", "REASON")]
    rows += [
        (
            format_time(a.fired_at),
            a.action,
            a.rule,
            a.severity,
            f"{a.subject_type}:{a.subject_id}",
            a.learner_id,
            a.reasons[0] if a.reasons else "",
        )
        for a in alerts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:6], widths, strict=True)]
        out.write("  ".join([*cells, row[6]]) + "\n")


def summary(stats: ReadStats, result: ReplayRun, files: int, err: TextIO) -> None:
    unknown = sum(stats.unknown.values())
    skipped = unknown + stats.ignored + len(stats.malformed)
    err.write(
        f"replay: {files} file(s), {stats.read:,} records read, {stats.events:,} events, "
        f"{skipped:,} skipped ({unknown:,} of unknown types, {stats.ignored:,} ignored, "
        f"{len(stats.malformed):,} malformed)\n"
    )
    if result.outside_pack or result.after_until:
        err.write(
            f"replay: {result.fed:,} events applied; {result.outside_pack:,} for courses the "
            f"pack does not apply to, {result.after_until:,} after --until (not applied)\n"
        )
    if stats.unknown:
        counts = ", ".join(f"{name} x{n:,}" for name, n in stats.unknown.most_common(10))
        more = f" (+{len(stats.unknown) - 10} more types)" if len(stats.unknown) > 10 else ""
        err.write(f"unknown event types: {counts}{more}\n")
    for bad in stats.malformed:
        err.write(f"{bad}\n")
    fired = Counter(a.rule for a in result.alerts if a.action == "fire")
    resolved = Counter(a.rule for a in result.alerts if a.action == "resolve")
    if not fired:
        err.write("alerts: none\n")
        return
    err.write("alerts by rule (fired / resolved):\n")
    for rule in sorted(fired | resolved):
        err.write(f"  {rule:<30} {fired[rule]:>7,} / {resolved[rule]:,}\n")
