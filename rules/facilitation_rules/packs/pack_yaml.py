"""Reading a pack's YAML within bounds, and saying what is wrong with it in plain words.

A rule pack comes from a course team, and the worker re-reads it while it runs, so reading
one must stay cheap whatever the file holds (issue 16): the text is refused above
``MAX_PACK_BYTES`` before it is parsed; aliases (``*name``) are refused where they appear,
so a few kilobytes cannot expand into gigabytes (the "billion laughs"); nesting deeper than
``MAX_DEPTH`` stops before PyYAML's composer recurses into a RecursionError; a key given
twice in one mapping is an error instead of the last one silently winning. Each is a
``Problem`` at the line and column of the node at fault, as every other check.

The loader keeps dates and ``HH:MM`` as strings (YAML 1.1 would turn ``17:00`` into 1020 and
``2024-01-08`` into a date): what the team wrote is what the schema sees.

PyYAML's syntax errors ("expected <block end>, but found '<block mapping start>'") are
rewritten in the words of a person editing the file, at the line where the mistake is:
PyYAML often notices one line later (a missing ``:`` is found on the next line).
"""

from __future__ import annotations

import re
from typing import Any, Final

import yaml
from yaml.events import AliasEvent

from facilitation_rules.packs.problems import PackError, Problem

#: Largest pack accepted (the default pack is about 5 KB).
MAX_PACK_BYTES: Final = 1 << 20
#: Deepest nesting of mappings and lists (a pack needs 5: rules.reflection.prompts[0].id).
MAX_DEPTH: Final = 16


