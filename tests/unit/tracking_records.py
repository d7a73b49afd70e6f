"""Tracking-log records as the LMS writes them, for the translation tests."""

from __future__ import annotations

from typing import Any

from facilitation_rules.openedx_logs.translate import translate

COURSE = "course-v1:FacX+TUT101+2024_T1"
TIME = "2024-03-04T09:00:00.250000+00:00"


def server(event_type: str, event: Any, user_id: Any = 101, **context: Any) -> dict[str, Any]:
    """The LMS's own shape: event_type / event / time, user in context."""
    ctx = {"user_id": user_id, "username": "ana", "course_id": COURSE, **context}
    return {
        "event_type": event_type,
        "time": TIME,
        "username": "ana",
        "context": ctx,
        "event": event,
    }


def processed(name: str, data: Any, user_id: Any = 101, **context: Any) -> dict[str, Any]:
    """The event-routing shape: name / data / timestamp."""
    ctx = {"user_id": user_id, "username": "ana", "course_id": COURSE, **context}
    return {"name": name, "timestamp": TIME, "data": data, "context": ctx}


def one(record: dict[str, Any], threads: dict[str, str] | None = None) -> Any:
    events = translate(record, threads)
    assert len(events) == 1, events
    return events[0]
