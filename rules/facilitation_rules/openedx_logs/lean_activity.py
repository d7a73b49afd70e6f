"""A quick reading of the usual tracking-log line: a learner's plain activity, decoded lean.

Most of a log (video, navigation, problems, forum views and votes) replays as a
``LearnerActivity`` (time, course, learner). Building each record in full with orjson to
read three of its fields is most of a replay's reading time, so ``quick_activities``
decodes each line into small typed structs (msgspec) holding only the fields it needs; the
rest of the line is checked as JSON, not built. It answers only for a line that is
certainly such an activity in the common shape: a JSON object (after any logger prefix)
whose context holds an integer ``user_id`` and a course, with an event name of an activity,
or of a forum view or vote by a learner, and an ISO time. Any other line it leaves as it
is, and the caller reads it in full (``parse_line`` then ``translate_lean``), which alone
reports errors, their reasons, and events that are not plain activity.

Where it answers, it gives what the full reading gives (a property test holds the two
together): it reads the same values, and accepts only lines that orjson accepts, except:
msgspec checks the syntax of what it skips as orjson does, but not its UTF-8 (so that is
checked here) nor the range of its numbers: a number beyond a float's range (1e309) in a
field the quick reading skips (or in a JSON string payload) is read here, while orjson
reports the line as malformed.
Elsewhere a type the structs do not expect (a numeric time, a boolean user id, an integer
beyond 64 bits, a JSON null ...) only means "not sure". Nesting deeper than the
interpreter's recursion limit (1,000) fails msgspec before orjson's limit (1,024).
It is not sure either of a comment line (``#`` first), of an event later than ``after`` (the
full reading reports it as from the future), or of an ``event`` string of exactly the
length the LMS cuts them to (the full reading counts it, see ``fields.lms_truncated``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

import msgspec

from facilitation_rules.openedx_logs.fields import LMS_EVENT_LIMIT, LearnerActivity, utc_time
from facilitation_rules.openedx_logs.forum import ActorActivity
from facilitation_rules.openedx_logs.translate import Activity, UnknownTrackingEvent, translator_for

__all__ = ["quick_activities"]

# orjson reads an integer beyond 64 bits as a float (msgspec as an int): leave those to it.
_Int = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Context(msgspec.Struct, gc=False):
    user_id: _Int
    course_id: Annotated[str, msgspec.Meta(min_length=1)]


class _Payload(msgspec.Struct, gc=False):
    """An object payload; what a forum view or vote reads of it, typed as a learner's.

    Roles other than these make ``role_of`` read a tutor or staff: the full reading's case.
    """

    id: str | _Int | None = None
    user_forums_roles: list[Literal["Student"]] | None = None
    user_course_roles: tuple[()] | None = None


class _Empty(msgspec.Struct, gc=False):
    """A JSON object, checked and skipped."""


class _Head(msgspec.Struct, gc=False):
    context: _Context
    name: str = ""
    event_type: str = ""
    time: str = ""
    timestamp: str = ""
    event: str | _Payload | None = None
    data: str | _Payload | None = None
    #: present in a contract event (``fmt="auto"``); never decoded
    event_id: msgspec.Raw = msgspec.Raw()


_decode = msgspec.json.Decoder(_Head).decode
_check_object = msgspec.json.Decoder(_Empty).decode
_fromisoformat = datetime.fromisoformat

# How the records of an event name are read quickly (see _kind).
_FULL, _ACTIVITY, _ACTIVITY_PAYLOAD, _POST_ACTIVITY = range(4)
_KINDS: dict[str, int] = {}
_KINDS_MAX = 10_000  # page views are named by their URL: a bound on memory


def quick_activities(
    lines: Iterable[bytes],
    contracts: bool = True,
    after: float = float("inf"),
    names: dict[str, str] | None = None,
) -> list[LearnerActivity | bytes]:
    """Each line as the ``LearnerActivity`` it is, or as itself when it is not one or
    the quick reading is not sure (to be read in full).

    ``contracts``: a record with an ``event_id`` may be a contract event (``fmt="auto"``).
    ``after``: activities later than this (epoch seconds) are left to the full reading.
    ``names``: learner id -> username, filled from the line where a learner is first seen.
    One call for many lines keeps the per-line work to the loop body; each line is read
    as it comes, and only those to read in full are kept.
    """
    out: list[LearnerActivity | bytes] = []
    add = out.append
    decode, check_object, kinds, fromisoformat = _decode, _check_object, _KINDS, _fromisoformat
    users, courses = _USERS, _COURSES
    for line in lines:
        item: LearnerActivity | bytes = line
        try:
            first = line[0]  # b"" (a blank line) raises: read in full
            if first == 123:  # b"{"
                text = line
            elif first == 35:  # b"#": a comment, read in full (it is skipped)
                add(line)
                continue
            else:  # a logger prefix
                text = line[line.index(b"{") :]
            if not text.isascii():
                text.decode()  # orjson rejects invalid UTF-8 anywhere, msgspec where it reads
            head = decode(text)
            name = head.name or head.event_type
            kind = kinds.get(name)
            if kind is None:
                kind = _kind(name)
            sure = kind and not (contracts and head.event_id)
            if sure and kind != _ACTIVITY:
                payload = head.event
                if payload is None:
                    payload = head.data
                if kind == _POST_ACTIVITY:
                    # A view or vote of a post by a learner (the roles _Payload accepts).
                    sure = type(payload) is _Payload and payload.id not in (None, "")
                elif type(payload) is str and payload[:1] == "{":
                    check_object(payload)  # as payload_of: it must parse
            elif sure:  # the payload is not read, but one the LMS cut is counted
                payload = head.event
                sure = type(payload) is not str or len(payload) != LMS_EVENT_LIMIT
            if sure:
                value = head.time or head.timestamp
                at = fromisoformat(value)
                if at.tzinfo is not UTC:  # naive, or another offset
                    at = utc_time(value)
                ctx = head.context
                user = users.get(ctx.user_id)
                if user is None:
                    user = _shared(users, ctx.user_id, str(ctx.user_id))
                if names is not None and user not in names:
                    names[user] = username_in(text)
                course = courses.get(ctx.course_id)
                if course is None:
                    course = _shared(courses, ctx.course_id, ctx.course_id)
                t = at.timestamp()
                if t <= after:
                    item = (t, course, user)
        except Exception:  # whatever it is, the full reading says it (or that all is well)
            pass
        add(item)
    return out


class _NamedContext(msgspec.Struct, gc=False):
    username: str | None = None


class _Named(msgspec.Struct, gc=False):
    """Who a record is by: its ``username``, else its context's (as the full reading)."""

    username: str | None = None
    context: _NamedContext | None = None


