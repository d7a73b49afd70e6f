"""The outbox in the LMS database: what a multi-pod LMS keeps (no per-pod disk needed).

Appends are inserts in the caller's transaction, so a post and its event commit together,
or neither does. A failed insert must not break the caller's transaction: on MySQL,
MariaDB and SQLite a failed statement is undone alone, so the insert goes straight into
it (a savepoint costs two round trips on the learner's request); PostgreSQL aborts the
whole transaction on an error, so there the insert gets a savepoint.

Every LMS process runs a sender; a sender drains one shard at a time, and the database
decides which:

- MySQL 8 / MariaDB 10.6+ / PostgreSQL: the sender locks the shard's row with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` (others skip to another shard), sends the shard's
  oldest rows, deletes those Kafka acknowledged and commits; a sender that dies releases
  its lock with its connection, and its rows are sent again.
- SQLite (and any database without SKIP LOCKED): the sender takes a lease on the shard's
  row (an UPDATE guarded by the lease's expiry, which the database serializes), sends and
  deletes outside any long transaction, then gives the lease back; a lease outlives the
  longest chunk (the producer's 30 s delivery time-out), and a dead sender's lease expires.

Rows are read in ``id`` order: events of one key (one shard) leave in the order their
transactions made them visible, which keeps every causal order (a reply is stored after
the thread it answers).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.db.models import F, Max, Q

from facilitation_xblocks.outbox.rows import SHARDS, Deliver, OutboxRow, PendingRow
from facilitation_xblocks.plugin.models import OutboxEvent, OutboxShard

LEASE_S = 60.0


_COLUMNS = ("shard", "topic", "key", "value", "event_id", "event_type", "enqueued_at")


def _insert_sql(conn: Any) -> str:
    """A plain INSERT (the ORM's bulk_create costs about as much again on a request)."""
    quote = conn.ops.quote_name
    columns = ", ".join(quote(c) for c in _COLUMNS)
    values = ", ".join(["%s"] * len(_COLUMNS))
    return f"INSERT INTO {quote(OutboxEvent._meta.db_table)} ({columns}) VALUES ({values})"


class DatabaseOutbox:
    name = "database"
    errors: tuple[type[BaseException], ...] = (DatabaseError,)

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self.owner = f"{os.uname().nodename[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._next_shard = 0

    @property
    def skip_locked(self) -> bool:
        conn = connections[self.using]
        return bool(conn.features.has_select_for_update_skip_locked) and conn.vendor != "sqlite"

    # ------------------------------------------------------------ request side

    def append(self, rows: Sequence[PendingRow]) -> None:
        """Insert ``rows`` in the current transaction, else in a transaction of their own."""
        conn = connections[self.using]
        if conn.in_atomic_block and conn.vendor != "postgresql":
            self._insert(conn, rows)
            return
        with transaction.atomic(using=self.using):
            self._insert(conn, rows)

    def _insert(self, conn: Any, rows: Sequence[PendingRow]) -> None:
        now = time.time()
        values = [(r.shard, r.topic, r.key.decode(), r.value.decode(), r.event_id,
                   r.event_type, now) for r in rows]
        with conn.cursor() as cursor:
            if len(values) == 1:  # the request's case: executemany's rewriting costs more
                cursor.execute(_insert_sql(conn), values[0])
            else:
                cursor.executemany(_insert_sql(conn), values)

    # ------------------------------------------------------------ sender side

    def drain(self, limit: int, deliver: Deliver) -> int:
        self._usable_connection()
        for shard in self._rotation():
            offered = (self._drain_locked if self.skip_locked else self._drain_leased)(
                shard, limit, deliver)
            if offered:
                return offered
        return 0

    def _rotation(self) -> list[int]:
        """Shards with rows, starting after the last one this sender drained (fairness)."""
        pending = sorted(OutboxEvent.objects.using(self.using).values_list("shard", flat=True)
                         .distinct())
        start = self._next_shard
        ordered = [s for s in pending if s >= start] + [s for s in pending if s < start]
        return ordered

    def _rows(self, shard: int, limit: int) -> list[OutboxRow]:
        rows = (OutboxEvent.objects.using(self.using).filter(shard=shard).order_by("id")
                .values_list("id", "topic", "key", "value", "event_id", "event_type",
                             "enqueued_at")[:limit])
        return [OutboxRow(seq, topic, key.encode(), value.encode(), event_id, event_type, at)
                for seq, topic, key, value, event_id, event_type, at in rows]

    def _drain_locked(self, shard: int, limit: int, deliver: Deliver) -> int:
        with transaction.atomic(using=self.using):
            mine = (OutboxShard.objects.using(self.using).select_for_update(skip_locked=True)
                    .filter(pk=shard).values_list("pk", flat=True))
            if not list(mine):
                return 0  # another sender drains it now
            rows = self._rows(shard, limit)
            if rows:
                self._forget(shard, deliver(rows))
        return len(rows)

    def _drain_leased(self, shard: int, limit: int, deliver: Deliver) -> int:
        shards = OutboxShard.objects.using(self.using)
        now = time.time()
        with transaction.atomic(using=self.using):
            taken = shards.filter(Q(lease_until__lt=now) | Q(owner=self.owner), pk=shard).update(
                owner=self.owner, lease_until=now + LEASE_S)
        if not taken:
            return 0
        try:
            rows = self._rows(shard, limit)
            if rows:
                acked = deliver(rows)
                with transaction.atomic(using=self.using):
                    # Acknowledged rows are forgotten even if the lease ran out meanwhile:
                    # their next sender would only send them again.
                    self._forget(shard, acked)
            return len(rows)
        finally:
            self._release(shard)

    def _release(self, shard: int) -> None:
        with transaction.atomic(using=self.using):
            OutboxShard.objects.using(self.using).filter(pk=shard, owner=self.owner).update(
                owner="", lease_until=0.0)

    def _forget(self, shard: int, seqs: list[int]) -> None:
        self._next_shard = (shard + 1) % SHARDS
        if not seqs:
            return
        OutboxEvent.objects.using(self.using).filter(id__in=seqs).delete()
        OutboxShard.objects.using(self.using).filter(pk=shard).update(
            delivered_at=time.time(), delivered_total=F("delivered_total") + len(seqs))

    def _usable_connection(self) -> None:
        """A sender thread outlives database restarts and server-side time-outs."""
        connections[self.using].close_if_unusable_or_obsolete()

    # ------------------------------------------------------------ observing

    def depth(self) -> int:
        return OutboxEvent.objects.using(self.using).count()

    def oldest_age_s(self, now: float) -> float:
        oldest = (OutboxEvent.objects.using(self.using).order_by("id")
                  .values_list("enqueued_at", flat=True).first())
        return 0.0 if oldest is None else max(0.0, now - oldest)

    def last_delivery(self) -> tuple[float | None, int]:
        """(When Kafka last acknowledged a row of this outbox, rows delivered in all)."""
        shards = OutboxShard.objects.using(self.using)
        at = shards.aggregate(at=Max("delivered_at"))["at"]
        return (at or None), int(sum(shards.values_list("delivered_total", flat=True)))

    def sender_exit(self) -> None:
        connections[self.using].close()  # the sender thread's own connection

    def close(self) -> None:
        """Nothing to do: Django owns each thread's connection."""
