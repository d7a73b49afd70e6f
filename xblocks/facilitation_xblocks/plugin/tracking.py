"""The live path of the LMS's own forum and activity: an event-tracking backend.

edx-platform's tracker hands every event to its backends in the LMS process (the forum's
``track_forum_event``, enrollment, video, problems, page views ...). This backend sits
beside the tracking-log logger (``plugin_settings``), so ``send`` receives each event as
edx-platform's processors made it, the very record the log line will hold, with Python
values (a ``datetime`` time) where the line has JSON. It turns the record into plain JSON
values, translates it with ``facilitation_rules.openedx_logs.translate.translate`` (the code of
``facilitation ingest tracking-log``) and appends the contract events to the outbox in the
request's transaction: no network call. The same record gives the same events and
``event_id``s either way, so a later backfill of the same days adds nothing.

Not translated here: the XBlocks' own ``org.openedx.facilitation.*`` events (the blocks put
them in the outbox themselves, with the post) and event types the bridge does not know.
Broken records are counted and logged, never raised: the learner's request goes on.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from django.conf import settings

from facilitation_rules.contract.events import NAMESPACE
from facilitation_rules.openedx_logs.translate import (
    TrackingLogError,
    UnknownTrackingEvent,
    translate,
    translator_for,
)
from facilitation_xblocks.outbox.metrics import default_metrics
from facilitation_xblocks.plugin.thread_index import DatabaseThreadIndex

log = logging.getLogger(__name__)
_JSON = orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


def as_log_record(event: dict[str, Any]) -> dict[str, Any]:
    """The record as its tracking-log line reads back: JSON values only (naive times are
    UTC, as event-tracking's logger writes them; other objects as their text)."""
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(event, default=str, option=_JSON))
    return loaded


class FacilitationTrackingBackend:
    """``EVENT_TRACKING_BACKENDS`` entry (see ``plugin_settings``); takes no options."""

    def __init__(self, **options: Any) -> None:
        self.threads = DatabaseThreadIndex()
        self.metrics = default_metrics()

    def send(self, event: dict[str, Any]) -> None:
        if not getattr(settings, "FACILITATION_LIVE_TRACKING", True):
            return
        name = event.get("name") or event.get("event_type")
        if not isinstance(name, str) or not name or name.startswith(NAMESPACE):
            return
        try:
            translator_for(name)
        except UnknownTrackingEvent:
            return  # most of a log: cheap to skip before any copying
        try:
            events = translate(as_log_record(event), self.threads)
        except (TrackingLogError, UnknownTrackingEvent) as err:
            self.metrics.tracking_rejected.labels(type(err).__name__).inc()
            log.warning("facilitation: tracking event %s not translated: %s", name, err)
            return
        if not events:
            return
        from facilitation_xblocks.plugin.wiring import lms_emitter

        emitter = lms_emitter()
        for contract_event in events:
            emitter.emit(contract_event)
