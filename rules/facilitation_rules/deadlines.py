"""The due index: which subjects need a tick, and when.

One entry per subject: the earliest time its state says something may become due. A heap
with lazy cancellation: rescheduling later leaves the old entry in place and it is skipped
(or re-armed by the subject's tick) when popped; rescheduling earlier pushes a new entry.
``pop_due(now)`` touches only entries due at or before ``now``, so the cost of a tick grows
with the number of due items, never with the number of tracked learners or threads.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator


class DueIndex:
    __slots__ = ("_heap", "_scheduled")

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._scheduled: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._scheduled)

    def schedule(self, key: str, due: float) -> None:
        """Make sure ``key`` is popped no later than ``due`` (no-op if already earlier)."""
        if due == math.inf:
            return
        current = self._scheduled.get(key)
        if current is None or due < current:
            self._scheduled[key] = due
            heapq.heappush(self._heap, (due, key))

    def next_due(self) -> float:
        """The earliest scheduled time (``inf`` when nothing is scheduled)."""
        heap, scheduled = self._heap, self._scheduled
        while heap and scheduled.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)  # stale: rescheduled earlier or already popped
        return heap[0][0] if heap else math.inf

    def pop_due(self, now: float) -> Iterator[tuple[float, str]]:
        """Yield ``(due, key)`` for every live entry due at or before ``now``, earliest first.

        A key popped here is no longer scheduled; the caller ticks the subject and
        schedules its next due time (which may be popped again in the same call).
        """
        heap, scheduled = self._heap, self._scheduled
        while heap and heap[0][0] <= now:
            due, key = heapq.heappop(heap)
            if scheduled.get(key) == due:
                del scheduled[key]
                yield due, key
