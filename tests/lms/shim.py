"""The field mapping edx-platform runs before its tracking-log logger, for the test LMS.

edx-platform's ``common.djangoapps.track.shim.LegacyFieldMappingProcessor`` turns the event
the tracker emits (``name``, ``timestamp``, ``data``, ``context``) into the record the log
line holds: request fields (``username``, ``session``, ``ip``, ``agent``, ``host``,
``referer``, ``accept_language``) move from the context to the top level, ``data`` becomes
``event`` (as JSON text for browser events), ``timestamp`` becomes ``time`` (the context's
own timestamp when it has one), and ``event_type``, ``event_source`` and ``page`` come from
the context or defaults. edx-platform is not installable here, so this processor does the
same, written for these tests.
"""

from __future__ import annotations

import json
from typing import Any

REQUEST_FIELDS = ("username", "session", "ip", "agent", "host", "referer", "accept_language")


def _take(event: dict[str, Any], field: str, default: Any) -> None:
    context = event.get("context", {})
    event[field] = context.pop(field) if field in context else default


class LegacyFieldMapping:
    def __call__(self, event: dict[str, Any]) -> None:
        context = event.get("context", {})
        for field in REQUEST_FIELDS:
            _take(event, field, "")
        context.pop("client_id", None)
        data = event.pop("data", {})
        browser = context.get("event_source", "") == "browser" and isinstance(data, dict)
        event["event"] = json.dumps(data) if browser else data
        if "timestamp" in context:
            event["time"] = context.pop("timestamp")
            event.pop("timestamp", None)
        elif "timestamp" in event:
            event["time"] = event.pop("timestamp")
        _take(event, "event_type", event.get("name", ""))
        _take(event, "event_source", "server")
        _take(event, "page", None)
