"""Reading the common fields of an Open edX tracking-log record, whatever its shape.

Real logs hold two record shapes (after any logger prefix is cut off by ``parse_line``):
``event_type`` / ``event`` / ``time`` (the LMS's own tracking log; ``event`` is often a JSON
string) and ``name`` / ``data`` / ``timestamp`` (event-routing "processed" records). The
helpers here hide the difference so translators read each field once, in one place.

Conventions (documented in docs/ingest.md):
- the event name is ``name`` when present, else ``event_type`` (``name`` is the precise one:
  ``event_type`` can be a legacy alias);
- a naive timestamp is taken to be UTC (the LMS logs UTC);
- the user is ``context.user_id``, else ``event.user_id``, else the username; events *about*
  a learner (enrollment, grades, completion) prefer ``event.user_id``, the learner concerned;
- the course is ``context.course_id``, else ``event.course_id``, else found in the URL;
- the LMS's request middleware (edx-platform ``track.middleware.TrackMiddleware``) logs every
  request with ``event`` = the JSON of its GET and POST parameters cut at 512 characters
  (``json.dumps(...)[:512]``), so a long query string leaves an object string that does not
  parse. Such a record is read as the LMS wrote it: its payload is unusable, the rest is
  not (``TruncatedEvent``, ``lms_truncated``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from facilitation_rules.contract.events import Actor, Role

EMPTY: dict[str, Any] = {}
#: Where the LMS cuts the ``event`` string of the requests it logs (TrackMiddleware).
LMS_EVENT_LIMIT = 512
#: A learner's plain activity as the rules see it: (epoch seconds, course_id, learner_id).
LearnerActivity = tuple[float, str, str]

# Roles Open edX writes into forum events. Community TAs and group moderators are the
# people a facilitated course calls tutors; a tutor role wins over staff access because
# tutors are often given staff access too, and the engine routes by the tutor role.
TUTOR_FORUM_ROLES = frozenset({"Community TA", "Group Moderator"})
STAFF_FORUM_ROLES = frozenset({"Administrator", "Moderator"})
STAFF_COURSE_ROLES = frozenset({"instructor", "staff", "ccx_coach"})


class TrackingLogError(ValueError):
    """The line or record is malformed; ``str(err)`` is the reason a person can act on."""


class TruncatedEvent(TrackingLogError):
    """The record's ``event`` is a JSON object string the LMS cut at ``LMS_EVENT_LIMIT``."""


class UnknownTrackingEvent(LookupError):
    """A well-formed record of an event type the bridge does not translate."""

    def __init__(self, event_type: str) -> None:
        super().__init__(event_type)
        self.event_type = event_type


def event_name(record: dict[str, Any]) -> str:
    name = record.get("name")
    if not name or not isinstance(name, str):
        name = record.get("event_type")
        if not name or not isinstance(name, str):
            raise TrackingLogError("no event name (neither 'name' nor 'event_type')")
    return name


def occurred_at(record: dict[str, Any]) -> datetime:
    return utc_time(record.get("time") or record.get("timestamp"))


