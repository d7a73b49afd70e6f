"""Rule packs: YAML files course teams edit, validated with line and column for every problem.

A pack is checked in three steps, each reporting ``Problem(line, col, message)`` against the
YAML node at fault: YAML syntax, within bounds (``pack_yaml``: size, aliases, depth,
duplicate keys); the committed JSON Schema (``schemas/rule-pack.schema.json``, which editors
can use for completion; its errors in plain words by ``schema_words``); then meaning
(``when:`` expressions compile against the symbols of their rule within their bounds, time
zones exist, dates parse, hours are in order). Only a pack without problems becomes a
``Pack``.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml

from facilitation_rules.packs.business_hours import WEEKDAYS, BusinessCalendar
from facilitation_rules.packs.conditions import REFLECTION_SYMBOLS as _REFLECTION_SYMBOLS
from facilitation_rules.packs.conditions import (
    SYMBOLS_BY_RULE,
    Condition,
    ConditionError,
    compile_condition,
)
from facilitation_rules.packs.config import (
    DAY,
    HOUR,
    CourseRules,
    DropoutConfig,
    Prompt,
    ReflectionConfig,
    SilentConfig,
    UnansweredConfig,
)
from facilitation_rules.packs.pack_yaml import MAX_PACK_BYTES, parse_yaml, too_big
from facilitation_rules.packs.problems import PackError, Problem
from facilitation_rules.packs.schema_words import missing_setting, plain

DEFAULT_PACK = "default.yaml"
# Slotted dataclasses keep no class-level defaults: read them from default instances.
_U, _S, _D, _R = UnansweredConfig(), SilentConfig(), DropoutConfig(), ReflectionConfig()


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    applies_to: str | dict[str, str]
    rules: CourseRules
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    def applies(self, course_id: str) -> bool:
        target = self.applies_to
        if target == "all":
            return True
        assert isinstance(target, dict)
        if "course" in target:
            return course_id == target["course"]
        return fnmatch.fnmatchcase(course_id, target["course_run"])

    def rules_for(self, course_id: str) -> CourseRules | None:
        return self.rules if self.applies(course_id) else None

    def conditions(self) -> Iterator[Condition]:
        """The pack's compiled ``when:`` filters (each counts its failed evaluations)."""
        r = self.rules
        for found in (r.unanswered.when, r.silent.when, r.dropout.when, r.reflection.when,
                      r.reflection.when_shared):  # fmt: skip
            if isinstance(found, Condition):
                yield found


# -- Locations --------------------------------------------------------------------------


def _node_at(root: yaml.Node, path: Iterable[Any], key: bool = False) -> yaml.Node:
    """The node at a JSON path (the key node of the last step when ``key``)."""
    node = root
    steps = list(path)
    for i, step in enumerate(steps):
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == step:
                    node = key_node if key and i == len(steps) - 1 else value_node
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return node
            node = node.value[step]
        else:
            return node
    return node


def _problem(node: yaml.Node, message: str) -> Problem:
    return Problem(node.start_mark.line + 1, node.start_mark.column + 1, message)


def _where(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


# -- Schema -----------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    text = resources.files("facilitation_rules").joinpath("schemas/rule-pack.schema.json")
    loaded: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return loaded


_VALIDATOR: jsonschema.Draft202012Validator | None = None


def _schema_problems(data: Any, root: yaml.Node) -> list[Problem]:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in _VALIDATOR.iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - allowed):
                node = _node_at(root, [*path, extra], key=True)
                hint = ", ".join(sorted(allowed))
                problems.append(
                    _problem(
                        node, f"{_where([*path, extra])}: unknown setting (expected one of: {hint})"
                    )
                )
            continue
        missing = missing_setting(error)
        if error.validator == "oneOf" and path == ["applies_to"]:
            message = "applies_to: expected 'all', {course: ID} or {course_run: PATTERN}"
        elif missing is not None:
            message = f"{_where([*path, missing])}: {plain(error)}"
        else:
            message = f"{_where(path)}: {plain(error)}"
        problems.append(_problem(_node_at(root, path), message))
    return problems


# -- Meaning and building ----------------------------------------------------------------


