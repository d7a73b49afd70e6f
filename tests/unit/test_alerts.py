"""The ``Alert`` value: identity without its details, round trip as data, immutability."""

from datetime import UTC, datetime

import pytest

from facilitation_rules.build_info import compiled
from facilitation_rules.contract.alerts import Alert, alert_from_dict, alert_id_for, alert_to_dict


def _alert(**changes: object) -> Alert:
    fields: dict[str, object] = {
        "alert_id": alert_id_for("unanswered_post", "c1", "post", "p1", "p1"),
        "rule": "unanswered_post",
        "kind": "unanswered_post",
        "course_id": "c1",
        "subject_type": "post",
        "subject_id": "p1",
        "learner_id": "u1",
        "fired_at": datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        "severity": "high",
        "reasons": ("thread with no reply for 24 h",),
        "details": {"title": "Week 1"},
    }
    return Alert(**{**fields, **changes})  # type: ignore[arg-type]


def test_alerts_are_equal_and_hash_alike_whatever_their_details():
    a, b = _alert(), _alert(details={"title": "another"})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert _alert(action="resolve") != a
    assert _alert(reasons=("other",)) != a
    assert a != "unanswered_post" and a.details == {"title": "Week 1"}


def test_an_alert_without_details_gets_its_own_empty_dict():
    one, two = _alert(details=None), _alert(details=None)
    assert one.details == {} and one.details is not two.details
    assert one.action == "fire"


def test_an_alert_round_trips_as_data_and_reads_as_its_fields():
    a = _alert()
    assert alert_from_dict(alert_to_dict(a)) == a
    assert repr(a).startswith("Alert(alert_id='unanswered_post:")
    assert all(f"{name}=" in repr(a) for name in Alert.FIELDS)


@pytest.mark.skipif(not compiled(), reason="the source build leaves immutability to mypy")
def test_the_compiled_build_refuses_to_change_an_alert():
    a = _alert()
    with pytest.raises(AttributeError):
        a.rule = "other"  # type: ignore[misc]
    assert a.rule == "unanswered_post"
