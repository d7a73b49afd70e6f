"""The loss-free Kafka producer of the LMS side, request half: ``emit`` stores the event.

``emit`` writes the event into an outbox (the LMS database, or a local SQLite file; a
millisecond or two, never a network call to Kafka) and returns; the process's sender thread
(``sender``) delivers it. When the outbox is busy past the request's budget, or failing,
the event waits in a bounded in-memory spill list that the sender thread writes to the
outbox moments later; once the spill list is in use, later events queue behind it so
their order is kept.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Event
from facilitation_xblocks.outbox.config import EmitterSettings
from facilitation_xblocks.outbox.metrics import XBlockMetrics, default_metrics
from facilitation_xblocks.outbox.rows import OutboxStore, PendingRow
from facilitation_xblocks.outbox.sender import OutboxSender, ProducerFactory, kafka_producer
from facilitation_xblocks.outbox.sqlite_file import SqliteFileOutbox

log = logging.getLogger(__name__)


class Emitter(Protocol):
    def emit(self, event: Event) -> None: ...

    def flush(self, timeout_s: float) -> bool: ...

    def close(self, timeout_s: float = 5.0) -> None: ...


class EventEmitter:
    """Stores events in ``store``; with a ``bootstrap``, a sender thread delivers them to
    ``topic``. Without one the rows stay in the outbox until a configured process sends."""

    def __init__(
        self,
        store: OutboxStore,
        topic: str,
        *,
        bootstrap: str = "",
        producer_config: Mapping[str, Any] | None = None,
        metrics: XBlockMetrics | None = None,
        spill_max: int = 10_000,
        producer_factory: ProducerFactory = kafka_producer,
        **sender_options: Any,
    ) -> None:
        self.topic = topic
        self.store = store
        self._metrics = metrics or default_metrics()
        self._counts_lock = threading.Lock()
        self._counts = {"appended": 0, "spilled": 0, "append_failures": 0}
        self._spill: deque[PendingRow] = deque()
        self._spill_lock = threading.Lock()
        self._spill_max = spill_max
        self._closed = False
        self.sender: OutboxSender | None = None
        if bootstrap:
            self.sender = OutboxSender(
                store, bootstrap, producer_config_extra=producer_config, metrics=self._metrics,
                housekeeping=self._drain_spill, producer_factory=producer_factory,
                **sender_options,
            )

    # ------------------------------------------------------------ request side

    def emit(self, event: Event) -> None:
        """Store ``event`` for delivery; never raises, never talks to Kafka."""
        started = time.perf_counter()
        row = PendingRow.of(self.topic, event)
        try:
            if not self._spill:
                try:
                    self.store.append([row])
                    return self.appended(event.event_type)
                except self.store.errors as err:
                    log.warning("facilitation outbox %s busy (%s); event kept in memory",
                                self.store.name, err)
            self._spill_or_drop(row, event)
        finally:
            self._metrics.append_seconds.observe(time.perf_counter() - started)

    def appended(self, event_type: str) -> None:
        """Count an event stored (also by the post stores, which append it themselves)."""
        self._count("appended")
        self._metrics.appended.labels(event_type).inc()
        self.wake()

    def wake(self) -> None:
        if self.sender is not None:
            self.sender.wake.set()

    def _spill_or_drop(self, row: PendingRow, event: Event) -> None:
        with self._spill_lock:
            if len(self._spill) < self._spill_max:
                self._spill.append(row)
                self._count("spilled")
                self._metrics.spilled.inc()
                self.appended(event.event_type)
                return
        # The event is still in the LMS tracking log; the log line carries it whole so an
        # operator can replay it.
        self._count("append_failures")
        self._metrics.append_failures.inc()
        log.error("facilitation outbox %s: full spill list, event not queued: %s",
                  self.store.name, dumps(event))

    def _drain_spill(self) -> bool:
        """Write spilled events to the outbox (sender thread); False when that failed."""
        with self._spill_lock:
            rows = list(self._spill)
        if not rows:
            return True
        try:
            self.store.append(rows)
        except self.store.errors as err:
            log.warning("facilitation outbox: spill not written yet (%s)", err)
            if self.sender is not None:
                self.sender.failed("spill")
            return False
        with self._spill_lock:
            for _ in rows:
                self._spill.popleft()
        return True

    # ------------------------------------------------------------ both

    def flush(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (True) or ``timeout_s`` passed (False)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not self._spill and self.store.depth() == 0:
                return True
            if (time.monotonic() >= deadline or self.sender is None
                    or not self.sender.alive()):
                return False
            self.wake()
            time.sleep(0.02)

    def depth(self) -> int:
        """Events not yet acknowledged by Kafka (stored, or spilled in memory)."""
        return self.store.depth() + len(self._spill)

    def stats(self) -> dict[str, int]:
        """Plain counters of this emitter (also exported as Prometheus metrics)."""
        with self._counts_lock:
            counts = dict(self._counts)
        if self.sender is not None:
            counts.update(self.sender.counts)
        return {**counts, "depth": self.depth()}

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what can be delivered within ``timeout_s``, then stop; rows left stay."""
        if self._closed:
            return
        self._closed = True
        if self.sender is not None:
            self.flush(timeout_s)
            if not self.sender.stop(timeout_s + 1):
                log.warning("facilitation outbox: sender thread still busy at close")
                return
        self._drain_spill()  # the last spilled events reach the outbox for the next process
        if self._spill:
            log.error("facilitation outbox: %d spilled events not written at close",
                      len(self._spill))
        self.store.close()

    def _count(self, name: str, n: int = 1) -> None:
        with self._counts_lock:
            self._counts[name] += n


