#!/usr/bin/env python3
"""Fit the dropout-risk model (intercept, weights, reference) of a rule pack, and measure it.

Method (docs/dropout-risk.md): L2-regularised logistic regression, fitted by Newton's
method in pure Python, on the engine's own features
(``facilitation_rules.engine.dropout_model``, the same code the engine runs) at a cut-off
date, against a "dropped out" label; sign-constrained so every reason the engine gives
means what it says.

Input, one of:

- ``--kdd-dir DIR``: the KDD Cup 2015 (XuetangX) drop-out data as one file per course,
  ``trainCourse<id>.csv`` (enrollment_id,time,event_access,...,event_wiki: one row per
  enrolment and day of the course's 30-day window, event counts by type), and a labels file
  ``truth*.csv`` (enrollment_id,label; 1 = no activity in the 10 days after the window).
  The cut-off is the end of each course's window. ``--exclude-course ID`` leaves courses out.
- ``--activity daily.csv --at DATE...``: your own course(s). ``daily.csv`` is
  course,learner,date,events[,posts,reflections,replies_received], one row per learner and
  active day. Labels: ``--labels`` (course,learner,dropped) or computed as no activity in
  the ``--horizon`` days after each cut-off.

It prints the ``model:`` block for a pack, fitted on all the data, and on stderr a table of
held-out AUCs per course: the model (each course scored by a fit that never saw it when
there are 3+ courses; else a held-out third of the learners), the pack's current model
(``--rules``, default the shipped pack), and one-number baselines: days since last activity,
active days in the window, active days so far. ``--evaluate`` only scores the pack's model.

``--threshold`` also simulates the rule as the engine runs it (``dropout_threshold``) on the
same held-out folds for each ``--thresholds`` x ``--waits`` (min_inactive_days), prints the
trade-off table on stderr and the ``threshold``/``min_inactive_days`` lines the criterion
of docs/dropout-risk.md chooses; with ``--evaluate``, for the pack's model on all courses.

``--extras`` also fits the model with the click count and the event-type mix (problem,
video and page-view shares) on the same held-out folds and says whether they raise the
mean cross-course AUC; ``--score-days 7,14,21`` scores each course's learners as they were
on those days of the course, against the final labels (``dropout_extras``).

End to end through the product CLI: ``--emit-events OUT`` writes each course's data as
contract events (``OUT/<course>.jsonl``) and ``OUT/labels.csv``, and prints the ``--at`` of
each course; after ``facilitation learners OUT/<course>.jsonl --at ... > learners.csv``,
``--check-export learners.csv --labels OUT/labels.csv`` prints the AUC of its
``risk_score`` next to days since ``last_active_at`` and ``active_days``.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import NamedTuple

import dropout_threshold as threshold
from dropout_data import (
    DAY,
    Daily,
    Labels,
    day_number,
    emit_events,
    read_daily,
    read_kdd,
    read_labels,
)
from dropout_extras import Mix, compare_extras, day_table, extra_features, mean_auc
from dropout_report import auc_table, check_export, model_block
from logistic import fit

from facilitation_rules.engine.dropout_model import FEATURES, features_at, logit
from facilitation_rules.packs.loader import load_pack
from facilitation_rules.state import ActiveDays, CourseState, LearnerState

NEGATIVE = ("recency",)  # may only raise the risk; every other feature may only lower it


class Example(NamedTuple):
    course: str
    learner: str
    x: list[float]  # FEATURES, in order
    y: int  # 1 = dropped out
    since: float  # days since the last activity
    active_recent: int
    active_total: int
    cut: int = 0  # the day it is scored at (its start)


# -- examples ---------------------------------------------------------------------------


def examples(
    daily: Daily, cutoffs: Mapping[str, list[int]], horizon: int, window: int,
    labels: Labels | None,
) -> list[Example]:
    """One example per learner active before a cut-off of their course (the engine scores
    only those), with the engine's features at the start of the cut-off day."""
    courses: dict[str, list[tuple[str, dict[int, tuple[int, int, int, int]]]]] = defaultdict(list)
    for (course, learner), days in daily.items():
        courses[course].append((learner, days))
    out = []
    for course, learners in sorted(courses.items()):
        for cut in cutoffs.get(course, ()):
            cohort = CourseState(course_id=course)
            cohort.learners = len(learners)
            states = []
            for learner, days in learners:
                past = {d: c for d, c in days.items() if d < cut and c[0] > 0}
                for d in past:
                    cohort.active_by_day[d] = cohort.active_by_day.get(d, 0) + 1
                if past:
                    states.append((learner, days, _state(course, learner, past)))
            for learner, days, state in states:
                if labels is not None:
                    if (course, learner) not in labels:
                        continue
                    label = labels[(course, learner)]
                else:
                    label = int(not any(cut <= d < cut + horizon for d in days))
                feats = features_at(state, cut * DAY, cohort, window)
                vector = feats.vector()
                out.append(Example(course, learner, [vector[f] for f in FEATURES], label,
                                   feats.days_since_active, feats.active_recent,
                                   feats.active_total, cut))
    return out


