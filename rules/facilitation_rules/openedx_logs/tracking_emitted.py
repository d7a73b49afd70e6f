"""Tracking events from the platform event bus (``TRACKING_EVENT_EMITTED``) -> contract events.

event-tracking's event-bus backend (``eventtracking.backends.event_bus.EventBusRoutingBackend``,
the one Aspects switches on) sends each tracking event as openedx-events' ``TrackingLogData``:
``name``, ``timestamp`` (the event's datetime as ``isoformat()``), and ``data`` and
``context``, each the JSON text of the event's dict. That is the ``name`` / ``data`` /
``context`` record the tracking-log translation already reads, so ``record_of`` parses the two
JSON texts and ``translate_emitted`` hands the record to ``translate.translate``: a record
gives the same events, with the same event ids, whether it came from a log file or the bus.

Pure: no Kafka, no Avro here (``facilitation_stream.ingest.schema_registry`` decodes the
wire format).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from facilitation_rules.contract.events import Event
from facilitation_rules.openedx_logs.fields import TrackingLogError
from facilitation_rules.openedx_logs.translate import ThreadIndex, translate

#: The openedx-events signal whose payload is one tracking event (header ``ce_type``).
EVENT_TYPE = "org.openedx.analytics.tracking.event.emitted.v1"
#: The fields of ``TrackingLogData``, all strings on the wire.
FIELDS = ("name", "timestamp", "data", "context")


def record_of(tracking_log: Mapping[str, Any]) -> dict[str, Any]:
    """The tracking-log record a ``TrackingLogData`` stands for; TrackingLogError if broken."""
    for field in FIELDS:
        value = tracking_log.get(field)
        if type(value) is not str:
            got = "nothing" if value is None else type(value).__name__
            raise TrackingLogError(f"tracking_log.{field}: expected a string, got {got}")
    context = _json(tracking_log, "context")
    if context is not None and type(context) is not dict:
        raise TrackingLogError(
            f"tracking_log.context: expected a JSON object, got {type(context).__name__}"
        )
    return {
        "name": tracking_log["name"],
        "timestamp": tracking_log["timestamp"],
        # A dict for server events; browser events may carry their payload as a string,
        # which the translation reads as it reads it in a log file.
        "data": _json(tracking_log, "data"),
        "context": context,
    }


def translate_emitted(
    tracking_log: Mapping[str, Any], threads: ThreadIndex | None = None
) -> list[Event]:
    """The contract events of one ``TrackingLogData``, as ``tracking_log.translate`` gives
    them for the same record (the same errors too: UnknownTrackingEvent, TrackingLogError)."""
    return translate(record_of(tracking_log), threads)


def _json(tracking_log: Mapping[str, Any], field: str) -> Any:
    try:
        return orjson.loads(tracking_log[field])
    except orjson.JSONDecodeError as err:
        raise TrackingLogError(f"tracking_log.{field}: not JSON: {err}") from None
