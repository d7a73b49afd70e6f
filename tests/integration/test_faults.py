"""Faults and hostile input cost no nudge (issue 16), on real Kafka, Redis and workers.

Each test streams the generated course through a live worker and compares with its oracle,
`facilitation replay` of the good events: Redis down for 30 s and 120 s mid-stream;
2 MB and 5 MB records on a topic that accepts 8 MB; six events dated 2099; and the whole
course re-published after it was processed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import ActivityRecorded, Event, PostCreated
from facilitation_stream.metrics import sample_total
from tests.integration.test_live_parity import (
    alerts_topic,
    backfill_env,
    consumed,
    diff_by_rule,
    generated_course,
    queued_alert_ids,
    replay_oracle,
    settle,
)
from tests.integration.test_worker_pipeline import produce, wait_for
from tests.support.own_redis import own_redis
from tests.support.worker_process import WorkerProcess

pytestmark = pytest.mark.integration
EIGHT_MB = 8 * 1024 * 1024
SLOW_IDLE_S = 20


def _metric(worker: WorkerProcess, name: str) -> float:
    return sample_total(worker.get("/metrics")[1].decode(), name)


def _dead_letters(bootstrap: str, topic: str) -> list[tuple[str, int, dict[str, bytes]]]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=3000)
    letters = [(dict(r.headers)["reason"].decode(), len(r.value), dict(r.headers))
               for r in consumer]
    consumer.close()
    return letters


def _fired(oracle: set[tuple[str, str]]) -> set[str]:
    return {alert_id for alert_id, action in oracle if action == "fire"}


@pytest.mark.parametrize("outage_s", [30, 120])
def test_redis_down_mid_stream_loses_no_alert_and_queues_none_twice(
    outage_s: int, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    events = generated_course(unique)
    course = events[0].course_id
    with own_redis(tmp_path / "redis") as server:
        env = backfill_env(kafka_bootstrap, server.url, unique, tmp_path)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        worker = WorkerProcess(env, tmp_path / "worker.log").start()
        try:
            worker.wait_ready()
            producer = threading.Thread(
                target=produce,
                args=(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], events, 50, 0.2),
            )
            producer.start()
            # Mid-stream: some alerts are queued, more are still to come.
            wait_for(lambda: len(queued_alert_ids(client, course)) >= 5, 120, "first nudges")
            server.kill()
            outage_ends = time.monotonic() + outage_s
            wait_for(lambda: worker.get("/ready")[0] == 503, 60, "/ready to turn 503")
            assert _metric(worker, "facilitation_alert_sink_up") == 0
            time.sleep(max(0.0, outage_ends - time.monotonic()))
            assert worker.proc is not None and worker.proc.poll() is None, worker.tail()
            server.start()
            wait_for(lambda: worker.get("/ready")[0] == 200, 60, "/ready to be 200 again")
            producer.join(300)
            wait_for(lambda: consumed(worker) == len(events), 180, "every event read")
            settle(lambda: len(queued_alert_ids(client, course)))
            queued = queued_alert_ids(client, course)
            failures = _metric(worker, "facilitation_alert_sink_failures_total")
        finally:
            worker.stop()
    oracle = _fired(replay_oracle(events, tmp_path, datetime.now(UTC)))
    assert failures > 0, "the outage was never seen by the worker"
    assert len(queued) == len(set(queued)), "an alert was queued twice"
    assert oracle - set(queued) == set(), "alerts lost"
    assert set(queued) - oracle == set(), "alerts the oracle does not fire"


def _huge(template: PostCreated, n: int, size: int) -> PostCreated:
    return dataclasses.replace(template, event_id=f"huge-{n}", post_id=f"huge-{n}",
                               thread_id=f"huge-{n}", body_excerpt="a" * size)


def test_records_of_2_and_5_mb_go_to_the_dead_letter_topic_and_the_rest_matches_the_oracle(
    kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path
) -> None:
    events = generated_course(unique)
    # Fetching a 5 MB record holds its partition back for a moment while the others are
    # read to their end: more idle time before wall time moves deadlines, as in a backfill.
    env = {**backfill_env(kafka_bootstrap, redis_url, unique, tmp_path),
           "FACILITATION_IDLE_S": str(SLOW_IDLE_S)}
    topic = env["FACILITATION_EVENTS_TOPIC"]
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 3, 1, topic_configs={
        "max.message.bytes": str(EIGHT_MB)})])  # fmt: skip
    admin.close()
    post = next(e for e in events if isinstance(e, PostCreated))
    hostile = [_huge(post, 1, 2_000_000), _huge(post, 2, 5_000_000)]
    middle = len(events) // 2
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=EIGHT_MB)
        for event in [*events[:middle], *hostile, *events[middle:]]:
            producer.send(topic, key=event.partition_key().encode(), value=dumps(event).encode())
        producer.flush()
        producer.close()
        wait_for(lambda: consumed(worker) >= len(events), 180, "the worker to read the rest")
        settle(lambda: len(alerts_topic(kafka_bootstrap, env["FACILITATION_ALERTS_TOPIC"])),
               quiet_s=SLOW_IDLE_S + 4)
        live = set(alerts_topic(kafka_bootstrap, env["FACILITATION_ALERTS_TOPIC"]))
        assert worker.proc is not None and worker.proc.poll() is None, worker.tail()
    finally:
        worker.stop()
    letters = _dead_letters(kafka_bootstrap, env["FACILITATION_DEAD_LETTER_TOPIC"])
    oversized = [(size, h) for reason, size, h in letters if reason == "oversized"]
    assert len(oversized) == 2 and all(size <= 64 * 1024 for size, _ in oversized)
    assert sorted(int(h["original-bytes"]) for _, h in oversized) == sorted(
        len(dumps(e).encode()) for e in hostile
    )
    oracle = replay_oracle(events, tmp_path, datetime.now(UTC))
    assert live == oracle, diff_by_rule(live, oracle)


def test_events_dated_2099_never_move_event_time(
    kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path
) -> None:
    events = generated_course(unique)
    future = datetime(2099, 1, 1, tzinfo=UTC)
    learners = [e for e in events if isinstance(e, ActivityRecorded)][:6]
    skewed: list[Event] = [
        dataclasses.replace(e, event_id=f"skewed-{n}", occurred_at=future)
        for n, e in enumerate(learners)
    ]
    stream: list[Event] = list(events)
    for n, event in enumerate(skewed, 1):  # spread over the stream, each among real events
        stream.insert(n * len(stream) // 7, event)
    env = backfill_env(kafka_bootstrap, redis_url, unique, tmp_path)
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        produce(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], stream)  # type: ignore[arg-type]
        wait_for(lambda: consumed(worker) >= len(events), 180, "every event read")
        settle(lambda: len(alerts_topic(kafka_bootstrap, env["FACILITATION_ALERTS_TOPIC"])))
        live = set(alerts_topic(kafka_bootstrap, env["FACILITATION_ALERTS_TOPIC"]))
    finally:
        worker.stop()
    dlq = env["FACILITATION_DEAD_LETTER_TOPIC"]
    letters = [reason for reason, _, _ in _dead_letters(kafka_bootstrap, dlq)]
    assert letters.count("future") == 6 and "late" not in letters
    oracle = replay_oracle(events, tmp_path, datetime.now(UTC))
    assert live == oracle, diff_by_rule(live, oracle)


def test_a_republished_course_is_recognised_as_duplicates_not_dead_letters(
    kafka_bootstrap: str, redis_url: str, redis_client, unique: str, tmp_path: Path
) -> None:
    events = generated_course(unique)
    course = events[0].course_id
    env = backfill_env(kafka_bootstrap, redis_url, unique, tmp_path)
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        produce(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], events)  # type: ignore[arg-type]
        wait_for(lambda: consumed(worker) == len(events), 180, "the first pass")
        settle(lambda: len(queued_alert_ids(redis_client, course)))
        before = sorted(queued_alert_ids(redis_client, course))
        produce(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], events)  # type: ignore[arg-type]
        wait_for(lambda: consumed(worker) == 2 * len(events), 180, "the re-published pass")
        settle(lambda: len(queued_alert_ids(redis_client, course)))
        after = sorted(queued_alert_ids(redis_client, course))
        duplicates = _metric(worker, "facilitation_events_duplicate_total")
        dead = _metric(worker, "facilitation_events_dead_lettered_total")
    finally:
        worker.stop()
    assert dead == 0, "re-published events were dead-lettered"
    assert duplicates > 0
    assert after == before, "re-publishing changed the tutor queues"
