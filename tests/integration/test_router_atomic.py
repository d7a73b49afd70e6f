"""The router's write is one atomic script: Redis killed right after it loses no part of it.

Before, a route was up to four writes (round-robin cursor, enqueue, reroute of a merged
nudge, the assignment record); Redis dying between them left a half-routed nudge. Now the
router reads, decides, and makes one script call; Redis is SIGKILLed the moment that call
returns, and after a restart (AOF, appendfsync always) the whole outcome is there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from facilitation_rules.routing.roster import load_roster
from facilitation_stream.delivery.queues import TutorQueue
from facilitation_stream.delivery.router import Router
from tests.integration.test_tutor_queue_redis import ROOT, T0, _free_port, alert

pytestmark = pytest.mark.integration
ROSTER = ROOT / "rules/facilitation_rules/packs/roster.example.yaml"


class _KilledAfterWrite(redis.Redis):
    """A client that SIGKILLs its server as soon as the first script call returned."""

    pid = 0
    writes = 0

    def evalsha(self, *args: Any, **kwargs: Any) -> Any:
        result = super().evalsha(*args, **kwargs)
        type(self).writes += 1
        if type(self).writes == 1:
            os.kill(type(self).pid, signal.SIGKILL)
            _wait_gone(type(self).pid)
        return result


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    proc = Path(f"/proc/{pid}/cmdline")
    while proc.exists() and proc.read_bytes():
        assert time.monotonic() < deadline, "redis did not die"
        time.sleep(0.02)


class _OwnRedis:
    """A Redis of this test's own (devservices, AOF with appendfsync always)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir, self.port = run_dir, _free_port()
        self.env = {k: v for k, v in os.environ.items() if k != "FACILITATION_REDIS_URL"}
        self.env.update(
            FACILITATION_RUN_DIR=str(run_dir), FACILITATION_DEV_REDIS_PORT=str(self.port)
        )

    def devservices(self, *args: str) -> None:
        subprocess.run([sys.executable, str(ROOT / "scripts/devservices.py"), *args],
                       env=self.env, check=True, timeout=60, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return int((self.run_dir / "redis.pid").read_text())


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[_OwnRedis]:
    server = _OwnRedis(tmp_path)
    server.devservices("start", "redis")
    try:
        yield server
    finally:
        server.devservices("stop", "redis")


def _router(server: _OwnRedis) -> Router:
    _KilledAfterWrite.pid, _KilledAfterWrite.writes = server.pid, 0
    client = _KilledAfterWrite(host="127.0.0.1", port=server.port, decode_responses=True)
    roster = load_roster(ROSTER)
    return Router(TutorQueue(client, prefix="atomic:"), lambda course: roster, clock=lambda: T0)


def _fresh(port: int) -> TutorQueue:
    return TutorQueue(redis.Redis(host="127.0.0.1", port=port, decode_responses=True),
                      prefix="atomic:")


def test_a_new_nudge_its_assignment_record_and_cursor_survive_a_kill_after_the_write(
    own_redis: _OwnRedis,
) -> None:
    outcome = _router(own_redis).route(alert("p1"))
    assert outcome.status == "created" and _KilledAfterWrite.writes == 1
    own_redis.devservices("start", "redis")
    queue = _fresh(own_redis.port)
    nudge = queue.get(outcome.nudge_id)
    assert nudge is not None and nudge.tutor_id == outcome.tutor_id and nudge.state == "new"
    since = T0.replace(year=T0.year - 1)
    assert queue.assigned_since([outcome.tutor_id], since) == [1]
    assert queue.round_robin("course-v1:OpenEdX+Facilitation+2025:unanswered_post") == 2


def test_a_merge_and_its_reroute_survive_a_kill_after_the_write(own_redis: _OwnRedis) -> None:
    # Haruto (Tokyo) is off shift at 13Z: his open nudge about L1 must move for an urgent post.
    first = _fresh(own_redis.port).enqueue(
        alert("quiet", rule="silent_learner"), "haruto", now=T0
    )
    outcome = _router(own_redis).route(alert("p1", severity="urgent"))
    assert outcome.status == "merged" and outcome.nudge_id == first.nudge_id
    assert _KilledAfterWrite.writes == 1
    own_redis.devservices("start", "redis")
    queue = _fresh(own_redis.port)
    nudge = queue.get(first.nudge_id)
    assert nudge is not None and nudge.tutor_id not in ("haruto", "") and nudge.state == "new"
    actions = [h["action"] for h in queue.history(first.nudge_id)]
    assert actions == ["created", "merged", "rerouted"]
    assert queue.list_queue("haruto") == []
