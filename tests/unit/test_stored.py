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


def test_authored_ids_are_kept_bounded_and_survive_the_codec() -> None:
    from facilitation_stream.worker.stored import IDS_KEPT
    from tests.unit.event_factory import thread

    stored = Stored(state=1, partition=0)
    posts = [thread(h, "learner-1", f"p{h}") for h in range(IDS_KEPT + 5)]
    for post in posts:
        stored.ids = stored.with_id(post)
    assert len(stored.ids) == IDS_KEPT
    assert stored.absorbed(posts[-1]) and not stored.absorbed(posts[0])
    again = decode_stored(encode_stored(stored))
    assert again == stored and again.absorbed(posts[-1])


def test_records_without_ids_or_parked_items_read_as_before() -> None:
    import pickle

    plain = pickle.dumps((7, 2, ("e1", 4), None), protocol=5)
    assert decode_stored(plain) == Stored(state=7, partition=2, marks=("e1", 4))
    parked = pickle.dumps((None, 1, (), 5.0, [("e1", 3)]), protocol=5)
    assert decode_stored(parked).parked == [("e1", 3)]
