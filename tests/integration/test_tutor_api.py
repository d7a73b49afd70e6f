"""The tutor API on real Redis: every call authenticated, tutors confined to their queue,
leads on the team's; LMS users only through the roster's lms_user_id; tokens that expire."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from facilitation_stream.delivery.tutor_auth import UnknownTutor
from tests.support.tutor_api import ROSTER, SERVICE_TOKEN, T0, Client, make_alert, tutor_api

pytestmark = pytest.mark.integration


@pytest.fixture
def env(redis_url: str, unique: str) -> Iterator[dict[str, Any]]:
    with tutor_api(redis_url, f"apitest:{unique}:") as env:
        queue = env["queue"]
        details = {"title": "<img src=x onerror=alert(1)>", "excerpt": "help"}
        ben = queue.enqueue(make_alert(1, "L1", details=details), "ben", now=T0)
        env["ben_nudge"] = ben.nudge_id
        env["carla_nudge"] = queue.enqueue(make_alert(2, "L2"), "carla", now=T0).nudge_id
        yield env


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
    assert ben("POST", f"/api/v1/nudges/{nid}/reassign", {"to": "mallory"})[0] == 422
    assert ben("POST", f"/api/v1/nudges/{nid}/explode", {})[0] == 404
    # every number bounded: 400, never 500, and the nudge untouched
    for hours in (1e308, 721, 0, -1e308, 10**400):
        assert ben("POST", f"/api/v1/nudges/{nid}/snooze", {"hours": hours})[0] == 400, hours
    for raw in (b'{"hours": NaN}', b'{"hours": Infinity}', b'[1]', b'{"until": 5}'):
        assert ben.raw("POST", f"/api/v1/nudges/{nid}/snooze", raw)[0] == 400, raw
    assert ben("POST", f"/api/v1/nudges/{nid}/snooze", {"until": "2099-01-01T00:00:00Z"})[0] == 422
    for query in ("offset=-1", "offset=1e9", "limit=0", "limit=101", "limit=abc", "sort=x",
                  "severity=loud", "state=resolved", "claimed=ana", "overdue=2"):
        assert ben("GET", f"/api/v1/queue?{query}")[0] == 400, query
    assert env["queue"].get(nid).state == "new"


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
    as_ben = Client(env["base"], SERVICE_TOKEN, lms_user="ben.carter")  # ben's lms_user_id
    status, body = as_ben("GET", "/api/v1/queue")
    assert status == 200 and list(body["queues"]) == ["ben"]
    assert Client(env["base"], SERVICE_TOKEN)("GET", "/api/v1/queue")[0] == 401
    assert Client(env["base"], SERVICE_TOKEN, lms_user="stranger")("GET", "/api/v1/me")[0] == 401
    assert Client(env["base"], "ben-guess", lms_user="ben")("GET", "/api/v1/me")[0] == 401
    # An LMS account named like a tutor id is nobody: only lms_user_id maps (a lead, here).
    for user in ("emma", "ana", "ben"):
        assert Client(env["base"], SERVICE_TOKEN, lms_user=user)("GET", "/api/v1/me")[0] == 401


def test_tokens_expire_belong_to_roster_tutors_and_are_listed(env: dict[str, Any]) -> None:
    tokens, clock = env["tokens"], env["clock"]
    with pytest.raises(UnknownTutor):
        tokens.issue("ghost")
    secret = tokens.issue("isla", days=1)
    short = Client(env["base"], secret)
    assert short("GET", "/api/v1/me")[0] == 200
    listed = {t.tutor_id: t for t in tokens.tokens()}
    assert listed["isla"].expires_at == "2025-03-06T13:00:00Z" and not listed["isla"].expired(T0)
    assert secret not in json.dumps([dataclasses.asdict(t) for t in tokens.tokens()])
    clock["now"] = T0 + timedelta(days=1)
    assert short("GET", "/api/v1/me")[0] == 401  # expired
    assert env["ben"]("GET", "/api/v1/me")[0] == 200  # the default 90 days
    clock["now"] = T0 + timedelta(days=90, seconds=1)
    assert env["ben"]("GET", "/api/v1/me")[0] == 401
    clock["now"] = T0
    # A tutor who leaves the roster loses access with their old tokens.
    env["rosters"]["current"] = [dataclasses.replace(
        ROSTER, tutors=tuple(t for t in ROSTER.tutors if t.tutor_id != "ben"))]
    assert env["ben"]("GET", "/api/v1/me")[0] == 401
    assert env["carla"]("GET", "/api/v1/me")[0] == 200


def test_page_health_and_metrics_need_no_token(env: dict[str, Any]) -> None:
    with urllib.request.urlopen(env["base"] + "/", timeout=10) as res:
        assert "script-src 'self'" in res.headers["Content-Security-Policy"]
        assert b"tutor_page.js" in res.read()
    with urllib.request.urlopen(env["base"] + "/healthz", timeout=10) as res:
        assert json.loads(res.read()) == {"ok": True}
    with urllib.request.urlopen(env["base"] + "/metrics", timeout=10) as res:
        assert b"facilitation_open_nudges" in res.read()
