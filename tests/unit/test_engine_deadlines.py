"""The due index and the business calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hypothesis import given
from hypothesis import strategies as st

from facilitation_rules.engine.due_index import DueIndex
from facilitation_rules.packs.business_hours import BusinessCalendar


def test_due_index_pops_only_what_is_due_earliest_first_with_lazy_rescheduling():
    index = DueIndex()
    index.schedule("a", 10.0)
    index.schedule("b", 5.0)
    index.schedule("c", 50.0)
    index.schedule("a", 20.0)  # later: ignored, "a" stays due at 10
    index.schedule("c", 7.0)  # earlier: moves
    assert index.next_due() == 5.0 and len(index) == 3
    assert list(index.pop_due(9.0)) == [(5.0, "b"), (7.0, "c")]
    assert list(index.pop_due(9.0)) == []
    assert list(index.pop_due(100.0)) == [(10.0, "a")]  # the stale 50.0 entry of "c" is skipped
    assert index.next_due() == float("inf") and len(index) == 0


def test_due_index_keeps_schedule_order_within_a_time_and_survives_an_early_stop():
    index = DueIndex()
    for key in ("z", "a", "m"):
        index.schedule(key, 5.0)  # many subjects share a due time (the daily evaluation)
    popped = index.pop_due(5.0)
    assert next(popped) == (5.0, "z")
    popped.close()  # the caller stopped early: the rest stays scheduled
    assert index.next_due() == 5.0 and len(index) == 2
    seen = []
    for due, key in index.pop_due(10.0):
        seen.append((due, key))
        if key == "a":
            index.schedule("q", 5.0)  # scheduled while its time is being popped
    assert seen == [(5.0, "a"), (5.0, "m"), (5.0, "q")]
    assert index.next_due() == float("inf")


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_calendar_always_on_and_business_hours_with_time_zone_and_holidays():
    assert BusinessCalendar().add(100.0, 50.0) == 150.0
    london = BusinessCalendar(
        enabled=True,
        timezone="Europe/London",
        start=time(9),
        end=time(17),
        holidays=frozenset({date(2024, 7, 1)}),
    )
    # Friday 2024-06-28 16:00 BST (15:00 UTC) + 2 h: 1 h Friday, Monday is a holiday,
    # 1 h on Tuesday from 09:00 BST (08:00 UTC)
    assert london.add(ts(2024, 6, 28, 15), 2 * 3600) == ts(2024, 7, 2, 9)
    # posted on a Sunday: the clock starts Monday 09:00
    assert london.add(ts(2024, 6, 29, 12), 3600) == ts(2024, 7, 2, 9)  # Sat; Mon holiday


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("schedule"), st.sampled_from("abcdefg"), st.integers(0, 12)),
            st.tuples(st.just("pop"), st.integers(0, 12)),
        ),
        max_size=60,
    )
)
def test_due_index_pops_what_a_sorted_model_says(ops):
    index, model, seq = DueIndex(), {}, 0  # model: key -> (due, order scheduled)
    for op in ops:
        if op[0] == "schedule":
            _, key, due = op
            if key not in model or due < model[key][0]:
                seq += 1
                model[key] = (float(due), seq)
            index.schedule(key, float(due))
        else:
            now = float(op[1])
            due_now = sorted((d, s, k) for k, (d, s) in model.items() if d <= now)
            assert list(index.pop_due(now)) == [(d, k) for d, _, k in due_now]
            for _, _, k in due_now:
                del model[k]
            assert len(index) == len(model)
            assert index.next_due() == min((d for d, _ in model.values()), default=float("inf"))
