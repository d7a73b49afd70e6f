"""The tutor API on real Redis: every call authenticated, tutors confined to their queue."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry

from facilitation_rules.contract.alerts import Alert, alert_id_for
from facilitation_rules.routing.roster import load_roster
from facilitation_stream.delivery.queues import TutorQueue
from facilitation_stream.delivery.tutor_api import BackgroundServer, TutorApi
from facilitation_stream.delivery.tutor_auth import LmsTutor, TokenStore, hash_token
from facilitation_stream.metrics import Metrics

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]
ROSTER = load_roster(ROOT / "rules/facilitation_rules/packs/roster.example.yaml")
SERVICE_TOKEN = "lms-service-secret"
T0 = datetime(2025, 3, 5, 13, tzinfo=UTC)


def make_alert(n: int, learner: str) -> Alert:
    return Alert(
        alert_id=alert_id_for("unanswered_post", ROSTER.course_id, "post", f"p{n}", "1"),
        rule="unanswered_post", kind="unanswered_post", course_id=ROSTER.course_id,
        subject_type="post", subject_id=f"p{n}", learner_id=learner, fired_at=T0,
        severity="high", reasons=("no reply for 20 h",),
        details={"title": "<img src=x onerror=alert(1)>", "excerpt": "help", "thread_id": f"t{n}",
                 "url": f"https://lms.example/t{n}"},
    )


class Client:
    def __init__(self, base: str, token: str | None, lms_user: str | None = None) -> None:
        self.base, self.token, self.lms_user = base, token, lms_user

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        req = urllib.request.Request(self.base + path, method=method)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if self.lms_user:
            req.add_header("X-Facilitation-LMS-User", self.lms_user)
        data = json.dumps(body).encode() if body is not None else None
        if data:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, data, timeout=10) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


@pytest.fixture
def env(redis_url: str, unique: str) -> Iterator[dict[str, Any]]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    prefix = f"apitest:{unique}:"
    queue = TutorQueue(client, prefix)

    def lms(user: str) -> LmsTutor | None:
        t = next((t for t in ROSTER.tutors if t.lms_user_id == user), None)
        return LmsTutor(t.tutor_id, t.lead) if t else None

    tokens = TokenStore(client, prefix, service_token_hash=hash_token(SERVICE_TOKEN),
                        lms_users=lms, is_lead=lambda t: t in {"ana", "emma"})
    api = TutorApi(queue, tokens, lambda: [ROSTER], clock=lambda: T0,
                   metrics=Metrics(CollectorRegistry()))
    ben_nudge = queue.enqueue(make_alert(1, "L1"), "ben", now=T0).nudge_id
    carla_nudge = queue.enqueue(make_alert(2, "L2"), "carla", now=T0).nudge_id
    with BackgroundServer(api.app()) as base:
        yield {
            "base": base, "queue": queue, "ben_nudge": ben_nudge, "carla_nudge": carla_nudge,
            "ben": Client(base, tokens.issue("ben")), "carla": Client(base, tokens.issue("carla")),
            "ana": Client(base, tokens.issue("ana")),
        }
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_missing_or_wrong_token_is_401(env: dict[str, Any]) -> None:
    for token in (None, "nope", ""):
        status, body = Client(env["base"], token)("GET", "/api/v1/queue")
        assert status == 401 and "token" in body["error"]
    status, _ = Client(env["base"], None)("POST", f"/api/v1/nudges/{env['ben_nudge']}/claim", {})
    assert status == 401


def test_tutor_sees_and_acts_on_own_queue_only(env: dict[str, Any]) -> None:
    ben, carla = env["ben"], env["carla"]
    status, body = ben("GET", "/api/v1/queue")
    assert status == 200
    [nudge] = body["queues"]["ben"]
    assert nudge["nudge_id"] == env["ben_nudge"]
    assert nudge["items"][0]["title"] == "<img src=x onerror=alert(1)>"  # data, not markup
    assert ben("GET", "/api/v1/queue?tutor=carla")[0] == 403
    assert ben("GET", "/api/v1/queue?all=1")[0] == 403
    assert ben("GET", f"/api/v1/nudges/{env['carla_nudge']}")[0] == 403
    for action, body_ in (("claim", {}), ("resolve", {}), ("snooze", {"hours": 2}),
                          ("reassign", {"to": "ben"}), ("not-useful", {})):
        status, _ = ben("POST", f"/api/v1/nudges/{env['carla_nudge']}/{action}", body_)
        assert status == 403, action
    assert env["queue"].get(env["carla_nudge"]).state == "new"
    assert carla("POST", f"/api/v1/nudges/{env['carla_nudge']}/claim", {})[0] == 200
    assert carla("POST", f"/api/v1/nudges/{env['carla_nudge']}/claim", {})[0] == 200  # noop
    status, body = carla("POST", f"/api/v1/nudges/{env['carla_nudge']}/resolve", {})
    assert status == 200 and body["nudge"]["state"] == "resolved"
    assert carla("POST", f"/api/v1/nudges/{env['carla_nudge']}/claim", {})[0] == 409
    assert carla("GET", "/api/v1/nudges/n-doesnotexist")[0] == 404


def test_bad_requests_are_400(env: dict[str, Any]) -> None:
    ben, nid = env["ben"], env["ben_nudge"]
    assert ben("POST", f"/api/v1/nudges/{nid}/snooze", {"hours": "soon"})[0] == 400
    assert ben("POST", f"/api/v1/nudges/{nid}/snooze", {"hours": -1})[0] == 400
    assert ben("POST", f"/api/v1/nudges/{nid}/reassign", {"to": "mallory"})[0] == 400
    assert ben("POST", f"/api/v1/nudges/{nid}/explode", {})[0] == 404


def test_lead_sees_the_team_and_can_act(env: dict[str, Any]) -> None:
    ana = env["ana"]
    status, body = ana("GET", "/api/v1/queue?all=1")
    assert status == 200 and {"ben", "carla"} <= set(body["queues"])
    status, me = ana("GET", "/api/v1/me")
    assert me["lead"] is True and len(me["team"]) == 8
    status, body = ana("POST", f"/api/v1/nudges/{env['ben_nudge']}/reassign", {"to": "carla"})
    assert status == 200 and body["nudge"]["tutor_id"] == "carla"
    assert env["ben"]("GET", f"/api/v1/nudges/{env['ben_nudge']}")[0] == 403
    assert ana("GET", "/api/v1/feedback")[0] == 200
    assert env["ben"]("GET", "/api/v1/feedback")[0] == 403


def test_lms_identity_path(env: dict[str, Any]) -> None:
    as_ben = Client(env["base"], SERVICE_TOKEN, lms_user="ben")
    status, body = as_ben("GET", "/api/v1/queue")
    assert status == 200 and list(body["queues"]) == ["ben"]
    assert Client(env["base"], SERVICE_TOKEN)("GET", "/api/v1/queue")[0] == 401
    assert Client(env["base"], SERVICE_TOKEN, lms_user="stranger")("GET", "/api/v1/me")[0] == 401
    assert Client(env["base"], "ben-guess", lms_user="ben")("GET", "/api/v1/me")[0] == 401


def test_page_health_and_metrics_need_no_token(env: dict[str, Any]) -> None:
    with urllib.request.urlopen(env["base"] + "/", timeout=10) as res:
        assert "script-src 'self'" in res.headers["Content-Security-Policy"]
        assert b"tutor_page.js" in res.read()
    with urllib.request.urlopen(env["base"] + "/healthz", timeout=10) as res:
        assert json.loads(res.read()) == {"ok": True}
    with urllib.request.urlopen(env["base"] + "/metrics", timeout=10) as res:
        assert b"facilitation_open_nudges" in res.read()
