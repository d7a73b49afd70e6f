"""Tutor queues on the real Redis: atomic claims, idempotent transitions, no loss on restart."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from facilitation_rules.contract.alerts import Alert, alert_id_for
from facilitation_rules.routing.roster import load_roster
from facilitation_stream.delivery.queues import TutorQueue
from facilitation_stream.delivery.router import Router
from tests.support.own_redis import own_redis

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]
T0 = datetime(2025, 3, 5, 13, tzinfo=UTC)  # a Wednesday: ana, ben, carla on shift


def alert(subject: str, *, learner: str = "L1", rule: str = "unanswered_post",
          kind: str = "unanswered_post", severity: str = "warning", action: str = "fire",
          reasons: tuple[str, ...] = ("no reply for 20 h",), thread: str = "t1") -> Alert:
    return Alert(
        alert_id=alert_id_for(rule, "course-v1:OpenEdX+Facilitation+2025", "post", subject, "1"),
        rule=rule, kind=kind, course_id="course-v1:OpenEdX+Facilitation+2025",  # type: ignore[arg-type]
        subject_type="post", subject_id=subject, learner_id=learner, fired_at=T0,
        severity=severity, reasons=reasons, action=action,  # type: ignore[arg-type]
        details={"title": "Stuck on week 2", "excerpt": "<script>x</script>", "thread_id": thread,
                 "url": f"https://lms.example/t/{thread}"},
    )


@pytest.fixture
def queue(redis_url: str, unique: str) -> Iterator[TutorQueue]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    q = TutorQueue(client, prefix=f"test:{unique}:")
    yield q
    keys = list(client.scan_iter(f"test:{unique}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_enqueue_is_idempotent_and_merges_by_learner(queue: TutorQueue) -> None:
    first = queue.enqueue(alert("p1"), "ana", now=T0)
    again = queue.enqueue(alert("p1"), "ben", now=T0)
    assert first.status == "created" and again.status == "duplicate"
    assert again.nudge_id == first.nudge_id
    silent = alert("L1", rule="silent_learner", kind="silent_learner", severity="high",
                   reasons=("silent 9 days",))
    merged = queue.enqueue(silent, "ben", now=T0)
    assert merged.status == "merged" and merged.tutor_id == "ana"
    [nudge] = queue.list_queue("ana")
    assert nudge.reasons == ("no reply for 20 h", "silent 9 days")
    assert nudge.severity == "high" and len(nudge.items) == 2
    assert queue.list_queue("ben") == []


def test_queue_orders_by_priority_then_due_time(queue: TutorQueue) -> None:
    late = alert("p1", learner="a")
    early = Alert(**{**{f: getattr(late, f) for f in Alert.FIELDS},
                     "alert_id": "x:2", "learner_id": "b", "fired_at": T0 - timedelta(hours=3)})
    urgent = alert("p3", learner="c", severity="urgent")
    for a in (late, early, urgent):
        queue.enqueue(a, "ana", now=T0)
    assert [n.learner_id for n in queue.list_queue("ana")] == ["c", "b", "a"]


def test_lifecycle_transitions_are_idempotent_and_recorded(queue: TutorQueue) -> None:
    nid = queue.enqueue(alert("p1"), "ana", now=T0).nudge_id
    assert queue.claim(nid, "ben", now=T0).status == "forbidden"  # not ben's nudge
    assert queue.claim(nid, "ana", now=T0).status == "ok"
    assert queue.claim(nid, "ana", now=T0).status == "noop"
    until = T0 + timedelta(hours=2)
    assert queue.snooze(nid, "ana", until, now=T0).status == "ok"
    assert queue.snooze(nid, "ana", until, now=T0).status == "noop"
    assert queue.wake_snoozed(now=T0 + timedelta(hours=1)) == []
    assert queue.wake_snoozed(now=until) == [nid]
    assert queue.get(nid).state == "claimed"  # type: ignore[union-attr]
    assert queue.reassign(nid, "ana", "ben", now=T0).status == "ok"
    assert queue.reassign(nid, "ana", "ben", now=T0).status == "forbidden"  # ben's now
    assert queue.resolve(nid, "ben", now=T0).status == "ok"
    assert queue.resolve(nid, "ben", now=T0).status == "noop"
    assert queue.claim(nid, "ben", now=T0).status == "conflict"
    steps = [(h["by"], h["action"]) for h in queue.history(nid)]
    assert steps == [("router", "created"), ("ana", "claimed"), ("ana", "snoozed"),
                     ("system", "woke"), ("ana", "reassigned"), ("ben", "resolved")]
    assert queue.list_queue("ana") == queue.list_queue("ben") == []


def test_auto_resolve_waits_for_every_merged_item(queue: TutorQueue) -> None:
    a, b = alert("p1"), alert("p2", thread="t2", reasons=("2nd post unanswered",))
    nid = queue.enqueue(a, "ana", now=T0).nudge_id
    queue.enqueue(b, "ana", now=T0)
    assert queue.alert_resolved(a.alert_id, now=T0).state == "new"
    assert queue.get(nid).reasons == ("2nd post unanswered",)  # type: ignore[union-attr]
    assert queue.alert_resolved(b.alert_id, now=T0).state == "auto-resolved"
    assert queue.alert_resolved(b.alert_id, now=T0).status == "noop"
    # A redelivered fire of a closed alert does not reopen it.
    assert queue.enqueue(a, "ana", now=T0).status == "duplicate"
    assert queue.list_queue("ana") == []


def test_not_useful_is_counted_once_per_rule(queue: TutorQueue) -> None:
    nid = queue.enqueue(alert("p1"), "ana", now=T0).nudge_id
    assert queue.not_useful(nid, "ana", now=T0).status == "ok"
    assert queue.not_useful(nid, "ana", now=T0).status == "noop"
    assert queue.not_useful_counts() == {"unanswered_post": 1}
    assert queue.get(nid).resolution == "not-useful"  # type: ignore[union-attr]


def test_many_concurrent_claimers_exactly_one_wins(queue: TutorQueue, redis_url: str) -> None:
    nids = [queue.enqueue(alert(f"p{i}", learner=f"L{i}"), "ana", now=T0).nudge_id
            for i in range(20)]
    barrier = threading.Barrier(16)
    wins: dict[str, list[str]] = {n: [] for n in nids}

    def claimer(name: str) -> None:
        q = TutorQueue(redis.Redis.from_url(redis_url, decode_responses=True), queue.prefix)
        barrier.wait()
        for nid in nids:
            if q.claim(nid, name, now=T0, own_only=False).status == "ok":
                wins[nid].append(name)

    threads = [threading.Thread(target=claimer, args=(f"lead{i}",)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(w) == 1 for w in wins.values()), wins
    for nid, [winner] in wins.items():
        nudge = queue.get(nid)
        assert nudge is not None and nudge.claimed_by == winner and nudge.tutor_id == winner
        assert [h["action"] for h in queue.history(nid)].count("claimed") == 1


def test_concurrent_claims_from_processes(queue: TutorQueue, redis_url: str) -> None:
    nid = queue.enqueue(alert("p1"), "ana", now=T0).nudge_id
    code = (
        "import sys, redis; from facilitation_stream.delivery.queues import TutorQueue;"
        "q = TutorQueue(redis.Redis.from_url(sys.argv[1], decode_responses=True), sys.argv[2]);"
        "print(q.claim(sys.argv[3], sys.argv[4], own_only=False).status)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, redis_url, queue.prefix, nid, f"p{i}"],
                         stdout=subprocess.PIPE, text=True)
        for i in range(6)
    ]
    results = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert results == ["conflict"] * 5 + ["ok"]


def test_router_routes_by_roster_escalates_and_redistributes(queue: TutorQueue) -> None:
    roster = load_roster(ROOT / "rules/facilitation_rules/packs/roster.example.yaml")
    now = [T0]
    router = Router(queue, lambda course: roster, clock=lambda: now[0])
    first = router.route(alert("p1"))
    assert first.tutor_id in {"ana", "ben", "carla"}
    # Same thread, different learner: affinity sends it to the same tutor.
    assert router.route(alert("p2", learner="L2")).tutor_id == first.tutor_id
    assert router.route(alert("p1")).status == "duplicate"
    assert router.route(alert("p1", action="resolve")).status == "ok"
    # Unclaimed for 8 h: escalated to a lead on shift (21Z: emma).
    now[0] = T0 + timedelta(hours=8)
    report = router.tick([roster])
    assert report.escalated and queue.list_queue("emma")
    assert queue.get(report.escalated[0]).state == "escalated"  # type: ignore[union-attr]
    # Emma goes away: her nudges move to someone on shift.
    queue.set_away("emma", True)
    report = router.tick([roster])
    assert report.redistributed and queue.list_queue("emma") == []


def test_redis_sigkill_loses_nothing_acknowledged(tmp_path: Path) -> None:
    with own_redis(tmp_path) as server:
        client = redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        q = TutorQueue(client, prefix="restart:")
        nids = [q.enqueue(alert(f"p{i}", learner=f"L{i}"), "ana", now=T0).nudge_id
                for i in range(50)]
        for nid in nids[:10]:
            assert q.claim(nid, "ana", now=T0).status == "ok"
        for nid in nids[10:15]:
            assert q.resolve(nid, "ana", now=T0).status == "ok"
        server.kill()
        server.start()
        client = redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        q = TutorQueue(client, prefix="restart:")
        listed = q.list_queue("ana")
        assert len(listed) == 45  # 50 enqueued, 5 resolved; claimed ones stay listed
        assert sum(n.state == "claimed" for n in listed) == 10
        assert all(q.get(n).state == "resolved" for n in nids[10:15])  # type: ignore[union-attr]
        assert q.enqueue(alert("p0", learner="L0"), "ana").status == "duplicate"
        client.close()


def test_escalation_alerts_go_to_a_lead_in_their_own_nudge(queue: TutorQueue) -> None:
    roster = load_roster(ROOT / "rules/facilitation_rules/packs/roster.example.yaml")
    router = Router(queue, lambda course: roster, clock=lambda: T0)
    first = router.route(alert("p1"))
    escalation = Alert(**{**{f: getattr(alert("p1"), f) for f in Alert.FIELDS},
                          "alert_id": "unanswered_post.escalation:x", "severity": "urgent",
                          "details": {"escalate": True, "route": "lead", "thread_id": "t1"}})
    lead = router.route(escalation)
    assert lead.status == "created" and lead.nudge_id != first.nudge_id
    assert lead.tutor_id == "ana"  # the lead on shift at 13Z
