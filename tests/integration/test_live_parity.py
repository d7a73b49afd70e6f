"""The live engine against its oracle, `facilitation replay`, on a generated course.

Same events → the same set of alerts (same alert_ids), with one worker running
undisturbed, and with a worker SIGKILLed twice at random points mid-stream: zero alerts
missing, zero duplicates in the tutor queues.
"""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Event
from facilitation_rules.simulation.course import START, generate_course
from facilitation_stream.delivery.queues import DEFAULT_PREFIX
from facilitation_stream.metrics import sample_total
from tests.integration.test_worker_pipeline import produce, wait_for
from tests.support.worker_process import WorkerProcess, worker_env

pytestmark = pytest.mark.integration

FACILITATION = str(Path(sys.executable).with_name("facilitation"))


def generated_course(unique: str, days: int = 12) -> list[Event]:
    """The seed course's first ``days`` days, moved to end 20 days ago, in its own course."""
    course = f"course-v1:Parity+{unique}+2026"
    shift = datetime.now(UTC) - timedelta(days=20 + days) - START
    horizon = START + timedelta(days=days)
    return [
        dataclasses.replace(e, occurred_at=e.occurred_at + shift, course_id=course)
        for e in generate_course(seed=7).events
        if e.occurred_at < horizon
    ]


def replay_oracle(events: list[Event], tmp: Path, until: datetime) -> set[tuple[str, str]]:
    path = tmp / "events.jsonl"
    path.write_text("".join(dumps(e) + "\n" for e in events))
    out = subprocess.run(
        [FACILITATION, "replay", str(path), "--until", until.isoformat()],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {(a["alert_id"], a["action"]) for a in map(json.loads, out.splitlines())}


def alerts_topic(bootstrap: str, topic: str) -> list[tuple[str, str]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    seen = [(a["alert_id"], a["action"]) for a in (json.loads(r.value) for r in consumer)]
    consumer.close()
    return seen


def consumed(worker: WorkerProcess) -> int:
    """Contract events the worker has read, from its /metrics."""
    _, body = worker.get("/metrics")
    return int(sample_total(body.decode(), "facilitation_events_consumed_total"))


IDLE_S = 8


def backfill_env(kafka_bootstrap: str, redis_url: str, unique: str, tmp: Path) -> dict[str, str]:
    """The generated course lies in the past and is streamed in bursts: a pause between
    bursts must not count as an idle source, or wall time would fire its deadlines before
    the rest of the course arrives (which replay never does). On a loaded machine the
    producing thread was seen to pause for seconds: allow it ``IDLE_S``."""
    return {**worker_env(kafka_bootstrap, redis_url, unique, tmp),
            "FACILITATION_IDLE_S": str(IDLE_S)}


def settle(read, quiet_s: float = IDLE_S + 4, limit_s: float = 180.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``read()`` stops changing for ``quiet_s``."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        now = read()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(1.0)
    raise AssertionError("the worker did not settle")


def diff_by_rule(live: set[tuple[str, str]], oracle: set[tuple[str, str]]) -> str:
    rules = sorted({a.split(":")[0] for a, _ in live | oracle})
    rows = []
    for rule in rules:
        mine = {x for x in live if x[0].startswith(rule + ":")}
        theirs = {x for x in oracle if x[0].startswith(rule + ":")}
        rows.append(
            f"{rule}: replay {len(theirs)}, live {len(mine)}, "
            f"missing {len(theirs - mine)}, extra {len(mine - theirs)}"
        )
    return "\n".join(rows)


def queued_alert_ids(client, course: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every alert id held by any nudge (open or closed) of ``course``."""
    ids: list[str] = []
    for key in client.scan_iter(f"{DEFAULT_PREFIX}nudge:*", count=1000):
        data = client.hgetall(key)
        if data.get("course_id") == course:
            ids += [item["alert_id"] for item in json.loads(data.get("items") or "[]")]
    return ids


def test_live_worker_fires_exactly_the_replay_alerts(
    kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path
) -> None:
    events = generated_course(unique)
    assert len(events) > 1500
    env = backfill_env(kafka_bootstrap, redis_url, unique, tmp_path)
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        produce(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], events)
        topic = env["FACILITATION_ALERTS_TOPIC"]
        wait_for(lambda: consumed(worker) == len(events), 180, "the worker to read every event")
        settle(lambda: len(alerts_topic(kafka_bootstrap, topic)))
        live = set(alerts_topic(kafka_bootstrap, topic))
    finally:
        worker.stop()
    oracle = replay_oracle(events, tmp_path, datetime.now(UTC))
    assert {a.split(":")[0] for a, _ in oracle} >= {"unanswered_post", "dropout_risk"}
    assert live == oracle, diff_by_rule(live, oracle)


def test_two_sigkills_mid_stream_lose_no_alert_and_queue_none_twice(
    kafka_bootstrap: str, redis_url: str, redis_client, unique: str, tmp_path: Path
) -> None:
    events = generated_course(unique)
    course = events[0].course_id
    env = backfill_env(kafka_bootstrap, redis_url, unique, tmp_path)
    topic = env["FACILITATION_ALERTS_TOPIC"]
    rng = random.Random(unique)
    worker = WorkerProcess(env, tmp_path / "worker-0.log").start()
    worker.wait_ready()
    producer = threading.Thread(
        target=produce,
        args=(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], events, 50, 0.05),
    )
    producer.start()
    try:
        for crash in (1, 2):
            # A random point while events still flow: after some alerts, before the end.
            target = rng.randint(3, 25) * crash
            wait_for(
                lambda t=target: len(alerts_topic(kafka_bootstrap, topic)) >= t,
                120,
                f"{target} alerts before crash {crash}",
            )
            worker.kill()
            worker = WorkerProcess(env, tmp_path / f"worker-{crash}.log").start()
            worker.wait_ready()
        producer.join(180)
        settle(lambda: len(queued_alert_ids(redis_client, course)))
    finally:
        producer.join(180)
        worker.stop()
    oracle = {
        a for a, action in replay_oracle(events, tmp_path, datetime.now(UTC)) if action == "fire"
    }
    queued = queued_alert_ids(redis_client, course)
    assert len(queued) == len(set(queued)), "an alert was queued twice"
    assert oracle - set(queued) == set(), "alerts missing from the tutor queues"
    assert set(queued) - oracle == set(), "alerts the replay oracle does not fire"
