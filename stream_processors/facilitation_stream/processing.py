"""What the Faust worker needs from an engine, and how it stores engine state in a table.

The worker is a thin adapter: it hands each event (or derived update, or tick) for one
subject to a ``SubjectEngine`` — pure functions of (state, item) and (state, now) — and
persists whatever state comes back. The rules engine implements this protocol; tests can
hand the worker a small engine of their own through ``facilitation worker --engine``.

Exactly-once state on an at-least-once stream: every stored record carries the offsets
of the last source messages it absorbed (per topic and source partition). A message
redelivered after a crash has an offset at or below that mark and is skipped, so a crash
never counts an event twice; alerts repeated by redelivery carry the same alert_id and
the tutor queues drop them.
"""

from __future__ import annotations

import importlib
import pickle
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from facilitation_rules.alerts import Alert
from facilitation_rules.events import Event


@dataclass(slots=True)
class Step:
    """The outcome of applying one item to one subject."""

    state: Any | None
    alerts: list[Alert] = field(default_factory=list)
    #: Updates for other subjects: (subject key, item), sent through the updates topic.
    derived: list[tuple[str, Any]] = field(default_factory=list)
    #: The subject's next deadline (UTC epoch seconds), or None for none.
    next_due: float | None = None
    #: False when the state is unchanged: the worker then writes nothing to the table.
    changed: bool = True
    #: Why the item cannot be used (e.g. a reply to an unknown thread): dead-lettered.
    rejected: str | None = None


class SubjectEngine(Protocol):
    def subject_key(self, event: Event) -> str:
        """The key of the subject an incoming event belongs to (= its Kafka key)."""

    def apply(self, key: str, state: Any | None, item: Any) -> Step:
        """Apply an event or a derived update to one subject's state."""

    def tick(self, key: str, state: Any | None, now: datetime) -> Step:
        """Fire the subject's deadlines due at or before ``now``."""

    def reload(self, source: str) -> None:
        """Validate and switch to a new rule pack; raise ValueError with the problems."""

    def restore(self, key: str, state: Any) -> None:
        """A state recovered from the changelog after a (re)start or a rebalance."""


def load_engine(spec: str, rules_path: str | None) -> SubjectEngine:
    """Build the engine named ``module:factory``; the factory gets the rule-pack path."""
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    engine: SubjectEngine = factory(rules_path)
    return engine


@dataclass(slots=True)
class Stored:
    """One table value: the engine's state plus the dedup marks of its sources."""

    state: Any
    partition: int
    #: Flat (source, offset, source, offset, ...): a tuple takes a third of a dict's bytes,
    #: and a subject hears from only a few sources.
    marks: tuple[Any, ...] = ()
    #: The next deadline (epoch seconds): rebuilds the due index after recovery.
    due: float | None = None
    #: Items read before the subject they need (a reply before its post, which another
    #: partition still carries): applied once it exists, dead-lettered if it never comes.
    #: Each: (origin, seq, item, why rejected, source topic, partition, offset).
    parked: list[tuple[Any, ...]] | None = None

    def seen(self, source: str, offset: int) -> bool:
        marks = self.marks
        for i in range(0, len(marks), 2):
            if marks[i] == source:
                return bool(marks[i + 1] >= offset)
        return False

    def marked(self, source: str, offset: int) -> tuple[Any, ...]:
        """The marks with ``source`` absorbed up to ``offset``."""
        marks = self.marks
        for i in range(0, len(marks), 2):
            if marks[i] == source:
                return (*marks[: i + 1], offset, *marks[i + 2 :])
        return (*marks, source, offset)


def encode_stored(value: Stored) -> bytes:
    # The changelog is written and read only by this engine's workers: pickle is fast and
    # compact here; it never carries input from outside.
    record = (value.state, value.partition, value.marks, value.due)
    return pickle.dumps((*record, value.parked) if value.parked else record, protocol=5)


def decode_stored(data: bytes) -> Stored:
    state, partition, marks, due, *parked = pickle.loads(data)  # internal changelog only
    return Stored(
        state=state, partition=partition, marks=marks, due=due, parked=parked[0] if parked else None
    )
