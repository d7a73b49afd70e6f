"""The engine side of retirement, on real Redis, Kafka and a live worker: the learner's open
nudges are closed and scrubbed, later alerts about them make no nudge, and the worker drops
the learner's state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from facilitation_rules.contract.alerts import Alert, alert_id_for
from facilitation_rules.contract.events import Actor, LearnerRetired, PostCreated
from facilitation_stream.delivery.queues import DEFAULT_PREFIX, TutorQueue
from tests.integration.test_tutor_queue_redis import T0, alert
from tests.integration.test_worker_pipeline import changelog_counts, produce, wait_for
from tests.support.worker_process import WorkerProcess, worker_env

pytestmark = pytest.mark.integration
COURSE = "course-v1:OpenEdX+Facilitation+2025"


def _escalation(learner: str) -> Alert:
    base = alert("p9", learner=learner)
    escalation_id = alert_id_for("unanswered_post.escalation", COURSE, "post", "p9", "1")
    return Alert(**{**{f: getattr(base, f) for f in Alert.FIELDS}, "alert_id": escalation_id,
                    "details": {**base.details, "escalate": True}})


def test_redact_closes_and_scrubs_the_learners_nudges_and_refuses_new_ones(
    redis_client, unique: str
) -> None:
    queue = TutorQueue(redis_client, prefix=f"retire-{unique}:")
    mine = queue.enqueue(alert("p1", learner="L1"), "ana", now=T0)
    lead = queue.enqueue(_escalation("L1"), "emma", now=T0)
    other = queue.enqueue(alert("p2", learner="L2"), "ana", now=T0)
    assert queue.redact_learner(COURSE, "L1", now=T0).status == "ok"
    for nudge_id in (mine.nudge_id, lead.nudge_id):
        raw = redis_client.hgetall(f"{queue.prefix}nudge:{nudge_id}")
        assert raw["state"] == "resolved" and raw["resolution"] == "learner retired"
        text = json.dumps(raw)
        assert "L1" not in text and "Stuck on week 2" not in text and "lms.example" not in text
        assert "learner_id" not in raw and "merge_key" not in raw
    assert queue.list_queue("ana") and queue.list_queue("ana")[0].nudge_id == other.nudge_id
    assert redis_client.get(f"{queue.prefix}affinity:{COURSE}|learner|L1") is None
    assert queue.enqueue(alert("p3", learner="L1"), "ana", now=T0).status == "retired"
    assert queue.redact_learner(COURSE, "L1", now=T0).status == "noop"  # repeatable


def test_a_retirement_through_the_live_worker_redacts_the_nudge_and_drops_the_state(
    kafka_bootstrap: str, redis_url: str, redis_client, unique: str, tmp_path: Path
) -> None:
    env = worker_env(kafka_bootstrap, redis_url, unique, tmp_path)
    course, learner = f"course-v1:Retire+{unique}+2026", "learner-7"
    asked = datetime.now(UTC) - timedelta(days=3)  # unanswered past its SLA by now
    question = PostCreated(
        event_id=f"q-{unique}", occurred_at=asked, course_id=course, actor=Actor(user_id=learner),
        post_id="t1", thread_id="t1", thread_type="question", title="Where is week 2?",
        body_excerpt="I cannot find the week 2 reading anywhere.", word_count=8,
    )
    retired = LearnerRetired(
        event_id=f"r-{unique}", occurred_at=datetime.now(UTC), course_id=course,
        actor=Actor(user_id=learner), learner_id=learner,
    )
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        produce(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], [question])
        tutor = env["FACILITATION_DEFAULT_TUTOR"]
        queue = TutorQueue(redis_client, DEFAULT_PREFIX)
        wait_for(lambda: any(n.course_id == course for n in queue.list_queue(tutor)), 90,
                 "the nudge about the question")
        app_id = env["FACILITATION_APP_ID"]
        assert f"L|{course}|{learner}" in changelog_counts(kafka_bootstrap, app_id)
        produce(kafka_bootstrap, env["FACILITATION_EVENTS_TOPIC"], [retired])  # type: ignore[list-item]
        wait_for(lambda: not any(n.course_id == course for n in queue.list_queue(tutor)), 90,
                 "the nudge to be closed")
        wait_for(lambda: f"L|{course}|{learner}" not in changelog_counts(kafka_bootstrap, app_id),
                 60, "the learner's state to go")
    finally:
        worker.stop()
    closed = [redis_client.hgetall(k) for k in redis_client.scan_iter(f"{DEFAULT_PREFIX}nudge:*")]
    ours = [n for n in closed if n.get("course_id") == course]
    assert ours and all(n["resolution"] == "learner retired" for n in ours), [
        (n["state"], n["resolution"], n["items"]) for n in ours]
    assert not any(learner in json.dumps(n) or "week 2" in json.dumps(n) for n in ours)
