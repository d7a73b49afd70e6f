#!/usr/bin/env python3
"""Fit the dropout-risk model (intercept, weights, reference) of a rule pack.

Method (docs/dropout-risk.md): L2-regularised logistic regression, fitted by Newton's
method in pure Python, on the engine's own features (``facilitation_rules.dropout``,
computed by the same code the engine runs) at one or more cut-off dates, against a label
"dropped out" = no activity in the ``--horizon`` days after the cut-off (or your labels).

Real data (what a course team should use)::

    python scripts/derive_dropout_weights.py --activity daily.csv --at 2024-02-05 --at 2024-02-19
        [--labels labels.csv]

``daily.csv``: course,learner,date,events[,posts,reflections,replies_received]
(one row per learner and active day; ``events`` > 0). ``labels.csv``: course,learner,dropped
(0/1); without it the label is computed from the activity after each cut-off. Only learners
active before a cut-off are used at that cut-off (the engine scores only those).

Without real data (how the shipped defaults were made)::

    python scripts/derive_dropout_weights.py --simulate 6000 --seed 1

simulates a course with the behaviour model in docs/dropout-risk.md. Prints the ``model:``
block for the pack, and the ranking quality (AUC) of the model next to "days since last
activity" alone, on a held-out third of the learners.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
from collections import defaultdict
from datetime import UTC, date, datetime

from facilitation_rules.dropout import FEATURES, features_at
from facilitation_rules.state import CourseState, LearnerState

DAY = 86400


# -- data -------------------------------------------------------------------------------

# (course, learner) -> day -> (events, posts, reflections, replies received)
Daily = dict[tuple[str, str], dict[int, tuple[int, int, int, int]]]


def read_daily(path: str) -> Daily:
    data: Daily = defaultdict(dict)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = date.fromisoformat(row["date"]).toordinal() - date(1970, 1, 1).toordinal()
            data[(row["course"], row["learner"])][day] = (
                int(row.get("events") or 0),
                int(row.get("posts") or 0),
                int(row.get("reflections") or 0),
                int(row.get("replies_received") or 0),
            )
    return data


def read_labels(path: str) -> dict[tuple[str, str], int]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {(r["course"], r["learner"]): int(r["dropped"]) for r in csv.DictReader(handle)}


def examples(
    daily: Daily, cutoffs: list[int], horizon: int, window: int, labels: dict | None
) -> list[tuple[str, list[float], int, float]]:
    """(learner key, feature vector, label, days since last activity) per learner and cut-off."""
    out = []
    for cut in cutoffs:
        cohort: dict[str, CourseState] = {}
        states = {}
        for (course, learner), days in daily.items():
            past = {d: c for d, c in days.items() if d < cut and c[0] > 0}
            course_state = cohort.setdefault(course, CourseState(course_id=course))
            course_state.learners += 1
            for d in past:
                course_state.active_by_day[d] = course_state.active_by_day.get(d, 0) + 1
            if not past:
                continue
            state = LearnerState(course_id=course, learner_id=learner)
            state.days = set(past)
            state.last_active = (max(past) + 0.5) * DAY
            state.posts = sum(c[1] for c in past.values())
            state.reflections = sum(c[2] for c in past.values())
            state.replies_received = sum(c[3] for c in past.values())
            states[(course, learner)] = state
        for key, state in states.items():
            if labels is not None:
                if key not in labels:
                    continue
                label = labels[key]
            else:
                label = int(not any(cut <= d < cut + horizon for d in daily[key]))
            feats = features_at(state, cut * DAY, cohort[key[0]], window)
            vector = feats.vector()
            out.append((f"{key[0]}|{key[1]}", [vector[f] for f in FEATURES], label,
                        feats.days_since_active))
    return out


# -- simulation (the behaviour model of docs/dropout-risk.md) ----------------------------


def simulate(learners: int, seed: int, days: int = 84) -> Daily:
    rng = random.Random(seed)
    data: Daily = defaultdict(dict)
    for i in range(learners):
        start = rng.randrange(0, 10)
        # habit: how often the learner comes (daily ... fortnightly), with a weekly rhythm
        rate = rng.betavariate(1.2, 2.5)
        social = rng.random() < 0.35  # posts in the forum at all
        stays = rng.random() < 0.45
        quit_day = days + 1 if stays else start + int(rng.expovariate(1 / 25)) + 3
        fade = rng.randrange(5, 22)  # engagement declines over this many days before quitting
        breaks = [] if rng.random() < 0.6 else [rng.randrange(start, days)]  # a 1-2 week break
        for day in range(start, days):
            p = rate
            if day >= quit_day:
                p = 0.01  # rare returns after dropping out
            elif day >= quit_day - fade:
                p = rate * (quit_day - day) / fade
            if any(b <= day < b + rng.randrange(7, 15) for b in breaks):
                p *= 0.05
            if (day % 7) in (5, 6):
                p *= 0.6
            if rng.random() < p:
                posts = int(social and rng.random() < 0.3)
                replies = sum(rng.random() < 0.8 for _ in range(posts))
                reflections = int(rng.random() < 0.1 * (1 + rate))
                data[("sim-course", f"L{i}")][day] = (1 + rng.randrange(20), posts, reflections,
                                                     replies)
    return data


# -- fitting ------------------------------------------------------------------------------


def fit(xs: list[list[float]], ys: list[int], l2: float, iterations: int = 25) -> list[float]:
    """Newton's method for L2-regularised logistic regression; returns [intercept, w...]."""
    k = len(xs[0]) + 1
    beta = [0.0] * k
    rows = [[1.0, *x] for x in xs]
    for _ in range(iterations):
        grad = [0.0] * k
        hess = [[0.0] * k for _ in range(k)]
        for row, y in zip(rows, ys, strict=True):
            z = sum(b * v for b, v in zip(beta, row, strict=True))
            p = 1 / (1 + math.exp(-max(min(z, 30), -30)))
            w = p * (1 - p)
            for a in range(k):
                grad[a] += (y - p) * row[a]
                ra = row[a] * w
                for b in range(a, k):
                    hess[a][b] += ra * row[b]
        for a in range(k):
            for b in range(a):
                hess[a][b] = hess[b][a]
            if a:  # the intercept is not penalised
                grad[a] -= l2 * beta[a]
                hess[a][a] += l2
        step = _solve(hess, grad)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return beta


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col and m[col][col]:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def auc(scores: list[float], ys: list[int]) -> float:
    """Probability that a random drop-out ranks above a random stayer (ties count half)."""
    ranked = sorted(zip(scores, ys, strict=True))
    pos = sum(ys)
    neg = len(ys) - pos
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2
        rank_sum += mid * sum(y for _, y in ranked[i:j])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg) if pos and neg else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--activity", help="daily activity CSV")
    src.add_argument("--simulate", type=int, metavar="LEARNERS", help="simulate a course")
    parser.add_argument("--labels", help="labels CSV (course,learner,dropped)")
    parser.add_argument("--at", action="append", default=[], help="cut-off date (repeatable)")
    parser.add_argument("--horizon", type=int, default=28, help="days without activity = dropped")
    parser.add_argument("--window", type=int, default=14, help="the pack's window_days")
    parser.add_argument("--l2", type=float, default=2.0, help="L2 penalty")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unconstrained", action="store_true", help="no sign constraints")
    args = parser.parse_args(argv)
    if args.simulate:
        daily = simulate(args.simulate, args.seed)
        cutoffs = [21, 35, 49]
        source = f"scripts/derive_dropout_weights.py --simulate {args.simulate} --seed {args.seed}"
    else:
        if not args.at:
            parser.error("--at is required with --activity")
        daily = read_daily(args.activity)
        epoch = date(1970, 1, 1).toordinal()
        cutoffs = [date.fromisoformat(a).toordinal() - epoch for a in args.at]
        source = f"fitted on {args.activity} at {', '.join(args.at)}"
    labels = read_labels(args.labels) if args.labels else None
    data = examples(daily, cutoffs, args.horizon, args.window, labels)
    if not data:
        print("no learners active before the cut-off(s)", file=sys.stderr)
        return 1
    rng = random.Random(args.seed)
    held_out = {key for key in {d[0] for d in data} if rng.random() < 1 / 3}
    train = [d for d in data if d[0] not in held_out]
    test = [d for d in data if d[0] in held_out] or train
    # With one course the cohort feature is active_days minus a constant per cut-off: the two
    # are nearly collinear and the split of weight between them arbitrary. Fit without it;
    # it is then 0 (a course team with several courses' data gets a real cohort weight).
    courses = {d[0].split("|", 1)[0] for d in data}
    skip = {FEATURES.index("cohort")} if len(courses) == 1 else set()
    used = [i for i in range(len(FEATURES)) if i not in skip]
    while True:
        fitted = fit([[d[1][i] for i in used] for d in train], [d[2] for d in train], args.l2)
        # Sign constraints (unless --unconstrained): recency may only raise the risk and every
        # engagement feature may only lower it, as every published dropout study finds. A
        # feature fitted the other way is dropped and the rest refitted, so each reason the
        # engine gives ("no forum posts") means what it says.
        wrong = [i for i, b in zip(used, fitted[1:], strict=True)
                 if not args.unconstrained and (b < 0 if FEATURES[i] == "recency" else b > 0)]
        if not wrong:
            break
        used = [i for i in used if i not in wrong]
    beta = [fitted[0]] + [0.0] * len(FEATURES)
    for i, b in zip(used, fitted[1:], strict=True):
        beta[i + 1] = b
    means = [sum(d[1][i] for d in train) / len(train) for i in range(len(FEATURES))]

    def model_score(x: list[float]) -> float:
        return beta[0] + sum(b * v for b, v in zip(beta[1:], x, strict=True))

    ys = [d[2] for d in test]
    model_auc = auc([model_score(d[1]) for d in test], ys)
    recency_auc = auc([d[3] for d in test], ys)
    weights = ", ".join(f"{f}: {b:.3f}" for f, b in zip(FEATURES, beta[1:], strict=True))
    reference = ", ".join(f"{f}: {m:.3f}" for f, m in zip(FEATURES, means, strict=True))
    print(f"    model:\n      source: \"{source}\"\n      intercept: {beta[0]:.3f}")
    print(f"      weights: {{{weights}}}\n      reference: {{{reference}}}")
    stamp = datetime.now(UTC).date().isoformat()
    print(
        f"# {stamp}: {len(train):,} training / {len(test):,} held-out examples, "
        f"{sum(d[2] for d in data) / len(data):.0%} dropped; held-out AUC: model "
        f"{model_auc:.3f}, days since last activity alone {recency_auc:.3f}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
