"""What the tutor API reads from a request, checked and bounded, and how it answers.

Every input is bounded before it is used: numbers are finite and within a range, strings
and lists have a length limit, names come from a fixed set. A request outside the bounds
is a ``BadRequest`` (400 with the reason), never an error deeper down (a 500): snoozing
for ``1e308`` hours is refused here, not by ``timedelta``. ``openapi.json`` states the same
bounds; the API's property tests hold the two together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from facilitation_rules.contract.codec import EventDecodeError, format_time, parse_time
from facilitation_rules.routing.nudges import (
    OPEN_STATES,
    SEVERITY_RANK,
    Nudge,
    learner_links,
    safe_url,
)
from facilitation_rules.routing.roster import Roster
from facilitation_rules.routing.triage import MAX_PAGE, SORTS, Filters, is_overdue, respond_by
from facilitation_stream.delivery.tutor_auth import Principal

MAX_SNOOZE = timedelta(days=30)
MAX_SNOOZE_HOURS = MAX_SNOOZE.total_seconds() / 3600
MIN_SNOOZE_HOURS = 0.01
MAX_OFFSET = 10_000
MAX_BULK = 100
MAX_ID = 128
MAX_NOTE = 500
UNDOABLE = ("resolve", "not-useful", "reassign")
#: How long a resolve / not useful / reassign can be undone (the page offers it for less).
UNDO_WINDOW = timedelta(seconds=20)
#: The authenticated caller of a request (set by the API's middleware).
PRINCIPAL = web.RequestKey("principal", Principal)


class BadRequest(ValueError):
    """The request is outside what the API accepts; ``str(err)`` says why."""

    status = 400


class Unprocessable(BadRequest):
    """Well-formed, but refused for what no schema states: a time past the allowed window,
    a tutor who is not in the team (422)."""

    status = 422


def error(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status, headers=headers)


async def read_body(request: web.Request) -> dict[str, Any]:
    """The JSON object of the body ({} when there is none), else ``BadRequest``."""
    if not request.can_read_body:
        return {}
    try:
        data = json.loads(await request.text() or "{}")
    except ValueError:
        raise BadRequest("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueQuery:
    scope: str  # "me", "all" or a tutor id
    filters: Filters
    sort: str
    offset: int
    limit: int


def queue_query(query: Mapping[str, str], me: str) -> QueueQuery:
    """``GET /queue``'s parameters. ``?all=1`` and ``?tutor=ID`` (older clients) are scopes."""
    everyone = query.get("all", "")
    if everyone not in ("", "0", "1", "true"):
        raise BadRequest("all: 1 or 0")
    tutor = _text(query.get("tutor", ""), "tutor", MAX_ID)
    scope = _text(query.get("scope", ""), "scope", MAX_ID)
    scope = scope or ("all" if everyone in ("1", "true") else "") or tutor or "me"
    claimed = query.get("claimed", "")
    if claimed not in ("", "me"):
        raise BadRequest("claimed: only 'me' (nudges I claimed)")
    overdue = query.get("overdue", "")
    if overdue not in ("", "0", "1"):
        raise BadRequest("overdue: 1 or 0")
    sort = query.get("sort") or "due"
    if sort not in SORTS:
        raise BadRequest(f"sort: one of {', '.join(SORTS)}")
    filters = Filters(
        severity=_choices(query.get("severity", ""), "severity", tuple(SEVERITY_RANK)),
        rule=frozenset(_list(_text(query.get("rule", ""), "rule", 200))),
        course=_text(query.get("course", ""), "course", 255),
        state=_choices(query.get("state", ""), "state", tuple(sorted(OPEN_STATES))),
        claimed_by=me if claimed == "me" else "",
        overdue=overdue == "1",
    )
    return QueueQuery(
        scope=me if scope == "me" else scope,
        filters=filters,
        sort=sort,
        offset=_int(query.get("offset", "0"), "offset", 0, MAX_OFFSET),
        limit=_int(query.get("limit", "50"), "limit", 1, MAX_PAGE),
    )


def _list(text: str) -> list[str]:
    return [x for x in text.split(",") if x] if text else []


