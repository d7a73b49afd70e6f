"""One test suite for every outbox store, with an in-memory stand-in producer.

Modules import these tests and provide a ``stores`` fixture: a callable giving a new store
on the same storage each time (a second call is "another process"). tests/unit/test_outbox.py
runs them on the SQLite file and on the database outbox over SQLite;
tests/integration/test_outbox_mariadb.py on the database outbox over MariaDB. The real
broker (stopped, posted to, restarted) is in tests/integration/test_outbox_kafka.py.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from facilitation_rules.contract.codec import loads
from facilitation_rules.contract.events import Actor, PostCreated
from facilitation_xblocks.outbox.emitter import EventEmitter
from facilitation_xblocks.outbox.metrics import XBlockMetrics
from facilitation_xblocks.outbox.rows import OutboxStore, PendingRow

Stores = Callable[[], OutboxStore]
Sent = list[tuple[str, bytes, bytes]]


def post(n: int, thread: str = "t1", learner: str = "u1") -> PostCreated:
    return PostCreated(
        event_id=f"e{n}", occurred_at=datetime(2025, 1, 1, tzinfo=UTC), course_id="c",
        actor=Actor(user_id=learner), post_id=f"p{n}", thread_id=thread,
    )


class FakeFuture:
    def __init__(self, error: Exception | None = None) -> None:
        self.is_done = True
        self.exception = error

    def succeeded(self) -> bool:
        return self.exception is None

    def get(self, timeout: float | None = None) -> None:
        if self.exception:
            raise self.exception


class FakeProducer:
    """Acknowledges every record unless told to fail; keeps what it 'sent' (thread-safe)."""

    def __init__(self, log: Sent, fail_after: int | None = None, delay_s: float = 0.0):
        self.log = log
        self.fail_after = fail_after
        self.delay_s = delay_s
        self.closed = False
        self.lock = threading.Lock()

    def send(self, topic: str, *, key: bytes, value: bytes, headers: Any) -> FakeFuture:
        if self.fail_after is not None and len(self.log) >= self.fail_after:
            raise KafkaTimeoutError("metadata not available")
        if self.delay_s:
            time.sleep(self.delay_s)
        with self.lock:
            self.log.append((topic, key, value))
        return FakeFuture()

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


@pytest.fixture
def metrics() -> XBlockMetrics:
    from prometheus_client import CollectorRegistry

    return XBlockMetrics(CollectorRegistry())


def make(store: OutboxStore, factory: Any, metrics: XBlockMetrics, **kw: Any) -> EventEmitter:
    return EventEmitter(store, "events", bootstrap="127.0.0.1:1", producer_factory=factory,
                        metrics=metrics, backoff_initial_s=0.01, backoff_max_s=0.05,
                        idle_poll_s=0.01, **kw)


def ids(sent: Sent) -> list[str]:
    return [loads(v).event_id for _, _, v in sent]


def test_rows_keep_their_order_and_outlive_the_store(stores: Stores) -> None:
    box = stores()
    box.append([PendingRow("t", b"k", f"v{n}".encode(), f"e{n}", "x") for n in range(5)])
    offered = box.drain(3, lambda rows: [r.seq for r in rows[:2]])
    assert offered == 3 and box.depth() == 3
    box.close()
    again = stores()
    seen: list[str] = []
    again.drain(10, lambda rows: seen.extend(r.event_id for r in rows) or [])
    assert seen == ["e2", "e3", "e4"]
    assert again.oldest_age_s(time.time() + 10) >= 10
    again.close()


def test_emit_delivers_in_order_and_empties_the_outbox(stores: Stores, metrics) -> None:
    sent: Sent = []
    emitter = make(stores(), lambda cfg: FakeProducer(sent), metrics)
    for n in range(10):
        emitter.emit(post(n))
    assert emitter.flush(10)
    emitter.close()
    assert ids(sent) == [f"e{n}" for n in range(10)]
    assert {k for _, k, _ in sent} == {post(0).partition_key().encode()}
    assert {t for t, _, _ in sent} == {"events"}


def test_broker_down_then_up_delivers_everything(stores: Stores, metrics) -> None:
    sent: Sent = []
    up = threading.Event()

    def factory(config: dict[str, Any]) -> FakeProducer:
        if not up.is_set():
            raise KafkaConnectionError("down")
        return FakeProducer(sent)

    emitter = make(stores(), factory, metrics)
    for n in range(20):
        emitter.emit(post(n, learner=f"u{n % 3}"))
    assert not emitter.flush(0.2)
    assert emitter.depth() == 20
    assert emitter.stats()["failures"] >= 1
    up.set()
    assert emitter.flush(10)
    emitter.close()
    assert sorted(ids(sent)) == sorted(f"e{n}" for n in range(20))


def test_a_failure_mid_chunk_keeps_the_rest_in_order(stores: Stores, metrics) -> None:
    sent: Sent = []
    producers: list[FakeProducer] = []

    def factory(config: dict[str, Any]) -> FakeProducer:
        producer = FakeProducer(sent, fail_after=3 if not producers else None)
        producers.append(producer)
        return producer

    box = stores()  # rows already waiting before the emitter starts
    box.append([PendingRow("events", b"k", f'{{"n":{n}}}'.encode(), f"e{n}", "x")
                for n in range(6)])
    emitter = make(box, factory, metrics)
    assert emitter.flush(10)
    emitter.close()
    assert [v for _, _, v in sent] == [f'{{"n":{n}}}'.encode() for n in range(6)]
    assert producers[0].closed and len(producers) == 2


def test_rows_left_at_close_are_sent_by_the_next_process(stores: Stores, metrics) -> None:
    def down(config: dict[str, Any]) -> FakeProducer:
        raise KafkaConnectionError("down")

    emitter = make(stores(), down, metrics)
    emitter.emit(post(1))
    emitter.close(timeout_s=0.1)
    sent: Sent = []
    restarted = make(stores(), lambda cfg: FakeProducer(sent), metrics)
    assert restarted.flush(10)
    restarted.close()
    assert ids(sent) == ["e1"]


def test_a_busy_outbox_spills_to_memory_then_to_the_outbox_in_order(
    stores: Stores, metrics, monkeypatch
) -> None:
    sent: Sent = []
    box = stores()
    real_append = box.append
    busy = threading.Event()
    busy.set()

    def sometimes_busy(rows: Any) -> None:
        if busy.is_set():
            raise box.errors[0]("held by another writer")
        real_append(rows)

    monkeypatch.setattr(box, "append", sometimes_busy)
    emitter = make(box, lambda cfg: FakeProducer(sent), metrics)
    for n in range(3):
        emitter.emit(post(n))  # never raises, returns at once
    assert emitter.stats()["spilled"] == 3 and emitter.depth() == 3
    busy.clear()
    emitter.emit(post(3))  # behind the spilled ones, or after they were written
    assert emitter.flush(10)
    emitter.close()
    assert ids(sent) == ["e0", "e1", "e2", "e3"]


def test_a_full_spill_list_drops_with_a_count_never_an_exception(
    stores: Stores, metrics, monkeypatch
) -> None:
    box = stores()

    def broken(rows: Any) -> None:
        raise box.errors[0]("disk I/O error")

    monkeypatch.setattr(box, "append", broken)
    emitter = EventEmitter(box, "events", metrics=metrics, spill_max=1)  # no sender
    emitter.emit(post(1))
    emitter.emit(post(2))
    assert emitter.stats()["spilled"] == 1 and emitter.stats()["append_failures"] == 1


def test_metrics_count_appends_deliveries_and_failures(stores: Stores) -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    sent: Sent = []
    calls: list[int] = []

    def flaky(config: dict[str, Any]) -> FakeProducer:
        calls.append(1)
        if len(calls) == 1:
            raise KafkaConnectionError("down")
        return FakeProducer(sent)

    emitter = make(stores(), flaky, XBlockMetrics(registry))
    emitter.emit(post(1))
    emitter.emit(post(2))
    assert emitter.flush(10)
    emitter.close()
    value = registry.get_sample_value
    appended = {"event_type": PostCreated.event_type}
    assert value("facilitation_xblock_events_appended_total", appended) == 2
    assert value("facilitation_xblock_events_delivered_total") == 2
    failures = {"reason": "KafkaConnectionError"}
    assert value("facilitation_xblock_delivery_failures_total", failures) == 1
    assert value("facilitation_xblock_outbox_append_seconds_count") == 2


def test_several_senders_lose_nothing_send_nothing_twice_keep_key_order(
    stores: Stores, metrics
) -> None:
    """Four senders (four processes) drain one outbox while five writers append; each
    writer owns its keys, so per key the order to keep is the writer's."""
    sent: Sent = []
    senders = [make(stores(), lambda cfg: FakeProducer(sent, delay_s=0.0002), metrics,
                    chunk_size=20) for _ in range(4)]
    written: dict[bytes, list[str]] = defaultdict(list)

    def write(writer: int) -> None:
        box = stores()
        for n in range(60):
            event = post(writer * 1000 + n, learner=f"u{writer}-{n % 3}")
            row = PendingRow.of("events", event)
            while True:  # as the emitter's spill list would, later
                try:
                    box.append([row])
                    break
                except box.errors:
                    time.sleep(0.001)
            written[row.key].append(event.event_id)
            senders[n % 4].wake()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(s.flush(30) for s in senders)
    for s in senders:
        s.close()
    assert len(sent) == 300 and len(set(ids(sent))) == 300  # none lost, none twice
    by_key: dict[bytes, list[str]] = defaultdict(list)
    for _, key, value in sent:
        by_key[key].append(loads(value).event_id)
    assert by_key == written
