"""Triage on the real Redis: filters, counts, sorts and pages agree; the lead's team view,
reassignment choices that respect the roster; undo puts the nudge back; each endpoint
for each role (tutor, another tutor, lead, the LMS on a tutor's behalf, nobody)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.support.tutor_api import SERVICE_TOKEN, T0, Client, make_alert, tutor_api

pytestmark = pytest.mark.integration


@pytest.fixture
def env(redis_url: str, unique: str) -> Iterator[dict[str, Any]]:
    with tutor_api(redis_url, f"triage:{unique}:") as env:
        yield env


def enqueue(env: dict[str, Any], n: int, tutor: str, **kw: Any) -> str:
    outcome = env["queue"].enqueue(make_alert(n, f"L{n}", **kw), tutor, now=T0)
    assert outcome.status == "created"
    return str(outcome.nudge_id)


def test_filters_counts_sorts_and_pages_agree(env: dict[str, Any]) -> None:
    for n in range(12):
        enqueue(env, n, "ben", severity=("urgent", "high", "warning")[n % 3],
                fired_at=T0 - timedelta(hours=n), rule="unanswered_post" if n % 4 else
                "unanswered_post.escalation")  # fmt: skip
    enqueue(env, 50, "ben", course_id="course-v1:Other+X+1", rule="silent_learner.went_quiet",
            kind="silent_learner", details={"excerpt": "No forum posts yet."})
    ben = env["ben"]
    status, body = ben("GET", "/api/v1/queue")
    assert status == 200 and body["total"] == 13 == body["counts"]["all"]
    assert body["counts"]["severity"] == {"high": 5, "urgent": 4, "warning": 4}
    assert body["counts"]["rule"]["unanswered_post.escalation"] == 3
    for severity, count in body["counts"]["severity"].items():
        status, page = ben("GET", f"/api/v1/queue?severity={severity}")
        assert page["total"] == count and {n["severity"] for n in page["nudges"]} == {severity}
    _, quiet = ben("GET", "/api/v1/queue?rule=silent_learner")  # a prefix covers the family
    assert [n["learner_id"] for n in quiet["nudges"]] == ["L50"]
    _, other = ben("GET", "/api/v1/queue?course=course-v1:Other%2BX%2B1")
    assert other["total"] == 1
    # sorts: oldest first, due first; pages cut the sorted list
    _, due = ben("GET", "/api/v1/queue?sort=due&limit=5")
    _, rest = ben("GET", "/api/v1/queue?sort=due&limit=5&offset=5")
    times = [n["respond_by"] for n in due["nudges"] + rest["nudges"]]
    assert times == sorted(times) and len(due["nudges"]) == 5 and due["total"] == 13
    assert not {n["nudge_id"] for n in due["nudges"]} & {n["nudge_id"] for n in rest["nudges"]}
    first = due["nudges"][0]
    assert first["overdue"] is True and first["learner_label"].startswith("Learner Nr")
    assert first["links"]["thread"].startswith("https://lms.example.org/t")
    assert first["links"]["progress"].startswith("https://lms.example.org/courses/")
    # claimed by me, and states
    env["queue"].claim(first["nudge_id"], "ben", now=T0)
    _, mine = ben("GET", "/api/v1/queue?claimed=me")
    assert [n["nudge_id"] for n in mine["nudges"]] == [first["nudge_id"]]
    assert mine["counts"]["claimed_by_me"] == 1 == mine["counts"]["state"]["claimed"]
    _, new = ben("GET", "/api/v1/queue?state=new")
    assert new["total"] == 12


def test_snooze_until_a_time_or_the_next_shift(env: dict[str, Any]) -> None:
    nid = enqueue(env, 1, "ben")
    status, me = env["ben"]("GET", "/api/v1/me")
    # ben (London) works Wednesdays 10:00-18:00; the next shift after this one: Saturday 09:00
    assert me["on_shift"] is True and me["next_shift"] == "2025-03-08T09:00:00Z"
    status, body = env["ben"]("POST", f"/api/v1/nudges/{nid}/snooze", {"next_shift": True})
    assert status == 200 and body["nudge"]["snoozed_until"] == "2025-03-08T09:00:00Z"
    status, body = env["ben"]("POST", f"/api/v1/nudges/{nid}/snooze",
                              {"until": "2025-03-06T08:30:00+01:00"})
    assert status == 200 and body["nudge"]["snoozed_until"] == "2025-03-06T07:30:00Z"


def test_team_view_shows_who_is_over_capacity(env: dict[str, Any]) -> None:
    for n in range(27):
        enqueue(env, n, "ana")  # capacity 25
    enqueue(env, 99, "ben")
    status, team = env["ana"]("GET", "/api/v1/team")
    assert status == 200
    rows = {r["tutor_id"]: r for r in team["tutors"]}
    assert len(rows) == 8
    assert rows["ana"]["open"] == 27 and rows["ana"]["over_capacity"] is True
    assert rows["ben"]["open"] == 1 and rows["ben"]["over_capacity"] is False
    assert rows["isla"]["on_shift"] is False and rows["isla"]["next_shift"]
    assert env["ben"]("GET", "/api/v1/team")[0] == 403
    _, all_ = env["ana"]("GET", "/api/v1/queue?scope=all&limit=100")
    assert all_["total"] == 28 and set(all_["queues"]) >= {"ana", "ben"}


def test_reassign_respects_the_roster_unless_overridden(env: dict[str, Any]) -> None:
    nid = enqueue(env, 1, "ben")
    status, found = env["ben"]("GET", f"/api/v1/nudges/{nid}/candidates")
    assert status == 200
    by_id = {c["tutor_id"]: c for c in found["candidates"]}
    assert "ben" not in by_id and found["candidates"][0]["recommended"] is True
    assert any(w.startswith("off shift") for w in by_id["isla"]["warnings"])  # 00:00 in Sydney
    assert by_id["carla"]["warnings"] == []
    status, refused = env["ben"]("POST", f"/api/v1/nudges/{nid}/reassign", {"to": "isla"})
    assert status == 409 and refused["warnings"] and env["queue"].get(nid).tutor_id == "ben"
    status, body = env["ben"]("POST", f"/api/v1/nudges/{nid}/reassign",
                              {"to": "isla", "override": True})
    assert status == 200 and body["nudge"]["tutor_id"] == "isla"


def test_bulk_reassign_is_for_leads(env: dict[str, Any]) -> None:
    ids = [enqueue(env, n, "ben") for n in range(3)]
    body = {"nudge_ids": [*ids, "n-missing"], "to": "carla"}
    assert env["ben"]("POST", "/api/v1/team/reassign", body)[0] == 403
    status, done = env["ana"]("POST", "/api/v1/team/reassign", body)
    assert status == 200
    assert [r["status"] for r in done["results"]] == ["ok", "ok", "ok", "not_found"]
    assert {env["queue"].get(i).tutor_id for i in ids} == {"carla"}
    status, _ = env["ana"]("POST", "/api/v1/team/reassign",
                                 {"nudge_ids": ids, "to": "isla"})
    assert status == 409 and {env["queue"].get(i).tutor_id for i in ids} == {"carla"}
    assert env["ana"]("POST", "/api/v1/team/reassign", {"nudge_ids": [], "to": "x"})[0] == 400
    assert env["ana"]("POST", "/api/v1/team/reassign",
                      {"nudge_ids": ["x"] * 101, "to": "ben"})[0] == 400


def redis_view(env: dict[str, Any], nid: str) -> dict[str, Any]:
    """What Redis holds about the nudge: its hash and where its id is listed."""
    client, p = env["queue"].client, env["queue"].prefix
    data = client.hgetall(f"{p}nudge:{nid}")
    return {
        "hash": {k: v for k, v in data.items() if k != "updated_at"},
        "queue": client.zscore(f"{p}queue:{data['tutor']}", nid),
        "unclaimed": client.zscore(f"{p}unclaimed", nid),
        "merge": client.get(f"{p}merge:{data['merge_key']}"),
        "ttl": client.ttl(f"{p}nudge:{nid}"),
        "feedback": client.hgetall(f"{p}feedback:not_useful"),
    }


@pytest.mark.parametrize(
    ("action", "body"),
    [("resolve", {}), ("not-useful", {"note": "noise"}), ("reassign", {"to": "carla"})],
)
def test_undo_restores_the_nudge_in_redis(env: dict[str, Any], action: str, body: dict) -> None:
    nid = enqueue(env, 1, "ben")
    before = redis_view(env, nid)
    assert env["ben"]("POST", f"/api/v1/nudges/{nid}/{action}", body)[0] == 200
    assert redis_view(env, nid) != before
    assert env["carla"]("POST", f"/api/v1/nudges/{nid}/undo", {})[0] in (403, 409)
    status, undone = env["ben"]("POST", f"/api/v1/nudges/{nid}/undo", {"action": action})
    assert status == 200 and undone["nudge"]["state"] == "new"
    after = redis_view(env, nid)
    assert after == before | {"feedback": after["feedback"]}
    assert all(v == "0" for v in after["feedback"].values())
    history = [h["action"] for h in env["queue"].history(nid)]
    assert history[-1] == "undone"
    # once only: a second undo has nothing left to undo
    assert env["ben"]("POST", f"/api/v1/nudges/{nid}/undo", {})[0] == 409


def test_undo_refuses_when_too_late_or_overtaken(env: dict[str, Any]) -> None:
    nid = enqueue(env, 1, "ben")
    env["ben"]("POST", f"/api/v1/nudges/{nid}/reassign", {"to": "carla"})
    env["carla"]("POST", f"/api/v1/nudges/{nid}/claim", {})  # carla acted in between
    status, body = env["ben"]("POST", f"/api/v1/nudges/{nid}/undo", {})
    assert status in (403, 409) and env["queue"].get(nid).claimed_by == "carla"
    other = enqueue(env, 2, "ben")
    env["ben"]("POST", f"/api/v1/nudges/{other}/resolve", {})
    client, p = env["queue"].client, env["queue"].prefix
    client.delete(f"{p}undo:{other}")  # what the window's expiry does
    status, body = env["ben"]("POST", f"/api/v1/nudges/{other}/undo", {})
    assert status == 409 and "too late" in body["error"]
    assert env["queue"].get(other).state == "resolved"


def test_every_new_endpoint_for_every_role(env: dict[str, Any]) -> None:
    nid = enqueue(env, 1, "ben")
    nobody = Client(env["base"], None)
    as_lms_ben = Client(env["base"], SERVICE_TOKEN, lms_user="ben.carter")
    reads = ["/api/v1/team", f"/api/v1/nudges/{nid}/candidates", "/api/v1/queue?scope=all",
             "/api/v1/openapi.json"]
    expected = {  # who: status per read
        "nobody": [401, 401, 401, 401],
        "ben": [403, 200, 403, 200],
        "lms_ben": [403, 200, 403, 200],
        "carla": [403, 403, 403, 200],
        "ana": [200, 200, 200, 200],
    }
    clients = {"nobody": nobody, "ben": env["ben"], "lms_ben": as_lms_ben,
               "carla": env["carla"], "ana": env["ana"]}
    for who, statuses in expected.items():
        assert [clients[who]("GET", path)[0] for path in reads] == statuses, who
    for who, status in (("nobody", 401), ("carla", 403), ("ben", 403), ("lms_ben", 403)):
        body = {"nudge_ids": [nid], "to": "carla"}
        assert clients[who]("POST", "/api/v1/team/reassign", body)[0] == status, who
    assert nobody("POST", f"/api/v1/nudges/{nid}/undo", {})[0] == 401
    assert env["ben"]("POST", f"/api/v1/nudges/{nid}/undo", {})[0] == 409  # nothing to undo
    assert as_lms_ben("POST", f"/api/v1/nudges/{nid}/resolve", {})[0] == 200
    assert env["carla"]("POST", f"/api/v1/nudges/{nid}/undo", {})[0] == 403  # ben's, not hers
    assert as_lms_ben("POST", f"/api/v1/nudges/{nid}/undo", {})[0] == 200
    assert env["ana"]("POST", f"/api/v1/nudges/{nid}/resolve", {})[0] == 200
    assert env["ana"]("POST", f"/api/v1/nudges/{nid}/undo", {})[0] == 200  # a lead may
