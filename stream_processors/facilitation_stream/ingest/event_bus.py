"""`facilitation ingest event-bus`: the platform event bus's tracking topic -> contract events.

A consumer group member (kafka-python) reads ``TRACKING_EVENT_EMITTED`` messages in batches,
turns each into contract events (``event_bus_reader``) and sends them to the events topic,
keyed by ``partition_key()``, with the same event ids ``ingest tracking-log`` derives for the
same records. Unreadable messages go, untouched, to the event-bus dead-letter topic with why
in headers. Offsets are committed only after Kafka acknowledged every send of the batch
(events and dead letters alike), so a crash or a failed send reads the batch again:
at-least-once, and the repeats carry the same event ids, which the engine drops.

When the registry does not answer, a send is not acknowledged or a commit fails, the batch
is read again after a pause (1 s, doubling to 30 s): nothing is skipped, nothing is
dead-lettered for a fault that is not the message's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from facilitation_rules.contract.codec import dumps
from facilitation_stream.dead_letter_format import dead_letter_headers
from facilitation_stream.ingest.event_bus_reader import SCHEMA, Read, TrackingEventReader
from facilitation_stream.ingest.schema_registry import AvroDecoder, HttpSchemaSource
from facilitation_stream.kafka_config import ensure_topics, kafka_python_config
from facilitation_stream.metrics import Metrics
from facilitation_stream.settings import Settings

log = logging.getLogger(__name__)

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
SEND_TIMEOUT_S = 60.0


class NotAcknowledged(RuntimeError):
    """Kafka did not acknowledge a send of the batch."""


@dataclass(slots=True)
class IngestStats:
    """Counts over committed messages only (a batch read again is counted once)."""

    read: int = 0
    events: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    redeliveries: int = 0
    unknown: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        parts = ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(self.outcomes.items()))
        text = (
            f"ingest event-bus: {self.read:,} messages committed ({parts or 'none'}), "
            f"{self.events:,} events sent, {self.redeliveries:,} batches read again\n"
        )
        if self.unknown:
            counts = ", ".join(f"{n} x{c:,}" for n, c in self.unknown.most_common(20))
            text += f"unknown tracking events (skipped): {counts}\n"
        return text


@dataclass
class EventBusIngest:
    settings: Settings
    metrics: Metrics
    batch_max: int = 500
    start: str = "earliest"  # where a new consumer group starts: the retained history, or now
    stats: IngestStats = field(default_factory=IngestStats)

    def __post_init__(self) -> None:
        if not self.settings.schema_registry_url:
            raise ValueError("FACILITATION_SCHEMA_REGISTRY_URL is not set")
        auth = self.settings.schema_registry_auth
        source = HttpSchemaSource(
            self.settings.schema_registry_url, auth.get_secret_value() if auth else None
        )
        fetched = self.metrics.event_bus_schemas_fetched
        self.reader = TrackingEventReader(AvroDecoder(source, SCHEMA, lambda _: fetched.inc()))
        self._committed: dict[Any, int] = {}

    def run(self, stop: threading.Event, idle_exit_s: float | None = None) -> IngestStats:
        """Consume until ``stop`` is set (or, with ``idle_exit_s``, until nothing arrived for
        that long after the group assigned partitions)."""
        from kafka import KafkaConsumer, KafkaProducer

        s = self.settings
        ensure_topics(s, [s.events_topic, s.event_bus_dead_letter_topic])
        bus = kafka_python_config(s)
        if s.event_bus_bootstrap:
            bus["bootstrap_servers"] = s.event_bus_bootstrap.split(",")
        consumer = KafkaConsumer(
            s.event_bus_topic, group_id=s.event_bus_group, enable_auto_commit=False,
            auto_offset_reset=self.start, max_poll_records=self.batch_max, **bus,
        )  # fmt: skip
        # kafka-python 3 defaults to idempotence with acks=all: retries never duplicate.
        producer = KafkaProducer(**kafka_python_config(s), acks="all", linger_ms=5)
        pause = 0
        idle_since = time.monotonic()
        try:
            while not stop.is_set():
                polled = consumer.poll(timeout_ms=500, max_records=self.batch_max)
                if not polled:
                    if not consumer.assignment():
                        idle_since = time.monotonic()
                    elif idle_exit_s is not None and time.monotonic() - idle_since >= idle_exit_s:
                        break
                    continue
                try:
                    self._apply(polled, consumer, producer)
                    pause = 0
                except Exception as err:
                    # Not the messages' fault (their own faults are dead-lettered): read the
                    # batch again from its first offsets, after a pause.
                    self.stats.redeliveries += 1
                    self.metrics.event_bus_redeliveries.inc()
                    wait = BACKOFF_S[min(pause, len(BACKOFF_S) - 1)]
                    pause += 1
                    log.warning("event bus batch not done, reading it again in %ss: %r", wait, err)
                    assigned = consumer.assignment()  # a rebalance may have moved some
                    for tp, messages in polled.items():
                        if tp in assigned:
                            consumer.seek(tp, messages[0].offset)
                    stop.wait(wait)
                idle_since = time.monotonic()
        finally:
            producer.close()
            consumer.close(autocommit=False)
        return self.stats

    def _apply(self, polled: dict[Any, list[Any]], consumer: Any, producer: Any) -> None:
        """Read, send and commit one batch; raises (nothing committed) if any step fails."""
        from kafka.structs import OffsetAndMetadata

        s = self.settings
        reads = [
            (m, self.reader.read(m.value, m.headers or [])) for ms in polled.values() for m in ms
        ]
        futures = []
        for message, read in reads:
            for event in read.events:
                futures.append(producer.send(
                    s.events_topic, key=event.partition_key().encode(),
                    value=dumps(event).encode(),
                ))  # fmt: skip
            if read.outcome == "malformed":
                futures.append(producer.send(
                    s.event_bus_dead_letter_topic, key=message.key, value=message.value,
                    headers=_dead_letter_headers(message, read),
                ))  # fmt: skip
        producer.flush(timeout=SEND_TIMEOUT_S)
        for future in futures:
            if not future.is_done or future.failed():
                raise NotAcknowledged(repr(future.exception) if future.is_done else "timed out")
        offsets = {tp: ms[-1].offset + 1 for tp, ms in polled.items()}
        consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
        self._committed.update(offsets)
        self._count(read for _, read in reads)
        self._lag(consumer)

    def _count(self, reads: Iterable[Read]) -> None:
        m, stats = self.metrics, self.stats
        for read in reads:
            stats.read += 1
            stats.outcomes[read.outcome] = stats.outcomes.get(read.outcome, 0) + 1
            m.event_bus_message(read.outcome)
            if read.events:
                stats.events += len(read.events)
                m.event_bus_events_sent.inc(len(read.events))
            if read.outcome == "unknown":
                stats.unknown[read.name] += 1
            elif read.outcome == "malformed":
                m.event_bus_unreadable(read.problem)
                log.warning("event bus message dead-lettered (%s): %s", read.problem, read.detail)
        m.event_bus_last_commit.set(time.time())

    def _lag(self, consumer: Any) -> None:
        """consumer_lag of the bus partitions: last known end offset - committed offset."""
        for tp in consumer.assignment():
            end, done = consumer.highwater(tp), self._committed.get(tp)
            if end is not None and done is not None:
                lag = max(end - done, 0)
                self.metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(
                    lag
                )


def _dead_letter_headers(message: Any, read: Read) -> list[tuple[str, bytes]]:
    """The message's own headers (ce_type ... so it can be re-published as it was), then
    why it could not be read and where it came from."""
    ours = dead_letter_headers(
        "invalid", f"{read.problem}: {read.detail}", message.topic, message.partition,
        message.offset,
    )  # fmt: skip
    return [*(message.headers or []), *ours.items(), ("problem", read.problem.encode())]
