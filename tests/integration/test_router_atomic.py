"""The router's write is one atomic script: Redis killed right after it loses no part of it.

Before, a route was up to four writes (round-robin cursor, enqueue, reroute of a merged
nudge, the assignment record); Redis dying between them left a half-routed nudge. Now the
router reads, decides, and makes one script call; Redis is SIGKILLed the moment that call
returns, and after a restart (AOF, appendfsync always) the whole outcome is there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from facilitation_rules.routing.roster import load_roster
from facilitation_stream.delivery.queues import TutorQueue
from facilitation_stream.delivery.router import Router
from tests.integration.test_tutor_queue_redis import ROOT, T0, alert
from tests.support.own_redis import OwnRedis, own_redis

pytestmark = pytest.mark.integration
ROSTER = ROOT / "rules/facilitation_rules/packs/roster.example.yaml"


class _KilledAfterWrite(redis.Redis):
    """A client that SIGKILLs its server as soon as the first script call returned."""

    server: OwnRedis
    writes = 0

    def evalsha(self, *args: Any, **kwargs: Any) -> Any:
        result = super().evalsha(*args, **kwargs)
        type(self).writes += 1
        if type(self).writes == 1:
            type(self).server.kill()
        return result


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OwnRedis]:
    with own_redis(tmp_path) as started:
        yield started


def _router(server: OwnRedis) -> Router:
    _KilledAfterWrite.server, _KilledAfterWrite.writes = server, 0
    client = _KilledAfterWrite(host="127.0.0.1", port=server.port, decode_responses=True)
    roster = load_roster(ROSTER)
    return Router(TutorQueue(client, prefix="atomic:"), lambda course: roster, clock=lambda: T0)


def _fresh(port: int) -> TutorQueue:
    return TutorQueue(redis.Redis(host="127.0.0.1", port=port, decode_responses=True),
                      prefix="atomic:")


def test_a_new_nudge_its_assignment_record_and_cursor_survive_a_kill_after_the_write(
    server: OwnRedis,
) -> None:
    outcome = _router(server).route(alert("p1"))
    assert outcome.status == "created" and _KilledAfterWrite.writes == 1
    server.start()
    queue = _fresh(server.port)
    nudge = queue.get(outcome.nudge_id)
    assert nudge is not None and nudge.tutor_id == outcome.tutor_id and nudge.state == "new"
    since = T0.replace(year=T0.year - 1)
    assert queue.assigned_since([outcome.tutor_id], since) == [1]
    assert queue.round_robin("course-v1:OpenEdX+Facilitation+2025:unanswered_post") == 2


def test_a_merge_and_its_reroute_survive_a_kill_after_the_write(server: OwnRedis) -> None:
    # Haruto (Tokyo) is off shift at 13Z: his open nudge about L1 must move for an urgent post.
    first = _fresh(server.port).enqueue(
        alert("quiet", rule="silent_learner"), "haruto", now=T0
    )
    outcome = _router(server).route(alert("p1", severity="urgent"))
    assert outcome.status == "merged" and outcome.nudge_id == first.nudge_id
    assert _KilledAfterWrite.writes == 1
    server.start()
    queue = _fresh(server.port)
    nudge = queue.get(first.nudge_id)
    assert nudge is not None and nudge.tutor_id not in ("haruto", "") and nudge.state == "new"
    actions = [h["action"] for h in queue.history(first.nudge_id)]
    assert actions == ["created", "merged", "rerouted"]
    assert queue.list_queue("haruto") == []
