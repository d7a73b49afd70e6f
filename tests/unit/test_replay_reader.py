"""Reading aside for replay (``replay_reader``): the same items in the same order as
reading and sorting in one process, whether the input streams or must be sorted whole."""

from __future__ import annotations

import random
from operator import itemgetter
from pathlib import Path

import orjson
from hypothesis import given
from hypothesis import strategies as st

from facilitation_rules.packs.loader import load_pack
from facilitation_stream.backtest.ordered_input import load_sorted, replay, replay_batches
from facilitation_stream.backtest.reader_process import RESTART, InOrder, Restart, read_aside
from facilitation_stream.ingest.event_files import ReadStats

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tracking_logs"


def _stats(stats: ReadStats) -> tuple[object, ...]:
    return (stats.read, stats.events, stats.ignored, stats.unknown, stats.malformed)


def _streamed(batches: list[list[tuple[float, str, str]]], lag: float) -> list | None:
    order, out = InOrder(lag), []
    for batch in batches:
        released = order.add(list(batch))
        if released is None:
            return None
        out += released
    return out + order.rest()


@given(
    times=st.lists(st.integers(min_value=0, max_value=50), max_size=120),
    size=st.integers(min_value=1, max_value=17),
    lag=st.sampled_from([0.0, 5.0, 20.0]),
)
def test_the_window_releases_the_stable_sort_or_says_it_cannot(times, size, lag):
    items = [(float(t), "c", f"u{i}") for i, t in enumerate(times)]  # ids keep file order
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    streamed = _streamed(batches, lag)
    expected = sorted(items, key=itemgetter(0))
    if streamed is not None:
        assert streamed == expected
    if times == sorted(times) or max(times, default=0) - min(times, default=0) <= lag:
        assert streamed == expected  # in order, or disorder within the window: it streams


def _log(path: Path, hours: list[float]) -> Path:
    with open(path, "wb") as out:
        for i, h in enumerate(hours):
            record = {
                "event_type": "play_video",
                "time": f"2024-03-0{1 + int(h // 24)}T{int(h % 24):02d}:00:0{i % 10}+00:00",
                "context": {"course_id": "course-v1:X+Y+Z", "user_id": 10 + i % 7},
                "event": orjson.dumps({"id": "v1"}).decode(),
            }
            out.write(orjson.dumps(record) + b"\n")
        out.write(b"{not json\n")  # one malformed line, reported the same either way
    return path


def test_reading_aside_gives_the_items_and_stats_of_reading_in_process(tmp_path):
    logs = [FIXTURES / "mixed.log", FIXTURES / "mixed.log.gz"]
    rng = random.Random(3)
    shuffled = [rng.uniform(0, 100) for _ in range(9000)]  # more than a read batch
    for paths, restarts_expected in (
        ([str(p) for p in logs], 1),  # the same days twice: sorted whole
        ([str(_log(tmp_path / "a.log", [h / 10 for h in range(400)]))], 0),  # in order
        ([str(_log(tmp_path / "b.log", shuffled))], 1),  # hours out of order
    ):
        inline, aside = ReadStats(), ReadStats()
        expected = load_sorted(paths, "auto", inline)
        got: list = []
        restarts = 0
        for batch in read_aside(paths, "auto", aside):
            if isinstance(batch, Restart):
                got, restarts = [], restarts + 1
            else:
                got += batch
        assert got == expected
        assert _stats(aside) == _stats(inline)
        assert restarts == restarts_expected


def test_replay_after_a_restart_forgets_what_was_fed_before_it():
    pack = load_pack()
    items = load_sorted([str(FIXTURES / "mixed.log")], "auto", ReadStats())
    once = replay(items, pack, None)
    [again] = replay_batches([items[:5], RESTART, items[:2], items[2:]], [pack], None)
    assert again.alerts == once.alerts and again.fed == once.fed


def test_stopping_early_stops_the_reading_process(tmp_path):
    import multiprocessing

    path = _log(tmp_path / "long.log", [h / 100 for h in range(20000)])
    batches = read_aside([str(path)], "auto", ReadStats())
    assert next(batches)
    batches.close()  # e.g. the rules raised, or Ctrl-C
    assert multiprocessing.active_children() == []


def test_a_file_that_cannot_be_read_is_reported_not_raised(tmp_path):
    stats = ReadStats()
    missing = str(tmp_path / "gone.log")
    assert [b for b in read_aside([missing], "auto", stats) if b] == []
    assert [str(m) for m in stats.malformed] == [
        f"{missing}:0: cannot open: No such file or directory"
    ]
