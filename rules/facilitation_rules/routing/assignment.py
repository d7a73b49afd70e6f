"""Who gets a nudge, when to escalate, when to ping: pure functions of the roster and ``now``.

``assign`` narrows the roster step by step and says why at each step, so a course team
reading ``Decision.why`` in the nudge history can tell how it got there:

1. tutors who are not away and cover the area (discussions / reflections / learners);
2. of those, the ones whose areas name the learner's cohort or section, if any do;
3. of those, the ones under capacity (all of them when everyone is full);
4. of those, the ones on shift now — or, unless the nudge is urgent, the ones whose shift
   starts next (an urgent nudge with nobody on shift goes to anyone eligible now);
5. the policy picks one: ``affinity`` (the tutor who last had this thread or learner, if in
   the pool), ``round-robin`` (a cursor the caller keeps), ``least-loaded`` (open/capacity,
   then fewest nudges assigned lately, so shifts with fewer tutors still even out).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.routing.nudges import Nudge
from facilitation_rules.routing.roster import FatigueConfig, Roster, RoutingPolicy, Tutor

KIND_AREA = {
    "unanswered_post": "discussions",
    "reflection": "reflections",
    "silent_learner": "learners",
    "dropout_risk": "learners",
}
#: Tutors whose next shift starts within this of the earliest one share the work.
_NEXT_SHIFT_WINDOW = timedelta(minutes=30)
_LOAD_BANDS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """What routing needs to know about a nudge (built from an alert or a stored nudge)."""

    key: str  # stable per nudge: spreads ties without randomness
    rule: str
    kind: str
    severity: str
    cohort: str = ""
    section: str = ""

    @classmethod
    def from_alert(cls, alert: Alert) -> Request:
        return cls(
            key=alert.alert_id,
            rule=alert.rule,
            kind=alert.kind,
            severity=alert.severity,
            cohort=str(alert.details.get("cohort") or ""),
            section=str(alert.details.get("section") or ""),
        )

    @classmethod
    def from_nudge(cls, nudge: Nudge) -> Request:
        """A stored nudge, routed again (redistribution, reassignment): its first rule."""
        first = nudge.items[0] if nudge.items else None
        return cls(
            key=nudge.nudge_id,
            rule=first.rule if first else "",
            kind=first.kind if first else "",
            severity=nudge.severity,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Load:
    """A tutor's work: ``open`` nudges now, ``recent`` nudges assigned lately."""

    open: int = 0
    recent: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    tutor_id: str
    why: str
    on_shift: bool


class NoTutor(LookupError):
    """Nobody in the roster can take this nudge (everyone away)."""


def assign(
    roster: Roster,
    request: Request,
    now: datetime,
    *,
    loads: Mapping[str, Load],
    affinity: Sequence[str] = (),
    cursor: int = 0,
    policy: RoutingPolicy | None = None,
    exclude: frozenset[str] = frozenset(),
) -> Decision:
    """Pick the tutor for ``request``. ``affinity``: tutors who had the thread, then the
    learner, most specific first. ``cursor``: the round-robin position for this rule."""
    policy = policy or roster.policy_for(request.rule)
    notes: list[str] = []
    pool = [t for t in roster.tutors if not t.away and t.tutor_id not in exclude]
    if not pool:
        raise NoTutor(f"no tutor available in {roster.course_id} (all away)")
    area = _area(policy, request)
    pool = _narrow(pool, [t for t in pool if t.covers(area)], f"area {area}", notes)
    if policy.match_cohort and (request.cohort or request.section):
        tags = {f"cohort:{request.cohort}", f"section:{request.section}"}
        pool = _narrow(pool, [t for t in pool if t.areas & tags], "cohort", notes)
    pool = _narrow(pool, [t for t in pool if _open(loads, t) < t.capacity], "under capacity", notes)
    on_shift = [t for t in pool if t.on_shift(now)]
    window = policy.on_shift_within
    if window is not None and request.severity != "urgent":
        soon = [t for t in pool if t.next_shift_start(now) - now <= window]
        pool = soon or pool
        notes.append(f"on shift within {window.total_seconds() / 3600:g} h")
    elif on_shift:
        pool = on_shift
        notes.append("on shift")
    elif request.severity == "urgent":
        notes.append("urgent: nobody on shift, sent now")
    else:
        starts = {t.tutor_id: t.next_shift_start(now) for t in pool}
        first = min(starts.values())
        pool = [t for t in pool if starts[t.tutor_id] - first <= _NEXT_SHIFT_WINDOW]
        notes.append(f"next on shift at {first:%Y-%m-%d %H:%M}Z")
    chosen = _pick(policy, pool, request, loads, affinity, cursor, notes)
    return Decision(chosen.tutor_id, "; ".join(notes), chosen.on_shift(now))