class _Builder:
    """Turns schema-valid data into ``CourseRules``, collecting semantic problems."""

    def __init__(self, data: dict[str, Any], root: yaml.Node) -> None:
        self.data = data
        self.root = root
        self.problems: list[Problem] = []

    def fail(self, path: list[Any], message: str) -> None:
        self.problems.append(_problem(_node_at(self.root, path), f"{_where(path)}: {message}"))

    def timestamp(self, path: list[Any], value: str | None) -> float | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(path, f"not an ISO 8601 date-time: {value!r}")
            return None
        if parsed.tzinfo is None:
            example = f"{value}Z" if "T" in value else f"{value}T00:00:00Z"
            self.fail(path, f"add a time zone, e.g. {example}")
            return None
        return parsed.timestamp()

    def condition(self, path: list[Any], text: str | None, symbols: Mapping[str, Any]) -> Any:
        if text is None or not str(text).strip():
            return None
        try:
            return compile_condition(str(text), symbols, _where(path))
        except ConditionError as err:
            self.fail(path, f"invalid condition: {err}")
            return None

    def calendar(self) -> BusinessCalendar:
        raw = self.data.get("calendar") or {}
        zone = raw.get("timezone", "UTC")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(["calendar", "timezone"], f"unknown time zone {zone!r}")
            zone = "UTC"
        hours = raw.get("hours") or {"start": "09:00", "end": "17:00"}
        start = time.fromisoformat(hours["start"])
        end = time.max if hours["end"] == "24:00" else time.fromisoformat(hours["end"])
        if start >= end:
            self.fail(["calendar", "hours", "end"], "working hours must end after they start")
            end = time.max
        holidays = set()
        for i, text in enumerate(raw.get("holidays") or []):
            try:
                holidays.add(date.fromisoformat(text))
            except ValueError:
                self.fail(["calendar", "holidays", i], f"not a date: {text!r}")
        days = raw.get("working_days") or list(WEEKDAYS[:5])
        return BusinessCalendar(
            enabled=True,
            timezone=zone,
            working_days=frozenset(WEEKDAYS.index(d) for d in days),
            start=start,
            end=end,
            holidays=frozenset(holidays),
        )

    def build(self) -> CourseRules:
        data, rules = self.data, self.data.get("rules") or {}
        course = data.get("course") or {}
        start = self.timestamp(["course", "start"], course.get("start"))
        end = self.timestamp(["course", "end"], course.get("end"))
        if start is not None and end is not None and end <= start:
            self.fail(["course", "end"], "the course must end after it starts")
        calendar = self.calendar()
        u, s = rules.get("unanswered_post") or {}, rules.get("silent_learner") or {}
        d, r = rules.get("dropout_risk") or {}, rules.get("reflection") or {}
        if "question_sla_hours" in u:
            question = u["question_sla_hours"]
        else:
            question = (_U.question_sla or 0) / HOUR
        unanswered = UnansweredConfig(
            enabled=u.get("enabled", True),
            sla=u.get("sla_hours", 24) * HOUR,
            question_sla=None if question is None else question * HOUR,
            warn_at=u.get("warn_at", _U.warn_at),
            escalate_after=_hours(u.get("escalate_after_hours", 24)),
            replies_from=u.get("replies_from", "anyone"),
            include_staff_posts=u.get("include_staff_posts", False),
            first_posts=u.get("first_posts", True),
            business_hours=u.get("business_hours", False),
            severity=u.get("severity", "high"),
            when=self.condition(
                ["rules", "unanswered_post", "when"],
                u.get("when"),
                SYMBOLS_BY_RULE["unanswered_post"],
            ),
        )
        silent = SilentConfig(
            enabled=s.get("enabled", True),
            never_posted_days=s.get("never_posted_days", _S.never_posted_days),
            went_quiet_days=s.get("went_quiet_days", _S.went_quiet_days),
            severity=s.get("severity", "warning"),
            when=self.condition(
                ["rules", "silent_learner", "when"],
                s.get("when"),
                SYMBOLS_BY_RULE["silent_learner"],
            ),
        )
        model = d.get("model") or {}
        threshold = d.get("threshold", _D.threshold)
        dropout = DropoutConfig(
            enabled=d.get("enabled", True) and bool(model.get("weights")),
            threshold=threshold,
            min_inactive_days=d.get("min_inactive_days", _D.min_inactive_days),
            evaluate_hour=d.get("evaluate_hour", _D.evaluate_hour),
            window_days=d.get("window_days", _D.window_days),
            max_reasons=d.get("max_reasons", _D.max_reasons),
            intercept=model.get("intercept", 0.0),
            weights=dict(model.get("weights") or {}),
            reference=dict(model.get("reference") or {}),
            severity=d.get("severity", "high"),
            when=self.condition(
                ["rules", "dropout_risk", "when"], d.get("when"), SYMBOLS_BY_RULE["dropout_risk"]
            ),
        )
        prompts = []
        for i, raw in enumerate(r.get("prompts") or []):
            due = self.timestamp(["rules", "reflection", "prompts", i, "due"], raw["due"])
            if due is not None:
                prompts.append(Prompt(prompt_id=raw["id"], due=due, title=raw.get("title", "")))
        reflection = ReflectionConfig(
            enabled=r.get("enabled", True),
            prompts=tuple(sorted(prompts, key=lambda p: (p.due, p.prompt_id))),
            only_active_learners=r.get("only_active_learners", True),
            peer_response_days=r.get("peer_response_days", _R.peer_response_days),
            severity=r.get("severity", "warning"),
            when=self.condition(
                ["rules", "reflection", "when"], r.get("when"), SYMBOLS_BY_RULE["reflection"]
            ),
            when_shared=self.condition(
                ["rules", "reflection", "when_shared"], r.get("when_shared"), _REFLECTION_SYMBOLS
            ),
        )
        return CourseRules(
            pack_name=data["name"],
            course_start=start,
            course_end=end,
            implicit_enrollment=course.get("implicit_enrollment", True),
            calendar=calendar,
            unanswered=unanswered,
            silent=silent,
            dropout=dropout,
            reflection=reflection,
        )