def utc_time(value: Any) -> datetime:
    """A record's ``time`` (or ``timestamp``) value as an aware UTC datetime."""
    if not isinstance(value, str):
        raise TrackingLogError("missing time" if value is None else f"time: {value!r:.40}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise TrackingLogError(f"time: not an ISO 8601 timestamp: {value!r:.40}") from None
    if at.tzinfo is UTC:
        return at
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def context_of(record: dict[str, Any]) -> dict[str, Any]:
    ctx = record.get("context")
    if ctx is None:
        return EMPTY
    if not isinstance(ctx, dict):
        raise TrackingLogError(f"context: expected an object, got {type(ctx).__name__}")
    return ctx


def payload_of(record: dict[str, Any]) -> Any:
    """The event payload: a dict, or the raw value when it is not a JSON object string."""
    payload = record.get("event")
    if payload is None:
        payload = record.get("data")
    if isinstance(payload, str) and payload[:1] == "{":
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError as err:
            if len(payload) == LMS_EVENT_LIMIT:
                raise TruncatedEvent(
                    f"event: cut by the LMS at {LMS_EVENT_LIMIT} characters"
                ) from None
            raise TrackingLogError(f"event: a JSON string that does not parse: {err}") from None
    return payload


def lms_truncated(record: dict[str, Any]) -> bool:
    """Whether the record's ``event`` is an object string the LMS cut at 512 characters."""
    payload = record.get("event")
    if type(payload) is not str or len(payload) != LMS_EVENT_LIMIT or payload[:1] != "{":
        return False
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:
        return True
    return False  # exactly 512 characters of valid JSON: not cut


def payload_dict(record: dict[str, Any]) -> dict[str, Any]:
    """The payload of an event type that must carry an object (forum, enrollment)."""
    payload = payload_of(record)
    if not isinstance(payload, dict):
        raise TrackingLogError(f"event: expected an object, got {type(payload).__name__}")
    return payload


def _id_text(value: Any) -> str | None:
    # ``type() is`` rather than isinstance: hot path, and a bool is no user id.
    kind = type(value)
    if kind is str:
        return value or None
    if kind is int:
        return str(value)
    return None


def user_of(
    record: dict[str, Any], ctx: dict[str, Any], data: dict[str, Any], about_learner: bool = False
) -> tuple[str | None, str | None]:
    """(user id, username): the id as a string, or the username when the log has no id.

    ``about_learner`` events (grades, enrollment) name their learner in ``event.user_id``;
    the context then describes whoever triggered them, so its username is not the learner's.
    """
    ctx_user = _id_text(ctx.get("user_id"))
    if about_learner:
        subject = _id_text(data.get("user_id"))
        if subject is not None and subject != ctx_user:
            return subject, _id_text(data.get("username"))
    username = record.get("username") or ctx.get("username") or data.get("username")
    if type(username) is not str:
        username = None
    if ctx_user is None:
        ctx_user = _id_text(data.get("user_id")) or username
    return ctx_user, username


_COURSE_PREFIXES = ("course-v1:", "ccx-v1:", "block-v1:")


def course_in_text(text: str) -> str | None:
    """The course key inside a URL, a path or a usage key; None if there is none."""
    for prefix in _COURSE_PREFIXES:
        start = text.find(prefix)
        if start < 0:
            continue
        end = start + len(prefix)
        while end < len(text) and text[end] not in "/?#&\"' ":
            end += 1
        key = text[start:end]
        if prefix == "block-v1:":
            key = "course-v1:" + key[len(prefix) :].split("+type@", 1)[0]
        return key if "+" in key else None
    return None


def course_of(
    record: dict[str, Any], ctx: dict[str, Any], data: dict[str, Any], event_type: str
) -> str | None:
    course = ctx.get("course_id") or data.get("course_id")
    if isinstance(course, str) and course:
        return course
    # Browser events without context still name their page; page views are the path.
    module = ctx.get("module")
    candidates = (
        event_type,
        ctx.get("path"),
        ctx.get("page") or record.get("page"),
        data.get("target_url"),
        data.get("current_url"),
        data.get("problem_id"),
        module.get("usage_key") if isinstance(module, dict) else None,
        ctx.get("referer") or record.get("referer"),
    )
    for text in candidates:
        if isinstance(text, str) and (found := course_in_text(text)):
            return found
    return None


def role_of(data: dict[str, Any]) -> Role:
    forum_roles = data.get("user_forums_roles") or ()
    course_roles = data.get("user_course_roles") or ()
    if not isinstance(forum_roles, list | tuple) or not isinstance(course_roles, list | tuple):
        raise TrackingLogError("user_forums_roles / user_course_roles: expected lists")
    if not TUTOR_FORUM_ROLES.isdisjoint(forum_roles):
        return Role.TUTOR
    if not STAFF_FORUM_ROLES.isdisjoint(forum_roles) or not STAFF_COURSE_ROLES.isdisjoint(
        course_roles
    ):
        return Role.STAFF
    return Role.LEARNER


@lru_cache(maxsize=4096)
def actor(user_id: str, role: Role, username: str | None) -> Actor:
    """Actors are immutable and repeat on every line of a person: share them."""
    return Actor(user_id=user_id, role=role, username=username)


_LEARNERS: dict[tuple[str, str | None], Actor] = {}
_LEARNERS_MAX = 100_000


def learner(user_id: str, username: str | None) -> Actor:
    """``actor(user_id, Role.LEARNER, username)`` for the hot path (no enum hashing)."""
    key = (user_id, username)
    found = _LEARNERS.get(key)
    if found is None:
        if len(_LEARNERS) >= _LEARNERS_MAX:
            _LEARNERS.clear()  # a bound on memory, not a correctness matter
        found = _LEARNERS[key] = Actor(user_id=user_id, username=username)
    return found


def event_id(event_type: str, at: datetime, user_id: str, object_id: str | None = None) -> str:
    """A deterministic id from what identifies the action, whatever the record's shape.

    The same line ingested twice, or the same action seen as ``name``/``data`` and as
    ``event_type``/``event``, gets the same id, so downstream deduplicates by event_id. Two
    records alike in name, microsecond, user and object are taken to be one action.
    """
    # The POSIX time as float.hex(): exact, and ~5x cheaper than isoformat() or repr().
    key = f"{event_type}\x1f{at.timestamp().hex()}\x1f{user_id}\x1f{object_id or ''}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def str_field(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` holding a non-empty string (or an integer id)."""
    for key in keys:
        if found := _id_text(data.get(key)):
            return found
    return None


def nested_id(data: dict[str, Any], key: str) -> str | None:
    """``data[key]["id"]`` as forum events write references (``discussion.id``)."""
    ref = data.get(key)
    return _id_text(ref.get("id")) if isinstance(ref, dict) else None
