"""Roster loading: the example validates; mistakes are reported with their path."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml

from facilitation_rules.routing.roster import RosterError, load_roster, parse_roster, roster_schema

EXAMPLE = Path(__file__).parents[2] / "rules/facilitation_rules/packs/roster.example.yaml"


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_example_roster_loads_with_eight_tutors_and_covers_every_weekday_hour() -> None:
    roster = load_roster(EXAMPLE)
    assert len(roster.tutors) == 8
    assert len({t.timezone for t in roster.tutors}) == 8
    assert {t.tutor_id for t in roster.leads} == {"ana", "emma"}
    monday = datetime(2025, 3, 3, tzinfo=UTC)
    for hour in range(24 * 5):
        assert any(t.on_shift(monday + timedelta(hours=hour)) for t in roster.tutors), hour
    assert roster.policy_for("unanswered_post").strategy == "affinity"
    assert roster.policy_for("silent_learner").escalate_after == timedelta(hours=24)
    assert roster.policy_for("anything-else").escalate_after == timedelta(hours=8)


def test_example_matches_committed_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(roster_schema())
    jsonschema.validate(example(), roster_schema())


def test_shift_in_local_time_and_next_shift() -> None:
    roster = load_roster(EXAMPLE)
    ana = roster.get("ana")
    assert ana is not None
    # 09:00 Madrid on Monday 3 March 2025 is 08:00 UTC (CET).
    assert not ana.on_shift(datetime(2025, 3, 3, 7, 59, tzinfo=UTC))
    assert ana.on_shift(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    # Friday 15:00 local ends her week; next shift is Monday 08:00 UTC.
    assert ana.next_shift_start(datetime(2025, 3, 7, 15, tzinfo=UTC)) == datetime(
        2025, 3, 10, 8, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["tutors"][0].update(timezone="Mars/Olympus"), "tutors[0].timezone"),
        (lambda d: d["tutors"][1]["hours"].update(mon="9-17"), "tutors[1].hours.mon"),
        (lambda d: d["tutors"][1]["hours"].update(mon="18:00-09:00"), "ends before it starts"),
        (lambda d: d["tutors"][2].update(capacity=0), "tutors[2].capacity"),
        (lambda d: d["tutors"][2].update(areas=["forums"]), "tutors[2].areas[0]"),
        (lambda d: d["tutors"].append(dict(d["tutors"][0])), "duplicate id 'ana'"),
        (lambda d: d["routing"]["rules"].update(x={"strategy": "random"}), "routing.rules.x"),
        (lambda d: d.update(tutors=[]), "tutors"),
        (lambda d: d["tutors"][3].update(shoe_size=42), "shoe_size"),
    ],
)
def test_mistakes_are_reported_with_their_path(mutate, message: str) -> None:
    data = copy.deepcopy(example())
    mutate(data)
    with pytest.raises(RosterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_roster(data)


def test_unreadable_file_is_a_roster_error(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="No such file"):
        load_roster(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tutors: [")
    with pytest.raises(RosterError, match="not valid YAML"):
        load_roster(bad)
