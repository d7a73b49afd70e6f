"""The tutor HTTP API (aiohttp) and the standalone tutor page it serves.

Every ``/api/v1`` call is authenticated (``tutor_auth``): a missing, unknown or expired
token is 401. A tutor sees and acts on their own queue only — another tutor's nudge is
403; leads (roster ``lead: true``) see the whole team and act on any nudge. Transitions
answer 200 (also when repeated: they are idempotent), 409 when the nudge moved on (claimed
by someone else, already closed), 404 when it does not exist, 400 for input outside the
bounds ``openapi.json`` states (checked before anything else), 422 for well-formed input
refused for what no schema states (a time past the window, a tutor not in the team).
The description is
``GET /api/v1/openapi.json``; in short:

    GET  /api/v1/me                       who am I, my team, my next shift
    GET  /api/v1/queue                    open nudges: scope (me | all | tutor), filters
                                          (severity, rule, course, state, claimed=me,
                                          overdue), sort (due | oldest | severity), a page,
                                          counts by severity, rule, state and course
    GET  /api/v1/nudges/{id}              one nudge with its history
    POST /api/v1/nudges/{id}/claim | resolve | not-useful | undo
    POST /api/v1/nudges/{id}/snooze       {"hours": 4}, {"until": "…Z"} or {"next_shift": true}
    POST /api/v1/nudges/{id}/reassign     {"to": "tutor-id", "override": false}
    GET  /api/v1/nudges/{id}/candidates   who it could go to, with what speaks against each
    GET  /api/v1/team, POST /api/v1/team/reassign, GET /api/v1/feedback    leads only
    GET  /healthz, /metrics, /  (the page), /static/...
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from aiohttp import web

from facilitation_rules.contract.codec import format_time, parse_time
from facilitation_rules.routing.nudges import Nudge
from facilitation_rules.routing.roster import Roster, Tutor
from facilitation_rules.routing.triage import counts, is_overdue, ordered, respond_by, shift_after
from facilitation_stream.delivery.queues import Outcome, TutorQueue
from facilitation_stream.delivery.tutor_auth import LMS_USER_HEADER, TokenStore
from facilitation_stream.delivery.tutor_inputs import (
    PRINCIPAL,
    UNDO_WINDOW,
    BadRequest,
    error,
    note_of,
    present,
    queue_query,
    read_body,
    reassign_body,
    snooze_until,
    undo_action,
)
from facilitation_stream.delivery.tutor_team import TeamRoutes
from facilitation_stream.metrics import Metrics, exposition, get_metrics

STATIC = Path(__file__).parent / "static"
OPENAPI = STATIC / "openapi.json"
#: The triage view is one piece of code for the page and the Tutor view XBlock: it ships in
#: the XBlocks' static files (the same distribution), and the page loads it from here.
SHARED = {
    "tutor_view_cards.js": ("static/js/tutor_view_cards.js", "text/javascript"),
    "tutor_view_triage.js": ("static/js/tutor_view_triage.js", "text/javascript"),
    "tutor_view_triage.css": ("static/css/tutor_view_triage.css", "text/css"),
}
Clock = Callable[[], datetime]
_STATUS = {"ok": 200, "noop": 200, "not_found": 404, "forbidden": 403, "conflict": 409}
ACTIONS = ("claim", "resolve", "not-useful", "snooze", "reassign", "undo")


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
        lms_url: str = "",
    ) -> None:
        self.queue = queue
        self.tokens = tokens
        self.rosters = rosters
        self.clock = clock
        self.metrics = metrics or get_metrics()
        self.lms_url = lms_url
        self.team = TeamRoutes(self)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth], client_max_size=64 * 1024)
        app.add_routes(
            [
                web.get("/", self.page),
                web.get("/healthz", self.healthz),
                web.get("/metrics", self.prometheus),
                web.get("/static/shared/{name}", self.shared),
                web.static("/static", STATIC),
                web.get("/api/v1/openapi.json", self.openapi),
                web.get("/api/v1/me", self.me),
                web.get("/api/v1/queue", self.list_queue),
                web.get("/api/v1/feedback", self.feedback),
                web.get("/api/v1/nudges/{nudge_id}", self.nudge),
                *(web.post(f"/api/v1/nudges/{{nudge_id}}/{a}", self.act) for a in ACTIONS),
                *self.team.routes(),
            ]
        )
        return app

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        principal = await self.call(
            self.tokens.authenticate,
            request.headers.get("Authorization"),
            request.headers.get(LMS_USER_HEADER),
        )
        if principal is None:
            return error(
                401,
                "sign in: a valid tutor token is required",
                headers={"WWW-Authenticate": 'Bearer realm="facilitation"'},
            )
        request[PRINCIPAL] = principal
        try:
            return await handler(request)
        except BadRequest as err:
            return error(err.status, str(err))

    # --- pages and probes ----------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "tutor_page.html", headers=_PAGE_HEADERS)

    async def shared(self, request: web.Request) -> web.StreamResponse:
        found = SHARED.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        path, ctype = found
        body = files("facilitation_xblocks").joinpath(path).read_bytes()
        return web.Response(body=body, content_type=ctype, charset="utf-8")

    async def openapi(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(OPENAPI, headers={"Content-Type": "application/json"})

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            await self.call(self.queue.client.ping)
        except Exception as err:  # any Redis failure means "not healthy", with why
            return web.json_response({"ok": False, "redis": str(err)}, status=503)
        return web.json_response({"ok": True})

    async def prometheus(self, request: web.Request) -> web.Response:
        body, ctype = exposition(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": ctype})

    # --- rosters -------------------------------------------------------------------------

    def roster_of(self, course_id: str) -> Roster | None:
        return next((r for r in self.rosters() if r.course_id == course_id), None)

    def tutors(self) -> dict[str, Tutor]:
        return {t.tutor_id: t for r in self.rosters() for t in r.tutors}

    def shown(self, nudge: Nudge, now: datetime) -> dict[str, Any]:
        return present(nudge, self.roster_of(nudge.course_id), now, self.lms_url)

    # --- reads ---------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        who, now = request[PRINCIPAL], self.clock()
        tutors = self.tutors()
        me = tutors.get(who.tutor_id)
        after = shift_after(me, now) if me else None
        return web.json_response(
            {
                "tutor_id": who.tutor_id,
                "name": me.name if me else who.tutor_id,
                "lead": who.lead,
                "team": sorted(tutors) if tutors else [who.tutor_id],
                "names": {t: x.name for t, x in sorted(tutors.items())},
                "on_shift": me.on_shift(now) if me else True,
                "next_shift": format_time(after) if after else None,
                "undo_seconds": int(UNDO_WINDOW.total_seconds()),
                "now": format_time(now),
            }
        )

    async def list_queue(self, request: web.Request) -> web.Response:
        who, now = request[PRINCIPAL], self.clock()
        query = queue_query(request.query, who.tutor_id)
        if query.scope != who.tutor_id and not who.lead:
            return error(403, "only leads see other tutors' queues")
        queues: dict[str, list[Nudge]] = (
            await self.call(self.queue.list_all)
            if query.scope == "all"
            else {query.scope: await self.call(self.queue.list_queue, query.scope)}
        )
        for tutor, nudges in queues.items():
            self.metrics.open_nudges.labels(tutor=tutor).set(len(nudges))
        every = [n for nudges in queues.values() for n in nudges]
        rosters = {r.course_id: r for r in self.rosters()}
        due = {n.nudge_id: respond_by(n, rosters.get(n.course_id)) for n in every}
        late = {n.nudge_id for n in every if is_overdue(n, rosters.get(n.course_id), now)}
        matched = [n for n in every if query.filters.matches(n, n.nudge_id in late)]
        page = ordered(matched, query.sort, due)[query.offset : query.offset + query.limit]
        shown = [self.shown(n, now) for n in page]
        grouped: dict[str, list[dict[str, Any]]] = {t: [] for t in queues}
        for item in shown:
            grouped.setdefault(str(item["tutor_id"]), []).append(item)
        tally: dict[str, Any] = counts(every)
        tally["overdue"] = len(late)
        tally["claimed_by_me"] = sum(1 for n in every if n.claimed_by == who.tutor_id)
        tally["all"] = len(every)
        return web.json_response(
            {
                "now": format_time(now),
                "scope": "all" if query.scope == "all" else query.scope,
                "total": len(matched),
                "offset": query.offset,
                "limit": query.limit,
                "counts": tally,
                "nudges": shown,
                "queues": grouped,
            }
        )

    async def nudge(self, request: web.Request) -> web.Response:
        nudge = await self.visible(request)
        if isinstance(nudge, web.Response):
            return nudge
        history = await self.call(self.queue.history, nudge.nudge_id)
        return web.json_response({"nudge": self.shown(nudge, self.clock()), "history": history})

    async def feedback(self, request: web.Request) -> web.Response:
        if not request[PRINCIPAL].lead:
            return error(403, "only leads see feedback counts")
        return web.json_response({"not_useful": await self.call(self.queue.not_useful_counts)})

    async def visible(self, request: web.Request, anyone: bool = False) -> Nudge | web.Response:
        """The nudge of the path if the caller may see it (``anyone``: if it exists), else
        the refusal."""
        who = request[PRINCIPAL]
        nudge = await self.call(self.queue.get, request.match_info["nudge_id"][:128])
        if nudge is None:
            return error(404, "no such nudge")
        if not (anyone or who.lead) and nudge.tutor_id != who.tutor_id:
            return error(403, "this nudge is in another tutor's queue")
        return nudge

    # --- transitions ---------------------------------------------------------------------

    async def act(self, request: web.Request) -> web.Response:
        action = request.path.rsplit("/", 1)[-1]
        body = await read_body(request)
        who, now = request[PRINCIPAL], self.clock()
        me = self.tutors().get(who.tutor_id)
        # The body is checked before the nudge is looked up: bad input is 400 whatever the id.
        after = shift_after(me, now) if me is not None else None
        until = snooze_until(body, now, after) if action == "snooze" else None
        to, override = reassign_body(body) if action == "reassign" else ("", False)
        note = note_of(body) if action == "not-useful" else ""
        undo = undo_action(body) if action == "undo" else ""
        # An undo is the undoing tutor's, wherever the nudge went (the script checks who).
        nudge = await self.visible(request, anyone=action == "undo")
        if isinstance(nudge, web.Response):
            return nudge
        q, nid, undo_s = self.queue, nudge.nudge_id, int(UNDO_WINDOW.total_seconds())
        common: dict[str, Any] = {"now": now, "own_only": not who.lead}
        outcome: Outcome
        if action == "claim":
            outcome = await self.call(q.claim, nid, who.tutor_id, **common)
        elif action == "resolve":
            outcome = await self.call(q.resolve, nid, who.tutor_id, undo_s=undo_s, **common)
        elif action == "not-useful":
            outcome = await self.call(
                q.not_useful, nid, who.tutor_id, note=note, undo_s=undo_s, **common
            )
        elif action == "snooze":
            assert until is not None
            outcome = await self.call(q.snooze, nid, who.tutor_id, until, **common)
        elif action == "undo":
            outcome = await self.call(q.undo, nid, who.tutor_id, action=undo, **common)
        else:
            refused = await self.team.check_target(nudge, to, override, now)
            if refused is not None:
                return refused
            outcome = await self.call(q.reassign, nid, who.tutor_id, to, undo_s=undo_s, **common)
        if outcome.status == "ok":
            self._measure(action, nudge, now)
        changed = await self.call(q.get, nid)
        payload: dict[str, Any] = {
            "outcome": outcome.to_dict(),
            "nudge": self.shown(changed, now) if changed else None,
        }
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
    "conflict": "this nudge has moved on (claimed by someone else, closed, or changed since)",
    "expired": "too late to undo: the undo window has passed",
    "forbidden": "this nudge is in another tutor's queue (or someone else acted on it)",
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
