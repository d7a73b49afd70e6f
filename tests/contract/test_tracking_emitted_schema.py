"""The reader's schema of TRACKING_EVENT_EMITTED is the one openedx-events generates for the
signal (what edx-event-bus-kafka's producer registers): a new openedx-events that changes it
fails here, not on a live topic."""

from __future__ import annotations

from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
from openedx_events.event_bus.avro.serializer import AvroSignalSerializer

from facilitation_rules.openedx_logs.tracking_emitted import EVENT_TYPE, FIELDS
from facilitation_stream.ingest.event_bus_reader import SCHEMA


def test_reader_schema_is_the_one_openedx_events_generates() -> None:
    assert AvroSignalSerializer(TRACKING_EVENT_EMITTED).schema == SCHEMA


def test_event_type_and_fields_match_the_signal() -> None:
    assert TRACKING_EVENT_EMITTED.event_type == EVENT_TYPE
    data_class = TRACKING_EVENT_EMITTED.init_data["tracking_log"]
    assert tuple(a.name for a in data_class.__attrs_attrs__) == FIELDS
