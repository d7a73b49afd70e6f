"""Reading event files for the offline commands (replay, learners) in event-time order.

Inputs may be unsorted (several LMS servers, rotated logs passed in any order): events are
replayed in stable event-time order, so ties keep file order (files in the order given,
lines in file order). With a spare core a child process reads while the rules run and
streams the items in that order (``replay_reader``: a window of an hour of disorder
streams, more makes it read again and sort everything); otherwise everything is read
into memory and sorted (Python's sort is linear on input already in order). Plain learner
activity (most of a log) is held as a (time, course, learner) tuple rather than an event
(``read_replay_items``): a 1M-line log sorted in memory takes about 440 MB.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.codec import EventDecodeError, parse_time
from facilitation_rules.engine.replay import Replayer
from facilitation_rules.packs.loader import Pack, PackError, load_pack
from facilitation_rules.state import INF
from facilitation_stream.backtest.reader_process import (
    Restart,
    can_read_aside,
    collector_paused,
    load_sorted,
    read_aside,
)
from facilitation_stream.ingest.event_files import Format, ReadStats, ReplayItem
from facilitation_stream.ingest.progress import with_progress

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


def read_and_replay(
    paths: Sequence[str], fmt: Format, stats: ReadStats, pack: Pack, until: datetime | None
) -> ReplayRun:
    """What the replay and learners commands run: read ``paths`` in event-time order (in a
    second process when there is a core for it) and replay them; a progress bar on a TTY."""
    batches: Iterable[list[ReplayItem] | Restart]
    if can_read_aside():
        batches = read_aside(paths, fmt, stats)
    else:
        batches = iter([load_sorted(paths, fmt, stats)])
    if sys.stderr.isatty():
        total = sum(os.path.getsize(path) for path in paths)
        batches = with_progress(batches, stats, total, sys.stderr)
    run = replay_batches(batches, pack, until)
    # The replay's states and alerts live until the command exits: out of the collector's
    # sight, writing the output does not pay a full pass over millions of them.
    gc.freeze()
    return run


@dataclass(slots=True)
class ReplayRun:
    replayer: Replayer
    alerts: list[Alert]
    until: float
    fed: int
    after_until: int
    outside_pack: int


def replay(items: list[ReplayItem], pack: Pack, until: datetime | None) -> ReplayRun:
    """Feed ``items`` (sorted) up to ``until`` (default: the last event) and fire what is
    due by then."""
    return replay_batches([items], pack, until)


def replay_batches(
    batches: Iterable[list[ReplayItem] | Restart], pack: Pack, until: datetime | None
) -> ReplayRun:
    """``replay`` of the items of ``batches``, in order; at ``RESTART`` start over."""
    end = until.timestamp() if until is not None else INF
    applies: dict[str, bool] = {}  # course id -> whether the pack applies (asked once)
    replayer = Replayer(pack.rules_for)
    fed = after = outside = 0
    last = 0.0
    with collector_paused():
        for batch in batches:
            if isinstance(batch, Restart):
                replayer = Replayer(pack.rules_for)
                fed = after = outside = 0
                last = 0.0
                continue
            # Called as methods, not bound once: compiled, that is a direct call.
            for t, course_id, what in batch:
                if t > end:
                    after += 1
                    continue
                ok = applies.get(course_id)
                if ok is None:
                    ok = applies[course_id] = pack.applies(course_id)
                if not ok:
                    outside += 1
                    continue
                if type(what) is str:
                    replayer.feed_activity(t, course_id, what)
                else:
                    replayer.feed(what, t)  # type: ignore[arg-type]  # an Event
                fed += 1
            if batch and until is None:
                last = batch[-1][0]
        if until is not None:
            last = end
        alerts = replayer.finish(last)
    return ReplayRun(replayer, alerts, last, fed, after, outside)
