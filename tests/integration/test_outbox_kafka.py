"""The loss-free producer against a real Apache Kafka broker that the test stops and restarts.

The shared broker serves colleagues' tests, so this test starts its own one (devservices with
its own run folder and port), stops it, emits while it is down, closes the emitter (a
process restart), starts the broker again, and reads the topic back.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facilitation_rules.contract.codec import loads
from facilitation_rules.contract.events import Actor, PostCreated
from facilitation_xblocks.outbox.emitter import file_emitter

pytestmark = [pytest.mark.integration, pytest.mark.lms]

ROOT = Path(__file__).resolve().parents[2]
DEVSERVICES = [sys.executable, str(ROOT / "scripts" / "devservices.py")]


def _free_port_pair() -> int:
    """A port whose successor is free too (the broker's controller listens on port + 1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free pair of ports")


@dataclass
class OwnBroker:
    env: dict[str, str]
    bootstrap: str

    def start(self) -> None:
        subprocess.run([*DEVSERVICES, "start", "kafka"], env=self.env, check=True, timeout=240)

    def stop(self) -> None:
        subprocess.run([*DEVSERVICES, "stop", "kafka"], env=self.env, check=True, timeout=90)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    port = _free_port_pair()
    env = {k: v for k, v in os.environ.items() if k != "FACILITATION_KAFKA_BOOTSTRAP"}
    env.update(FACILITATION_RUN_DIR=str(tmp_path / "kafka-run"),
               FACILITATION_DEV_KAFKA_PORT=str(port))
    broker = OwnBroker(env, f"127.0.0.1:{port}")
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()  # by the pid file in our own run folder; a no-op when already stopped


def _create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()


def _read_all(bootstrap: str, topic: str, expected: set[str], timeout_s: float) -> list:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=1000)
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    records = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for record in consumer:
                records.append(record)
            if expected <= {loads(r.value).event_id for r in records}:
                break
    finally:
        consumer.close()
    return records


def test_events_emitted_while_kafka_is_down_arrive_in_order_once_each(
    own_broker: OwnBroker, tmp_path: Path
) -> None:
    topic = "outbox-test"
    _create_topic(own_broker.bootstrap, topic, partitions=3)
    own_broker.stop()

    outbox = str(tmp_path / "outbox.sqlite3")
    emitter = file_emitter(own_broker.bootstrap, topic, outbox, backoff_max_s=2.0,
                           producer_config={"bootstrap_timeout_ms": 500})
    emitted: dict[str, list[str]] = defaultdict(list)  # partition key -> event ids in order
    durations: list[float] = []
    lock = threading.Lock()

    def learner(thread_no: int) -> None:
        for n in range(30):
            event = PostCreated(
                event_id=f"ev-{thread_no}-{n}", occurred_at=datetime.now(UTC),
                course_id="course-v1:Org+Outbox+Run", actor=Actor(user_id=str(thread_no)),
                post_id=f"p-{thread_no}-{n}", thread_id=f"thread-{thread_no % 4}",
                body_excerpt="x" * 200,
            )
            # One key at a time per thread keeps "emission order per key" well defined.
            with lock:
                started = time.perf_counter()
                emitter.emit(event)
                durations.append(time.perf_counter() - started)
                emitted[event.partition_key()].append(event.event_id)

    threads = [threading.Thread(target=learner, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(len(ids) for ids in emitted.values())
    assert total == 120
    assert not emitter.flush(1.5), "nothing can be delivered while the broker is down"
    stats_down = emitter.stats()
    emitter.close(timeout_s=0.5)  # the LMS process restarts; rows stay on disk

    durations.sort()
    median, p99 = statistics.median(durations), durations[int(len(durations) * 0.99)]
    print(f"\nemit while Kafka is down: n={len(durations)} median={median * 1000:.2f} ms "
          f"p99={p99 * 1000:.2f} ms max={durations[-1] * 1000:.2f} ms; "
          f"outbox depth={stats_down['depth']} failed attempts={stats_down['failures']}")
    assert median < 0.1
    assert stats_down["depth"] == 120

    own_broker.start()
    restarted = file_emitter(own_broker.bootstrap, topic, outbox, backoff_max_s=2.0)
    began = time.monotonic()
    try:
        assert restarted.flush(90), f"outbox not drained: {restarted.stats()}"
    finally:
        restarted.close()
    print(f"drained {total} events {time.monotonic() - began:.1f} s after the broker came back")

    expected = {eid for ids in emitted.values() for eid in ids}
    records = _read_all(own_broker.bootstrap, topic, expected, timeout_s=30)
    seen: dict[str, bytes] = {}
    firsts: dict[str, list[str]] = defaultdict(list)
    for record in records:
        event = loads(record.value)
        assert record.key.decode() == event.partition_key()
        if event.event_id in seen:
            assert seen[event.event_id] == record.value, "a duplicate is the same event again"
            continue
        seen[event.event_id] = record.value
        firsts[record.key.decode()].append(event.event_id)
    assert set(seen) == expected
    assert dict(firsts) == dict(emitted)  # every key's events in the order they were emitted
    print(f"read {len(records)} records, {len(seen)} distinct event ids "
          f"({len(records) - len(seen)} redeliveries)")
