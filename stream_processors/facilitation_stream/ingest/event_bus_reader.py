"""One message of the platform event bus's tracking topic -> contract events, or why none.

What edx-event-bus-kafka writes for ``TRACKING_EVENT_EMITTED`` (openedx-events'
``org.openedx.analytics.tracking.event.emitted.v1``):

- headers: ``ce_type`` (the signal's event type: a topic may carry several), ``ce_id`` (a
  UUID per send), ``ce_source``, ``ce_time``, ``ce_specversion``, ``ce_minorversion``,
  ``sourcehost``, ``sourcelib``, ``content-type`` / ``ce_datacontenttype`` ``application/avro``;
- key: the tracking event's name (Aspects' ``event_key_field: tracking_log.name``), Avro;
- value: Avro in Confluent's wire format, record ``CloudEvent`` with one field
  ``tracking_log`` of record ``TrackingLogData`` (``name``, ``timestamp``, ``data``,
  ``context``: strings), the schema openedx-events generates from the signal (``SCHEMA``;
  a contract test compares the two).

``TrackingEventReader.read`` never raises for a bad message: it says what became of it
(``Read.outcome``); only ``RegistryUnavailable`` escapes, since then the message is fine and
must be read again later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from facilitation_rules.contract.codec import EventDecodeError
from facilitation_rules.contract.events import Event
from facilitation_rules.openedx_logs.fields import TrackingLogError, UnknownTrackingEvent
from facilitation_rules.openedx_logs.tracking_emitted import EVENT_TYPE, translate_emitted
from facilitation_stream.ingest.schema_registry import (
    AvroDecoder,
    RegistryUnavailable,
    UnreadableMessage,
)

#: The reader's schema: ``AvroSignalSerializer(TRACKING_EVENT_EMITTED).schema`` as
#: openedx-events builds it (``schema_from_signal``), record names included (Avro resolves
#: records by full name).
SCHEMA: dict[str, Any] = {
    "name": "CloudEvent",
    "type": "record",
    "doc": "Avro Event Format for CloudEvents created with openedx_events/schema",
    "namespace": EVENT_TYPE,
    "fields": [
        {
            "name": "tracking_log",
            "type": {
                "name": "TrackingLogData",
                "type": "record",
                "fields": [
                    {"name": "name", "type": "string"},
                    {"name": "timestamp", "type": "string"},
                    {"name": "data", "type": "string"},
                    {"name": "context", "type": "string"},
                ],
            },
        }
    ],
}
HEADERS = "headers"  # a problem word (metrics.EVENT_BUS_PROBLEMS): no single ce_type
RECORD = "record"  # a problem word: decoded, but the tracking event is broken
#: Posts whose thread a reader remembers (for votes and deletions of responses).
MAX_THREADS = 200_000


@dataclass(frozen=True, slots=True)
class Read:
    """What one message gave: ``outcome`` is translated | ignored | unknown | other-type |
    malformed; a malformed one has its ``problem`` and a ``detail`` for the dead letter."""

    outcome: str
    events: tuple[Event, ...] = ()
    problem: str = ""
    detail: str = ""
    name: str = ""  # the tracking event's name, when unknown


class ThreadIndex(dict[str, str]):
    """post id -> thread id, bounded: past ``limit`` entries the older half is forgotten
    (a vote on a post that old then names no thread, as a backfill starting later would)."""

    def __init__(self, limit: int = MAX_THREADS) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: str, value: str) -> None:
        if len(self) >= self.limit and key not in self:
            for old in list(self)[: self.limit // 2]:
                del self[old]
        super().__setitem__(key, value)


class TrackingEventReader:
    """Reads messages in order, sharing one post -> thread index, as ``ingest tracking-log``
    shares one over the lines of a run: the same records give the same events."""

    def __init__(self, decoder: AvroDecoder, threads: ThreadIndex | None = None) -> None:
        self.decoder = decoder
        self.threads = threads if threads is not None else ThreadIndex()

    def read(self, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> Read:
        event_types = [v for k, v in headers if k == "ce_type"]
        if len(event_types) != 1:
            return Read("malformed", problem=HEADERS, detail=f"{len(event_types)} ce_type headers")
        if event_types[0] != EVENT_TYPE.encode():
            return Read("other-type")
        try:
            datum = self.decoder.decode(value)
            events = translate_emitted(datum["tracking_log"], self.threads)
        except UnreadableMessage as err:
            return Read("malformed", problem=err.problem, detail=err.detail)
        except UnknownTrackingEvent as err:
            return Read("unknown", name=err.event_type)
        except (TrackingLogError, EventDecodeError) as err:
            return Read("malformed", problem=RECORD, detail=str(err))
        except RegistryUnavailable:
            raise
        except Exception as err:  # bad input must never stop the consumer; say what it was
            return Read("malformed", problem=RECORD, detail=f"{type(err).__name__}: {err}")
        if not events:
            return Read("ignored")
        return Read("translated", events=tuple(events))
