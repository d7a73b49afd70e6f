"""The Faust app: one module builds it (``build_app``).

Data path inside a worker::

    events topic ─┐                      ┌─> alerts topic ──> route_alerts ──> Redis queues
                  ├─> process (conc. 1) ─┤
    updates topic ┘   table: subjects    └─> updates topic (derived updates, ticks)

* ``process`` is the only table writer (Faust tables are writable only inside stream
  iteration, and only safely at concurrency 1). It reads two co-partitioned topics: the
  contract events (keyed by subject) and the internal updates topic, which carries updates
  one subject's step derives for another (a reply → the thread author's learner record)
  and the deadline ticks the timer schedules.
* The timer never writes a table: it pops due subjects from the in-memory ``DueIndex`` and
  sends each a tick on the updates topic, on the subject's own partition.
* Alerts and derived updates are acknowledged by the broker before the state that caused
  them is written, so a crash can repeat them (deduplicated downstream) but never lose one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
import orjson
from faust.serializers import codecs

from facilitation_rules.alerts import Alert, alert_from_dict, alert_to_dict
from facilitation_rules.deadlines import DueIndex
from facilitation_rules.event_codec import EventDecodeError, UnknownEventType, dumps, loads
from facilitation_rules.events import Event
from facilitation_stream.dead_letters import DeadLetters
from facilitation_stream.kafka_config import updates_topic
from facilitation_stream.metrics import Metrics, get_metrics
from facilitation_stream.processing import (
    Step,
    Stored,
    SubjectEngine,
    decode_stored,
    encode_stored,
)
from facilitation_stream.settings import Settings
from facilitation_stream.worker_web import is_ready, register_views

log = logging.getLogger(__name__)

TICK_INTERVAL_S = 1.0
#: Derived updates of one message get sub-sequence numbers below this bound.
MAX_DERIVED = 64


class _StoredCodec(faust.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return encode_stored(obj)

    def _loads(self, s: bytes) -> Any:
        return decode_stored(s)


codecs.register("facilitation_stored", _StoredCodec())


@dataclass
class WorkerState:
    """What the worker keeps outside tables: all of it derivable after a restart."""

    #: One due index per partition: a rebalance drops or rebuilds whole partitions.
    due: dict[int, DueIndex] = field(default_factory=dict)
    #: Event-time watermark per events partition: the latest event time seen there.
    watermarks: dict[int, float] = field(default_factory=dict)
    #: Last offset processed per (topic, partition) of the two source topics.
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    source_topics: frozenset[str] = frozenset()
    updates_topic: str = ""
    #: Newest offset this worker wrote per updates partition (see ``sent``).
    in_flight: dict[int, int] = field(default_factory=dict)
    #: No unread source messages at the last tick (see ``_tick_horizon``).
    caught_up: bool = False
    #: When the last source message was processed (monotonic seconds).
    progress_at: float = field(default_factory=time.monotonic)
    recovered: bool = False
    rules_mtime: float | None = None

    def schedule(self, key: str, due: float, partition: int) -> None:
        index = self.due.get(partition)
        if index is None:
            index = self.due[partition] = DueIndex()
        index.schedule(key, due)

    def sent(self, metadata: Any) -> None:
        """Remember the newest offset this worker wrote to the updates topic, per
        partition: until it has read that far, an update of its own is still in flight."""
        if metadata.topic == self.updates_topic:
            partition = metadata.partition
            self.in_flight[partition] = max(self.in_flight.get(partition, -1), metadata.offset)

    def stalled_for(self, now: float) -> float:
        """Seconds without progress while messages wait (0 when caught up or idle)."""
        if self.caught_up or not self.recovered:
            return 0.0
        return now - self.progress_at

    def deadlines(self) -> int:
        return sum(len(index) for index in self.due.values())


def build_app(
    settings: Settings,
    engine: SubjectEngine,
    sink: Any | None = None,
    metrics: Metrics | None = None,
) -> faust.App:
    """Build the worker app. ``sink`` receives routed alerts (``sink.route(alert)``)."""
    metrics = metrics or get_metrics()
    broker = ";".join(f"kafka://{host}" for host in settings.kafka_bootstrap.split(","))
    app = faust.App(
        settings.app_id,
        broker=broker,
        store=settings.table_store,
        datadir=settings.data_dir,
        web_host=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        broker_credentials=_credentials(settings),
        producer_acks=-1,
        # A crashed worker's partitions move after this long, not Kafka's default minute.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 4),
        # Ticks are sent from a timer task, outside any stream; they carry their partition.
        topic_allow_declare=True,
        web_enabled=True,
    )
    events = app.topic(
        settings.events_topic, key_type=bytes, value_type=bytes, value_serializer="raw",
        key_serializer="raw", partitions=settings.topic_partitions,
    )
    updates = app.topic(
        updates_topic(settings), key_type=bytes, value_type=bytes,
        key_serializer="raw", value_serializer="raw", partitions=settings.topic_partitions,
        internal=True,
    )
    alerts_topic = app.topic(
        settings.alerts_topic, key_type=bytes, value_type=bytes, key_serializer="raw",
        value_serializer="raw", partitions=settings.topic_partitions,
    )
    # Faust derives changelog serializers from model types (json otherwise); ours are raw
    # keys and compact engine state, both when writing and when recovering the changelog.
    changelog = app.topic(
        f"{settings.app_id}-subjects-changelog", key_serializer="raw",
        value_serializer="facilitation_stored", partitions=settings.topic_partitions,
        compacting=True, acks=False, internal=True, allow_empty=True, maxsize=131_072,
    )
    subjects = app.Table(
        "subjects", default=None, partitions=settings.topic_partitions,
        changelog_topic=changelog,
    )
    subjects.key_serializer = "raw"  # type: ignore[attr-defined]
    subjects.value_serializer = "facilitation_stored"  # type: ignore[attr-defined]
    worker = WorkerState(
        source_topics=frozenset({settings.events_topic, updates_topic(settings)}),
        updates_topic=updates_topic(settings),
    )
    # Subject kinds, not ids: P(ost), L(earner), R(eflection), C(ourse).
    evaluation = metrics.rule_evaluation
    dead = DeadLetters(app, settings)
    dead.observe(metrics.dead_lettered)
    app.facilitation = worker  # type: ignore[attr-defined]

    async def send_outputs(step: Step, origin: str, seq: int) -> None:
        """Send a step's alerts and derived updates and wait for the broker's ack.

        Each derived update is marked (origin, seq * MAX_DERIVED + index): its target skips
        it when a crash makes this step run again.
        """
        futures = []
        for alert in step.alerts:
            if alert.action == "fire":
                metrics.alerts_fired.labels(rule=alert.rule, severity=alert.severity).inc()
            else:
                metrics.alerts_resolved.labels(rule=alert.rule).inc()
            futures.append(await alerts_topic.send(
                key=f"{alert.course_id}|{alert.subject_id}".encode(),
                value=_alert_bytes(alert),
            ))
        for index, (target, item) in enumerate(step.derived[:MAX_DERIVED]):
            payload = pickle.dumps(("derived", origin, seq * MAX_DERIVED + index, item))
            futures.append(await updates.send(key=target.encode(), value=payload))
        for future in futures:
            worker.sent(await future)

    async def commit_step(key: str, stored: Stored | None, step: Step, partition: int,
                          mark: tuple[str, int] | None) -> None:
        if not step.changed and mark is None:
            return
        if step.state is None:
            if stored is not None:
                del subjects[key.encode()]
            return
        record = Stored(state=step.state, partition=partition,
                        marks=dict(stored.marks) if stored else {})
        if mark is not None:
            record.marks[mark[0]] = mark[1]
        record.due = step.next_due
        subjects[key.encode()] = record
        if record.due is not None:
            worker.schedule(key, record.due, partition)

    async def handle_event(message: Any) -> None:
        try:
            event = loads(message.value)
        except UnknownEventType as err:
            metrics.malformed("unknown-type")
            await dead.send(message, "unknown-type", str(err))
            return
        except EventDecodeError as err:
            metrics.malformed("invalid")
            await dead.send(message, "invalid", str(err))
            return
        metrics.event_consumed(event.event_type, time.time())
        occurred = event.occurred_at.timestamp()
        watermark = worker.watermarks.get(message.partition, occurred)
        if occurred < watermark - settings.lateness_s:
            await dead.send(message, "late", f"{watermark - occurred:.0f}s behind")
            return
        worker.watermarks[message.partition] = max(watermark, occurred)
        key = engine.subject_key(event)
        if message.key is not None and message.key.decode() != key:
            # Keyed by a producer that does not follow the contract: move it to its subject's
            # partition, where its state lives.
            origin = f"de{message.partition}"
            payload = pickle.dumps(("derived", origin, message.offset * MAX_DERIVED, event))
            worker.sent(await (await updates.send(key=key.encode(), value=payload)))
            return
        await apply_item(key, event, (f"e{message.partition}", message.offset), message, "e")

    async def apply_item(
        key: str, item: Any, mark: tuple[str, int], message: Any, tag: str
    ) -> None:
        stored: Stored | None = subjects.get(key.encode())
        if stored is not None and stored.seen(*mark):
            return  # redelivered after a crash: its effect is already in the state
        started = time.perf_counter()
        step = engine.apply(key, stored.state if stored else None, item)
        evaluation.labels(rule=key[0]).observe(time.perf_counter() - started)
        if step.rejected:
            if tag == "u" and not worker.caught_up and mark[0][0] != "r":
                # Unread messages may still hold what this needs (a reply read before the
                # post it answers): retry once everything read so far has been applied.
                payload = pickle.dumps(("derived", "r" + mark[0], mark[1], item))
                worker.sent(await (await updates.send(key=key.encode(), value=payload)))
                return
            # The letter carries the contract event, whichever topic brought it here.
            event = getattr(item, "event", item)
            value = dumps(event).encode() if isinstance(event, Event) else None
            await dead.send(message, "rejected", step.rejected, value=value)
            return
        await send_outputs(step, f"d{tag}{message.partition}", message.offset)
        await commit_step(key, stored, step, message.partition, mark if step.changed else None)

    async def handle_update(message: Any) -> None:
        kind, *rest = pickle.loads(message.value)  # written by our workers only
        key = message.key.decode()
        if kind == "tick":
            (now,) = rest
            stored = subjects.get(message.key)
            if stored is None or stored.due is None:
                return
            if stored.due > now:  # a later event moved the deadline since the tick was sent
                worker.schedule(key, stored.due, message.partition)
                return
            step = engine.tick(key, stored.state, datetime.fromtimestamp(now, UTC))
            await send_outputs(step, f"du{message.partition}", message.offset)
            await commit_step(key, stored, step, message.partition, None)
        else:
            origin, seq, item = rest
            await apply_item(key, item, (origin, seq), message, "u")

    @app.agent(app.topic(events.get_topic_name(), updates.get_topic_name(), key_type=bytes,
                         value_type=bytes, key_serializer="raw", value_serializer="raw"),
               concurrency=1)
    async def process(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            worker.positions[message.topic, message.partition] = message.offset
            worker.progress_at = time.monotonic()
            try:
                if message.topic == settings.events_topic:
                    await handle_event(message)
                else:
                    await handle_update(message)
            except Exception as err:  # one bad message must never stop the partition
                log.exception("processing failed at %s:%s:%s", message.topic,
                              message.partition, message.offset)
                await dead.send(message, "error", f"{type(err).__name__}: {err}")

    @app.agent(alerts_topic, concurrency=1)
    async def route_alerts(stream: Any) -> None:
        async for value in stream:
            if sink is not None:
                alert = alert_from_dict(orjson.loads(value))
                # redis-py is synchronous: keep the event loop free while Redis answers.
                await asyncio.to_thread(sink.route, alert)

    @subjects.on_recover
    async def rebuild_due_index() -> None:
        worker.due = {}
        for raw_key, stored in subjects.items():
            if stored is not None and stored.due is not None:
                worker.schedule(raw_key.decode(), stored.due, stored.partition)
        worker.recovered = True
        log.info("table recovered: %d subjects, %d deadlines", len(subjects), worker.deadlines())

    @app.timer(TICK_INTERVAL_S)
    async def tick() -> None:
        ready, _ = is_ready(app, worker)
        metrics.worker_ready.set(1 if ready else 0)
        metrics.rebalancing.set(1 if app.rebalancing else 0)
        metrics.recovering.set(0 if worker.recovered else 1)
        _observe_lag(app, metrics, worker)
        if not ready:
            return
        now = time.time()
        horizon = _tick_horizon(app, worker, now)
        worker.caught_up = horizon == now
        # The tick carries the horizon: the subject fires what is due up to it, no further.
        payload = pickle.dumps(("tick", horizon))
        for partition, index in worker.due.items():
            for _due, key in list(index.pop_due(horizon)):
                await updates.send(key=str(key).encode(), value=payload, partition=partition)

    @app.timer(2.0)
    async def reload_rules() -> None:
        path = settings.rules_path
        if not path or not os.path.exists(path):
            return
        mtime = os.stat(path).st_mtime
        if worker.rules_mtime is None:
            worker.rules_mtime = mtime
            return
        if mtime == worker.rules_mtime:
            return
        worker.rules_mtime = mtime
        try:
            engine.reload(path)
            log.info("rule pack reloaded from %s", path)
        except ValueError as err:
            log.error("rule pack %s rejected, keeping the previous one:\n%s", path, err)

    register_views(app, worker, metrics, settings.stall_s)
    return app


def _tick_horizon(app: faust.App, worker: WorkerState, now: float) -> float:
    """How far deadlines may fire: wall time once caught up, else the low watermark.

    While any source partition has unread messages — events, or updates other subjects
    derived from them — an unread one may still move a deadline that wall time has passed
    (a reply, a learner's post), and replay would apply it first. Until then deadlines fire
    only up to the lowest event time this worker has seen across its partitions.
    """
    lagging = False
    for tp in app.consumer.assignment():
        read = worker.positions.get((tp.topic, tp.partition))
        if read is None and tp.topic not in worker.source_topics:
            continue  # changelogs, alerts: not sources of subject updates
        try:
            highwater = app.consumer.highwater(tp)
        except Exception:
            continue
        read = -1 if read is None else read
        # The consumer's highwater is as of its last fetch; our own sends since then are
        # known from their acknowledgements.
        if tp.topic == worker.updates_topic:
            highwater = max(highwater or 0, worker.in_flight.get(tp.partition, -1) + 1)
        if highwater is not None and read + 1 < highwater:
            lagging = True
            break
    if not lagging:
        return now
    return min(worker.watermarks.values(), default=0.0)


def _observe_lag(app: faust.App, metrics: Metrics, worker: WorkerState) -> None:
    """Lag per assigned source partition: its end offset minus what this worker read."""
    consumer = app.consumer
    assignment = consumer.assignment()
    metrics.assigned_partitions.set(len(assignment))
    for tp in assignment:
        read = worker.positions.get((tp.topic, tp.partition))
        if read is None:
            continue  # not a topic this worker processes (changelogs, alerts)
        try:
            highwater = consumer.highwater(tp)
        except Exception:
            continue
        if highwater is not None:
            metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(
                max(0, highwater - read - 1)
            )


def _alert_bytes(alert: Alert) -> bytes:
    return orjson.dumps(alert_to_dict(alert))


def _credentials(settings: Settings) -> Any:
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    import ssl

    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    if settings.kafka_sasl_mechanism:
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context if settings.kafka_security_protocol == "SASL_SSL" else None,
        )
    return faust.SSLCredentials(context)

