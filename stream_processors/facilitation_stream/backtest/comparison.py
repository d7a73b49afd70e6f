"""What a change of rule pack does: two replays of the same log, side by side.

An alert is the same in both runs when its ``alert_id`` is (rule, course, subject, episode:
never the time it fired), so "only A", "only B" and "both" are exact: a pack with a shorter
SLA fires every alert of the longer one, earlier, plus those for posts answered in between.
Per course and rule, with sample subjects of each difference; the change in tutor load (the
alerts that become nudges, and per week) and in the share of learners' first posts answered
within the SLA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from facilitation_rules.contract.alerts import Alert
from facilitation_stream.backtest.ordered_input import ReplayRun
from facilitation_stream.backtest.outcomes import (
    SlaShare,
    courses_of,
    fired,
    first_posts,
    for_tutors,
    in_course,
    weeks,
)

#: Sample subjects shown for each difference.
SAMPLES = 3


@dataclass(slots=True)
class RuleDiff:
    rule: str
    only_a: list[Alert] = field(default_factory=list)
    only_b: list[Alert] = field(default_factory=list)
    both: int = 0


@dataclass(slots=True)
class CourseDiff:
    """One course (``course_id`` None: every course together)."""

    course_id: str | None
    rules: list[RuleDiff]
    load: tuple[int, int]
    per_week: tuple[float, float]
    sla: tuple[SlaShare, SlaShare]

    @property
    def changed(self) -> bool:
        return any(r.only_a or r.only_b for r in self.rules)


@dataclass(slots=True)
class Comparison:
    name_a: str
    name_b: str
    courses: list[CourseDiff]
    total: CourseDiff


def _course(a: ReplayRun, b: ReplayRun, course: str | None) -> CourseDiff:
    fired_a, fired_b = fired(in_course(a.alerts, course)), fired(in_course(b.alerts, course))
    by_id_a = {x.alert_id: x for x in fired_a}
    by_id_b = {x.alert_id: x for x in fired_b}
    rules: dict[str, RuleDiff] = {}
    for alert in fired_a:
        diff = rules.setdefault(alert.rule, RuleDiff(alert.rule))
        if alert.alert_id in by_id_b:
            diff.both += 1
        else:
            diff.only_a.append(alert)
    for alert in fired_b:
        if alert.alert_id not in by_id_a:
            rules.setdefault(alert.rule, RuleDiff(alert.rule)).only_b.append(alert)
    nudges_a, nudges_b = for_tutors(fired_a), for_tutors(fired_b)
    span = weeks(a, nudges_a + nudges_b)
    assert a.pack is not None and b.pack is not None
    return CourseDiff(
        course_id=course,
        rules=[rules[name] for name in sorted(rules)],
        load=(len(nudges_a), len(nudges_b)),
        per_week=(len(nudges_a) / span, len(nudges_b) / span),
        sla=(first_posts(a, a.pack, course), first_posts(b, b.pack, course)),
    )


def compare(a: ReplayRun, b: ReplayRun) -> Comparison:
    """Pack A's replay against pack B's, of the same items."""
    assert a.pack is not None and b.pack is not None
    courses = sorted(set(courses_of(a)) | set(courses_of(b)))
    return Comparison(
        name_a=a.pack.name,
        name_b=b.pack.name,
        courses=[_course(a, b, c) for c in courses],
        total=_course(a, b, None),
    )


def subject(alert: Alert) -> str:
    """What an alert is about, for a person: the post (with its title) or the learner."""
    if alert.subject_type == "post":
        title = str(alert.details.get("title") or "")[:60]
        quoted = f' "{title}"' if title else ""
        return f"post {alert.subject_id}{quoted} by learner {alert.learner_id}"
    if alert.subject_type == "reflection":
        return f"reflection {alert.subject_id} of learner {alert.learner_id}"
    return f"learner {alert.learner_id}"


def share_text(share: SlaShare) -> str:
    return "n/a" if share.share is None else f"{share.share:.0%} of {share.total:,}"


def _change(a: float, b: float) -> str:
    if a == b:
        return "no change"
    sign = "+" if b > a else "-"
    relative = f", {sign}{abs(b - a) / a:.0%}" if a else ""
    return f"{sign}{abs(b - a):,.0f}{relative}"


def write_comparison(comparison: Comparison, err: TextIO) -> None:
    """The comparison as the terminal shows it (after replay's summary)."""
    a, b = comparison.name_a, comparison.name_b
    err.write(f"comparison: A = pack {a!r}, B = pack {b!r} (alerts fired, by alert_id)\n")
    for diff in [*comparison.courses, comparison.total]:
        if diff.course_id is None and len(comparison.courses) < 2:
            continue
        err.write(f"{diff.course_id or 'all courses'}\n")
        _write_course(diff, err)


def _write_course(diff: CourseDiff, err: TextIO) -> None:
    err.write(f"  {'rule':<32} {'only A':>8} {'only B':>8} {'both':>8}\n")
    for r in diff.rules:
        err.write(f"  {r.rule:<32} {len(r.only_a):>8,} {len(r.only_b):>8,} {r.both:>8,}\n")
    (load_a, load_b), (week_a, week_b) = diff.load, diff.per_week
    err.write(
        f"  tutor load: {load_a:,} -> {load_b:,} nudges ({_change(load_a, load_b)}); "
        f"{week_a:,.1f} -> {week_b:,.1f} a week\n"
    )
    sla_a, sla_b = diff.sla
    err.write(
        f"  first posts answered within the SLA: {share_text(sla_a)} -> {share_text(sla_b)}\n"
    )
    for r in diff.rules:
        for side, alerts in (("A", r.only_a), ("B", r.only_b)):
            if alerts:
                err.write(f"  only {side}, {r.rule}: {samples(alerts)}\n")


def samples(alerts: Sequence[Alert], n: int = SAMPLES) -> str:
    shown = "; ".join(subject(a) for a in alerts[:n])
    return shown + (f" (+{len(alerts) - n:,} more)" if len(alerts) > n else "")
