"""scripts/derive_dropout_weights.py --extras and --score-days (issue 21, item 7), on small
synthetic KDD-shaped files written here (never on real data: the KDD Cup files on this
machine are held out, for an evaluation nobody tunes against)."""

from __future__ import annotations

import csv
import importlib
import math
import random
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
derive = importlib.import_module("derive_dropout_weights")
data_mod = importlib.import_module("dropout_data")
extras = importlib.import_module("dropout_extras")

START = date(2014, 6, 1)
TYPES = ("access", "discussion", "navigate", "page_close", "problem", "video", "wiki")


def write_courses(folder: Path, courses: int = 3, per_course: int = 60, seed: int = 4) -> None:
    """Every learner is active on the same kind of days; those who stay do problems, those
    who leave watch videos: only the event-type mix tells them apart."""
    rng = random.Random(seed)
    truth = []
    for c in range(courses):
        rows = []
        for i in range(per_course):
            learner = f"{c}{i:03d}"
            dropped = rng.random() < 0.5
            days = set(rng.sample(range(30), 6))
            for d in range(30):
                counts = dict.fromkeys(TYPES, 0)
                if d in days:
                    counts["access"] = 1
                    counts["video" if dropped else "problem"] = 4
                rows.append([learner, (START + timedelta(days=d)).isoformat(),
                             *(counts[t] for t in TYPES)])  # fmt: skip
            truth.append((learner, int(dropped)))
        with open(folder / f"trainCourse{200 + c}.csv", "w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["enrollment_id", "time", *(f"event_{t}" for t in TYPES)])
            out.writerows(rows)
    with open(folder / "truth_train.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("enrollment_id", "label"), *truth])


def test_the_readers_keep_the_event_type_mix_and_the_first_day(tmp_path):
    write_courses(tmp_path, courses=1, per_course=2)
    mix, starts = {}, {}
    daily, _, cutoffs = data_mod.read_kdd(str(tmp_path), [], mix, starts)
    first = data_mod.day_number(START.isoformat())
    assert starts == {"200": first} and cutoffs == {"200": first + 30}
    for key, days in daily.items():
        assert set(mix[key]) == set(days)  # a mix for every active day
        for day, (events, *_rest) in days.items():
            problem, video, page = mix[key][day]
            assert page == 1 and problem + video == 4 and events == 5
    csv_file = tmp_path / "daily.csv"
    csv_file.write_text(
        "course,learner,date,events,problems,videos,page_views\nc,l,2024-01-09,9,2,3,4\n"
    )
    own: dict = {}
    data_mod.read_daily(str(csv_file), own)
    assert own == {("c", "l"): {data_mod.day_number("2024-01-09"): (2, 3, 4)}}


def test_extra_features_are_the_window_clicks_and_the_type_shares():
    events = {10: 5, 12: 5, 2: 100}  # day 2 is outside the 14-day window before day 20
    mix = {10: (3, 1, 1), 12: (1, 1, 3), 2: (100, 0, 0)}
    clicks, problem, video, page = extras.extra_features(events, mix, 20, 14)
    assert clicks == pytest.approx(math.log1p(10))
    assert (problem, video, page) == pytest.approx((0.4, 0.2, 0.4))
    assert extras.extra_features({}, {}, 20, 14) == [0.0, 0.0, 0.0, 0.0]


def test_extras_say_whether_they_raise_the_cross_course_auc(tmp_path, capsys):
    write_courses(tmp_path)
    assert derive.main(["--kdd-dir", str(tmp_path), "--folds", "3", "--extras"]) == 0
    err = capsys.readouterr().err
    without = float(err.split("| the engine's (unconstrained fit) | ")[1].split(" |")[0])
    with_extras = float(err.split("problem_share, video_share, page_share | ")[1].split(" |")[0])
    assert with_extras > 0.9 > without  # only the mix separates these learners
    assert "the click count and the event-type mix raise it" in err


def test_score_days_reports_the_auc_on_day_7_14_21_and_at_the_end(tmp_path, capsys):
    write_courses(tmp_path)
    argv = ["--kdd-dir", str(tmp_path), "--folds", "3", "--score-days", "7,14,21"]
    assert derive.main(argv) == 0
    err = capsys.readouterr().err
    table = err[err.index("| scored at |") :].splitlines()
    assert table[0] == (
        "| scored at | learners | pack model | model (held out) | days since last activity |"
    )
    assert [row.split(" | ")[0] for row in table[2:6]] == ["| day 7", "| day 14", "| day 21",
                                                           "| end"]  # fmt: skip
    counts = [int(row.split(" | ")[1].replace(",", "")) for row in table[2:6]]
    assert counts == sorted(counts) and counts[-1] == 180  # more learners active by then
    for row in table[2:6]:
        assert all(0.0 <= float(v) <= 1.0 for v in row.strip(" |").split(" | ")[2:])
    # The end is the cut-off of the main table: the same AUC for the pack's own model.
    mean = next(line for line in err.splitlines() if line.startswith("| mean of 3"))
    assert mean.split(" | ")[4] == table[5].split(" | ")[2]
