"""What the app does when Django is ready: offer the database outbox to the emitter and the
row store to the blocks, mirror the ``FACILITATION_*`` settings into the XBlocks' bucket,
start the sender on a request.

Settings are read here, at ready time, because Tutor and operators set them after
``plugin_settings`` ran. The sender thread starts on the process's first request (or its
first event): never in ``migrate`` or other management commands, and after uWSGI forked.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import request_started

from facilitation_xblocks.outbox.config import BUCKET, EmitterSettings
from facilitation_xblocks.outbox.emitter import Emitter, register_store, shared_emitter
from facilitation_xblocks.plugin.settings import DEFAULTS

PREFIX = "FACILITATION_"


def connect() -> None:
    from facilitation_xblocks.blocks.posts import use_store
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox
    from facilitation_xblocks.plugin.post_store import DatabasePostStore

    register_store("database", lambda _settings: DatabaseOutbox())
    use_store(DatabasePostStore)
    mirror_xblock_settings(settings)
    request_started.connect(_first_request, dispatch_uid="facilitation.sender.start")


def mirror_xblock_settings(conf: Any) -> dict[str, Any]:
    """``XBLOCK_SETTINGS["FACILITATION"]`` gets each setting not already set there."""
    xblock_settings = getattr(conf, "XBLOCK_SETTINGS", None)
    if not isinstance(xblock_settings, dict):
        xblock_settings = {}
        conf.XBLOCK_SETTINGS = xblock_settings
    bucket: dict[str, Any] = xblock_settings.setdefault(BUCKET, {})
    for name, default in DEFAULTS.items():
        bucket.setdefault(name[len(PREFIX):], getattr(conf, name, default))
    return bucket


def lms_emitter() -> Emitter:
    return shared_emitter(EmitterSettings.for_lms(settings.XBLOCK_SETTINGS.get(BUCKET)))


def _first_request(**_: Any) -> None:
    lms_emitter()  # builds (and so starts) this process's sender once; later calls are cheap
