"""The outbox in a local SQLite file: the zero-setup store (the workbench, tests, an LMS
without the plugin app). The LMS's own database (``facilitation_xblocks.plugin``) is the
store a multi-pod LMS keeps.

The learner's request writes one row and returns; a sender thread (see ``sender``) reads
rows in order and deletes them only after the broker acknowledged them. SQLite in
WAL mode with ``synchronous=FULL``: a committed row survives a crash or a power cut, and
appends from request threads do not block on the delivery thread's reads.

Several LMS worker processes may share one outbox file: every process appends, but only
the process holding the file lock (``<path>.lock``, released by the OS when a process
dies) delivers, so rows leave in one order and are never sent twice in parallel.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from facilitation_xblocks.outbox.rows import Deliver, OutboxRow, PendingRow

# Delivery and housekeeping are off the request path: they may wait for the lock longer.
_SLOW_BUSY_TIMEOUT_S = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    enqueued_at REAL NOT NULL
)
"""


class OutboxBusy(sqlite3.OperationalError):
    """Another writer held the outbox longer than the request may wait."""


_INSERT = (
    "INSERT INTO outbox (topic, key, value, event_id, event_type, enqueued_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


class SqliteFileOutbox:
    """Rows in insertion order (``seq``); each thread gets its own SQLite connection."""

    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 0.08) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Appends run on the learner's request: a writer waits at most this long for the lock.
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Threads of one process queue here (a precise wait) rather than in SQLite's
        # busy handler, which sleeps in steps; other processes still meet the busy timeout.
        self._write_lock = threading.Lock()
        self._lock_file: int | None = None
        self._closed = False
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_SCHEMA)

    def _conn(self, busy_timeout_s: float = _SLOW_BUSY_TIMEOUT_S) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,  # autocommit: each statement is its own transaction
                check_same_thread=False,  # only close() touches another thread's connection
            )
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
            self._local.busy_ms = None
            with self._lock:
                self._connections.append(conn)
        busy_ms = int(busy_timeout_s * 1000)
        if self._local.busy_ms != busy_ms:
            conn.execute(f"PRAGMA busy_timeout={busy_ms}")
            self._local.busy_ms = busy_ms
        return conn

    def append(self, rows: Sequence[PendingRow]) -> None:
        """Store rows durably (fsynced before this returns, one transaction) or raise
        ``sqlite3.Error``; waits at most ``busy_timeout_s`` for other writers."""
        started = time.monotonic()
        if not self._write_lock.acquire(timeout=self._busy_timeout_s):
            raise OutboxBusy("outbox busy in this process")
        try:
            left = max(0.001, self._busy_timeout_s - (time.monotonic() - started))
            conn = self._conn(left)
            values = [(r.topic, r.key, r.value, r.event_id, r.event_type, time.time())
                      for r in rows]
            if len(values) == 1:
                conn.execute(_INSERT, values[0])
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(_INSERT, values)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            self._write_lock.release()

    def drain(self, limit: int, deliver: Deliver) -> int:
        """One process delivers (the holder of the file lock), oldest rows first."""
        if not self.try_lead():
            return 0
        rows = self.peek(limit)
        if rows:
            self.delete(deliver(rows))
        return len(rows)

    def peek(self, limit: int) -> list[OutboxRow]:
        """The oldest ``limit`` rows, oldest first; at most ``limit`` rows are in memory."""
        cursor = self._conn().execute(
            "SELECT seq, topic, key, value, event_id, event_type, enqueued_at"
            " FROM outbox ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [
            OutboxRow(seq, topic, bytes(key), bytes(value), event_id, event_type, enqueued_at)
            for seq, topic, key, value, event_id, event_type, enqueued_at in cursor
        ]

    def delete(self, seqs: list[int]) -> None:
        """Forget rows the broker acknowledged (one transaction)."""
        if not seqs:
            return
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def depth(self) -> int:
        row = self._conn().execute("SELECT COUNT(*) FROM outbox").fetchone()
        return int(row[0])

    def oldest_age_s(self, now: float) -> float:
        row = self._conn().execute("SELECT MIN(enqueued_at) FROM outbox").fetchone()
        return 0.0 if row[0] is None else max(0.0, now - float(row[0]))

    def try_lead(self) -> bool:
        """Take the delivery lock if no other process (or outbox object) holds it."""
        if self._lock_file is not None:
            return True
        if self._closed:
            return False
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_file = fd
        return True

    def sender_exit(self) -> None:
        return None  # close() closes every thread's connection

    def close(self) -> None:
        self._closed = True
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
        if self._lock_file is not None:
            os.close(self._lock_file)  # closing the descriptor releases the flock
            self._lock_file = None
