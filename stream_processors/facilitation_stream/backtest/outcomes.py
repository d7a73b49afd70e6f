"""What a backtest says about a course: figures computed from a replay, for the report, the
comparison of two packs and the learner export (pure functions of a ``ReplayRun``).

Every figure is per course (``course=None``: all courses of the run together): an LMS-wide
log holds many courses, and a course lead reads only theirs.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.codec import format_time
from facilitation_rules.engine.detectors.emit import utc
from facilitation_rules.engine.detectors.learners import enrolled, risk_now
from facilitation_rules.engine.detectors.posts import sla_for
from facilitation_rules.packs.loader import Pack
from facilitation_rules.state import LearnerState, PostState
from facilitation_stream.backtest.ordered_input import ReplayRun

#: Fewer values than this are listed one by one, not summarised by a median.
SMALL_SAMPLE = 5


def courses_of(run: ReplayRun) -> list[str]:
    """Every course the run replayed something of (posts, learners or alerts), sorted."""
    found = {key.split("|", 2)[1] for key in run.replayer.states if key[:2] in ("P|", "L|")}
    return sorted(found | {a.course_id for a in run.alerts})


def in_course(alerts: Iterable[Alert], course: str | None) -> list[Alert]:
    return [a for a in alerts if course is None or a.course_id == course]


def fired(alerts: Iterable[Alert]) -> list[Alert]:
    return [a for a in alerts if a.action == "fire"]


def _states(run: ReplayRun, prefix: str, course: str | None) -> list[Any]:
    head = prefix if course is None else f"{prefix}{course}|"
    return [s for k, s in sorted(run.replayer.states.items()) if k.startswith(head)]


def watched_posts(run: ReplayRun, course: str | None = None) -> list[PostState]:
    """Learners' posts an ``unanswered_post`` rule watched."""
    return [p for p in _states(run, "P|", course) if p.tracked]


# -- Replies and the SLA -----------------------------------------------------------------


def reply_hours(posts: Sequence[PostState]) -> list[float]:
    """Hours from post to first reply of the answered ones, sorted."""
    return sorted((p.answered_at - p.created) / 3600 for p in posts if p.answered_at is not None)


def duration(hours: float) -> str:
    """A wait as a person says it: ``40 min``, ``5.2 h``, ``3.1 days``."""
    if hours < 1:
        return f"{max(round(hours * 60), 1)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def describe_waits(hours: Sequence[float]) -> str:
    """A small sample one by one ("2 answered: 40 min and 3.1 days"), a larger one by its
    median and middle half — never the median of two."""
    values = sorted(hours)
    if not values:
        return "none answered"
    if len(values) < SMALL_SAMPLE:
        words = [duration(h) for h in values]
        listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        return f"{len(values)} answered: {listed}"
    q1, median, q3 = (_quantile(values, q) for q in (0.25, 0.5, 0.75))
    return (
        f"{len(values):,} answered: median {duration(median)} "
        f"(half of them between {duration(q1)} and {duration(q3)})"
    )


def _quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (values sorted)."""
    position = (len(values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class SlaShare:
    """Learners' first posts: answered by someone else within the SLA, later, never."""

    within: int = 0
    late: int = 0
    never: int = 0

    @property
    def total(self) -> int:
        return self.within + self.late + self.never

    @property
    def share(self) -> float | None:
        return self.within / self.total if self.total else None


def first_posts(run: ReplayRun, pack: Pack, course: str | None = None) -> SlaShare:
    """Each learner's first post in a course, judged against the pack's SLA for it."""
    first: dict[tuple[str, str], PostState] = {}
    for p in _states(run, "P|", course):
        if p.author_role != "learner":
            continue
        key = (p.course_id, p.author_id)
        if key not in first or (p.created, p.post_id) < (first[key].created, first[key].post_id):
            first[key] = p
    within = late = never = 0
    for p in first.values():
        rules = pack.rules_for(p.course_id) or pack.rules
        cfg = rules.unanswered
        sla = sla_for(p, cfg)
        deadline = rules.calendar.add(p.created, sla) if cfg.business_hours else p.created + sla
        if p.answered_at is None:
            never += 1
        elif p.answered_at <= deadline:
            within += 1
        else:
            late += 1
    return SlaShare(within, late, never)


# -- Tutor load ---------------------------------------------------------------------------


@dataclass(slots=True)
class TutorLoad:
    """Alerts routed to each tutor as the router would, and the most open at once."""

    assigned: Counter[str] = field(default_factory=Counter)
    peak: Counter[str] = field(default_factory=Counter)
    #: most open nudges a tutor should hold (the roster's ``capacity``); empty: unknown
    capacity: dict[str, int] = field(default_factory=dict)
    unassigned: int = 0
    note: str = ""


