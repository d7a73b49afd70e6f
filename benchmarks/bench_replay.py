"""Replay throughput on a generated 1M-line tracking log, next to a plain JSON parse of it.

Figures (medians of ``BENCH_RUNS`` runs, default 3), all in the same process and run:
- plain parse: read the file line by line and ``json.loads`` each line (and ``orjson.loads``);
- replay: what ``facilitation replay`` does before writing output: read, parse, translate,
  order by event time, run every rule, advance to the last event (reading in a second
  process, as the command does when it has a spare core);
- the same in one process, with the read and the rules stages timed apart.
Targets (issue 4): replay >= 100,000 events/s and >= 40% of the plain-parse speed.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable

import orjson

from benchmarks.tracking_log_gen import ensure
from facilitation_rules.packs import load_pack
from facilitation_stream.event_files import ReadStats
from facilitation_stream.replay_input import load_sorted, read_and_replay, replay
from facilitation_stream.replay_reader import can_read_aside

LINES = int(os.environ.get("BENCH_LINES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def _median(fn: Callable[[], int]) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(RUNS):
        gc.collect()
        started = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), count


def main() -> None:
    started = time.perf_counter()
    path = ensure(LINES)
    print(
        f"log: {path} ({os.path.getsize(path) / 1e6:.0f} MB, ready in "
        f"{time.perf_counter() - started:.1f} s)"
    )

    def parse_with(loads: Callable[[bytes], object]) -> Callable[[], int]:
        def run() -> int:
            n = 0
            with open(path, "rb") as handle:
                for line in handle:
                    loads(line)
                    n += 1
            return n

        return run

    pack = load_pack()
    counts: dict[str, int] = {}

    split: dict[str, list[float]] = {"read": [], "rules": []}

    def run_replay() -> int:
        """What ``facilitation replay`` runs: reading aside (a second process) if it can."""
        stats = ReadStats()
        result = read_and_replay([str(path)], "auto", stats, pack, None)
        counts.update(
            events=stats.events, alerts=len(result.alerts), malformed=len(stats.malformed)
        )
        return stats.read

    def run_in_process() -> int:
        """The same in one process, read and sort first: the two stages timed apart."""
        stats = ReadStats()
        started = time.perf_counter()
        events = load_sorted([str(path)], "auto", stats)
        loaded = time.perf_counter()
        replay(events, pack, None)
        split["read"].append(loaded - started)
        split["rules"].append(time.perf_counter() - loaded)
        return stats.read

    json_s, lines = _median(parse_with(json.loads))
    orjson_s, _ = _median(parse_with(orjson.loads))
    replay_s, _ = _median(run_replay)
    inline_s, _ = _median(run_in_process)
    json_rate, orjson_rate = lines / json_s, lines / orjson_s
    replay_rate, event_rate = lines / replay_s, counts["events"] / replay_s
    print(f"plain parse, json.loads:   {json_rate:>10,.0f} lines/s  ({json_s:.2f} s)")
    print(f"plain parse, orjson.loads: {orjson_rate:>10,.0f} lines/s  ({orjson_s:.2f} s)")
    aside = "read in a second process" if can_read_aside() else "one process"
    print(
        f"replay ({aside}): {replay_rate:>10,.0f} lines/s, "
        f"{event_rate:,.0f} events/s  ({replay_s:.2f} s; {counts['events']:,} events, "
        f"{counts['alerts']:,} alerts, {counts['malformed']} malformed)"
    )
    read_s, rules_s = statistics.median(split["read"]), statistics.median(split["rules"])
    print(
        f"replay in one process: {lines / inline_s:,.0f} lines/s ({inline_s:.2f} s), of which "
        f"read+parse+translate+sort {read_s:.2f} s ({lines / read_s:,.0f} lines/s), "
        f"rules {rules_s:.2f} s ({counts['events'] / rules_s:,.0f} events/s)"
    )
    print(f"ratio replay / json.loads parse:   {replay_rate / json_rate:.0%}  (target >= 40%)")
    print(f"ratio replay / orjson.loads parse: {replay_rate / orjson_rate:.0%}")
    print(f"target replay >= 100,000 events/s: {'met' if event_rate >= 100_000 else 'NOT met'}")