def _state(course: str, learner: str, past: dict[int, tuple[int, int, int, int]]) -> LearnerState:
    """The learner state the engine would hold after this activity (noon of each day)."""
    state = LearnerState(course_id=course, learner_id=learner)
    state.days = ActiveDays(past)
    state.first_active = (min(past) + 0.5) * DAY
    state.last_active = (max(past) + 0.5) * DAY
    state.posts = sum(c[1] for c in past.values())
    state.reflections = sum(c[2] for c in past.values())
    state.replies_received = sum(c[3] for c in past.values())
    return state


# -- fitting ------------------------------------------------------------------------------


def fit_model(
    train: list[Example], l2: float, constrained: bool = True
) -> tuple[float, dict[str, float]]:
    """Intercept and weights. Sign constraints: recency may only raise the risk and every
    engagement feature may only lower it; a feature fitted the other way is dropped and the
    rest refitted, so each reason the engine gives ("active on only 2 days so far") means
    what it says. With one course ``cohort`` is active_days minus a constant: left out."""
    used = [f for f in FEATURES if f != "cohort" or len({e.course for e in train}) > 1]
    while True:
        index = [FEATURES.index(f) for f in used]
        beta = fit([[e.x[i] for i in index] for e in train], [e.y for e in train], l2)
        wrong = [f for f, b in zip(used, beta[1:], strict=True)
                 if constrained and (b < 0 if f in NEGATIVE else b > 0)]
        if not wrong:
            break
        used = [f for f in used if f not in wrong]
    weights = dict.fromkeys(FEATURES, 0.0)
    weights.update(zip(used, beta[1:], strict=True))
    return beta[0], weights


class FoldModel(NamedTuple):
    test: list[int]  # indexes of the examples it did not see
    intercept: float
    weights: dict[str, float]


def held_out_models(
    data: list[Example], l2: float, folds: int, seed: int, constrained: bool
) -> list[FoldModel]:
    """One fit per held-out fold: course folds when there are 3+ courses (a new course is
    what the defaults meet), else a random third of the learners held out (the rest is used
    for fitting only)."""
    courses = sorted({e.course for e in data})
    rng = random.Random(seed)
    if len(courses) >= 3:
        rng.shuffle(courses)
        fold_of = {c: i % folds for i, c in enumerate(courses)}
        group = [fold_of[e.course] for e in data]
        tests = list(range(min(folds, len(courses))))
    else:
        group = [int(rng.random() < 1 / 3) for _ in data]
        tests = [1]
    models = []
    for test in tests:
        train = [e for e, g in zip(data, group, strict=True) if g != test]
        intercept, weights = fit_model(train, l2, constrained)
        models.append(FoldModel([i for i, g in enumerate(group) if g == test], intercept, weights))
    return models


def held_out_scores(data: list[Example], models: list[FoldModel]) -> list[float]:
    """Each example's model logit from the fit that did not see it (NaN: fitting only)."""
    scores = [math.nan] * len(data)
    for model in models:
        for i in model.test:
            scores[i] = _logit(data[i], model.intercept, model.weights)
    return scores


