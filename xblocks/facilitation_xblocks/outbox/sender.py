"""The sender: a daemon thread per process that drains an outbox to Kafka.

Rows go out through an idempotent kafka-python producer (acks=all, one request in flight
per connection, so the records of one key keep their order) and are forgotten only once
the broker acknowledged them. Kafka down or slow costs the learner nothing: rows wait in
the outbox, survive a restart, and leave when the broker is back. Delivery is at least
once; a row acknowledged but not yet forgotten when the process dies is sent again with
the same ``event_id``, which consumers deduplicate. Several senders (processes, pods) may
drain one database outbox at once: each claims a shard (``OutboxStore.drain``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from facilitation_xblocks.outbox.metrics import XBlockMetrics
from facilitation_xblocks.outbox.rows import OutboxRow, OutboxStore

log = logging.getLogger(__name__)

ProducerFactory = Callable[[dict[str, Any]], Any]
#: Runs before each round in the sender thread; False means "failed, back off".
Housekeeping = Callable[[], bool]
_GAUGES_EVERY_S = 1.0  # depth and age queries are not free on a large database outbox


def kafka_producer(config: dict[str, Any]) -> Any:
    from kafka import KafkaProducer

    return KafkaProducer(**config)


def producer_config(bootstrap: str, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "bootstrap_servers": bootstrap.split(","),
        "acks": "all",
        "enable_idempotence": True,
        # One request in flight: a retried batch can never overtake the next one.
        "max_in_flight_requests_per_connection": 1,
        "linger_ms": 5,
        # A chunk's records in few, large batches: per-batch wake-ups dominated the drain.
        "batch_size": 256 * 1024,
        "max_block_ms": 10_000,  # send() waits this long for metadata, then we back off
        # A chunk ends within this: a database shard lease (60 s) outlives every chunk.
        "request_timeout_ms": 10_000,
        "delivery_timeout_ms": 30_000,
        "bootstrap_timeout_ms": 5_000,
        "reconnect_backoff_max_ms": 2_000,
        "client_id": "facilitation-xblocks",
        **(extra or {}),
    }


class OutboxSender:
    """Drains ``store`` to the Kafka at ``bootstrap`` from its own daemon thread."""

    def __init__(
        self,
        store: OutboxStore,
        bootstrap: str,
        *,
        producer_config_extra: Mapping[str, Any] | None = None,
        metrics: XBlockMetrics,
        housekeeping: Housekeeping | None = None,
        chunk_size: int = 2000,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 5.0,
        idle_poll_s: float = 0.25,
        producer_factory: ProducerFactory = kafka_producer,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._config = producer_config(bootstrap, producer_config_extra)
        self._factory = producer_factory
        self._producer: Any = None
        self._housekeeping = housekeeping
        self._chunk_size = chunk_size
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._idle_poll_s = idle_poll_s
        self._failure: str | None = None
        self._gauges_at = 0.0
        self.wake = threading.Event()
        self._stopping = threading.Event()
        self._counts_lock = threading.Lock()
        self.counts = {"delivered": 0, "failures": 0}
        self.last_delivery: float | None = None
        self._thread = threading.Thread(target=self._run, name="facilitation-outbox", daemon=True)
        self._thread.start()

    @property
    def bootstrap(self) -> list[str]:
        return list(self._config["bootstrap_servers"])

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_s: float) -> bool:
        """Stop after the current round; True when the thread ended within ``timeout_s``."""
        self._stopping.set()
        self.wake.set()
        self._thread.join(timeout_s)
        self._drop_producer(timeout_s=1.0)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._store.sender_exit()

    def _loop(self) -> None:
        backoff = self._backoff_initial_s
        while not self._stopping.is_set():
            try:
                ok = self._round()
            except Exception as err:  # the thread must outlive any surprise
                log.exception("facilitation outbox: delivery round failed")
                self.failed(type(err).__name__)
                ok = False
            if ok:
                backoff = self._backoff_initial_s
            else:
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self._backoff_max_s)

    def _round(self) -> bool:
        """Deliver one chunk, or wait for work. False means: back off."""
        if self._housekeeping is not None and not self._housekeeping():
            return False
        self._update_gauges()
        self._failure = None
        offered = self._store.drain(self._chunk_size, self._deliver)
        if self._failure is not None:
            self.failed(self._failure)
            self._drop_producer(timeout_s=0.0)
            return False
        if offered == 0:
            self.wake.wait(self._idle_poll_s)
            self.wake.clear()
        return True

    def _update_gauges(self) -> None:
        now = time.time()
        if now - self._gauges_at >= _GAUGES_EVERY_S:
            self._gauges_at = now
            self._metrics.outbox_depth.set(self._store.depth())
            self._metrics.outbox_oldest_age.set(self._store.oldest_age_s(now))

    def _deliver(self, rows: list[OutboxRow]) -> list[int]:
        """Send ``rows`` in order; the seqs acknowledged, none after a failure of their key."""
        producer = self._producer_or_none()
        if producer is None or self._stopping.is_set():
            self._failure = self._failure or "stopping"
            return []  # closed while connecting: the next process sends these
        from kafka.errors import KafkaError

        pending: list[tuple[OutboxRow, Any]] = []
        for row in rows:
            try:
                future = producer.send(row.topic, key=row.key, value=row.value,
                                       headers=[("event_type", row.event_type.encode())])
            except KafkaError as err:
                # Nothing after this row is sent: the next round starts again from here.
                self._failure = type(err).__name__
                break
            pending.append((row, future))
        acked: list[int] = []
        failed_keys: set[bytes] = set()
        for row, future in pending:
            while not future.is_done and not self._stopping.is_set():
                # Returns as soon as the batch completes; a failure is examined below.
                with contextlib.suppress(KafkaError):
                    future.get(timeout=0.2)
            if future.is_done and future.succeeded() and row.key not in failed_keys:
                acked.append(row.seq)
                continue
            # A later row of a failed key stays too, so the key's order holds on the retry.
            failed_keys.add(row.key)
            if self._failure is None:
                self._failure = type(future.exception).__name__ if future.is_done else "stopping"
        if acked:
            self.last_delivery = time.time()
            self._count("delivered", len(acked))
            self._metrics.delivered.inc(len(acked))
        return acked

    def _producer_or_none(self) -> Any:
        if self._producer is None:
            try:
                self._producer = self._factory(self._config)
            except Exception as err:  # NoBrokersAvailable, DNS, auth ...
                self._failure = type(err).__name__
                log.warning("facilitation outbox: Kafka %s unreachable (%s); events wait in %s",
                            self._config["bootstrap_servers"], err, self._store.name)
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
            self.counts[name] += n

    def failed(self, reason: str) -> None:
        self._count("failures")
        self._metrics.delivery_failures.labels(reason).inc()
