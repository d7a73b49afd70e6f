"""The quick reading of plain activity gives what the full reading gives, or leaves the line.

``quick_activities`` answers for a line only when it is sure; the reader then reads every
other line in full. Whatever the line, a replay's reading must come out the same with or
without it: the same items (floats equal), counts and malformed reasons.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from benchmarks import tracking_log_gen
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from facilitation_rules.openedx_logs.lean_activity import quick_activities
from facilitation_rules.openedx_logs.translate import parse_line, translate_lean
from facilitation_stream.ingest import event_files
from facilitation_stream.ingest.event_files import ReadStats, read_replay_items

COURSE = "course-v1:FacX+TUT101+2024_T1"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "tracking_logs"


def quick(line: bytes) -> object:
    """The quick reading of one line: its activity, or None when it leaves the line."""
    [found] = quick_activities([line])
    return None if found is line else found


def full(line: bytes) -> object:
    """What the full reading makes of one line: its lean result, or the error's text."""
    try:
        return translate_lean(parse_line(line), {})  # type: ignore[arg-type]
    except Exception as err:
        return f"{type(err).__name__}: {err}"


def read(
    path: Path, quick_reading: bool, monkeypatch: pytest.MonkeyPatch, fmt: str = "auto"
) -> tuple[Any, ...]:
    with monkeypatch.context() as patch:
        if not quick_reading:
            patch.setattr(event_files, "quick_activities", lambda lines, **_: list(lines))
        stats = ReadStats()
        batches = read_replay_items([path], fmt=fmt, stats=stats)  # type: ignore[arg-type]
        items = [item for batch in batches for item in batch]
    return (
        items, stats.read, stats.events, stats.ignored, stats.unknown, stats.malformed,
        stats.usernames,
    )  # fmt: skip


def line_of(record: dict[str, Any], **context: Any) -> bytes:
    base = {"user_id": 7, "course_id": COURSE, "path": "/event", **context}
    return json.dumps({**record, "context": base}).encode() + b"\n"


def video(**fields: Any) -> dict[str, Any]:
    return {
        "username": "ana", "event_type": "play_video", "agent": "Mozilla/5.0",
        "event": json.dumps({"id": "v1", "currentTime": 12.5}),
        "time": "2024-03-04T09:00:00.250000+00:00", **fields,
    }


# --- the common lines are read quickly, and as the full reading reads them ------------------


def test_the_usual_lines_are_read_quickly_and_as_the_full_reading_reads_them() -> None:
    lines = [
        line_of(video()),
        line_of(video(event={"id": "v1"}, event_type="problem_check")),
        line_of({"name": "edx.ui.lms.sequence.next_selected", "data": {"id": "b1"},
                 "timestamp": "2024-03-04T09:00:00Z"}),
        line_of({"name": "edx.forum.thread.viewed", "timestamp": "2024-03-04T09:00:00Z",
                 "data": {"id": "T1", "user_forums_roles": ["Student"]}}),
        line_of({"event_type": "/courses/x/courseware?a=1", "event": "{not parsed",
                 "time": "2024-03-04T09:00:00"}),
        b"2024-03-04 09:00:00,101 INFO 4242 [tracking] logger.py:41 - " + line_of(video()),
    ]
    for line in lines:
        assert quick(line) is not None, line
        assert quick(line) == full(line)


@pytest.mark.parametrize("path", [FIXTURES / "mixed.log", FIXTURES / "mixed.log.gz"])
def test_fixture_logs_read_the_same_with_and_without_the_quick_reading(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert read(path, True, monkeypatch) == read(path, False, monkeypatch)


def test_the_benchmark_log_reads_the_same_with_and_without_the_quick_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking_log_gen, "CACHE", tmp_path)
    path = tracking_log_gen.ensure(6_000)
    assert read(path, True, monkeypatch) == read(path, False, monkeypatch)


# --- invalid JSON anywhere, even in a field the quick reading skips, is the full reading's ---

