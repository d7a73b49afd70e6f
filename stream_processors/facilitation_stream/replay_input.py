"""Reading event files for the offline commands (replay, learners) in event-time order.

Inputs may be unsorted (several LMS servers, rotated logs passed in any order): all events
are read into memory and sorted stably by event time, so ties keep file order (files in the
order given, lines in file order); Python's sort is linear on input already in order. Plain
learner activity (most of a log) is held as a (time, course, learner) tuple rather than an
event (``read_replay_items``): a 1M-line log replays in about 440 MB.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from facilitation_rules.alerts import Alert
from facilitation_rules.event_codec import EventDecodeError, parse_time
from facilitation_rules.packs import Pack, PackError, load_pack
from facilitation_rules.replay import Replayer
from facilitation_rules.state import INF
from facilitation_stream.event_files import Format, ReadStats, ReplayItem, read_replay_items

EXIT_USAGE = 2


class UsageError(Exception):
    """Unusable arguments: the command prints the message and exits 2."""


def check_files(paths: Sequence[str]) -> None:
    for path in paths:
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise UsageError(f"cannot read event file: {path}")


def pack_from(path: str | None) -> Pack:
    try:
        return load_pack(path)
    except OSError as err:
        raise UsageError(f"cannot read rule pack {path}: {err.strerror or err}") from None
    except PackError as err:
        lines = "\n".join(p.format(path or "default pack") for p in err.problems)
        raise UsageError(f"the rule pack has problems:\n{lines}") from None


def time_arg(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except EventDecodeError as err:
        raise UsageError(f"{name}: {err}") from None


def load_sorted(paths: Sequence[str], fmt: Format, stats: ReadStats) -> list[ReplayItem]:
    """Every event of ``paths``, sorted by event time (stable); a progress bar on a TTY."""
    batches = read_replay_items(paths, fmt=fmt, stats=stats)
    if sys.stderr.isatty():
        from facilitation_stream.commands.ingest import _with_progress

        total = sum(os.path.getsize(path) for path in paths)
        batches = _with_progress(batches, stats, total, sys.stderr)
    items: list[ReplayItem] = []
    with _collector_paused():
        for batch in batches:
            items += batch
        items.sort(key=itemgetter(0))
    return items


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A replay allocates millions of long-lived objects and no reference cycles: the
    cyclic garbage collector would traverse them again and again and free nothing (6% of
    a 300k-line replay; more with events held in full)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class ReplayRun:
    replayer: Replayer
    alerts: list[Alert]
    until: float
    fed: int
    after_until: int
    outside_pack: int


def replay(items: list[ReplayItem], pack: Pack, until: datetime | None) -> ReplayRun:
    """Feed ``items`` up to ``until`` (default: the last event) and fire what is due by then."""
    replayer = Replayer(pack.rules_for)
    end = until.timestamp() if until is not None else INF
    applies: Callable[[str], bool] = _cached(pack.applies)
    fed = after = outside = 0
    feed, feed_activity = replayer.feed, replayer.feed_activity
    with _collector_paused():
        for t, course_id, what in items:
            if t > end:
                after = len(items) - fed - outside
                break
            if not applies(course_id):
                outside += 1
                continue
            if type(what) is str:
                feed_activity(t, course_id, what)
            else:
                feed(what, t)  # type: ignore[arg-type]  # an Event
            fed += 1
        last = end if until is not None else (items[-1][0] if items else 0.0)
        alerts = replayer.finish(last)
    return ReplayRun(replayer, alerts, last, fed, after, outside)


def _cached(check: Callable[[str], bool]) -> Callable[[str], bool]:
    seen: dict[str, bool] = {}

    def applies(course_id: str) -> bool:
        try:
            return seen[course_id]
        except KeyError:
            result = seen[course_id] = check(course_id)
            return result

    return applies
