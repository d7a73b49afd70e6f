"""Properties of the engine (hypothesis): idempotent, resolving, on time, order-robust."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitation_rules.contract.events import PostCreated, Role
from facilitation_rules.engine.replay import Replayer, sorted_alerts
from facilitation_rules.engine.subjects import learner_key, route
from facilitation_rules.packs.config import DAY
from facilitation_rules.packs.loader import load_pack
from tests.unit.event_factory import T0, activity, comment, deleted, response, thread, vote

# Dropout compares a learner with the course average (a cross-subject aggregate), so it is
# left out of the ordering properties; every other rule is on, with the shipped defaults.
RULES = replace(load_pack().rules, dropout=replace(load_pack().rules.dropout, enabled=False))
LEARNERS = ("ann", "bob", "cat", "dan")
UNTIL = T0.timestamp() + 40 * DAY
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw):
    """A small forum: threads, replies by authors, peers and tutors, votes, deletions."""
    events = []
    posts: list[tuple[str, str]] = []  # (post id, thread id)
    hour = 0
    for i in range(draw(st.integers(1, 25))):
        hour += draw(st.integers(0, 40))  # replies come after what they reply to
        user = draw(st.sampled_from((*LEARNERS, "tutor")))
        role = Role.TUTOR if user == "tutor" else Role.LEARNER
        kind = draw(
            st.sampled_from(("thread", "response", "comment", "vote", "activity", "delete"))
        )
        if kind == "thread" or not posts:
            pid = f"t{i}"
            events.append(thread(hour, user, pid, role=role, question=draw(st.booleans())))
            posts.append((pid, pid))
        elif kind == "response":
            tid = draw(st.sampled_from([t for p, t in posts if p == t]))
            events.append(response(hour, user, f"r{i}", tid, role=role))
            posts.append((f"r{i}", tid))
        elif kind == "comment":
            pid, tid = draw(st.sampled_from(posts))
            events.append(comment(hour, user, f"c{i}", tid, pid, role=role))
        elif kind == "vote":
            events.append(vote(hour, user, draw(st.sampled_from(posts))[0]))
        elif kind == "activity" and role is Role.LEARNER:
            events.append(activity(hour, user))
        elif kind == "delete":
            events.append(deleted(hour, user, draw(st.sampled_from(posts))[0]))
    return sorted(events, key=lambda e: e.occurred_at)


def replay(events, *, chunks=(), global_clock=True):
    replayer = Replayer(lambda course: RULES, global_clock=global_clock)
    cut = set(chunks)
    for i, event in enumerate(events):
        if i in cut:  # a pause between chunks: the clock moves up to this event
            replayer.advance(event.occurred_at.timestamp() - 1)
        replayer.feed(event)
    return replayer.finish(UNTIL)


def keyset(alerts):
    return [(a.alert_id, a.action, a.fired_at) for a in alerts]


@PROPS
@given(scenarios())
def test_replaying_twice_or_redelivered_never_duplicates_an_alert(events):
    once = replay(events)
    assert keyset(replay(events)) == keyset(once)
    redelivered = replay(sorted(events + events, key=lambda e: e.occurred_at))
    seen = keyset(redelivered)
    assert len(seen) == len(set(seen))
    open_ids: set[str] = set()
    for a in redelivered:  # one open alert per rule and subject, fire/resolve alternate
        if a.action == "fire":
            assert a.alert_id not in open_ids
            open_ids.add(a.alert_id)
        else:
            assert a.alert_id in open_ids
            open_ids.remove(a.alert_id)


@PROPS
@given(scenarios())
def test_a_reply_always_resolves_and_nothing_fires_after_it(events):
    alerts = replay(events)
    authors = {e.post_id: e.actor.user_id for e in events if isinstance(e, PostCreated)}
    first_reply: dict[str, float] = {}
    for e in events:
        if isinstance(e, PostCreated) and e.post_kind != "thread":
            for target in {e.thread_id, e.parent_post_id}:
                if target and authors.get(target) not in (None, e.actor.user_id):
                    first_reply.setdefault(target, e.occurred_at.timestamp())
    for post_id, replied in first_reply.items():
        about = [a for a in alerts if a.subject_type == "post" and a.subject_id == post_id]
        opened = {a.alert_id for a in about if a.action == "fire"}
        closed = {a.alert_id for a in about if a.action == "resolve"}
        assert opened <= closed
        assert all(a.fired_at.timestamp() <= replied for a in about if a.action == "fire")


@PROPS
@given(scenarios())
def test_no_alert_fires_before_its_deadline(events):
    created = {e.post_id: e.occurred_at for e in events if isinstance(e, PostCreated)}
    activity_times: dict[str, list[float]] = {}
    for e in events:
        if e.actor.role is Role.LEARNER:
            activity_times.setdefault(e.actor.user_id, []).append(e.occurred_at.timestamp())
    for a in replay(events):
        if a.action != "fire":
            continue
        if a.subject_type == "post":
            cfg = RULES.unanswered
            sla = (
                cfg.question_sla
                if a.details["thread_type"] == "question" and a.details["post_kind"] == "thread"
                else cfg.sla
            )
            least = {
                "unanswered_post.warning": sla * cfg.warn_at,
                "unanswered_post": sla,
                "unanswered_post.escalation": sla + cfg.escalate_after,
            }[a.rule]
            assert a.fired_at >= created[a.subject_id] + timedelta(seconds=least)
        elif a.rule == "silent_learner.went_quiet":
            quiet = RULES.silent.went_quiet_days * DAY
            t = a.fired_at.timestamp()
            # a deadline due at an event's time fires before that event (replay's contract):
            # activity at the very second the silence reaches N days comes after the alert
            assert not [x for x in activity_times[a.subject_id] if t - quiet < x < t]
        elif a.rule == "silent_learner.never_posted":
            first = min(activity_times[a.subject_id])
            assert a.fired_at.timestamp() >= first + RULES.silent.never_posted_days * DAY


@PROPS
@given(scenarios(), st.lists(st.integers(0, 30), max_size=5))
def test_feeding_in_chunks_gives_the_same_alerts(events, chunks):
    assert keyset(replay(events, chunks=chunks)) == keyset(replay(events))


def _subjects(event, authors):
    keys = {u.key for u in route(event)}
    if isinstance(event, PostCreated):
        for target in (event.thread_id, event.parent_post_id):
            if target in authors:  # the reply reaches the author's learner subject too
                keys.add(learner_key(event.course_id, authors[target]))
    return keys


@PROPS
@given(scenarios(), st.randoms(use_true_random=False))
def test_interleaving_subjects_differently_gives_the_same_alerts(events, rnd: random.Random):
    """Any order that keeps each subject's own updates in event-time order (as Kafka keeps
    each partition's) gives the alerts of the sorted order."""
    authors: dict[str, str] = {}
    keys = []
    for e in events:
        if isinstance(e, PostCreated):
            authors[e.post_id] = e.actor.user_id
        keys.append(_subjects(e, authors))
    pending = list(range(len(events)))
    order = []
    while pending:
        ready = [i for i in pending if not any(keys[j] & keys[i] for j in pending if j < i)]
        pick = rnd.choice(ready)
        order.append(pick)
        pending.remove(pick)
    shuffled = [events[i] for i in order]
    expected = keyset(sorted_alerts(replay(events, global_clock=False)))
    assert keyset(sorted_alerts(replay(shuffled, global_clock=False))) == expected
    assert keyset(replay(events)) == expected
