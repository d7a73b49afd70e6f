"""Open edX tracking-log records -> contract events (pure: no I/O, time from the record).

``parse_line`` turns one log line into a record: it accepts a logger prefix before the JSON
(``2024-03-01 10:00:00,123 INFO 7 [tracking] logger.py:41 - {...}``), and returns None for
a blank line. ``translate`` turns a record of either shape (``event_type``/``event`` or
``name``/``data``, see ``tracking_fields``) into events:

- ``[]`` for a known event that matters to no rule, or activity of an anonymous visitor or
  outside any course;
- ``UnknownTrackingEvent`` for an event type the bridge does not know (count and skip);
- ``TrackingLogError`` for a record that is broken (report ``FILE:LINE: reason``).

``translate_lean`` gives the same for replay, except that a learner's plain activity is a
``LearnerActivity`` tuple (time, course, learner) instead of an event: the same checks run,
so both report the same errors, but no event id is hashed and no event built. Replay reads
most such lines without building their record at all (``tracking_head``); ``translator_for``
tells it how a name is translated.

Translation dispatches on the event name through one dict of small translators (exact names
first, then a few prefix families, then URL page views), so a line costs one lookup.
Events the project's own XBlocks publish (``org.openedx.facilitation.*``, via
``runtime.publish``) are passed through with their own event_id, so the bridge and the
XBlocks' Kafka producer never duplicate each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from facilitation_rules.contract.codec import EventDecodeError, UnknownEventType, from_dict
from facilitation_rules.contract.events import (
    NAMESPACE,
    ActivityKind,
    ActivityRecorded,
    EnrollmentActivated,
    EnrollmentDeactivated,
    Event,
    Role,
)
from facilitation_rules.openedx_logs.fields import (
    EMPTY,
    LearnerActivity,
    TrackingLogError,
    TruncatedEvent,
    UnknownTrackingEvent,
    actor,
    context_of,
    course_of,
    event_id,
    event_name,
    learner,
    occurred_at,
    payload_dict,
    payload_of,
    str_field,
    user_of,
)
from facilitation_rules.openedx_logs.forum import (
    FORUM_IGNORED,
    FORUM_TRANSLATORS,
    ActorActivity,
    ThreadIndex,
    Translator,
)

__all__ = [
    "Activity",
    "LearnerActivity",
    "ThreadIndex",
    "TrackingLogError",
    "TruncatedEvent",
    "UnknownTrackingEvent",
    "parse_line",
    "translate",
    "translate_lean",
    "translator_for",
]


def parse_line(line: str | bytes) -> dict[str, Any] | None:
    """One log line -> its JSON record; None for a blank line; TrackingLogError if broken."""
    line = line.strip()
    if not line:
        return None
    if line[0] not in (123, "{"):  # 123 is b"{": a logger prefix precedes the JSON
        start = line.find(b"{" if isinstance(line, bytes) else "{")  # type: ignore[arg-type]
        if start < 0:
            raise TrackingLogError("no JSON object on the line")
        line = line[start:]
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        raise TrackingLogError(f"invalid JSON: {err}") from None
    if not isinstance(record, dict):
        raise TrackingLogError(f"expected a JSON object, got {type(record).__name__}")
    return record


def translate(record: dict[str, Any], threads: ThreadIndex | None = None) -> list[Event]:
    """The contract events one tracking-log record stands for.

    ``threads`` (post id -> thread id) lets votes and deletions of responses and comments,
    which the LMS logs without their thread, find it; pass one mapping for a whole run.
    """
    name = event_name(record)
    return translator_for(name)(record, name, threads)


def translate_lean(
    record: dict[str, Any], threads: ThreadIndex | None = None
) -> list[Event] | LearnerActivity | None:
    """``translate`` for replay: plain activity as a ``LearnerActivity`` (None when the
    record stands for no event) without building its event; other records as ``translate``
    gives them. Both raise the same errors for the same record."""
    name = event_name(record)
    translator = translator_for(name)
    if type(translator) is Activity or type(translator) is ActorActivity:
        return translator.lean(record, name, threads)
    return translator(record, name, threads)


def translator_for(name: str) -> Translator:
    """The translator of an event name; UnknownTrackingEvent if there is none."""
    translator = TRANSLATORS.get(name)
    return translator if translator is not None else _family(name)


def _family(name: str) -> Translator:
    if name[0] == "/":
        return _PAGE_VIEW
    if name.startswith(NAMESPACE):
        return _contract
    for prefix, translator in _PREFIXES:
        if name.startswith(prefix):
            return translator
    raise UnknownTrackingEvent(name)


class Activity:
    """Learner activity; ``about_learner`` events name their learner in ``event.user_id``.

    The object is the first of ``object_keys`` in the payload, else the block the context
    names; with no ``object_keys`` it is the event name itself (a page view's path, without
    its query when ``path_name``). ``lean`` reads only what the rules need.
    """

    __slots__ = ("about_learner", "kind", "object_keys", "path_name")

    def __init__(
        self,
        kind: ActivityKind,
        object_keys: tuple[str, ...],
        about_learner: bool = False,
        path_name: bool = False,
    ) -> None:
        self.kind: ActivityKind = kind
        self.object_keys = object_keys
        self.about_learner = about_learner
        self.path_name = path_name

    def __call__(
        self, record: dict[str, Any], name: str, threads: ThreadIndex | None
    ) -> list[Event]:
        if self.path_name:
            name = name.split("?", 1)[0]
        found = self._read(record, name)
        if found is None:
            return []
        at, course_id, user, username, data, ctx = found
        object_id = str_field(data, self.object_keys) if self.object_keys else name
        if object_id is None and type(module := ctx.get("module")) is dict:
            object_id = str_field(module, _MODULE_KEYS)
        return [
            ActivityRecorded(
                event_id=event_id(name, at, user, object_id),
                occurred_at=at,
                course_id=course_id,
                actor=learner(user, username if type(username) is str and username else None),
                learner_id=user,
                activity_kind=self.kind,
                object_id=object_id,
            )
        ]

    def lean(
        self, record: dict[str, Any], name: str, threads: ThreadIndex | None
    ) -> LearnerActivity | None:
        """What ``__call__`` gives as (time, course_id, learner_id); None for no event."""
        found = self._read(record, name.split("?", 1)[0] if self.path_name else name)
        return None if found is None else (found[0].timestamp(), found[1], found[2])

    def _read(
        self, record: dict[str, Any], name: str
    ) -> tuple[datetime, str, str, Any, dict[str, Any], dict[str, Any]] | None:
        """(time, course, user, username, payload, context); None: anonymous or no course.

        The hot path of a whole log: the common cases are read inline, the rest by the
        same helpers the other translators use. Every check that can reject the record
        runs here, so both readings report the same malformed lines.
        """
        at = occurred_at(record)
        ctx = record.get("context")
        if type(ctx) is not dict:
            ctx = context_of(record)
        user_id = ctx.get("user_id")
        course_id = ctx.get("course_id")
        data = record.get("event")
        if type(data) is not dict:
            if self.object_keys or type(user_id) is not int or type(course_id) is not str:
                try:
                    data = payload_of(record)
                except TruncatedEvent:
                    data = EMPTY  # as the LMS logged it: the activity without its details
            # A page view's payload (the request's GET/POST, as a string) is not needed.
            if type(data) is not dict:
                data = EMPTY  # or e.g. a browser problem_check's form-encoded answers
        if type(user_id) is int and not self.about_learner:
            user = str(user_id)
            username = record.get("username") or ctx.get("username")
        else:
            found, username = user_of(record, ctx, data, self.about_learner)
            if found is None:
                return None  # an anonymous visitor: nobody to facilitate
            user = found
        if not course_id or type(course_id) is not str:
            course_id = course_of(record, ctx, data, name)
            if course_id is None:
                return None  # outside any course (dashboard, account pages ...)
        return at, course_id, user, username, data, ctx


_PAGE_VIEW = Activity("page_view", (), path_name=True)


def _enrollment(cls: type[EnrollmentActivated | EnrollmentDeactivated]) -> Translator:
    def translate(record: dict[str, Any], name: str, threads: ThreadIndex | None) -> list[Event]:
        at = occurred_at(record)
        ctx = context_of(record)
        data = payload_dict(record)
        learner, username = user_of(record, ctx, data, about_learner=True)
        if learner is None:
            raise TrackingLogError(f"{name}: no user id or username")
        course_id = course_of(record, ctx, data, name)
        if course_id is None:
            raise TrackingLogError(f"{name}: no course id")
        mode = str_field(data, ("mode",)) or "audit"
        return [
            cls(
                event_id=event_id(name, at, learner, f"{course_id}/{mode}"),
                occurred_at=at,
                course_id=course_id,
                actor=actor(learner, Role.LEARNER, username),
                learner_id=learner,
                mode=mode,
            )
        ]

    return translate


def _contract(record: dict[str, Any], name: str, threads: ThreadIndex | None) -> list[Event]:
    """An event this project's XBlocks published into the tracking log."""
    try:
        return [from_dict({**payload_dict(record), "event_type": name})]
    except UnknownEventType:
        raise UnknownTrackingEvent(name) from None
    except EventDecodeError as err:
        raise TrackingLogError(f"{name}: {err}") from None


