"""Reading event files: plain and .gz, JSON lines and whole documents, bad lines reported."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facilitation_rules.contract import codec as event_codec
from facilitation_rules.contract.events import Actor, PostCreated, ReflectionSubmitted
from facilitation_stream.ingest.event_files import Malformed, ReadStats, read_events

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tracking_logs"
MIXED = FIXTURES / "mixed.log"

# Line numbers of the broken lines in mixed.log, and what must be said about them.
MIXED_MALFORMED = {
    10: "invalid JSON",
    19: "missing time",
    20: "event: expected an object, got list",
    21: "no JSON object on the line",
    22: "no JSON object on the line",
    23: "event: a JSON string that does not parse",
    30: "no JSON object on the line",
}


def read(*paths: Path | str, fmt: str = "auto") -> tuple[list, ReadStats]:
    stats = ReadStats()
    events = list(read_events(paths, fmt=fmt, stats=stats))  # type: ignore[arg-type]
    return events, stats


def test_mixed_log_is_read_to_the_end_with_every_bad_line_reported() -> None:
    events, stats = read(MIXED)
    assert [(m.line, m.file) for m in stats.malformed] == [
        (line, str(MIXED)) for line in MIXED_MALFORMED
    ]
    for bad in stats.malformed:
        assert MIXED_MALFORMED[bad.line] in bad.reason
        assert str(bad).startswith(f"{MIXED}:{bad.line}: ")
    assert stats.read == 29  # 30 lines, one blank
    assert stats.events == len(events) == 19
    assert stats.unknown == {"edx.bi.course.upgrade.sidebarupsell.displayed": 1}
    assert stats.ignored == 2  # a forum edit and an anonymous visitor
    assert stats.position == MIXED.stat().st_size
    assert events[-1].event_id == "xb-0001"  # the XBlock's own event passed through


def test_gzip_is_recognised_by_content_and_reads_the_same(tmp_path: Path) -> None:
    plain, _ = read(MIXED)
    gz, stats = read(FIXTURES / "mixed.log.gz")
    assert gz == plain and len(stats.malformed) == len(MIXED_MALFORMED)
    renamed = tmp_path / "tracking.log.1"  # rotated logs are not always called .gz
    shutil.copy(FIXTURES / "mixed.log.gz", renamed)
    assert read(renamed)[0] == plain


def test_reading_twice_gives_identical_event_ids() -> None:
    first, _ = read(MIXED)
    second, _ = read(MIXED)
    assert [e.event_id for e in first] == [e.event_id for e in second]
    assert len({e.event_id for e in first}) == len(first)


def test_a_pretty_printed_document_is_one_record() -> None:
    events, stats = read(FIXTURES / "pretty.json")
    assert stats.read == 1 and not stats.malformed
    assert isinstance(events[0], PostCreated) and events[0].post_id == "T3"


def test_a_json_array_document_holds_many_records(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text(
        '[\n {"name": "play_video", "timestamp": "2024-03-04T09:00:00Z", "data": {"id": "v"},'
        ' "context": {"user_id": 1, "course_id": "course-v1:A+B+C"}},\n 7\n]\n'
    )
    events, stats = read(path)
    assert len(events) == 1
    assert stats.malformed == [Malformed(str(path), 1, "item 1: expected a JSON object")]


def test_a_broken_document_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('\n{\n  "name": "play_video",\n')
    events, stats = read(path)
    assert events == [] and len(stats.malformed) == 1
    assert stats.malformed[0].line == 2
    assert "invalid JSON document" in stats.malformed[0].reason


def _contract_events() -> list:
    at = datetime(2024, 3, 4, 9, tzinfo=UTC)
    return [
        PostCreated(
            event_id="p1",
            occurred_at=at,
            course_id="course-v1:A+B+C",
            actor=Actor(user_id="1"),
            post_id="T1",
            thread_id="T1",
        ),
        ReflectionSubmitted(
            event_id="r1",
            occurred_at=at,
            course_id="course-v1:A+B+C",
            actor=Actor(user_id="2"),
            reflection_id="rf",
            prompt_id="pr",
        ),
    ]


def test_contract_json_lines_are_decoded_and_may_mix_with_tracking_records(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl.gz"
    lines = [event_codec.dumps(e) for e in _contract_events()]
    lines.insert(1, MIXED.read_text().splitlines()[4])  # a tracking-log thread view
    lines.append('{"event_type": "org.openedx.facilitation.post.created.v1", "event_id": "x"}')
    lines.append('{"event_type": "org.openedx.facilitation.post.moved.v7", "event_id": "y"}')
    with gzip.open(path, "wt") as out:
        out.write("\n".join(lines) + "\n")
    events, stats = read(path)
    assert [e.event_id for e in events][0::2] == ["p1", "r1"]
    assert events[1].event_type.endswith("post.viewed.v1")
    assert [m.line for m in stats.malformed] == [4]
    assert "missing" in stats.malformed[0].reason
    assert stats.unknown == {"org.openedx.facilitation.post.moved.v7": 1}


def test_forced_formats(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(event_codec.dumps(e) for e in _contract_events()) + "\n")
    assert len(read(path, fmt="contract")[0]) == 2
    # A tracking log forced through the contract decoder: every record is reported.
    events, stats = read(MIXED, fmt="contract")
    assert events == [] and stats.unknown == {} and len(stats.malformed) == 29
    assert "not a contract event: 'edx.forum.thread.created'" in stats.malformed[0].reason
    with pytest.raises(ValueError, match="unknown format"):
        read(path, fmt="csv")


def test_missing_empty_and_corrupt_files_are_reported_and_reading_goes_on(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.log"
    empty.write_text("\n\n")
    corrupt = tmp_path / "cut.log.gz"
    corrupt.write_bytes((FIXTURES / "mixed.log.gz").read_bytes()[:200])
    events, stats = read(tmp_path / "absent.log", empty, corrupt, MIXED)
    assert len(events) == 19  # mixed.log, after the three bad files
    reasons = [str(m) for m in stats.malformed[:2]]
    assert reasons[0].startswith(f"{tmp_path / 'absent.log'}:0: cannot open")
    assert reasons[1].startswith(f"{corrupt}:0: cannot read")


def test_a_gzip_cut_short_gives_the_events_read_before_the_cut(tmp_path: Path) -> None:
    corrupt = tmp_path / "cut.log.gz"
    corrupt.write_bytes((FIXTURES / "mixed.log.gz").read_bytes()[:-10])  # no gzip trailer
    events, stats = read(corrupt)
    whole, _ = read(MIXED)
    assert events == whole and stats.events == len(events)
    cut = stats.malformed[-1]
    assert str(cut).startswith(f"{corrupt}:29: cannot read past line 29: Compressed file ended")
    assert cut.category == "unreadable" and stats.problems["unreadable"] == 1
    assert [m.line for m in stats.malformed[:-1]] == list(MIXED_MALFORMED)[:-1]  # not line 30


def test_stats_are_optional() -> None:
    assert len(list(read_events([MIXED]))) == 19
