"""The lead's side of the tutor API: the team's load, reassignment choices, bulk reassign.

    GET  /api/v1/team                     leads: per tutor open / claimed / snoozed /
                                          overdue against capacity, on shift, next shift
    GET  /api/v1/nudges/{id}/candidates   who the nudge could go to, best first, with what
                                          speaks against each (away, area, capacity, shift)
    POST /api/v1/team/reassign            leads: {"nudge_ids": [...], "to": ID, "override"}

The choices come from ``routing.assignment.reassign_candidates``, which makes the checks
``assign`` makes; a reassignment against them (to a tutor off shift, full, away, or not
covering the rule's area) is refused with the warnings (409) unless ``override`` is true.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from facilitation_rules.contract.codec import format_time
from facilitation_rules.routing.assignment import Candidate, Load, Request, reassign_candidates
from facilitation_rules.routing.nudges import Nudge
from facilitation_rules.routing.triage import TutorLoad, team_loads
from facilitation_stream.delivery.tutor_inputs import (
    PRINCIPAL,
    UNDO_WINDOW,
    bulk_ids,
    error,
    read_body,
    reassign_body,
)

if TYPE_CHECKING:
    from facilitation_stream.delivery.tutor_api import TutorApi

RECENT_DAYS = 7


class TeamRoutes:
    def __init__(self, api: TutorApi) -> None:
        self.api = api

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/team", self.team),
            web.post("/api/v1/team/reassign", self.bulk_reassign),
            web.get("/api/v1/nudges/{nudge_id}/candidates", self.candidates),
        ]

    async def team(self, request: web.Request) -> web.Response:
        if not request[PRINCIPAL].lead:
            return error(403, "only leads see the team's load")
        api, now = self.api, self.api.clock()
        queues = await api.call(api.queue.list_all)
        away = frozenset(await api.call(api.queue.away_tutors))
        rows: dict[str, TutorLoad] = {}
        for roster in api.rosters():
            for row in team_loads(roster, queues, now, away):
                rows.setdefault(row.tutor_id, row)
        return web.json_response(
            {"now": format_time(now), "tutors": [_load(r) for r in rows.values()]}
        )

    async def candidates(self, request: web.Request) -> web.Response:
        nudge = await self.api.visible(request)
        if isinstance(nudge, web.Response):
            return nudge
        found = await self._candidates(nudge, self.api.clock())
        return web.json_response(
            {"nudge_id": nudge.nudge_id, "candidates": [asdict(c) for c in found]}
        )

    async def _candidates(
        self, nudge: Nudge, now: datetime, loads: dict[str, Load] | None = None
    ) -> list[Candidate]:
        roster = self.api.roster_of(nudge.course_id)
        if roster is None:
            return []
        if loads is None:
            loads = await self._loads(now)
        return reassign_candidates(
            roster, Request.from_nudge(nudge), now, loads=loads, holder=nudge.tutor_id
        )

    async def _loads(self, now: datetime) -> dict[str, Load]:
        since = now - timedelta(days=RECENT_DAYS)
        loads: dict[str, Load] = await self.api.call(self.api.queue.routing_loads, since)
        return loads

    async def check_target(
        self,
        nudge: Nudge,
        to: str,
        override: bool,
        now: datetime,
        loads: dict[str, Load] | None = None,
    ) -> web.Response | None:
        """None when ``nudge`` may go to ``to``, else the refusal: 400 for a tutor not in
        the team, 409 with the warnings when the choice goes against them unasked."""
        team = self.api.tutors()
        if team and to not in team:
            return error(422, f"{to[:40]!r} is not a tutor of the team")
        if override:
            return None
        fit = next((c for c in await self._candidates(nudge, now, loads) if c.tutor_id == to), None)
        if fit is None or not fit.warnings:
            return None
        return error(
            409,
            f"{to}: {'; '.join(fit.warnings)} (send override: true to reassign anyway)",
            warnings=list(fit.warnings),
        )

    async def bulk_reassign(self, request: web.Request) -> web.Response:
        who = request[PRINCIPAL]
        body = await read_body(request)
        ids, (to, override) = bulk_ids(body), reassign_body(body)
        if not who.lead:
            return error(403, "only leads reassign in bulk")
        api, now = self.api, self.api.clock()
        found = await api.call(lambda: [api.queue.get(i) for i in ids])
        nudges = [n for n in found if n is not None]
        loads = await self._loads(now)
        for nudge in nudges:
            refused = await self.check_target(nudge, to, override, now, loads)
            if refused is not None:
                return refused
        results = []
        for nudge_id, nudge in zip(ids, found, strict=True):
            if nudge is None:
                results.append({"nudge_id": nudge_id, "status": "not_found"})
                continue
            outcome = await api.call(
                api.queue.reassign, nudge.nudge_id, who.tutor_id, to, now=now, own_only=False,
                undo_s=int(UNDO_WINDOW.total_seconds()),
            )  # fmt: skip
            results.append({"nudge_id": nudge.nudge_id, "status": outcome.status})
        return web.json_response({"to": to, "results": results})


def _load(row: TutorLoad) -> dict[str, Any]:
    out = asdict(row)
    out["next_shift"] = format_time(row.next_shift) if row.next_shift else None
    out["areas"] = list(row.areas)
    out["over_capacity"] = row.over_capacity
    return out

