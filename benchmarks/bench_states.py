"""Memory per tracked learner and thread in process at 1M of each (issue 5 item 8's budget:
<= 1 KB per tracked subject in the worker).

``EngineModel`` (the worker's per-message work without Kafka or Faust) is fed ``N`` new
learners (one ``ActivityRecorded`` each), then ``N`` new threads (``PostCreated`` by 500
authors), in chunks of 100,000; the figure is RSS growth per subject (states, keys, dedup
marks, due index and allocator slack), next to tracemalloc's count of the same at 100,000
and the size of one changelog record. Faust's buffers come on top in the worker
(``bench_worker``). ``BENCH_SUBJECTS`` sets N (default 1,000,000; about 3 minutes).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator

from benchmarks.engine_model import EngineModel, state_footprint
from benchmarks.worker_events import Record, new_learners, new_threads

COURSE = "course-v1:BenchX+B101+2024_T1"
SUBJECTS = int(os.environ.get("BENCH_SUBJECTS", "1000000"))
CHUNK = 100_000


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _grow(model: EngineModel, make: Callable[[int, int], Iterator[Record]]) -> float:
    """RSS growth in bytes per subject for ``SUBJECTS`` new subjects made by ``make``."""
    gc.collect()
    before = _rss()
    for offset in range(0, SUBJECTS, CHUNK):
        model.feed(list(make(min(CHUNK, SUBJECTS - offset), offset)))
    gc.collect()
    return (_rss() - before) / SUBJECTS


def main() -> None:
    started = time.perf_counter()
    model = EngineModel()
    model.feed([*new_learners(COURSE, 2_000, 10**8), *new_threads(COURSE, 2_000, offset=10**8)])
    learner = _grow(model, lambda n, offset: new_learners(COURSE, n, offset))
    thread = _grow(model, lambda n, offset: new_threads(COURSE, n, offset=offset))
    print(
        f"{SUBJECTS:,} learners then {SUBJECTS:,} threads tracked in one EngineModel "
        f"({time.perf_counter() - started:.0f} s; RSS {_rss() / 2**20:,.0f} MB)"
    )
    for kind, rss, make in (
        ("learner", learner, new_learners),
        ("thread", thread, new_threads),
    ):
        held, record = state_footprint(list(make(COURSE, CHUNK)))
        verdict = "met" if rss <= 1024 else "NOT met"
        print(
            f"   per tracked {kind}: {rss:,.0f} B of RSS at {SUBJECTS:,} (target <= 1 KB: "
            f"{verdict}); {held:,.0f} B held at {CHUNK:,} (tracemalloc); changelog record "
            f"{record:,.0f} B"
        )
