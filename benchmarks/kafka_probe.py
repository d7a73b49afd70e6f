"""Kafka plumbing for the live-worker benchmark: topics, producing, offsets, a raw loop.

The worker is observed from outside only: how far its consumer group has committed on a
topic versus the topic's end offsets. Faust commits every few seconds, so a rate is taken
between two observed commits (both lag the same way), never from the worker's start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

from facilitation_stream.kafka_config import ensure_topics, kafka_python_config
from facilitation_stream.settings import Settings


def create_topic(settings: Settings, name: str) -> None:
    if not ensure_topics(settings, [name]):
        raise RuntimeError(f"topic {name} already exists: the benchmark needs a fresh one")


def produce(settings: Settings, topic: str, records: Iterable[tuple[bytes, bytes]]) -> int:
    """Bulk-produce keyed records, partitioned as Kafka's default partitioner does."""
    return asyncio.run(_produce(settings, topic, records))


async def _produce(settings: Settings, topic: str, records: Iterable[tuple[bytes, bytes]]) -> int:
    from aiokafka import AIOKafkaProducer
    from aiokafka.partitioner import murmur2

    # Whole batches per partition: kafka-python sends ~7,000 records/s here, this ~10x more.
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, max_batch_size=1024 * 1024, acks="all"
    )
    await producer.start()
    try:
        partitions = settings.topic_partitions
        batches = [producer.create_batch() for _ in range(partitions)]
        sent, count = [], 0
        for key, value in records:
            partition = (murmur2(key) & 0x7FFFFFFF) % partitions
            if batches[partition].append(key=key, value=value, timestamp=None) is None:
                sent.append(await producer.send_batch(batches[partition], topic,
                                                      partition=partition))
                batches[partition] = producer.create_batch()
                batches[partition].append(key=key, value=value, timestamp=None)
            count += 1
        for partition, batch in enumerate(batches):
            if batch.record_count():
                sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)
        return count
    finally:
        await producer.stop()


class Offsets:
    """End offsets of topics and committed offsets of consumer groups (sums over partitions)."""

    def __init__(self, settings: Settings) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer

        config = kafka_python_config(settings)
        self._admin = KafkaAdminClient(**config)
        self._consumer = KafkaConsumer(**config)

    def end(self, topic: str) -> int:
        from kafka import TopicPartition

        partitions = self._consumer.partitions_for_topic(topic) or set()
        ends = self._consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())

    def committed(self, group: str) -> dict[str, int]:
        """Committed offsets of ``group`` summed per topic."""
        sums: dict[str, int] = {}
        for tp, meta in self._admin.list_group_offsets(group).get(group, {}).items():
            if meta.offset >= 0:
                sums[tp.topic] = sums.get(tp.topic, 0) + meta.offset
        return sums

    def close(self) -> None:
        self._admin.close()
        self._consumer.close()


@dataclass(frozen=True)
class Drain:
    """How a consumer group worked through pre-produced events (counts since the start)."""

    #: (wall time, events committed) at the first and the last observed commit.
    first: tuple[float, int]
    last: tuple[float, int]
    #: When every event and every derived update were committed (None: window ended first).
    settled_at: float | None

    @property
    def rate(self) -> float:
        return (self.last[1] - self.first[1]) / max(self.last[0] - self.first[0], 1e-9)

    @property
    def seconds(self) -> float:
        return self.last[0] - self.first[0]


def wait_drained(
    offsets: Offsets, group: str, events_topic: str, updates_topic: str, total: int,
    timeout: float, already: int = 0, window: float | None = None,
) -> Drain:
    """Poll ``group``'s commits until it has committed ``already + total`` events and every
    derived update, or for ``window`` seconds after its first commit, whichever is first."""
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    last: tuple[float, int] | None = None
    seen = already
    while time.monotonic() < deadline:
        now, committed = time.time(), offsets.committed(group)
        done = committed.get(events_topic, 0)
        if done != seen:
            seen = done
            last = (now, done - already)
            first = first or last
        if first is not None and last is not None:
            if last[1] >= total and committed.get(updates_topic, 0) >= offsets.end(updates_topic):
                return Drain(first, last, now)
            if window is not None and last[0] - first[0] >= window:
                return Drain(first, last, None)
        time.sleep(0.1)
    raise TimeoutError(f"group {group} committed {seen - already}/{total} in {timeout:.0f} s")


def first_fired(settings: Settings, topic: str) -> dict[str, float]:
    """Per learner, when the worker sent its first fired alert (the record's timestamp)."""
    import orjson
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**kafka_python_config(settings), consumer_timeout_ms=2000,
                             auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, p) for p in range(settings.topic_partitions)])
    fired: dict[str, float] = {}
    try:
        for message in consumer:
            alert = orjson.loads(message.value)
            if alert["action"] == "fire":
                at = message.timestamp / 1000
                fired[alert["learner_id"]] = min(at, fired.get(alert["learner_id"], at))
    finally:
        consumer.close()
    return fired


async def _raw_consume(settings: Settings, topic: str, total: int, timeout: float) -> float:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(settings.topic_partitions)])
        count, first_at, first_batch = 0, 0.0, 0
        deadline = time.monotonic() + timeout
        while count < total:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw loop read {count}/{total} in {timeout:.0f} s")
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            got = sum(len(messages) for messages in batches.values())
            if got and not count:
                first_at, first_batch = time.perf_counter(), got
            count += got
        return (count - first_batch) / (time.perf_counter() - first_at)
    finally:
        await consumer.stop()


def raw_consume_rate(settings: Settings, topic: str, total: int, timeout: float = 60) -> float:
    """Events/s of a plain aiokafka loop reading ``topic`` from the start, decoding nothing."""
    return asyncio.run(_raw_consume(settings, topic, total, timeout))
