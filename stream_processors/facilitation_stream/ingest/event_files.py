"""Reading event files: contract JSON lines or Open edX tracking logs, plain or gzipped.

``read_events`` streams events from files and never raises on bad input: a malformed line
is recorded as ``FILE:LINE: reason`` in ``ReadStats.malformed``, an unknown event type is
counted in ``ReadStats.unknown``, and reading goes on. ``read_replay_items`` reads the same
for replay, in batches of ``ReplayItem``: a learner's plain activity (page views, video,
problems, forum views and votes) is not built into an event, only what the rules use of it;
most of it is read quickly, without building the record (``tracking_head``).

How a file is read (``fmt="auto"``):
- gzip is recognised by its magic bytes, whatever the file is called;
- a file whose first non-blank line is ``{`` alone, or starts with ``[``, is ONE JSON
  document (a pretty-printed record, or an array of records); anything else is JSON lines,
  one record per line, optionally after a logger prefix (``... logger.py:41 - {...}``);
- a record whose ``event_type`` is a contract name (``org.openedx.facilitation.*``) and
  that has a top-level ``event_id`` is a contract event; anything else is a tracking-log
  record. ``fmt="contract"`` or ``fmt="tracking-log"`` forces one reading for every record.

Files are read in the order given; pass rotated logs oldest first, so a vote or a deletion
finds the thread of a post created earlier (see ``facilitation_rules.openedx_logs.forum``).
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import orjson

from facilitation_rules.contract.codec import EventDecodeError, UnknownEventType, from_dict
from facilitation_rules.contract.events import NAMESPACE, Event
from facilitation_rules.openedx_logs.lean_activity import quick_activities
from facilitation_rules.openedx_logs.translate import (
    LearnerActivity,
    TrackingLogError,
    UnknownTrackingEvent,
    parse_line,
    translate,
    translate_lean,
)

Format = Literal["auto", "contract", "tracking-log"]
#: What replay sorts and feeds: (epoch seconds, course_id, the event); for plain learner
#: activity read lean, a ``LearnerActivity``: (epoch seconds, course_id, learner_id).
ReplayItem = tuple[float, str, Event | str]
_Translate = Callable[[dict[str, Any], dict[str, str]], list[Event] | LearnerActivity | None]
FORMATS: tuple[Format, ...] = ("auto", "contract", "tracking-log")
_GZIP_MAGIC = b"\x1f\x8b"
_PROGRESS_EVERY = 4096  # lines between updates of ReadStats.position
_BUFFER = 1 << 18
_BYTES = itertools.repeat(bytes)


@dataclass(frozen=True, slots=True)
class Malformed:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(slots=True)
class ReadStats:
    """What a read saw. ``read`` counts records (non-blank lines, or whole documents)."""

    read: int = 0
    events: int = 0
    #: records of known types that stand for no event (e.g. a forum edit, an anonymous visit)
    ignored: int = 0
    unknown: Counter[str] = field(default_factory=Counter)
    malformed: list[Malformed] = field(default_factory=list)
    #: bytes of input consumed so far, summed over files (approximate inside a .gz)
    position: int = 0


def read_events(
    paths: Iterable[str | os.PathLike[str]],
    fmt: Format = "auto",
    stats: ReadStats | None = None,
) -> Iterator[Event]:
    """Events from ``paths`` in file and line order; bad lines end up in ``stats``."""
    for batch in _Reader(fmt, stats, lean=False).batches(paths):
        yield from batch


def read_replay_items(
    paths: Iterable[str | os.PathLike[str]],
    fmt: Format = "auto",
    stats: ReadStats | None = None,
) -> Iterator[list[ReplayItem]]:
    """What ``read_events`` reads, as batches of ``ReplayItem`` (the same counts and
    errors): a tracking log's plain learner activity is read lean, without its event."""
    return _Reader(fmt, stats, lean=True).batches(paths)


def _is_contract(record: dict[str, Any]) -> bool:
    event_type = record.get("event_type")
    return "event_id" in record and type(event_type) is str and event_type.startswith(NAMESPACE)


def _until_error(lines: Iterator[bytes], errors: list[Exception]) -> Iterator[bytes]:
    """``lines`` up to a read error (a truncated or corrupt .gz), which goes to ``errors``:
    the lines before it are read as usual."""
    try:
        yield from lines
    except (OSError, EOFError) as err:
        errors.append(err)


