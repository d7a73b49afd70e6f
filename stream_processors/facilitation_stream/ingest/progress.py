"""A progress bar on a terminal while event files are read (ingest, replay, learners)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TextIO, TypeVar

from facilitation_stream.ingest.event_files import ReadStats

_T = TypeVar("_T")


def with_progress(events: Iterator[_T], stats: ReadStats, total: int, err: TextIO) -> Iterator[_T]:
    """A one-line progress bar on a terminal, redrawn at most 5 times a second."""
    started = shown = time.monotonic()
    for event in events:
        yield event
        now = time.monotonic()
        if now - shown >= 0.2:
            shown = now
            err.write("\r" + _bar(stats, total, now - started))
            err.flush()
    err.write("\r" + _bar(stats, total, time.monotonic() - started) + "\n")


def _bar(stats: ReadStats, total: int, elapsed: float, width: int = 30) -> str:
    done = min(stats.position / total, 1.0) if total else 1.0
    filled = int(done * width)
    rate = stats.events / elapsed if elapsed > 0 else 0.0
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {done:4.0%} "
        f"{stats.read:,} lines {stats.events:,} events {rate:,.0f}/s"
    )
