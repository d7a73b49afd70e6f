"""The tutor HTTP API (aiohttp) and the standalone tutor page it serves.

Every ``/api/v1`` call is authenticated (``tutor_auth``): a missing or unknown token is
401. A tutor sees and acts on their own queue only — another tutor's nudge is 403; leads
(roster ``lead: true``) see the whole team and act on any nudge. Transitions answer 200
(also when repeated: they are idempotent), 409 when the nudge moved on (claimed by someone
else, already closed), 404 when it does not exist.

    GET  /api/v1/me                       who am I, my team (leads: every tutor)
    GET  /api/v1/queue[?tutor=ID|?all=1]  open nudges, most urgent first
    GET  /api/v1/nudges/{id}              one nudge with its history
    POST /api/v1/nudges/{id}/claim | resolve | not-useful
    POST /api/v1/nudges/{id}/snooze       {"hours": 4} or {"until": "2025-03-05T09:00Z"}
    POST /api/v1/nudges/{id}/reassign     {"to": "tutor-id"}
    GET  /api/v1/feedback                 leads: "not useful" counts per rule
    GET  /healthz, /metrics, /  (the page), /static/...
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from facilitation_rules.contract.codec import EventDecodeError, format_time, parse_time
from facilitation_rules.routing.nudges import Nudge
from facilitation_rules.routing.roster import Roster
from facilitation_stream.delivery.queues import Outcome, TutorQueue
from facilitation_stream.delivery.tutor_auth import LMS_USER_HEADER, Principal, TokenStore
from facilitation_stream.metrics import Metrics, exposition, get_metrics

STATIC = Path(__file__).parent / "static"
Clock = Callable[[], datetime]
_STATUS = {"ok": 200, "noop": 200, "not_found": 404, "forbidden": 403, "conflict": 409}
PRINCIPAL = web.RequestKey("principal", Principal)


def _now() -> datetime:
    return datetime.now(UTC)


class TutorApi:
    def __init__(
        self,
        queue: TutorQueue,
        tokens: TokenStore,
        rosters: Callable[[], list[Roster]] = list,
        *,
        clock: Clock = _now,
        metrics: Metrics | None = None,
    ) -> None:
        self.queue = queue
        self.tokens = tokens
        self.rosters = rosters
        self.clock = clock
        self.metrics = metrics or get_metrics()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.add_routes(
            [
                web.get("/", self.page),
                web.get("/healthz", self.healthz),
                web.get("/metrics", self.prometheus),
                web.static("/static", STATIC),
                web.get("/api/v1/me", self.me),
                web.get("/api/v1/queue", self.list_queue),
                web.get("/api/v1/feedback", self.feedback),
                web.get("/api/v1/nudges/{nudge_id}", self.nudge),
                web.post("/api/v1/nudges/{nudge_id}/{action}", self.act),
            ]
        )
        return app

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        principal = await self._call(
            self.tokens.authenticate,
            request.headers.get("Authorization"),
            request.headers.get(LMS_USER_HEADER),
        )
        if principal is None:
            return _error(
                401,
                "sign in: a valid tutor token is required",
                headers={"WWW-Authenticate": 'Bearer realm="facilitation"'},
            )
        request[PRINCIPAL] = principal
        return await handler(request)

    # --- pages and probes ----------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "tutor_page.html", headers=_PAGE_HEADERS)

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            await self._call(self.queue.client.ping)
        except Exception as err:  # any Redis failure means "not healthy", with why
            return web.json_response({"ok": False, "redis": str(err)}, status=503)
        return web.json_response({"ok": True})

    async def prometheus(self, request: web.Request) -> web.Response:
        body, ctype = exposition(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": ctype})

    # --- reads ---------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        who = request[PRINCIPAL]
        tutors = {t.tutor_id: t for r in self.rosters() for t in r.tutors}
        me = tutors.get(who.tutor_id)
        return web.json_response(
            {
                "tutor_id": who.tutor_id,
                "name": me.name if me else who.tutor_id,
                "lead": who.lead,
                "team": sorted(tutors) if tutors else [who.tutor_id],
                "now": format_time(self.clock()),
            }
        )

    async def list_queue(self, request: web.Request) -> web.Response:
        who = request[PRINCIPAL]
        target = request.query.get("tutor", who.tutor_id)
        everyone = request.query.get("all") in ("1", "true")
        if (everyone or target != who.tutor_id) and not who.lead:
            return _error(403, "only leads see other tutors' queues")
        queues: dict[str, list[Nudge]] = (
            await self._call(self.queue.list_all)
            if everyone
            else {target: await self._call(self.queue.list_queue, target)}
        )
        for tutor, nudges in queues.items():
            self.metrics.open_nudges.labels(tutor=tutor).set(len(nudges))
        return web.json_response(
            {
                "now": format_time(self.clock()),
                "queues": {t: [n.to_dict() for n in ns] for t, ns in queues.items()},
            }
        )

    async def nudge(self, request: web.Request) -> web.Response:
        nudge, denied = await self._visible(request)
        if denied is not None:
            return denied
        assert nudge is not None
        history = await self._call(self.queue.history, nudge.nudge_id)
        return web.json_response({"nudge": nudge.to_dict(), "history": history})

    async def feedback(self, request: web.Request) -> web.Response:
        if not request[PRINCIPAL].lead:
            return _error(403, "only leads see feedback counts")
        return web.json_response({"not_useful": await self._call(self.queue.not_useful_counts)})

    async def _visible(self, request: web.Request) -> tuple[Nudge | None, web.Response | None]:
        who = request[PRINCIPAL]
        nudge = await self._call(self.queue.get, request.match_info["nudge_id"])
        if nudge is None:
            return None, _error(404, "no such nudge")
        if not who.lead and nudge.tutor_id != who.tutor_id:
            return None, _error(403, "this nudge is in another tutor's queue")
        return nudge, None

    # --- transitions ---------------------------------------------------------------------

    async def act(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in ("claim", "resolve", "not-useful", "snooze", "reassign"):
            return _error(404, f"unknown action {action!r}")
        nudge, denied = await self._visible(request)
        if denied is not None:
            return denied
        assert nudge is not None
        who = request[PRINCIPAL]
        body = await _body(request)
        if body is None:
            return _error(400, "the body must be a JSON object")
        now = self.clock()
        common: dict[str, Any] = {"now": now, "own_only": not who.lead}
        q, nid = self.queue, nudge.nudge_id
        outcome: Outcome
        if action == "claim":
            outcome = await self._call(q.claim, nid, who.tutor_id, **common)
        elif action == "resolve":
            outcome = await self._call(q.resolve, nid, who.tutor_id, **common)
        elif action == "not-useful":
            note = str(body.get("note", ""))[:500]
            outcome = await self._call(q.not_useful, nid, who.tutor_id, note=note, **common)
        elif action == "snooze":
            try:
                until = _snooze_until(body, now)
            except ValueError as err:
                return _error(400, str(err))
            outcome = await self._call(q.snooze, nid, who.tutor_id, until, **common)
        else:
            to = body.get("to")
            team = {t.tutor_id for r in self.rosters() for t in r.tutors}
            if not isinstance(to, str) or not to or (team and to not in team):
                return _error(400, "reassign needs 'to': a tutor of the team")
            outcome = await self._call(q.reassign, nid, who.tutor_id, to, **common)
        if outcome.status == "ok":
            self._measure(action, nudge, now)
        after = await self._call(q.get, nid)
        payload = {"outcome": outcome.to_dict(), "nudge": after.to_dict() if after else None}
        if outcome.status not in ("ok", "noop"):
            payload["error"] = _REFUSED.get(outcome.status, outcome.status)
        return web.json_response(payload, status=_STATUS.get(outcome.status, 409))

    def _measure(self, action: str, nudge: Nudge, now: datetime) -> None:
        rule = nudge.rules[0] if nudge.rules else "unknown"
        waited = (now - parse_time(nudge.created_at)).total_seconds()
        if action == "claim":
            self.metrics.nudge_age_at_claim.labels(rule=rule).observe(max(waited, 0.0))
        elif action == "resolve":
            self.metrics.nudge_age_at_resolve.labels(rule=rule).observe(max(waited, 0.0))
            for r in nudge.rules:
                self.metrics.nudges_resolved.labels(rule=r).inc()
        elif action == "not-useful":
            for r in nudge.rules:
                self.metrics.nudges_not_useful.labels(rule=r).inc()


_REFUSED = {
    "conflict": "this nudge has moved on (claimed by someone else or closed)",
    "forbidden": "this nudge is in another tutor's queue",
    "not_found": "no such nudge",
}
# The page loads only its own script and style; data is never HTML.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


async def _body(request: web.Request) -> dict[str, Any] | None:
    if not request.can_read_body:
        return {}
    try:
        data = json.loads(await request.text() or "{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _snooze_until(body: dict[str, Any], now: datetime) -> datetime:
    if "until" in body:
        try:
            until = parse_time(body["until"])
        except EventDecodeError as err:
            raise ValueError(f"until: {err}") from None
    else:
        hours = body.get("hours")
        if not isinstance(hours, int | float) or isinstance(hours, bool):
            raise ValueError("snooze needs 'hours' (a number) or 'until' (ISO 8601)")
        until = now + timedelta(hours=float(hours))
    if not now < until <= now + timedelta(days=30):
        raise ValueError("snooze until must be in the next 30 days")
    return until


class BackgroundServer:
    """Serve an aiohttp app from a daemon thread (demo, tests): ``with ... as url:``."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app, self.host, self.port = app, host, port
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> str:
        import threading

        ready = threading.Event()

        async def start() -> None:
            self._runner = web.AppRunner(self.app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
            server = site._server
            assert server is not None and server.sockets  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(start())
            self.loop.run_forever()

        threading.Thread(target=run, name="tutor-api", daemon=True).start()
        if not ready.wait(30):
            raise RuntimeError("tutor API did not start")
        return f"http://{self.host}:{self.port}"

    def __exit__(self, *_exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
