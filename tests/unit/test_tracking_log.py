"""Tracking-log records -> contract events: shapes, activity, enrolments, bad input.

The forum's records: test_tracking_forum.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from facilitation_rules.contract.events import (
    ActivityRecorded,
    EnrollmentActivated,
    EnrollmentDeactivated,
    ReflectionSubmitted,
)
from facilitation_rules.openedx_logs.translate import (
    TrackingLogError,
    UnknownTrackingEvent,
    parse_line,
    translate,
)
from tests.unit.tracking_records import COURSE, TIME, one, processed, server

# --- parse_line ---------------------------------------------------------------------------


def test_parse_line_reads_plain_json_str_and_bytes() -> None:
    assert parse_line('{"a": 1}\n') == {"a": 1}
    assert parse_line(b'  {"a": 1}  \r\n') == {"a": 1}


def test_parse_line_cuts_a_logger_prefix() -> None:
    line = '2024-03-04 09:00:00,101 INFO 42 [tracking] [user 5] logger.py:41 - {"a": "b"}'
    assert parse_line(line) == {"a": "b"}
    assert parse_line(line.encode()) == {"a": "b"}


@pytest.mark.parametrize("blank", ["", "\n", "   \t\r\n", b"\n"])
def test_parse_line_returns_none_for_blank_lines(blank: str | bytes) -> None:
    assert parse_line(blank) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"event_type": "x", "time": ', "invalid JSON"),
        ("just words", "no JSON object on the line"),
        ("INFO logger.py:41 - {broken", "invalid JSON"),
        ('{"a": 1} trailing', "invalid JSON"),
        (b"\xff\xfe{", "invalid JSON"),
    ],
)
def test_parse_line_explains_malformed_lines(line: str | bytes, reason: str) -> None:
    with pytest.raises(TrackingLogError, match=reason):
        parse_line(line)


# --- enrollment and activity --------------------------------------------------------------


def test_enrollment_activated_and_deactivated() -> None:
    on = one(
        processed(
            "edx.course.enrollment.activated",
            {"course_id": COURSE, "user_id": 103, "mode": "verified"},
            user_id="",
        )
    )
    assert isinstance(on, EnrollmentActivated)
    assert (on.learner_id, on.mode, on.course_id) == ("103", "verified", COURSE)
    off = one(server("edx.course.enrollment.deactivated", {"course_id": COURSE, "user_id": 103}))
    assert isinstance(off, EnrollmentDeactivated) and off.learner_id == "103"


@pytest.mark.parametrize(
    ("name", "event", "kind", "object_id"),
    [
        (
            "problem_check",
            {"problem_id": "block-v1:FacX+TUT101+2024_T1+type@problem+block@p1"},
            "problem",
            "block-v1:FacX+TUT101+2024_T1+type@problem+block@p1",
        ),
        ("problem_check", "input_p1_2_1=choice_0", "problem", None),  # browser: form data
        ("edx.grades.problem.submitted", {"problem_id": "p2"}, "problem", "p2"),
        ("play_video", json.dumps({"id": "vid01", "currentTime": 2}), "video", "vid01"),
        ("edx.video.closed_captions.shown", {"id": "vid01"}, "video", "vid01"),
        ("seq_goto", json.dumps({"old": 1, "new": 2, "id": "seq1"}), "navigation", "seq1"),
        (
            "edx.ui.lms.outline.selected",
            {"target_url": "https://x/jump"},
            "navigation",
            "https://x/jump",
        ),
        ("edx.completion.block_completion.changed", {"block_id": "b1"}, "completion", "b1"),
        ("edx.grades.subsection.grade_calculated", {"block_id": "s1"}, "grade", "s1"),
        ("edx.special_exam.timed.attempt.created", {"exam_content_id": "e1"}, "problem", "e1"),
    ],
)
def test_learner_activity_becomes_activity_recorded(
    name: str, event: Any, kind: str, object_id: str | None
) -> None:
    recorded = one(server(name, event))
    assert isinstance(recorded, ActivityRecorded)
    assert (recorded.activity_kind, recorded.object_id) == (kind, object_id)
    assert recorded.learner_id == "101" and recorded.course_id == COURSE


def test_url_page_view_derives_the_course_from_the_path() -> None:
    record = server(f"/courses/{COURSE}/courseware/week1/?x=1", "{}", course_id="")
    view = one(record)
    assert view.activity_kind == "page_view" and view.course_id == COURSE
    assert view.object_id == f"/courses/{COURSE}/courseware/week1/"


def test_course_is_derived_from_a_usage_key_when_context_has_none() -> None:
    record = {
        "name": "problem_check",
        "timestamp": TIME,
        "context": {
            "username": "ana",
            "referer": "https://lms/xblock/block-v1:FacX+TUT101+2024_T1+type@vertical+block@v1",
        },
    }
    event = one(record)
    assert event.course_id == COURSE and event.learner_id == "ana"  # falls back to username


def test_learner_id_falls_back_to_event_user_id_then_username() -> None:
    assert one(server("play_video", {"id": "v", "user_id": 7}, user_id=None)).learner_id == "7"
    assert one(server("play_video", {"id": "v"}, user_id=None)).learner_id == "ana"


def test_grade_events_are_about_the_learner_in_the_payload() -> None:
    record = processed(
        "edx.grades.problem.submitted", {"user_id": "102", "problem_id": "p"}, user_id=301
    )
    event = one(record)
    assert event.learner_id == "102" and event.actor.username is None  # "ana" triggered it


@pytest.mark.parametrize(
    "record",
    [
        server("play_video", {"id": "v"}, user_id=None) | {"username": ""},  # not logged in
        server("/dashboard", "{}", course_id=""),  # outside any course
        server("edx.course.enrollment.mode_changed", {}),
    ],
)
def test_irrelevant_records_give_no_events(record: dict[str, Any]) -> None:
    if "username" in record and not record["username"]:
        record["context"]["username"] = ""
    assert translate(record) == []


def test_events_published_by_our_xblocks_pass_through_with_their_own_id() -> None:
    record = server(
        "org.openedx.facilitation.reflection.submitted.v1",
        {
            "event_id": "xb-1",
            "occurred_at": "2024-03-04T13:10:00Z",
            "course_id": COURSE,
            "actor": {"user_id": "102"},
            "reflection_id": "rf1",
            "prompt_id": "pr1",
        },
    )
    event = one(record)
    assert isinstance(event, ReflectionSubmitted) and event.event_id == "xb-1"


# --- time, ids, errors --------------------------------------------------------------------


def test_naive_timestamps_are_utc_and_offsets_are_converted() -> None:
    naive = server("play_video", {"id": "v"}) | {"time": "2024-03-04T09:00:00"}
    assert one(naive).occurred_at == datetime(2024, 3, 4, 9, tzinfo=UTC)
    shifted = server("play_video", {"id": "v"}) | {"time": "2024-03-04T11:00:00+02:00"}
    assert one(shifted).occurred_at == datetime(2024, 3, 4, 9, tzinfo=UTC)
    assert one(shifted).occurred_at.tzinfo is UTC


def test_event_ids_are_deterministic_and_shape_independent() -> None:
    data = {"id": "R1", "discussion": {"id": "T1"}, "body": "hi"}
    as_server = server("edx.forum.response.created", json.dumps(data))
    as_processed = processed("edx.forum.response.created", data)
    as_processed["timestamp"] = "2024-03-04T09:00:00.250000Z"
    ids = {
        one(as_server).event_id,
        one(json.loads(json.dumps(as_server))).event_id,
        one(as_processed).event_id,
    }
    assert len(ids) == 1
    other = server("edx.forum.response.created", {**data, "id": "R2"})
    assert one(other).event_id not in ids


def test_unknown_event_types_raise_with_the_type() -> None:
    with pytest.raises(UnknownTrackingEvent) as err:
        translate(server("edx.bi.something.new", {}))
    assert err.value.event_type == "edx.bi.something.new"
    with pytest.raises(UnknownTrackingEvent):
        translate(server("org.openedx.facilitation.future.thing.v9", {"event_id": "x"}))


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"time": TIME, "event": {}}, "no event name"),
        ({"event_type": "play_video", "event": {}}, "missing time"),
        (server("play_video", {}) | {"time": "yesterday"}, "not an ISO 8601"),
        (server("play_video", {}) | {"time": 17}, "time"),
        (server("edx.forum.thread.created", ["x"]), "expected an object, got list"),
        (server("edx.forum.thread.created", "not json"), "expected an object, got str"),
        (server("edx.forum.thread.created", {"body": "x"}), "no post id"),
        (server("edx.forum.response.created", {"id": "R1"}), "no thread id"),
        (server("edx.forum.thread.created", {"id": "T1"}) | {"context": "x"}, "context"),
        (server("play_video", '{"id": '), "does not parse"),
        (
            server("edx.forum.thread.created", {"id": "T", "user_forums_roles": "Student"}),
            "expected lists",
        ),
        (server("org.openedx.facilitation.post.viewed.v1", {"event_id": "x"}), "missing"),
    ],
)
def test_broken_records_raise_tracking_log_error_with_a_reason(
    record: dict[str, Any], reason: str
) -> None:
    with pytest.raises(TrackingLogError, match=reason):
        translate(record)


def test_forum_event_without_user_or_course_is_broken() -> None:
    nobody = server("edx.forum.thread.created", {"id": "T1"}, user_id=None)
    nobody["username"] = ""
    nobody["context"]["username"] = ""
    with pytest.raises(TrackingLogError, match="no user"):
        translate(nobody)
    with pytest.raises(TrackingLogError, match="no course"):
        translate(server("edx.forum.thread.created", {"id": "T1"}, course_id=""))
