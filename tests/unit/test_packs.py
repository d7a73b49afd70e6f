"""Rule packs: the default is valid, problems point at FILE:LINE:COL, conditions type-check."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from facilitation_rules.packs.loader import PackError, default_pack_text, load_pack, parse_pack

DEFAULT = default_pack_text()


def problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        parse_pack(text)
    return [p.format("p.yaml") for p in info.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_default_pack_is_valid_and_the_schema_is_a_valid_schema():
    pack = load_pack()
    assert pack.name == "default" and pack.applies("course-v1:Any+Course+Run")
    schema = json.loads(
        resources.files("facilitation_rules").joinpath("schemas/rule-pack.schema.json").read_text()
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    assert pack.rules.dropout.enabled and pack.rules.dropout.weights


def test_unknown_setting_points_at_its_key():
    text = DEFAULT.replace("    sla_hours: 24", "    sla_hourz: 24")
    [line] = problems(text)
    assert line.startswith(
        f"p.yaml:{line_of(text, 'sla_hourz')}:5: rules.unanswered_post.sla_hourz"
    )


def test_every_problem_is_reported_once_with_line_and_column():
    text = (
        DEFAULT.replace("went_quiet_days: 10", "went_quiet_days: -1")
        .replace("timezone: UTC", "timezone: Mars/Olympus")
        .replace(
            "severity: warning\n    when: null                 # e.g. 'active_days",
            "severity: warning\n    when: 'activedays > 2'     # e.g. 'active_days",
        )
    )
    found = problems(text)
    assert len(found) == 3
    assert any(f":{line_of(text, 'Mars/Olympus')}:13: calendar.timezone" in p for p in found)
    assert any(f":{line_of(text, 'went_quiet_days: -1')}:22:" in p for p in found)
    assert any("unknown name 'activedays'" in p for p in found)


def test_type_errors_in_conditions_fail_at_load():
    text = DEFAULT.replace(
        "    when: null                 # e.g. 'thread_type",
        "    when: 'title > 3'  # e.g. 'thread_type",
    )
    [line] = problems(text)
    assert "rules.unanswered_post.when: invalid condition" in line


def test_yaml_syntax_error_and_empty_file():
    # The '[' that is never closed, where it opens (PyYAML notices it a line later).
    assert problems("version: 1\nname: [x\n") == [
        "p.yaml:2:7: the '[' here is not closed: add ']' where it ends"
    ]
    assert problems("") == ["p.yaml:1:1: the file is empty: expected a rule pack"]


def test_times_stay_strings_and_dates_need_a_zone():
    text = DEFAULT.replace(
        'hours: {start: "09:00", end: "17:00"}', "hours: {start: 09:00, end: 17:00}"
    )
    assert load_pack is not None and parse_pack(text).rules.calendar.end.hour == 17
    text = DEFAULT.replace("  start: null ", "  start: 2024-01-08 ")
    [line] = problems(text)
    assert "add a time zone, e.g. 2024-01-08T00:00:00Z" in line


@pytest.mark.parametrize(
    ("applies_to", "course", "expected"),
    [
        ("{course: course-v1:A+B+C}", "course-v1:A+B+C", True),
        ("{course: course-v1:A+B+C}", "course-v1:A+B+D", False),
        ("{course_run: 'course-v1:A+B+*'}", "course-v1:A+B+2024", True),
        ("{course_run: 'course-v1:A+B+*'}", "course-v1:A+C+2024", False),
    ],
)
def test_applies_to(applies_to, course, expected):
    text = DEFAULT.replace("applies_to: all ", f"applies_to: {applies_to} ")
    pack = parse_pack(text)
    assert pack.applies(course) is expected
    assert (pack.rules_for(course) is not None) is expected


def test_a_setting_left_out_gets_the_default_packs_value():
    # Only the dropout model is given: every other number must be what the default pack says.
    minimal = (
        "version: 1\nname: mine\napplies_to: all\nrules:\n  dropout_risk:\n    model:\n"
        "      intercept: 1.0\n      weights: {recency: 0.5}\n"
    )
    mine, default = parse_pack(minimal).rules, load_pack().rules
    for section in ("unanswered", "silent", "dropout", "reflection"):
        ours, theirs = getattr(mine, section), getattr(default, section)
        for name in ("threshold", "min_inactive_days", "evaluate_hour", "window_days",
                     "max_reasons", "sla", "question_sla", "warn_at", "escalate_after",
                     "never_posted_days", "went_quiet_days", "peer_response_days"):  # fmt: skip
            if hasattr(theirs, name):
                assert getattr(ours, name) == getattr(theirs, name), f"{section}.{name}"