def for_tutors(alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts that become a nudge in a tutor queue (warnings stay in the report)."""
    return [a for a in alerts if not a.rule.endswith(".warning")]


def tutor_load(alerts: Sequence[Alert], roster: Any) -> TutorLoad:
    """Route ``alerts`` with ``roster``'s policies (``routing.assignment``), or deal them
    round-robin to a plain list of tutor ids (``roster.tutors`` of strings)."""
    load = TutorLoad()
    opened = for_tutors(alerts)
    if roster.tutors and isinstance(roster.tutors[0], str):
        load.note = "A plain list of tutors: alerts dealt round-robin, no capacity known."
        tutors = list(roster.tutors)
        for i, _alert in enumerate(x for x in opened if x.action == "fire"):
            load.assigned[tutors[i % len(tutors)]] += 1
        for t in tutors:
            load.assigned[t] += 0
        return load
    from facilitation_rules.routing.assignment import Load, NoTutor, Request, assign

    tutors = [t.tutor_id for t in roster.tutors]
    load.capacity = {t.tutor_id: t.capacity for t in roster.tutors}
    owner: dict[str, str] = {}
    open_now: Counter[str] = Counter()
    recent: Counter[str] = Counter()
    cursors: Counter[str] = Counter()
    by_learner: dict[str, str] = {}
    for t in tutors:
        load.assigned[t] += 0
    for a in opened:
        if a.action == "resolve":
            tutor = owner.pop(a.alert_id, None)
            if tutor:
                open_now[tutor] -= 1
            continue
        loads = {t: Load(open=open_now[t], recent=recent[t]) for t in tutors}
        learner = f"{a.course_id}|{a.learner_id}"
        try:
            decision = assign(
                roster,
                Request.from_alert(a),
                a.fired_at,
                loads=loads,
                affinity=[by_learner[learner]] if learner in by_learner else [],
                cursor=cursors[a.rule],
            )
        except NoTutor:
            load.unassigned += 1
            continue
        cursors[a.rule] += 1
        tutor = owner[a.alert_id] = by_learner[learner] = decision.tutor_id
        load.assigned[tutor] += 1
        recent[tutor] += 1
        open_now[tutor] += 1
        load.peak[tutor] = max(load.peak[tutor], open_now[tutor])
    return load


def weeks(run: ReplayRun, alerts: Sequence[Alert]) -> float:
    """The span the alerts cover, in weeks (at least one day)."""
    times = [a.fired_at.timestamp() for a in alerts]
    if not times:
        return 1 / 7
    return max(max(times) - min(times), 86400.0) / (7 * 86400)


# -- Learners -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LearnerRow:
    """One enrolled learner as a lead acts on it."""

    course_id: str
    learner_id: str
    username: str
    enrolled_at: str
    last_active_at: str
    active_days: int
    posts: int
    replies_received: int
    reflections: int
    risk_score: str
    #: rules with an alert open for the learner at the time
    open_alerts: tuple[str, ...]
    #: every distinct reason, risk and open alerts together, in order of appearance
    reasons: tuple[str, ...]


def open_alerts(alerts: Iterable[Alert]) -> dict[tuple[str, str], list[Alert]]:
    """(course, learner) -> the fired alerts not resolved at the end of ``alerts``."""
    live: dict[str, Alert] = {}
    for a in alerts:
        if a.action == "fire":
            live[a.alert_id] = a
        else:
            live.pop(a.alert_id, None)
    found: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for a in live.values():
        found[(a.course_id, a.learner_id)].append(a)
    return found


def learner_rows(
    run: ReplayRun, at: float, usernames: dict[str, str], course: str | None = None
) -> list[LearnerRow]:
    """Every enrolled learner of the run (every course, or one), with what is open at ``at``."""
    replayer = run.replayer
    still_open = open_alerts(a for a in run.alerts if a.fired_at.timestamp() <= at)
    rows = []
    for state in _states(run, "L|", course):
        assert isinstance(state, LearnerState)
        rules = replayer.rules_for(state.course_id)
        if rules is None or not enrolled(state, rules):
            continue
        scored = bool(rules.dropout.weights)
        score, risk = risk_now(state, at, rules, replayer.cohort(state.course_id))
        alerts = still_open.get((state.course_id, state.learner_id), [])
        reasons = distinct([*(risk if scored else ()), *(r for a in alerts for r in a.reasons)])
        rows.append(
            LearnerRow(
                course_id=state.course_id,
                learner_id=state.learner_id,
                username=usernames.get(state.learner_id, ""),
                enrolled_at=format_time(utc(state.enrolled_at))
                if state.enrolled_at is not None
                else "",
                last_active_at=format_time(utc(state.last_active)) if state.active else "",
                active_days=len(state.days),
                posts=state.posts,
                replies_received=state.replies_received,
                reflections=state.reflections,
                risk_score=f"{score:.3f}" if scored else "",
                open_alerts=tuple(sorted({a.rule for a in alerts})),
                reasons=tuple(reasons),
            )
        )
    return rows


_ASIDE, _FIGURES = re.compile(r"\s*\([^)]*\)"), re.compile(r"\d[\d.,:-]*")


def distinct(reasons: Iterable[str]) -> list[str]:
    """Reasons in order, without one that says what an earlier one says with other figures
    ("no activity for 10 days (last active ...)" after "no activity for 13 days")."""
    seen: set[str] = set()
    kept = []
    for reason in reasons:
        key = " ".join(_FIGURES.sub("#", _ASIDE.sub("", reason)).split())
        if key not in seen:
            seen.add(key)
            kept.append(reason)
    return kept
