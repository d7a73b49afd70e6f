"""Discussion XBlock in a test runtime: posts, replies, roles, events, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from xblock.runtime import DictKeyValueStore

from facilitation_rules.contract.codec import to_dict
from facilitation_rules.contract.events import PostCreated, Role
from facilitation_xblocks.blocks.discussion import DiscussionXBlock
from facilitation_xblocks.blocks.validation import MAX_BODY_CHARS
from tests.unit.xblock_harness import COURSE_ID, call, emitter, kvs, make_block, store, stored

pytestmark = pytest.mark.lms

__all__ = ["emitter", "kvs", "store"]  # the harness's fixtures


def block_for(kvs: DictKeyValueStore, user_id: str, **kw: Any) -> DiscussionXBlock:
    return make_block(DiscussionXBlock, kvs, user_id, fields={"tutors": ["77"]}, **kw)


def test_thread_reply_comment_emit_contract_events(kvs, emitter) -> None:
    # A block instance per request, as in the LMS (instances cache field values).
    alice, bob = block_for(kvs, "1"), block_for(kvs, "2")
    posted = call(
        alice, "post_thread", {"title": "Why?", "body": "Why is the sky blue?", "question": True}
    )
    assert posted["ok"]
    thread_id = posted["post_id"]
    replied = call(bob, "post_reply", {"thread_id": thread_id, "body": "Rayleigh scattering."})
    assert replied["ok"]
    commented = call(
        block_for(kvs, "1"),
        "post_reply",
        {"thread_id": thread_id, "response_id": replied["post_id"], "body": "Thanks!"},
    )
    assert commented["ok"]

    thread, response, comment = emitter.events
    assert all(isinstance(e, PostCreated) for e in emitter.events)
    assert (thread.post_kind, thread.thread_type, thread.parent_post_id) == (
        "thread",
        "question",
        None,
    )
    assert (thread.thread_id, thread.post_id, thread.title) == (thread_id, thread_id, "Why?")
    assert (response.post_kind, response.parent_post_id, response.thread_id) == (
        "response",
        thread_id,
        thread_id,
    )
    assert (comment.post_kind, comment.parent_post_id) == ("comment", replied["post_id"])
    assert thread.actor.user_id == "1" and response.actor.user_id == "2"
    assert {e.course_id for e in emitter.events} == {COURSE_ID}
    assert len({e.event_id for e in emitter.events}) == 3
    assert thread.word_count == 5
    # The same event went to the tracking log through runtime.publish.
    assert alice.runtime.published[0] == (thread.event_type, to_dict(thread))
    assert bob.runtime.published[0] == (response.event_type, to_dict(response))
    # Everyone sees the whole tree (the list is shared, user_state_summary).
    view = call(block_for(kvs, "2"), "refresh", {})["threads"]
    assert view[0]["responses"][0]["comments"][0]["body"] == "Thanks!"
    assert view[0]["author"] == {"name": "user1", "role": "learner", "role_label": ""}
    # The stored post remembers the event id chosen for it.
    assert stored(block_for(kvs, "3"))[0].event_id == thread.event_id


def test_staff_and_tutor_posts_are_marked(kvs, emitter) -> None:
    first = call(block_for(kvs, "1"), "post_thread", {"title": "T", "body": "b"})
    call(
        block_for(kvs, "9", staff=True),
        "post_reply",
        {"thread_id": first["post_id"], "body": "staff answer"},
    )
    reply = call(
        block_for(kvs, "77"), "post_reply", {"thread_id": first["post_id"], "body": "tutor answer"}
    )
    assert [e.actor.role for e in emitter.events] == [Role.LEARNER, Role.STAFF, Role.TUTOR]
    labels = [
        (r["author"]["role"], r["author"]["role_label"]) for r in reply["threads"][0]["responses"]
    ]
    assert labels == [("staff", "Staff"), ("tutor", "Tutor")]


@pytest.mark.parametrize(
    ("attrs", "role"),
    [
        ({"edx-platform.user_role": "instructor"}, Role.STAFF),
        ({"edx-platform.user_role": "staff"}, Role.STAFF),
        ({"edx-platform.user_role": "student"}, Role.LEARNER),
        ({"edx-platform.username": "77"}, Role.TUTOR),  # tutors may be listed by username
    ],
)
def test_roles_from_the_lms_user_service(kvs, emitter, attrs, role) -> None:
    block = block_for(kvs, "5")
    block.runtime.service(block, "user").get_current_user().opt_attrs.update(attrs)
    assert call(block, "post_thread", {"title": "T", "body": "b"})["ok"]
    assert emitter.events[0].actor.role is role


BAD = [
    ({"title": "T", "body": ""}, "empty"),
    ({"title": "T", "body": "   \n\t "}, "empty"),
    ({"title": "", "body": "text"}, "empty"),
    ({"title": "T", "body": "x" * (MAX_BODY_CHARS + 1)}, "too long"),
    ({"title": "T", "body": 42}, "expected text"),
    ({"title": "T", "body": "ok", "question": "yes"}, "true or false"),
]


@pytest.mark.parametrize(("payload", "message"), BAD)
def test_bad_posts_are_refused_and_nothing_is_stored(kvs, emitter, payload, message) -> None:
    block = block_for(kvs, "1")
    reply = call(block, "post_thread", payload)
    assert not reply["ok"] and message in reply["error"]
    assert stored(block) == [] and emitter.events == [] and block.runtime.published == []


def test_lone_surrogates_are_refused(kvs, emitter) -> None:
    block = block_for(kvs, "1")
    raw = b'{"title": "T", "body": "broken \\ud800 text"}'
    reply = call(block, "post_thread", None, raw=raw)
    assert not reply["ok"] and "not valid text" in reply["error"]
    assert stored(block) == [] and emitter.events == []


def test_reply_to_unknown_thread_is_refused(kvs, emitter) -> None:
    block = block_for(kvs, "1")
    call(block, "post_thread", {"title": "T", "body": "b"})
    before = stored(block)
    for payload in (
        {"thread_id": "nope", "body": "x"},
        {"thread_id": before[0].post_id, "response_id": "nope", "body": "x"},
        {"thread_id": before[0].post_id, "body": ""},
    ):
        reply = call(block, "post_reply", payload)
        assert not reply["ok"], payload
    assert stored(block) == before and len(emitter.events) == 1


def test_html_is_stored_as_text_and_never_in_markup(kvs, emitter) -> None:
    block = block_for(kvs, "1")
    body = '</script><script>alert("x")</script><b>bold</b> & more'
    call(block, "post_thread", {"title": "<i>t</i>", "body": body})
    assert stored(block)[0].body == body  # stored exactly as typed
    frag = block.student_view()
    assert "<script>alert" not in frag.body_html()
    # Runtimes write init args into a <script> element: no "<" may appear there.
    dumped = json.dumps(frag.json_init_args)
    assert "<" not in dumped and ">" not in dumped
    state = json.loads(frag.json_init_args["state"])
    assert state["threads"][0]["body"] == body


def test_student_view_has_labelled_controls_and_a_live_region(kvs, emitter) -> None:
    html = block_for(kvs, "1").student_view().body_html()
    for control_id in ("title", "body", "question"):
        assert html.count(f'for="fx-{control_id}') == 0  # ids are prefixed per block
    assert 'role="status" aria-live="polite"' in html
    assert html.count("<label for=") == 3
    assert "<legend>" in html


def test_anonymous_visitors_cannot_post(kvs, emitter) -> None:
    block = make_block(DiscussionXBlock, kvs, None)  # type: ignore[arg-type]
    block.runtime.service(block, "user").get_current_user().opt_attrs.clear()
    reply = call(block, "post_thread", {"title": "T", "body": "b"})
    assert not reply["ok"] and "sign in" in reply["error"]


def test_workbench_scenario_is_shipped() -> None:
    ((title, xml),) = DiscussionXBlock.workbench_scenarios()
    assert "facilitation_discussion" in xml and title
