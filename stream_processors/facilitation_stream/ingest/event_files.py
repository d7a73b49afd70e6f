"""Reading event files: contract JSON lines or Open edX tracking logs, plain or gzipped.

``read_events`` streams events from files and never raises on bad input: a malformed line
is recorded as ``FILE:LINE: reason`` in ``ReadStats`` (by category and reason, the first ones
listed: ``read_stats``), an unknown event type is counted in ``ReadStats.unknown``, and
reading goes on. ``ReadOptions`` bounds a read: lines over ``max_line_bytes`` are skipped
without being held in memory, events after ``future_after`` are reported, not given.
``read_replay_items`` reads the same
for replay, in batches of ``ReplayItem``: a learner's plain activity (page views, video,
problems, forum views and votes) is not built into an event, only what the rules use of it;
most of it is read quickly, without building the record (``tracking_head``).

How a file is read (``fmt="auto"``):
- gzip is recognised by its magic bytes, whatever the file is called;
- a file whose first non-blank line is ``{`` alone, or starts with ``[``, is ONE JSON
  document (a pretty-printed record, or an array of records); anything else is JSON lines,
  one record per line, optionally after a logger prefix (``... logger.py:41 - {...}``);
  blank lines and comment lines (``#`` first) are skipped silently;
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
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, TextIO

import orjson

from facilitation_rules.contract.codec import (
    EventDecodeError,
    UnknownEventType,
    format_time,
    from_dict,
)
from facilitation_rules.contract.events import NAMESPACE, Event
from facilitation_rules.openedx_logs.fields import lms_truncated
from facilitation_rules.openedx_logs.lean_activity import quick_activities
from facilitation_rules.openedx_logs.translate import (
    LearnerActivity,
    TrackingLogError,
    TruncatedEvent,
    UnknownTrackingEvent,
    parse_line,
    translate,
    translate_lean,
)
from facilitation_stream.ingest.read_stats import (
    DEFAULT_OPTIONS,
    FUTURE,
    LMS_TRUNCATED,
    MAX_DOCUMENT_BYTES,
    TOO_LONG,
    UNREADABLE,
    Malformed,
    ReadOptions,
    ReadStats,
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
_READ_ERRORS = (OSError, EOFError, zlib.error)  # a truncated or corrupt .gz


class _Skipped(bytes):
    """The type of ``_TOO_LONG``: a line's place in the stream, its bytes dropped."""


#: Stands for a line over the length limit (its number stays right; its bytes are gone).
_TOO_LONG = _Skipped()


def read_events(
    paths: Iterable[str | os.PathLike[str]],
    fmt: Format = "auto",
    stats: ReadStats | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
) -> Iterator[Event]:
    """Events from ``paths`` in file and line order; bad lines end up in ``stats``."""
    for batch in _Reader(fmt, stats, lean=False, options=options).batches(paths):
        yield from batch


def read_replay_items(
    paths: Iterable[str | os.PathLike[str]],
    fmt: Format = "auto",
    stats: ReadStats | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
) -> Generator[list[ReplayItem]]:
    """What ``read_events`` reads, as batches of ``ReplayItem`` (the same counts and
    errors): a tracking log's plain learner activity is read lean, without its event.
    A generator: close it to stop early (its problem log is closed with it)."""
    return _Reader(fmt, stats, lean=True, options=options).batches(paths)


def _username(record: dict[str, Any]) -> str:
    context = record.get("context")
    found = record.get("username") or (context.get("username") if type(context) is dict else "")
    return found if type(found) is str else ""


def _is_contract(record: dict[str, Any]) -> bool:
    event_type = record.get("event_type")
    return "event_id" in record and type(event_type) is str and event_type.startswith(NAMESPACE)