def file_emitter(bootstrap: str, topic: str, path: str, **options: Any) -> EventEmitter:
    """An emitter on a SQLite file outbox (the demo, tests, an LMS without the plugin)."""
    return EventEmitter(SqliteFileOutbox(path), topic, bootstrap=bootstrap, **options)


class NullEmitter:
    """A local outbox without Kafka: events go to the tracking log only."""

    def emit(self, event: Event) -> None:
        return None

    def flush(self, timeout_s: float) -> bool:
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        return None


#: outbox name -> store factory; the plugin app registers "database" when Django is ready.
StoreFactory = Callable[[EmitterSettings], OutboxStore]
_store_factories: dict[str, StoreFactory] = {
    "sqlite": lambda settings: SqliteFileOutbox(settings.outbox_path),
}
_shared: Emitter | None = None
_shared_pid: int | None = None
_shared_lock = threading.Lock()


def register_store(name: str, factory: StoreFactory) -> None:
    _store_factories[name] = factory


def shared_emitter(settings: EmitterSettings) -> Emitter:
    """The process-wide emitter, built on first use (after a fork, again) from the first
    settings seen."""
    global _shared, _shared_pid
    if _shared is not None and _shared_pid == os.getpid():
        return _shared
    with _shared_lock:
        if _shared is None or _shared_pid != os.getpid():
            _shared, _shared_pid = _build(settings), os.getpid()
            atexit.register(_shared.close, 2.0)
        return _shared


def _build(settings: EmitterSettings) -> Emitter:
    outbox = settings.outbox
    if outbox not in _store_factories:
        log.warning("facilitation outbox %r is not available here (is the plugin app "
                    "installed?); using the SQLite file %s", outbox, settings.outbox_path)
        outbox = "sqlite"
    if outbox == "sqlite" and not settings.kafka_bootstrap:
        log.info("facilitation events: no Kafka bootstrap configured; "
                 "events go to the tracking log only")
        return NullEmitter()
    emitter = EventEmitter(
        _store_factories[outbox](settings), settings.events_topic,
        bootstrap=settings.kafka_bootstrap, producer_config=settings.producer_config,
    )
    log.info("facilitation events -> outbox %s -> Kafka %s topic %s", emitter.store.name,
             settings.kafka_bootstrap or "(none configured: rows wait)", settings.events_topic)
    return emitter