def _choices(text: str, name: str, allowed: tuple[str, ...]) -> frozenset[str]:
    values = frozenset(_list(_text(text, name, 64)))
    if not values <= set(allowed):
        raise BadRequest(f"{name}: each one of {', '.join(allowed)}")
    return values


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"{name}: a string of at most {limit} characters")
    return value


def _int(text: str, name: str, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not low <= int(text) <= high:
        raise BadRequest(f"{name}: a whole number from {low} to {high}")
    return int(text)


# --- bodies ------------------------------------------------------------------------------


def snooze_until(body: Mapping[str, Any], now: datetime, next_shift: datetime | None) -> datetime:
    """``{"hours": 4}``, ``{"until": "2025-03-05T09:00Z"}`` or ``{"next_shift": true}``."""
    given = [k for k in ("hours", "until", "next_shift") if k in body]
    if len(given) != 1:
        raise BadRequest("snooze needs one of 'hours' (a number), 'until' (ISO 8601), 'next_shift'")
    if given == ["hours"]:
        hours = body["hours"]
        if isinstance(hours, bool) or not isinstance(hours, int | float):
            raise BadRequest("hours: a number")
        if not MIN_SNOOZE_HOURS <= hours <= MAX_SNOOZE_HOURS:  # NaN, infinities, huge ints
            raise BadRequest(f"hours: from {MIN_SNOOZE_HOURS:g} to {MAX_SNOOZE_HOURS:g}")
        until = now + timedelta(hours=hours)
    elif given == ["until"]:
        try:
            until = parse_time(_text(body["until"], "until", 64))
        except EventDecodeError as err:
            raise BadRequest(f"until: {err}") from None
    else:
        if body["next_shift"] is not True:
            raise BadRequest("next_shift: true")
        if next_shift is None:
            raise BadRequest("next_shift: the roster gives you no working hours")
        until = next_shift
    if not now < until <= now + MAX_SNOOZE:
        raise Unprocessable("snooze until must be in the next 30 days")
    return until


def reassign_body(body: Mapping[str, Any]) -> tuple[str, bool]:
    """(to, override) of ``{"to": "ben", "override": true}``."""
    to, override = body.get("to"), body.get("override", False)
    if not isinstance(to, str) or not to or len(to) > MAX_ID:
        raise BadRequest("reassign needs 'to': a tutor of the team")
    if not isinstance(override, bool):
        raise BadRequest("override: true or false")
    return to, override


def bulk_ids(body: Mapping[str, Any]) -> list[str]:
    ids = body.get("nudge_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BULK:
        raise BadRequest(f"nudge_ids: a list of 1 to {MAX_BULK} nudge ids")
    if not all(isinstance(i, str) and 1 <= len(i) <= MAX_ID for i in ids):
        raise BadRequest(f"nudge_ids: each a string of 1 to {MAX_ID} characters")
    return list(dict.fromkeys(ids))


def note_of(body: Mapping[str, Any]) -> str:
    note = body.get("note", "")
    if not isinstance(note, str):
        raise BadRequest("note: a string")
    return note[:MAX_NOTE]


def undo_action(body: Mapping[str, Any]) -> str:
    action = body.get("action", "")
    if action not in ("", *UNDOABLE):
        raise BadRequest(f"action: one of {', '.join(UNDOABLE)}")
    return str(action)


# --- what the API shows ------------------------------------------------------------------


def present(nudge: Nudge, roster: Roster | None, now: datetime, lms_url: str) -> dict[str, Any]:
    """The nudge as the page and the XBlock show it: its fields, when it wants an answer,
    whether that has passed, links (only http(s) ones) and a label for the learner."""
    out: dict[str, Any] = nudge.to_dict()
    out["respond_by"] = format_time(respond_by(nudge, roster))
    out["overdue"] = is_overdue(nudge, roster, now)
    out["learner_label"] = nudge.learner_name or nudge.learner_username or nudge.learner_id
    items = []
    for item in out["items"]:
        items.append({**item, "url": safe_url(str(item.get("url") or ""))})
    out["items"] = items
    links = learner_links(lms_url, nudge.course_id, nudge.learner_id, nudge.learner_username)
    thread = next((i["url"] for i in items if i["open"] and i["url"]), "")
    out["links"] = {**links, **({"thread": thread} if thread else {})}
    return out
