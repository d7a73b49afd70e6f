"""Every string the XBlocks mark for translation is in the shipped source catalog."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import facilitation_xblocks

pytestmark = pytest.mark.lms

PACKAGE = Path(facilitation_xblocks.__file__).parent
CATALOG = PACKAGE / "conf" / "locale" / "en" / "LC_MESSAGES" / "django.po"
MARKED_IN = tuple(f"blocks/{name}.py"
                  for name in ("common", "discussion", "reflection", "validation"))


def _marked(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("_", "mark")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(node.args[0].value)
    return found


def _catalog() -> set[str]:
    text = CATALOG.read_text()
    ids = set()
    for block in re.findall(r'^msgid ((?:".*"\n)+)', text, flags=re.M):
        ids.add("".join(ast.literal_eval(line) for line in block.splitlines()))
    return ids - {""}


def test_catalog_lists_every_marked_string() -> None:
    marked = set().union(*(_marked(PACKAGE / name) for name in MARKED_IN))
    assert marked, "no marked strings found"
    missing = marked - _catalog()
    assert not missing, (
        f"regenerate {CATALOG.relative_to(PACKAGE.parent)} (see docs/xblocks.md): {missing}"
    )
