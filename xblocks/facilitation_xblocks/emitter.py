"""The loss-free Kafka producer of the LMS side.

``emit`` writes the event into the durable outbox (a few milliseconds, never a network
call) and returns; a background thread sends outbox rows to Kafka in order with an
idempotent kafka-python producer (acks=all, one request in flight per connection, so
events of one key keep their order) and deletes a row only after the broker acknowledged
it. Kafka being down or slow costs the learner nothing: rows wait on disk, survive a
restart of the process, and leave when the broker is back. Delivery is at least once; a
row acknowledged but not yet deleted when the process dies is sent again with the same
``event_id``, which consumers deduplicate.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Event
from facilitation_xblocks.metrics import XBlockMetrics, default_metrics
from facilitation_xblocks.outbox import Outbox, OutboxRow
from facilitation_xblocks.settings import EmitterSettings

log = logging.getLogger(__name__)

ProducerFactory = Callable[[dict[str, Any]], Any]


class Emitter(Protocol):
    def emit(self, event: Event) -> None: ...

    def flush(self, timeout_s: float) -> bool: ...

    def close(self, timeout_s: float = 5.0) -> None: ...


def _kafka_producer(config: dict[str, Any]) -> Any:
    from kafka import KafkaProducer

    return KafkaProducer(**config)


class EventEmitter:
    """Durable outbox + background delivery to ``topic`` on the Kafka at ``bootstrap``."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        outbox_path: str,
        *,
        producer_config: Mapping[str, Any] | None = None,
        metrics: XBlockMetrics | None = None,
        chunk_size: int = 500,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 5.0,
        idle_poll_s: float = 0.25,
        spill_max: int = 10_000,
        producer_factory: ProducerFactory = _kafka_producer,
    ) -> None:
        self.topic = topic
        self._outbox = Outbox(outbox_path)
        self._metrics = metrics or default_metrics()
        self._config: dict[str, Any] = {
            "bootstrap_servers": bootstrap.split(","),
            "acks": "all",
            "enable_idempotence": True,
            # One request in flight: a retried batch can never overtake the next one.
            "max_in_flight_requests_per_connection": 1,
            "linger_ms": 5,
            "max_block_ms": 10_000,  # send() waits this long for metadata, then we back off
            "bootstrap_timeout_ms": 5_000,
            "reconnect_backoff_max_ms": 2_000,
            "client_id": "facilitation-xblocks",
            **(producer_config or {}),
        }
        self._factory = producer_factory
        self._producer: Any = None
        self._chunk_size = chunk_size
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._idle_poll_s = idle_poll_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._counts_lock = threading.Lock()
        self._counts = {"appended": 0, "spilled": 0, "append_failures": 0, "delivered": 0,
                        "failures": 0}
        self._spill: deque[dict[str, Any]] = deque()
        self._spill_lock = threading.Lock()
        self._spill_max = spill_max
        self._thread = threading.Thread(target=self._run, name="facilitation-outbox", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ request side

    def emit(self, event: Event) -> None:
        """Store ``event`` for delivery; never raises, never touches the network.

        Normally the row is on disk before this returns. When other writers hold the outbox
        past the request's budget, the event waits in a bounded in-memory spill list that
        the delivery thread writes to the outbox moments later; once the spill list is in
        use, later events queue behind it so their order is kept.
        """
        started = time.perf_counter()
        row: dict[str, Any] = {
            "topic": self.topic, "key": event.partition_key().encode(),
            "value": dumps(event).encode(), "event_id": event.event_id,
            "event_type": event.event_type,
        }
        try:
            if not self._spill:
                try:
                    self._outbox.append(**row)
                    return self._appended(event)
                except sqlite3.Error as err:
                    log.warning("facilitation outbox %s busy (%s); event kept in memory",
                                self._outbox.path, err)
            self._spill_or_drop(row, event)
        finally:
            self._metrics.append_seconds.observe(time.perf_counter() - started)

    def _appended(self, event: Event) -> None:
        self._count("appended")
        self._metrics.appended.labels(event.event_type).inc()
        self._wake.set()

    def _spill_or_drop(self, row: dict[str, Any], event: Event) -> None:
        with self._spill_lock:
            if len(self._spill) < self._spill_max:
                self._spill.append(row)
                self._count("spilled")
                self._metrics.spilled.inc()
                self._appended(event)
                return
        # The event is still in the LMS tracking log (runtime.publish); the log line carries
        # it whole so an operator can replay it.
        self._count("append_failures")
        self._metrics.append_failures.inc()
        log.error("facilitation outbox %s: full spill list, event not queued: %s",
                  self._outbox.path, dumps(event))

    def _drain_spill(self) -> bool:
        """Write spilled events to the outbox (delivery thread); False when that failed."""
        with self._spill_lock:
            rows = list(self._spill)
        if not rows:
            return True
        try:
            self._outbox.append_many(rows)
        except sqlite3.Error as err:
            log.warning("facilitation outbox: spill not written yet (%s)", err)
            self._failed("spill")
            return False
        with self._spill_lock:
            for _ in rows:
                self._spill.popleft()
        return True

    def flush(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (True) or ``timeout_s`` passed (False)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not self._spill and self._outbox.depth() == 0:
                return True
            if time.monotonic() >= deadline or not self._thread.is_alive():
                return False
            self._wake.set()
            time.sleep(0.02)

    def depth(self) -> int:
        """Events not yet acknowledged by Kafka (on disk, or spilled in memory)."""
        return self._outbox.depth() + len(self._spill)

    def stats(self) -> dict[str, int]:
        """Plain counters of this emitter (also exported as Prometheus metrics)."""
        with self._counts_lock:
            counts = dict(self._counts)
        return {**counts, "depth": self.depth()}

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what can be delivered within ``timeout_s``, then stop; rows left stay."""
        if self._stopping.is_set():
            return
        self.flush(timeout_s)
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout_s + 1)
        if self._thread.is_alive():
            log.warning("facilitation outbox: delivery thread still busy at close")
        else:
            self._drain_spill()  # the last spilled events reach the disk for the next process
        if self._spill:
            log.error("facilitation outbox: %d spilled events not written at close",
                      len(self._spill))
        self._drop_producer(timeout_s=1.0)
        self._outbox.close()

    # ------------------------------------------------------------ delivery thread

    def _run(self) -> None:
        backoff = self._backoff_initial_s
        while not self._stopping.is_set():
            try:
                delivered = self._step()
            except Exception as err:  # the thread must outlive any surprise
                log.exception("facilitation outbox: delivery step failed")
                self._failed(type(err).__name__)
                delivered = False
            if delivered:
                backoff = self._backoff_initial_s
            else:
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self._backoff_max_s)

    def _step(self) -> bool:
        """One round: wait for work or deliver one chunk. False means: back off."""
        if not self._drain_spill():
            return False
        if not self._outbox.try_lead():
            self._stopping.wait(1.0)  # another process delivers; we only append
            return True
        rows = self._outbox.peek(self._chunk_size)
        self._metrics.outbox_depth.set(self._outbox.depth())
        self._metrics.outbox_oldest_age.set(self._outbox.oldest_age_s(time.time()))
        if not rows:
            self._wake.wait(self._idle_poll_s)
            self._wake.clear()
            return True
        return self._deliver(rows)

    def _deliver(self, rows: list[OutboxRow]) -> bool:
        producer = self._producer_or_none()
        if producer is None:
            return False
        if self._stopping.is_set():  # closed while connecting: the next process sends these
            return True
        from kafka.errors import KafkaError

        pending: list[tuple[OutboxRow, Any]] = []
        failure: str | None = None
        for row in rows:
            try:
                future = producer.send(
                    row.topic, key=row.key, value=row.value,
                    headers=[("event_type", row.event_type.encode())],
                )
            except KafkaError as err:
                # Nothing after this row is sent: the next round starts again from here.
                failure = type(err).__name__
                break
            pending.append((row, future))
        acked: list[int] = []
        for row, future in pending:
            while not future.is_done and not self._stopping.is_set():
                # Returns as soon as the batch completes; a failure is examined below.
                with contextlib.suppress(KafkaError):
                    future.get(timeout=0.2)
            if future.succeeded():
                acked.append(row.seq)
            elif future.is_done:
                failure = failure or type(future.exception).__name__
            else:
                failure = failure or "stopping"
        self._outbox.delete(acked)
        self._count("delivered", len(acked))
        self._metrics.delivered.inc(len(acked))
        if failure is not None:
            self._failed(failure)
            self._drop_producer(timeout_s=0.0)
            return False
        return True

    def _producer_or_none(self) -> Any:
        if self._producer is None:
            try:
                self._producer = self._factory(self._config)
            except Exception as err:  # NoBrokersAvailable, DNS, auth ...
                self._failed(type(err).__name__)
                log.warning("facilitation outbox: Kafka %s unreachable (%s); %d events wait",
                            self._config["bootstrap_servers"], err, self._outbox.depth())
                return None
        return self._producer

    def _drop_producer(self, timeout_s: float) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=timeout_s)
            except Exception:
                log.debug("facilitation outbox: producer close failed", exc_info=True)
            self._producer = None

    def _count(self, name: str, n: int = 1) -> None:
        with self._counts_lock:
            self._counts[name] += n

    def _failed(self, reason: str) -> None:
        self._count("failures")
        self._metrics.delivery_failures.labels(reason).inc()


class NullEmitter:
    """Used when no Kafka is configured: events go to the tracking log only."""

    def emit(self, event: Event) -> None:
        return None

    def flush(self, timeout_s: float) -> bool:
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        return None


_shared: Emitter | None = None
_shared_lock = threading.Lock()


def shared_emitter(settings: EmitterSettings) -> Emitter:
    """The process-wide emitter, built on first use from the first settings seen."""
    global _shared
    if _shared is not None:
        return _shared
    with _shared_lock:
        if _shared is None:
            emitter: Emitter
            if settings.kafka_bootstrap:
                emitter = EventEmitter(
                    settings.kafka_bootstrap, settings.events_topic, settings.outbox_path,
                    producer_config=settings.producer_config,
                )
                log.info("facilitation events -> Kafka %s topic %s (outbox %s)",
                         settings.kafka_bootstrap, settings.events_topic, settings.outbox_path)
            else:
                emitter = NullEmitter()
                log.info("facilitation events: no Kafka bootstrap configured; "
                         "events go to the tracking log only")
            atexit.register(emitter.close, 2.0)
            _shared = emitter
        return _shared