def _hours(value: float | None) -> float | None:
    return None if value is None else value * HOUR


def parse_pack(text: str) -> Pack:
    """Validate and build a pack from YAML text; raise ``PackError`` listing every problem."""
    data, root = parse_yaml(text)
    if root is None:
        raise PackError([Problem(1, 1, "the file is empty: expected a rule pack")])
    problems = _schema_problems(data, root)
    builder = _Builder(data if isinstance(data, dict) else {}, root)
    try:
        rules = builder.build()
    except (KeyError, TypeError, ValueError, AttributeError):
        if not problems:
            raise  # schema-valid data the builder cannot read: a bug, not a user error
    # Meaning checks still run on a pack with schema problems, so one run lists everything;
    # a node already reported by the schema is not reported twice.
    seen = {(p.line, p.col) for p in problems}
    problems += [p for p in builder.problems if (p.line, p.col) not in seen]
    if problems:
        raise PackError(sorted(set(problems)))
    return Pack(name=data["name"], applies_to=data["applies_to"], rules=rules, source=data)


def default_pack_text() -> str:
    return (
        resources.files("facilitation_rules").joinpath(f"packs/{DEFAULT_PACK}").read_text("utf-8")
    )


def read_pack_text(path: str | os.PathLike[str]) -> str:
    """A pack file's text, refused (``PackError``) before it is read when it is too big;
    ``OSError`` or ``UnicodeDecodeError`` if it cannot be read."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_PACK_BYTES:
            raise too_big(size)
        data = handle.read(MAX_PACK_BYTES + 1)  # it may have grown since
    if len(data) > MAX_PACK_BYTES:
        raise too_big(len(data))
    return data.decode("utf-8")


def load_pack(path: str | os.PathLike[str] | None = None) -> Pack:
    """The pack in ``path`` (the shipped default when None); ``PackError`` if invalid."""
    if path is None:
        return parse_pack(default_pack_text())
    return parse_pack(read_pack_text(path))


__all__ = [
    "DAY",
    "Pack",
    "PackError",
    "Problem",
    "default_pack_text",
    "load_pack",
    "parse_pack",
    "read_pack_text",
]
