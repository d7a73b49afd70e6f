"""A retired learner: what is open about them resolves, one redact alert, the state goes."""

from __future__ import annotations

from dataclasses import replace

from facilitation_rules.contract.events import Actor, LearnerRetired
from facilitation_rules.engine.replay import Replayer
from facilitation_rules.packs.config import DAY
from facilitation_rules.packs.loader import load_pack
from tests.unit.event_factory import COURSE, T0, activity, at

RULES = load_pack().rules
QUIET = replace(RULES, silent=replace(RULES.silent, never_posted_days=None))


def _retired(hours: float, user: str) -> LearnerRetired:
    return LearnerRetired(event_id=f"retired-{user}", occurred_at=at(hours), course_id=COURSE,
                          actor=Actor(user_id=user), learner_id=user)


def test_retirement_resolves_open_alerts_redacts_and_forgets_the_learner() -> None:
    replayer = Replayer(lambda course: QUIET)
    for event in [activity(h, "ann") for h in (0, 24, 48)] + [activity(0, "bob")]:
        replayer.feed(event)
    replayer.advance(T0.timestamp() + 20 * DAY)  # went quiet: an open alert
    assert f"L|{COURSE}|ann" in replayer.states
    replayer.feed(_retired(24 * 21, "ann"))
    mine = [a for a in replayer.alerts if a.learner_id == "ann" and a.fired_at == at(24 * 21)]
    assert [(a.rule, a.action) for a in mine] == [
        ("dropout_risk", "resolve"), ("silent_learner.went_quiet", "resolve"),
        ("learner.retired", "redact"),
    ]  # fmt: skip
    assert mine[-1].kind == "retirement" and mine[-1].subject_id == "ann"
    assert f"L|{COURSE}|ann" not in replayer.states
    assert f"L|{COURSE}|bob" in replayer.states  # others untouched
    later = replayer.finish(T0.timestamp() + 60 * DAY)
    assert not [a for a in later if a.learner_id == "ann" and a.fired_at > at(24 * 21)]


def test_retiring_an_unknown_learner_still_asks_the_queues_to_redact() -> None:
    replayer = Replayer(lambda course: QUIET)
    replayer.feed(_retired(1, "nobody"))
    assert [(a.rule, a.action) for a in replayer.alerts] == [("learner.retired", "redact")]
