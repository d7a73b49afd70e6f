"""A queue to triage: filters, counts, sort orders, pages, respond-by times and the team's
load against capacity and shifts. Pure: nudges, the roster and ``now`` in, values out.

A nudge is due by the earliest respond-by time of its open items: a post's reply target
(``due_at``, the SLA), else the time it escalates when nobody claims it (the rule's
``escalate_after`` in the roster; a day without one). It is overdue when that has passed
and it is not snoozed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from facilitation_rules.contract.codec import EventDecodeError, parse_time
from facilitation_rules.routing.nudges import OPEN_STATES, SEVERITY_RANK, Nudge
from facilitation_rules.routing.roster import Roster, Tutor

#: due: the earliest respond-by first; oldest: the longest waiting first; severity: the
#: queue's own order (most severe, then the earliest due).
SORTS = ("due", "oldest", "severity")
MAX_PAGE = 100
_DEFAULT_RESPOND = timedelta(hours=24)


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """Which nudges to show; an empty set or string means "any"."""

    severity: frozenset[str] = frozenset()
    #: Rules by name or prefix: ``silent_learner`` covers ``silent_learner.went_quiet``.
    rule: frozenset[str] = frozenset()
    course: str = ""
    state: frozenset[str] = frozenset()
    claimed_by: str = ""
    overdue: bool = False

    def matches(self, nudge: Nudge, overdue: bool) -> bool:
        if self.severity and nudge.severity not in self.severity:
            return False
        if self.rule and not any(_rule_in(r, self.rule) for r in nudge.rules):
            return False
        if self.course and nudge.course_id != self.course:
            return False
        if self.state and nudge.state not in self.state:
            return False
        if self.claimed_by and nudge.claimed_by != self.claimed_by:
            return False
        return overdue or not self.overdue


def _rule_in(rule: str, wanted: frozenset[str]) -> bool:
    return any(rule == w or rule.startswith(w + ".") for w in wanted)


def respond_by(nudge: Nudge, roster: Roster | None) -> datetime:
    """When the nudge wants an answer: the earliest respond-by of its open items."""
    times = []
    for item in nudge.items:
        if not item.open:
            continue
        due = _time(item.due_at)
        if due is None:
            fired = _time(item.fired_at) or _time(nudge.created_at)
            policy = roster.policy_for(item.rule) if roster is not None else None
            wait = policy.escalate_after if policy and policy.escalate_after else None
            due = fired + (wait or _DEFAULT_RESPOND) if fired else None
        if due is not None:
            times.append(due)
    return min(times) if times else (_time(nudge.due_at) or datetime.min)


def is_overdue(nudge: Nudge, roster: Roster | None, now: datetime) -> bool:
    waiting = nudge.state in OPEN_STATES and nudge.state != "snoozed"
    return waiting and respond_by(nudge, roster) < now


def _time(text: str) -> datetime | None:
    try:
        return parse_time(text) if text else None
    except EventDecodeError:
        return None


def counts(nudges: Iterable[Nudge]) -> dict[str, dict[str, int]]:
    """How many nudges per severity, rule, state and course (a nudge counts once per rule
    it holds)."""
    by: dict[str, Counter[str]] = {k: Counter() for k in ("severity", "rule", "state", "course")}
    for n in nudges:
        by["severity"][n.severity] += 1
        by["state"][n.state] += 1
        by["course"][n.course_id] += 1
        for rule in n.rules:
            by["rule"][rule] += 1
    return {k: dict(sorted(c.items())) for k, c in by.items()}


def ordered(nudges: Sequence[Nudge], sort: str, due: Mapping[str, datetime]) -> list[Nudge]:
    """``nudges`` in ``sort`` order (``due``: respond-by time per nudge id)."""
    if sort == "due":
        return sorted(nudges, key=lambda n: (due[n.nudge_id], _rank(n), n.nudge_id))
    if sort == "oldest":
        return sorted(nudges, key=lambda n: (n.created_at, _rank(n), n.nudge_id))
    if sort == "severity":
        return sorted(nudges, key=lambda n: (_rank(n), n.due_at, n.nudge_id))
    raise ValueError(f"sort must be one of {', '.join(SORTS)}")


def _rank(nudge: Nudge) -> int:
    return SEVERITY_RANK.get(nudge.severity, len(SEVERITY_RANK))


@dataclass(frozen=True, slots=True, kw_only=True)
class TutorLoad:
    """A tutor's queue against their capacity and shift, for the lead's team view."""

    tutor_id: str
    name: str
    lead: bool
    away: bool
    capacity: int
    open: int
    claimed: int
    snoozed: int
    overdue: int
    on_shift: bool
    #: The start of the next shift (``now`` when on shift); None: no hours at all.
    next_shift: datetime | None
    areas: tuple[str, ...]

    @property
    def over_capacity(self) -> bool:
        return self.open > self.capacity


def team_loads(
    roster: Roster,
    queues: Mapping[str, Sequence[Nudge]],
    now: datetime,
    away: frozenset[str] = frozenset(),
) -> list[TutorLoad]:
    """One row per roster tutor (``away``: marked away at run time too)."""
    rows = []
    for tutor in roster.tutors:
        nudges = queues.get(tutor.tutor_id, ())
        rows.append(
            TutorLoad(
                tutor_id=tutor.tutor_id,
                name=tutor.name,
                lead=tutor.lead,
                away=tutor.away or tutor.tutor_id in away,
                capacity=tutor.capacity,
                open=len(nudges),
                claimed=sum(1 for n in nudges if n.state == "claimed"),
                snoozed=sum(1 for n in nudges if n.state == "snoozed"),
                overdue=sum(1 for n in nudges if is_overdue(n, roster, now)),
                on_shift=tutor.on_shift(now),
                next_shift=_next_shift(tutor, now),
                areas=tuple(sorted(tutor.areas)),
            )
        )
    return rows


def _next_shift(tutor: Tutor, now: datetime) -> datetime | None:
    start = tutor.next_shift_start(now)
    return None if start - now > timedelta(days=8) else start


def shift_after(tutor: Tutor, now: datetime) -> datetime | None:
    """The start of the tutor's next shift after the one they are on (or the next one when
    off shift): where "snooze until my next shift" wakes the nudge. None: no hours."""
    if not tutor.hours:
        return None
    at = now
    while tutor.on_shift(at) and at - now < timedelta(days=8):
        at += timedelta(minutes=15)  # to the end of this shift, at the roster's granularity
    return _next_shift(tutor, at)
