"""The Faust app: one module builds it (``build_app``).

Data path inside a worker::

    events topic ─┐                         ┌─> alerts topic ──> route_alerts ──> Redis queues
                  ├─> SubjectBatches ───────┤
    updates topic ┘   table: subjects       └─> updates topic (derived updates, ticks)

* The consumer hands the two co-partitioned source topics to ``SubjectBatches`` one fetch
  at a time (``batch_consumer``): the contract events (keyed by subject) and the internal
  updates topic, which carries updates one subject's step derives for another (a reply →
  the thread author's learner record) and the deadline ticks the timer schedules. It is the
  only table writer, and one batch runs at a time (the concurrency-1 rule of Faust tables).
* The timer never writes a table: it pops due subjects from the in-memory ``DueIndex`` and
  sends each a tick on the updates topic, on the subject's own partition.
* Alerts and derived updates are acknowledged by the broker before the state that caused
  them is written, and the state before the messages are acked, so a crash can repeat an
  alert (deduplicated downstream) but never lose one.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.serializers import codecs

from facilitation_rules.engine.due_index import DueIndex
from facilitation_stream import item_codec
from facilitation_stream.kafka_config import updates_topic
from facilitation_stream.metrics import Metrics, get_metrics
from facilitation_stream.settings import Settings
from facilitation_stream.worker.alert_delivery import AlertDelivery
from facilitation_stream.worker.batch_consumer import FacilitationApp
from facilitation_stream.worker.batches import SubjectBatches
from facilitation_stream.worker.dead_letters import DeadLetters
from facilitation_stream.worker.engine_protocol import SubjectEngine
from facilitation_stream.worker.health import is_ready, readiness, register_views
from facilitation_stream.worker.stored import decode_stored, encode_stored

log = logging.getLogger(__name__)

TICK_INTERVAL_S = 1.0


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
    #: When partitions were last assigned, and when an event was last read per events
    #: partition (monotonic seconds).
    assigned_at: float = 0.0
    #: When an event was last read per events partition (monotonic seconds).
    read_at: dict[int, float] = field(default_factory=dict)
    #: Last offset processed per (topic, partition) of the two source topics.
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    source_topics: frozenset[str] = frozenset()
    updates_topic: str = ""
    #: Newest offset this worker wrote per updates partition (see ``sent``).
    in_flight: dict[int, int] = field(default_factory=dict)
    #: No unread source messages at the last tick (see ``_tick_horizon``).
    caught_up: bool = False
    #: A batch is being applied: its derived updates are not on the updates topic yet.
    in_batch: bool = False
    #: When the last source message was processed (monotonic seconds).
    progress_at: float = field(default_factory=time.monotonic)
    recovered: bool = False
    rules_mtime: float | None = None
    #: Since when routing alerts into the tutor queues fails (monotonic), and why.
    sink_failing_since: float | None = None
    sink_error: str = ""

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
    app = FacilitationApp(
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
        # One fetch is one batch: bounded so a batch's outputs go out within ~0.1 s.
        broker_max_poll_records=settings.batch_max_records,
        # A crashed worker's partitions move after this long, not Kafka's default minute.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 4),
        # Ticks are sent from a timer task, outside any stream; they carry their partition.
        topic_allow_declare=True,
        web_enabled=True,
    )
    def raw_topic(name: str, **options: Any) -> Any:
        """A topic of bytes keys and values: the engine encodes its own."""
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.topic_partitions,
            **options,
        )

    events = raw_topic(settings.events_topic)
    updates = raw_topic(updates_topic(settings), internal=True)
    alerts_topic = raw_topic(settings.alerts_topic)
    # Faust derives changelog serializers from model types (json otherwise); ours are raw
    # keys and compact engine state, both when writing and when recovering the changelog.
    changelog = app.topic(
        f"{settings.app_id}-subjects-changelog",
        key_serializer="raw",
        value_serializer="facilitation_stored",
        partitions=settings.topic_partitions,
        compacting=True,
        acks=False,
        internal=True,
        allow_empty=True,
        maxsize=131_072,
    )
    subjects = app.Table(
        "subjects",
        default=None,
        partitions=settings.topic_partitions,
        changelog_topic=changelog,
    )
    subjects.key_serializer = "raw"  # type: ignore[attr-defined]
    subjects.value_serializer = "facilitation_stored"  # type: ignore[attr-defined]
    worker = WorkerState(
        source_topics=frozenset({settings.events_topic, updates_topic(settings)}),
        updates_topic=updates_topic(settings),
    )
    dead = DeadLetters(app, settings)
    dead.observe(metrics.dead_lettered)
    app.facilitation = worker  # type: ignore[attr-defined]

    app.batch_topics = worker.source_topics
    app.batch_handler = SubjectBatches(  # type: ignore[method-assign]
        app=app,
        settings=settings,
        engine=engine,
        table=subjects,
        worker=worker,
        dead=dead,
        metrics=metrics,
        updates_topic=updates.get_topic_name(),
        alerts_topic=alerts_topic.get_topic_name(),
        changelog_topic=changelog.get_topic_name(),
    )

    @app.agent(
        app.topic(
            events.get_topic_name(),
            updates.get_topic_name(),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        ),
        concurrency=1,
    )
    async def process(stream: Any) -> None:
        """Subscribes the source topics, so Faust assigns them with the table's partitions
        and commits their acked offsets. Their messages never reach this stream: the
        consumer hands them to ``SubjectBatches`` in batches (``batch_consumer``)."""
        async for _event in stream.events():
            raise RuntimeError("a source message took Faust's per-message path")

    delivery = AlertDelivery(sink, worker, metrics, dead) if sink is not None else None

    @app.agent(alerts_topic, concurrency=1)
    async def route_alerts(stream: Any) -> None:
        # One alert at a time, each taken only after the previous one is in a queue: the
        # offset Faust commits never passes an alert that is not (alert_delivery).
        async for event in stream.events():
            if delivery is not None:
                await delivery.deliver(event.message)

    @subjects.on_recover
    async def rebuild_due_index() -> None:
        worker.due = {}
        # Positions of partitions held before the rebalance are stale (another worker may
        # have moved on): reading resumes from the committed offsets.
        worker.positions = {}
        worker.assigned_at = time.monotonic()
        for raw_key, stored in subjects.items():
            if stored is None:
                continue
            key = raw_key.decode()
            engine.restore(key, stored.state)
            if stored.due is not None:
                worker.schedule(key, stored.due, stored.partition)
        worker.recovered = True
        log.info("table recovered: %d subjects, %d deadlines", len(subjects), worker.deadlines())

    @app.timer(TICK_INTERVAL_S)
    async def tick() -> None:
        ready, _ = is_ready(app, worker)
        metrics.worker_ready.set(1 if readiness(app, worker)[0] else 0)
        metrics.rebalancing.set(1 if app.rebalancing else 0)
        metrics.recovering.set(0 if worker.recovered else 1)
        _observe_lag(app, metrics, worker)
        if not ready:
            return
        now = time.time()
        horizon, worker.caught_up = _tick_horizon(app, worker, now, settings.idle_s)
        # The tick carries the horizon: the subject fires what is due up to it, no further.
        payload = item_codec.dumps(("tick", horizon))
        for partition, index in worker.due.items():
            for _due, key in list(index.pop_due(horizon)):
                await updates.send(key=str(key).encode(), value=payload, partition=partition)

    @app.timer(2.0)
    async def reload_rules() -> None:
        engine.export_counts()  # e.g. when: filters that failed to evaluate
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
            engine.reload(path)  # read within the loader's bounds (size, aliases, depth)
            log.info("rule pack reloaded from %s", path)
        except (OSError, ValueError) as err:  # invalid, unreadable, or gone meanwhile
            log.error("rule pack %s rejected, keeping the previous one:\n%s", path, err)

    register_views(app, worker, metrics, settings.stall_s)
    return app


def _tick_horizon(
    app: faust.App, worker: WorkerState, now: float, idle_s: float
) -> tuple[float, bool]:
    """How far deadlines may fire, and whether every source partition is read to its end.

    Deadlines follow event time, as in replay: an unread event may still move a deadline
    that wall time has passed (a reply, a learner's post), and replay would apply it first.
    So the horizon is the lowest event-time watermark of this worker's events partitions —
    except that a partition read to its end with nothing new for ``idle_s`` no longer holds
    it back (idle sources: otherwise one quiet partition would stop every deadline). While
    updates derived on other partitions are unread, idleness does not count. An events
    partition with nothing read yet (just assigned or restarted) holds every deadline back
    until it is idle, since its next event may be older than any seen elsewhere.
    """
    if worker.in_batch:
        return min(worker.watermarks.values(), default=0.0), False
    consumer: Any = app.consumer
    clock = time.monotonic()
    lagging = updates_unread = False
    lowest = active = now
    for tp in consumer.assignment():
        if tp.topic not in worker.source_topics:
            continue  # changelogs, alerts: not sources of subject updates
        read = worker.positions.get((tp.topic, tp.partition))
        if read is None:  # nothing read since the assignment: reading starts at the seek
            read = (consumer._read_offset.get(tp) or 0) - 1
        try:
            highwater = consumer.highwater(tp)
        except Exception:
            continue
        if highwater is None:  # not fetched since the assignment: unknown, so not caught up
            return 0.0, False
        if tp.topic == worker.updates_topic:
            # The consumer's highwater is as of its last fetch; our own sends since then
            # are known from their acknowledgements.
            highwater = max(highwater, worker.in_flight.get(tp.partition, -1) + 1)
            updates_unread = updates_unread or read + 1 < highwater
            continue
        unread = read + 1 < highwater
        mark = worker.watermarks.get(tp.partition)
        if mark is None:
            # Nothing read since the assignment: its next event may be older than any
            # seen elsewhere, until the partition has been idle for ``idle_s``.
            if unread or clock - worker.assigned_at < idle_s:
                return 0.0, False
            continue
        lowest = min(lowest, mark)
        lagging = lagging or unread
        if unread or clock - worker.read_at.get(tp.partition, 0.0) < idle_s:
            active = min(active, mark)
    if updates_unread:
        return lowest, False
    return active, not lagging


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
