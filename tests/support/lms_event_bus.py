"""The LMS side of the platform event bus, as Aspects configures it, for integration tests.

    python -m tests.support.lms_event_bus BOOTSTRAP REGISTRY_URL TOPIC_PREFIX < records.jsonl

Each input line is a tracking-log record (any of the three shapes); it becomes the event dict
event-tracking's tracker builds (``name``, ``timestamp``, ``data``, ``context``: a legacy
``event_type``/``event`` line is turned back into it, undoing what edx-platform's
``LegacyFieldMappingProcessor`` moved out of the context) and goes through the real chain:
event-tracking's ``EventBusRoutingBackend`` -> openedx-events' ``TRACKING_EVENT_EMITTED`` ->
``EVENT_BUS_PRODUCER_CONFIG`` (topic ``analytics``, key ``tracking_log.name``) ->
edx-event-bus-kafka's producer -> confluent-kafka's ``AvroSerializer`` (schemas registered
in the registry) -> Kafka topic ``TOPIC_PREFIX-analytics``. A separate process, because Django
settings are per process. Prints ``{"sent": n, "skipped": m}``: skipped records have no
usable time, which the real backend cannot serialise either.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tracking_logs"

# What LegacyFieldMappingProcessor moves from the context to the top of a log line.
LEGACY_TOP_LEVEL = ("username", "session", "ip", "agent", "host", "referer", "accept_language")


def fixture_records() -> list[dict[str, Any]]:
    """The records of the project's tracking-log fixtures (mixed.log, pretty.json), all three
    shapes, in file order; lines that are not JSON are left out: no LMS sends them."""
    from facilitation_rules.openedx_logs.translate import TrackingLogError, parse_line

    records = []
    for line in (FIXTURES / "mixed.log").read_bytes().splitlines():
        try:
            record = parse_line(line)
        except TrackingLogError:
            continue
        if record is not None:
            records.append(record)
    return [*records, json.loads((FIXTURES / "pretty.json").read_text())]


def tracker_event(record: dict[str, Any]) -> dict[str, Any] | None:
    """The event dict the tracker sent for a logged record; None without a usable time."""
    when = record.get("timestamp") or record.get("time")
    try:
        at = datetime.fromisoformat(when) if isinstance(when, str) else None
    except ValueError:
        at = None
    if at is None:
        return None
    context = record.get("context")
    if isinstance(context, dict):
        context = dict(context)
        for field in (*LEGACY_TOP_LEVEL, "page"):
            if field in record and field not in context:
                context[field] = record[field]
    return {
        "name": record.get("name") or record.get("event_type"),
        "timestamp": at if at.tzinfo else at.replace(tzinfo=UTC),
        "data": record["event"] if "event" in record else record.get("data"),
        "context": context,
    }


def configure(bootstrap: str, registry: str, prefix: str, names: list[str]) -> None:
    """Django settings as tutor-contrib-aspects writes them (event-routing-backends' list of
    event names is the whitelist there; here it is every name of the input)."""
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["openedx_events"],
        SERVICE_VARIANT="lms",
        EVENT_TRACKING_ENABLED=True,
        EVENT_TRACKING_PROCESSORS=[],
        EVENT_TRACKING_BACKENDS={
            "event_transformer": {
                "ENGINE": "eventtracking.backends.event_bus.EventBusRoutingBackend",
                "OPTIONS": {
                    "backend_name": "event_transformer",
                    "processors": [
                        {
                            "ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                            "OPTIONS": {"whitelist": names},
                        }
                    ],
                    "backends": {},
                },
            }
        },
        SEND_TRACKING_EVENT_EMITTED_SIGNAL=True,
        EVENT_BUS_TRACKING_LOGS=names,
        EVENT_BUS_PRODUCER="edx_event_bus_kafka.create_producer",
        EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL=registry,
        EVENT_BUS_TOPIC_PREFIX=prefix,
        EVENT_BUS_PRODUCER_CONFIG={
            "org.openedx.analytics.tracking.event.emitted.v1": {
                "analytics": {"event_key_field": "tracking_log.name", "enabled": True}
            }
        },
    )
    django.setup()


def main(argv: list[str]) -> int:
    bootstrap, registry, prefix = argv
    events = [tracker_event(json.loads(line)) for line in sys.stdin if line.strip()]
    sendable = [e for e in events if e is not None]
    configure(bootstrap, registry, prefix, sorted({str(e["name"]) for e in sendable}))
    from eventtracking.django.django_tracker import DjangoTracker
    from openedx_events.event_bus import get_producer

    tracker = DjangoTracker()
    for event in sendable:
        # What tracker.emit() does once it has built the event, with the record's own time.
        tracker.routing_backend.send(event)
    get_producer().prepare_for_shutdown()  # flush: wait for Kafka's acknowledgements
    print(json.dumps({"sent": len(sendable), "skipped": len(events) - len(sendable)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
