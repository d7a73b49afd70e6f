"""Reading real LMS logs at scale (issues 16.3 offline, 16.7, 21.4): comment and blank lines
skipped silently, a line-length cap that never holds the long line, events from the future
reported and never applied, the LMS's own 512-character ``event`` strings used as written,
problems counted by reason with only the first listed, and a .gz cut short reported."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from facilitation_stream.backtest.reader_process import load_sorted, read_aside
from facilitation_stream.cli.main import main
from facilitation_stream.ingest.event_files import read_events, read_replay_items
from facilitation_stream.ingest.read_stats import ReadOptions, ReadStats, reason_key

COURSE = "course-v1:FacX+TUT101+2024_T1"
ROOT = Path(__file__).resolve().parents[2]


def record(time: str = "2024-03-04T09:00:00+00:00", user: int = 7, **extra: object) -> bytes:
    line = {
        "event_type": "play_video",
        "time": time,
        "username": f"user{user}",
        "context": {"user_id": user, "course_id": COURSE, "path": "/event"},
        "event": json.dumps({"id": "v1"}),
        **extra,
    }
    return json.dumps(line).encode()


def lms_truncated_page_view(user: object = 7) -> bytes:
    """A request the LMS logged with ``event`` = its GET/POST JSON cut at 512 characters."""
    params = json.dumps({"GET": {"q": ["x" * 900]}, "POST": {}})[:512]
    return json.dumps({
        "event_type": f"/courses/{COURSE}/courseware/week1/",
        "time": "2024-03-04T09:05:00+00:00",
        "username": "user7",
        "event_source": "server",
        "context": {"user_id": user, "course_id": COURSE, "path": "/courses/x"},
        "event": params,
    }).encode()  # fmt: skip


def read(path: Path, lean: bool = True, **options: object) -> tuple[list, ReadStats]:
    stats = ReadStats()
    opts = ReadOptions(**options)  # type: ignore[arg-type]
    if lean:
        items = [i for batch in read_replay_items([path], "auto", stats, opts) for i in batch]
    else:
        items = list(read_events([path], "auto", stats, opts))
    return items, stats


def test_comment_and_blank_lines_are_skipped_silently(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"# exported 2024-03-05\n\n   \n" + record() + b"\n# end\n\r\n")
    for lean in (True, False):
        items, stats = read(path, lean)
        assert len(items) == 1 and stats.read == 1
        assert not stats.problems and not stats.malformed


@pytest.mark.parametrize("lean", [True, False])
def test_a_line_over_the_limit_is_skipped_and_the_rest_read(tmp_path, lean):
    path = tmp_path / "log"
    long = record(event=json.dumps({"id": "v", "pad": "x" * 5000}))
    path.write_bytes(b"\n".join([record(), long, record(user=8), b"x" * 9000, record()]) + b"\n")
    items, stats = read(path, lean, max_line_bytes=4096)
    assert len(items) == 3 and stats.read == 3
    assert stats.problems == {"too-long": 2}
    assert [(m.line, m.category) for m in stats.malformed] == [(2, "too-long"), (4, "too-long")]
    assert "longer than 4,096 bytes" in stats.malformed[0].reason


def test_a_1_gb_line_in_a_small_gz_costs_a_block_of_memory_not_a_gigabyte(tmp_path):
    path = tmp_path / "huge.log.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(record() + b"\n")
        chunk = b"a" * (1 << 20)
        for _ in range(1024):  # one line of 1 GiB
            out.write(chunk)
        out.write(b"\n" + record(user=8) + b"\n")
    assert path.stat().st_size < 8 << 20
    # VmHWM: the peak of this process's own memory (ru_maxrss would count the forking
    # parent's, pytest's, since Linux keeps it across exec).
    script = textwrap.dedent(f"""
        import json, re
        from facilitation_stream.ingest.event_files import read_replay_items
        from facilitation_stream.ingest.read_stats import ReadStats
        stats = ReadStats()
        items = [i for b in read_replay_items([{str(path)!r}], "auto", stats) for i in b]
        status = open("/proc/self/status").read()
        peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) * 1024
        print(json.dumps([len(items), dict(stats.problems), peak]))
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    items, problems, peak = json.loads(done.stdout)
    assert items == 2 and problems == {"too-long": 1}
    assert peak < 300 << 20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_events_ahead_of_the_clock_are_reported_and_never_given(tmp_path):
    path = tmp_path / "log"
    skewed = record(time="2099-01-01T00:00:00+00:00")
    forum = json.dumps({
        "name": "edx.forum.thread.created", "timestamp": "2099-01-01T00:00:00+00:00",
        "context": {"user_id": 9, "course_id": COURSE, "username": "u9"},
        "data": {"id": "t1", "commentable_id": "c", "thread_type": "discussion", "title": "x",
                 "body": "y", "anonymous": False, "anonymous_to_peers": False,
                 "user_forums_roles": ["Student"], "user_course_roles": []},
    }).encode()  # fmt: skip
    path.write_bytes(b"\n".join([record(), skewed, forum, record(user=8)]) + b"\n")
    now = 1_800_000_000.0  # 2027
    for lean in (True, False):
        items, stats = read(path, lean, future_after=now + 300)
        assert len(items) == 2
        assert stats.problems == {"future": 2}
        assert [m.line for m in stats.malformed] == [2, 3]
        assert "2099-01-01T00:00:00Z is ahead of the clock" in stats.malformed[0].reason
        assert stats.reasons == {("future", "event time ahead of the clock"): 2}


