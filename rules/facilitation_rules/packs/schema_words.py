"""JSON Schema errors about a rule pack, in the words of the person who wrote it.

jsonschema says ``0 is less than or equal to the minimum of 0`` or ``'x' is not of type
'number'``; a course team reads ``must be more than 0 (got 0)`` and ``expected a number
(got 'x')``. Only the message changes: where it points is the loader's business.
"""

from __future__ import annotations

from typing import Any

import jsonschema

_TYPES = {
    "number": "a number",
    "integer": "a whole number",
    "string": "text",
    "boolean": "true or false",
    "object": "settings (name: value lines)",
    "array": "a list",
    "null": "null",
}
_HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
_FORMS = {
    _HHMM: 'a time as "HH:MM" in quotes, e.g. "09:00"',
    _HHMM + "|^24:00$": 'a time as "HH:MM" in quotes, e.g. "17:00" or "24:00"',
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": 'a date as "YYYY-MM-DD", e.g. "2024-12-25"',
}
#: What to add when a required setting is missing (the top-level ones; others: its name).
_MISSING = {
    "applies_to": (
        "add `applies_to: all` (every course), `applies_to: {course: course-v1:ORG+COURSE+RUN}` "
        "(one course) or `applies_to: {course_run: 'course-v1:ORG+COURSE+*'}` (its runs)"
    ),
    "name": "add `name: my-course` (the name reports show)",
    "version": "add `version: 1`",
}


def _value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kinds(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPES.get(n, str(n)) for n in names)


def plain(error: jsonschema.ValidationError) -> str:
    """The problem ``error`` describes, without JSON Schema's vocabulary."""
    kind, got = error.validator, error.instance
    limit: Any = error.validator_value
    if kind == "minimum":
        return f"must be at least {limit} (got {_value(got)})"
    if kind == "exclusiveMinimum":
        return f"must be more than {limit} (got {_value(got)})"
    if kind == "maximum":
        return f"must be at most {limit} (got {_value(got)})"
    if kind == "exclusiveMaximum":
        return f"must be less than {limit} (got {_value(got)})"
    if kind == "type":
        return f"expected {_kinds(limit)} (got {_value(got)})"
    if kind == "enum":
        return f"must be one of {', '.join(map(str, limit))} (got {_value(got)})"
    if kind == "const":
        return f"must be {limit!r} (got {_value(got)})"
    if kind == "pattern":
        return f"expected {_FORMS.get(str(limit), 'another form')} (got {_value(got)})"
    if kind == "minLength":
        return "must not be empty" if limit == 1 else f"must be at least {limit} characters"
    if kind == "minItems":
        return f"must list at least {limit} item{'s' if limit != 1 else ''}"
    if kind == "uniqueItems":
        return "lists the same item twice"
    if kind == "required":
        missing = missing_setting(error) or ""
        return "missing: " + _MISSING.get(missing, f"add `{missing}:`")
    return str(error.message)


def missing_setting(error: jsonschema.ValidationError) -> str | None:
    """The name a ``required`` error is about (the message says where to add it)."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return None
    names: Any = error.validator_value
    return next((n for n in names if n not in error.instance), None)
