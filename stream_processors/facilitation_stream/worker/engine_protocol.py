"""What the Faust worker needs from an engine (``SubjectEngine``) and gets back (``Step``).

The worker is a thin adapter: it hands each event (or derived update, or tick) for one
subject to a ``SubjectEngine`` — pure functions of (state, item) and (state, now) — and
persists whatever state comes back (``stored``). The rules engine implements this
protocol (``rules_engine``); tests can hand the worker a small engine of their own
through ``facilitation worker --engine``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.events import Event


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

    def repeats(self, key: str, state: Any | None, event: Event) -> bool:
        """Whether ``event`` is already in ``state`` (a re-published event); asked of events
        too old to apply. Must not change ``state``."""

    def tick(self, key: str, state: Any | None, now: datetime) -> Step:
        """Fire the subject's deadlines due at or before ``now``."""

    def reload(self, source: str) -> None:
        """Validate and switch to a new rule pack; raise ValueError with the problems."""

    def restore(self, key: str, state: Any) -> None:
        """A state recovered from the changelog after a (re)start or a rebalance."""

    def export_counts(self) -> None:
        """Put what the engine counted since the last call into metrics (from a timer)."""


def load_engine(spec: str, rules_path: str | None) -> SubjectEngine:
    """Build the engine named ``module:factory``; the factory gets the rule-pack path."""
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    engine: SubjectEngine = factory(rules_path)
    return engine
