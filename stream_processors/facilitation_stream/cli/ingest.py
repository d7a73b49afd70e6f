"""`facilitation ingest tracking-log FILE...`: bridge an Open edX tracking log into Kafka.

Each record is translated into contract events (``facilitation_rules.openedx_logs.translate``) and
sent to the events topic, keyed by ``event.partition_key()`` so every event of a thread (or
a learner) lands on one partition in order. Event ids are derived from the records, so
ingesting the same file twice sends the same ids and downstream drops the repeats.

Exit status: 0 when every file was read to the end, even if some lines were malformed or of
unknown types (they are counted by reason and the first ones listed on stderr: a bad line
is data, not a failure of the run); 1 when Kafka did not acknowledge every event; 2 for
unusable arguments (a missing file); 3 when a file is cut short or corrupt (a truncated
.gz: the events before the damage are sent), unless ``--allow-truncated``. Events more than
``--future-tolerance`` ahead of the clock are reported and never sent: one skewed LMS clock
would otherwise move the workers' event time years ahead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from facilitation_stream.cli import ingest_event_bus

if TYPE_CHECKING:
    from facilitation_rules.contract.events import Event
    from facilitation_stream.ingest.event_files import ReadStats

EXIT_USAGE = 2
EXIT_DELIVERY = 1
COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")


def register(subparsers: argparse._SubParsersAction) -> None:
    from facilitation_stream.cli.reading import add_reading_options

    parser = subparsers.add_parser("ingest", help="bring existing event sources into Kafka")
    sources = parser.add_subparsers(dest="ingest_source", metavar="SOURCE", required=True)
    log = sources.add_parser(
        "tracking-log",
        help="translate Open edX tracking logs (plain or .gz) into contract events",
        description=(
            "Translate Open edX tracking logs into facilitation events and send them to "
            "Kafka. Pass rotated files oldest first. Malformed lines and unknown event "
            "types are reported on stderr and skipped; the exit status stays 0."
        ),
    )
    log.add_argument("files", nargs="+", metavar="FILE", help="tracking log, plain or .gz")
    log.add_argument("--dry-run", action="store_true", help="translate only; send nothing")
    log.add_argument("--json", action="store_true", help="print events as JSON lines on stdout")
    log.add_argument("--topic", help="the events topic (default: FACILITATION_EVENTS_TOPIC)")
    log.add_argument(
        "--compression",
        choices=COMPRESSION,
        default="none",
        help="compression of the records sent to Kafka (default none)",
    )
    log.add_argument("--quiet", action="store_true", help="no progress bar, summary only")
    add_reading_options(log)
    log.set_defaults(func=_tracking_log)
    ingest_event_bus.register(sources)


def _tracking_log(args: argparse.Namespace) -> int:
    from facilitation_rules.contract.codec import dumps
    from facilitation_stream.cli.reading import EXIT_UNREADABLE, reading_options, unreadable_exit
    from facilitation_stream.ingest.event_files import ReadStats, read_events
    from facilitation_stream.ingest.progress import with_progress

    missing = [path for path in args.files if not os.path.isfile(path)]
    if missing:
        for path in missing:
            print(f"facilitation ingest: no such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    stats = ReadStats()
    events = read_events(args.files, fmt=args.format, stats=stats, options=reading_options(args))
    if sys.stderr.isatty() and not args.quiet:
        total = sum(os.path.getsize(path) for path in args.files)
        events = with_progress(events, stats, total, sys.stderr)
    out = sys.stdout if args.json else None
    if args.dry_run:
        for event in events:
            if out is not None:
                out.write(dumps(event) + "\n")
        failed = 0
    else:
        failed = _send(events, args, out)
    _summary(stats, failed, args, sys.stderr)
    if failed:
        return EXIT_DELIVERY
    return EXIT_UNREADABLE if unreadable_exit(stats, args) else 0


def _send(events: Iterator[Event], args: argparse.Namespace, out: TextIO | None) -> int:
    """Produce every event; returns how many Kafka did not acknowledge."""
    from kafka import KafkaProducer

    from facilitation_rules.contract.codec import dumps
    from facilitation_stream.kafka_config import ensure_topics, kafka_python_config
    from facilitation_stream.settings import get_settings

    settings = get_settings()
    topic = args.topic or settings.events_topic
    ensure_topics(settings, [topic])
    # kafka-python 3 defaults to acks=all with idempotence: retries never duplicate.
    producer = KafkaProducer(
        **kafka_python_config(settings),
        acks="all",
        linger_ms=5,
        batch_size=256 * 1024,
        compression_type=None if args.compression == "none" else args.compression,
    )
    failures: list[BaseException] = []
    try:
        for event in events:
            value = dumps(event)
            if out is not None:
                out.write(value + "\n")
            future = producer.send(topic, key=event.partition_key().encode(), value=value.encode())
            future.add_errback(failures.append)
        producer.flush()
    finally:
        producer.close()
    if failures:
        print(f"facilitation ingest: Kafka refused: {failures[0]!r}", file=sys.stderr)
    return len(failures)


def _summary(stats: ReadStats, failed: int, args: argparse.Namespace, err: TextIO) -> None:
    from facilitation_stream.cli.reading import problems_summary, write_problems

    sent = "translated (dry run)" if args.dry_run else "sent"
    err.write(
        f"ingest: {stats.read:,} records read, {stats.events:,} events {sent}, "
        f"{stats.ignored:,} ignored, {sum(stats.unknown.values()):,} of unknown types, "
        f"{problems_summary(stats)}"
        + (f", {failed:,} not acknowledged by Kafka" if failed else "")
        + "\n"
    )
    if stats.unknown:
        counts = ", ".join(f"{name} x{n:,}" for name, n in stats.unknown.most_common(20))
        more = f" (+{len(stats.unknown) - 20} more types)" if len(stats.unknown) > 20 else ""
        err.write(f"unknown event types (skipped): {counts}{more}\n")
    write_problems(stats, args, err)
