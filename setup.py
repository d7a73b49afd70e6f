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
# goes). Left as Python: events.py (event_codec reads its classes' type hints),
# tracking_head.py (msgspec structs: slower compiled), event_files.py (reads ReadStats slots).
COMPILED = [
    "rules/facilitation_rules/alerts.py",
    "rules/facilitation_rules/calendar.py",
    "rules/facilitation_rules/deadlines.py",
    "rules/facilitation_rules/dropout.py",
    "rules/facilitation_rules/engine.py",
    "rules/facilitation_rules/replay.py",
    "rules/facilitation_rules/rule_config.py",
    "rules/facilitation_rules/state.py",
    "rules/facilitation_rules/subjects.py",
    "rules/facilitation_rules/tracking_fields.py",
    "rules/facilitation_rules/tracking_forum.py",
    "rules/facilitation_rules/tracking_log.py",
    "rules/facilitation_rules/detectors/emit.py",
    "rules/facilitation_rules/detectors/learner_alerts.py",
    "rules/facilitation_rules/detectors/learner_risk.py",
    "rules/facilitation_rules/detectors/learners.py",
    "rules/facilitation_rules/detectors/posts.py",
    "rules/facilitation_rules/detectors/reflections.py",
    "stream_processors/facilitation_stream/replay_input.py",
    "stream_processors/facilitation_stream/wire.py",
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
