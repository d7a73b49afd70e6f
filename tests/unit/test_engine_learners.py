"""silent_learner, dropout_risk and reflection rules on contract events."""

from __future__ import annotations

from dataclasses import replace

from facilitation_rules.engine.replay import Replayer
from facilitation_rules.packs.config import DAY, HOUR, Prompt
from facilitation_rules.packs.loader import load_pack
from tests.unit.event_factory import (
    T0,
    activity,
    at,
    enrolled,
    reflection,
    reflection_comment,
    thread,
    unenrolled,
)

DEFAULT = load_pack().rules


def run(events, rules=DEFAULT, until_days=40):
    replayer = Replayer(lambda course: rules)
    for event in sorted(events, key=lambda e: e.occurred_at):
        replayer.feed(event)
    return replayer, replayer.finish(T0.timestamp() + until_days * DAY)


def fired(alerts, prefix):
    return [
        (a.rule, a.subject_id, a.fired_at)
        for a in alerts
        if a.action == "fire" and a.rule.startswith(prefix)
    ]


def test_never_posted_counts_from_course_start_and_a_post_resolves():
    rules = replace(DEFAULT, course_start=T0.timestamp())
    _, alerts = run(
        [
            enrolled(-48, "ann"),
            enrolled(0, "bob"),
            thread(24 * 3, "bob", "t1"),
            thread(24 * 20, "ann", "t2"),
        ],
        rules,
    )
    assert fired(alerts, "silent_learner.never") == [
        ("silent_learner.never_posted", "ann", at(24 * 14))
    ]
    assert [
        (a.subject_id, a.fired_at)
        for a in alerts
        if a.action == "resolve" and a.rule == "silent_learner.never_posted"
    ] == [("ann", at(24 * 20))]


def test_unenrolled_learners_get_no_alerts_and_open_ones_resolve():
    _, alerts = run([enrolled(0, "ann"), activity(1, "ann"), unenrolled(24 * 5, "ann")])
    assert fired(alerts, "silent") == []


def test_went_quiet_fires_after_the_gap_with_the_last_activity_as_episode():
    _, alerts = run(
        [activity(h, "ann") for h in (0, 24, 48)] + [activity(24 * 20, "ann")],
        replace(DEFAULT, silent=replace(DEFAULT.silent, never_posted_days=None)),
    )
    quiet = [a for a in alerts if a.rule == "silent_learner.went_quiet"]
    assert [(a.action, a.fired_at) for a in quiet][:2] == [
        ("fire", at(48 + 240)),
        ("resolve", at(24 * 20)),
    ]
    assert "last active 2024-01-10" in quiet[0].reasons[0]
    assert quiet[0].alert_id == quiet[1].alert_id


def test_later_activity_on_the_same_day_moves_went_quiet_past_it():
    # the second activity takes the same-day fast path (``again_today``): only last_active
    # moves, the earlier due time is a lower bound the tick corrects
    _, alerts = run(
        [activity(h, "ann") for h in (0, 24, 25, 43)],
        replace(DEFAULT, silent=replace(DEFAULT.silent, never_posted_days=None)),
    )
    quiet = [a for a in alerts if a.rule == "silent_learner.went_quiet"]
    assert [(a.action, a.fired_at) for a in quiet] == [("fire", at(43 + 240))]


def test_dropout_risk_fires_for_a_fading_learner_with_plain_reasons_and_resolves():
    # active on 5 days, then gone: on the KDD Cup 2015 fit (docs/dropout-risk.md) the risk
    # crosses the default threshold after about 11 days away (14 straight days: about 14)
    events = [activity(24 * d, "ann") for d in range(5)] + [activity(24 * 30, "ann")]
    _, alerts = run(events)
    risk = [a for a in alerts if a.rule == "dropout_risk"]
    assert [a.action for a in risk][:2] == ["fire", "resolve"]
    assert risk[1].fired_at == at(24 * 30)  # back: resolved at once
    assert all(a.alert_id != risk[0].alert_id for a in risk[2:])  # a new fade, a new episode
    fire = risk[0]
    assert fire.fired_at.hour == 6 and fire.fired_at < at(24 * 30)
    assert fire.fired_at >= at(24 * 4 + 24 * DEFAULT.dropout.min_inactive_days)  # not before
    assert DEFAULT.dropout.threshold <= fire.details["risk_score"] <= 1
    assert any(r.startswith("no activity for") for r in fire.reasons)


def test_steady_learner_has_no_dropout_alert():
    _, alerts = run([activity(24 * d + 5, "ann") for d in range(40)])
    assert fired(alerts, "dropout") == []


def test_overdue_prompts_supersede_and_submission_resolves():
    prompts = (Prompt("p1", T0.timestamp() + 7 * DAY), Prompt("p2", T0.timestamp() + 14 * DAY))
    rules = replace(DEFAULT, reflection=replace(DEFAULT.reflection, prompts=prompts))
    _, alerts = run(
        [
            enrolled(0, "ann"),
            activity(1, "ann"),
            activity(24 * 13, "ann"),
            reflection(24 * 16, "ann", "r1", "p1"),
            reflection(24 * 17, "ann", "r2", "p2"),
        ],
        rules,
        until_days=20,
    )
    overdue = [(a.action, a.fired_at, a.reasons) for a in alerts if a.rule == "reflection.overdue"]
    assert [o[:2] for o in overdue] == [
        ("fire", at(24 * 7)),
        ("resolve", at(24 * 14)),
        ("fire", at(24 * 14)),
        ("resolve", at(24 * 17)),
    ]
    assert len(overdue[2][2]) == 2  # the wider alert names both prompts


def test_shared_reflection_without_peer_comment_fires_and_a_comment_resolves():
    _, alerts = run(
        [
            reflection(0, "ann", "r1", "p1", shared=True),
            reflection(0, "bob", "r2", "p1", shared=True),
            reflection_comment(10, "ann", "r1", "ann"),  # self-comment: not a response
            reflection_comment(30, "cat", "r2", "bob"),
            reflection_comment(24 * 4, "bob", "r1", "ann"),
        ],
        until_days=6,
    )
    peer = [
        (a.action, a.subject_id, a.fired_at)
        for a in alerts
        if a.rule == "reflection.no_peer_response"
    ]
    assert peer == [("fire", "r1", at(72)), ("resolve", "r1", at(96))]


def test_reply_received_is_counted_for_the_author():
    replayer, _ = run(
        [reflection(0, "ann", "r1", "p1", shared=True), reflection_comment(5, "bob", "r1", "ann")],
        until_days=1,
    )
    state = replayer.states["L|course-v1:TestX+T101+2024|ann"]
    assert (state.reflections, state.replies_received, len(state.days)) == (1, 1, 1)
    assert replayer.states["L|course-v1:TestX+T101+2024|bob"].last_active == at(5).timestamp()
    assert HOUR == 3600
