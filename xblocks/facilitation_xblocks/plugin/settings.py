"""``plugin_settings``: the plugin's Django settings defaults, run by edx-platform at the end
of its common and production settings (edx-django-utils ``add_plugins``).

Operators (or the Tutor plugin) set any ``FACILITATION_*`` value after this runs; the
values are read when used, never copied here. The event-tracking backend of the live forum
path is added here, as event-routing-backends adds its own, so edx-platform's tracker
builds it with the others (docs/lms-plugin.md).
"""

from __future__ import annotations

from typing import Any

#: Name -> default. Documented in docs/lms-plugin.md; the XBlocks read the same keys
#: without the prefix from XBLOCK_SETTINGS["FACILITATION"] (mirrored at app ready).
DEFAULTS: dict[str, Any] = {
    "FACILITATION_KAFKA_BOOTSTRAP": "",
    "FACILITATION_EVENTS_TOPIC": "facilitation.events.v1",
    "FACILITATION_PRODUCER_CONFIG": {},
    "FACILITATION_OUTBOX": "database",
    "FACILITATION_OUTBOX_PATH": "",
    "FACILITATION_LIVE_TRACKING": True,
    "FACILITATION_TUTOR_API_URL": "",
    "FACILITATION_TUTOR_SERVICE_TOKEN": "",
    "FACILITATION_TUTOR_PAGE_URL": "",
}
BACKEND_NAME = "facilitation"
BACKEND_ENGINE = "facilitation_xblocks.plugin.tracking.FacilitationTrackingBackend"


def plugin_settings(settings: Any) -> None:
    for name, default in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, default)
    add_tracking_backend(settings)


def add_tracking_backend(settings: Any) -> None:
    """Beside the tracking-log logger when there is one: the backend then receives each
    event exactly as the log line holds it (after edx-platform's processors), which is what
    ``facilitation ingest tracking-log`` reads later; else at the top level."""
    backends = getattr(settings, "EVENT_TRACKING_BACKENDS", None)
    if not isinstance(backends, dict):
        backends = {}
        settings.EVENT_TRACKING_BACKENDS = backends
    entry = {"ENGINE": BACKEND_ENGINE, "OPTIONS": {}}
    logs = backends.get("tracking_logs")
    nested = logs.get("OPTIONS", {}).get("backends") if isinstance(logs, dict) else None
    if isinstance(nested, dict) and "logger" in nested:
        nested.setdefault(BACKEND_NAME, entry)
    else:
        backends.setdefault(BACKEND_NAME, entry)
