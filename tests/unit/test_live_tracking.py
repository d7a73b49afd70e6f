"""The live forum path against its oracle, ``facilitation ingest tracking-log``.

The project's tracking-log fixtures (all three record shapes) go through the live path two
ways: each record handed to the plugin's event-tracking backend as edx-platform's tracker
hands it over (Python values: the time a ``datetime``), and each record re-emitted through
the test LMS's tracker, whose ``tracking_logs`` routing backend feeds the logger (a
tracking log file) and the plugin's backend (the outbox) the same processed event. The
outbox must hold exactly the events, with the same ``event_id``s, that the ingest command
reads from the fixture file and from the log the test LMS wrote; the XBlocks' own
contract events are left to the blocks, which store them with the post.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from facilitation_rules.contract.codec import loads
from facilitation_rules.contract.events import NAMESPACE, Event
from facilitation_rules.openedx_logs.fields import TrackingLogError
from facilitation_rules.openedx_logs.translate import parse_line
from tests.support import lms_django

pytestmark = pytest.mark.lms

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tracking_logs"
FACILITATION = str(Path(sys.executable).with_name("facilitation"))
REQUEST_FIELDS = ("username", "session", "ip", "agent", "host", "referer", "accept_language",
                  "event_source", "page")


@pytest.fixture
def lms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The test LMS with the live path writing to a fresh outbox (no sender)."""
    lms_django.setup()
    from facilitation_xblocks.outbox.emitter import EventEmitter
    from facilitation_xblocks.plugin import wiring
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox

    lms_django.clear("default")
    emitter = EventEmitter(DatabaseOutbox(), "events")
    monkeypatch.setattr(wiring, "lms_emitter", lambda: emitter)
    yield emitter
    lms_django.clear("default")


def ingest(path: Path) -> list[Event]:
    out = subprocess.run([FACILITATION, "ingest", "tracking-log", str(path), "--dry-run",
                          "--json", "--quiet"], capture_output=True, text=True, check=True)
    return [loads(line) for line in out.stdout.splitlines()]


def outbox_events() -> list[Event]:
    from facilitation_xblocks.plugin.models import OutboxEvent

    return [loads(v) for v in OutboxEvent.objects.order_by("id").values_list("value", flat=True)]


def records(path: Path) -> list[dict[str, Any]]:
    """The file's records as dicts, in file order: a pretty-printed document, or lines
    (lines that hold no JSON object are no event an LMS process could emit)."""
    data = path.read_bytes()
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()
    if text.lstrip().startswith(("{\n", "[")):
        document = json.loads(text)
        return document if isinstance(document, list) else [document]
    found = []
    for line in text.splitlines():
        try:
            record = parse_line(line)
        except TrackingLogError:
            continue
        if record is not None:
            found.append(record)
    return found


def with_python_times(record: dict[str, Any]) -> dict[str, Any]:
    """The record as event-tracking holds it in the LMS process: times as datetimes."""
    event = copy.deepcopy(record)
    for field in ("time", "timestamp"):
        if isinstance(event.get(field), str):
            with contextlib.suppress(ValueError):  # a broken time stays broken
                event[field] = datetime.fromisoformat(event[field])
    return event


def as_emitted(record: dict[str, Any]) -> dict[str, Any]:
    """What the tracker emitted for this log record (``name``, ``timestamp``, ``data``,
    ``context``): the field mapping in reverse, so the LMS's processors make it again."""
    event = with_python_times(record)
    context = dict(event.get("context") or {})
    for field in REQUEST_FIELDS:
        if field in event:
            context[field] = event[field]
    emitted: dict[str, Any] = {"name": event.get("name") or event.get("event_type"),
                               "context": context}
    if "event_type" in event and event["event_type"] != emitted["name"]:
        context["event_type"] = event["event_type"]
    when = event.get("time", event.get("timestamp"))
    if when is not None:
        emitted["timestamp"] = when
    emitted["data"] = event["event"] if "event" in event else event.get("data", {})
    return emitted