_decode_named = msgspec.json.Decoder(_Named).decode


def username_in(text: bytes) -> str:
    """The username of a record's JSON text ("" if none): read once per learner."""
    try:
        named = _decode_named(text)
    except msgspec.DecodeError:
        return ""
    if named.username:
        return named.username
    return (named.context.username or "") if named.context is not None else ""


# One string object per learner and per course: a replay holds an item per line, and the
# rules key their state by these strings (their hash is computed once).
_USERS: dict[int, str] = {}
_COURSES: dict[str, str] = {}
_SHARED_MAX = 100_000  # a bound on memory, not a correctness matter
_K = TypeVar("_K", int, str)


def _shared(strings: dict[_K, str], key: _K, value: str) -> str:
    if len(strings) >= _SHARED_MAX:
        strings.clear()
    strings[key] = value
    return value


def _kind(name: str) -> int:
    try:
        translator = translator_for(name) if name else None
    except UnknownTrackingEvent:
        translator = None
    if type(translator) is Activity and not translator.about_learner:
        # Without object keys (page views) the payload is not read at all.
        kind = _ACTIVITY_PAYLOAD if translator.object_keys else _ACTIVITY
    elif type(translator) is ActorActivity:
        kind = _POST_ACTIVITY
    else:  # events about a learner, forum posts, enrolments, contract events ...
        kind = _FULL
    if len(_KINDS) >= _KINDS_MAX:
        _KINDS.clear()
    _KINDS[name] = kind
    return kind
