"""The staff-only tutor XBlock proxies to the real tutor API (real Redis) as the LMS user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry
from xblock.runtime import DictKeyValueStore

from facilitation_rules.contract.alerts import Alert, alert_id_for
from facilitation_stream.delivery.queues import TutorQueue
from facilitation_stream.delivery.tutor_api import BackgroundServer, TutorApi
from facilitation_stream.delivery.tutor_auth import LmsTutor, TokenStore, hash_token
from facilitation_stream.metrics import Metrics
from facilitation_xblocks.blocks.tutor_view import TutorViewXBlock
from tests.unit.xblock_harness import call, make_block

pytestmark = pytest.mark.integration
T0 = datetime(2025, 3, 5, 13, tzinfo=UTC)
TUTORS = {"user7": LmsTutor("ben", False), "user8": LmsTutor("carla", False)}


@pytest.fixture
def api(redis_url: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TutorQueue]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    queue = TutorQueue(client, f"xbtest:{unique}:")
    tokens = TokenStore(client, queue.prefix, service_token_hash=hash_token("svc"),
                        lms_users=TUTORS.get)
    app = TutorApi(queue, tokens, clock=lambda: T0, metrics=Metrics(CollectorRegistry())).app()
    with BackgroundServer(app) as base:
        monkeypatch.setenv("FACILITATION_TUTOR_API_URL", base)
        monkeypatch.setenv("FACILITATION_TUTOR_SERVICE_TOKEN", "svc")
        yield queue
    keys = list(client.scan_iter(f"{queue.prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def nudge_for(queue: TutorQueue, tutor: str) -> str:
    alert = Alert(
        alert_id=alert_id_for("unanswered_post", "c", "post", tutor, "1"), rule="unanswered_post",
        kind="unanswered_post", course_id="c", subject_type="post", subject_id=tutor,
        learner_id=f"learner-of-{tutor}", fired_at=T0, severity="high", reasons=("no reply",),
        details={"title": "</script><b>x</b>"},
    )
    return queue.enqueue(alert, tutor, now=T0).nudge_id


def test_staff_tutor_sees_and_acts_on_own_queue(api: TutorQueue) -> None:
    mine, theirs = nudge_for(api, "ben"), nudge_for(api, "carla")
    block: Any = make_block(TutorViewXBlock, DictKeyValueStore(), "7", staff=True)
    html = block.student_view().body_html()
    assert "fx-tutor-view" in html and "</script><b>" not in html
    listed = call(block, "queue", {})
    assert listed["ok"] and [n["nudge_id"] for n in listed["queues"]["ben"]] == [mine]
    assert call(block, "act", {"nudge_id": mine, "action": "claim"})["nudge"]["state"] == "claimed"
    refused = call(block, "act", {"nudge_id": theirs, "action": "resolve"})
    assert refused == {"ok": False, "status": 403,
                       "error": "this nudge is in another tutor's queue"}
    assert call(block, "act", {"nudge_id": mine, "action": "explode"})["status"] == 400
    assert api.get(theirs).state == "new"  # type: ignore[union-attr]


def test_learners_get_nothing(api: TutorQueue) -> None:
    nudge_for(api, "ben")
    block: Any = make_block(TutorViewXBlock, DictKeyValueStore(), "7", staff=False)
    assert "for the course team" in block.student_view().body_html()
    assert call(block, "queue", {}) == {"ok": False, "status": 403, "error": "course staff only"}


def test_staff_without_a_roster_entry_is_refused_by_the_api(api: TutorQueue) -> None:
    block: Any = make_block(TutorViewXBlock, DictKeyValueStore(), "99", staff=True)
    assert call(block, "queue", {})["status"] == 401