class _Reader:
    """One read over several files: shares the stats and the post -> thread index.

    Yields batches (a list per ``_PROGRESS_EVERY`` lines): one generator step per batch
    rather than per event keeps the per-line overhead in the hot loop alone.
    """

    def __init__(
        self, fmt: Format, stats: ReadStats | None, *, lean: bool, options: ReadOptions
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.stats = stats if stats is not None else ReadStats()
        self.options = options
        self.after = options.future_after
        self.log: TextIO | None = None
        self.threads: dict[str, str] = {}
        self.lean = lean
        self.translate: _Translate = translate_lean if lean else translate

    def batches(self, paths: Iterable[str | os.PathLike[str]]) -> Generator[list[Any]]:
        if self.options.malformed_log:
            self.log = open(self.options.malformed_log, "w", encoding="utf-8")  # noqa: SIM115
        try:
            for path in paths:
                yield from self.read_file(os.fspath(path))
        finally:
            if self.log is not None:
                self.log.close()

    def read_file(self, path: str) -> Iterator[list[Any]]:
        start = self.stats.position
        try:
            # Closed in the finally below (a generator). Lines read through a 256 KiB buffer
            # cost half what they cost through the default 8 KiB one.
            raw = io.BufferedReader(io.FileIO(path), _BUFFER)
        except OSError as err:
            self._problem(path, 0, f"cannot open: {err.strerror or err}", UNREADABLE)
            return
        try:
            size = os.fstat(raw.fileno()).st_size
            stream: io.BufferedIOBase = raw
            if raw.peek(2)[:2] == _GZIP_MAGIC:
                stream = gzip.GzipFile(fileobj=raw, mode="rb")
            yield from self._read_stream(path, stream, raw, start)
        except _READ_ERRORS as err:  # in its first block
            self._problem(path, 0, f"cannot read: {err}", UNREADABLE)
        finally:
            raw.close()
        self.stats.position = start + size

    def _read_stream(
        self, path: str, stream: io.BufferedIOBase, raw: io.BufferedReader[io.FileIO], start: int
    ) -> Iterator[list[Any]]:
        # read1: a .gz cut short gives every block before the cut (read() would lose it).
        block = stream.read1(_BUFFER)
        while b"\n" not in block.lstrip() and len(block) <= self.options.max_line_bytes:
            more = stream.read1(_BUFFER)  # the first line, to see what the file holds
            if not more:
                break
            block += more
        body = block.lstrip()
        head = body.split(b"\n", 1)[0].strip()
        if head == b"{" or head[:1] == b"[":
            number = block[: len(block) - len(body)].count(b"\n") + 1
            rest = stream.read(MAX_DOCUMENT_BYTES + 1 - len(block))
            if len(block) + len(rest) > MAX_DOCUMENT_BYTES:
                reason = f"a JSON document over {MAX_DOCUMENT_BYTES:,} bytes (skipped)"
                self._problem(path, number, reason, TOO_LONG)
                return
            yield self._read_document(path, number, block + rest)
            return
        # The hot loop of a whole log, a chunk of lines at a time (one batch each): replay
        # reads a chunk quickly first (a learner's plain activity, most lines: see
        # tracking_head), then in full each line the quick reading is not sure of.
        stats = self.stats
        chunk_of: Callable[[Iterator[bytes]], list[Any]] = list
        if self.lean and self.fmt != "contract":
            chunk_of = partial(
                quick_activities,
                contracts=self.fmt == "auto",
                after=self.after,
                names=stats.usernames,
            )
        broken: list[Exception] = []
        lines = itertools.chain.from_iterable(self._blocks(block, stream, broken))
        number = 0  # lines before the chunk
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
                batch += self._read_line(path, number + index + 1, found[index])
                done = index + 1
            batch += found[done:]
            number += len(found)
            stats.position = start + raw.tell()
            yield batch
        if broken:  # reported after the lines read before it
            reason = f"cannot read past line {number:,}: {broken[0]}"
            self._problem(path, number, reason, UNREADABLE)

    def _blocks(
        self, block: bytes, stream: io.BufferedIOBase, broken: list[Exception]
    ) -> Iterator[list[bytes]]:
        """The lines of ``stream`` (after its first ``block``), a block's worth at a time,
        without their newline; a line over the limit is ``_TOO_LONG``, its bytes dropped as
        they are read (one 1 GB line costs a block of memory, not a gigabyte). A read error
        (a .gz cut short) ends the lines there, dropping the line it cut, into ``broken``."""
        limit = self.options.max_line_bytes
        carry = b""  # the start of a line the last block did not finish
        dropping = False  # inside a line over the limit
        try:
            while block:
                parts = block.split(b"\n")
                tail = parts.pop()
                if parts:
                    if dropping:
                        parts[0] = _TOO_LONG
                        dropping = False
                    elif carry:
                        parts[0] = carry + parts[0]
                    if max(map(len, parts)) > limit:  # in C: the usual block costs no loop
                        parts = [_TOO_LONG if len(p) > limit else p for p in parts]
                    yield parts
                    carry = tail
                elif not dropping:
                    carry += tail
                if len(carry) > limit:
                    carry, dropping = b"", True
                block = stream.read1(_BUFFER)
        except _READ_ERRORS as err:
            broken.append(err)
            return
        if dropping:
            yield [_TOO_LONG]
        elif carry:
            yield [carry]

    def _read_line(self, path: str, number: int, line: bytes) -> list[Any]:
        """The batch entries of one line read in full; none for a blank or comment line."""
        if line is _TOO_LONG:
            limit = self.options.max_line_bytes
            self._problem(path, number, f"line longer than {limit:,} bytes (skipped)", TOO_LONG)
            return []
        if not line or line[0] == 35 or line.isspace():  # 35: b"#", a comment
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
            self._problem(path, number, f"invalid JSON document: {err}")
            return []
        records = document if isinstance(document, list) else [document]
        batch: list[Any] = []
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                where = f"item {index}: " if isinstance(document, list) else ""
                self._problem(path, number, f"{where}expected a JSON object")
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
        if lms_truncated(record):  # used as the LMS wrote it (the event string is not needed)
            self.stats.lms_truncated += 1
        if isinstance(events, tuple):  # one learner activity, read lean
            if events[0] > self.after:
                return self._future(path, number, events[0])
            self.stats.events += 1
            if events[2] not in self.stats.usernames:
                self.stats.usernames[events[2]] = _username(record)
            return [events]
        times = [e.occurred_at.timestamp() for e in events]
        if max(times) > self.after:
            return self._future(path, number, max(times))
        self.stats.events += len(events)
        if self.lean:
            names = self.stats.usernames
            for e in events:
                if e.actor.username and e.actor.user_id not in names:
                    names[e.actor.user_id] = e.actor.username
            return [(t, e.course_id, e) for t, e in zip(times, events, strict=True)]
        return events  # a new list from the translator

    def _future(self, path: str, number: int, t: float) -> list[Any]:
        """Report a record whose time is after ``future_after``: skipped, never applied."""
        when = format_time(datetime.fromtimestamp(t, UTC))
        reason = f"event time {when} is ahead of the clock at run time (skipped)"
        self._problem(path, number, reason, FUTURE, key="event time ahead of the clock")
        return []

    def _reject(
        self, path: str, number: int, record: dict[str, Any] | None, err: Exception
    ) -> None:
        """Count a record that gave no events for a reason: unknown type or malformed."""
        if isinstance(err, TruncatedEvent):  # unusable without the part the LMS cut
            self.stats.lms_truncated += 1
            self._problem(path, number, str(err), LMS_TRUNCATED)
        elif isinstance(err, UnknownTrackingEvent):
            self.stats.unknown[err.event_type] += 1
        elif isinstance(err, UnknownEventType) and record is not None:
            event_type = str(record.get("event_type"))
            if event_type.startswith(NAMESPACE):
                self.stats.unknown[event_type] += 1
            else:  # --format contract on something else
                self._problem(path, number, f"not a contract event: {event_type!r:.80}")
        elif isinstance(err, TrackingLogError | EventDecodeError):
            self._problem(path, number, str(err))
        else:  # bad input must never stop a run; say what it was
            self._problem(path, number, f"cannot translate: {type(err).__name__}: {err}")

    def _problem(
        self, path: str, number: int, reason: str, category: str = "malformed", key: str = ""
    ) -> None:
        self.stats.note(Malformed(path, number, reason, category), self.options, self.log, key)
