"""JSON encoding of contract events, and validation of what comes in.

Decoding is strict and explains itself: a bad record raises ``EventDecodeError`` with a
reason a person can act on ("post_id: expected a string, got 42"). Field decoders are built
once per event class from its type hints, so decoding costs a dict walk, not reflection.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson

from facilitation_rules.contract.events import (
    REGISTRY,
    TRUNCATED,
    Actor,
    Event,
    Role,
    excerpt,
    max_length,
)


class EventDecodeError(ValueError):
    """The record is not a valid contract event; ``str(err)`` says why."""


class FieldTooLong(EventDecodeError):
    """An id, URL or name longer than the contract's bound: the event is rejected."""


Decoder = Callable[[Any], Any]


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise EventDecodeError(f"expected an ISO 8601 timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EventDecodeError(f"not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise EventDecodeError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _decode_actor(value: Any) -> Actor:
    if not isinstance(value, dict):
        raise EventDecodeError(f"expected an object, got {type(value).__name__}")
    user_id = value.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise EventDecodeError("user_id: expected a non-empty string")
    _bounded("user_id", user_id)
    try:
        role = Role(value.get("role", "learner"))
    except ValueError:
        raise EventDecodeError(f"role: unknown role {value.get('role')!r}") from None
    username = value.get("username")
    if username is not None and not isinstance(username, str):
        raise EventDecodeError("username: expected a string")
    if username is not None:
        _bounded("username", username)
    return Actor(user_id=user_id, role=role, username=username)


def _bounded(name: str, value: str) -> str:
    limit = max_length(name)
    if len(value) <= limit:
        return value
    if name in TRUNCATED:
        return excerpt(value, limit)
    raise FieldTooLong(f"{name}: {len(value):,} characters, at most {limit:,}")


def _text(name: str) -> Decoder:
    def decode(value: Any) -> Any:
        if type(value) is not str:
            raise EventDecodeError(f"expected a string, got {type(value).__name__} {value!r:.40}")
        return _bounded(name, value)

    return decode


def _scalar(kind: type) -> Decoder:
    def decode(value: Any) -> Any:
        # bool is an int in Python; the contract keeps them apart.
        if type(value) is not kind:
            raise EventDecodeError(
                f"expected {_TYPE_WORDS[kind]}, got {type(value).__name__} {value!r:.40}"
            )
        return value

    return decode


_TYPE_WORDS = {int: "an integer", bool: "true or false"}


def _literal(options: tuple[Any, ...]) -> Decoder:
    allowed = frozenset(options)

    def decode(value: Any) -> Any:
        if value not in allowed:
            raise EventDecodeError(f"expected one of {sorted(allowed)}, got {value!r:.40}")
        return value

    return decode


def _optional(inner: Decoder) -> Decoder:
    return lambda value: None if value is None else inner(value)


def _decoder_for(hint: Any, name: str) -> Decoder:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _optional(_decoder_for(args[0], name))
    if origin is typing.Literal:
        return _literal(typing.get_args(hint))
    if hint is datetime:
        return parse_time
    if hint is Actor:
        return _decode_actor
    if hint is str:
        return _text(name)
    if hint in (int, bool):
        return _scalar(hint)
    raise TypeError(f"no decoder for {hint!r}")  # a contract field of an unsupported type


def _field_table(cls: type[Event]) -> list[tuple[str, Decoder, bool]]:
    hints = typing.get_type_hints(cls)
    table = []
    for f in fields(cls):
        required = f.default is MISSING and f.default_factory is MISSING
        table.append((f.name, _decoder_for(hints[f.name], f.name), required))
    return table


_TABLES: dict[str, list[tuple[str, Decoder, bool]]] = {
    name: _field_table(cls) for name, cls in REGISTRY.items()
}


def from_dict(record: Any) -> Event:
    """Build the typed event a JSON object describes, or raise ``EventDecodeError``."""
    if not isinstance(record, dict):
        raise EventDecodeError(f"expected a JSON object, got {type(record).__name__}")
    event_type = record.get("event_type")
    cls = REGISTRY.get(event_type) if isinstance(event_type, str) else None
    if cls is None or not isinstance(event_type, str):
        raise UnknownEventType(f"unknown event_type {event_type!r}")
    kwargs: dict[str, Any] = {}
    for name, decode, required in _TABLES[event_type]:
        if name in record:
            try:
                kwargs[name] = decode(record[name])
            except FieldTooLong:
                raise
            except EventDecodeError as err:
                raise EventDecodeError(f"{name}: {err}") from None
        elif required:
            raise EventDecodeError(f"{name}: missing")
    if not kwargs["event_id"]:
        raise EventDecodeError("event_id: must not be empty")
    return cls(**kwargs)


class UnknownEventType(EventDecodeError):
    """A well-formed record of a type this version does not know (maybe a newer producer)."""


def to_dict(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"event_type": event.event_type}
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, datetime):
            value = format_time(value)
        elif isinstance(value, Actor):
            value = {"user_id": value.user_id, "role": value.role.value}
            if event.actor.username is not None:
                value["username"] = event.actor.username
        elif isinstance(value, Enum):
            value = value.value
        out[f.name] = value
    return out


def dumps(event: Event) -> str:
    return json.dumps(to_dict(event), ensure_ascii=False, separators=(",", ":"))


def loads(data: str | bytes) -> Event:
    try:
        record = orjson.loads(data)  # the live worker decodes every event: 4x stdlib json
    except (ValueError, UnicodeDecodeError) as err:
        raise EventDecodeError(f"not JSON: {err}") from None
    return from_dict(record)
