"""The due index: which subjects need a tick, and when.

One entry per subject: the earliest time its state says something may become due. Keys
are kept in buckets per due time with a heap of the distinct times, because many subjects
share one: every learner's daily dropout evaluation falls on the pack's hour, and a heap
of (time, key) pairs would then order them by comparing long keys (3 µs a pop at 400k
entries, against well under 1 µs here). Lazy cancellation: rescheduling later leaves the
old entry in place and it is skipped (or re-armed by the subject's tick) when popped;
rescheduling earlier adds a new entry. ``pop_due(now)`` touches only entries due at or
before ``now``, so the cost of a tick grows with the number of due items, never with the
number of tracked learners or threads. Keys due at the same time come out in the order
they were scheduled.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from typing import Any


class DueIndex:
    __slots__ = ("_buckets", "_scheduled", "_times")

    def __init__(self) -> None:
        self._times: list[float] = []  # a heap of the distinct due times in ``_buckets``
        #: due time -> its keys; a lone key is kept as the str itself (most times have one
        #: key: a list would add 64 bytes per tracked subject)
        self._buckets: dict[float, Any] = {}  # str | list[str]
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
            bucket = self._buckets.get(due)
            if bucket is None:
                self._buckets[due] = key
                heapq.heappush(self._times, due)
            elif bucket.__class__ is str:
                self._buckets[due] = [bucket, key]
            else:
                bucket.append(key)

    def next_due(self) -> float:
        """The earliest scheduled time (``inf`` when nothing is scheduled)."""
        times, buckets, scheduled = self._times, self._buckets, self._scheduled
        while times:
            due = times[0]
            bucket = buckets[due]
            if bucket.__class__ is str:
                if scheduled.get(bucket) == due:
                    return due
            else:
                for i, key in enumerate(bucket):
                    if scheduled.get(key) == due:
                        if i:
                            del bucket[:i]  # the stale front, once
                        return due
            heapq.heappop(times)  # every entry is stale: rescheduled earlier or popped
            del buckets[due]
        return math.inf

    def pop_due(self, now: float) -> Iterator[tuple[float, str]]:
        """Yield ``(due, key)`` for every live entry due at or before ``now``, earliest first.

        A key popped here is no longer scheduled; the caller ticks the subject and
        schedules its next due time (which may be popped again in the same call).
        """
        times, buckets, scheduled = self._times, self._buckets, self._scheduled
        while times and times[0] <= now:
            due = heapq.heappop(times)
            i = 0
            try:
                # The caller may add to this time's keys while we yield: read them afresh.
                while True:
                    bucket = buckets[due]
                    if bucket.__class__ is str:
                        bucket = [bucket]
                        buckets[due] = bucket
                    if i >= len(bucket):
                        break
                    key = bucket[i]
                    i += 1
                    if scheduled.get(key) == due:
                        del scheduled[key]
                        yield due, key
            finally:
                rest = buckets.pop(due)[i:]
                if rest:  # the caller stopped early: keep the rest scheduled
                    buckets[due] = rest
                    heapq.heappush(times, due)
