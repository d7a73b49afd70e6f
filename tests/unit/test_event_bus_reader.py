"""Reading the platform event bus's TRACKING_EVENT_EMITTED messages, without Kafka: the wire
format, writer schemas by id (a dict as the registry), outcomes, and parity with the
tracking-log bridge on the project's fixtures (all three record shapes)."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime
from typing import Any

import fastavro
import pytest
from openedx_events.analytics.data import TrackingLogData
from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
from openedx_events.event_bus.avro.serializer import serialize_event_data_to_bytes

from facilitation_rules.openedx_logs.translate import TrackingLogError, translate
from facilitation_stream.ingest.event_bus_reader import SCHEMA, ThreadIndex, TrackingEventReader
from facilitation_stream.ingest.schema_registry import (
    AVRO,
    MAX_MESSAGE_BYTES,
    UNKNOWN_SCHEMA,
    WIRE_FORMAT,
    AvroDecoder,
    RegistryUnavailable,
    UnreadableMessage,
)
from tests.support.lms_event_bus import fixture_records, tracker_event

CE_TYPE = [("ce_type", b"org.openedx.analytics.tracking.event.emitted.v1")]
SCHEMA_ID = 7


def framed(datum: bytes, schema_id: int = SCHEMA_ID) -> bytes:
    """Confluent's wire format: magic byte, schema id, datum."""
    return b"\x00" + schema_id.to_bytes(4, "big") + datum


def emitted(event: dict[str, Any]) -> bytes:
    """A tracker event as edx-event-bus-kafka's producer frames it (openedx-events' own Avro
    serialisation of TrackingLogData; event-tracking's backend JSON-encodes data and context)."""
    tracking_log = TrackingLogData(
        name=event["name"], timestamp=event["timestamp"],
        data=json.dumps(event["data"]), context=json.dumps(event["context"]),
    )  # fmt: skip
    return framed(
        serialize_event_data_to_bytes({"tracking_log": tracking_log}, TRACKING_EVENT_EMITTED)
    )


def reader(registry: dict[int, str] | None = None) -> TrackingEventReader:
    registry = {SCHEMA_ID: json.dumps(SCHEMA)} if registry is None else registry
    return TrackingEventReader(AvroDecoder(registry.__getitem__, SCHEMA))


def test_fixture_records_give_the_events_the_tracking_log_bridge_gives() -> None:
    records = fixture_records()
    shapes = {("event_type" in r, "name" in r, "data" in r) for r in records}
    assert len(shapes) >= 3, shapes  # legacy, legacy with name, name/data/context
    bus, log_threads = reader(), ThreadIndex()
    from_bus, from_log = [], []
    for record in records:
        event = tracker_event(record)
        if event is None:
            continue  # no time: the LMS's backend cannot serialise it either
        read = bus.read(emitted(event), CE_TYPE)
        from_bus += read.events
        try:
            from_log += translate(record, log_threads)
        except (TrackingLogError, LookupError):
            assert read.outcome in ("malformed", "unknown"), (record, read)
    assert len(from_log) == 20
    assert from_bus == from_log  # the same events, event_ids included, in the same order


def test_a_writer_schema_with_an_added_field_is_still_read() -> None:
    newer = copy.deepcopy(SCHEMA)
    newer["fields"][0]["type"]["fields"].append({"name": "version", "type": "int", "default": 1})
    out = io.BytesIO()
    record = {
        "name": "edx.forum.thread.viewed",
        "timestamp": "2024-03-04T09:00:00+00:00",
        "data": '{"id": "T1"}',
        "context": '{"user_id": 5, "course_id": "c"}',
        "version": 2,
    }
    fastavro.schemaless_writer(out, fastavro.parse_schema(newer), {"tracking_log": record})
    read = reader({SCHEMA_ID: json.dumps(newer)}).read(framed(out.getvalue()), CE_TYPE)
    assert read.outcome == "translated" and read.events[0].post_id == "T1"


def test_a_writer_schema_without_a_field_the_reader_needs_is_refused() -> None:
    older = copy.deepcopy(SCHEMA)
    older["fields"][0]["type"]["fields"].pop()  # no context
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(older), {"tracking_log": {
        "name": "n", "timestamp": "t", "data": "{}"}})  # fmt: skip
    read = reader({SCHEMA_ID: json.dumps(older)}).read(framed(out.getvalue()), CE_TYPE)
    assert (read.outcome, read.problem) == ("malformed", AVRO)


