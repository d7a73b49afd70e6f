"""The updates-topic encoding gives back equal updates, events and ticks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitation_rules.engine import dispatch as engine
from facilitation_stream import item_codec
from tests.unit import event_factory as f


def _events() -> list[object]:
    return [
        f.thread(1, "ann", "t1", question=True),
        f.response(2, "tutor", "t1", "r1"),
        f.comment(3, "bob", "t1", "r1", "c1"),
        f.vote(4, "bob", "t1"),
        f.deleted(5, "ann", "t1"),
        f.activity(6, "cid"),
        f.enrolled(0, "dan"),
        f.unenrolled(9, "dan"),
        f.reflection(7, "eve", "r1", "p1", shared=True),
        f.reflection_comment(8, "bob", "r1", "eve"),
    ]


@pytest.mark.parametrize("event", _events(), ids=lambda e: type(e).__name__)
def test_events_and_their_updates_come_back_equal(event: object) -> None:
    moved = ("derived", "de1", 64, event)
    assert item_codec.loads(item_codec.dumps(moved)) == moved
    for update in engine.route(event):  # type: ignore[arg-type]
        message = ("derived", "du0", 7, update)
        back = item_codec.loads(item_codec.dumps(message))
        assert back == message
        assert type(back[3].event) is type(update.event)


@given(st.integers(min_value=0, max_value=4_000_000_000_000_000))
def test_event_times_keep_every_microsecond(micros: int) -> None:
    when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    event = dataclasses.replace(f.activity(0, "u"), occurred_at=when)
    assert item_codec.loads(item_codec.dumps(("derived", "de0", 0, event)))[3].occurred_at == when


def test_ticks_and_unknown_types() -> None:
    assert item_codec.loads(item_codec.dumps(("tick", 1795639375.25))) == ("tick", 1795639375.25)
    with pytest.raises(TypeError, match="updates topic"):
        item_codec.dumps(("derived", "x", 0, object()))
