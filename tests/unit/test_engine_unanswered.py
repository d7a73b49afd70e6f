"""unanswered_post: SLA, warning, escalation, replies that count and those that do not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from facilitation_rules.contract.events import Role
from facilitation_rules.engine.replay import Replayer
from facilitation_rules.packs.business_hours import BusinessCalendar
from facilitation_rules.packs.config import (
    HOUR,
    CourseRules,
    DropoutConfig,
    SilentConfig,
    UnansweredConfig,
)
from tests.unit.event_factory import T0, at, comment, deleted, response, thread, vote

ONLY_POSTS = CourseRules(silent=SilentConfig(enabled=False), dropout=DropoutConfig(enabled=False))


def run(events, rules=None, until_h=24 * 10):
    rules = replace(rules or ONLY_POSTS, silent=ONLY_POSTS.silent, dropout=ONLY_POSTS.dropout)
    replayer = Replayer(lambda course: rules)
    for event in sorted(events, key=lambda e: e.occurred_at):
        replayer.feed(event)
    return replayer.finish(T0.timestamp() + until_h * HOUR)


def fired(alerts, rule=None):
    return [
        (a.rule, a.subject_id, a.fired_at)
        for a in alerts
        if a.action == "fire" and (rule is None or a.rule == rule)
    ]


def test_unanswered_thread_warns_breaches_and_escalates_at_their_times():
    alerts = run([thread(0, "ann", "t1")], until_h=100)
    assert fired(alerts) == [
        ("unanswered_post.warning", "t1", at(18)),
        ("unanswered_post", "t1", at(24)),
        ("unanswered_post.escalation", "t1", at(48)),
    ]
    # the warning is superseded by the breach: one open alert per rule, never two
    resolved = [a for a in alerts if a.action == "resolve"]
    assert [(a.rule, a.fired_at) for a in resolved] == [("unanswered_post.warning", at(24))]
    assert alerts[-1].details["escalate"] is True and alerts[-1].severity == "urgent"


def test_reply_from_someone_else_resolves_and_self_reply_or_vote_does_not():
    alerts = run(
        [
            thread(0, "ann", "t1"),
            response(2, "ann", "r0", "t1"),  # self-reply
            vote(3, "bob", "t1"),
            response(30, "bob", "r1", "t1"),
        ]
    )
    assert fired(alerts, "unanswered_post")[0] == ("unanswered_post", "t1", at(24))
    resolves = [(a.rule, a.fired_at, a.reasons) for a in alerts if a.action == "resolve"]
    assert ("unanswered_post", at(30), ("a reply arrived",)) in resolves
    assert [s for _, s, _ in fired(alerts, "unanswered_post.escalation")] == ["r1"]


def test_question_sla_is_shorter_and_staff_threads_are_not_watched():
    alerts = run([thread(0, "ann", "q1", question=True), thread(0, "tina", "s1", role=Role.STAFF)])
    assert fired(alerts, "unanswered_post") == [("unanswered_post", "q1", at(12))]


def test_only_staff_replies_count_when_configured():
    rules = CourseRules(unanswered=UnansweredConfig(replies_from="staff", escalate_after=None))
    alerts = run(
        [
            thread(0, "ann", "t1"),
            response(5, "bob", "r1", "t1"),
            comment(30, "tina", "c1", "t1", "r1", role=Role.TUTOR),
        ],
        rules,
    )
    # bob's reply does not count for ann's thread (bob's own first post is watched too)
    assert fired(alerts, "unanswered_post") == [
        ("unanswered_post", "t1", at(24)),
        ("unanswered_post", "r1", at(29)),
    ]
    assert {a.subject_id for a in alerts if a.action == "resolve" and a.fired_at == at(30)} == {
        "t1",
        "r1",
    }


def test_first_post_that_is_a_response_is_watched_later_ones_are_not():
    alerts = run(
        [
            thread(0, "tina", "welcome", role=Role.STAFF),
            response(1, "ann", "r1", "welcome"),  # ann's first post
            response(2, "ann", "r2", "welcome"),  # not first
        ],
        until_h=30,
    )
    assert [s for _, s, _ in fired(alerts, "unanswered_post")] == ["r1"]


def test_deleting_the_post_resolves_and_reply_after_deadline_keeps_history():
    alerts = run([thread(0, "ann", "t1"), deleted(30, "ann", "t1")])
    assert [(a.rule, a.action, a.fired_at) for a in alerts][-1] == (
        "unanswered_post",
        "resolve",
        at(30),
    )


def test_alert_id_is_deterministic_and_episode_is_the_post():
    a1 = run([thread(0, "ann", "t1")])
    a2 = run([thread(0, "ann", "t1")])
    assert [a.alert_id for a in a1] == [a.alert_id for a in a2]


def test_business_hours_pause_the_clock_over_the_weekend():
    calendar = BusinessCalendar(
        enabled=True,
        timezone="Europe/London",
        start=time(9),
        end=time(17),
        holidays=frozenset({date(2024, 1, 15)}),
    )
    rules = CourseRules(
        calendar=calendar,
        unanswered=replace(
            UnansweredConfig(), business_hours=True, warn_at=None, escalate_after=None, sla=8 * HOUR
        ),
    )
    # Friday 2024-01-12 16:00 UTC = 16:00 London: 1 h left Friday, Monday is a holiday,
    # so the remaining 7 h run Tuesday 09:00-16:00.
    alerts = run([thread(4 * 24 + 16, "ann", "t1")], rules, until_h=24 * 14)
    assert fired(alerts) == [("unanswered_post", "t1", at(8 * 24 + 16))]
