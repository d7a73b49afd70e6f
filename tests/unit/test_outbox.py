"""The durable outbox and the emitter's delivery loop, with an in-memory stand-in producer.

The real broker (stopped, posted to, restarted) is exercised in
tests/integration/test_outbox_kafka.py.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from facilitation_rules.contract.codec import loads
from facilitation_rules.contract.events import Actor, PostCreated
from facilitation_xblocks.emitter import EventEmitter, NullEmitter
from facilitation_xblocks.metrics import XBlockMetrics
from facilitation_xblocks.outbox import Outbox, OutboxBusy
from facilitation_xblocks.settings import DEFAULT_TOPIC, EmitterSettings


def post(n: int, thread: str = "t1") -> PostCreated:
    return PostCreated(
        event_id=f"e{n}",
        occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
        course_id="c",
        actor=Actor(user_id="u1"),
        post_id=f"p{n}",
        thread_id=thread,
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
    """Acknowledges every record unless told to fail; keeps what it 'sent'."""

    def __init__(self, log: list[tuple[str, bytes, bytes]], fail_after: int | None = None):
        self.log = log
        self.fail_after = fail_after
        self.closed = False

    def send(self, topic: str, *, key: bytes, value: bytes, headers: Any) -> FakeFuture:
        if self.fail_after is not None and len(self.log) >= self.fail_after:
            raise KafkaTimeoutError("metadata not available")
        self.log.append((topic, key, value))
        return FakeFuture()

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


@pytest.fixture
def metrics() -> XBlockMetrics:
    from prometheus_client import CollectorRegistry

    return XBlockMetrics(CollectorRegistry())


def make(path: Path, factory: Any, metrics: XBlockMetrics) -> EventEmitter:
    return EventEmitter(
        "127.0.0.1:1",
        "events",
        str(path),
        producer_factory=factory,
        metrics=metrics,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        idle_poll_s=0.01,
    )


def test_outbox_keeps_order_and_survives_reopen(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    for n in range(5):
        box.append(topic="t", key=b"k", value=f"v{n}".encode(), event_id=f"e{n}", event_type="x")
    rows = box.peek(3)
    assert [r.value for r in rows] == [b"v0", b"v1", b"v2"]
    box.delete([rows[0].seq, rows[1].seq])
    box.close()

    again = Outbox(tmp_path / "o.db")
    assert [r.event_id for r in again.peek(10)] == ["e2", "e3", "e4"]
    mode = again._conn().execute("PRAGMA journal_mode").fetchone()[0]
    sync = again._conn().execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL: fsync on every commit
    again.close()


def test_only_one_outbox_delivers(tmp_path: Path) -> None:
    first, second = Outbox(tmp_path / "o.db"), Outbox(tmp_path / "o.db")
    assert first.try_lead()
    assert not second.try_lead()
    first.close()  # a dead process releases the lock the same way
    assert second.try_lead()
    second.close()


def test_appends_from_many_threads_all_land(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", busy_timeout_s=5.0)  # a loaded CI disk may be slow

    def write(t: int) -> None:
        for n in range(20):
            box.append(topic="t", key=b"k", value=b"v", event_id=f"{t}-{n}", event_type="x")

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert box.depth() == 80
    box.close()


def test_emit_delivers_in_order_and_empties_the_outbox(tmp_path: Path, metrics) -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    emitter = make(tmp_path / "o.db", lambda cfg: FakeProducer(sent), metrics)
    for n in range(10):
        emitter.emit(post(n))
    assert emitter.flush(5)
    emitter.close()
    assert [loads(v).event_id for _, _, v in sent] == [f"e{n}" for n in range(10)]
    assert {k for _, k, _ in sent} == {post(0).partition_key().encode()}
    assert {t for t, _, _ in sent} == {"events"}


def test_broker_down_then_up_delivers_everything_once_acked(tmp_path: Path, metrics) -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    up = threading.Event()

    def factory(config: dict[str, Any]) -> FakeProducer:
        if not up.is_set():
            raise KafkaConnectionError("down")
        return FakeProducer(sent)

    emitter = make(tmp_path / "o.db", factory, metrics)
    started = time.perf_counter()
    for n in range(20):
        emitter.emit(post(n, thread=f"t{n % 3}"))
    assert (time.perf_counter() - started) / 20 < 0.1
    assert not emitter.flush(0.2)
    assert emitter.depth() == 20
    assert emitter.stats()["failures"] >= 1
    up.set()
    assert emitter.flush(5)
    emitter.close()
    assert sorted(loads(v).event_id for _, _, v in sent) == sorted(f"e{n}" for n in range(20))


def test_a_failure_mid_chunk_keeps_the_rest_in_order(tmp_path: Path, metrics) -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    producers: list[FakeProducer] = []

    def factory(config: dict[str, Any]) -> FakeProducer:
        producer = FakeProducer(sent, fail_after=3 if not producers else None)
        producers.append(producer)
        return producer

    box = Outbox(tmp_path / "o.db")
    for n in range(6):  # already waiting before the emitter starts
        box.append(
            topic="events",
            key=b"k",
            value=f'{{"n":{n}}}'.encode(),
            event_id=f"e{n}",
            event_type="x",
        )
    box.close()
    emitter = make(tmp_path / "o.db", factory, metrics)
    assert emitter.flush(5)
    emitter.close()
    assert [v for _, _, v in sent] == [f'{{"n":{n}}}'.encode() for n in range(6)]
    assert producers[0].closed and len(producers) == 2


def test_rows_left_at_close_are_sent_by_the_next_process(tmp_path: Path, metrics) -> None:
    def down(config: dict[str, Any]) -> FakeProducer:
        raise KafkaConnectionError("down")

    emitter = make(tmp_path / "o.db", down, metrics)
    emitter.emit(post(1))
    emitter.close(timeout_s=0.1)
    sent: list[tuple[str, bytes, bytes]] = []
    restarted = make(tmp_path / "o.db", lambda cfg: FakeProducer(sent), metrics)
    assert restarted.flush(5)
    restarted.close()
    assert [loads(v).event_id for _, _, v in sent] == ["e1"]


def test_a_busy_outbox_spills_to_memory_then_to_disk_in_order(
    tmp_path: Path, metrics, monkeypatch
) -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    emitter = make(tmp_path / "o.db", lambda cfg: FakeProducer(sent), metrics)
    real_append = emitter._outbox.append
    busy = threading.Event()
    busy.set()

    def sometimes_busy(**row: Any) -> None:
        if busy.is_set():
            raise OutboxBusy("held by another process")
        real_append(**row)

    monkeypatch.setattr(emitter._outbox, "append", sometimes_busy)
    emitter._stopping.set()  # hold the delivery thread so the spill is observable
    emitter._thread.join()
    for n in range(3):
        emitter.emit(post(n))  # never raises, returns at once
    busy.clear()
    emitter.emit(post(3))  # queues behind the spilled ones to keep the order
    assert emitter.stats()["spilled"] == 4 and emitter.depth() == 4
    emitter._stopping.clear()
    emitter._thread = threading.Thread(target=emitter._run, daemon=True)
    emitter._thread.start()
    assert emitter.flush(5)
    emitter.close()
    assert [loads(v).event_id for _, _, v in sent] == ["e0", "e1", "e2", "e3"]


def test_a_full_spill_list_drops_with_a_count_never_an_exception(
    tmp_path: Path, metrics, monkeypatch
) -> None:
    emitter = EventEmitter(
        "127.0.0.1:1",
        "events",
        str(tmp_path / "o.db"),
        metrics=metrics,
        producer_factory=lambda cfg: FakeProducer([]),
        spill_max=1,
    )
    emitter._stopping.set()
    emitter._thread.join()

    def broken(**_: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(emitter._outbox, "append", broken)
    emitter.emit(post(1))
    emitter.emit(post(2))
    assert emitter.stats()["spilled"] == 1 and emitter.stats()["append_failures"] == 1


def test_settings_prefer_the_lms_bucket_then_the_environment() -> None:
    env = {"FACILITATION_KAFKA_BOOTSTRAP": "env:9092", "XDG_STATE_HOME": "/var/state"}
    from_env = EmitterSettings.resolve(None, env)
    assert from_env.kafka_bootstrap == "env:9092"
    assert from_env.events_topic == DEFAULT_TOPIC
    assert from_env.outbox_path == "/var/state/openedx-facilitation/outbox.sqlite3"
    bucket = {"KAFKA_BOOTSTRAP": "lms:9092", "EVENTS_TOPIC": "t", "OUTBOX_PATH": "/o.db"}
    from_lms = EmitterSettings.resolve(bucket, env)
    assert (from_lms.kafka_bootstrap, from_lms.events_topic, from_lms.outbox_path) == (
        "lms:9092",
        "t",
        "/o.db",
    )
    with pytest.raises(ValueError, match="PRODUCER_CONFIG"):
        EmitterSettings.resolve({"PRODUCER_CONFIG": "sasl"}, env)


def test_null_emitter_is_a_no_op() -> None:
    emitter = NullEmitter()
    emitter.emit(post(1))
    assert emitter.flush(0)


def test_metrics_count_appends_deliveries_and_failures(tmp_path: Path) -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    sent: list[tuple[str, bytes, bytes]] = []
    calls: list[int] = []

    def flaky(config: dict[str, Any]) -> FakeProducer:
        calls.append(1)
        if len(calls) == 1:
            raise KafkaConnectionError("down")
        return FakeProducer(sent)

    emitter = make(tmp_path / "o.db", flaky, XBlockMetrics(registry))
    emitter.emit(post(1))
    emitter.emit(post(2))
    assert emitter.flush(5)
    emitter.close()
    value = registry.get_sample_value
    assert (
        value("facilitation_xblock_events_appended_total", {"event_type": PostCreated.event_type})
        == 2
    )
    assert value("facilitation_xblock_events_delivered_total") == 2
    assert (
        value("facilitation_xblock_delivery_failures_total", {"reason": "KafkaConnectionError"})
        == 1
    )
    assert value("facilitation_xblock_outbox_append_seconds_count") == 2
