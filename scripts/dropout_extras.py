"""Two questions scripts/derive_dropout_weights.py answers beyond its fit (issue 21, item 7).

1. Would the click count and the event-type mix help? ``--extras``: the number of events
   in the window (log1p) and the shares of problem, video and page-view events among them
   are added to the engine's features; a model is fitted with and without them on the same
   held-out folds (by course with three courses or more), and the mean cross-course AUC of
   both is printed with a verdict. The engine does not keep these counts (its learner
   state has active days, not clicks), so a gain here is the case for adding a counter to
   the engine, not something a pack can switch on.
2. How early does the score work? ``--score-days 7,14,21``: the held-out fold models and
   the pack's model scored on each course's learners as they were on day 7, 14 and 21 of
   the course (the first day of its data is day 0), against the same final labels as at the
   end; one AUC table row per day, and the end.

Event types: KDD Cup files count ``problem``, ``video``, ``access``, ``navigate`` and
``page_close`` (page views: access, navigate, page_close), ``discussion`` and ``wiki``; a
daily CSV of your own may carry ``problems``, ``videos`` and ``page_views`` columns.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from logistic import auc, fit

#: (course, learner) -> day number -> (problem, video, page view) events that day
Mix = dict[tuple[str, str], dict[int, tuple[int, int, int]]]
EXTRAS = ("clicks", "problem_share", "video_share", "page_share")
#: KDD Cup 2015 columns (after ``event_``) that are page views.
PAGE_VIEWS = ("access", "navigate", "page_close")


def kdd_mix(row: Mapping[str, str]) -> tuple[int, int, int]:
    """(problem, video, page view) events of one KDD Cup row."""
    count = {k[len("event_"):]: int(v or 0) for k, v in row.items() if k.startswith("event_")}
    return count.get("problem", 0), count.get("video", 0), sum(count.get(p, 0) for p in PAGE_VIEWS)


def csv_mix(row: Mapping[str, str]) -> tuple[int, int, int]:
    """(problem, video, page view) events of one row of a daily-activity CSV (0 if absent)."""
    return tuple(int(row.get(k) or 0) for k in ("problems", "videos", "page_views"))  # type: ignore[return-value]


def extra_features(
    events: Mapping[int, int], mix: Mapping[int, tuple[int, int, int]], cut: int, window: int
) -> list[float]:
    """``EXTRAS`` of a learner at the start of day ``cut``: events of the last ``window``
    days (log1p), and the share of each type among the typed ones (0 with none)."""
    days = range(cut - window, cut)
    clicks = sum(events.get(d, 0) for d in days)
    typed = [sum(mix.get(d, (0, 0, 0))[i] for d in days) for i in range(3)]
    total = sum(typed)
    return [math.log1p(clicks), *(t / total if total else 0.0 for t in typed)]


def fold_groups(
    keys: Sequence[tuple[str, str]], folds: int, seed: int
) -> tuple[list[int], list[int]]:
    """The fold of each (course, learner) and the folds held out in turn: by course with
    three courses or more (as the script's own fits), else a random third (fold 1)."""
    courses = sorted({c for c, _ in keys})
    rng = random.Random(seed)
    if len(courses) >= 3:
        rng.shuffle(courses)
        fold_of = {c: i % folds for i, c in enumerate(courses)}
        return [fold_of[c] for c, _ in keys], list(range(min(folds, len(courses))))
    return [int(rng.random() < 1 / 3) for _ in keys], [1]


def held_out_logits(
    xs: Sequence[list[float]], ys: Sequence[int], folds: tuple[list[int], list[int]], l2: float
) -> list[float]:
    """Each row's logit from a fit on the other folds (NaN: a fitting-only row)."""
    groups, tests = folds
    scores = [math.nan] * len(xs)
    for test in tests:
        train = [i for i, g in enumerate(groups) if g != test]
        if not train or len({ys[i] for i in train}) < 2:
            continue
        beta = fit([xs[i] for i in train], [ys[i] for i in train], l2)
        for i, g in enumerate(groups):
            if g == test:
                scores[i] = beta[0] + sum(b * v for b, v in zip(beta[1:], xs[i], strict=True))
    return scores


def mean_auc(keys: Sequence[tuple[str, str]], ys: Sequence[int], scores: Sequence[float]) -> float:
    """The mean over courses of each course's AUC (rows with a NaN score left out)."""
    by_course: dict[str, list[int]] = defaultdict(list)
    for i, (course, _) in enumerate(keys):
        if not math.isnan(scores[i]):
            by_course[course].append(i)
    values = [auc([scores[i] for i in rows], [ys[i] for i in rows]) for rows in by_course.values()]
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def compare_extras(
    keys: Sequence[tuple[str, str]], base: Sequence[list[float]], extras: Sequence[list[float]],
    ys: Sequence[int], l2: float, folds: int, seed: int,
) -> tuple[list[str], float, float]:
    """The report of ``--extras`` and the two mean held-out AUCs (without, with)."""
    groups = fold_groups(keys, folds, seed)
    without = mean_auc(keys, ys, held_out_logits(base, ys, groups, l2))
    both = [b + e for b, e in zip(base, extras, strict=True)]
    with_extras = mean_auc(keys, ys, held_out_logits(both, ys, groups, l2))
    gain = with_extras - without
    verdict = (
        "raise it: worth an event counter in the engine's learner state"
        if gain >= 0.005
        else "do not raise it: keep the engine's features"
    )
    lines = [
        "| features | mean held-out AUC |",
        "| --- | --- |",
        f"| the engine's (unconstrained fit) | {without:.3f} |",
        f"| the engine's + {', '.join(EXTRAS)} | {with_extras:.3f} |",
        f"# the click count and the event-type mix {verdict} ({gain:+.3f})",
    ]
    return lines, without, with_extras


def day_table(rows: Iterable[tuple[str, int, Mapping[str, float]]]) -> list[str]:
    """``--score-days``: one row per day scored at (label, learners, mean AUC per column)."""
    lines: list[str] = []
    for when, learners, columns in rows:
        if not lines:
            lines = ["| scored at | learners | " + " | ".join(columns) + " |",
                     "| --- | --- |" + " --- |" * len(columns)]  # fmt: skip
        values = " | ".join(f"{v:.3f}" for v in columns.values())
        lines.append(f"| {when} | {learners:,} | {values} |")
    return lines
