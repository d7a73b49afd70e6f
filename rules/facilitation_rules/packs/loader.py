"""Rule packs: YAML files course teams edit, validated with line and column for every problem.

A pack is checked in three steps, each reporting ``Problem(line, col, message)`` against the
YAML node at fault: YAML syntax; the committed JSON Schema (``schemas/rule-pack.schema.json``,
which editors can use for completion); then meaning (``when:`` expressions compile against
the symbols of their rule, time zones exist, dates parse, hours are in order). Only a pack
without problems becomes a ``Pack``.

The YAML loader keeps dates and ``HH:MM`` as strings (YAML 1.1 would turn ``17:00`` into
1020 and ``2024-01-08`` into a date): what the team wrote is what the schema sees.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml

from facilitation_rules.packs.business_hours import WEEKDAYS, BusinessCalendar
from facilitation_rules.packs.conditions import REFLECTION_SYMBOLS as _REFLECTION_SYMBOLS
from facilitation_rules.packs.conditions import SYMBOLS_BY_RULE, ConditionError, compile_condition
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

DEFAULT_PACK = "default.yaml"
# Slotted dataclasses keep no class-level defaults: read them from default instances.
_U, _S, _D, _R = UnansweredConfig(), SilentConfig(), DropoutConfig(), ReflectionConfig()


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    line: int
    col: int
    message: str

    def format(self, filename: str) -> str:
        return f"{filename}:{self.line}:{self.col}: {self.message}"


class PackError(ValueError):
    """The pack has problems; ``problems`` lists them in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.line}:{p.col}: {p.message}" for p in problems))
        self.problems = problems


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


# -- YAML -------------------------------------------------------------------------------


class _PackLoader(yaml.SafeLoader):
    """SafeLoader without timestamps and without base-60 integers."""


_PackLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PackLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def _parse(text: str) -> tuple[Any, yaml.Node | None]:
    loader = _PackLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


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
        if error.validator == "oneOf" and path == ["applies_to"]:
            message = "applies_to: expected 'all', {course: ID} or {course_run: PATTERN}"
        else:
            message = f"{_where(path)}: {error.message}"
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
            return compile_condition(str(text), symbols)
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
    try:
        data, root = _parse(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise PackError([Problem(line, col, f"YAML syntax: {err.problem or err}")]) from None
    except yaml.YAMLError as err:
        raise PackError([Problem(1, 1, f"YAML: {err}")]) from None
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


def load_pack(path: str | None = None) -> Pack:
    """The pack in ``path`` (the shipped default when None); ``PackError`` if invalid."""
    if path is None:
        return parse_pack(default_pack_text())
    with open(path, encoding="utf-8") as handle:
        return parse_pack(handle.read())


__all__ = ["DAY", "Pack", "PackError", "Problem", "default_pack_text", "load_pack", "parse_pack"]
