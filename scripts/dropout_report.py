"""The tables scripts/derive_dropout_weights.py prints: AUC per course, the ``model:`` block
of a pack, and the AUCs of a ``facilitation learners`` export against labels."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime

from dropout_data import Labels, natural
from logistic import auc

from facilitation_rules.engine.dropout_model import FEATURES


def auc_table(rows: list[tuple[str, int]], columns: dict[str, list[float]]) -> list[str]:
    """Markdown table of AUC per course (rows: (course, label) per example), plus the mean."""
    by_course: dict[str, list[int]] = defaultdict(list)
    for i, (course, _) in enumerate(rows):
        by_course[course].append(i)
    head = ["course", "learners", "dropped", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    means: dict[str, list[float]] = defaultdict(list)
    for course, index in sorted(by_course.items(), key=lambda item: natural(item[0])):
        ys = [rows[i][1] for i in index]
        cells = [course, str(len(ys)), f"{sum(ys) / len(ys):.0%}"]
        for name, scores in columns.items():
            value = auc([scores[i] for i in index], ys)
            means[name].append(value)
            cells.append(f"{value:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    cells = [f"mean of {len(by_course)}", str(len(rows)),
             f"{sum(y for _, y in rows) / len(rows):.0%}"]
    cells += [f"{sum(v) / len(v):.3f}" for v in means.values()]
    lines.append("| " + " | ".join(cells) + " |")
    return lines


def model_block(source: str, intercept: float, weights: Mapping[str, float],
                reference: Mapping[str, float]) -> str:
    def inline(values: Mapping[str, float]) -> str:
        return "{" + ", ".join(f"{f}: {values[f]:.3f}" for f in FEATURES) + "}"

    return (f"    model:\n      source: {json.dumps(source)}\n      intercept: {intercept:.3f}\n"
            f"      weights: {inline(weights)}\n      reference: {inline(reference)}")


def check_export(path: str, labels: Labels) -> list[str]:
    """AUCs of a ``facilitation learners`` CSV against labels."""
    rows, risk, recency, active = [], [], [], []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["course_id"], row["learner_id"])
            if key not in labels:
                continue
            rows.append((row["course_id"], labels[key]))
            risk.append(float(row["risk_score"]))
            last = row["last_active_at"]
            # days since last activity ranks like minus the last activity time
            recency.append(-datetime.fromisoformat(last).timestamp() if last else math.inf)
            active.append(-float(row["active_days"]))
    if not rows:
        return ["no labelled learner in the export"]
    return auc_table(rows, {"risk_score": risk, "days since last_active_at": recency,
                            "-active_days": active})
