"""Running the real Tutor (PyPI's, in .venv-tutor: `make tutor-venv`) on a temporary
TUTOR_ROOT, and reading what it rendered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TUTOR_BIN = REPO / ".venv-tutor" / "bin"
HELPER = Path(__file__).with_name("tutor_helper.py")


def _run(args: list[str], root: Path | None = None) -> subprocess.CompletedProcess[str]:
    if not (TUTOR_BIN / "tutor").exists():
        pytest.fail("Tutor is not installed: run `make tutor-venv` (or `make tutor-check`)")
    # No plugins from this machine's own Tutor setup: only the installed entry points.
    env = {**os.environ, "TUTOR_PLUGINS_ROOT": "/nonexistent-tutor-plugins"}
    if root is not None:
        env["TUTOR_ROOT"] = str(root)
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=180)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{' '.join(result.args)}: {result.stdout}\n{result.stderr}"
    return result.stdout


def tutor(root: Path, *args: str) -> str:
    return _ok(_run([str(TUTOR_BIN / "tutor"), *args], root))


def tutor_fails(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = _run([str(TUTOR_BIN / "tutor"), *args], root)
    assert result.returncode != 0, f"expected `tutor {' '.join(args)}` to fail: {result.stdout}"
    return result


def helper(*args: str) -> str:
    return _ok(_run([str(TUTOR_BIN / "python"), str(HELPER), *args]))


def helper_python(code: str) -> str:
    """Run ``code`` with Tutor's Python (the plugin importable), return its stdout."""
    return _ok(_run([str(TUTOR_BIN / "python"), "-c", code]))


def new_root(path: Path, *settings: str) -> Path:
    """A TUTOR_ROOT with the plugin enabled and `tutor config save --set ...` done."""
    tutor(path, "plugins", "enable", "facilitation")
    tutor(path, "config", "save", *[arg for s in settings for arg in ("--set", s)])
    return path


def sweep(base: Path, variants: dict[str, dict[str, Any]], into: Path) -> dict[str, Path]:
    """One copy of ``base`` per variant with its values saved and the env rendered."""
    roots = {}
    for name in variants:
        roots[name] = into / name
        roots[name].mkdir(parents=True)
        shutil.copy(base / "config.yml", roots[name] / "config.yml")
    helper("sweep", json.dumps({str(roots[n]): values for n, values in variants.items()}))
    return roots


def user_config(root: Path) -> dict[str, Any]:
    """config.yml as saved."""
    return dict(_yaml(root / "config.yml"))


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_tree(root: Path) -> dict[str, bytes]:
    """Every rendered file under ROOT/env, by relative path."""
    env = root / "env"
    return {str(p.relative_to(env)): p.read_bytes() for p in sorted(env.rglob("*")) if p.is_file()}


def read(root: Path, relative: str) -> str:
    return (root / "env" / relative).read_text(encoding="utf-8")


def load_yaml(root: Path, relative: str) -> Any:
    return _yaml(root / "env" / relative)


def env_file(root: Path, relative: str) -> dict[str, str]:
    """A rendered KEY=VALUE file as a dict (comments and blank lines skipped)."""
    pairs = {}
    for line in read(root, relative).splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs
