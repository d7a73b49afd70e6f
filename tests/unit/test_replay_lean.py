"""Replay reads plain learner activity lean (no event built): same counts, same results.

``read_replay_items`` must report exactly what ``read_events`` reports, and replaying its
items must give the alerts and learner states that feeding the full events gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks import tracking_log_gen

from facilitation_rules.contract.alerts import alert_to_dict
from facilitation_rules.contract.events import ActivityRecorded, PostViewed, PostVoted, Role
from facilitation_rules.engine.replay import Replayer
from facilitation_rules.packs.loader import load_pack
from facilitation_stream.backtest.ordered_input import load_sorted, replay
from facilitation_stream.ingest.event_files import ReadStats, read_events, read_replay_items

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tracking_logs"
LOGS = [FIXTURES / "mixed.log", FIXTURES / "mixed.log.gz", FIXTURES / "pretty.json"]


def _stats(stats: ReadStats) -> tuple[object, ...]:
    return (stats.read, stats.events, stats.ignored, stats.unknown, stats.malformed)


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.name)
def test_lean_reading_counts_and_reports_what_full_reading_does(path: Path) -> None:
    full, lean = ReadStats(), ReadStats()
    events = list(read_events([path], stats=full))
    items = [item for batch in read_replay_items([path], stats=lean) for item in batch]
    assert _stats(lean) == _stats(full)
    assert len(items) == len(events)
    for (t, course, what), event in zip(items, events, strict=True):
        assert (t, course) == (event.occurred_at.timestamp(), event.course_id)
        if isinstance(what, str):  # lean: only plain activity of a learner
            assert isinstance(event, ActivityRecorded | PostViewed | PostVoted)
            assert event.actor.role is Role.LEARNER and what == event.actor.user_id
        else:
            assert what == event


def _full_items(path: Path) -> list[tuple[float, str, object]]:
    events = sorted(read_events([path]), key=lambda e: e.occurred_at)
    return [(e.occurred_at.timestamp(), e.course_id, e) for e in events]


def _learners(replayer: Replayer) -> list[tuple[object, ...]]:
    return [
        (key, s.enrolled_at, s.first_active, s.last_active, list(s.days), s.posts, s.open, s.due)
        for key, s in sorted(replayer.states.items())
        if key[0] == "L"
    ]


def test_replaying_lean_items_gives_the_alerts_and_states_of_the_full_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking_log_gen, "CACHE", tmp_path)
    path = tracking_log_gen.ensure(20_000)  # the benchmark's log: activity, forum, enrolments
    pack = load_pack()
    lean = replay(load_sorted([str(path)], "auto", ReadStats()), pack, None)
    full = replay(_full_items(path), pack, None)  # type: ignore[arg-type]
    assert lean.alerts and [alert_to_dict(a) for a in lean.alerts] == [
        alert_to_dict(a) for a in full.alerts
    ]
    assert _learners(lean.replayer) == _learners(full.replayer)
    assert lean.replayer.states.keys() == full.replayer.states.keys()
