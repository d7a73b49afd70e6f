"""Django settings for running the xblock-sdk workbench with the facilitation XBlocks.

See docs/xblocks.md ("Trying the blocks locally") for the commands; in short: set
DJANGO_SETTINGS_MODULE=tests.e2e.workbench_settings, PYTHONPATH=<repo>, WORKBENCH_DATABASES
(a JSON Django DATABASES value) and FACILITATION_KAFKA_BOOTSTRAP / _EVENTS_TOPIC /
_OUTBOX_PATH, then ``python -m django migrate --run-syncdb`` and ``runserver``.
"""

import importlib.metadata
import os

from workbench.settings import *  # noqa: F403 - the workbench's own settings, adjusted below
from workbench.settings import WORKBENCH
from xblock.core import XBlock

# The workbench builds scenarios from every installed xblock.v1 entry point and fails when
# any of them does not import; serve only these blocks (tags in scenarios still resolve).
SERVED_BLOCKS = frozenset({"facilitation_discussion", "facilitation_reflection"})


def _served_only(cls, fail_silently=True):  # type: ignore[no-untyped-def]
    entry_points = importlib.metadata.entry_points(group=cls.entry_point)
    for entry_point in entry_points:
        if entry_point.name in SERVED_BLOCKS:
            yield entry_point.name, cls._load_class_entry_point(entry_point)


XBlock.load_classes = classmethod(_served_only)  # type: ignore[method-assign]

# Log to stderr (the workbench's default writes var/workbench.log relative to the cwd).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}

# The XBlocks read their Kafka settings through the "settings" service, as in the LMS.
WORKBENCH = {**WORKBENCH, "services": {"settings": "workbench.services.SettingsService"}}
XBLOCK_SETTINGS = {
    "FACILITATION": {
        key: os.environ[f"FACILITATION_{key}"]
        for key in ("KAFKA_BOOTSTRAP", "EVENTS_TOPIC", "OUTBOX_PATH")
        if os.environ.get(f"FACILITATION_{key}")
    }
}
