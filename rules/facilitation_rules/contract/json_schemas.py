"""JSON Schemas of the event contract, generated from the dataclasses in ``events``.

The committed files in ``schemas/`` are the public promise; ``tests/contract`` checks they
equal what this module generates and that the code changed them only additively. Regenerate
after changing ``events``::

    python -m facilitation_rules.contract.json_schemas --write    # refuses breaking changes
    python -m facilitation_rules.contract.json_schemas --check    # exit 1 if files are stale

A change is additive when every event type, property and accepted value a consumer relied
on is still there with the same meaning: new event types, new optional properties and new
enum values pass; removing a property, changing its type, or changing whether it is
required does not (a v2 event type is the way to make such a change). String bounds
(``maxLength``) only grow once set; they were introduced on every string at once, at the
lengths the producers already cut to (excerpts, titles) or that Open edX ids never reach.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from dataclasses import MISSING, fields
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from facilitation_rules.contract.events import (
    NAMESPACE,
    REGISTRY,
    TRUNCATED,
    Actor,
    Event,
    max_length,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).parent.parent / "schemas"

Schema = dict[str, Any]


def _fields_schema(cls: type) -> tuple[Schema, list[str]]:
    """Properties and required names of a dataclass; defaults documented in the schema."""
    hints = typing.get_type_hints(cls)
    props: Schema = {}
    required: list[str] = []
    for f in fields(cls):
        prop = _type_schema(hints[f.name])
        if "string" in _as_list(prop.get("type")) and "enum" not in prop and "format" not in prop:
            prop["maxLength"] = max_length(f.name)
            if f.name in TRUNCATED:
                prop["description"] = "Longer text is cut to maxLength by the decoder."
        if f.default is MISSING and f.default_factory is MISSING:
            required.append(f.name)
        else:
            prop["default"] = f.default.value if isinstance(f.default, Enum) else f.default
        props[f.name] = prop
    return props, required


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _type_schema(hint: Any) -> Schema:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _type_schema(args[0])
        nullable = {**inner, "type": [inner["type"], "null"]}
        if "enum" in inner:
            nullable["enum"] = [*inner["enum"], None]
        return nullable
    if origin is typing.Literal:
        return {"type": "string", "enum": list(typing.get_args(hint))}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"type": "string", "enum": [member.value for member in hint]}
    if hint is datetime:
        return {"type": "string", "format": "date-time"}
    if hint is Actor:
        props, required = _fields_schema(Actor)
        return {"type": "object", "properties": props, "required": required}
    simple = {str: "string", int: "integer", bool: "boolean"}
    if hint in simple:
        return {"type": simple[hint]}
    raise TypeError(f"no JSON Schema for {hint!r}")  # a contract field of an unsupported type


def event_schema(cls: type[Event]) -> Schema:
    """The JSON Schema of one event class, as ``event_codec.to_dict`` writes it."""
    props, required = _fields_schema(cls)
    schema: Schema = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{cls.event_type}.json",
        "title": cls.__name__,
    }
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    if doc and not doc.startswith(f"{cls.__name__}("):  # dataclasses invent a signature doc
        schema["description"] = " ".join(doc.split())
    schema["type"] = "object"
    schema["properties"] = {"event_type": {"const": cls.event_type}, **props}
    schema["required"] = ["event_type", *required]
    return schema


def all_schemas() -> dict[str, Schema]:
    """File name -> schema for every registered event type."""
    return {f"{name}.json": event_schema(cls) for name, cls in sorted(REGISTRY.items())}


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _types_of(prop: Schema) -> Any:
    return prop.get("type", "const" if "const" in prop else None)


def _compare_props(where: str, old: Schema, new: Schema, problems: list[str]) -> None:
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    for name, old_prop in old_props.items():
        path = f"{where}.{name}"
        if name not in new_props:
            problems.append(f"{path}: property removed")
            continue
        new_prop = new_props[name]
        if (name in old_req) != (name in new_req):
            change = "optional -> required" if name in new_req else "required -> optional"
            problems.append(f"{path}: {change}")
        if _types_of(old_prop) != _types_of(new_prop):
            problems.append(
                f"{path}: type changed {_types_of(old_prop)!r} -> {_types_of(new_prop)!r}"
            )
        if old_prop.get("const") != new_prop.get("const"):
            problems.append(f"{path}: constant changed")
        if old_prop.get("format") != new_prop.get("format"):
            problems.append(f"{path}: format changed")
        if "enum" in old_prop:
            lost = [v for v in old_prop["enum"] if v not in new_prop.get("enum", old_prop["enum"])]
            if lost:
                problems.append(f"{path}: values removed {lost!r}")
        elif "enum" in new_prop:
            problems.append(f"{path}: values restricted to {new_prop['enum']!r}")
        if "maxLength" in old_prop and new_prop.get("maxLength", 0) < old_prop["maxLength"]:
            problems.append(f"{path}: maxLength lowered to {new_prop['maxLength']}")
        if _types_of(old_prop) == "object":
            _compare_props(path, old_prop, new_prop, problems)
    for name in new_req - set(old_props):
        problems.append(f"{where}.{name}: new required property")


def breaking_changes(old: dict[str, Schema], new: dict[str, Schema]) -> list[str]:
    """Why ``new`` (file name -> schema) is not an additive change of ``old``; [] if it is."""
    problems: list[str] = []
    for file_name, old_schema in sorted(old.items()):
        if file_name not in new:
            problems.append(f"{file_name}: event type removed")
            continue
        _compare_props(file_name.removesuffix(".json"), old_schema, new[file_name], problems)
    return problems


def load_dir(directory: Path) -> dict[str, Schema]:
    """The committed event schemas (``schemas/`` also holds other files, e.g. rule packs)."""
    return {
        p.name: json.loads(p.read_text("utf-8"))
        for p in sorted(directory.glob(f"{NAMESPACE}.*.json"))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m facilitation_rules.contract.json_schemas")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate schemas/ (additive)")
    action.add_argument("--check", action="store_true", help="exit 1 if schemas/ is stale")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    committed, generated = load_dir(args.dir), all_schemas()
    problems = breaking_changes(committed, generated)
    for problem in problems:
        print(f"breaking change: {problem}", file=sys.stderr)
    stale = sorted(
        name for name, schema in generated.items() if committed.get(name) != schema
    ) + sorted(set(committed) - set(generated))
    if args.check:
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        return 1 if stale or problems else 0
    if problems:
        print("refusing to write: add a new versioned event type instead", file=sys.stderr)
        return 1
    args.dir.mkdir(parents=True, exist_ok=True)
    for name in stale:
        if name in generated:
            (args.dir / name).write_text(render(generated[name]), "utf-8")
            print(f"wrote {args.dir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