GOOD = {
    "name": "edx.forum.thread.viewed",
    "timestamp": datetime(2024, 3, 4, 9, tzinfo=UTC),
    "data": {"id": "T1"},
    "context": {"user_id": 5, "course_id": "course-v1:A+B+C"},
}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, WIRE_FORMAT),
        (b"\x00\x00", WIRE_FORMAT),
        (b'{"name": "json, not avro"}', WIRE_FORMAT),
        (framed(b"x" * MAX_MESSAGE_BYTES), WIRE_FORMAT),
        (framed(b"\x02a", schema_id=99), UNKNOWN_SCHEMA),
        (emitted(GOOD)[:-3], AVRO),  # cut short
        (emitted(GOOD) + b"\x00", AVRO),  # bytes after the datum
    ],
)
def test_broken_frames_are_malformed_with_the_problem(value: bytes | None, problem: str) -> None:
    read = reader().read(value, CE_TYPE)
    assert (read.outcome, read.problem) == ("malformed", problem), read.detail
    assert read.detail


@pytest.mark.parametrize(
    ("event", "detail"),
    [
        ({**GOOD, "data": {"title": "no id"}}, "no post id"),
        ({**GOOD, "context": ["a", "list"]}, "tracking_log.context: expected a JSON object"),
    ],
)
def test_broken_tracking_events_are_malformed_records(event: dict[str, Any], detail: str) -> None:
    read = reader().read(emitted(event), CE_TYPE)
    assert (read.outcome, read.problem) == ("malformed", "record")
    assert detail in read.detail


def test_data_that_is_not_json_is_a_malformed_record() -> None:
    tracking_log = TrackingLogData(name="edx.forum.thread.viewed", timestamp=GOOD["timestamp"],
                                   data="{not json", context="{}")  # fmt: skip
    value = framed(
        serialize_event_data_to_bytes({"tracking_log": tracking_log}, TRACKING_EVENT_EMITTED)
    )
    read = reader().read(value, CE_TYPE)
    assert read.problem == "record" and "tracking_log.data: not JSON" in read.detail


def test_headers_decide_what_is_read() -> None:
    bus = reader()
    assert bus.read(emitted(GOOD), []).problem == "headers"
    assert bus.read(emitted(GOOD), CE_TYPE * 2).problem == "headers"
    other = [("ce_type", b"org.openedx.learning.auth.session.login.completed.v1")]
    assert bus.read(b"anything", other).outcome == "other-type"


def test_known_names_without_events_are_ignored_and_unknown_names_are_named() -> None:
    bus = reader()
    edited = bus.read(emitted({**GOOD, "name": "edx.forum.thread.edited"}), CE_TYPE)
    assert edited.outcome == "ignored"
    unknown = bus.read(emitted({**GOOD, "name": "edx.bi.something.new"}), CE_TYPE)
    assert (unknown.outcome, unknown.name) == ("unknown", "edx.bi.something.new")


def test_each_writer_schema_is_fetched_once() -> None:
    fetched: list[int] = []

    def source(schema_id: int) -> str:
        fetched.append(schema_id)
        return json.dumps(SCHEMA)

    fetches: list[int] = []
    bus = TrackingEventReader(AvroDecoder(source, SCHEMA, fetches.append))
    for _ in range(5):
        assert bus.read(emitted(GOOD), CE_TYPE).outcome == "translated"
    assert fetched == fetches == [SCHEMA_ID]


def test_an_unreachable_registry_is_not_the_message_fault() -> None:
    def down(schema_id: int) -> str:
        raise RegistryUnavailable("connection refused")

    bus = TrackingEventReader(AvroDecoder(down, SCHEMA))
    with pytest.raises(RegistryUnavailable):
        bus.read(emitted(GOOD), CE_TYPE)


def test_unreadable_message_carries_problem_and_detail() -> None:
    err = UnreadableMessage(AVRO, "schema 3: EOFError")
    assert (err.problem, err.detail, str(err)) == (
        AVRO,
        "schema 3: EOFError",
        "avro: schema 3: EOFError",
    )


def test_thread_index_forgets_the_older_half_past_its_limit() -> None:
    index = ThreadIndex(limit=4)
    for n in range(5):
        index[f"p{n}"] = f"t{n}"
    assert list(index) == ["p2", "p3", "p4"]
    index["p2"] = "again"  # known keys never evict
    assert len(index) == 3