def _ignored(record: dict[str, Any], name: str, threads: ThreadIndex | None) -> list[Event]:
    return []


_MODULE_KEYS = ("usage_key",)
_PROBLEM_KEYS = ("problem_id", "module_id", "problem")
_VIDEO_KEYS = ("id", "module_id")
_NAV_KEYS = ("id", "target_url", "target_name")
_problem = Activity("problem", _PROBLEM_KEYS)
_video = Activity("video", _VIDEO_KEYS)
_navigation = Activity("navigation", _NAV_KEYS)
_grade = Activity("grade", ("block_id", "problem_id"), about_learner=True)

TRANSLATORS: dict[str, Translator] = {
    **FORUM_TRANSLATORS,
    **dict.fromkeys(FORUM_IGNORED, _ignored),
    "edx.course.enrollment.activated": _enrollment(EnrollmentActivated),
    "edx.course.enrollment.deactivated": _enrollment(EnrollmentDeactivated),
    "edx.completion.block_completion.changed": Activity(
        "completion", ("block_id",), about_learner=True
    ),
    "edx.grades.problem.submitted": Activity("problem", _PROBLEM_KEYS, about_learner=True),
    **dict.fromkeys(
        (
            "problem_check",
            "problem_check_fail",
            "problem_save",
            "problem_reset",
            "problem_show",
            "problem_graded",
            "problem_rescore",
            "problem_rescore_fail",
            "showanswer",
            "save_problem_success",
            "save_problem_fail",
            "reset_problem",
            "reset_problem_fail",
        ),
        _problem,
    ),
    **dict.fromkeys(
        (
            "load_video",
            "play_video",
            "pause_video",
            "stop_video",
            "seek_video",
            "complete_video",
            "speed_change_video",
            "show_transcript",
            "hide_transcript",
            "video_show_cc_menu",
            "video_hide_cc_menu",
        ),
        _video,
    ),
    **dict.fromkeys(("seq_goto", "seq_next", "seq_prev", "page_close"), _navigation),
}

# Families the LMS keeps adding members to; looked at only when the exact name is unknown.
_PREFIXES: tuple[tuple[str, Translator], ...] = (
    ("edx.video.", _video),
    ("edx.ui.lms.", _navigation),
    ("edx.problem.", _problem),
    ("edx.special_exam.", Activity("problem", ("exam_content_id",))),
    ("edx.grades.", _grade),
    ("edx.course.grade.", _grade),
    ("edx.course.enrollment.", _ignored),  # mode changes, upgrade clicks ...
)
