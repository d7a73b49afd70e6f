"""The tutor roster of a course: who facilitates, when, how much, on what.

A course team writes it in YAML beside the rule pack (``packs/roster.example.yaml``); it is
validated against ``schemas/roster.schema.json`` and then checked for what a schema cannot
say (unique ids, real time zones, hours that end after they start). Errors name the path:
``tutors[3].hours.mon[0]: "9-17" is not HH:MM-HH:MM``.

Working hours are in each tutor's own time zone; ``on_shift`` and ``next_shift_start`` take
UTC instants, so routing stays a pure function of ``now``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml

from facilitation_rules.packs.business_hours import WEEKDAYS

AREAS = ("discussions", "reflections", "learners")
STRATEGIES = ("round-robin", "least-loaded", "affinity")


class RosterError(ValueError):
    """The roster is invalid; ``str(err)`` lists every problem with its path."""


@dataclass(frozen=True, slots=True)
class Shift:
    start: time
    end: time


@dataclass(frozen=True, slots=True, kw_only=True)
class Tutor:
    tutor_id: str
    name: str
    email: str = ""
    #: The LMS identity (username, else user id) the tutor XBlock maps to this tutor. Only
    #: this maps an LMS user to a tutor: empty, the tutor cannot sign in through the LMS.
    lms_user_id: str = ""
    timezone: str = "UTC"
    #: Weekday (Monday=0) -> shifts in local time. Empty: always on shift.
    hours: dict[int, tuple[Shift, ...]] = field(default_factory=dict)
    capacity: int = 20
    #: discussions / reflections / learners, or "cohort:<name>" / "section:<name>".
    areas: frozenset[str] = frozenset()
    lead: bool = False
    away: bool = False
    webhook_url: str = ""
    email_digest: bool = False

    def on_shift(self, now: datetime) -> bool:
        if not self.hours:
            return True
        local = now.astimezone(ZoneInfo(self.timezone))
        clock = local.time().replace(tzinfo=None)
        return any(s.start <= clock < s.end for s in self.hours.get(local.weekday(), ()))

    def next_shift_start(self, now: datetime) -> datetime:
        """``now`` when on shift, else the UTC start of the next shift (within 8 days)."""
        if self.on_shift(now):
            return now
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for shift in sorted(self.hours.get(day.weekday(), ()), key=lambda s: s.start):
                start = datetime.combine(day, shift.start, zone)
                if start > now:
                    return start.astimezone(UTC)
        return now + timedelta(days=365)  # no hours at all: never next

    def covers(self, area: str) -> bool:
        return not self.areas or area in self.areas


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingPolicy:
    """How one rule's nudges pick a tutor (see ``routing.assign``)."""

    strategy: str = "least-loaded"
    #: Only tutors covering this area (None: derived from the alert kind).
    area: str | None = None
    #: Prefer tutors whose areas name the alert's cohort / section (details "cohort").
    match_cohort: bool = True
    #: Move an unclaimed nudge to a lead after this long (None: never).
    escalate_after: timedelta | None = timedelta(hours=8)
    #: Non-urgent nudges may go to tutors whose shift starts within this (None: on shift
    #: now, else the next one on shift). For work that can wait, e.g. silent learners, it
    #: spreads load over the whole team instead of whoever is on shift when rules run.
    on_shift_within: timedelta | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FatigueConfig:
    """When a tutor is pinged now and when a nudge waits for the digest."""

    max_per_hour: int = 6
    #: Local quiet hours (start, end); may wrap midnight. None: no quiet hours.
    quiet_hours: Shift | None = Shift(time(21, 0), time(8, 0))
    #: Off-shift tutors get a digest instead of pings.
    digest_off_shift: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Roster:
    course_id: str
    tutors: tuple[Tutor, ...]
    default_policy: RoutingPolicy = RoutingPolicy()
    rule_policies: dict[str, RoutingPolicy] = field(default_factory=dict)
    fatigue: FatigueConfig = FatigueConfig()

    def policy_for(self, rule: str) -> RoutingPolicy:
        """The rule's policy; ``silent_learner.went_quiet`` falls back to ``silent_learner``."""
        while rule:
            if rule in self.rule_policies:
                return self.rule_policies[rule]
            rule = rule.rpartition(".")[0]
        return self.default_policy

    def get(self, tutor_id: str) -> Tutor | None:
        return next((t for t in self.tutors if t.tutor_id == tutor_id), None)

    @property
    def leads(self) -> tuple[Tutor, ...]:
        return tuple(t for t in self.tutors if t.lead)


# --- loading ------------------------------------------------------------------------------


