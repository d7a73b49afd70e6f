"""The first stage of a batch: what an events-topic message becomes.

Either the contract event to apply, or a ``Refused`` with the dead-letter reason:

- ``oversized``: the message is larger than any valid event can be (``max_event_bytes``);
  it is not even parsed.
- ``invalid`` / ``unknown-type``: the bytes are not a valid event, or name a type the
  contract does not have; ``rejected``: an id, URL or name longer than the contract allows.
- ``future``: its time is more than ``future_tolerance_s`` ahead of the worker's clock (a
  skewed LMS clock, a bad log line). It never moves a watermark: one event dated 2099 would
  otherwise make every later real event "late".
- ``late``: older than the partition's event-time watermark allows. The event comes with
  the refusal: the batch first checks whether it is a repeat of one already applied.

An admitted event moves its partition's watermark.
"""

from __future__ import annotations

from typing import NamedTuple

from facilitation_rules.contract.codec import (
    EventDecodeError,
    FieldTooLong,
    UnknownEventType,
    loads,
)
from facilitation_rules.contract.events import Event

#: Reasons that mean the message itself is malformed (counted as such).
MALFORMED = frozenset({"invalid", "unknown-type", "oversized", "rejected"})


class Refused(NamedTuple):
    reason: str
    detail: str
    event: Event | None = None


class Intake:
    def __init__(
        self,
        watermarks: dict[int, float],
        *,
        lateness_s: float,
        future_tolerance_s: float,
        max_bytes: int,
    ) -> None:
        #: Event-time watermark per events partition (the worker's): the latest admitted
        #: event time there.
        self.watermarks = watermarks
        self.lateness_s = lateness_s
        self.future_tolerance_s = future_tolerance_s
        self.max_bytes = max_bytes

    def admit(self, value: bytes | None, partition: int, now: float) -> Event | Refused:
        size = len(value or b"")
        if size > self.max_bytes:
            return Refused("oversized", f"{size:,} bytes, at most {self.max_bytes:,}")
        try:
            event = loads(value or b"")
        except UnknownEventType as err:
            return Refused("unknown-type", str(err))
        except FieldTooLong as err:
            return Refused("rejected", str(err))
        except EventDecodeError as err:
            return Refused("invalid", str(err))
        occurred = event.occurred_at.timestamp()
        if occurred > now + self.future_tolerance_s:
            return Refused("future", f"{occurred - now:.0f}s ahead of the worker's clock")
        watermarks = self.watermarks
        watermark = watermarks.get(partition, occurred)
        if occurred < watermark - self.lateness_s:
            return Refused("late", f"{watermark - occurred:.0f}s behind", event)
        watermarks[partition] = max(watermark, occurred)
        return event