_BROKEN = {
    "bad escape": rb'"Mozilla\x"',
    "control character": b'"Mozilla\x01"',
    "lone surrogate": rb'"\ud800"',
    "invalid UTF-8": b'"Mozilla \xff"',
    "UTF-8 of a surrogate": b'"\xed\xa0\x80"',
    "overlong UTF-8": b'"\xc0\xaf"',
    "NaN": b"NaN",
    "trailing comma": b"[1, 2,]",
    "missing colon": b'{"a" 1}',
    "leading zero": b"012",
    "unquoted word": b"Mozilla",
    "single quotes": b"'Mozilla'",
}


@pytest.mark.parametrize("value", _BROKEN.values(), ids=_BROKEN.keys())
def test_invalid_json_in_a_skipped_field_is_left_to_the_full_reading(value: bytes) -> None:
    good = line_of(video())
    line = good.replace(b'"Mozilla/5.0"', value)
    assert line != good and quick(good) is not None
    assert quick(line) is None
    assert str(full(line)).startswith("TrackingLogError: invalid JSON")


def test_an_invalid_json_string_payload_is_left_to_the_full_reading() -> None:
    line = line_of(video(event='{"id": "v1", '))
    assert quick(line) is None
    assert "event: a JSON string that does not parse" in str(full(line))


def test_a_number_beyond_a_float_is_read_quickly_where_orjson_would_refuse_the_line() -> None:
    """The one known difference (see tracking_head): msgspec does not range-check what it
    skips. No LMS writes such a number (Python's json writes inf as Infinity, refused by both)."""
    line = line_of(video()).replace(b'"Mozilla/5.0"', b"1e400")
    assert quick(line) is not None
    assert "number is infinity" in str(full(line))


# --- the property: for any record, the quick reading agrees with the full one or abstains --

NAMES = [
    "play_video", "problem_check", "seq_next", "edx.ui.lms.sequence.next_selected",
    "edx.video.closed_captions.shown", "/courses/course-v1:A+B+C/courseware?x=1", "/dashboard",
    "edx.forum.thread.viewed", "edx.forum.response.voted", "edx.forum.thread.created",
    "edx.forum.thread.edited", "edx.course.enrollment.activated",
    "edx.grades.problem.submitted", "org.openedx.facilitation.post.viewed.v1",
    "some.unknown.event", "",
]
TIMES = [
    "2024-03-04T09:00:00.250000+00:00", "2024-03-04T09:00:00Z", "2024-03-04T09:00:00",
    "2024-03-04T11:30:00.5+02:30", "2024-03-04T09:00:00.1234567+00:00", "2024-03-04t09:00:00z",
    "2024-03-04 09:00:00", "2024-03-04", "yesterday", "", "9999-12-31T23:59:59-05:00",
]
ints = st.one_of(st.integers(-5, 10**6), st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 2**70]))
scalars = st.one_of(
    st.none(), st.booleans(), ints, st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6), st.sampled_from(["", "Student", "Moderator", COURSE]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
roles = st.one_of(
    st.none(), st.just([]), st.just(["Student"]), st.just(["Community TA"]),
    st.just(["Moderator"]), st.just("Student"), st.just([1]), st.just(["staff"]),
)
objects = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=3), ints, st.none(), st.booleans(), st.floats(0, 9)),
        "user_forums_roles": roles,
        "user_course_roles": roles,
        "user_id": st.one_of(ints, st.text(max_size=3)),
        "course_id": st.sampled_from([COURSE, "", None]),
        "username": st.sampled_from(["ana", "", None]),
        "problem_id": st.sampled_from(["block-v1:A+B+C+type@problem+block@p1", ""]),
        "extra": values,
    },
)
payloads = st.one_of(
    objects, objects.map(json.dumps), st.sampled_from(["{oops", "{", "not json", "", "[1]"]),
    st.none(), st.lists(scalars, max_size=2), ints,
)
contexts = st.one_of(
    st.none(), st.sampled_from(["ctx", [1]]),
    st.fixed_dictionaries(
        {},
        optional={
            "user_id": st.one_of(ints, st.none(), st.booleans(), st.just("12"), st.just(7.0)),
            "course_id": st.sampled_from([COURSE, "", None, 5]),
            "username": st.sampled_from(["ana", None]),
            "path": st.sampled_from(["/event", f"/courses/{COURSE}/x"]),
            "module": st.just({"usage_key": "block-v1:A+B+C+type@video+block@v"}),
            "extra": values,
        },
    ),
)
ODD = {  # what a record may hold instead of its usual field
    "event_type": st.one_of(st.sampled_from(NAMES), st.none(), ints),
    "name": st.one_of(st.sampled_from(NAMES), st.none(), ints),
    "time": st.one_of(st.sampled_from(TIMES), st.none(), ints),
    "timestamp": st.one_of(st.sampled_from(TIMES), st.none()),
    "context": contexts,
    "event": payloads,
    "data": payloads,
    "username": st.sampled_from(["ana", "", None]),
    "event_id": st.sampled_from(["e1", None]),
    "agent": values,
    "page": values,
}
usual_contexts = st.fixed_dictionaries(
    {"user_id": st.one_of(st.integers(0, 10**6), ints), "course_id": st.just(COURSE)},
    optional={"username": st.just("ana"), "path": st.just("/event"), "extra": values},
)


