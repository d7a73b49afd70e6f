"""What reading event files saw, and the bounds a read keeps (``ReadStats``, ``ReadOptions``).

A real LMS-wide log has lines that are no use to the rules, for different reasons, and a
course team reads them as data quality rather than as errors of the run (issue 21): each
problem line has a category, is counted by category and by reason, the first
``ReadOptions.listed`` of them are kept as ``FILE:LINE: reason`` and, with
``ReadOptions.malformed_log``, every one of them is written to a file as it is found, so a
multi-GB log costs no memory for its bad lines.

Categories (``ReadStats.problems``):
- ``malformed``: not JSON, not a record, a field the translation cannot read;
- ``too-long``: a line over ``max_line_bytes``, skipped without reading the rest of it into
  memory (issue 16: one 1 GB line in a 1 MB .gz);
- ``future``: an event more than the tolerance ahead of the wall clock at run time (a
  skewed LMS clock): reported and never applied, so it cannot move replay's clock;
- ``lms-truncated``: a record whose ``event`` string the LMS itself cut at 512 characters
  and that is unusable without it (``lms_truncated`` counts every such record, most of
  which, page views, are used as they are);
- ``unreadable``: a file cut short or corrupt (a truncated .gz): the lines before the
  damage are read, and the commands exit non-zero unless told the file is known to be cut.

Comment lines (``#`` in column 1) and blank lines are skipped silently: they are not records.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Final, TextIO

MALFORMED: Final = "malformed"
TOO_LONG: Final = "too-long"
FUTURE: Final = "future"
LMS_TRUNCATED: Final = "lms-truncated"
UNREADABLE: Final = "unreadable"
#: Most bytes of a line read (records of the LMS are at most 50,000 characters).
MAX_LINE_BYTES: Final = 1 << 20
#: Most bytes of a file that is one JSON document (a pretty-printed record or an array).
MAX_DOCUMENT_BYTES: Final = 256 << 20
#: How far ahead of the wall clock an event may be and still be applied.
FUTURE_TOLERANCE_S: Final = 300.0

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that gave no events, and why: ``FILE:LINE: reason``."""

    file: str
    line: int
    reason: str
    category: str = MALFORMED

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """The bounds of one read. ``future_after`` is the wall clock at run time plus the
    tolerance (epoch seconds; infinite: no bound), passed in like every time."""

    max_line_bytes: int = MAX_LINE_BYTES
    future_after: float = math.inf
    #: problem lines kept in ``ReadStats.malformed`` (the others are counted)
    listed: int = 1000
    #: a file to write every problem line to, as it is found
    malformed_log: str | None = None


DEFAULT_OPTIONS: Final = ReadOptions()


def reason_key(reason: str) -> str:
    """A reason without the values it quotes: lines alike in what is wrong count together."""
    return _NUMBER.sub("N", _QUOTED.sub("'...'", reason))[:160]


@dataclass(slots=True)
class ReadStats:
    """What a read saw. ``read`` counts records (non-blank, non-comment lines, or whole
    documents); every problem line is in ``problems`` and ``reasons``."""

    read: int = 0
    events: int = 0
    #: records of known types that stand for no event (e.g. a forum edit, an anonymous visit)
    ignored: int = 0
    unknown: Counter[str] = field(default_factory=Counter)
    #: the first problem lines, in reading order (``ReadOptions.listed`` of them)
    malformed: list[Malformed] = field(default_factory=list)
    #: problem lines by category
    problems: Counter[str] = field(default_factory=Counter)
    #: problem lines by (category, reason without its values)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: records whose ``event`` string the LMS cut at 512 characters (used where possible)
    lms_truncated: int = 0
    #: user id -> username, where the log names them (a replay's reading only)
    usernames: dict[str, str] = field(default_factory=dict)
    #: bytes of input consumed so far, summed over files (approximate inside a .gz)
    position: int = 0

    def note(
        self,
        problem: Malformed,
        options: ReadOptions,
        log: TextIO | None,
        key: str | None = None,
    ) -> None:
        """Count ``problem``; keep it if fewer than ``options.listed`` are kept; log it."""
        self.problems[problem.category] += 1
        self.reasons[(problem.category, key or reason_key(problem.reason))] += 1
        if len(self.malformed) < options.listed:
            self.malformed.append(problem)
        if log is not None:
            log.write(f"{problem}\n")

    def skipped(self) -> int:
        """Records read that gave no events (unknown types, ignored, problems)."""
        return sum(self.unknown.values()) + self.ignored + sum(self.problems.values())
