"""A tutor API on real Redis for tests: the example roster, a clock the test moves, a
client per tutor, and an HTTP client that shows the status of every answer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from prometheus_client import CollectorRegistry

from facilitation_rules.contract.alerts import Alert, alert_id_for
from facilitation_rules.routing.roster import load_roster
from facilitation_stream.delivery.queues import TutorQueue
from facilitation_stream.delivery.tutor_api import BackgroundServer, TutorApi
from facilitation_stream.delivery.tutor_auth import RosterDirectory, TokenStore, hash_token
from facilitation_stream.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
ROSTER = load_roster(ROOT / "rules/facilitation_rules/packs/roster.example.yaml")
SERVICE_TOKEN = "lms-service-secret"
T0 = datetime(2025, 3, 5, 13, tzinfo=UTC)  # a Wednesday: ana, ben, carla, emma on shift


def make_alert(n: int, learner: str, **kw: Any) -> Alert:
    """An unanswered-post alert (``kw`` overrides fields; ``details`` merge)."""
    details = {"title": f"Question {n}", "excerpt": f"I am stuck on step {n}.",
               "thread_id": f"t{n}", "url": f"https://lms.example.org/t{n}",
               "learner_name": f"Learner Nr {n}", **kw.pop("details", {})}
    fields: dict[str, Any] = {
        "alert_id": alert_id_for("unanswered_post", ROSTER.course_id, "post", f"p{n}", "1"),
        "rule": "unanswered_post", "kind": "unanswered_post", "course_id": ROSTER.course_id,
        "subject_type": "post", "subject_id": f"p{n}", "learner_id": learner,
        "fired_at": T0, "severity": "high", "reasons": ("no reply for 20 h",),
        "details": details, **kw,
    }
    return Alert(**fields)


class Client:
    def __init__(self, base: str, token: str | None, lms_user: str | None = None) -> None:
        self.base, self.token, self.lms_user = base, token, lms_user

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.raw(method, path, json.dumps(body).encode() if body is not None else None)

    def raw(self, method: str, path: str, data: bytes | None) -> tuple[int, Any]:
        req = urllib.request.Request(self.base + path, method=method)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if self.lms_user:
            req.add_header("X-Facilitation-LMS-User", self.lms_user)
        if data:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, data, timeout=10) as res:
                return res.status, _decoded(res.read())
        except urllib.error.HTTPError as err:
            return err.code, _decoded(err.read())


def _decoded(body: bytes) -> Any:
    """JSON as data; anything else (aiohttp's own 404 and 405 pages) as text."""
    try:
        return json.loads(body or b"null")
    except ValueError:
        return body.decode(errors="replace")


@contextmanager
def tutor_api(redis_url: str, prefix: str) -> Iterator[dict[str, Any]]:
    """``env``: base, queue, tokens, clock (``env["clock"]["now"]``), rosters
    (``env["rosters"]["current"]``) and a client per tutor: ana and emma are leads."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    queue = TutorQueue(client, prefix)
    clock, rosters = {"now": T0}, {"current": [ROSTER]}
    tokens = TokenStore(client, prefix, RosterDirectory(lambda: rosters["current"]),
                        service_token_hash=hash_token(SERVICE_TOKEN), clock=lambda: clock["now"])
    api = TutorApi(queue, tokens, lambda: rosters["current"], clock=lambda: clock["now"],
                   metrics=Metrics(CollectorRegistry()), lms_url="https://lms.example.org")
    try:
        with BackgroundServer(api.app()) as base:
            env: dict[str, Any] = {"base": base, "queue": queue, "tokens": tokens,
                                   "clock": clock, "rosters": rosters, "api": api}
            for tutor in ("ana", "ben", "carla", "dev", "emma"):
                env[tutor] = Client(base, tokens.issue(tutor))
            yield env
    finally:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
