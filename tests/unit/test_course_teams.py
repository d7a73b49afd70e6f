"""Course teams tune with evidence (issue 21): per-course results everywhere, a pack or a
roster applying only to the courses it names, and "what did my change do" (--compare)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from facilitation_rules.packs.loader import parse_pack
from facilitation_stream.backtest.comparison import compare
from facilitation_stream.backtest.ordered_input import load_sorted, replay_batches
from facilitation_stream.cli.main import main
from facilitation_stream.ingest.read_stats import ReadStats
from tests.unit.two_courses import DEFAULT, A, B, pack_text, write_two_courses


@pytest.fixture
def two_courses(tmp_path):
    return write_two_courses(tmp_path / "lms.jsonl")


def section(html: str, course: str) -> str:
    """The report's section of one course."""
    start = html.index(
        f"<section class=course id='course-{course.replace(':', '-')}".replace("+", "-")
    )
    return html[start : html.index("</section>", start)]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def fires(out: str, rule: str = "unanswered_post") -> set[tuple[str, str]]:
    alerts = [json.loads(line) for line in out.splitlines()]
    return {(a["course_id"], a["subject_id"]) for a in alerts if a["rule"] == rule
            and a["action"] == "fire"}  # fmt: skip


def test_the_summary_and_the_table_split_alerts_by_course(capsys, two_courses):
    code, out, err = run(capsys, "replay", str(two_courses), "--output", "table")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split()[:4] == ["FIRED_AT", "ACTION", "COURSE", "RULE"]
    assert {row.split()[2] for row in rows} == {A, B}
    assert "alerts by course and rule (fired / resolved):" in err
    assert err.index(f"  {A}\n") < err.index(f"  {B}\n") < err.index("alerts by rule, all courses")


def test_course_keeps_one_course_or_a_pattern(capsys, two_courses):
    _, everything, _ = run(capsys, "replay", str(two_courses))
    code, out, err = run(capsys, "replay", str(two_courses), "--course", A)
    assert code == 0 and {c for c, _ in fires(out)} == {A}
    assert fires(out) == {x for x in fires(everything) if x[0] == A}
    assert "for courses --course leaves out" in err and f"{B} (" in err
    _, out, _ = run(capsys, "replay", str(two_courses), "--course", "course-v1:OrgB+*")
    assert {c for c, _ in fires(out)} == {B}
    _, _, err = run(capsys, "replay", str(two_courses), "--course", "course-v1:Nobody+X+Y")
    assert "matches no course replayed" in err


def test_a_pack_for_one_course_says_which_courses_it_leaves_out(capsys, two_courses, tmp_path):
    pack = tmp_path / "a.yaml"
    pack.write_text(pack_text("a-only", applies_to=f"{{course: '{A}'}}"))
    code, out, err = run(capsys, "replay", str(two_courses), "--rules", str(pack))
    assert code == 0 and {c for c, _ in fires(out)} == {A}
    assert f"warning: 1 course(s) in the log not replayed (the pack applies to course {A})" in err
    assert f"{B} (" in err


def test_a_roster_applies_to_its_course_only(capsys, two_courses, tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        f"course_id: '{A}'\ntutors:\n  - {{id: tina, name: Tina, capacity: 3}}\n"
        "  - {id: tom, name: Tom, capacity: 3}\n"
    )
    report = tmp_path / "r.html"
    code, _, err = run(
        capsys, "replay", str(two_courses), "--roster", str(roster), "--report", str(report)
    )
    assert code == 0 and f"the roster is for {A}: the per-tutor load covers that course only" in err
    html = report.read_text()
    assert "Per-tutor load" in section(html, A) and "tina" in section(html, A)
    assert "Per-tutor load" not in section(html, B)
    plain = tmp_path / "tutors.yaml"
    plain.write_text("- tina\n- tom\n")
    _, _, err = run(capsys, "replay", str(two_courses), "--roster", str(plain))
    assert "the roster names no course: its tutors take the alerts of all 2 courses" in err


def test_learners_csv_names_the_course_of_each_row_and_filters_by_course(capsys, two_courses):
    _, out, _ = run(capsys, "learners", str(two_courses), "--at", "2024-01-20")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["course_id"] for r in rows} == {A, B} and len(rows) == 10
    _, out, _ = run(capsys, "learners", str(two_courses), "--at", "2024-01-20", "--course", B)
    assert {r["course_id"] for r in csv.DictReader(io.StringIO(out))} == {B}


