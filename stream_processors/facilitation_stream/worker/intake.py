"""The first stage of a batch: what an events-topic message becomes.

Either the contract event to apply, or a ``Refused`` with the dead-letter reason: the bytes
are not a valid event (``invalid``), name a type the contract does not have
(``unknown-type``), or come later than the partition's event-time watermark allows
(``late``). An admitted event moves its partition's watermark.
"""

from __future__ import annotations

from typing import NamedTuple

from facilitation_rules.contract.codec import EventDecodeError, UnknownEventType, loads
from facilitation_rules.contract.events import Event

#: Reasons that mean the message itself is malformed (counted as such).
MALFORMED = frozenset({"invalid", "unknown-type"})


class Refused(NamedTuple):
    reason: str
    detail: str


def admit(
    value: bytes, partition: int, watermarks: dict[int, float], lateness_s: float
) -> Event | Refused:
    try:
        event = loads(value)
    except UnknownEventType as err:
        return Refused("unknown-type", str(err))
    except EventDecodeError as err:
        return Refused("invalid", str(err))
    occurred = event.occurred_at.timestamp()
    watermark = watermarks.get(partition, occurred)
    if occurred < watermark - lateness_s:
        return Refused("late", f"{watermark - occurred:.0f}s behind")
    watermarks[partition] = max(watermark, occurred)
    return event
