"""Throughput of the tracking-log bridge next to plain JSON parsing of the same lines.

    .venv/bin/python scripts/make_tracking_log.py /tmp/tracking-200k.log --lines 200000
    .venv/bin/python scripts/bench_tracking_log.py /tmp/tracking-200k.log

Prints lines/s (best of 3, CPU time of this process) for: orjson.loads of each line (the
baseline), parse_line + translate over lines in memory (the translator alone), and
read_events over the file (what replay and ingest use). A benchmark, not a test.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable

import orjson

from facilitation_rules.openedx_logs.translate import UnknownTrackingEvent, parse_line, translate
from facilitation_stream.ingest.event_files import ReadStats, read_events


def best_rate(lines: int, run: Callable[[], int]) -> tuple[float, int]:
    best, produced = float("inf"), 0
    for _ in range(3):
        started = time.process_time()
        produced = run()
        best = min(best, time.process_time() - started)
    return lines / best, produced


def main(path: str) -> None:
    with open(path, "rb") as f:
        lines = f.readlines()

    def plain() -> int:
        loads = orjson.loads
        for line in lines:
            loads(line[line.find(b"{") :])
        return len(lines)

    def translator() -> int:
        threads: dict[str, str] = {}
        events = 0
        for line in lines:
            record = parse_line(line)
            if record is None:
                continue
            with contextlib.suppress(UnknownTrackingEvent):
                events += len(translate(record, threads))
        return events

    def reader() -> int:
        return sum(1 for _ in read_events([path], stats=ReadStats()))

    base, _ = best_rate(len(lines), plain)
    print(f"{len(lines):,} lines from {path}")
    print(f"  orjson.loads per line   {base:>10,.0f} lines/s")
    for label, run in (("parse_line + translate", translator), ("read_events(file)", reader)):
        rate, events = best_rate(len(lines), run)
        print(
            f"  {label:23s} {rate:>10,.0f} lines/s  "
            f"{rate * events / len(lines):>10,.0f} events/s  {rate / base:4.0%} of plain"
        )


if __name__ == "__main__":
    main(sys.argv[1])
