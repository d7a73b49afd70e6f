"""`facilitation ingest event-bus`: consume the platform event bus's tracking topic, live.

Runs until SIGTERM or Ctrl-C (it finishes and commits the batch in hand first), or with
``--stop-when-idle SECONDS`` until nothing arrived for that long (a catch-up run). Exit
status: 0 after a stop; 2 for unusable settings (no schema registry URL).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

EXIT_USAGE = 2


def register(sources: Any) -> None:
    bus = sources.add_parser(
        "event-bus",
        help="consume TRACKING_EVENT_EMITTED from the platform event bus (Kafka), live",
        description=(
            "Read openedx-events' TRACKING_EVENT_EMITTED messages (Avro, Confluent wire "
            "format, schemas from the registry) from the event bus topic that Aspects "
            "configures, and send their contract events to Kafka. Unreadable messages are "
            "dead-lettered with the reason; offsets are committed after the sends are "
            "acknowledged. See docs/ingest.md."
        ),
    )
    bus.add_argument("--topic", help="bus topic; default FACILITATION_EVENT_BUS_TOPIC")
    bus.add_argument("--group", help="consumer group; default FACILITATION_EVENT_BUS_GROUP")
    bus.add_argument("--registry", help="schema registry URL; FACILITATION_SCHEMA_REGISTRY_URL")
    bus.add_argument(
        "--start", choices=("earliest", "latest"), default="earliest",
        help="where a new consumer group starts: the topic's retained history (default) or now",
    )  # fmt: skip
    bus.add_argument("--batch", type=int, default=500, help="most messages per batch")
    bus.add_argument(
        "--stop-when-idle", type=float, metavar="SECONDS",
        help="stop once nothing arrived for this long (catch up, then exit)",
    )  # fmt: skip
    bus.add_argument("--metrics-port", type=int, help="serve /metrics on this port")
    bus.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import logging

    from facilitation_stream.ingest.event_bus import EventBusIngest
    from facilitation_stream.metrics import get_metrics, start_metrics_server
    from facilitation_stream.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # a line per connection otherwise
    overrides = {
        "event_bus_topic": args.topic,
        "event_bus_group": args.group,
        "schema_registry_url": args.registry,
    }
    settings = get_settings().model_copy(
        update={k: v for k, v in overrides.items() if v is not None}
    )
    if not settings.schema_registry_url:
        print("facilitation ingest event-bus: set FACILITATION_SCHEMA_REGISTRY_URL or "
              "--registry", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    metrics = get_metrics()
    if args.metrics_port is not None:
        start_metrics_server(args.metrics_port, addr=settings.web_host)
    ingest = EventBusIngest(settings, metrics, batch_max=args.batch, start=args.start)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        ingest.run(stop, idle_exit_s=args.stop_when_idle)
    except KeyboardInterrupt:
        pass  # the batch in hand was not committed: it is read again next time
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.stderr.write(ingest.stats.summary())
    return 0
