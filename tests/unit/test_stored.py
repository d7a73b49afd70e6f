"""Stored table values: dedup marks and the changelog codec."""

from __future__ import annotations

from facilitation_stream.worker.stored import Stored, decode_stored, encode_stored


def test_stored_marks_absorb_offsets_per_source() -> None:
    stored = Stored(state=None, partition=0)
    stored.marks = stored.marked("e1", 5)
    stored.marks = stored.marked("du2", 7)
    stored.marks = stored.marked("e1", 9)
    assert stored.marks == ("e1", 9, "du2", 7)
    assert stored.seen("e1", 9) and not stored.seen("e1", 10) and not stored.seen("e0", 0)
    assert decode_stored(encode_stored(stored)) == stored
