"""`facilitation ingest tracking-log` against the real Kafka broker: keys, values, and the
same event ids on a second run so downstream deduplicates."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from facilitation_rules.contract import codec as event_codec
from facilitation_stream.cli.main import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tracking_logs"
EVENTS_IN_FIXTURES = 19 + 1  # mixed.log.gz + pretty.json

pytestmark = pytest.mark.integration


def _consume_all(bootstrap: str, topic: str, expected: int) -> list:
    """Everything on the topic: waits for ``expected`` records, then 1 s for any extra."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records: list = []
    deadline = time.monotonic() + 30
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        for batch in consumer.poll(timeout_ms=1000).values():
            records.extend(batch)  # a duplicate would show up here
    finally:
        consumer.close()
    return records


def test_ingest_twice_sends_keyed_events_with_identical_ids(
    kafka_bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from facilitation_stream.settings import get_settings

    monkeypatch.setenv("FACILITATION_KAFKA_BOOTSTRAP", kafka_bootstrap)
    get_settings.cache_clear()
    topic = f"test-ingest-{unique}"
    files = [str(FIXTURES / "mixed.log.gz"), str(FIXTURES / "pretty.json")]
    try:
        for _ in range(2):
            assert main(["ingest", "tracking-log", "--topic", topic, *files]) == 0
            err = capsys.readouterr().err
            assert f"{EVENTS_IN_FIXTURES} events sent" in err and "7 malformed" in err
    finally:
        get_settings.cache_clear()

    records = _consume_all(kafka_bootstrap, topic, 2 * EVENTS_IN_FIXTURES)
    assert len(records) == 2 * EVENTS_IN_FIXTURES
    events = [event_codec.loads(r.value) for r in records]
    for record, event in zip(records, events, strict=True):
        assert record.key.decode() == event.partition_key()
    # Every event of one key sits on one partition, in file order.
    partitions: dict[bytes, set[int]] = {}
    for record in records:
        partitions.setdefault(record.key, set()).add(record.partition)
    assert all(len(p) == 1 for p in partitions.values())
    # ... and in file order: both runs lay each key's events down in the same sequence.
    by_key: dict[str, list[str]] = {}
    for event in events:
        by_key.setdefault(event.partition_key(), []).append(event.event_id)
    for ids in by_key.values():
        half = len(ids) // 2
        assert ids[:half] == ids[half:]
    # The second run sent the very same ids: a consumer keeping event_ids drops them all.
    counts = Counter(e.event_id for e in events)
    assert len(counts) == EVENTS_IN_FIXTURES and set(counts.values()) == {2}
