"""One batch of source messages through the engine, made durable in a safe order.

The worker's consumer hands over what one fetch returned (``batch_consumer``): contract
events and the internal updates (derived updates, retries, ticks) of this worker's
partitions. Each message goes one way: ``intake`` (decode, admit) -> the engine
(``engine_protocol``) -> ``outputs``; this module drives it and keeps the batch's states.
A batch is applied in three steps:

1. **Compute.** Each message is applied in offset order to the newest state of its subject —
   the batch's own overlay first, then the table — exactly as one message at a time would;
   nothing is written yet. Alerts and derived updates go to ``StepOutputs`` (one record
   batch per topic partition); dead letters straight to the producer.
2. **Outputs durable.** One wait for the broker's acks of all of them.
3. **State durable.** Every subject the batch changed is written to the table once, with one
   changelog record (its newest state), and one wait for those acks; then the messages are
   acked so Faust may commit their offsets.

A crash before step 3 ends repeats the batch: repeated alerts keep their ``alert_id`` (the
tutor queues drop them) and each stored state carries the offsets it absorbed per source
(``Stored.marks``), so a redelivered message is never applied twice. Writing a subject once
per batch instead of once per message is what makes activity-heavy traffic cheap: a learner
active ten times in a batch costs one changelog record.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from faust.types import TP

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Event
from facilitation_stream import item_codec
from facilitation_stream.metrics import Metrics
from facilitation_stream.settings import Settings
from facilitation_stream.worker.dead_letters import DeadLetters
from facilitation_stream.worker.engine_protocol import Step, SubjectEngine
from facilitation_stream.worker.intake import MALFORMED, Intake, Refused
from facilitation_stream.worker.outputs import MAX_DERIVED, StepOutputs
from facilitation_stream.worker.record_batches import RecordBatches
from facilitation_stream.worker.stored import AUTHORED, Stored, encode_stored

log = logging.getLogger(__name__)

_ABSENT = object()


class SubjectBatches:
    """Applies batches of source messages to the subjects table (the only writer)."""

    def __init__(
        self,
        *,
        app: Any,
        settings: Settings,
        engine: SubjectEngine,
        table: Any,
        worker: Any,
        dead: DeadLetters,
        metrics: Metrics,
        updates_topic: str,
        alerts_topic: str,
        changelog_topic: str,
    ) -> None:
        self._app = app
        self._settings = settings
        self._engine = engine
        self._table = table
        self._worker = worker
        self._dead = dead
        self._metrics = metrics
        self._changelog = changelog_topic
        # Subject kinds, not ids: P(ost), L(earner), R(eflection), C(ourse).
        self._evaluation = {kind: metrics.rule_evaluation.labels(rule=kind) for kind in "PLRC"}
        self._consumed: Counter[str] = Counter()
        # Per batch: subject key -> newest record (None: deleted); sends awaiting acks.
        self._overlay: dict[str, Stored | None] = {}
        self._partitions: dict[str, int] = {}
        self._out = StepOutputs(
            RecordBatches(app.producer),
            metrics,
            alerts_topic=alerts_topic,
            updates_topic=updates_topic,
            changelog_topic=changelog_topic,
        )
        self._intake = Intake(
            worker.watermarks,
            lateness_s=settings.lateness_s,
            future_tolerance_s=settings.future_tolerance_s,
            max_bytes=settings.max_event_bytes,
        )
        self._clock = 0.0
        self._now = 0.0

    async def __call__(self, messages: list[Any]) -> None:
        self._overlay, self._partitions = {}, {}
        worker = self._worker
        worker.in_batch = True
        self._clock, self._now = time.monotonic(), time.time()
        try:
            await self._apply_batch(messages)
        finally:
            worker.in_batch = False
        ack = self._app.consumer.ack
        for message in messages:
            ack(message)
        worker.progress_at = time.monotonic()

    async def _apply_batch(self, messages: list[Any]) -> None:
        events_topic = self._settings.events_topic
        worker = self._worker
        for message in messages:
            worker.positions[message.topic, message.partition] = message.offset
            try:
                if message.topic == events_topic:
                    await self._event(message)
                else:
                    await self._update(message)
            except Exception as err:  # one bad message must never stop the partition
                log.exception(
                    "processing failed at %s:%s:%s",
                    message.topic,
                    message.partition,
                    message.offset,
                )
                await self._dead.send(message, "error", f"{type(err).__name__}: {err}")
        now = time.time()
        for event_type, count in self._consumed.items():
            self._metrics.event_consumed(event_type, now, count)
        self._consumed.clear()
        for sent in await self._out.flush():
            worker.sent(sent)
        await self._write_states()

    # -- compute ---------------------------------------------------------------------------
    async def _event(self, message: Any) -> None:
        admitted = self._intake.admit(message.value, message.partition, self._now)
        refused = admitted if type(admitted) is Refused else None
        if refused is not None and refused.event is None:
            if refused.reason in MALFORMED:
                self._metrics.malformed(refused.reason)
            await self._dead.send(message, refused.reason, refused.detail)
            return
        event: Event = refused.event if refused is not None else admitted  # type: ignore[assignment]
        self._consumed[event.event_type] += 1
        key = self._engine.subject_key(event)
        if refused is not None:  # late: a re-published event is a repeat, not a dead letter
            stored = self._get(key)
            if stored is not None and (
                stored.absorbed(event) or self._engine.repeats(key, stored.state, event)
            ):
                self._metrics.duplicate("late")
                return
            await self._dead.send(message, refused.reason, refused.detail)
            return
        self._worker.read_at[message.partition] = self._clock
        if message.key is not None and message.key.decode() != key:
            # Keyed by a producer that does not follow the contract: move it to its subject's
            # partition, where its state lives.
            origin = f"de{message.partition}"
            await self._out.update(key, ("derived", origin, message.offset * MAX_DERIVED, event))
            return
        await self._apply(key, event, (f"e{message.partition}", message.offset), message, "e")

    async def _update(self, message: Any) -> None:
        kind, *rest = item_codec.loads(message.value)
        key = message.key.decode()
        if kind != "tick":
            origin, seq, item = rest
            await self._apply(key, item, (origin, seq), message, "u")
            return
        (now,) = rest
        stored = self._get(key)
        if stored is None or stored.due is None:
            return
        if stored.due > now:  # a later event moved the deadline since the tick was sent
            self._worker.schedule(key, stored.due, message.partition)
            return
        if stored.state is None:  # parked items whose subject has not come by their time
            for _origin, _seq, item, reason, topic, part, offset in stored.parked or ():
                await self._dead_letter(item, reason, _Source(topic, part, offset, key.encode()))
            self._overlay[key] = None
            self._partitions[key] = message.partition
            return
        step = self._engine.tick(key, stored.state, datetime.fromtimestamp(now, UTC))
        await self._out.step(step, f"du{message.partition}", message.offset)
        self._keep(key, stored, step, message.partition, None)

    async def _apply(
        self, key: str, item: Any, mark: tuple[str, int], message: Any, tag: str
    ) -> None:
        stored = self._get(key)
        if stored is not None and stored.seen(*mark):
            return  # redelivered after a crash: its effect is already in the state
        authored = isinstance(item, AUTHORED)
        if authored and stored is not None and stored.absorbed(item):
            self._metrics.duplicate("event_id")  # re-published: counted once already
            return
        started = time.perf_counter()
        step = self._engine.apply(key, stored.state if stored else None, item)
        self._evaluation[key[0]].observe(time.perf_counter() - started)
        if step.rejected:
            self._park(key, stored, item, mark, step.rejected, message)
            return
        await self._out.step(step, f"d{tag}{message.partition}", message.offset)
        self._keep(key, stored, step, message.partition, mark if step.changed else None)
        if authored and step.state is not None:
            record = self._overlay.get(key)
            if record is not None:
                record.ids = (stored or record).with_id(item)
        if stored is not None and stored.parked and step.state is not None:
            await self._unpark(key, stored.parked, message.partition)

    def _park(
        self,
        key: str,
        stored: Stored | None,
        item: Any,
        mark: tuple[str, int],
        reason: str,
        message: Any,
    ) -> None:
        """Keep an item that needs a subject not seen yet, until the tick horizon passes its
        time: by then everything older has been read and applied (what it needs, if it
        exists, was created by something older), exactly what replay would have seen."""
        record = Stored(
            state=None,
            partition=message.partition,
            marks=stored.marked(*mark) if stored else mark,
            parked=list(stored.parked or ()) if stored else [],
            ids=stored.ids if stored else (),
        )
        assert record.parked is not None
        record.parked.append(
            (*mark, item, reason, message.topic, message.partition, message.offset)
        )
        t = _time_of(item)
        record.due = t if stored is None or stored.due is None else min(stored.due, t)
        self._overlay[key] = record
        self._partitions[key] = message.partition

    async def _unpark(self, key: str, parked: list[tuple[Any, ...]], partition: int) -> None:
        """The subject exists now: apply what waited for it, oldest first."""
        waiting = sorted(parked, key=lambda p: _time_of(p[2]))
        for origin, seq, item, _reason, topic, part, offset in waiting:
            current = self._get(key)
            step = self._engine.apply(key, current.state if current else None, item)
            if step.rejected:
                source = _Source(topic, part, offset, key.encode())
                await self._dead_letter(item, step.rejected, source)
                continue
            await self._out.step(step, f"p{origin}", seq)
            self._keep(key, current, step, partition, (origin, seq) if step.changed else None)

    async def _dead_letter(self, item: Any, reason: str, message: Any) -> None:
        # The letter carries the contract event, whichever topic brought it here.
        event = getattr(item, "event", item)
        value = dumps(event).encode() if isinstance(event, Event) else None
        await self._dead.send(message, "rejected", reason, value=value)

    # -- state -----------------------------------------------------------------------------
    def _get(self, key: str) -> Stored | None:
        stored = self._overlay.get(key, _ABSENT)
        if stored is _ABSENT:
            return self._table.data.get(key.encode())
        return stored  # type: ignore[return-value]

    def _keep(
        self,
        key: str,
        stored: Stored | None,
        step: Step,
        partition: int,
        mark: tuple[str, int] | None,
    ) -> None:
        """Stage a step's state in the batch overlay (written once, at the batch's end)."""
        if not step.changed and mark is None:
            return
        if step.state is None:
            if stored is not None:
                self._overlay[key] = None
                self._partitions[key] = partition
            return
        record = Stored(
            state=step.state,
            partition=partition,
            marks=stored.marks if stored else (),
            ids=stored.ids if stored else (),
        )
        if mark is not None:
            record.marks = record.marked(*mark)
        record.due = step.next_due
        self._overlay[key] = record
        self._partitions[key] = partition

    async def _write_states(self) -> None:
        if not self._overlay:
            return
        write = _table_writer(self._table)
        for key, record in self._overlay.items():
            partition = self._partitions[key]
            raw = key.encode()
            write(raw, record, partition)
            value = None if record is None else encode_stored(record)
            await self._out.changelog(raw, value, partition)
            if record is not None and record.due is not None:
                self._worker.schedule(key, record.due, partition)
        newest: dict[int, int] = {}
        for sent in await self._out.flush():
            newest[sent.partition] = max(newest.get(sent.partition, -1), sent.offset)
        for partition, offset in newest.items():
            # A persistent store (RocksDB) recovers from here after a restart, not from 0.
            self._table.data.set_persisted_offset(TP(self._changelog, partition), offset)


def _table_writer(table: Any) -> Callable[[bytes, Stored | None, int], None]:
    """Write a table value without Faust's per-write changelog send (ours is per batch).

    Both stores remember each key's partition, so a rebalance that moves the partition
    away drops the key; the memory store keeps decoded values, RocksDB (rocksdict) one
    database per partition of encoded ones."""
    store = table.data
    if hasattr(store, "_db_for_partition"):  # rocksdb://
        index = store._key_index

        def write_rocksdb(raw: bytes, record: Stored | None, partition: int) -> None:
            key = store._encode_key(raw)
            if record is None:
                store._del(key)
                index.pop(key, None)
            else:
                store._db_for_partition(partition).put(key, store._encode_value(record))
                index[key] = partition

        return write_rocksdb
    data, partitions = store.data, store._key_partition

    def write(raw: bytes, record: Stored | None, partition: int) -> None:
        if record is None:
            data.pop(raw, None)
            partitions.pop(raw, None)
        else:
            data[raw] = record
            partitions[raw] = partition

    return write


class _Source(NamedTuple):
    """Where a parked item was read: what its dead letter's headers name."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes = b""


def _time_of(item: Any) -> float:
    """Event time of an update or event (epoch seconds)."""
    t = getattr(item, "t", None)
    return float(t) if t is not None else float(item.occurred_at.timestamp())
