"""scripts/derive_dropout_weights.py on small synthetic data written here (KDD-shaped files)."""

from __future__ import annotations

import csv
import importlib
import io
import math
import random
import sys
from contextlib import redirect_stdout
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitation_rules.engine import dropout_model as dropout
from facilitation_rules.packs.loader import load_pack
from facilitation_stream.cli.main import main as facilitation

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
derive = importlib.import_module("derive_dropout_weights")
data_mod = importlib.import_module("dropout_data")
logistic = importlib.import_module("logistic")

START = date(2014, 6, 1)
TYPES = ("access", "discussion", "navigate", "page_close", "problem", "video", "wiki")


def write_course(folder: Path, course: str, learners: dict[str, set[int]]) -> None:
    """One row per enrolment and day of a 30-day window, like the KDD per-course files."""
    with open(folder / f"trainCourse{course}.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["enrollment_id", "time", *(f"event_{t}" for t in TYPES)])
        for learner, days in learners.items():
            for d in range(30):
                counts = [2, 1, 0, 0, 3, 0, 0] if d in days else [0] * 7
                out.writerow([learner, (START + timedelta(days=d)).isoformat(), *counts])


def synthetic(folder: Path, courses: int = 3, per_course: int = 40, seed: int = 3) -> None:
    """Regulars (many days, recent) stay; one-day visitors leave."""
    rng = random.Random(seed)
    truth = []
    for c in range(courses):
        learners = {}
        for i in range(per_course):
            learner = f"{c}{i:03d}"
            regular = rng.random() < 0.4
            n = rng.randrange(6, 15) if regular else rng.randrange(1, 3)
            last = rng.randrange(20, 30) if regular else rng.randrange(0, 29)
            learners[learner] = {max(last - k * 2, 0) for k in range(n)}
            truth.append((learner, int(not regular if rng.random() < 0.9 else regular)))
        write_course(folder, f"{100 + c}", learners)
    with open(folder / "truth_train.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("enrollment_id", "label"), *truth])


def test_kdd_reader_keeps_active_days_labels_and_the_cut_off(tmp_path):
    write_course(tmp_path, "7", {"1": {0, 29}, "2": set()})
    write_course(tmp_path, "8", {"3": {5}})
    (tmp_path / "truth.csv").write_text("1,1\n2,0\n3,1\n")  # without a header row
    daily, labels, cutoffs = data_mod.read_kdd(str(tmp_path), ["8"])
    first = data_mod.day_number(START.isoformat())
    assert daily == {("7", "1"): {first: (6, 0, 0, 0), first + 29: (6, 0, 0, 0)}, ("7", "2"): {}}
    assert labels == {("7", "1"): 1, ("7", "2"): 0}
    assert cutoffs == {"7": first + 30}


def test_examples_use_the_engine_features_at_the_cut_off(tmp_path):
    write_course(tmp_path, "7", {"1": {10, 20, 28}, "2": set()})
    (tmp_path / "truth.csv").write_text("enrollment_id,label\n1,0\n2,1\n")
    daily, labels, cut = data_mod.read_kdd(str(tmp_path), [])
    [example] = derive.examples(daily, {c: [d] for c, d in cut.items()}, 10, 14, labels)
    assert (example.learner, example.y, example.active_total) == ("1", 0, 3)
    assert example.since == 1.5  # noon of day 28 to the start of day 30
    assert example.x[dropout.FEATURES.index("total_days")] == math.log1p(3)
    assert example.x[dropout.FEATURES.index("cohort")] == (2 - 2 / 2) * 7 / 14  # 2 learners


def test_fit_keeps_the_signs_that_make_reasons_true():
    rng = random.Random(5)
    data = []
    for i in range(400):
        recency, posts = rng.random() * 4, rng.random()
        y = int(rng.random() < 1 / (1 + math.exp(-(2 * recency - 4 + 2 * posts))))
        x = [
            recency if f == "recency" else posts if f == "posts" else rng.random()
            for f in dropout.FEATURES
        ]
        data.append(derive.Example(f"c{i % 3}", str(i), x, y, recency * 7, 0, 0))
    _, free = derive.fit_model(data, 1.0, constrained=False)
    _, weights = derive.fit_model(data, 1.0)
    assert free["posts"] > 0 and weights["posts"] == 0.0  # posting may not raise the risk
    assert weights["recency"] > 1.0


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1)), min_size=2, max_size=30))
def test_auc_is_the_pairwise_probability(pairs):
    scores, ys = [float(s) for s, _ in pairs], [y for _, y in pairs]
    pos = [s for s, y in zip(scores, ys, strict=True) if y]
    neg = [s for s, y in zip(scores, ys, strict=True) if not y]
    if not pos or not neg:
        assert math.isnan(logistic.auc(scores, ys))
        return
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    assert logistic.auc(scores, ys) == pytest.approx(wins / (len(pos) * len(neg)))


def test_fit_report_beats_recency_and_prints_a_model_block(tmp_path, capsys):
    synthetic(tmp_path)
    assert derive.main(["--kdd-dir", str(tmp_path), "--folds", "3"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("    model:\n") and "total_days:" in out
    mean = next(line for line in err.splitlines() if line.startswith("| mean of 3"))
    model, _, recency = (float(v) for v in mean.strip("| ").split(" | ")[3:6])
    assert model > recency


def test_events_through_the_learners_cli_score_like_the_script(tmp_path, capsys):
    (tmp_path / "kdd").mkdir()
    synthetic(tmp_path / "kdd", courses=1)
    out = tmp_path / "events"
    daily, labels, cut = data_mod.read_kdd(str(tmp_path / "kdd"), [])
    [line] = data_mod.emit_events(daily, {c: [d] for c, d in cut.items()}, labels, 10, str(out))
    events, _, at = line.split(" ")
    assert facilitation(["learners", events, "--at", at]) == 0
    export = tmp_path / "learners.csv"
    export.write_text(capsys.readouterr().out)
    rows = {r["learner_id"]: r for r in csv.DictReader(export.open())}
    cfg = load_pack().rules.dropout
    examples = derive.examples(daily, {c: [d] for c, d in cut.items()}, 10, cfg.window_days, labels)
    assert len(rows) == len(examples)
    for e in examples:  # the same features and weights, so the same score
        expected = dropout.score(
            dict(zip(dropout.FEATURES, e.x, strict=True)), cfg.intercept, cfg.weights
        )
        assert float(rows[e.learner]["risk_score"]) == pytest.approx(expected, abs=5e-4)
    with redirect_stdout(io.StringIO()) as table:
        derive.main(["--check-export", str(export), "--labels", str(out / "labels.csv")])
    assert "| mean of 1 | 40 |" in table.getvalue()
