"""The live worker running the default rule pack: a deadline fired by the wall-clock timer,
a reply that resolves, and bad input dead-lettered while processing goes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Actor, PostCreated, Role
from facilitation_stream.delivery.queues import TutorQueue, connect
from tests.integration.test_worker_pipeline import wait_for
from tests.support.worker_process import WorkerProcess, worker_env

pytestmark = pytest.mark.integration


def thread(course: str, n: int, at: datetime) -> PostCreated:
    return PostCreated(
        event_id=f"thread-{n}",
        occurred_at=at,
        course_id=course,
        actor=Actor(user_id=f"learner-{n}"),
        post_id=f"t{n}",
        thread_id=f"t{n}",
        thread_type="question",
        title=f"How do I start task {n}?",
        body_excerpt="<b>help</b>",
    )


def reply(course: str, n: int, at: datetime) -> PostCreated:
    return PostCreated(
        event_id=f"reply-{n}",
        occurred_at=at,
        course_id=course,
        actor=Actor(user_id="tutor-a", role=Role.TUTOR),
        post_id=f"r{n}",
        thread_id=f"t{n}",
        parent_post_id=f"t{n}",
        post_kind="response",
    )


def send(bootstrap: str, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for key, value in items:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()


def test_unanswered_question_nudges_a_tutor_and_bad_input_is_dead_lettered(
    kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path
) -> None:
    env = worker_env(kafka_bootstrap, redis_url, unique, tmp_path)
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        course = f"course-v1:Live+{unique}+2026"
        now = datetime.now(UTC)
        old = now - timedelta(days=2)
        events = [
            thread(course, 1, old),
            thread(course, 2, old),
            reply(course, 2, old + timedelta(hours=1)),
        ]
        topic = env["FACILITATION_EVENTS_TOPIC"]
        items = [(e.partition_key().encode(), dumps(e).encode()) for e in events]
        items += [(b"bad", b"\xff\xfe not json"), (b"bad", b'{"event_type": "nope.v1"}')]
        send(kafka_bootstrap, topic, items)

        queue = TutorQueue(connect(redis_url))
        tutor = env["FACILITATION_DEFAULT_TUTOR"]
        # Two days unanswered: warned, breached and escalated (the escalation is a nudge
        # of its own, for a lead; without a roster it stays with the default tutor).
        wait_for(lambda: len(queue.list_queue(tutor)) == 2, 60, "nudges for the unanswered thread")
        nudges = queue.list_queue(tutor)
        assert {n.learner_id for n in nudges} == {"learner-1"}  # learner-2 got a reply
        assert any("no reply" in reason for n in nudges for reason in n.reasons), nudges
        status, body = worker.get("/metrics")
        assert status == 200 and b"facilitation_alerts_fired_total" in body

        consumer = KafkaConsumer(
            env["FACILITATION_DEAD_LETTER_TOPIC"],
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=5000,
        )
        reasons = sorted(dict(r.headers)["reason"].decode() for r in consumer)
        consumer.close()
        assert reasons == ["invalid", "unknown-type"]
        assert worker.get("/ready")[0] == 200
    finally:
        worker.stop()
