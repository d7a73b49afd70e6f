"""Replay throughput on a generated 1M-line tracking log, next to a plain JSON parse of it.

Figures (medians of ``BENCH_RUNS`` runs, default 3), all in the same process and run:
- plain parse: read the file line by line and ``json.loads`` each line (and ``orjson.loads``);
- replay: what ``facilitation replay`` does before writing output: read, parse, translate,
  order by event time, run every rule, advance to the last event (reading in a second
  process, as the command does when it has a spare core);
- the same replay on the mypyc-compiled build (``make compiled``, setup.py), in a child
  interpreter with that build first on the path;
- the same in one process, with the read and the rules stages timed apart.
Targets (issue 4): replay >= 100,000 events/s and >= 40% of the plain-parse speed.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from benchmarks.tracking_log_gen import ensure
from facilitation_rules.build_info import compiled
from facilitation_rules.packs.loader import load_pack
from facilitation_stream.backtest.ordered_input import load_sorted, read_and_replay, replay
from facilitation_stream.backtest.reader_process import can_read_aside
from facilitation_stream.ingest.event_files import ReadStats

LINES = int(os.environ.get("BENCH_LINES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ROOT = Path(__file__).resolve().parents[1]
COMPILED = ROOT / "build" / "compiled"


def _median(fn: Callable[[], int]) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(RUNS):
        gc.collect()
        started = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), count


def _replay_runs(path: str, counts: dict[str, int]) -> float:
    """Median seconds of what ``facilitation replay`` runs: reading aside if it can."""
    pack = load_pack()

    def run() -> int:
        stats = ReadStats()
        result = read_and_replay([path], "auto", stats, pack, None)
        counts.update(
            events=stats.events, alerts=len(result.alerts), malformed=len(stats.malformed)
        )
        return stats.read

    return _median(run)[0]


def _compiled_replay(path: str) -> tuple[float, dict[str, int]] | None:
    """``_replay_runs`` on the compiled build, in a child interpreter; None if not built."""
    if not (COMPILED / ".built").exists():
        return None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(COMPILED), str(ROOT)))}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_replay", "--replay-only", path],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(done.stdout.splitlines()[-1])
    if not figures.pop("compiled"):
        raise RuntimeError(f"{COMPILED} did not load its compiled modules")
    return figures.pop("seconds"), figures


def _replay_only(path: str) -> None:
    """The child's part of ``_compiled_replay``: its figures as one JSON line."""
    counts: dict[str, int] = {}
    seconds = _replay_runs(path, counts)
    print(json.dumps({"seconds": seconds, "compiled": compiled(), **counts}))


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
    replay_s = _replay_runs(str(path), counts)
    compiled_run = _compiled_replay(str(path))
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
    rates = {"source": replay_rate}
    if compiled_run is None:
        print(f"replay, compiled build: not built ({COMPILED}: `make compiled`)")
    else:
        compiled_s, compiled_counts = compiled_run
        if compiled_counts != counts:
            raise RuntimeError(f"the builds disagree: {compiled_counts} vs {counts}")
        rates["compiled"] = lines / compiled_s
        print(
            f"replay, compiled build:  {lines / compiled_s:>10,.0f} lines/s, "
            f"{counts['events'] / compiled_s:,.0f} events/s  ({compiled_s:.2f} s; "
            f"{replay_s / compiled_s:.2f}x the source build; same events and alerts)"
        )
    read_s, rules_s = statistics.median(split["read"]), statistics.median(split["rules"])
    print(
        f"replay in one process: {lines / inline_s:,.0f} lines/s ({inline_s:.2f} s), of which "
        f"read+parse+translate+sort {read_s:.2f} s ({lines / read_s:,.0f} lines/s), "
        f"rules {rules_s:.2f} s ({counts['events'] / rules_s:,.0f} events/s)"
    )
    for build, rate in rates.items():
        print(
            f"ratio replay ({build} build) / json.loads parse: {rate / json_rate:.0%} "
            f"(target >= 40%); / orjson.loads: {rate / orjson_rate:.0%}"
        )
    best = max(rates.values()) * counts["events"] / lines
    print(f"target replay >= 100,000 events/s: {'met' if best >= 100_000 else 'NOT met'}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--replay-only"]:
        _replay_only(sys.argv[2])
    else:
        main()