def _area(policy: RoutingPolicy, request: Request) -> str:
    return policy.area or KIND_AREA.get(request.kind, "discussions")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A tutor a nudge could be reassigned to, and what speaks against it (no warnings:
    a fit). ``recommended``: the one ``assign`` picks among them."""

    tutor_id: str
    name: str
    recommended: bool
    warnings: tuple[str, ...]
    on_shift: bool
    open: int
    capacity: int


def reassign_candidates(
    roster: Roster, request: Request, now: datetime, *, loads: Mapping[str, Load], holder: str
) -> list[Candidate]:
    """Every tutor but ``holder``, best first, each with the checks ``assign`` makes: away,
    the rule's area, capacity, shift (or, for a rule that can wait, a shift starting within
    its ``on_shift_within``). A lead may override them; the page says so first."""
    policy = _without_affinity(roster.policy_for(request.rule))
    area = _area(policy, request)
    wait = policy.on_shift_within if request.severity != "urgent" else None
    wait = wait or timedelta(0)
    try:
        pick = assign(
            roster, request, now, loads=loads, exclude=frozenset({holder}), policy=policy
        ).tutor_id
    except NoTutor:
        pick = ""
    out = []
    for t in roster.tutors:
        if t.tutor_id == holder:
            continue
        warnings = []
        if t.away:
            warnings.append("away")
        if not t.covers(area):
            warnings.append(f"does not cover {area}")
        if _open(loads, t) >= t.capacity:
            warnings.append(f"at capacity ({_open(loads, t)} of {t.capacity})")
        start = t.next_shift_start(now)
        if start - now > wait:  # a rule that can wait lets a shift that starts soon do
            soon = start - now < timedelta(days=8)
            warnings.append(f"off shift until {start:%a %H:%M} UTC" if soon else "no hours")
        load = _open(loads, t)
        fit = (t.tutor_id == pick, tuple(warnings), t.on_shift(now), load, t.capacity)
        out.append(Candidate(t.tutor_id, t.name, *fit))
    return sorted(out, key=lambda c: (not c.recommended, len(c.warnings), c.open / c.capacity))


def _narrow(pool: list[Tutor], subset: list[Tutor], what: str, notes: list[str]) -> list[Tutor]:
    if subset:
        if len(subset) < len(pool):
            notes.append(what)
        return subset
    notes.append(f"nobody {what}: ignored")
    return pool


def _open(loads: Mapping[str, Load], tutor: Tutor) -> int:
    return loads.get(tutor.tutor_id, Load()).open


def _pick(
    policy: RoutingPolicy,
    pool: list[Tutor],
    request: Request,
    loads: Mapping[str, Load],
    affinity: Sequence[str],
    cursor: int,
    notes: list[str],
) -> Tutor:
    if policy.strategy == "affinity":
        by_id = {t.tutor_id: t for t in pool}
        for tutor_id in affinity:
            if tutor_id in by_id:
                notes.append("affinity")
                return by_id[tutor_id]
    if policy.strategy == "round-robin":
        notes.append("round-robin")
        return sorted(pool, key=lambda t: t.tutor_id)[cursor % len(pool)]
    notes.append("least-loaded")

    def rank(t: Tutor) -> tuple[int, int, float, str]:
        load = loads.get(t.tutor_id, Load())
        tie = hashlib.blake2b(f"{request.key}|{t.tutor_id}".encode(), digest_size=4).hexdigest()
        # Loads within the same quarter of capacity count as equal; then whoever got the
        # fewest nudges lately, so the team's totals even out over a week.
        band = int(_LOAD_BANDS * load.open / t.capacity)
        return (band, load.recent, load.open / t.capacity, tie)

    return min(pool, key=rank)


def needs_reroute(roster: Roster, holder: str, alert: Alert, now: datetime) -> bool:
    """An alert merging into a nudge held by ``holder``: move the nudge if the alert cannot
    wait (its policy wants a tutor on shift now, or it is urgent) and the holder is off
    shift — else a post would wait for a silent-learner nudge's tutor to come on shift."""
    tutor = roster.get(holder)
    if tutor is None or tutor.on_shift(now):
        return False
    if alert.severity == "urgent":
        return True
    return roster.policy_for(alert.rule).on_shift_within is None


