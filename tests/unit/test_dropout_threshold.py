"""scripts/dropout_threshold.py: the dropout_risk rule simulated by the engine, per setting,
on small synthetic data (no KDD data here)."""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from facilitation_rules.packs.loader import load_pack
from tests.unit.test_dropout_weights import synthetic

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
derive = importlib.import_module("derive_dropout_weights")
th = importlib.import_module("dropout_threshold")

RULES = load_pack().rules
DAY = 86400
D0 = 20_000  # a day number: 2024-10-04
ACTIVE = (1, 0, 0, 0)


def daily_of(**learners: set[int]) -> dict[tuple[str, str], dict[int, tuple[int, int, int, int]]]:
    return {("c", name): {D0 + d: ACTIVE for d in days} for name, days in learners.items()}


def day_of(t: float) -> tuple[int, int]:
    """(day after D0, hour) of an alert time."""
    moment = datetime.fromtimestamp(t, UTC)
    return int(t // DAY) - D0, moment.hour


def test_the_engine_fires_daily_at_the_hour_once_inactive_long_enough():
    # a one-day visitor scores far above 0.5 from the first evaluation: it fires then,
    # at evaluate_hour on the first day min_inactive_days after the activity (noon)
    daily = daily_of(once={0}, back={0, 9})
    for wait, first in ((2, 3), (5, 6)):
        rules = th.with_setting(RULES, (0.5, wait))
        fired = th.simulate(daily, sorted(daily), {"c": D0 + 30}, rules)
        assert [day_of(t) for t in fired[("c", "once")]] == [(first, 6)]
        # came back on day 9 (the alert resolved), vanished again: a second alert
        assert [day_of(t)[0] for t in fired[("c", "back")]] == [first, 9 + first]


def test_alerts_stop_at_the_cut_off_and_a_steady_learner_gets_none():
    # last active at noon of day 26: first evaluation 06:00 on day 29, the window's last day
    daily = daily_of(late={26}, steady=set(range(30)))
    rules = th.with_setting(RULES, (0.5, 2))
    fired = th.simulate(daily, sorted(daily), {"c": D0 + 30}, rules)
    assert {key: [day_of(t) for t in times] for key, times in fired.items()} == {
        ("c", "late"): [(29, 6)]
    }
    assert th.simulate(daily, sorted(daily), {"c": D0 + 29}, rules) == {}


def test_a_higher_threshold_alerts_later_or_never():
    daily = daily_of(fading=set(range(5)))
    times = [th.simulate(daily, sorted(daily), {"c": D0 + 60}, th.with_setting(RULES, (t, 2)))
             for t in (0.5, 0.7, 0.95)]
    assert times[0][("c", "fading")][0] < times[1][("c", "fading")][0]
    assert times[2] == {}


def test_the_shipped_model_alerts_the_regular_learner_at_the_shipped_setting():
    # docs/dropout-risk.md "Limits": 14 days in a row, then gone peaks at about 0.55
    setting = (RULES.dropout.threshold, RULES.dropout.min_inactive_days)
    assert th.alerts_regular(th.with_setting(RULES, setting))
    assert not th.alerts_regular(th.with_setting(RULES, (0.6, 2)))


def test_outcome_counts_came_back_recall_regulars_and_lead():
    daily = daily_of(
        gone={0},  # alerted, never back: a drop-out caught
        back={0, 10},  # alerted on day 3, back on day 10 (inside the window)
        later={0},  # alerted, back after the window (label 0)
        regular=set(range(8, 14)),  # a regular drop-out, not alerted
        never=set(),  # enrolled, never active: counts as enrolled only
    )
    labels = {("c", "gone"): 1, ("c", "back"): 1, ("c", "later"): 0, ("c", "regular"): 1,
              ("c", "never"): 1}
    at = (D0 + 3 + 0.25) * DAY  # 06:00 on day 3
    fired = {("c", "gone"): [at], ("c", "back"): [at], ("c", "later"): [at]}
    o = th.outcome(daily, sorted(daily), {"c": D0 + 30}, labels, fired, (0.5, 2))
    assert (o.enrolled, o.alerts, o.came_back, o.one_day) == (5, 3, 2, 3)
    assert (o.dropouts, o.alerted, o.regulars, o.regulars_alerted) == (3, 1, 1, 0)
    assert o.per_100 == 60 and o.came_back_share == 2 / 3
    assert o.lead_days == 2.75  # noon of day 0 to 06:00 of day 3
    both = th.add(o, o)
    assert (both.alerts, both.enrolled, both.lead_days, both.recall) == (6, 10, 2.75, 1 / 3)


def outcome(threshold, wait, alerts, came_back, lead=3.0):
    return th.Outcome(threshold, wait, 100, alerts, came_back, 0, 10, 5, 2, 1, (lead,))


def test_choose_takes_the_fewest_alerts_that_are_mostly_right_early_and_catch_regulars():
    outcomes = [
        outcome(0.5, 2, 120, 50),  # 42% came back: too noisy
        outcome(0.5, 3, 110, 30),
        outcome(0.5, 5, 90, 25),  # the one
        outcome(0.5, 10, 60, 10, lead=10.8),  # too late
        outcome(0.9, 5, 50, 5),  # never alerts the regular learner who vanishes
    ]
    assert th.choose(outcomes, RULES) == outcomes[2]
    assert th.choose(outcomes[:1], RULES) is None


def test_the_script_prints_the_trade_off_and_the_chosen_setting(tmp_path, capsys):
    synthetic(tmp_path, courses=3, per_course=30)
    args = ["--kdd-dir", str(tmp_path), "--folds", "3", "--threshold",
            "--thresholds", "0.5,0.9", "--waits", "2,5"]
    assert derive.main(args) == 0
    out, err = capsys.readouterr()
    rows = [line for line in err.splitlines() if line.startswith("| 0.") or "**0." in line]
    assert len(rows) == 4  # every setting of the grid, on held-out courses
    assert "came back" in err and "regular drop-outs alerted" in err
    assert "    threshold: " in out or "no setting meets the criterion" in out
    # the pack's own model on all courses, no fitting
    assert derive.main([*args, "--evaluate"]) == 0
    assert "(the pack model)" in capsys.readouterr().err
