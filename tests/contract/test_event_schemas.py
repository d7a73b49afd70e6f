"""The committed JSON Schemas are the contract: they match the code, change only additively,
and accept what the codec writes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from facilitation_rules.contract import codec as event_codec
from facilitation_rules.contract.events import (
    ActivityRecorded,
    Actor,
    PostCreated,
    Role,
)
from facilitation_rules.contract.json_schemas import (
    SCHEMA_DIR,
    all_schemas,
    breaking_changes,
    load_dir,
    main,
)

REGENERATE = "run `python -m facilitation_rules.contract.json_schemas --write` and commit schemas/"


def test_committed_schemas_match_the_code() -> None:
    committed, generated = load_dir(SCHEMA_DIR), all_schemas()
    assert sorted(committed) == sorted(generated), REGENERATE
    for name, schema in generated.items():
        assert committed[name] == schema, f"{name} is stale: {REGENERATE}"


def test_code_changes_the_committed_schemas_only_additively() -> None:
    assert breaking_changes(load_dir(SCHEMA_DIR), all_schemas()) == []


@pytest.mark.parametrize("name", sorted(all_schemas()))
def test_every_schema_is_valid_json_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(all_schemas()[name])


def test_codec_output_validates_against_the_committed_schema() -> None:
    committed = load_dir(SCHEMA_DIR)
    at = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    events = [
        PostCreated(
            event_id="e1",
            occurred_at=at,
            course_id="course-v1:X+Y+Z",
            actor=Actor(user_id="7", role=Role.TUTOR, username="tina"),
            post_id="p1",
            thread_id="t1",
            parent_post_id="t1",
            post_kind="response",
        ),
        ActivityRecorded(
            event_id="e2",
            occurred_at=at,
            course_id="course-v1:X+Y+Z",
            actor=Actor(user_id="8"),
            learner_id="8",
            activity_kind="video",
        ),
    ]
    for event in events:
        schema = committed[f"{event.event_type}.json"]
        jsonschema.validate(event_codec.to_dict(event), schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**event_codec.to_dict(event), "course_id": 3}, schema)


# --- the additive-change checker itself, on synthetic before/after schemas ---------------

BEFORE: dict[str, Any] = {
    "x.created.v1.json": {
        "type": "object",
        "properties": {
            "event_type": {"const": "x.created.v1"},
            "event_id": {"type": "string"},
            "kind": {"type": "string", "enum": ["a", "b"], "default": "a"},
            "note": {"type": ["string", "null"], "default": None},
            "actor": {
                "type": "object",
                "properties": {"user_id": {"type": "string"}},
                "required": ["user_id"],
            },
        },
        "required": ["event_type", "event_id", "actor"],
    }
}


def _after(change: Any) -> dict[str, Any]:
    after = copy.deepcopy(BEFORE)
    change(after["x.created.v1.json"])
    return after


def _props(schema: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = schema["properties"]
    return props


ADDITIVE = {
    "unchanged": lambda s: None,
    "new optional field": lambda s: _props(s).update(extra={"type": "integer", "default": 0}),
    "new enum value": lambda s: _props(s)["kind"].update(enum=["a", "b", "c"]),
    "new optional actor field": lambda s: _props(s)["actor"]["properties"].update(
        role={"type": "string", "default": "learner"}
    ),
    "new default on optional": lambda s: _props(s)["note"].update(default="n/a"),
}

BREAKING = {
    "field removed": (lambda s: _props(s).pop("note"), "note: property removed"),
    "type changed": (
        lambda s: _props(s)["event_id"].update(type="integer"),
        "event_id: type changed",
    ),
    "nullable dropped": (
        lambda s: _props(s)["note"].update(type="string"),
        "note: type changed",
    ),
    "optional -> required": (
        lambda s: s["required"].append("kind"),
        "kind: optional -> required",
    ),
    "required -> optional": (
        lambda s: s["required"].remove("event_id"),
        "event_id: required -> optional",
    ),
    "new required field": (
        lambda s: (
            _props(s).update(extra={"type": "string"}),
            s["required"].append("extra"),
        ),
        "extra: new required property",
    ),
    "enum value removed": (
        lambda s: _props(s)["kind"].update(enum=["a"]),
        "kind: values removed ['b']",
    ),
    "nested field removed": (
        lambda s: _props(s)["actor"]["properties"].pop("user_id"),
        "actor.user_id: property removed",
    ),
    "event name changed": (
        lambda s: _props(s)["event_type"].update(const="x.created.v2"),
        "event_type: constant changed",
    ),
}


@pytest.mark.parametrize("change", sorted(ADDITIVE))
def test_checker_accepts_additive_changes(change: str) -> None:
    assert breaking_changes(BEFORE, _after(ADDITIVE[change])) == []


def test_checker_accepts_a_new_event_type() -> None:
    after = {**BEFORE, "y.created.v1.json": {"type": "object", "properties": {}}}
    assert breaking_changes(BEFORE, after) == []


@pytest.mark.parametrize("change", sorted(BREAKING))
def test_checker_rejects_breaking_changes(change: str) -> None:
    mutate, expected = BREAKING[change]
    problems = breaking_changes(BEFORE, _after(mutate))
    assert any(expected in problem for problem in problems), problems


def test_checker_rejects_a_removed_event_type() -> None:
    assert breaking_changes(BEFORE, {}) == ["x.created.v1.json: event type removed"]


def test_write_refuses_a_breaking_change_and_check_reports_stale(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--write", "--dir", str(tmp_path)]) == 0
    assert main(["--check", "--dir", str(tmp_path)]) == 0
    post = tmp_path / f"{PostCreated.event_type}.json"
    committed = post.read_text()
    # Pretend the committed schema had a field the code no longer has.
    post.write_text(committed.replace('"title": {', '"headline": {"type": "string"},\n"title": {'))
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    assert main(["--write", "--dir", str(tmp_path)]) == 1
    assert "headline: property removed" in capsys.readouterr().err
    assert "headline" in post.read_text()  # nothing written
