"""The LMS's own forum, live, end to end: a learner's question becomes a tutor's nudge.

The test LMS (tests/lms: the plugin found through the ``lms.djangoapp`` entry point by
edx-django-utils, event-tracking's ``tracking_logs`` backends, MariaDB with
``ATOMIC_REQUESTS``) serves the forum's create-thread request, which emits
``edx.forum.thread.created`` through event-tracking as edx-platform's discussion app does.
The plugin's backend puts the event in the outbox in the request's transaction; the
process's sender (started by the request) sends it to the real Kafka; the live worker
(``facilitation worker``, a short question SLA, a roster) raises the nudge; it lands in the
queue of the tutor on shift for discussions, in the real Redis. No command run by hand.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from facilitation_stream.delivery.queues import TutorQueue, connect
from tests.integration.test_worker_pipeline import wait_for
from tests.support import lms_django
from tests.support.worker_process import FACILITATION, WorkerProcess, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.lms]


def quick_pack(tmp: Path) -> Path:
    """The default pack with questions answered within 6 seconds, no warning first."""
    pack = yaml.safe_load(subprocess.run([FACILITATION, "rules", "show-default"],
                                         capture_output=True, text=True, check=True).stdout)
    unanswered = pack["rules"]["unanswered_post"]
    unanswered.update(sla_hours=0.002, question_sla_hours=0.0017, warn_at=None,
                      escalate_after_hours=None)
    path = tmp / "pack.yaml"
    path.write_text(yaml.safe_dump(pack))
    return path


def roster(tmp: Path, course: str, tina: str, rex: str) -> Path:
    always = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-00:00")
    path = tmp / "roster.yaml"
    path.write_text(yaml.safe_dump({
        "course_id": course,
        "tutors": [
            {"id": tina, "name": "Tina", "timezone": "UTC", "hours": always, "capacity": 20,
             "areas": ["discussions"]},
            {"id": rex, "name": "Rex", "timezone": "UTC", "hours": always, "capacity": 20,
             "areas": ["reflections"]},
        ],
    }))
    return path


@pytest.fixture
def lms(kafka_bootstrap: str, unique: str) -> Iterator[dict[str, Any]]:
    """The test LMS on MariaDB, configured to send to a topic of this test."""
    lms_django.setup()
    if not lms_django.mariadb():
        pytest.fail("FACILITATION_TEST_MARIADB is not set: run with `make test`")
    from django.conf import settings

    from facilitation_xblocks.outbox import emitter as emitters

    lms_django.clear("default")
    bucket = settings.XBLOCK_SETTINGS["FACILITATION"]
    saved = dict(bucket)
    bucket.update(KAFKA_BOOTSTRAP=kafka_bootstrap, EVENTS_TOPIC=f"events-{unique}")
    emitters._shared = None  # this process's emitter is built anew, for this topic
    try:
        yield bucket
    finally:
        if emitters._shared is not None:
            emitters._shared.close(2.0)
        emitters._shared = None
        bucket.clear()
        bucket.update(saved)
        lms_django.clear("default")


def test_a_forum_question_reaches_the_tutor_on_shift_through_kafka_and_the_worker(
    lms: dict[str, Any], kafka_bootstrap: str, redis_url: str, unique: str, tmp_path: Path
) -> None:
    from django.core.management import call_command
    from django.test import Client

    from facilitation_xblocks.plugin.models import OutboxEvent

    course = f"course-v1:Live+{unique}+2026"
    tina, rex = f"tina-{unique}", f"rex-{unique}"  # queues of this test alone
    env = worker_env(kafka_bootstrap, redis_url, unique, tmp_path)
    env.update(FACILITATION_RULES_PATH=str(quick_pack(tmp_path)),
               FACILITATION_ROSTER_PATH=str(roster(tmp_path, course, tina, rex)))
    assert env["FACILITATION_EVENTS_TOPIC"] == lms["EVENTS_TOPIC"]
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        thread = {"id": f"thread-{unique}", "title": "How do I start exercise 1?",
                  "body": "<p>I am stuck on the <b>first</b> step.</p>",
                  "thread_type": "question", "forum_roles": ["Student"], "course_roles": []}
        response = Client().post(
            f"/courses/{course}/threads", data=json.dumps(thread),
            content_type="application/json", HTTP_X_TEST_USER_ID="4242",
            HTTP_X_TEST_USERNAME="ana", HTTP_REFERER=f"https://lms.example/{course}/discussion",
        )
        assert response.status_code == 200, response.content
        # Delivered: the sender forgot the row once Kafka acknowledged it.
        wait_for(lambda: not OutboxEvent.objects.exists(), 30, "the outbox to drain")

        queue = TutorQueue(connect(redis_url))
        wait_for(lambda: queue.list_queue(tina), 60, "a nudge in tina's queue")
        nudge = queue.list_queue(tina)[0]
        assert (nudge.learner_id, nudge.course_id) == ("4242", course)
        assert any(rule.startswith("unanswered_post") for rule in nudge.rules), nudge
        assert nudge.items[0].thread_id == thread["id"]
        assert queue.list_queue(rex) == []
        assert queue.list_queue(env["FACILITATION_DEFAULT_TUTOR"]) == []
        # The operator's check: all delivered, Kafka reachable, the live path on.
        out = io.StringIO()
        call_command("facilitation_status", "--json", stdout=out)
        report = json.loads(out.getvalue())
        assert (report["depth"], report["stuck"], report["kafka_reachable"],
                report["topic_exists"], report["tracking_backend_active"]) == (
            0, False, True, True, True)
        assert report["delivered_total"] >= 1 and report["last_delivery_age_s"] < 120
    finally:
        worker.stop()
