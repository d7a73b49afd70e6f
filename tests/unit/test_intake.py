"""The worker's intake: what an events-topic message becomes (worker.intake)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from facilitation_rules.contract.codec import dumps
from facilitation_stream.worker.intake import Intake, Refused
from tests.unit.event_factory import T0, activity

NOW = (T0 + timedelta(days=30)).timestamp()


def _intake(watermarks: dict[int, float] | None = None) -> Intake:
    return Intake(watermarks if watermarks is not None else {}, lateness_s=7 * 86400.0,
                  future_tolerance_s=300.0, max_bytes=65_536)


def _bytes(hours: float, **changes: object) -> bytes:
    return dumps(dataclasses.replace(activity(hours, "l1"), **changes)).encode()


def test_an_event_is_admitted_and_moves_its_partition_watermark() -> None:
    marks: dict[int, float] = {}
    event = _intake(marks).admit(_bytes(24), 3, NOW)
    assert not isinstance(event, Refused)
    assert marks == {3: event.occurred_at.timestamp()}


def test_a_message_over_the_size_bound_is_not_parsed() -> None:
    refused = _intake().admit(b"{" + b" " * 70_000, 0, NOW)
    assert refused == Refused("oversized", "70,001 bytes, at most 65,536")


def test_an_event_from_2099_is_refused_and_moves_nothing() -> None:
    marks = {0: (T0 + timedelta(days=1)).timestamp()}
    intake = _intake(marks)
    refused = intake.admit(_bytes(24 * 365 * 75), 0, NOW)
    assert isinstance(refused, Refused) and refused.reason == "future"
    assert marks == {0: (T0 + timedelta(days=1)).timestamp()}
    assert not isinstance(intake.admit(_bytes(2), 0, NOW), Refused)  # real events still come


def test_within_the_tolerance_a_clock_slightly_ahead_is_fine() -> None:
    ahead = _bytes((NOW - T0.timestamp() + 200) / 3600)
    assert not isinstance(_intake().admit(ahead, 0, NOW), Refused)


def test_a_late_event_is_refused_with_the_event_for_the_duplicate_check() -> None:
    marks = {0: (T0 + timedelta(days=20)).timestamp()}
    refused = _intake(marks).admit(_bytes(24), 0, NOW)
    assert isinstance(refused, Refused) and refused.reason == "late"
    assert refused.event is not None and refused.event.actor.user_id == "l1"


def test_malformed_and_unknown_and_overlong_have_their_own_reasons() -> None:
    intake = _intake()
    assert intake.admit(b"not json", 0, NOW).reason == "invalid"  # type: ignore[union-attr]
    unknown = b'{"event_type": "org.openedx.facilitation.x.y.v9", "event_id": "e"}'
    assert intake.admit(unknown, 0, NOW).reason == "unknown-type"  # type: ignore[union-attr]
    overlong = _bytes(1, learner_id="x" * 300)
    assert intake.admit(overlong, 0, NOW).reason == "rejected"  # type: ignore[union-attr]
