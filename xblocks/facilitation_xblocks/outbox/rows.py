"""What waits in an outbox: a contract event as a Kafka record, before and after it is stored.

Every outbox (the SQLite file of ``sqlite_file``, the LMS database of the plugin app) keeps
``PendingRow``s in insertion order and hands them to a sender as ``OutboxRow``s through
``OutboxStore.drain``. Rows are spread over ``SHARDS`` shards by their Kafka key: one sender
at a time drains a shard, oldest row first, so the events of one key leave in the order
they were stored while several senders drain different shards.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import Event

#: Fixed: a row's shard must not change while it waits (the database outbox stores it).
SHARDS = 16


def shard_of(key: bytes) -> int:
    """The shard of a Kafka key; crc32, the same in every process (unlike ``hash``)."""
    return zlib.crc32(key) % SHARDS


@dataclass(frozen=True, slots=True)
class PendingRow:
    """An event ready to store: its topic, Kafka key and value, and what identifies it."""

    topic: str
    key: bytes
    value: bytes
    event_id: str
    event_type: str

    @classmethod
    def of(cls, topic: str, event: Event) -> PendingRow:
        return cls(topic, event.partition_key().encode(), dumps(event).encode(),
                   event.event_id, event.event_type)

    @property
    def shard(self) -> int:
        return shard_of(self.key)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A stored row; ``seq`` orders rows (and names the row to delete once acknowledged)."""

    seq: int
    topic: str
    key: bytes
    value: bytes
    event_id: str
    event_type: str
    enqueued_at: float


#: Sends rows to Kafka in order; returns the ``seq`` of every row the broker acknowledged.
Deliver = Callable[[list[OutboxRow]], list[int]]


class OutboxStore(Protocol):
    """Where events wait. ``append`` runs on the learner's request; the rest in a sender."""

    #: for log lines: the file, or "database"
    name: str
    #: what ``append`` raises when the store is busy or unavailable (the event is spilled)
    errors: tuple[type[BaseException], ...]

    def append(self, rows: Sequence[PendingRow]) -> None: ...

    def drain(self, limit: int, deliver: Deliver) -> int:
        """Claim up to ``limit`` rows of one shard no other sender holds, oldest first, pass
        them to ``deliver`` and forget those it acknowledged. Returns how many rows were
        offered: 0 when there was nothing this sender may send now."""
        ...

    def depth(self) -> int: ...

    def oldest_age_s(self, now: float) -> float: ...

    def sender_exit(self) -> None:
        """Called by the sender thread as it ends: release what it held (a connection)."""
        ...

    def close(self) -> None: ...
