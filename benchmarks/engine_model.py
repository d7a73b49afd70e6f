"""The worker's per-event work without Kafka or Faust: the ceiling a worker can reach.

``EngineModel`` does in process what the worker does for each message — decode, route to
the subject, ``RulesEngine.apply``, derived updates to other subjects, encode the changed
state as the changelog would — keeping states in a dict and deadlines in a ``DueIndex``,
as the worker's memory table does.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Iterable
from typing import Any

from facilitation_rules.contract.codec import loads
from facilitation_rules.engine.due_index import DueIndex
from facilitation_stream.worker.rules_engine import RulesEngine
from facilitation_stream.worker.stored import Stored, encode_stored


class EngineModel:
    def __init__(self) -> None:
        self.engine = RulesEngine(None)
        self.states: dict[bytes, Stored] = {}
        self.due = DueIndex()
        self.applied = 0
        self.record_bytes = 0  # changelog bytes written

    def feed(self, records: Iterable[tuple[bytes, bytes]]) -> int:
        count = 0
        for offset, (_key, value) in enumerate(records):
            event = loads(value)
            pending: list[tuple[str, Any]] = [(self.engine.subject_key(event), event)]
            while pending:
                key, item = pending.pop()
                pending.extend(self._apply(key, item, offset))
            count += 1
        return count

    def _apply(self, key: str, item: Any, offset: int) -> list[tuple[str, Any]]:
        raw = key.encode()
        stored = self.states.get(raw)
        step = self.engine.apply(key, stored.state if stored else None, item)
        self.applied += 1
        if step.rejected or not step.changed or step.state is None:
            return step.derived
        marks = stored.marked("e0", offset) if stored else ("e0", offset)
        record = Stored(state=step.state, partition=0, marks=marks, due=step.next_due)
        self.states[raw] = record
        self.record_bytes += len(encode_stored(record))
        if record.due is not None:
            self.due.schedule(key, record.due)
        return step.derived


def engine_rate(records: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    """(events/s, applies per event) of ``EngineModel`` over ``records``."""
    model = EngineModel()
    started = time.perf_counter()
    model.feed(records)
    return len(records) / (time.perf_counter() - started), model.applied / len(records)


def state_footprint(records: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    """(bytes held, changelog bytes) per event of ``records``, each making one new subject.

    Bytes held are what Python allocated for the states, their keys, dedup marks and due
    index entries (tracemalloc), without Faust, Kafka buffers or allocator slack.
    """
    model = EngineModel()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model.feed(records)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held / len(records), model.record_bytes / len(records)
