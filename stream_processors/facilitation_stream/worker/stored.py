"""How the worker keeps an engine state in its table and changelog: ``Stored`` records.

Exactly-once state on an at-least-once stream: every stored record carries the offsets
of the last source messages it absorbed (per topic and source partition). A message
redelivered after a crash has an offset at or below that mark and is skipped, so a crash
never counts an event twice; alerts repeated by redelivery carry the same alert_id and
the tutor queues drop them.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass
from typing import Any

from facilitation_rules.contract.events import (
    Event,
    PostCreated,
    ReflectionCommented,
    ReflectionSubmitted,
)

#: Events a learner writes: the engine counts each one (posts, reflections), so one applied
#: twice would count twice. A subject remembers the ids of the last ``IDS_KEPT`` of them
#: it absorbed, and a re-published one is recognised by its ``event_id``. Every other
#: event changes nothing when applied twice (see ``SubjectEngine.repeats``).
AUTHORED = (PostCreated, ReflectionSubmitted, ReflectionCommented)
IDS_KEPT = 64

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
    #: Digests of the ``event_id``s of the last authored events absorbed (``AUTHORED``).
    ids: tuple[int, ...] = ()

    def absorbed(self, event: Event) -> bool:
        return event_digest(event) in self.ids

    def with_id(self, event: Event) -> tuple[int, ...]:
        """The ids with ``event``'s added (the oldest dropped past ``IDS_KEPT``)."""
        return (*self.ids[-(IDS_KEPT - 1) :], event_digest(event))

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


def event_digest(event: Event) -> int:
    # Not hash(): it differs between processes, and the digests are stored.
    return int.from_bytes(hashlib.blake2b(event.event_id.encode(), digest_size=8).digest())


def encode_stored(value: Stored) -> bytes:
    # The changelog is written and read only by this engine's workers: pickle is fast and
    # compact here; it never carries input from outside. Trailing fields only when set.
    record: tuple[Any, ...] = (value.state, value.partition, value.marks, value.due)
    if value.ids:
        record = (*record, value.parked, value.ids)
    elif value.parked:
        record = (*record, value.parked)
    return pickle.dumps(record, protocol=5)


def decode_stored(data: bytes) -> Stored:
    state, partition, marks, due, *rest = _Unpickler(io.BytesIO(data)).load()
    return Stored(
        state=state,
        partition=partition,
        marks=marks,
        due=due,
        parked=rest[0] if rest else None,
        ids=rest[1] if len(rest) > 1 else (),
    )


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(_MOVED_MODULES.get(module, module), name)
