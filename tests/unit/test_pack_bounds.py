"""Rule packs bounded before they cost anything (issue 16, item 6): every hostile pack is
refused with a located problem, quickly and in bounded memory, and never reaches the engine;
a ``when:`` filter cannot backtrack, and its failed evaluations are counted, not silent."""

from __future__ import annotations

import os

import pytest

from facilitation_rules.packs.conditions import POST_SYMBOLS, ConditionError, compile_condition
from facilitation_rules.packs.loader import (
    PackError,
    default_pack_text,
    load_pack,
    parse_pack,
    read_pack_text,
)
from facilitation_rules.packs.pack_yaml import MAX_PACK_BYTES

DEFAULT = default_pack_text()
WHEN = "    when: null                 # e.g. 'thread_type"


def problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        parse_pack(text)
    return [p.format("p.yaml") for p in info.value.problems]


def with_when(condition: str) -> str:
    return DEFAULT.replace(WHEN, f"    when: '{condition}'  # e.g. 'thread_type")


def billion_laughs() -> str:
    """Nine levels of nine aliases each: 9^9 (387 million) strings from 0.4 kB of YAML."""
    lines = ["version: 1", "name: lol", "applies_to: all", 'a0: &a0 ["lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    lines.append("description: *a9")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_pack_fails_at_its_first_alias():
    text = billion_laughs()
    assert len(text) < 5_000
    assert problems(text) == [
        "p.yaml:5:10: aliases (*a0) are not allowed in a rule pack: write the value out"
    ]


def test_nesting_is_bounded_before_the_composer_recurses():
    text = "version: 1\nname: x\napplies_to: all\ndescription: " + "[" * 3000 + "]" * 3000
    [line] = problems(text + "\n")
    assert line.startswith("p.yaml:4:") and "nest more than 16 levels" in line


def test_a_key_given_twice_is_an_error_at_the_second():
    text = DEFAULT.replace("    sla_hours: 24 ", "    sla_hours: 24\n    sla_hours: 12 ")
    second = text.splitlines().index("    sla_hours: 12 " + DEFAULT.split("sla_hours: 24 ")[1]
                                      .splitlines()[0]) + 1  # fmt: skip
    assert problems(text) == [
        f"p.yaml:{second}:5: 'sla_hours' is set twice in the same block (first on line "
        f"{second - 1}): keep one"
    ]


def test_a_pack_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as out:  # 50 MB, sparse: nothing to read if the size is checked
        out.truncate(50 << 20)
    with pytest.raises(PackError) as info:
        load_pack(path)
    [problem] = info.value.problems
    assert (problem.line, problem.col) == (1, 1)
    assert f"52,428,800 bytes; a rule pack may be at most {MAX_PACK_BYTES:,}" in problem.message
    with pytest.raises(PackError):
        read_pack_text(path)
    assert "at most" in problems("description: '" + "x" * (MAX_PACK_BYTES + 1) + "'\n")[0]


def test_twenty_thousand_terms_are_a_located_problem_not_a_recursion_error():
    condition = " or ".join(f"word_count == {i}" for i in range(20_000))
    [line] = problems(with_when(condition))
    where = DEFAULT.splitlines().index(WHEN + DEFAULT.split(WHEN)[1].splitlines()[0]) + 1
    assert line.startswith(f"p.yaml:{where}:11: rules.unanswered_post.when: invalid condition")
    assert "characters long; at most 1,000" in line


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("[" * 30 + "1" + "]" * 30 + " == word_count", "brackets nest 30 deep; at most 16"),
        ("-" * 900 + "word_count > 1", "nests too deeply"),
        ("title =~ body_excerpt", "the pattern after =~ or !~ must be a quoted string"),
        ("title =~ " + '"(a)\\\\1"', "cannot run in linear time"),
        ("title =~ " + '"a(?=b)"', "backreferences and lookarounds are not supported"),
        ("2 ** 99999999 > word_count", "arithmetic error"),
        (" or ".join(["a"] * 150), "more than 200 parts"),
        ("[x for x in [word_count, 1]] == [1.0]", "comprehensions"),
    ],
)
def test_conditions_that_could_cost_without_bound_are_refused(condition, reason):
    with pytest.raises(ConditionError) as info:
        compile_condition(condition, {**POST_SYMBOLS, "a": "BOOLEAN"})
    assert reason in str(info.value)


def test_a_backtracking_pattern_runs_in_linear_time_on_the_post_that_would_hang_re():
    # With Python's re, (a+)+$ on 35 a's and a '!' takes minutes; RE2 answers at once.
    condition = compile_condition('body_excerpt =~ "(a+)+$"', POST_SYMBOLS)
    assert condition.matches({"body_excerpt": "a" * 35 + "!"}) is False
    assert condition.matches({"body_excerpt": "a" * 35}) is True
    assert condition.errors == 0
    search = compile_condition('title =~~ "(?i)assignment|deadline"', POST_SYMBOLS)
    assert search.matches({"title": "When is the Deadline?"})


def test_failed_evaluations_are_counted_on_the_condition():
    pack = parse_pack(with_when("word_count / 0 > 1"))
    [condition] = list(pack.conditions())
    assert condition.label == "rules.unanswered_post.when"
    assert condition.matches({"word_count": 3.0}) is False
    assert condition.matches({"word_count": 5.0}) is False
    assert condition.errors == 2 and "division by zero" in condition.last_error


def test_each_evaluation_reads_a_bounded_part_of_a_text():
    condition = compile_condition('body_excerpt =~~ "needle"', POST_SYMBOLS)
    assert condition.matches({"body_excerpt": "x" * 10_000 + "needle"}) is False
    assert condition.matches({"body_excerpt": "needle" + "x" * 10_000}) is True


def test_hot_reload_applies_the_same_bounds_and_keeps_the_previous_pack(tmp_path):
    from prometheus_client import CollectorRegistry

    from facilitation_stream.metrics import Metrics
    from facilitation_stream.worker.rules_engine import RulesEngine

    path = tmp_path / "pack.yaml"
    path.write_text(DEFAULT.replace("name: default", "name: before"))
    engine = RulesEngine(str(path), Metrics(CollectorRegistry()))
    for hostile in (billion_laughs(), with_when("title =~ body_excerpt")):
        path.write_text(hostile)
        with pytest.raises(PackError):
            engine.reload(str(path))
        assert engine.rules_for("course-v1:A+B+C").pack_name == "before"
    with open(path, "wb") as out:
        out.truncate(50 << 20)
    with pytest.raises(PackError):
        engine.reload(os.fspath(path))
    assert engine.rules_for("course-v1:A+B+C").pack_name == "before"


def test_the_worker_exports_failed_evaluations_per_rule(tmp_path):
    from prometheus_client import CollectorRegistry

    from facilitation_stream.metrics import Metrics
    from facilitation_stream.worker.rules_engine import RulesEngine

    path = tmp_path / "pack.yaml"
    path.write_text(with_when("word_count / 0 > 1"))
    registry = CollectorRegistry()
    engine = RulesEngine(str(path), Metrics(registry))
    [condition] = list(engine._pack.conditions())
    for _ in range(3):
        condition.matches({"word_count": 1.0})
    engine.export_counts()
    engine.export_counts()  # counted once
    name = "facilitation_condition_errors_total"
    assert registry.get_sample_value(name, {"rule": "unanswered_post"}) == 3
