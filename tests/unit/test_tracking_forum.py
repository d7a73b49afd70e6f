"""Forum tracking-log records -> contract events: posts, threads, votes, views, deletions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from facilitation_rules.contract.events import PostCreated, PostDeleted, PostViewed, PostVoted, Role
from facilitation_rules.openedx_logs.translate import translate
from tests.unit.tracking_records import COURSE, one, processed, server


def test_thread_created_by_a_learner() -> None:
    event = one(
        server(
            "edx.forum.thread.created",
            {
                "id": "T1",
                "thread_type": "question",
                "title": "How do I <b>start</b>?",
                "body": "<p>Stuck on 1 &amp; 2.</p>",
                "url": "https://lms/x",
                "user_forums_roles": ["Student"],
                "user_course_roles": [],
            },
        )
    )
    assert isinstance(event, PostCreated)
    assert (event.post_id, event.thread_id, event.parent_post_id) == ("T1", "T1", None)
    assert (event.post_kind, event.thread_type) == ("thread", "question")
    assert event.title == "How do I start ?"
    assert event.body_excerpt == "Stuck on 1 & 2."
    assert event.word_count == 5
    assert event.actor.user_id == "101" and event.actor.role is Role.LEARNER
    assert event.actor.username == "ana"
    assert event.course_id == COURSE
    assert event.occurred_at == datetime(2024, 3, 4, 9, 0, 0, 250000, tzinfo=UTC)
    assert event.url == "https://lms/x" and not event.anonymous


def test_response_finds_its_thread_through_discussion_id() -> None:
    event = one(server("edx.forum.response.created", {"id": "R1", "discussion": {"id": "T1"}}))
    assert (event.post_kind, event.post_id, event.thread_id) == ("response", "R1", "T1")
    assert event.parent_post_id == "T1"


def test_comment_finds_thread_and_parent_response() -> None:
    event = one(
        processed(
            "edx.forum.comment.created",
            {
                "id": "C1",
                "discussion": {"id": "T1"},
                "response": {"id": "R1"},
                "body": "ok",
            },
        )
    )
    assert (event.post_kind, event.thread_id, event.parent_post_id) == ("comment", "T1", "R1")


def test_event_given_as_a_json_string_is_read() -> None:
    record = server(
        "edx.forum.response.created",
        json.dumps(
            {
                "id": "R1",
                "discussion": {"id": "T1"},
                "body": "hi",
            }
        ),
    )
    assert one(record).thread_id == "T1"


@pytest.mark.parametrize(
    ("forum_roles", "course_roles", "role"),
    [
        (["Student"], [], Role.LEARNER),
        (["Community TA"], [], Role.TUTOR),
        (["Student", "Group Moderator"], [], Role.TUTOR),
        (["Moderator"], [], Role.STAFF),
        (["Administrator"], [], Role.STAFF),
        (["Student"], ["instructor"], Role.STAFF),
        (["Student"], ["staff"], Role.STAFF),
        (["Community TA"], ["staff"], Role.TUTOR),  # the tutor role wins
        (["Student"], ["beta_testers"], Role.LEARNER),
        ([], [], Role.LEARNER),
    ],
)
def test_roles_come_from_forum_and_course_roles(
    forum_roles: list[str], course_roles: list[str], role: Role
) -> None:
    event = one(
        server(
            "edx.forum.thread.created",
            {
                "id": "T1",
                "user_forums_roles": forum_roles,
                "user_course_roles": course_roles,
            },
        )
    )
    assert event.actor.role is role


@pytest.mark.parametrize("flag", ["anonymous", "anonymous_to_peers"])
def test_anonymous_posts_keep_their_author_for_the_engine(flag: str) -> None:
    event = one(server("edx.forum.thread.created", {"id": "T1", flag: True}))
    assert event.anonymous and event.actor.user_id == "101"


def test_long_bodies_are_cut_to_an_excerpt_and_counted_whole() -> None:
    body = " ".join(["word"] * 300)
    event = one(server("edx.forum.thread.created", {"id": "T1", "title": "t" * 1000, "body": body}))
    assert len(event.body_excerpt) <= 500 and len(event.title) <= 500
    assert event.word_count == 300


def test_votes_and_deletions_of_replies_find_the_thread_seen_earlier() -> None:
    threads: dict[str, str] = {}
    one(server("edx.forum.response.created", {"id": "R1", "discussion": {"id": "T1"}}), threads)
    one(
        server(
            "edx.forum.comment.created",
            {"id": "C1", "discussion": {"id": "T1"}, "response": {"id": "R1"}},
        ),
        threads,
    )
    vote = one(server("edx.forum.response.voted", {"id": "R1", "undo_vote": True}), threads)
    assert isinstance(vote, PostVoted)
    assert (vote.thread_id, vote.post_kind, vote.undo) == ("T1", "response", True)
    gone = one(server("edx.forum.comment.deleted", {"id": "C1"}), threads)
    assert isinstance(gone, PostDeleted)
    assert (gone.thread_id, gone.post_kind) == ("T1", "comment")


def test_reply_votes_without_a_known_thread_have_an_empty_thread_id() -> None:
    assert one(server("edx.forum.response.voted", {"id": "R9"})).thread_id == ""


def test_thread_viewed_voted_deleted() -> None:
    viewed = one(server("edx.forum.thread.viewed", {"id": "T1"}))
    assert isinstance(viewed, PostViewed) and viewed.thread_id == "T1"
    voted = one(server("edx.forum.thread.voted", {"id": "T1", "undo_vote": False}))
    assert isinstance(voted, PostVoted) and (voted.thread_id, voted.undo) == ("T1", False)
    deleted = one(server("edx.forum.thread.deleted", {"id": "T1"}))
    assert isinstance(deleted, PostDeleted) and deleted.post_kind == "thread"


@pytest.mark.parametrize(
    "name", ["edx.forum.thread.edited", "edx.forum.comment.reported", "edx.forum.searched"]
)
def test_known_forum_events_without_meaning_for_rules_give_nothing(name: str) -> None:
    assert translate(server(name, {"id": "T1"})) == []