def _usual(shape: str, name: str, time: str, payload: Any, context: Any) -> dict[str, Any]:
    if shape == "server":
        return {"event_type": name, "time": time, "event": payload, "context": context}
    return {"name": name, "timestamp": time, "data": payload, "context": context}


usual = st.builds(
    _usual,
    st.sampled_from(["server", "processed"]),
    st.sampled_from(NAMES[:9]),  # activities and forum views / votes
    st.sampled_from(TIMES[:5]),
    st.one_of(objects, objects.map(json.dumps)),
    usual_contexts,
)
changes = st.lists(
    st.sampled_from(sorted(ODD)).flatmap(lambda key: ODD[key].map(lambda value: {key: value})),
    max_size=3,
)
#: Records of every kind: the usual ones with a few odd fields, and records of odd fields.
records = st.one_of(
    st.tuples(usual, changes).map(lambda rc: {k: v for c in [rc[0], *rc[1]] for k, v in c.items()}),
    st.fixed_dictionaries({}, optional=ODD),
)
PREFIX = b"2024-03-04 09:00:00,101 INFO 42 [tracking] logger.py:41 - "
layouts = st.sampled_from(["plain", "prefix", "spaces", "crlf", "ascii"])


def _line(record: dict[str, Any], layout: str) -> bytes:
    text = json.dumps(record, ensure_ascii=layout == "ascii").encode()
    return {"prefix": PREFIX + text, "spaces": b"  " + text + b" ", "crlf": text + b"\r"}.get(
        layout, text
    ) + b"\n"


@settings(max_examples=400, deadline=None)
@given(record=records, layout=layouts)
@example(video() | {"context": {"user_id": 7, "course_id": COURSE}}, "plain")
def test_quick_reading_of_any_record_is_the_full_reading_or_nothing(
    record: dict[str, Any], layout: str
) -> None:
    line = _line(record, layout)
    found = quick(line)
    event("read quickly" if found is not None else "left to the full reading")
    if found is not None:
        assert found == full(line)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.tuples(records, layouts), min_size=1, max_size=12),
    fmt=st.sampled_from(["auto", "tracking-log"]),
)
def test_a_file_of_any_records_reads_the_same_with_and_without_the_quick_reading(
    lines: list[tuple[dict[str, Any], str]], fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tracking.log"
        path.write_bytes(b"".join(_line(record, layout) for record, layout in lines) + b"\n\n")
        assert read(path, True, monkeypatch, fmt) == read(path, False, monkeypatch, fmt)
