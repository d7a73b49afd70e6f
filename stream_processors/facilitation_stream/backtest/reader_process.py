"""Reading event files for replay in a second process, in event-time order, while the rules run.

Replay needs every event in stable event-time order (ties in file order). Reading and
parsing a log costs about as much as the rules, so on a machine with more than one core a
child process reads and the parent runs the rules on what it has read so far.

The child releases items once they are ``LAG`` seconds older than the newest event read,
sorted within that window, so a log written by several LMS processes (slightly out of
order) streams as it is. That is exactly the stable sort of the whole input unless an item
arrives older than something already released; then the child says ``RESTART``, reads
the files again and sorts everything, and the parent starts over with fresh state. Either
way the parent sees the same items in the same order as ``replay_input.load_sorted`` gives.
Memory: the child holds only the window, the parent only the rules' state.
"""

from __future__ import annotations

import fcntl
import gc
import multiprocessing
import os
import pickle
import signal
import threading
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from operator import itemgetter
from typing import Any, Final

from facilitation_stream import item_codec
from facilitation_stream.ingest.event_files import Format, ReplayItem, read_replay_items
from facilitation_stream.ingest.read_stats import DEFAULT_OPTIONS, ReadOptions, ReadStats

#: How far back in event time a record may arrive and still stream (else: full sort).
LAG: Final = 3600.0


class Restart:
    """What the stream yields before starting over: forget every item yielded so far."""


RESTART: Final = Restart()
_PIPE_BYTES = 1 << 20  # Linux's default pipe-max-size
_ITEMS, _RESTART, _DONE, _FAILED = range(4)
_first = itemgetter(0)


