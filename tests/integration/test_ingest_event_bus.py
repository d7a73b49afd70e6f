"""`facilitation ingest event-bus` against the real parts: Apache Kafka, Apicurio Registry's
Confluent-compatible API, and the LMS side as Aspects runs it (event-tracking's event-bus
backend -> openedx-events -> edx-event-bus-kafka's producer with confluent-kafka's Avro
serializer, in a process of its own: tests/support/lms_event_bus.py).

1. The project's tracking-log fixtures sent over the bus give exactly the events
   `ingest tracking-log` gives for the files (same event ids); broken messages are
   dead-lettered with the problem; offsets are committed, so a second run reads nothing.
2. Live: a learner's question sent over the bus reaches a tutor's Redis queue through the
   running consumer and the live worker.
3. Offsets wait: with the registry down, then with the events topic refusing every send,
   nothing is committed; once the sends succeed, all of it is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import REGISTRY, CollectorRegistry

from facilitation_rules.contract import codec as event_codec
from facilitation_stream.cli.main import main
from facilitation_stream.delivery.queues import TutorQueue, connect
from facilitation_stream.ingest.event_bus import EventBusIngest
from facilitation_stream.ingest.event_files import read_events
from facilitation_stream.kafka_config import ensure_topics
from facilitation_stream.metrics import Metrics
from facilitation_stream.settings import Settings, get_settings
from tests.integration.test_ingest import FIXTURES, _consume_all
from tests.integration.test_worker_pipeline import wait_for
from tests.support.lms_event_bus import fixture_records
from tests.support.worker_process import FACILITATION, ROOT, WorkerProcess, worker_env

pytestmark = pytest.mark.integration

CE_TYPE = ("ce_type", b"org.openedx.analytics.tracking.event.emitted.v1")


def lms_sends(bootstrap: str, registry: str, prefix: str, records: list[dict[str, Any]]) -> dict:
    """Send ``records`` from a process configured as an Aspects LMS; returns its counts."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.lms_event_bus", bootstrap, registry, prefix],
        input="".join(json.dumps(r) + "\n" for r in records),
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.splitlines()[-1]))


def bus_env(kafka_bootstrap: str, registry: str, unique: str) -> dict[str, str]:
    return {
        "FACILITATION_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "FACILITATION_SCHEMA_REGISTRY_URL": registry,
        "FACILITATION_EVENT_BUS_TOPIC": f"p{unique}-analytics",
        "FACILITATION_EVENT_BUS_GROUP": f"bus-{unique}",
        "FACILITATION_EVENT_BUS_DEAD_LETTER_TOPIC": f"bus-dlq-{unique}",
        "FACILITATION_EVENTS_TOPIC": f"events-{unique}",
    }


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_fixtures_over_the_bus_give_the_bridge_events_and_bad_messages_are_dead_lettered(
    kafka_bootstrap: str, schema_registry_url: str, unique: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    env = bus_env(kafka_bootstrap, schema_registry_url, unique)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    bus_topic = env["FACILITATION_EVENT_BUS_TOPIC"]
    # One partition keeps the records in file order, as the log file has them.
    ensure_topics(Settings(kafka_bootstrap=kafka_bootstrap), [bus_topic], partitions=1)
    assert lms_sends(kafka_bootstrap, schema_registry_url, f"p{unique}", fixture_records()) == {
        "sent": 25, "skipped": 1,  # the fixture's record without a time
    }  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for value, headers in [
        (b'{"name": "json, not avro"}', [CE_TYPE]),
        (b"\x00" + (10**6).to_bytes(4, "big") + b"\x02a", [CE_TYPE]),  # no such schema
        (b"\x00\x00\x00\x00\x01", []),  # no ce_type
        (b"another signal", [("ce_type", b"org.openedx.learning.course.enrollment.created.v1")]),
    ]:
        producer.send(bus_topic, value=value, headers=headers)
    producer.flush()
    producer.close()
    before = metric("facilitation_event_bus_messages_total", outcome="translated")
    try:
        assert main(["ingest", "event-bus", "--stop-when-idle", "2"]) == 0
        summary = capsys.readouterr().err
        assert "29 messages committed" in summary and "20 events sent" in summary, summary
        assert main(["ingest", "event-bus", "--stop-when-idle", "1"]) == 0  # offsets committed
        assert "0 messages committed" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()

    expected = list(read_events([FIXTURES / "mixed.log.gz", FIXTURES / "pretty.json"]))
    records = _consume_all(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], len(expected))
    events = [event_codec.loads(r.value) for r in records]
    assert sorted(events, key=lambda e: e.event_id) == sorted(expected, key=lambda e: e.event_id)
    assert all(r.key.decode() == e.partition_key() for r, e in zip(records, events, strict=True))

    dead = _consume_all(kafka_bootstrap, env["FACILITATION_EVENT_BUS_DEAD_LETTER_TOPIC"], 5)
    problems = sorted(dict(r.headers)["problem"].decode() for r in dead)
    assert problems == ["headers", "record", "record", "unknown-schema", "wire-format"]
    for record in dead:
        headers = dict(record.headers)
        assert headers["reason"] == b"invalid" and headers["source-topic"] == bus_topic.encode()
        assert headers["detail"]
    assert metric("facilitation_event_bus_messages_total", outcome="translated") - before == 20
    # The LMS's producer registered its schemas in the real registry, under its subjects.
    with urllib.request.urlopen(f"{schema_registry_url}/subjects", timeout=5) as answer:
        subjects = json.loads(answer.read())
    assert f"{bus_topic}-org.openedx.analytics.tracking.event.emitted.v1.CloudEvent" in subjects
    assert committed(kafka_bootstrap, env["FACILITATION_EVENT_BUS_GROUP"], bus_topic) == 29


