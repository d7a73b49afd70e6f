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

import fnmatch
import gc
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

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
from facilitation_stream.ingest.event_files import Format, ReplayItem
from facilitation_stream.ingest.progress import with_progress
from facilitation_stream.ingest.read_stats import DEFAULT_OPTIONS, ReadOptions, ReadStats

EXIT_USAGE = 2
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# What a course id is to a run (see _Feeder.feed): replayed, or why not.
_KEEP, _OUTSIDE_PACK, _OUTSIDE_FILTER = 0, 1, 2


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
    except UnicodeDecodeError:
        raise UsageError(f"cannot read rule pack {path}: it is not UTF-8 text") from None
    except PackError as err:
        lines = "\n".join(p.format(path or "default pack") for p in err.problems)
        raise UsageError(f"the rule pack has problems:\n{lines}") from None


def time_arg(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time with a zone; a date alone is its midnight UTC."""
    if value is None:
        return None
    if _DATE.fullmatch(value.strip()):
        try:
            return datetime.fromisoformat(value.strip()).replace(tzinfo=UTC)
        except ValueError:
            raise UsageError(f"{name}: not a date: {value!r}") from None
    try:
        return parse_time(value)
    except EventDecodeError as err:
        example = "2025-03-01 (midnight UTC) or 2025-03-01T09:00:00Z"
        raise UsageError(f"{name}: {err}; e.g. {example}") from None


def course_filter(pattern: str | None) -> Callable[[str], bool] | None:
    """``--course``: one course id, or a glob over course ids (``course-v1:OrgX+*``)."""
    if pattern is None:
        return None
    if any(c in pattern for c in "*?["):
        return lambda course_id: fnmatch.fnmatchcase(course_id, pattern)
    return lambda course_id: course_id == pattern


def read_and_replay(
    paths: Sequence[str],
    fmt: Format,
    stats: ReadStats,
    pack: Pack,
    until: datetime | None,
    options: ReadOptions = DEFAULT_OPTIONS,
    keep: Callable[[str], bool] | None = None,
) -> ReplayRun:
    """What the replay and learners commands run: read ``paths`` in event-time order (in a
    second process when there is a core for it) and replay them; a progress bar on a TTY.
    ``keep``: the courses to replay (``--course``), within those of the pack."""
    return read_and_compare(paths, fmt, stats, [pack], until, options, keep)[0]


def read_and_compare(
    paths: Sequence[str],
    fmt: Format,
    stats: ReadStats,
    packs: Sequence[Pack],
    until: datetime | None,
    options: ReadOptions = DEFAULT_OPTIONS,
    keep: Callable[[str], bool] | None = None,
) -> list[ReplayRun]:
    """``read_and_replay`` for several packs at once: the files are read once, and each
    batch of items is fed to one replayer per pack, in turn."""
    batches: Iterable[list[ReplayItem] | Restart]
    if can_read_aside():
        batches = read_aside(paths, fmt, stats, options)
    else:
        batches = iter([load_sorted(paths, fmt, stats, options)])
    if sys.stderr.isatty():
        total = sum(os.path.getsize(path) for path in paths)
        batches = with_progress(batches, stats, total, sys.stderr)
    runs = replay_batches(batches, packs, until, keep)
    # The replay's states and alerts live until the command exits: out of the collector's
    # sight, writing the output does not pay a full pass over millions of them.
    gc.freeze()
    return runs


@dataclass(slots=True)
class ReplayRun:
    replayer: Replayer
    alerts: list[Alert]
    until: float
    fed: int
    after_until: int
    outside_pack: int
    pack: Pack | None = None
    #: events not replayed because ``--course`` leaves their course out
    outside_filter: int = 0
    #: events not replayed (the pack or ``--course`` leaves the course out), by course
    skipped_courses: Counter[str] = field(default_factory=Counter)


def replay(items: list[ReplayItem], pack: Pack, until: datetime | None) -> ReplayRun:
    """Feed ``items`` (sorted) up to ``until`` (default: the last event) and fire what is
    due by then."""
    return replay_batches([items], [pack], until)[0]


class _Feeder:
    """One pack's replay of the shared batches: what is fed, skipped and why."""

    def __init__(self, pack: Pack, end: float, keep: Callable[[str], bool] | None) -> None:
        self.pack = pack
        self.end = end
        self.keep = keep
        self.codes: dict[str, int] = {}  # course id -> _KEEP or why not (asked once)
        self.restart()

    def restart(self) -> None:
        self.replayer = Replayer(self.pack.rules_for)
        self.fed = self.after = self.outside = self.filtered = 0
        self.skipped: Counter[str] = Counter()

    def code(self, course_id: str) -> int:
        if not self.pack.applies(course_id):
            code = _OUTSIDE_PACK
        elif self.keep is not None and not self.keep(course_id):
            code = _OUTSIDE_FILTER
        else:
            code = _KEEP
        self.codes[course_id] = code
        return code

    def feed(self, batch: list[ReplayItem]) -> None:
        replayer, codes, end = self.replayer, self.codes, self.end
        fed = after = 0
        # Called as methods, not bound once: compiled, that is a direct call.
        for t, course_id, what in batch:
            if t > end:
                after += 1
                continue
            code = codes.get(course_id)
            if code is None:
                code = self.code(course_id)
            if code != _KEEP:
                if code == _OUTSIDE_PACK:
                    self.outside += 1
                else:
                    self.filtered += 1
                self.skipped[course_id] += 1
                continue
            if type(what) is str:
                replayer.feed_activity(t, course_id, what)
            else:
                replayer.feed(what, t)  # type: ignore[arg-type]  # an Event
            fed += 1
        self.fed += fed
        self.after += after

    def finish(self, last: float) -> ReplayRun:
        alerts = self.replayer.finish(last)
        return ReplayRun(
            self.replayer, alerts, last, self.fed, self.after, self.outside, self.pack,
            self.filtered, self.skipped,
        )  # fmt: skip


def replay_batches(
    batches: Iterable[list[ReplayItem] | Restart],
    packs: Sequence[Pack],
    until: datetime | None,
    keep: Callable[[str], bool] | None = None,
) -> list[ReplayRun]:
    """``replay`` of the items of ``batches`` for each pack, in order; at ``RESTART`` start
    over."""
    end = until.timestamp() if until is not None else INF
    feeders = [_Feeder(pack, end, keep) for pack in packs]
    last = 0.0
    with collector_paused():
        for batch in batches:
            if isinstance(batch, Restart):
                for feeder in feeders:
                    feeder.restart()
                last = 0.0
                continue
            for feeder in feeders:
                feeder.feed(batch)
            if batch and until is None:
                last = batch[-1][0]
        if until is not None:
            last = end
        return [feeder.finish(last) for feeder in feeders]
