"""Every string of the contract is bounded: in the JSON Schemas and in the decoder."""

from __future__ import annotations

import json

import jsonschema
import pytest

from facilitation_rules.contract.codec import EventDecodeError, FieldTooLong, loads, to_dict
from facilitation_rules.contract.events import EXCERPT_MAX, ID_MAX, MAX_LENGTH
from facilitation_rules.contract.json_schemas import SCHEMA_DIR, load_dir
from tests.unit.event_factory import thread


def _record(**changes: object) -> dict[str, object]:
    return {**to_dict(thread(1, "learner-1", "p1")), **changes}


def test_a_two_million_character_excerpt_is_cut_to_the_bound() -> None:
    event = loads(json.dumps(_record(body_excerpt="word " * 400_000, title="t" * 5000)))
    assert len(event.body_excerpt) <= EXCERPT_MAX  # type: ignore[attr-defined]
    assert len(event.title) <= MAX_LENGTH["title"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("field", ["post_id", "thread_id", "course_id", "event_id"])
def test_an_id_over_the_bound_is_rejected_with_its_name(field: str) -> None:
    with pytest.raises(FieldTooLong, match=f"{field}: {ID_MAX + 1:,} characters"):
        loads(json.dumps(_record(**{field: "x" * (ID_MAX + 1)})))


def test_the_actor_is_bounded_too() -> None:
    long = {"user_id": "7" * 300, "role": "learner"}
    with pytest.raises(FieldTooLong, match="user_id"):
        loads(json.dumps(_record(actor=long)))
    with pytest.raises(FieldTooLong, match="username"):
        loads(json.dumps(_record(actor={"user_id": "7", "username": "u" * 300})))


def test_a_url_is_not_cut_but_refused() -> None:
    with pytest.raises(FieldTooLong, match="url"):
        loads(json.dumps(_record(url="https://lms.example/" + "x" * 3000)))


def test_types_are_still_checked_before_lengths() -> None:
    with pytest.raises(EventDecodeError, match="post_id: expected a string"):
        loads(json.dumps(_record(post_id=42)))


def _strings(schema: dict[str, object], where: str = "") -> list[tuple[str, dict[str, object]]]:
    found = []
    for name, prop in schema.get("properties", {}).items():  # type: ignore[attr-defined]
        types = prop.get("type")
        types = types if isinstance(types, list) else [types]
        if "object" in types:
            found += _strings(prop, f"{where}{name}.")
        elif "string" in types and "enum" not in prop and "format" not in prop:
            found.append((f"{where}{name}", prop))
    return found


def test_every_free_string_of_every_committed_schema_has_a_max_length() -> None:
    for file_name, schema in load_dir(SCHEMA_DIR).items():
        strings = _strings(schema)
        assert strings, file_name
        for name, prop in strings:
            assert isinstance(prop.get("maxLength"), int), f"{file_name}: {name}"


def test_the_committed_schema_refuses_what_the_decoder_rejects() -> None:
    schema = load_dir(SCHEMA_DIR)["org.openedx.facilitation.post.created.v1.json"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_record(post_id="x" * (ID_MAX + 1)), schema)
