"""Assignment policies, escalation, redistribution and fatigue: pure functions of now."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from facilitation_rules.routing.assignment import (
    Load,
    NoTutor,
    Request,
    assign,
    escalation_due,
    escalation_target,
    notify_mode,
    redistribute,
)
from facilitation_rules.routing.roster import (
    FatigueConfig,
    Roster,
    RoutingPolicy,
    Shift,
    Tutor,
    load_roster,
)

EXAMPLE = Path(__file__).parents[2] / "rules/facilitation_rules/packs/roster.example.yaml"
WED_13Z = datetime(2025, 3, 5, 13, tzinfo=UTC)  # ana, ben, carla on shift
DAY = {d: (Shift(time(9), time(17)),) for d in range(7)}


def req(
    key: str = "a1",
    kind: str = "unanswered_post",
    severity: str = "warning",
    rule: str = "r",
    cohort: str = "",
) -> Request:
    return Request(key=key, rule=rule, kind=kind, severity=severity, cohort=cohort)


def team(*tutors: Tutor, policy: RoutingPolicy | None = None) -> Roster:
    return Roster(course_id="c", tutors=tutors, default_policy=policy or RoutingPolicy())


def test_only_on_shift_tutors_get_nudges() -> None:
    roster = load_roster(EXAMPLE)
    for i in range(50):
        d = assign(roster, req(f"k{i}"), WED_13Z, loads={})
        assert d.tutor_id in {"ana", "ben", "carla"}
        assert d.on_shift


def test_off_shift_goes_to_next_on_shift_unless_urgent() -> None:
    early = Tutor(tutor_id="early", name="E", timezone="UTC", hours={2: (Shift(time(6), time(8)),)})
    late = Tutor(tutor_id="late", name="L", timezone="UTC", hours={2: (Shift(time(10), time(12)),)})
    roster = team(early, late)
    at_9 = datetime(2025, 3, 5, 9, tzinfo=UTC)  # a Wednesday, nobody on shift
    decision = assign(roster, req(), at_9, loads={})
    assert decision.tutor_id == "late" and not decision.on_shift
    assert "next on shift at 2025-03-05 10:00Z" in decision.why
    urgent = assign(roster, req(severity="urgent"), at_9, loads={"late": Load(open=5)})
    assert urgent.tutor_id == "early" and "urgent" in urgent.why


def test_least_loaded_uses_open_over_capacity_then_recent() -> None:
    a = Tutor(tutor_id="a", name="A", capacity=10)
    b = Tutor(tutor_id="b", name="B", capacity=40)
    roster = team(a, b)
    loads = {"a": Load(open=3), "b": Load(open=8)}
    assert assign(roster, req(), WED_13Z, loads=loads).tutor_id == "b"
    even = {"a": Load(open=0, recent=9), "b": Load(open=0, recent=2)}
    assert assign(roster, req(), WED_13Z, loads=even).tutor_id == "b"


def test_capacity_is_respected_until_everyone_is_full() -> None:
    a = Tutor(tutor_id="a", name="A", capacity=2)
    b = Tutor(tutor_id="b", name="B", capacity=2)
    roster = team(a, b, policy=RoutingPolicy(strategy="round-robin"))
    loads = {"a": Load(open=2)}
    picks = {assign(roster, req(), WED_13Z, loads=loads, cursor=c).tutor_id for c in range(4)}
    assert picks == {"b"}
    full = {"a": Load(open=2), "b": Load(open=3)}
    assert assign(roster, req(), WED_13Z, loads=full).why.startswith("nobody under capacity")


def test_round_robin_cycles() -> None:
    roster = team(
        *(Tutor(tutor_id=x, name=x) for x in "abc"), policy=RoutingPolicy(strategy="round-robin")
    )
    picks = [assign(roster, req(), WED_13Z, loads={}, cursor=c).tutor_id for c in range(6)]
    assert picks == ["a", "b", "c", "a", "b", "c"]


def test_affinity_returns_to_the_tutor_who_had_it_if_on_shift() -> None:
    roster = load_roster(EXAMPLE)
    d = assign(roster, req(rule="unanswered_post"), WED_13Z, loads={}, affinity=["carla", "ana"])
    assert d.tutor_id == "carla" and "affinity" in d.why
    # Haruto is off shift at 13Z: affinity gives way to the shift rule.
    d = assign(roster, req(rule="unanswered_post"), WED_13Z, loads={}, affinity=["haruto"])
    assert d.tutor_id in {"ana", "ben", "carla"} and "affinity" not in d.why


def test_area_and_cohort() -> None:
    roster = load_roster(EXAMPLE)
    # Reflections at 13Z: ana and carla cover them, ben does not.
    picks = {
        assign(
            roster, req(f"k{i}", kind="reflection", rule="reflection"), WED_13Z, loads={}, cursor=i
        ).tutor_id
        for i in range(10)
    }
    assert picks == {"ana", "carla"}
    # Cohort A is ben's.
    assert assign(roster, req(cohort="A"), WED_13Z, loads={}).tutor_id == "ben"


def test_away_tutors_get_nothing_and_all_away_is_an_error() -> None:
    a = Tutor(tutor_id="a", name="A", away=True)
    b = Tutor(tutor_id="b", name="B")
    assert assign(team(a, b), req(), WED_13Z, loads={}).tutor_id == "b"
    with pytest.raises(NoTutor):
        assign(team(a), req(), WED_13Z, loads={})


def test_redistribution_spreads_an_away_tutors_nudges() -> None:
    tutors = [Tutor(tutor_id=x, name=x) for x in "abcd"]
    roster = team(*tutors)
    moves = redistribute(roster, "a", [(f"n{i}", req(f"n{i}")) for i in range(9)], WED_13Z, {})
    owners = [d.tutor_id for _, d in moves]
    assert "a" not in owners and sorted(owners.count(x) for x in "bcd") == [3, 3, 3]


def test_escalation() -> None:
    roster = load_roster(EXAMPLE)
    policy = roster.policy_for("unanswered_post")
    assert not escalation_due(WED_13Z, WED_13Z + timedelta(hours=7), policy)
    assert escalation_due(WED_13Z, WED_13Z + timedelta(hours=8), policy)
    assert escalation_target(roster, "ben", WED_13Z, {}) == "ana"  # emma is off shift at 13Z
    assert escalation_target(roster, "ana", WED_13Z, {}) == "emma"  # not back to herself
    never = RoutingPolicy(escalate_after=None)
    assert not escalation_due(WED_13Z, WED_13Z + timedelta(days=99), never)


def test_fatigue_quiet_hours_rate_limit_and_urgent_bypass() -> None:
    tutor = Tutor(tutor_id="t", name="T", timezone="Europe/Madrid", hours=DAY)
    cfg = FatigueConfig(max_per_hour=2, quiet_hours=Shift(time(21), time(8)))
    day = datetime(2025, 3, 5, 10, tzinfo=UTC)  # 11:00 Madrid
    night = datetime(2025, 3, 5, 22, tzinfo=UTC)  # 23:00 Madrid
    assert notify_mode(tutor, "warning", day, [], cfg) == ("now", "ok")
    assert notify_mode(tutor, "warning", night, [], cfg)[0] == "digest"
    assert notify_mode(tutor, "urgent", night, [], cfg) == ("now", "urgent")
    pings = [day - timedelta(minutes=10), day - timedelta(minutes=20)]
    assert notify_mode(tutor, "high", day, pings, cfg) == ("digest", "rate limit 2/h")
    old = [day - timedelta(hours=2)] * 5
    assert notify_mode(tutor, "high", day, old, cfg)[0] == "now"
