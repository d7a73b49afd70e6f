"""Which build runs: the sources, or the modules setup.py compiles with mypyc."""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES


def compiled() -> bool:
    """Whether the rules engine was imported as compiled modules (FACILITATION_MYPYC=1)."""
    from facilitation_rules.engine import replay

    return (replay.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))
