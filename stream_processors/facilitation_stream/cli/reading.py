"""What the commands that read event files share: the reading options and the data-quality
summary on stderr (``replay``, ``learners``, ``ingest tracking-log``).

A multi-GB LMS log may hold thousands of bad lines: the summary counts them by category
and reason and lists only the first ``--show-problems`` (``--malformed-log FILE`` writes all
of them to a file as they are found). A file cut short (a truncated .gz) makes the command
exit ``EXIT_UNREADABLE`` unless ``--allow-truncated`` says it is known to be cut.
"""

from __future__ import annotations

import argparse
import time
from typing import TextIO

from facilitation_stream.ingest.read_stats import (
    FUTURE,
    FUTURE_TOLERANCE_S,
    LMS_TRUNCATED,
    MALFORMED,
    MAX_LINE_BYTES,
    TOO_LONG,
    UNREADABLE,
    ReadOptions,
    ReadStats,
)

#: A file could not be read to its end (cut short or corrupt), without --allow-truncated.
EXIT_UNREADABLE = 3
_REASONS_SHOWN = 8
#: How each category reads in a sentence.
_WORDS = {
    MALFORMED: "malformed",
    TOO_LONG: "too long",
    FUTURE: "from the future",
    LMS_TRUNCATED: "cut by the LMS and unusable",
    UNREADABLE: "unreadable files",
}


def add_event_files(parser: argparse.ArgumentParser) -> None:
    """The files an offline command reads (``replay``, ``learners``)."""
    parser.add_argument(
        "events",
        nargs="+",
        metavar="EVENTS",
        help="contract JSON lines or Open edX tracking logs, plain or .gz",
    )


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reading the files")
    group.add_argument(
        "--format",
        choices=("auto", "contract", "tracking-log"),
        default="auto",
        help="how to read records (default auto: contract events and tracking-log records, "
        "told apart per record)",
    )
    group.add_argument(
        "--max-line-bytes",
        type=_positive_int,
        default=MAX_LINE_BYTES,
        metavar="N",
        help=f"skip (and report as too long) lines over N bytes (default {MAX_LINE_BYTES:,})",
    )
    group.add_argument(
        "--future-tolerance",
        type=_minutes,
        default=FUTURE_TOLERANCE_S / 60,
        metavar="MINUTES",
        help="report and skip events more than this far ahead of the clock at run time, "
        f"e.g. a skewed LMS clock (default {FUTURE_TOLERANCE_S / 60:g})",
    )
    group.add_argument(
        "--show-problems",
        type=_count,
        default=20,
        metavar="N",
        help="list the first N problem lines (malformed, too long, ...) on stderr (default 20)",
    )
    group.add_argument(
        "--malformed-log",
        metavar="FILE",
        help="write every problem line, FILE:LINE: reason, to FILE",
    )
    group.add_argument(
        "--allow-truncated",
        action="store_true",
        help=f"exit 0 even if a file is cut short or corrupt (default: exit {EXIT_UNREADABLE})",
    )


def _positive_int(text: str) -> int:
    value = _count(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 (got {text})")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return value


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of minutes (got {text!r})") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return value


def reading_options(args: argparse.Namespace, now: float | None = None) -> ReadOptions:
    """The options of ``args``; events after ``now`` (default: the wall clock) plus the
    tolerance are from the future."""
    now = time.time() if now is None else now
    return ReadOptions(
        max_line_bytes=args.max_line_bytes,
        future_after=now + args.future_tolerance * 60,
        listed=args.show_problems,
        malformed_log=args.malformed_log,
    )


def unreadable_exit(stats: ReadStats, args: argparse.Namespace) -> bool:
    """Whether the command must exit ``EXIT_UNREADABLE``."""
    return bool(stats.problems[UNREADABLE]) and not args.allow_truncated


def problems_summary(stats: ReadStats) -> str:
    """``38 malformed, 2 too long`` (every category, in a fixed order), or ``0 malformed``."""
    parts = [f"{stats.problems[MALFORMED]:,} malformed"]
    parts += [
        f"{stats.problems[c]:,} {_WORDS[c]}"
        for c in (TOO_LONG, FUTURE, LMS_TRUNCATED, UNREADABLE)
        if stats.problems[c]
    ]
    return ", ".join(parts)


def write_problems(stats: ReadStats, args: argparse.Namespace, err: TextIO) -> None:
    """The data-quality lines of a summary: reasons, the first problem lines, what the LMS
    cut, and what to do about a file cut short."""
    by_category: dict[str, list[tuple[str, int]]] = {}
    for (category, reason), n in stats.reasons.most_common():
        by_category.setdefault(category, []).append((reason, n))
    for category, reasons in by_category.items():
        shown = "; ".join(f"{reason} x{n:,}" for reason, n in reasons[:_REASONS_SHOWN])
        more = f" (+{len(reasons) - _REASONS_SHOWN} more reasons)" if len(reasons) > 8 else ""
        err.write(f"{_WORDS.get(category, category)} by reason: {shown}{more}\n")
    total = sum(stats.problems.values())
    if stats.malformed:
        hint = "" if args.malformed_log else " (--malformed-log FILE writes every one)"
        err.write(f"first {len(stats.malformed):,} of {total:,} problem lines{hint}:\n")
        for bad in stats.malformed:  # FILE:LINE: reason, from the first column (grep, editors)
            err.write(f"{bad}\n")
    if args.malformed_log and total:
        err.write(f"every problem line: {args.malformed_log}\n")
    if stats.lms_truncated:
        used = stats.lms_truncated - stats.problems[LMS_TRUNCATED]
        err.write(
            f"cut by the LMS: {stats.lms_truncated:,} records had their 'event' cut at 512 "
            f"characters, as the LMS logs long requests ({used:,} used without it)\n"
        )
    if stats.problems[UNREADABLE] and not args.allow_truncated:
        err.write(
            f"a file was cut short or is corrupt: exit {EXIT_UNREADABLE} "
            "(--allow-truncated if you know, to use what was read)\n"
        )
