"""The retirement event on the contract: schema, codec round trip, partition key."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema

from facilitation_rules.contract import codec as event_codec
from facilitation_rules.contract.events import REGISTRY, Actor, LearnerRetired, subject_key
from facilitation_rules.contract.json_schemas import SCHEMA_DIR, load_dir


def test_learner_retired_is_on_the_contract() -> None:
    event = LearnerRetired(event_id="r1", occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
                           course_id="course-v1:X+Y+Z", actor=Actor(user_id="42"),
                           learner_id="42")
    assert REGISTRY["org.openedx.facilitation.learner.retired.v1"] is LearnerRetired
    schema = load_dir(SCHEMA_DIR)["org.openedx.facilitation.learner.retired.v1.json"]
    jsonschema.validate(event_codec.to_dict(event), schema)
    assert event_codec.loads(event_codec.dumps(event)) == event
    # Keyed like the learner's own events: it reaches their state after them.
    assert event.partition_key() == subject_key("L", "course-v1:X+Y+Z", "42")