def committed(bootstrap: str, group: str, topic: str) -> int | None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    try:
        return consumer.committed(TopicPartition(topic, 0))
    finally:
        consumer.close()


def forum_question(course: str, at: datetime, thread: str, learner: int) -> dict[str, Any]:
    """``edx.forum.thread.created`` as the discussion app emits it (tracker event shape)."""
    return {
        "name": "edx.forum.thread.created",
        "timestamp": at.isoformat(),
        "data": {
            "id": thread, "thread_type": "question", "title": f"Stuck on {thread}",
            "body": "<p>Where do I start?</p>", "anonymous": False, "truncated": False,
            "user_forums_roles": ["Student"], "user_course_roles": [],
        },
        "context": {
            "user_id": learner, "username": f"learner{learner}", "course_id": course,
            "org_id": "Live", "path": "/api/discussion/v1/threads/",
        },
    }  # fmt: skip


def test_a_question_over_the_bus_nudges_a_tutor_through_the_live_worker(
    kafka_bootstrap: str, redis_url: str, schema_registry_url: str, unique: str, tmp_path: Path
) -> None:
    env = {**worker_env(kafka_bootstrap, redis_url, unique, tmp_path),
           **bus_env(kafka_bootstrap, schema_registry_url, unique)}  # fmt: skip
    ensure_topics(Settings(kafka_bootstrap=kafka_bootstrap), [env["FACILITATION_EVENT_BUS_TOPIC"]])
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    log = open(tmp_path / "bus.log", "wb")  # noqa: SIM115 - owned by the child
    consumer = subprocess.Popen(
        [FACILITATION, "ingest", "event-bus"], env={**os.environ, **env}, cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        worker.wait_ready()
        course = f"course-v1:Live+{unique}+2026"
        asked = datetime.now(UTC) - timedelta(days=2)  # two days unanswered: SLA long gone
        sent = lms_sends(kafka_bootstrap, schema_registry_url, f"p{unique}",
                         [forum_question(course, asked, "T1", 7)])  # fmt: skip
        assert sent == {"sent": 1, "skipped": 0}
        queue = TutorQueue(connect(redis_url))
        tutor = env["FACILITATION_DEFAULT_TUTOR"]
        wait_for(lambda: len(queue.list_queue(tutor)) == 2, 90, "nudges for the question")
        nudges = queue.list_queue(tutor)
        assert {n.learner_id for n in nudges} == {"7"}
        assert all(n.course_id == course for n in nudges)
        assert any("no reply" in reason for n in nudges for reason in n.reasons), nudges
    finally:
        consumer.send_signal(signal.SIGTERM)
        code = consumer.wait(30)
        log.close()
        worker.stop()
    output = (tmp_path / "bus.log").read_text()
    assert code == 0 and "1 messages committed (1 translated)" in output, output[-2000:]



def counted(metrics: Any, name: str) -> float:
    return metrics.registry.get_sample_value(f"facilitation_event_bus_{name}_total") or 0.0


def test_offsets_wait_for_the_registry_and_for_kafka_to_acknowledge(
    kafka_bootstrap: str, schema_registry_url: str, unique: str
) -> None:
    """A registry that does not answer, then an events topic that refuses every send (a
    broker limit of 100 bytes a message): the batch is read again, nothing is committed or
    dead-lettered; once the topic accepts, every event arrives and the offsets move."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

    env = bus_env(kafka_bootstrap, schema_registry_url, unique)
    settings = Settings(**{k.removeprefix("FACILITATION_").lower(): v for k, v in env.items()})
    events_topic, bus_topic = settings.events_topic, settings.event_bus_topic
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(events_topic, 1, 1, topic_configs={"max.message.bytes": "100"})])
    ensure_topics(settings, [bus_topic], partitions=1)
    questions = [forum_question("course-v1:Ack+T+1", datetime(2026, 3, 2, 9, n, tzinfo=UTC),
                                f"T{n}", n) for n in range(3)]  # fmt: skip
    assert lms_sends(kafka_bootstrap, schema_registry_url, f"p{unique}", questions)["sent"] == 3

    def run_until_read_again(settings: Settings) -> Metrics:
        metrics = Metrics(CollectorRegistry())
        stop = threading.Event()
        ingest = EventBusIngest(settings, metrics)
        runner = threading.Thread(target=ingest.run, args=(stop,))
        runner.start()
        try:
            wait_for(lambda: counted(metrics, "redeliveries") >= 1, 60, "a batch read again")
        finally:
            stop.set()
            runner.join(60)
        return metrics

    group = settings.event_bus_group
    down = settings.model_copy(update={"schema_registry_url": "http://127.0.0.1:9/apis/ccompat/v7"})
    assert counted(run_until_read_again(down), "schemas_fetched") == 0
    assert committed(kafka_bootstrap, group, bus_topic) is None
    assert counted(run_until_read_again(settings), "events_sent") == 0
    assert committed(kafka_bootstrap, group, bus_topic) is None

    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, events_topic,
                                        {"max.message.bytes": "1048588"})])  # fmt: skip
    admin.close()
    stats = EventBusIngest(settings, Metrics(CollectorRegistry())).run(threading.Event(), 2)
    assert (stats.read, stats.events, stats.outcomes) == (3, 3, {"translated": 3})
    assert committed(kafka_bootstrap, group, bus_topic) == 3
    events = [event_codec.loads(r.value) for r in _consume_all(kafka_bootstrap, events_topic, 3)]
    assert sorted(e.post_id for e in events) == ["T0", "T1", "T2"]
    assert _consume_all(kafka_bootstrap, settings.event_bus_dead_letter_topic, 0) == []