def contract_ids(path: Path) -> set[str]:
    """Event ids of the XBlocks' own events in the file (the blocks store these)."""
    ids = set()
    for record in records(path):
        name = record.get("name") or record.get("event_type") or ""
        payload = record.get("event") or record.get("data")
        if name.startswith(NAMESPACE) and isinstance(payload, dict):
            ids.add(payload["event_id"])
    return ids


@pytest.mark.parametrize("fixture", ["mixed.log", "mixed.log.gz", "pretty.json"])
def test_records_handed_to_the_backend_give_what_ingest_gives(lms, fixture) -> None:
    from facilitation_xblocks.plugin.tracking import FacilitationTrackingBackend

    path = FIXTURES / fixture
    backend = FacilitationTrackingBackend()
    for record in records(path):
        backend.send(with_python_times(record))
    blocks_own = contract_ids(path)
    expected = [e for e in ingest(path) if e.event_id not in blocks_own]
    assert expected, "the fixture holds forum events"
    assert outbox_events() == expected
    if fixture != "pretty.json":
        assert blocks_own, "the mixed log holds an XBlock event the backend leaves alone"


def test_records_re_emitted_through_the_lms_tracker_give_the_same_events(lms) -> None:
    from django.conf import settings
    from eventtracking import tracker

    path = FIXTURES / "mixed.log"
    log = Path(settings.TRACKING_LOG)
    log.write_text("")
    routing = tracker.get_tracker().routing_backend
    for record in records(path):
        routing.send(as_emitted(record))
    blocks_own = contract_ids(path)
    expected = [e for e in ingest(path) if e.event_id not in blocks_own]
    written = [e for e in ingest(log) if e.event_id not in blocks_own]
    assert outbox_events() == expected == written


def test_unknown_broken_and_own_events_store_nothing_and_never_raise(lms) -> None:
    from facilitation_xblocks.plugin.tracking import FacilitationTrackingBackend

    backend = FacilitationTrackingBackend()
    backend.send({"name": "edx.bi.course.upgrade.sidebarupsell.displayed", "data": {}})
    backend.send({"name": f"{NAMESPACE}.post.created.v1", "data": {"event_id": "x"}})
    backend.send({"name": "edx.forum.thread.created", "data": {"id": "T9"},
                  "context": {"user_id": 5, "course_id": "course-v1:A+B+C"}})  # no time
    backend.send({"event_type": "edx.forum.thread.created"})  # not even a payload
    assert outbox_events() == []


def test_the_live_path_can_be_switched_off(lms, settings_override) -> None:
    from facilitation_xblocks.plugin.tracking import FacilitationTrackingBackend

    settings_override(FACILITATION_LIVE_TRACKING=False)
    for record in records(FIXTURES / "mixed.log"):
        FacilitationTrackingBackend().send(with_python_times(record))
    assert outbox_events() == []


def test_votes_find_their_thread_in_another_process(lms) -> None:
    """The post -> thread index is in the database: a vote on a response seen by another
    process (another backend) still names the thread."""
    from facilitation_xblocks.plugin.tracking import FacilitationTrackingBackend

    created, voted = records(FIXTURES / "mixed.log")[1], records(FIXTURES / "mixed.log")[3]
    assert (created["name"], voted["name"]) == ("edx.forum.response.created",
                                                "edx.forum.response.voted")
    FacilitationTrackingBackend().send(with_python_times(created))
    FacilitationTrackingBackend().send(with_python_times(voted))
    vote = outbox_events()[-1]
    assert (vote.post_id, vote.thread_id) == ("R1", "T1")  # type: ignore[attr-defined]


@pytest.fixture
def settings_override() -> Iterator[Any]:
    from django.conf import settings

    saved: dict[str, Any] = {}

    def override(**values: Any) -> None:
        for name, value in values.items():
            saved.setdefault(name, getattr(settings, name))
            setattr(settings, name, value)

    yield override
    for name, value in saved.items():
        setattr(settings, name, value)
