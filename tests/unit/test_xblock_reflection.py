"""Reflection XBlock in a test runtime: private, shared, comments, due date, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from xblock.runtime import DictKeyValueStore

from facilitation_rules.contract.codec import to_dict
from facilitation_rules.contract.events import ReflectionCommented, ReflectionSubmitted, Role
from facilitation_xblocks.blocks.reflection import ReflectionXBlock
from facilitation_xblocks.blocks.validation import MAX_BODY_CHARS
from tests.unit.xblock_harness import (
    COURSE_ID,
    COURSE_USAGE,
    call,
    emitter,
    kvs,
    make_block,
    store,
    stored,
)

pytestmark = pytest.mark.lms

__all__ = ["emitter", "kvs", "store"]  # the harness's fixtures


def block_for(kvs: DictKeyValueStore, user_id: str, **kw) -> ReflectionXBlock:
    return make_block(ReflectionXBlock, kvs, user_id, fields={"tutors": ["77"]}, **kw)


def test_private_reflection_stays_private(kvs, emitter) -> None:
    reply = call(block_for(kvs, "1"), "submit", {"text": "I learned a lot about waves."})
    assert reply["ok"] and reply["mine"]["shared"] is False
    assert call(block_for(kvs, "2"), "refresh", {})["community"] == []
    (event,) = emitter.events
    assert isinstance(event, ReflectionSubmitted)
    assert (event.shared, event.word_count, event.body_excerpt) == (False, 6, "")
    assert (event.prompt_id, event.course_id) == (str(COURSE_USAGE), COURSE_ID)


def test_share_then_peer_and_tutor_comment(kvs, emitter) -> None:
    first = call(block_for(kvs, "1"), "submit", {"text": "Draft thoughts."})
    shared = call(block_for(kvs, "1"), "share", {})
    assert shared["ok"] and shared["mine"]["shared"]
    rid = first["reflection_id"]
    assert shared["reflection_id"] == rid
    peer = call(block_for(kvs, "2"), "comment", {"reflection_id": rid, "body": "Nice!"})
    tutor = call(block_for(kvs, "77"), "comment", {"reflection_id": rid, "body": "Go on."})
    assert peer["ok"] and tutor["ok"]
    submitted, shared_event, peer_event, tutor_event = emitter.events
    assert (submitted.shared, shared_event.shared) == (False, True)
    assert submitted.reflection_id == shared_event.reflection_id == rid
    assert submitted.event_id != shared_event.event_id
    assert shared_event.body_excerpt == "Draft thoughts."
    assert isinstance(peer_event, ReflectionCommented)
    assert (peer_event.reflection_author_id, peer_event.actor.user_id) == ("1", "2")
    assert tutor_event.actor.role is Role.TUTOR
    # What a learner writes is keyed by the learner; a tutor's comment by the reflection.
    assert peer_event.partition_key() == f"L|{peer_event.course_id}|2"
    assert tutor_event.partition_key() == f"R|{tutor_event.course_id}|{rid}"
    community = tutor["community"]
    assert [c["author"]["role_label"] for c in community[0]["comments"]] == ["", "Tutor"]
    assert block_for(kvs, "1").runtime.published == []  # fresh runtime, nothing yet
    # Resubmitting keeps it shared and updates the text peers see.
    again = call(block_for(kvs, "1"), "submit", {"text": "Better thoughts."})
    assert again["community"][0]["body"] == "Better thoughts."
    assert emitter.events[-1].shared is True


def test_submit_and_share_in_one_step(kvs, emitter) -> None:
    block = block_for(kvs, "1")
    reply = call(block, "submit", {"text": "Shared at once.", "share": True})
    assert reply["mine"]["shared"] and reply["community"][0]["mine"]
    assert block.runtime.published == [(emitter.events[0].event_type, to_dict(emitter.events[0]))]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"text": ""}, "empty"),
        ({"text": "x" * (MAX_BODY_CHARS + 1)}, "too long"),
        ({"text": "ok", "share": "please"}, "true or false"),
        ({"text": None}, "expected text"),
    ],
)
def test_bad_reflections_store_nothing(kvs, emitter, payload, message) -> None:
    block = block_for(kvs, "1")
    reply = call(block, "submit", payload)
    assert not reply["ok"] and message in reply["error"]
    assert block.reflection == {} and stored(block) == [] and emitter.events == []


def test_lone_surrogate_and_unknown_reflection(kvs, emitter) -> None:
    reply = call(block_for(kvs, "1"), "submit", None, raw=b'{"text": "a\\udfffb"}')
    assert not reply["ok"] and "not valid text" in reply["error"]
    reply = call(block_for(kvs, "1"), "comment", {"reflection_id": "x", "body": "hi"})
    assert not reply["ok"] and "no longer exists" in reply["error"]
    reply = call(block_for(kvs, "1"), "share", {})
    assert not reply["ok"] and "first" in reply["error"]
    assert emitter.events == []


def test_due_date_closes_submissions_not_comments(kvs, emitter) -> None:
    call(block_for(kvs, "1"), "submit", {"text": "On time.", "share": True})
    past = datetime.now(UTC) - timedelta(days=1)
    late = make_block(ReflectionXBlock, kvs, "2", fields={"due_date": past})
    reply = call(late, "submit", {"text": "Too late."})
    assert not reply["ok"] and "due date" in reply["error"]
    rid = json.loads(late.student_view().json_init_args["state"])["community"][0]["id"]
    assert call(late, "comment", {"reflection_id": rid, "body": "ok"})["ok"]
    assert json.loads(late.student_view().json_init_args["state"])["closed"] is True


def test_shared_text_never_reaches_markup(kvs, emitter) -> None:
    call(
        block_for(kvs, "1"),
        "submit",
        {"text": "</script><img src=x onerror=alert(1)>", "share": True},
    )
    frag = block_for(kvs, "2").student_view()
    assert "<img" not in frag.body_html() and "<" not in json.dumps(frag.json_init_args)
