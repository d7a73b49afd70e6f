"""The real path: kafka-python produces → a Faust worker on the real broker keeps a table →
alerts land in Redis. And a crash: SIGKILL mid-stream, restart, and the table recovered
from its changelog equals exactly what was produced."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Actor, PostCreated
from facilitation_stream.delivery.queues import TutorQueue, connect
from facilitation_stream.worker.stored import decode_stored
from tests.support.worker_process import WorkerProcess, worker_env

pytestmark = pytest.mark.integration

ENGINE = "tests.support.counting_engine:CountingEngine"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def post(i: int, threads: int, course: str) -> PostCreated:
    thread = f"thread-{i % threads}"
    return PostCreated(
        event_id=f"evt-{i}",
        occurred_at=START + timedelta(seconds=i),
        course_id=course,
        # One author per thread, so each thread's first-post alert is its own nudge.
        actor=Actor(user_id=f"learner-{i % threads}"),
        post_id=thread if i < threads else f"reply-{i}",
        thread_id=thread,
        post_kind="thread" if i < threads else "response",
        title=f"Question {i % threads}",
    )


def produce(bootstrap: str, topic: str, events: list[PostCreated], pause_every: int = 0,
            pause_s: float = 0.0) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    for n, event in enumerate(events, 1):
        producer.send(topic, key=event.partition_key().encode(), value=dumps(event).encode())
        if pause_every and n % pause_every == 0:
            producer.flush()
            time.sleep(pause_s)
    producer.flush()
    producer.close()


def changelog_counts(bootstrap: str, app_id: str) -> dict[str, int]:
    """The table as its changelog holds it: the last value per key."""
    consumer = KafkaConsumer(
        f"{app_id}-subjects-changelog", bootstrap_servers=bootstrap,
        auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=2000,
    )
    latest: dict[str, int] = {}
    for record in consumer:
        if record.value is None:
            latest.pop(record.key.decode(), None)
        else:
            latest[record.key.decode()] = decode_stored(record.value).state
    consumer.close()
    return latest


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def env(kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path) -> dict[str, str]:
    return worker_env(kafka_bootstrap, redis_url, unique, tmp_path)


def test_events_flow_through_faust_table_into_redis(
    env, tmp_path, kafka_bootstrap, redis_url, unique
):
    worker = WorkerProcess(env, tmp_path / "worker.log", engine=ENGINE).start()
    try:
        worker.wait_ready()
        # Alert ids are deterministic: a course of its own keeps this run's nudges apart.
        events = [post(i, 5, f"course-v1:Test+{unique}+2026") for i in range(40)]
        produce(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], events)
        expected = Counter(e.partition_key() for e in events)
        queue = TutorQueue(connect(redis_url))
        tutor = env["FACILITATION_DEFAULT_TUTOR"]
        wait_for(lambda: len(queue.list_queue(tutor)) == 5, 60, "5 nudges in Redis")
        wait_for(
            lambda: changelog_counts(kafka_bootstrap, env["FACILITATION_APP_ID"]) == expected,
            60, "the table to hold every post",
        )
        assert {n.learner_id for n in queue.list_queue(tutor)} == {
            f"learner-{i}" for i in range(5)
        }
    finally:
        worker.stop()


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
def test_sigkill_mid_stream_then_restart_recovers_exact_table(
    env, tmp_path, kafka_bootstrap, redis_url, unique, store
):
    # RocksDB keeps the table on disk across the restart and replays only the changelog
    # written since its persisted offset; memory replays the whole changelog.
    env = {**env, "FACILITATION_TABLE_STORE": store}
    events = [post(i, 50, f"course-v1:Test+{unique}+2026") for i in range(3000)]
    expected = Counter(e.partition_key() for e in events)
    worker = WorkerProcess(env, tmp_path / "worker.log", engine=ENGINE).start()
    worker.wait_ready()
    producer = threading.Thread(
        target=produce,
        args=(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], events, 100, 0.1),
    )
    producer.start()
    try:
        # Kill while the stream is flowing: some events processed, many still to come.
        wait_for(
            lambda: sum(changelog_counts(kafka_bootstrap, env["FACILITATION_APP_ID"]).values())
            > 300, 60, "the worker to process part of the stream",
        )
        worker.kill()
        worker = WorkerProcess(env, tmp_path / "worker2.log", engine=ENGINE).start()
        worker.wait_ready()
        producer.join(120)

        def recovered_exactly() -> bool:
            return changelog_counts(kafka_bootstrap, env["FACILITATION_APP_ID"]) == expected

        wait_for(recovered_exactly, 90, "the recovered table to equal what was produced")
        time.sleep(3)  # a late double count would show up here
        assert changelog_counts(kafka_bootstrap, env["FACILITATION_APP_ID"]) == expected
        queue = TutorQueue(connect(redis_url))
        assert len(queue.list_queue(env["FACILITATION_DEFAULT_TUTOR"])) == 50
    finally:
        producer.join(120)
        worker.stop()