def roster_schema() -> dict[str, Any]:
    text = resources.files("facilitation_rules").joinpath("schemas/roster.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


def load_roster(path: str | Path) -> Roster:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise RosterError(f"{path}: not valid YAML: {err}") from None
    except OSError as err:
        raise RosterError(f"{path}: {err.strerror}") from None
    return parse_roster(data, source=str(path))


def parse_roster(data: Any, source: str = "roster") -> Roster:
    validator = jsonschema.Draft202012Validator(roster_schema())
    problems = [
        f"{_path(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
    ]
    if problems:
        raise RosterError(f"{source}: invalid roster:\n  " + "\n  ".join(problems))
    tutors: list[Tutor] = []
    for i, raw in enumerate(data["tutors"]):
        tutors.append(_tutor(raw, f"tutors[{i}]", problems))
    ids = [t.tutor_id for t in tutors]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    problems += [f"tutors: duplicate id {d!r}" for d in dupes]
    lms = [t.lms_user_id for t in tutors if t.lms_user_id]
    twice = sorted({u for u in lms if lms.count(u) > 1})
    problems += [f"tutors: lms_user_id {d!r} names two tutors" for d in twice]
    routing = data.get("routing") or {}
    default = _policy(routing.get("default") or {}, RoutingPolicy())
    rules = {name: _policy(raw, default) for name, raw in (routing.get("rules") or {}).items()}
    fatigue = _fatigue(data.get("fatigue") or {}, problems)
    if problems:
        raise RosterError(f"{source}: invalid roster:\n  " + "\n  ".join(problems))
    return Roster(
        course_id=data["course_id"],
        tutors=tuple(tutors),
        default_policy=default,
        rule_policies=rules,
        fatigue=fatigue,
    )


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _span(text: str, where: str, problems: list[str]) -> Shift | None:
    try:
        start_s, end_s = text.split("-")
        start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    except ValueError:
        problems.append(f"{where}: {text!r} is not HH:MM-HH:MM")
        return None
    return Shift(start, end)


def _tutor(raw: dict[str, Any], where: str, problems: list[str]) -> Tutor:
    tz = raw.get("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}.timezone: unknown time zone {tz!r}")
        tz = "UTC"
    hours: dict[int, tuple[Shift, ...]] = {}
    for day, spans in (raw.get("hours") or {}).items():
        shifts = []
        for j, text in enumerate([spans] if isinstance(spans, str) else spans):
            shift = _span(text, f"{where}.hours.{day}[{j}]", problems)
            if shift and shift.start >= shift.end and shift.end != time(0, 0):
                problems.append(
                    f"{where}.hours.{day}[{j}]: {text!r} ends before it starts "
                    "(split a night shift over two days)"
                )
            elif shift:
                # "18:00-00:00" means until midnight.
                end = time(23, 59, 59, 999999) if shift.end == time(0, 0) else shift.end
                shifts.append(Shift(shift.start, end))
        hours[WEEKDAYS.index(day)] = tuple(shifts)
    notify = raw.get("notify") or {}
    return Tutor(
        tutor_id=raw["id"],
        name=raw.get("name") or raw["id"],
        email=raw.get("email", ""),
        lms_user_id=str(raw.get("lms_user_id") or ""),
        timezone=tz,
        hours=hours,
        capacity=raw.get("capacity", 20),
        areas=frozenset(raw.get("areas") or ()),
        lead=bool(raw.get("lead", False)),
        away=bool(raw.get("away", False)),
        webhook_url=notify.get("webhook", ""),
        email_digest=bool(notify.get("email_digest", False)),
    )


def _policy(raw: dict[str, Any], base: RoutingPolicy) -> RoutingPolicy:
    hours = raw.get("escalate_after_hours", "inherit")
    escalate = (
        base.escalate_after
        if hours == "inherit"
        else None
        if hours is None
        else timedelta(hours=float(hours))
    )
    within = raw.get("on_shift_within_hours", "inherit")
    return RoutingPolicy(
        strategy=raw.get("strategy", base.strategy),
        area=raw.get("area", base.area),
        match_cohort=bool(raw.get("match_cohort", base.match_cohort)),
        escalate_after=escalate,
        on_shift_within=(
            base.on_shift_within
            if within == "inherit"
            else None
            if within is None
            else timedelta(hours=float(within))
        ),
    )


def _fatigue(raw: dict[str, Any], problems: list[str]) -> FatigueConfig:
    base = FatigueConfig()
    quiet: Shift | None = base.quiet_hours
    if "quiet_hours" in raw:
        quiet = (
            None
            if raw["quiet_hours"] is None
            else _span(raw["quiet_hours"], "fatigue.quiet_hours", problems)
        )
    return FatigueConfig(
        max_per_hour=raw.get("max_per_hour", base.max_per_hour),
        quiet_hours=quiet,
        digest_off_shift=bool(raw.get("digest_off_shift", base.digest_off_shift)),
    )
