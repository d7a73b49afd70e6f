"""The default ``dropout_risk`` threshold of scripts/derive_dropout_weights.py: the rule
simulated as the engine runs it, on held-out courses, for a grid of settings.

``simulate`` drives the engine itself (``facilitation_rules.engine.replay.Replayer``: each active
day is one activity at noon UTC, the learner rules evaluate the score daily at
``evaluate_hour`` once a learner has been inactive for ``min_inactive_days`` and fire at the
first evaluation at or above ``threshold``), so scheduling, features and score are the
engine's code, not a second implementation. Alerts stop at each course's cut-off (its
``course_end``); what happened after it is known only from the label.

``outcome`` counts, per setting: alerts per 100 enrolled learners; the share of alerts whose
learner came back (activity after the alert before the cut-off, or label 0); recall, the
share of drop-outs whose last silence was alerted before the cut-off, for all drop-outs and
for *regular* ones (active on ``REGULAR_DAYS`` or more of the 14 days up to their last
activity: the learner a tutor most wants to hear about); and the median lead time, days
from the last activity to the alert. ``choose`` applies the criterion of
docs/dropout-risk.md.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from dropout_data import DAY, Daily, Labels

from facilitation_rules.engine.replay import Replayer
from facilitation_rules.packs.config import CourseRules

RULE = "dropout_risk"
REGULAR_SPAN = 14  # days up to the last activity in which a regular drop-out was ...
REGULAR_DAYS = 5  # ... active on at least this many days
REGULAR_STREAK = 14  # the regular learner the default must alert: 14 days in a row, then gone
MAX_CAME_BACK = 1 / 3  # "mostly left": at most one alert in three about a learner who came back
MAX_LEAD_DAYS = 7.0  # a nudge later than a week after the last activity comes late
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
WAITS = (2, 3, 5, 7)  # min_inactive_days
Key = tuple[str, str]  # (course, learner)


class Outcome(NamedTuple):
    threshold: float
    min_inactive_days: float
    enrolled: int
    alerts: int
    came_back: int  # alerts whose learner was active again later
    one_day: int  # alerts on a learner active on one day only before it
    dropouts: int
    alerted: int  # drop-outs whose last silence was alerted
    regulars: int  # regular drop-outs
    regulars_alerted: int
    leads: tuple[float, ...]  # days from the last activity to each alert

    @property
    def lead_days(self) -> float:
        return statistics.median(self.leads) if self.leads else float("nan")

    @property
    def per_100(self) -> float:
        return 100 * self.alerts / self.enrolled if self.enrolled else 0.0

    @property
    def came_back_share(self) -> float:
        return self.came_back / self.alerts if self.alerts else 0.0

    @property
    def recall(self) -> float:
        return self.alerted / self.dropouts if self.dropouts else 0.0

    @property
    def regular_recall(self) -> float:
        return self.regulars_alerted / self.regulars if self.regulars else 0.0


def simulate(
    daily: Daily, keys: Iterable[Key], cutoffs: Mapping[str, int], rules: CourseRules
) -> dict[Key, list[float]]:
    """The times ``dropout_risk`` fires for each learner of ``keys`` under ``rules`` (only
    that rule is on, with the pack's ``when``), each course observed until its cut-off."""
    only = replace(
        rules,
        unanswered=replace(rules.unanswered, enabled=False),
        silent=replace(rules.silent, enabled=False),
        reflection=replace(rules.reflection, enabled=False),
        dropout=replace(rules.dropout, enabled=True),
    )
    per_course = {c: replace(only, course_end=cut * DAY) for c, cut in cutoffs.items()}
    replayer = Replayer(per_course.get)
    activity = sorted(
        ((day + 0.5) * DAY, course, learner)
        for course, learner in keys
        if course in per_course
        for day in daily[(course, learner)]
        if day < cutoffs[course]
    )
    for t, course, learner in activity:
        replayer.feed_activity(t, course, learner)
    replayer.finish(max(cutoffs.values(), default=0) * DAY)
    fired: dict[Key, list[float]] = {}
    for alert in replayer.alerts:
        if alert.rule == RULE and alert.action == "fire":
            key = (alert.course_id, alert.learner_id)
            fired.setdefault(key, []).append(alert.fired_at.timestamp())
    return fired


def outcome(
    daily: Daily,
    keys: Iterable[Key],
    cutoffs: Mapping[str, int],
    labels: Labels,
    fired: Mapping[Key, Sequence[float]],
    setting: tuple[float, float],
) -> Outcome:
    """What the alerts ``fired`` (``simulate``) of one setting did for the learners ``keys``
    (every enrolment counts as enrolled; only labelled ones count as drop-outs or not)."""
    enrolled = alerts = came_back = one_day = dropouts = alerted = regulars = regulars_alerted = 0
    leads: list[float] = []
    for key in keys:
        enrolled += 1
        cut = cutoffs[key[0]]
        days = sorted(d for d in daily[key] if d < cut)
        if not days or key not in labels:
            continue
        label = labels[key]
        last = (days[-1] + 0.5) * DAY
        for t in fired.get(key, ()):
            alerts += 1
            came_back += label == 0 or last > t
            before = [(d + 0.5) * DAY for d in days if (d + 0.5) * DAY < t]
            one_day += len(before) == 1
            leads.append((t - before[-1]) / DAY)
        if label:
            caught = any(t > last for t in fired.get(key, ()))
            dropouts += 1
            alerted += caught
            if sum(1 for d in days if d > days[-1] - REGULAR_SPAN) >= REGULAR_DAYS:
                regulars += 1
                regulars_alerted += caught
    return Outcome(*setting, enrolled, alerts, came_back, one_day, dropouts, alerted, regulars,
                   regulars_alerted, tuple(leads))


def add(a: Outcome, b: Outcome) -> Outcome:
    """Two folds' outcomes of one setting together."""
    counts = [x + y for x, y in zip(a[2:10], b[2:10], strict=True)]
    return Outcome._make((a.threshold, a.min_inactive_days, *counts, a.leads + b.leads))


def with_setting(rules: CourseRules, setting: tuple[float, float], intercept: float | None = None,
                 weights: Mapping[str, float] | None = None) -> CourseRules:
    cfg = rules.dropout
    return replace(rules, dropout=replace(
        cfg, threshold=setting[0], min_inactive_days=setting[1],
        intercept=cfg.intercept if intercept is None else intercept,
        weights=dict(cfg.weights if weights is None else weights),
    ))


def sweep(
    daily: Daily,
    cutoffs: Mapping[str, int],
    labels: Labels,
    folds: Sequence[tuple[Sequence[Key], float, Mapping[str, float]]],
    rules: CourseRules,
    settings: Iterable[tuple[float, float]],
) -> list[Outcome]:
    """Each setting's outcome over the folds, each fold's learners alerted by the engine
    under the model that did not see them (``folds``: held-out keys, intercept, weights)."""
    found = []
    for setting in settings:
        total: Outcome | None = None
        for keys, intercept, weights in folds:
            fired = simulate(daily, keys, cutoffs, with_setting(rules, setting, intercept, weights))
            part = outcome(daily, keys, cutoffs, labels, fired, setting)
            total = part if total is None else add(total, part)
        if total is not None:
            found.append(total)
    return found


def alerts_regular(rules: CourseRules, streak: int = REGULAR_STREAK) -> bool:
    """Does the rule ever alert a learner active ``streak`` days in a row who then vanishes
    (watched for 8 weeks; the score is flat after four)?"""
    learner = ("regular", "regular")
    fired = simulate({learner: {d: (1, 0, 0, 0) for d in range(streak)}}, [learner],
                     {"regular": streak + 56}, rules)
    return bool(fired)


def choose(outcomes: Sequence[Outcome], rules: CourseRules) -> Outcome | None:
    """The criterion of docs/dropout-risk.md: of the settings that alert the regular
    learner who vanishes (``alerts_regular`` under ``rules``' model), whose alerts are
    mostly about learners who left (at most ``MAX_CAME_BACK`` came back) and come within
    ``MAX_LEAD_DAYS`` of the last activity (median), the one with the fewest alerts."""
    fit = [o for o in outcomes
           if o.came_back_share <= MAX_CAME_BACK and o.lead_days <= MAX_LEAD_DAYS
           and alerts_regular(with_setting(rules, (o.threshold, o.min_inactive_days)))]
    return min(fit, key=lambda o: (o.alerts, o.threshold, o.min_inactive_days), default=None)


def held_out(daily: Daily, held: Sequence[Key], by_course: bool) -> list[Key]:
    """The learners a fold's model did not see (``held``: its labelled learners): with
    course folds every enrolment of their courses, never-active ones included."""
    courses = {course for course, _ in held}
    return [key for key in daily if key[0] in courses] if by_course else list(held)


def report(
    daily: Daily,
    cutoffs: Mapping[str, Sequence[int]],
    labels: Labels | None,
    horizon: int,
    folds: Sequence[tuple[Sequence[Key], float, Mapping[str, float]]],
    rules: CourseRules,
    settings: Sequence[tuple[float, float]],
    models: str,
) -> list[str]:
    """``sweep`` with each course observed until its last cut-off (labels: ``labels``, else
    ``horizon_labels``): the trade-off table on stderr, the chosen setting's pack lines
    returned."""
    cut = {course: max(days) for course, days in cutoffs.items() if days}
    if labels is None:
        labels = horizon_labels(daily, cut, horizon)
    outcomes = sweep(daily, cut, labels, folds, rules, settings)
    chosen = choose(outcomes, rules)
    print(f"# dropout_risk simulated by the engine on {len(daily):,} enrolments of {len(cut)}"
          f" courses ({models}); per 100 learners over the observed days:", file=sys.stderr)
    print("\n".join(table(outcomes, rules, chosen)), file=sys.stderr)
    if chosen is None:
        return ["# no setting meets the criterion of docs/dropout-risk.md: pick from the table"]
    return [f"    threshold: {chosen.threshold:g}",
            f"    min_inactive_days: {chosen.min_inactive_days:g}"]


def horizon_labels(daily: Daily, cutoffs: Mapping[str, int], horizon: int) -> Labels:
    """Dropped (1) = no activity in the ``horizon`` days after the course's cut-off."""
    return {(c, ln): int(not any(cutoffs[c] <= d < cutoffs[c] + horizon for d in days))
            for (c, ln), days in daily.items() if c in cutoffs}


def table(outcomes: Iterable[Outcome], rules: CourseRules, chosen: Outcome | None = None
          ) -> list[str]:
    """The trade-off, one row per setting (the chosen one in bold); whether the regular
    learner who vanishes is alerted is computed under ``rules``' model."""
    lines = [
        "| threshold | min_inactive_days | alerts per 100 learners | alerted learners who came"
        " back | alerts on one-day visitors | drop-outs alerted | regular drop-outs alerted |"
        f" median days to alert | {REGULAR_STREAK} days in a row, then gone: alerted |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for o in outcomes:
        regular = alerts_regular(with_setting(rules, (o.threshold, o.min_inactive_days)))
        cells = [f"{o.threshold:.2f}", f"{o.min_inactive_days:g}", f"{o.per_100:.1f}",
                 f"{o.came_back_share:.0%}", f"{o.one_day / max(o.alerts, 1):.0%}",
                 f"{o.recall:.0%}", f"{o.regular_recall:.0%}", f"{o.lead_days:.1f}",
                 "yes" if regular else "no"]
        if o == chosen:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
