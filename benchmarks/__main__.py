"""Run every benchmark module (or those named: ``python -m benchmarks replay ticks``)."""

from __future__ import annotations

import importlib
import sys
import time

#: Benchmark modules, run in this order. Add yours here.
MODULES = (
    "benchmarks.bench_replay",
    "benchmarks.bench_ticks",
    "benchmarks.bench_states",
    "benchmarks.bench_conditions",
    "benchmarks.bench_worker",
    "benchmarks.bench_lms",
)


def main(argv: list[str]) -> int:
    chosen = [m for m in MODULES if not argv or any(name in m for name in argv)]
    for name in chosen:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        importlib.import_module(name).main()
        print(f"   ({time.perf_counter() - started:.0f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