# --- escalation and redistribution -----------------------------------------------------------


def escalation_due(enqueued_at: datetime, now: datetime, policy: RoutingPolicy) -> bool:
    return policy.escalate_after is not None and now - enqueued_at >= policy.escalate_after


def escalation_target(
    roster: Roster, current_tutor: str, now: datetime, loads: Mapping[str, Load]
) -> str | None:
    """A lead other than the current tutor, on shift if one is, least loaded first."""
    leads = [t for t in roster.leads if not t.away and t.tutor_id != current_tutor]
    pool = [t for t in leads if t.on_shift(now)] or leads
    if not pool:
        return None
    return min(pool, key=lambda t: (_open(loads, t) / t.capacity, t.tutor_id)).tutor_id


def redistribute(
    roster: Roster,
    away_tutor: str,
    requests: Sequence[tuple[str, Request]],
    now: datetime,
    loads: Mapping[str, Load],
) -> list[tuple[str, Decision]]:
    """New owners for an away tutor's open nudges, ``(nudge_id, decision)``; each decision
    counts toward the next one's load so the work spreads rather than piling on one tutor."""
    current = dict(loads)
    out: list[tuple[str, Decision]] = []
    for nudge_id, request in requests:
        try:
            decision = assign(
                roster,
                request,
                now,
                loads=current,
                exclude=frozenset({away_tutor}),
                policy=_without_affinity(roster.policy_for(request.rule)),
            )
        except NoTutor:
            break
        old = current.get(decision.tutor_id, Load())
        current[decision.tutor_id] = Load(open=old.open + 1, recent=old.recent + 1)
        out.append((nudge_id, decision))
    return out


def _without_affinity(policy: RoutingPolicy) -> RoutingPolicy:
    if policy.strategy != "affinity":
        return policy
    return dataclasses.replace(policy, strategy="least-loaded")


# --- fatigue -----------------------------------------------------------------------------


NotifyMode = Literal["now", "digest"]


def in_quiet_hours(tutor: Tutor, now: datetime, fatigue: FatigueConfig) -> bool:
    quiet = fatigue.quiet_hours
    if quiet is None:
        return False
    local: time = now.astimezone(ZoneInfo(tutor.timezone)).time().replace(tzinfo=None)
    if quiet.start <= quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # wraps midnight


def notify_mode(
    tutor: Tutor,
    severity: str,
    now: datetime,
    recent_pings: Sequence[datetime],
    fatigue: FatigueConfig,
) -> tuple[NotifyMode, str]:
    """Ping the tutor now, or hold the nudge for their digest; with the reason.

    Urgent nudges always ping. Otherwise quiet hours, being off shift (if configured) and
    the hourly rate limit each defer to the digest. The nudge is in the queue either way.
    """
    if severity == "urgent":
        return "now", "urgent"
    if in_quiet_hours(tutor, now, fatigue):
        return "digest", "quiet hours"
    if fatigue.digest_off_shift and not tutor.on_shift(now):
        return "digest", "off shift"
    last_hour = sum(1 for t in recent_pings if now - t < timedelta(hours=1))
    if last_hour >= fatigue.max_per_hour:
        return "digest", f"rate limit {fatigue.max_per_hour}/h"
    return "now", "ok"