class _Reader:
    """One read over several files: shares the stats and the post -> thread index.

    Yields batches (a list per ``_PROGRESS_EVERY`` lines): one generator step per batch
    rather than per event keeps the per-line overhead in the hot loop alone.
    """

    def __init__(self, fmt: Format, stats: ReadStats | None, *, lean: bool) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.stats = stats if stats is not None else ReadStats()
        self.threads: dict[str, str] = {}
        self.lean = lean
        self.translate: _Translate = translate_lean if lean else translate

    def batches(self, paths: Iterable[str | os.PathLike[str]]) -> Iterator[list[Any]]:
        for path in paths:
            yield from self.read_file(os.fspath(path))

    def read_file(self, path: str) -> Iterator[list[Any]]:
        start = self.stats.position
        try:
            # Closed in the finally below (a generator). Lines read through a 256 KiB buffer
            # cost half what they cost through the default 8 KiB one.
            raw = io.BufferedReader(io.FileIO(path), _BUFFER)
        except OSError as err:
            self._malformed(path, 0, f"cannot open: {err.strerror or err}")
            return
        try:
            size = os.fstat(raw.fileno()).st_size
            stream: io.BufferedIOBase = raw
            if raw.peek(2)[:2] == _GZIP_MAGIC:
                stream = gzip.GzipFile(fileobj=raw, mode="rb")
            yield from self._read_stream(path, stream, raw, start)
        except (OSError, EOFError) as err:  # a truncated or corrupt .gz
            self._malformed(path, 0, f"cannot read: {err}")
        finally:
            raw.close()
        self.stats.position = start + size

    def _read_stream(
        self, path: str, stream: io.BufferedIOBase, raw: io.BufferedReader[io.FileIO], start: int
    ) -> Iterator[list[Any]]:
        number = 0
        for first in stream:
            number += 1
            if first.isspace():
                continue
            head = first.strip()
            if head == b"{" or head[:1] == b"[":
                yield self._read_document(path, number, first + stream.read())
                return
            break
        else:
            return  # an empty file
        # The hot loop of a whole log, a chunk of lines at a time (one batch each): replay
        # reads a chunk quickly first (a learner's plain activity, most lines: see
        # tracking_head), then in full each line the quick reading is not sure of.
        stats = self.stats
        chunk_of: Callable[[Iterator[bytes]], list[Any]] = list
        if self.lean and self.fmt != "contract":
            chunk_of = partial(quick_activities, contracts=self.fmt == "auto")
        broken: list[Exception] = []
        lines = _until_error(itertools.chain((first,), stream), broken)
        while found := chunk_of(itertools.islice(lines, _PROGRESS_EVERY)):
            # Lines still to read (bytes) among the activities read quickly (tuples).
            misses = list(itertools.compress(itertools.count(), map(isinstance, found, _BYTES)))
            stats.read += len(found) - len(misses)
            stats.events += len(found) - len(misses)
            batch: list[Any] = []
            done = 0
            for index in misses:
                if index > done:
                    batch += found[done:index]
                batch += self._read_line(path, number + index, found[index])
                done = index + 1
            batch += found[done:]
            number += len(found)
            stats.position = start + raw.tell()
            yield batch
        if broken:
            raise broken[0]  # reported after the lines read before it

    def _read_line(self, path: str, number: int, line: bytes) -> list[Any]:
        """The batch entries of one line read in full; none for a blank line."""
        if line.isspace():
            return []
        self.stats.read += 1
        record: Any
        try:
            try:  # b"{" first: no logger prefix, the usual line
                record = orjson.loads(line) if line[0] == 123 else parse_line(line)
            except orjson.JSONDecodeError:
                record = parse_line(line)  # raises with the reason
        except Exception as err:
            self._reject(path, number, None, err)
            return []
        return self._handle(path, number, record)

    def _read_document(self, path: str, number: int, data: bytes) -> list[Any]:
        self.stats.read += 1
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as err:
            self._malformed(path, number, f"invalid JSON document: {err}")
            return []
        records = document if isinstance(document, list) else [document]
        batch: list[Any] = []
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                where = f"item {index}: " if isinstance(document, list) else ""
                self._malformed(path, number, f"{where}expected a JSON object")
                continue
            batch += self._handle(path, number, record)
        return batch

    def _handle(self, path: str, number: int, record: dict[str, Any]) -> list[Any]:
        """The batch entries of one record, or [] with the reason recorded in the stats."""
        events: list[Event] | LearnerActivity | None
        try:
            fmt = self.fmt  # "event_id" first: most records have none
            if fmt == "contract" or (
                fmt == "auto" and "event_id" in record and _is_contract(record)
            ):
                events = [from_dict(record)]
            else:
                events = self.translate(record, self.threads)
        except Exception as err:
            self._reject(path, number, record, err)
            return []
        if not events:
            self.stats.ignored += 1
            return []
        if isinstance(events, tuple):  # one learner activity, read lean
            self.stats.events += 1
            return [events]
        self.stats.events += len(events)
        if self.lean:
            return [(e.occurred_at.timestamp(), e.course_id, e) for e in events]
        return events  # a new list from the translator

    def _reject(
        self, path: str, number: int, record: dict[str, Any] | None, err: Exception
    ) -> None:
        """Count a record that gave no events for a reason: unknown type or malformed."""
        if isinstance(err, UnknownTrackingEvent):
            self.stats.unknown[err.event_type] += 1
        elif isinstance(err, UnknownEventType) and record is not None:
            event_type = str(record.get("event_type"))
            if event_type.startswith(NAMESPACE):
                self.stats.unknown[event_type] += 1
            else:  # --format contract on something else
                self._malformed(path, number, f"not a contract event: {event_type!r:.80}")
        elif isinstance(err, TrackingLogError | EventDecodeError):
            self._malformed(path, number, str(err))
        else:  # bad input must never stop a run; say what it was
            self._malformed(path, number, f"cannot translate: {type(err).__name__}: {err}")

    def _malformed(self, path: str, number: int, reason: str) -> None:
        self.stats.malformed.append(Malformed(path, number, reason))
