"""The CLI's small things (issue 21, item 6): help on every option, a date alone read as its
midnight UTC, YAML and range errors in plain words at the line of the mistake, the command
the example roster names exists, and a missing ``applies_to`` says what to write."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from facilitation_rules.packs.loader import default_pack_text
from facilitation_stream.cli.main import build_parser, main
from tests.unit.two_courses import write_two_courses

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = default_pack_text()


def actions(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield f"{path} {choice.dest}", choice
            for name, sub in action.choices.items():
                yield from actions(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield f"{path} {'/'.join(action.option_strings) or action.dest}", action


def test_every_command_and_option_has_help_text():
    missing = [where for where, action in actions(build_parser(), "facilitation")
               if not action.help or action.help == argparse.SUPPRESS]  # fmt: skip
    assert missing == []


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_date_alone_is_its_midnight_utc(capsys, tmp_path):
    log = write_two_courses(tmp_path / "lms.jsonl")
    by_date = run(capsys, "learners", str(log), "--at", "2024-01-20")
    by_time = run(capsys, "learners", str(log), "--at", "2024-01-20T00:00:00Z")
    assert by_date[0] == 0 and by_date[1] == by_time[1]
    assert (
        run(capsys, "replay", str(log), "--until", "2024-01-10")[1]
        == run(capsys, "replay", str(log), "--until", "2024-01-10T00:00:00+00:00")[1]
    )
    code, _, err = run(capsys, "replay", str(log), "--until", "2024-13-01")
    assert code == 2 and "--until: not a date: '2024-13-01'" in err
    code, _, err = run(capsys, "learners", str(log), "--at", "next week")
    assert code == 2 and "e.g. 2025-03-01 (midnight UTC) or 2025-03-01T09:00:00Z" in err


def validate(capsys, tmp_path, text: str) -> list[str]:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    code, out, _ = run(capsys, "rules", "validate", str(path))
    assert code == 1
    return [line.replace(f"{path}:", "p.yaml:", 1) for line in out.splitlines()]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_quote_never_closed(capsys, tmp_path):
    assert validate(capsys, tmp_path, "version: 1\nname: 'mine\napplies_to: all\n") == [
        "p.yaml:2:7: this quote is never closed: end the value with the same quote"
    ]


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (("    sla_hours: 24 ", "    sla_hours 24 "), "sla_hours 24",
         "a setting needs ':' after its name (name: value)"),
        (("    question_sla_hours: 12", "   question_sla_hours: 12"), "   question_sla_hours",
         "this line is indented by 3 spaces, which lines up with no block above it"),
        (("    warn_at: 0.75 ", "\twarn_at: 0.75 "), "warn_at", "a tab character"),
        (("name: default", 'name: "default'), 'name: "default',
         "this quote is closed only on line 12"),
        (('hours: {start: "09:00", end: "17:00"}', 'hours: {start: "09:00", end: "17:00"'),
         "hours: {", "the '{' here is not closed"),
        (("name: default", "name: default: mine"), "name: default: mine",
         "a second ':' on this line: put the value in quotes"),
    ],
)  # fmt: skip
def test_yaml_syntax_errors_in_plain_words_at_the_line_of_the_mistake(
    capsys, tmp_path, change, needle, message
):
    text = DEFAULT.replace(*change, 1)
    [problem] = validate(capsys, tmp_path, text)
    assert problem.startswith(f"p.yaml:{line_of(text, needle)}:"), problem
    assert message in problem and "expected <block end>" not in problem
    assert "YAML syntax" not in problem


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    sla_hours: 24 ", "    sla_hours: 0 "),
         "rules.unanswered_post.sla_hours: must be more than 0 (got 0)"),
        (("    warn_at: 0.75 ", "    warn_at: 1.5 "),
         "rules.unanswered_post.warn_at: must be less than 1 (got 1.5)"),
        (("    threshold: 0.5 ", "    threshold: 2 "),
         "rules.dropout_risk.threshold: must be at most 1 (got 2)"),
        (("    sla_hours: 24 ", "    sla_hours: soon "),
         "rules.unanswered_post.sla_hours: expected a number (got 'soon')"),
        (("    replies_from: anyone ", "    replies_from: tutors "),
         "rules.unanswered_post.replies_from: must be one of anyone, staff (got 'tutors')"),
        (('start: "09:00"', 'start: "9am"'),
         'calendar.hours.start: expected a time as "HH:MM" in quotes, e.g. "09:00"'),
    ],
)  # fmt: skip
def test_range_and_type_errors_in_plain_words(capsys, tmp_path, change, message):
    text = DEFAULT.replace(*change, 1)
    [problem] = validate(capsys, tmp_path, text)
    assert message in problem, problem
    assert "is less than" not in problem and "is not of type" not in problem


def test_a_missing_applies_to_says_what_to_write(capsys, tmp_path):
    text = "\n".join(line for line in DEFAULT.splitlines() if not line.startswith("applies_to"))
    [problem] = validate(capsys, tmp_path, text + "\n")
    first = line_of(text, "version: 1")  # the top-level block starts there
    assert problem.startswith(f"p.yaml:{first}:1: applies_to: missing: add `applies_to: all`")
    assert "{course: course-v1:ORG+COURSE+RUN}" in problem


def test_the_command_the_example_roster_names_exists_and_checks_it(capsys):
    example = ROOT / "rules/facilitation_rules/packs/roster.example.yaml"
    [command] = re.findall(r"`facilitation ([^`]+) FILE`", example.read_text().splitlines()[0])
    code, out, _ = run(capsys, *command.split(), str(example))
    assert code == 0 and "valid roster for course-v1:OpenEdX+Facilitation+2025, 8 tutors" in out