def can_read_aside() -> bool:
    """Whether a second process helps and can start at once: more than one core for us,
    ``fork``, and no other thread (a lock held by one would stay held in the child)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        (cores or 1) > 1
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def read_aside(
    paths: Sequence[str], fmt: Format, stats: ReadStats, options: ReadOptions = DEFAULT_OPTIONS
) -> Iterator[list[ReplayItem] | Restart]:
    """Batches of items in stable event-time order, read by a child process; ``RESTART``
    when the order failed (the batches after it start from the beginning). ``stats`` is
    kept current (read, events, position) and complete once the iterator is exhausted."""
    # fork: the child starts at once with everything imported; the CLI has no threads here
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    _widen(sender)
    child = context.Process(
        target=_child, args=(list(paths), fmt, options, sender, receiver), daemon=True
    )
    child.start()
    sender.close()
    finished = False
    try:
        while True:
            try:
                kind, payload, progress = pickle.loads(receiver.recv_bytes())
            except EOFError:
                child.join(timeout=5)
                raise RuntimeError(
                    f"the reading process died (exit code {child.exitcode})"
                ) from None
            stats.read, stats.events, stats.position = progress
            if kind == _ITEMS:
                rebuild = item_codec.rebuild
                yield [
                    item if type(item[2]) is str else (item[0], item[1], rebuild(item[2]))
                    for item in payload
                ]
            elif kind == _RESTART:
                yield RESTART
            elif kind == _DONE:
                for name in ReadStats.__slots__:
                    setattr(stats, name, getattr(payload, name))
                finished = True
                return
            else:
                raise RuntimeError(f"reading the event files failed: {payload}")
    finally:
        receiver.close()
        if not finished:  # stopped early (an error, Ctrl-C): the reading is not wanted
            child.kill()
        child.join()


def _widen(pipe: Connection) -> None:
    """Let the pipe hold four batches of about 250 KiB (Linux's default, 64 KiB, holds a
    quarter of one): the reader then runs ahead while the rules work through a busy
    stretch (deadlines due, alerts) instead of waiting for them, and the rules find the
    next batch ready. On the benchmark log this cut the time the rules wait for items from
    0.8-2.2 s to 0.4-1.1 s (a deeper queue, in a sending thread, gained nothing more)."""
    size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if size is not None:
        with suppress(OSError):  # above /proc/sys/fs/pipe-max-size: keep the default
            fcntl.fcntl(pipe.fileno(), size, _PIPE_BYTES)


class InOrder:
    """The release window: items come out in stable time order, or ``add`` says it cannot."""

    __slots__ = ("held", "lag", "newest", "released")

    def __init__(self, lag: float = LAG) -> None:
        self.lag = lag
        self.held: list[ReplayItem] = []
        self.newest = float("-inf")
        self.released = float("-inf")

    def add(self, batch: list[ReplayItem]) -> list[ReplayItem] | None:
        """The items now ``lag`` older than the newest; None if ``batch`` holds an item older
        than one already released (the stream is no longer the sorted input)."""
        if not batch:
            return []
        batch.sort(key=_first)  # stable: ties keep file order
        if batch[0][0] < self.released:
            return None
        held = self.held + batch  # two sorted runs, held first: one merge pass, stable
        held.sort(key=_first)
        self.newest = max(self.newest, held[-1][0])
        cut = bisect_right(held, self.newest - self.lag, key=_first)
        self.held = held[cut:]
        if cut:
            self.released = held[cut - 1][0]
        return held[:cut]

    def rest(self) -> list[ReplayItem]:
        held, self.held = self.held, []
        return held


def load_sorted(
    paths: Sequence[str], fmt: Format, stats: ReadStats, options: ReadOptions = DEFAULT_OPTIONS
) -> list[ReplayItem]:
    """Every event of ``paths``, sorted by event time (stable), read in this process."""
    items: list[ReplayItem] = []
    with collector_paused():
        for batch in read_replay_items(paths, fmt=fmt, stats=stats, options=options):
            items += batch
        items.sort(key=_first)
    return items


@contextmanager
def collector_paused() -> Iterator[None]:
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


def _child(
    paths: list[str],
    fmt: Format,
    options: ReadOptions,
    out: Connection,
    parents_end: Connection,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    parents_end.close()  # forked open: the pipe breaks when the parent closes its end
    stats = ReadStats()
    gc.disable()  # as in the parent (collector_paused): the window holds no reference cycles
    try:
        order = InOrder()
        reading = read_replay_items(paths, fmt, stats, options)
        for batch in reading:
            released = order.add(batch)
            if released is None:
                _send(out, _RESTART, None, stats)
                reading.close()  # its problem log too: the second reading writes it anew
                stats = ReadStats()
                everything = load_sorted(paths, fmt, stats, options)
                for start in range(0, len(everything), 8192):
                    _send(out, _ITEMS, everything[start : start + 8192], stats)
                break
            if released:
                _send(out, _ITEMS, released, stats)
        else:
            _send(out, _ITEMS, order.rest(), stats)
        _send(out, _DONE, stats, stats)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent stopped reading (an error, Ctrl-C): nobody to tell
    except Exception as err:  # the parent reports it; a traceback here would be lost
        _send(out, _FAILED, f"{type(err).__name__}: {err}", stats)
    finally:
        out.close()


def _send(out: Connection, kind: int, payload: Any, stats: ReadStats) -> None:
    if kind == _ITEMS:
        payload = [item if type(item[2]) is str else _flat(item) for item in payload]
    progress = (stats.read, stats.events, stats.position)
    out.send_bytes(pickle.dumps((kind, payload, progress), protocol=5))


def _flat(item: ReplayItem) -> tuple[float, str, Any]:
    try:
        return (item[0], item[1], item_codec.flatten(item[2]))
    except TypeError:  # a value the wire format does not know (e.g. a non-UTC time)
        return item  # pickled as the object: slower, the same value


__all__ = [
    "LAG",
    "RESTART",
    "InOrder",
    "Restart",
    "can_read_aside",
    "collector_paused",
    "load_sorted",
    "read_aside",
]