def test_replay_and_ingest_skip_the_2099_event_so_it_cannot_move_the_clock(capsys, tmp_path):
    from facilitation_rules.contract.codec import dumps
    from tests.unit.event_factory import thread

    path = tmp_path / "events.jsonl"
    early = thread(1, "ann", "t1")
    late = thread(2, "bob", "t2")
    skewed = dumps(early).replace("2024-01-08T01:00:00Z", "2099-01-01T00:00:00Z")
    skewed = skewed.replace(early.event_id, "skewed-id").replace('"t1"', '"t9"')
    path.write_text("\n".join([dumps(early), skewed, dumps(late)]) + "\n")
    code = main(["replay", str(path)])
    out, err = capsys.readouterr()
    assert code == 0 and "1 from the future" in err and f"{path}:2: event time 2099" in err
    assert "t9" not in out  # never applied: the clock stopped at the last real event
    assert main(["ingest", "tracking-log", "--dry-run", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 and "1 from the future" in err


def test_the_lms_own_truncated_event_strings_are_used_as_written_and_counted(tmp_path):
    path = tmp_path / "log"
    anonymous = lms_truncated_page_view(user="")  # no user id: the payload would be read
    forum = json.dumps({
        "event_type": "edx.forum.thread.created", "time": "2024-03-04T09:06:00+00:00",
        "context": {"user_id": 9, "course_id": COURSE},
        "event": json.dumps({"id": "t1", "title": "x" * 600})[:512],
    }).encode()  # fmt: skip
    path.write_bytes(b"\n".join([lms_truncated_page_view(), anonymous, forum, record()]) + b"\n")
    for lean in (True, False):
        items, stats = read(path, lean)
        # The page views are activity as the LMS logged it; the forum post cannot be read.
        assert len(items) == 3, items
        assert stats.lms_truncated == 3
        assert stats.problems == {"lms-truncated": 1}
        assert stats.problems["malformed"] == 0
        assert stats.malformed[0].line == 3 and "cut by the LMS at 512" in stats.malformed[0].reason


def test_only_the_first_problem_lines_are_kept_and_all_are_counted_by_reason(tmp_path):
    path = tmp_path / "log"
    bad = [b"{not json", b'{"event_type": "play_video", "time": "yesterday", "context": {}}']
    path.write_bytes(b"\n".join(bad * 30 + [record()]) + b"\n")
    log = tmp_path / "problems.txt"
    items, stats = read(path, listed=5, malformed_log=str(log))
    assert len(items) == 1 and stats.problems == {"malformed": 60}
    assert len(stats.malformed) == 5 and [m.line for m in stats.malformed] == [1, 2, 3, 4, 5]
    assert sorted(stats.reasons.values()) == [30, 30]
    assert log.read_text().splitlines()[59].startswith(f"{path}:60: ")
    assert len(log.read_text().splitlines()) == 60


def test_the_problem_log_is_written_once_when_the_reading_process_starts_over(tmp_path):
    path = tmp_path / "log"
    # Three hours of lines (the reader releases the first ones), a broken line, then lines
    # days older than what was released: the reading process reads everything again.
    lines = [
        record(time=f"2024-03-05T{9 + i // 2000:02d}:{i % 60:02d}:00+00:00") for i in range(6000)
    ]
    lines += [b"{bad"] + [record(time="2024-03-01T09:00:00+00:00")] * 3
    path.write_bytes(b"\n".join(lines) + b"\n")
    log = tmp_path / "problems.txt"
    options = ReadOptions(malformed_log=str(log))
    stats = ReadStats()
    batches = list(read_aside([str(path)], "auto", stats, options))
    assert any(not isinstance(b, list) for b in batches)  # it did restart
    [only] = log.read_text().splitlines()
    assert only.startswith(f"{path}:6001: invalid JSON")
    assert (
        load_sorted([str(path)], "auto", ReadStats(), options)
        and len(log.read_text().splitlines()) == 1
    )


def test_reasons_count_together_whatever_values_they_quote():
    assert reason_key("time: not an ISO 8601 timestamp: 'x'") == reason_key(
        "time: not an ISO 8601 timestamp: 'yesterday'"
    )
    assert (
        reason_key("invalid JSON: line 1 column 5 (char 4)")
        == "invalid JSON: line N column N (char N)"
    )


def test_replay_lists_only_the_first_problem_lines_and_writes_all_on_request(capsys, tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"\n".join([b"{broken"] * 300 + [record()]) + b"\n")
    assert main(["replay", str(path)]) == 0
    _, err = capsys.readouterr()
    assert "300 malformed" in err and "first 20 of 300 problem lines" in err
    assert err.count(f"{path}:") == 20 and "--malformed-log FILE writes every one" in err
    log = tmp_path / "all.txt"
    assert main(["replay", str(path), "--show-problems", "3", "--malformed-log", str(log)]) == 0
    _, err = capsys.readouterr()
    assert err.count(f"{path}:") == 3 and len(log.read_text().splitlines()) == 300
    assert "malformed by reason: invalid JSON: unexpected character" in err
    assert "line N column N (char N) x300" in err


def test_a_gz_cut_short_fails_the_run_unless_allowed(capsys, tmp_path):
    whole = gzip.compress(b"\n".join(record(user=u) for u in range(2000)) + b"\n")
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    for argv in (["replay", str(cut)], ["ingest", "tracking-log", "--dry-run", str(cut)],
                 ["learners", str(cut), "--at", "2024-03-05"]):  # fmt: skip
        assert main(argv) == 3
        _, err = capsys.readouterr()
        assert "cannot read past line" in err and "--allow-truncated" in err
        assert main([*argv, "--allow-truncated"]) == 0
        capsys.readouterr()
