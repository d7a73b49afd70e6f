"""Build hook: a pure-Python package by default; ``FACILITATION_MYPYC=1`` compiles the
modules a replay spends its time in with mypyc (a replay runs 1.6-1.8x faster, the rules
alone about 1.5x).

The compiled build needs mypy and a C compiler and must be built without isolation:
``FACILITATION_MYPYC=1 pip install --no-build-isolation .`` (``make compiled`` builds one
into build/compiled). Everything else is configured in pyproject.toml.
"""

from __future__ import annotations

import os

from setuptools import setup

# The rules engine and the tracking-log translation (docs/benchmarks.md: where the time
# goes). Left as Python: contract/events.py (the codec reads its classes' type hints),
# openedx_logs/lean_activity.py (msgspec structs: slower compiled), ingest/event_files.py
# (reads ReadStats slots).
COMPILED = [
    "rules/facilitation_rules/contract/alerts.py",
    "rules/facilitation_rules/packs/business_hours.py",
    "rules/facilitation_rules/engine/due_index.py",
    "rules/facilitation_rules/engine/dropout_model.py",
    "rules/facilitation_rules/engine/dispatch.py",
    "rules/facilitation_rules/engine/replay.py",
    "rules/facilitation_rules/packs/config.py",
    "rules/facilitation_rules/state.py",
    "rules/facilitation_rules/engine/outputs.py",
    "rules/facilitation_rules/engine/subjects.py",
    "rules/facilitation_rules/openedx_logs/fields.py",
    "rules/facilitation_rules/openedx_logs/forum.py",
    "rules/facilitation_rules/openedx_logs/translate.py",
    "rules/facilitation_rules/engine/detectors/emit.py",
    "rules/facilitation_rules/engine/detectors/learner_alerts.py",
    "rules/facilitation_rules/engine/detectors/dropout_risk.py",
    "rules/facilitation_rules/engine/detectors/learners.py",
    "rules/facilitation_rules/engine/detectors/posts.py",
    "rules/facilitation_rules/engine/detectors/reflections.py",
    "stream_processors/facilitation_stream/backtest/ordered_input.py",
    "stream_processors/facilitation_stream/item_codec.py",
]


# Not the project's mypy settings (they load the pydantic plugin for the settings module):
# `make check` type-checks everything; here only the compiled modules need their types.
_MYPY_OPTIONS = ["--config-file=", "--ignore-missing-imports", "--follow-imports=silent"]


def _ext_modules() -> list[object]:
    if os.environ.get("FACILITATION_MYPYC", "0") != "1":
        return []
    from mypyc.build import mypycify

    return list(mypycify([*_MYPY_OPTIONS, *COMPILED], opt_level="3"))


setup(ext_modules=_ext_modules())
