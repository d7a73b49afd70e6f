"""The CLI contracts of `facilitation replay`, `learners` and `rules`."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest

from facilitation_rules.contract.codec import dumps
from facilitation_rules.packs.loader import default_pack_text
from facilitation_stream.cli.main import main
from tests.unit.event_factory import activity, enrolled, response, thread

REQUIRED = {
    "alert_id",
    "rule",
    "kind",
    "course_id",
    "subject_type",
    "subject_id",
    "learner_id",
    "fired_at",
    "severity",
    "reasons",
}


@pytest.fixture
def events_file(tmp_path):
    events = [
        enrolled(0, "ann"),
        enrolled(0, "zoe"),
        thread(1, "ann", "t1"),
        thread(2, "bob", "t2", question=True),
        response(30, "cat", "r1", "t2"),
        activity(40, "ann"),
        response(60, "bob", "r2", "t1"),
    ]
    path = tmp_path / "events.jsonl"
    # unsorted on purpose, plus a broken line
    lines = [dumps(e) for e in reversed(events)]
    lines.insert(3, "{not json")
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_replay_writes_sorted_jsonl_alerts_and_a_summary(capsys, events_file):
    code, out, err = run(capsys, "replay", str(events_file), "--until", "2024-01-20T00:00:00Z")
    assert code == 0
    alerts = [json.loads(line) for line in out.splitlines()]
    assert alerts and all(set(a) >= REQUIRED for a in alerts)
    assert all(a["fired_at"].endswith("Z") for a in alerts)
    assert [a["fired_at"] for a in alerts] == sorted(a["fired_at"] for a in alerts)
    assert {a["kind"] for a in alerts} <= {
        "unanswered_post",
        "silent_learner",
        "dropout_risk",
        "reflection",
    }
    t1 = [a for a in alerts if a["rule"] == "unanswered_post" and a["subject_id"] == "t1"]
    assert [a["action"] for a in t1] == ["fire", "resolve"] and t1[0]["learner_id"] == "ann"
    assert f"{events_file}:4: " in err and "1 malformed" in err
    assert "alerts by rule" in err and "unanswered_post" in err
    _, out2, _ = run(capsys, "replay", str(events_file), "--until", "2024-01-20T00:00:00Z")
    assert out2 == out  # byte-identical


def test_replay_of_files_in_any_order_gives_the_output_of_one_sorted_file(capsys, tmp_path):
    # The reading process streams the first file, finds the second older, reads both again
    # and sorts them whole; the output must not show it (nor the one-process reading).
    events = [enrolled(0, "ann")] + [
        e
        for i in range(40)
        for e in (
            thread(24 * i + 1, "ann", f"t{i}"),
            response(24 * i + 30, "bob", f"r{i}", f"t{i}"),
        )
    ]
    whole, first, second = (tmp_path / n for n in ("whole.jsonl", "first.jsonl", "second.jsonl"))
    whole.write_text("".join(dumps(e) + "\n" for e in events))
    first.write_text("".join(dumps(e) + "\n" for e in events[:41]))
    second.write_text("".join(dumps(e) + "\n" for e in events[41:]))
    expected = run(capsys, "replay", str(whole))[1]
    assert expected
    _, out, err = run(capsys, "replay", str(second), str(first))
    assert out == expected and "0 malformed" in err


def test_replay_default_until_is_the_last_event(capsys, events_file):
    _, out, _ = run(capsys, "replay", str(events_file))
    assert max(json.loads(line)["fired_at"] for line in out.splitlines()) <= "2024-01-10T12:00:00Z"


def test_replay_exit_codes(capsys, events_file, tmp_path):
    assert run(capsys, "replay", str(events_file), "--strict")[0] == 1
    assert run(capsys, "replay", str(tmp_path / "missing.log"))[0] == 2
    assert run(capsys, "replay", str(events_file), "--until", "tomorrow")[0] == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\n")
    code, _, err = run(capsys, "replay", str(events_file), "--rules", str(bad))
    assert code == 2 and f"{bad}:1:10:" in err
    with pytest.raises(SystemExit) as info:
        main(["replay", str(events_file), "--format", "xml"])
    assert info.value.code == 2


def test_replay_table_and_html_report(capsys, events_file, tmp_path):
    code, out, _ = run(capsys, "replay", str(events_file), "--output", "table")
    assert code == 0 and out.startswith("FIRED_AT")
    roster = tmp_path / "tutors.yaml"
    roster.write_text("- tina\n- tom\n")
    report = tmp_path / "r.html"
    code, out, _ = run(
        capsys,
        "replay",
        str(events_file),
        "--until",
        "2024-01-20T00:00:00Z",
        "--report",
        str(report),
        "--roster",
        str(roster),
    )
    html = report.read_text()
    assert code == 0 and out  # JSONL still on stdout
    assert html.count("<svg") >= 4
    # Self-contained: no script, style, image or font from elsewhere.
    assert not re.search(r"<(script|img|link|iframe)[^>]*\b(src|href)=", html)
    assert "@import" not in html and "url(http" not in html
    assert "tina" in html and "first posts" in html


def test_replay_reads_tracking_logs(capsys, tmp_path):
    from datetime import UTC, datetime

    from benchmarks.tracking_log_gen import _named, _server

    at = datetime(2024, 1, 8, 9, tzinfo=UTC)
    records = [
        _server(
            at,
            1,
            "edx.course.enrollment.activated",
            {"course_id": "course-v1:BenchX+B101+2024_T1", "user_id": 1001, "mode": "audit"},
        ),
        _named(
            at,
            1,
            "edx.forum.thread.created",
            {
                "id": "th1",
                "commentable_id": "c",
                "thread_type": "question",
                "title": "Help",
                "body": "x",
                "anonymous": False,
                "anonymous_to_peers": False,
                "user_forums_roles": ["Student"],
                "user_course_roles": [],
            },
        ),
    ]
    path = tmp_path / "tracking.log"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    code, out, _ = run(capsys, "replay", str(path), "--until", "2024-01-09T09:00:00Z")
    rules = [(a["rule"], a["subject_id"]) for a in map(json.loads, out.splitlines())]
    assert code == 0 and ("unanswered_post", "th1") in rules


def test_learners_csv_lists_every_enrolled_learner(capsys, events_file):
    code, out, _ = run(capsys, "learners", str(events_file), "--at", "2024-01-20T00:00:00Z")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert list(rows[0]) == [
        "course_id",
        "learner_id",
        "username",
        "enrolled_at",
        "last_active_at",
        "active_days",
        "posts",
        "replies_received",
        "reflections",
        "risk_score",
        "open_alerts",
        "reasons",
    ]
    by_id = {r["learner_id"]: r for r in rows}
    assert set(by_id) == {"ann", "bob", "cat", "zoe"}
    assert by_id["zoe"]["last_active_at"] == "" and by_id["zoe"]["enrolled_at"].endswith("Z")
    assert by_id["ann"]["posts"] == "1" and by_id["ann"]["replies_received"] == "1"
    assert 0 <= float(by_id["cat"]["risk_score"]) <= 1 and by_id["cat"]["reasons"]
    for row in rows:  # one line of distinct reasons
        reasons = row["reasons"].split("; ")
        assert len(reasons) == len(set(reasons))


def test_learners_requires_at(capsys, events_file):
    with pytest.raises(SystemExit) as info:
        main(["learners", str(events_file)])
    assert info.value.code == 2


def test_rules_validate_and_show_default(capsys, tmp_path):
    code, out, _ = run(capsys, "rules", "show-default")
    assert code == 0 and out == default_pack_text()
    good = tmp_path / "good.yaml"
    good.write_text(out)
    bad = tmp_path / "bad.yaml"
    bad.write_text(out.replace("    sla_hours: 24", "    sla_hours: -2"))
    assert run(capsys, "rules", "validate", str(good))[0] == 0
    code, out, _ = run(capsys, "rules", "validate", str(good), str(bad), str(tmp_path / "no.yaml"))
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith(f"{bad}:") and "rules.unanswered_post.sla_hours" in lines[0]
    assert lines[1].startswith(f"{tmp_path / 'no.yaml'}:1:1: cannot read")


def test_version_says_which_build_runs(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    compiled = os.environ.get("FACILITATION_EXPECT_COMPILED") == "1"  # make test-compiled
    build = "rules compiled with mypyc" if compiled else "pure Python"
    assert re.fullmatch(rf"facilitation \S+ \({build}\)\n", capsys.readouterr().err)