def _logit(e: Example, intercept: float, weights: Mapping[str, float]) -> float:
    return logit(dict(zip(FEATURES, e.x, strict=True)), intercept, weights)


# -- command line -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--kdd-dir", metavar="DIR", help="KDD Cup 2015 per-course files")
    src.add_argument("--activity", help="daily activity CSV")
    src.add_argument("--check-export", metavar="CSV", help="AUCs of a `facilitation learners` CSV")
    parser.add_argument("--exclude-course", action="append", default=[], metavar="ID")
    parser.add_argument("--labels", help="labels CSV (course,learner,dropped)")
    parser.add_argument("--at", action="append", default=[], help="cut-off date (repeatable)")
    parser.add_argument("--horizon", type=int, default=28, help="days without activity = dropped")
    parser.add_argument("--window", type=int, help="window_days (default: the pack's)")
    parser.add_argument("--l2", type=float, default=2.0, help="L2 penalty")
    parser.add_argument("--folds", type=int, default=5, help="course folds for held-out AUCs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rules", metavar="FILE", help="pack to compare with (default: shipped)")
    parser.add_argument("--evaluate", action="store_true", help="only score the pack's model")
    parser.add_argument("--unconstrained", action="store_true", help="no sign constraints")
    parser.add_argument("--emit-events", metavar="OUT", help="write contract events and labels")
    parser.add_argument("--threshold", action="store_true",
                        help="also simulate the rule per threshold and min_inactive_days")
    parser.add_argument("--thresholds", type=_floats, default=threshold.THRESHOLDS)
    parser.add_argument("--waits", type=_floats, default=threshold.WAITS,
                        help="min_inactive_days values to try")
    parser.add_argument("--extras", action="store_true",
                        help="also fit with the click count and event-type mix: do they help?")
    parser.add_argument("--score-days", type=_ints, default=(), metavar="7,14,21",
                        help="also score each course on these days of it (final labels)")
    args = parser.parse_args(argv)
    if args.check_export:
        if not args.labels:
            parser.error("--check-export needs --labels")
        print("\n".join(check_export(args.check_export, read_labels(args.labels))))
        return 0
    rules = load_pack(args.rules).rules
    pack = rules.dropout
    window = args.window or pack.window_days
    labels = read_labels(args.labels) if args.labels else None
    mix: Mix = {}
    starts: dict[str, int] = {}
    if args.kdd_dir:
        daily, labels, cut = read_kdd(args.kdd_dir, args.exclude_course, mix, starts)
        cutoffs = {course: [day] for course, day in cut.items()}
        source = (f"scripts/derive_dropout_weights.py --kdd-dir DIR (KDD Cup 2015, "
                  f"{len(cutoffs)} courses)")
    else:
        if not args.at:
            parser.error("--at is required with --activity")
        daily = read_daily(args.activity, mix)
        cutoffs = {course: [day_number(a) for a in args.at] for course, _ in daily}
        for (course, _), days in daily.items():
            starts[course] = min([*days, starts.get(course, 1 << 30)])
        source = f"fitted on {args.activity} at {', '.join(args.at)}"
    if args.emit_events:
        print("\n".join(emit_events(daily, cutoffs, labels, args.horizon, args.emit_events)))
        return 0
    data = examples(daily, cutoffs, args.horizon, window, labels)
    if not data:
        print("no labelled learners active before the cut-off(s)", file=sys.stderr)
        return 1
    columns: dict[str, list[float]] = {}
    models = [FoldModel(list(range(len(data))), pack.intercept, pack.weights)]
    if not args.evaluate:
        models = held_out_models(data, args.l2, args.folds, args.seed, not args.unconstrained)
        columns["model (held out)"] = held_out_scores(data, models)
    columns["pack model"] = [_logit(e, pack.intercept, pack.weights) for e in data]
    current = pack  # the pack's own model, before a fit replaces it below
    baselines: dict[str, Callable[[Example], float]] = {
        "days since last activity": lambda e: e.since,
        f"active days (last {window})": lambda e: -e.active_recent,
        "active days so far": lambda e: -e.active_total,
    }
    columns.update({name: [f(e) for e in data] for name, f in baselines.items()})
    scored = [i for i, e in enumerate(data) if not any(math.isnan(c[i]) for c in columns.values())]
    if not args.evaluate:
        intercept, weights = fit_model(data, args.l2, not args.unconstrained)
        # reasons compare a learner with those who stayed: "no activity for 9 days" is a
        # reason when learners who stayed were active more recently than that
        stayed = [e for e in data if not e.y] or data
        reference = {f: sum(e.x[i] for e in stayed) / len(stayed) for i, f in enumerate(FEATURES)}
        print(model_block(source, intercept, weights, reference))
        pack = replace(pack, intercept=intercept, weights=weights)
    stamp = datetime.now(UTC).date().isoformat()
    print(f"# {stamp}: {len(data):,} learners, {sum(e.y for e in data) / len(data):.0%} dropped;"
          f" AUC per course on {len(scored):,} held-out learners (higher ranks drop-outs better):",
          file=sys.stderr)
    rows = [(data[i].course, data[i].y) for i in scored]
    table = auc_table(rows, {name: [c[i] for i in scored] for name, c in columns.items()})
    print("\n".join(table), file=sys.stderr)
    if args.extras:
        extras = [extra_features({d: c[0] for d, c in daily[(e.course, e.learner)].items()},
                                 mix.get((e.course, e.learner), {}), e.cut, window) for e in data]
        lines, _, _ = compare_extras([(e.course, e.learner) for e in data], [e.x for e in data],
                                     extras, [e.y for e in data], args.l2, args.folds, args.seed)
        print("\n".join(lines), file=sys.stderr)
    if args.score_days:
        early = _early(args, daily, data, models, current, starts, cutoffs, window, labels)
        print("# AUC by the day of the course the learners are scored at (mean over courses; "
              "the end: the cut-off above)", file=sys.stderr)
        print("\n".join(day_table(early)), file=sys.stderr)
    if args.threshold:
        rules = replace(rules, dropout=replace(pack, window_days=window))
        by_course = args.evaluate or len({e.course for e in data}) >= 3
        folds = [(threshold.held_out(daily, [(data[i].course, data[i].learner) for i in m.test],
                                     by_course), m.intercept, m.weights) for m in models]
        settings = [(t, w) for w in args.waits for t in args.thresholds]
        print("\n".join(threshold.report(daily, cutoffs, labels, args.horizon, folds, rules,
                                         settings, "the pack model" if args.evaluate else
                                         "held-out folds")))
    return 0


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(","))


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def _early(args: argparse.Namespace, daily: Daily, data: list[Example], models: list[FoldModel],
           pack: object, starts: Mapping[str, int], cutoffs: Mapping[str, list[int]],
           window: int, labels: Labels | None) -> list[tuple[str, int, dict[str, float]]]:
    """``--score-days``: each day's (label, learners, mean AUC per column), then the end's.
    Learners keep the fold (the fit that never saw them) and the label they have at the end."""
    final = labels or {(e.course, e.learner): e.y for e in data}
    fold = {(data[i].course, data[i].learner): m for m in models for i in m.test}
    shipped = (pack.intercept, pack.weights)  # type: ignore[attr-defined]

    def columns(rows: list[Example]) -> dict[str, float]:
        keys, ys = [(e.course, e.learner) for e in rows], [e.y for e in rows]
        found = {"pack model": [_logit(e, *shipped) for e in rows]}
        if not args.evaluate:
            found["model (held out)"] = [
                _logit(e, fold[k].intercept, fold[k].weights) if k in fold else math.nan
                for e, k in zip(rows, keys, strict=True)
            ]
        found["days since last activity"] = [e.since for e in rows]
        return {name: mean_auc(keys, ys, scores) for name, scores in found.items()}

    out = []
    end = {course: min(days) for course, days in cutoffs.items()}
    for day in args.score_days:
        cuts = {c: [starts[c] + day] for c in end if c in starts and starts[c] + day < end[c]}
        rows = examples(daily, cuts, args.horizon, window, final)
        if rows:
            out.append((f"day {day}", len(rows), columns(rows)))
    out.append(("end", len(data), columns(data)))
    return out


if __name__ == "__main__":
    sys.exit(main())
