"""Operating the live engine: scale-out and failover, bad and late input, rule-pack hot
reload — all on the real broker and Redis."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Actor, PostCreated, Role
from facilitation_stream.delivery.queues import TutorQueue, connect
from tests.integration.test_worker_pipeline import changelog_counts, post, produce, wait_for
from tests.integration.test_worker_rules import send, thread
from tests.support.worker_process import WorkerProcess, free_port, worker_env

pytestmark = pytest.mark.integration

COUNTING = "tests.support.counting_engine:CountingEngine"
FACILITATION = str(Path(sys.executable).with_name("facilitation"))


def events_partitions(worker: WorkerProcess, topic: str) -> set[int]:
    """Events partitions the worker has read from (its lag gauge has a series for each)."""
    status, body = worker.get("/metrics")
    assert status == 200
    pattern = rf'facilitation_consumer_lag\{{partition="(\d+)",topic="{re.escape(topic)}"\}}'
    return {int(p) for p in re.findall(pattern, body.decode())}


def test_two_workers_share_partitions_and_the_survivor_recovers_the_other_state(
    kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path
) -> None:
    env = worker_env(kafka_bootstrap, redis_url, unique, tmp_path, partitions=4)
    topic = env["FACILITATION_EVENTS_TOPIC"]
    course = f"course-v1:Scale+{unique}+2026"
    env_b = {
        **env,
        "FACILITATION_WEB_PORT": str(free_port()),
        "FACILITATION_DATA_DIR": str(tmp_path / "worker-b"),
    }
    a = WorkerProcess(env, tmp_path / "a.log", engine=COUNTING).start()
    b = WorkerProcess(env_b, tmp_path / "b.log", engine=COUNTING).start()
    try:
        a.wait_ready()
        b.wait_ready()
        # B's arrival rebalanced A: produce once both have settled into the shared group.
        # (Under load, a worker rebalanced while events poured in was once seen to stall;
        # /live reports such a stall so that Kubernetes restarts the worker — ADR 0002.)
        time.sleep(2)
        a.wait_ready()
        b.wait_ready()
        first = [post(i, 40, course) for i in range(400)]
        produce(kafka_bootstrap, topic, first)
        app_id = env["FACILITATION_APP_ID"]
        expected = Counter(e.partition_key() for e in first)
        wait_for(lambda: changelog_counts(kafka_bootstrap, app_id) == expected, 90, "batch 1")
        wait_for(
            lambda: events_partitions(a, topic) and events_partitions(b, topic),
            30,
            "both workers to own partitions",
        )
        owned_a, owned_b = events_partitions(a, topic), events_partitions(b, topic)
        assert owned_a.isdisjoint(owned_b) and owned_a | owned_b == {0, 1, 2, 3}

        a.kill()
        second = [post(i, 40, course) for i in range(400, 800)]
        produce(kafka_bootstrap, topic, second)
        expected = Counter(e.partition_key() for e in first + second)
        # Counts continue from the recovered table: a survivor starting A's partitions from
        # empty state would count only the second batch there.
        wait_for(
            lambda: changelog_counts(kafka_bootstrap, app_id) == expected,
            120,
            "the survivor to count on from the recovered state",
        )
        wait_for(
            lambda: events_partitions(b, topic) == {0, 1, 2, 3},
            30,
            "the survivor to own every partition",
        )
        assert b.get("/ready")[0] == 200
    finally:
        a.stop()
        b.stop()


def test_late_events_and_replies_to_unknown_posts_are_dead_lettered(
    kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path
) -> None:
    env = worker_env(kafka_bootstrap, redis_url, unique, tmp_path, partitions=1)
    env["FACILITATION_LATENESS_S"] = "3600"
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        course = f"course-v1:Late+{unique}+2026"
        now = datetime.now(UTC)
        on_time = thread(course, 1, now)
        late = thread(course, 2, now - timedelta(days=2))  # behind the watermark by 2 days
        orphan = PostCreated(
            event_id="orphan-reply",
            occurred_at=now,
            course_id=course,
            actor=Actor(user_id="tutor-z", role=Role.TUTOR),
            post_id="r-x",
            thread_id="missing",
            parent_post_id="missing",
            post_kind="response",
        )
        send(
            kafka_bootstrap,
            env["FACILITATION_EVENTS_TOPIC"],
            [(e.partition_key().encode(), dumps(e).encode()) for e in (on_time, late, orphan)],
        )
        consumer = KafkaConsumer(
            env["FACILITATION_DEAD_LETTER_TOPIC"],
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=20000,
        )
        letters = []
        for record in consumer:
            letters.append(record)
            if len(letters) == 2:
                break
        consumer.close()
        by_reason = {dict(r.headers)["reason"].decode(): r for r in letters}
        assert set(by_reason) == {"late", "rejected"}
        assert b"thread-2" in by_reason["late"].value
        # The letter holds the contract event itself, with the reason and where it came from.
        assert b"orphan-reply" in by_reason["rejected"].value
        assert b"unknown post" in dict(by_reason["rejected"].headers)["detail"]
        _, body = worker.get("/metrics")
        assert b'facilitation_events_dead_lettered_total{reason="late"} 1.0' in body
        assert worker.get("/ready")[0] == 200  # and it goes on
    finally:
        worker.stop()


def test_a_changed_pack_applies_without_restart_and_an_invalid_one_is_refused(
    kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path
) -> None:
    default = subprocess.run(
        [FACILITATION, "rules", "show-default"], capture_output=True, text=True, check=True
    ).stdout
    pack = tmp_path / "pack.yaml"
    pack.write_text(default)
    env = worker_env(kafka_bootstrap, redis_url, unique, tmp_path, partitions=1)
    env["FACILITATION_RULES_PATH"] = str(pack)
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    queue = TutorQueue(connect(redis_url))
    tutor = env["FACILITATION_DEFAULT_TUTOR"]
    course = f"course-v1:Reload+{unique}+2026"
    topic = env["FACILITATION_EVENTS_TOPIC"]

    def question(n: int, hours_ago: float) -> tuple[bytes, bytes]:
        event = thread(course, n, datetime.now(UTC) - timedelta(hours=hours_ago))
        return event.partition_key().encode(), dumps(event).encode()

    try:
        worker.wait_ready()
        send(kafka_bootstrap, topic, [question(1, 2)])  # 2 h old: inside the 12 h SLA
        time.sleep(4)
        assert queue.list_queue(tutor) == []

        tighter = re.sub(r"question_sla_hours: \d+", "question_sla_hours: 1", default)
        tighter = re.sub(r"warn_at: [0-9.]+", "warn_at: null", tighter)
        assert tighter != default
        pack.write_text(tighter)
        wait_for(lambda: "rule pack reloaded" in worker.tail(200), 30, "the reload")
        send(kafka_bootstrap, topic, [question(2, 2)])  # 2 h old: past the new 1 h SLA
        wait_for(lambda: len(queue.list_queue(tutor)) == 1, 30, "a nudge under the new pack")

        pack.write_text(tighter.replace("sla_hours: 24", "sla_hours: soon"))
        wait_for(
            lambda: "rejected, keeping the previous one" in worker.tail(200),
            30,
            "the invalid pack to be refused",
        )
        send(kafka_bootstrap, topic, [question(3, 2)])  # still judged by the 1 h SLA
        wait_for(lambda: len(queue.list_queue(tutor)) == 2, 30, "the previous pack to hold")
    finally:
        worker.stop()