class _Refused(yaml.MarkedYAMLError):
    """A bound the pack broke, at ``problem_mark``; ``problem`` says it in plain words."""

    def __init__(self, mark: yaml.Mark, problem: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class _PackLoader(yaml.SafeLoader):
    """SafeLoader without timestamps and base-60 integers, and within the bounds above."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise _Refused(
                event.start_mark,
                f"aliases (*{event.anchor}) are not allowed in a rule pack: write the value out",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark,
                    f"the settings nest more than {MAX_DEPTH} levels deep here",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, yaml.Node] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            first = seen.setdefault(key.value, key)
            if first is not key:
                raise _Refused(
                    key.start_mark,
                    f"{key.value!r} is set twice in the same block (first on line "
                    f"{first.start_mark.line + 1}): keep one",
                )
        return node

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return int(super().construct_yaml_int(node))
        except ValueError:  # Python refuses to read integers of thousands of digits
            raise _Refused(
                node.start_mark, f"the number {node.value[:20]}... is too long"
            ) from None


_PackLoader.add_constructor("tag:yaml.org,2002:int", _PackLoader.construct_yaml_int)
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


def too_big(size: int) -> PackError:
    limit = f"a rule pack may be at most {MAX_PACK_BYTES:,}"
    return PackError([Problem(1, 1, f"the file is {size:,} bytes; {limit}")])


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The data and the node tree of ``text``; ``PackError`` with one located problem."""
    if len(text) > MAX_PACK_BYTES:
        raise too_big(len(text.encode("utf-8", "replace")))
    loader = _PackLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        raise PackError([syntax_problem(err, text)]) from None
    except yaml.YAMLError as err:
        raise PackError([Problem(1, 1, f"YAML: {err}")]) from None
    finally:
        loader.dispose()
    return data, node


# -- Syntax errors in plain words ---------------------------------------------------------


def _at(mark: yaml.Mark | None, message: str) -> Problem:
    return Problem(mark.line + 1, mark.column + 1, message) if mark else Problem(1, 1, message)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _previous(lines: list[str], index: int) -> int | None:
    """The index of the last line before ``index`` with content (not blank, not a comment)."""
    for i in range(min(index, len(lines)) - 1, -1, -1):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            return i
    return None


_NO_COLON = "a setting needs ':' after its name (name: value)"
_LIST_ITEM_HERE = (
    "a list item ('- ...') where a setting was expected: indent it under the setting it belongs to"
)
_SETTING_IN_LIST = (
    "a setting (name: value) in the middle of a list: indent it or start it with '- '"
)
_UNALIGNED = (
    "this line is indented by {spaces} spaces, which lines up with no block above it: "
    "indent it as the settings it belongs with"
)
_OVER_INDENTED = (
    "this line is indented more than the setting above it: line it up with the settings it "
    "belongs with"
)


def _second_colon(lines: list[str], mark: yaml.Mark) -> Problem:
    """PyYAML's "mapping values are not allowed here": a ':' it did not expect. Usually the
    line above has no ':' (it became part of a value), or this line is indented too far."""
    before = _previous(lines, mark.line)
    here = lines[mark.line] if mark.line < len(lines) else ""
    if before is not None and ":" not in lines[before].split("#", 1)[0]:
        line = lines[before]
        return Problem(before + 1, _indent(line) + 1, f"{_NO_COLON}: {line.strip()[:40]!r}")
    if before is not None and _indent(here) > _indent(lines[before]):
        return Problem(mark.line + 1, _indent(here) + 1, _OVER_INDENTED)
    return _at(mark, "a second ':' on this line: put the value in quotes if it holds ': '")


def _quote_before(text: str, index: int) -> Problem | None:
    """A value in quotes that runs over lines until a quote further down closes it: PyYAML
    stops after that quote; the mistake is the quote that opened it, lines above."""
    before = text[:index].rstrip(" ")
    if not before or before[-1] not in "\"'":
        return None
    start = before.rfind(before[-1], 0, len(before) - 1)
    if start < 0 or "\n" not in text[start:index]:
        return None
    line = text.count("\n", 0, start)
    col = start - (text.rfind("\n", 0, start) + 1)
    closed = text.count("\n", 0, index) + 1
    return Problem(line + 1, col + 1, f"this quote is closed only on line {closed}: end the "
                   "value with the same quote on this line")  # fmt: skip


def syntax_problem(err: yaml.MarkedYAMLError, text: str) -> Problem:
    """``err`` as a person would say it, at the line of the mistake."""
    if isinstance(err, _Refused):
        return _at(err.problem_mark, err.problem or "")
    problem, context = err.problem or "", err.context or ""
    mark, start = err.problem_mark, err.context_mark
    lines = text.splitlines()
    if "'\\t'" in problem:
        return _at(mark, "a tab character: YAML indents with spaces only")
    if "could not find expected ':'" in problem:
        return _at(start, _NO_COLON)
    if "quoted scalar" in context:
        return _at(start, "this quote is never closed: end the value with the same quote")
    if "flow mapping" in context or "flow sequence" in context:
        bracket, closing = ("{", "}") if "mapping" in context else ("[", "]")
        return _at(start, f"the '{bracket}' here is not closed: add '{closing}' where it ends")
    if "mapping values are not allowed" in problem and mark is not None:
        return _second_colon(lines, mark)
    if "expected <block end>" in problem and mark is not None:
        here = lines[mark.line] if mark.line < len(lines) else ""
        quoted = _quote_before(text, mark.index)
        if quoted is not None:
            return quoted
        if "'-'" in problem:
            return _at(mark, _LIST_ITEM_HERE)
        if "'?'" in problem:
            return _at(mark, _SETTING_IN_LIST)
        spaces = _indent(here)
        return Problem(mark.line + 1, spaces + 1, _UNALIGNED.format(spaces=spaces))
    if "found undefined alias" in problem or "found duplicate anchor" in problem:
        return _at(mark, "aliases (*name) and anchors (&name) are not allowed in a rule pack")
    if "could not determine a constructor" in problem:
        return _at(mark, "tags (!name) are not allowed in a rule pack: write plain values")
    return _at(mark or start, f"YAML syntax: {problem or context or err}")
