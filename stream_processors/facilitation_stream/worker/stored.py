"""How the worker keeps an engine state in its table and changelog: ``Stored`` records.

Exactly-once state on an at-least-once stream: every stored record carries the offsets
of the last source messages it absorbed (per topic and source partition). A message
redelivered after a crash has an offset at or below that mark and is skipped, so a crash
never counts an event twice; alerts repeated by redelivery carry the same alert_id and
the tutor queues drop them.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from typing import Any

#: Modules whose classes changelog records written before the packages were grouped by
#: concern name (parked events and updates are pickled as objects): read them from here.
_MOVED_MODULES = {
    "facilitation_rules.events": "facilitation_rules.contract.events",
    "facilitation_rules.detectors.emit": "facilitation_rules.engine.outputs",
}


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
    state, partition, marks, due, *parked = _Unpickler(io.BytesIO(data)).load()
    return Stored(
        state=state, partition=partition, marks=marks, due=due, parked=parked[0] if parked else None
    )


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(_MOVED_MODULES.get(module, module), name)
