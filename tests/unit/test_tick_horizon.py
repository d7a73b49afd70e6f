"""How far the worker's timer lets deadlines fire (``app._tick_horizon``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from faust.types import TP

from facilitation_stream.worker.app import WorkerState, _tick_horizon

EVENTS, UPDATES, NOW = "events", "app-subject-updates", 1_000_000.0


@dataclass
class FakeConsumer:
    ends: dict[TP, int | None]
    _read_offset: dict[TP, int | None] = field(default_factory=dict)

    def assignment(self) -> set[TP]:
        return set(self.ends)

    def highwater(self, tp: TP) -> int | None:
        return self.ends[tp]


@dataclass
class FakeApp:
    consumer: FakeConsumer


def worker(**kwargs: Any) -> WorkerState:
    return WorkerState(source_topics=frozenset({EVENTS, UPDATES}), updates_topic=UPDATES, **kwargs)


def app(events: dict[int, int | None], updates: dict[int, int | None] | None = None) -> Any:
    ends = {TP(EVENTS, p): end for p, end in events.items()}
    ends |= {TP(UPDATES, p): end for p, end in (updates or {}).items()}
    ends[TP("app-subjects-changelog", 0)] = 99  # not a source: never holds anything back
    return FakeApp(FakeConsumer(ends))


def read(
    state: WorkerState, topic: str, partition: int, offset: int, mark: float | None, ago: float
) -> None:
    state.positions[topic, partition] = offset
    if mark is not None:
        state.watermarks[partition] = mark
        state.read_at[partition] = time.monotonic() - ago


def test_idle_partitions_read_to_their_end_let_wall_time_rule() -> None:
    state = worker()
    read(state, EVENTS, 0, 9, NOW - 500, ago=5)
    read(state, EVENTS, 1, 4, NOW - 900, ago=5)
    assert _tick_horizon(app({0: 10, 1: 5}), state, NOW, idle_s=1) == (NOW, True)


def test_a_recently_read_partition_holds_deadlines_at_its_event_time() -> None:
    state = worker()
    read(state, EVENTS, 0, 9, NOW - 500, ago=5)
    read(state, EVENTS, 1, 4, NOW - 900, ago=0.1)
    assert _tick_horizon(app({0: 10, 1: 5}), state, NOW, idle_s=1) == (NOW - 900, True)


def test_unread_events_hold_deadlines_at_the_lowest_watermark() -> None:
    state = worker()
    read(state, EVENTS, 0, 3, NOW - 500, ago=5)  # 6 more to read
    read(state, EVENTS, 1, 4, NOW - 900, ago=5)  # idle
    assert _tick_horizon(app({0: 10, 1: 5}), state, NOW, idle_s=1) == (NOW - 500, False)


def test_unread_derived_updates_ignore_idleness() -> None:
    state = worker()
    read(state, EVENTS, 0, 9, NOW - 500, ago=5)
    read(state, EVENTS, 1, 4, NOW - 900, ago=5)
    state.positions[UPDATES, 0] = 2
    state.in_flight[0] = 7  # sent by this worker, acknowledged, not read back yet
    assert _tick_horizon(app({0: 10, 1: 5}, {0: 3}), state, NOW, idle_s=1) == (NOW - 900, False)


def test_a_partition_not_read_since_its_assignment_holds_everything_back() -> None:
    state = worker(assigned_at=time.monotonic())
    read(state, EVENTS, 0, 9, NOW - 500, ago=5)
    assert _tick_horizon(app({0: 10, 1: 5}), state, NOW, idle_s=1) == (0.0, False)
    # Read to its end (nothing there) and idle since the assignment: no longer.
    state.assigned_at = time.monotonic() - 5
    empty = app({0: 10, 1: 0})
    assert _tick_horizon(empty, state, NOW, idle_s=1) == (NOW, True)


def test_unknown_end_offsets_and_a_batch_in_progress_fire_nothing_new() -> None:
    state = worker()
    read(state, EVENTS, 0, 9, NOW - 500, ago=5)
    assert _tick_horizon(app({0: None}), state, NOW, idle_s=1) == (0.0, False)
    state.in_batch = True
    assert _tick_horizon(app({0: 10}), state, NOW, idle_s=1) == (NOW - 500, False)