# -- what did my change do ----------------------------------------------------------------


def test_a_shorter_sla_fires_a_known_superset(capsys, two_courses, tmp_path):
    slow, fast = tmp_path / "slow.yaml", tmp_path / "fast.yaml"
    slow.write_text(pack_text("slow", sla=24, question_sla=24))
    fast.write_text(pack_text("fast", sla=6, question_sla=6))
    _, out_slow, _ = run(capsys, "replay", str(two_courses), "--rules", str(slow))
    _, out_fast, _ = run(capsys, "replay", str(two_courses), "--rules", str(fast))
    expected_slow = {(c, f"{p}{t}") for c, p in ((A, "a"), (B, "b")) for t in ("t4", "t5")}
    expected_fast = expected_slow | {(c, f"{p}{t}") for c, p in ((A, "a"), (B, "b"))
                                     for t in ("t2", "t3")}  # fmt: skip
    assert fires(out_slow) == expected_slow and fires(out_fast) == expected_fast

    code, out, err = run(
        capsys, "replay", str(two_courses), "--rules", str(slow), "--compare", str(fast)
    )
    assert code == 0 and out == out_slow  # stdout: pack A's alerts, as without --compare
    assert "comparison: A = pack 'slow', B = pack 'fast'" in err
    block = err[err.index("comparison:") :]
    course_a = block[block.index(f"{A}\n") : block.index(f"{B}\n")]
    line = next(x for x in course_a.splitlines() if x.split()[:1] == ["unanswered_post"])
    assert line.split()[1:] == ["0", "2", "2"]  # only A, only B, both
    [samples] = [x for x in course_a.splitlines() if "only B, unanswered_post:" in x]
    assert "post at2 " in samples and "post at3 " in samples
    assert "first posts answered within the SLA: 60% of 5 -> 20% of 5" in course_a
    assert "tutor load:" in course_a


def test_the_comparison_is_exact_per_course_and_rule(two_courses):
    slow, fast = parse_pack(pack_text("slow", 24, 24)), parse_pack(pack_text("fast", 6, 6))
    items = load_sorted([str(two_courses)], "auto", ReadStats())
    a, b = replay_batches([items], [slow, fast], None)
    result = compare(a, b)
    assert [d.course_id for d in result.courses] == [A, B]
    for diff in [*result.courses, result.total]:
        rule = next(r for r in diff.rules if r.rule == "unanswered_post")
        assert rule.only_a == [] and len(rule.only_b) == (4 if diff.course_id is None else 2)
        assert {x.subject_id[1:] for x in rule.only_b} == {"t2", "t3"}
        assert diff.load[1] > diff.load[0]
        # within 24 h: t1, t2, t3; within 6 h: t1 alone
        courses = 2 if diff.course_id is None else 1
        assert (diff.sla[0].within, diff.sla[1].within) == (3 * courses, courses)
    # A pack compared with itself changes nothing.
    same = compare(*replay_batches([items], [slow, slow], None))
    assert not any(d.changed for d in same.courses)


def test_compare_with_the_default_pack_and_its_report(capsys, two_courses, tmp_path):
    fast = tmp_path / "fast.yaml"
    fast.write_text(pack_text("fast", sla=6, question_sla=6))
    report = tmp_path / "r.html"
    code, _, err = run(
        capsys, "replay", str(two_courses), "--rules", str(fast), "--compare", "default",
        "--report", str(report),
    )  # fmt: skip
    assert code == 0 and "B = pack 'default'" in err
    html = report.read_text()
    assert "id=comparison" in html and "Only A, unanswered_post" in html
    assert "Rows in bold differ between the two packs" in html


def test_a_failing_filter_is_a_warning_in_the_summary(capsys, two_courses, tmp_path):
    pack = tmp_path / "p.yaml"
    pack.write_text(
        DEFAULT.replace(
            "    when: null                 # e.g. 'thread_type",
            "    when: 'word_count / 0 > 1'  # e.g. 'thread_type",
        )
    )
    code, out, err = run(capsys, "replay", str(two_courses), "--rules", str(pack))
    assert code == 0 and not fires(out)
    assert "rules.unanswered_post.when: 10 evaluation(s) failed" in err
    assert "arithmetic error" in err and "the rule is partly off" in err
