"""The row store of the XBlocks' posts in the test LMS database: no size limit, old field
data read and moved on the next write, a post and its event in one transaction, and
retirement (the LMS's signal scrubs the learner's posts and queues LearnerRetired)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from xblock.runtime import DictKeyValueStore

from facilitation_rules.contract.codec import loads
from facilitation_rules.contract.events import LearnerRetired
from facilitation_xblocks.blocks import posts, publishing
from facilitation_xblocks.blocks.discussion import DiscussionXBlock
from facilitation_xblocks.blocks.reflection import ReflectionXBlock
from facilitation_xblocks.outbox.emitter import EventEmitter
from tests.support import lms_django
from tests.unit.xblock_harness import COURSE_ID, COURSE_USAGE, call, make_block

pytestmark = pytest.mark.lms

OLD_THREADS = [{
    "id": "old-t", "event_id": "old-e1", "author": {"id": "7", "name": "seven", "role": "learner"},
    "title": "From before", "body": "An old question", "question": True,
    "created": "2025-01-01T00:00:00Z",
    "responses": [{"id": "old-r", "event_id": "old-e2",
                   "author": {"id": "8", "name": "eight", "role": "learner"},
                   "body": "An old answer", "created": "2025-01-01T01:00:00Z", "comments": []}],
}]


@pytest.fixture
def lms(monkeypatch: pytest.MonkeyPatch) -> Iterator[EventEmitter]:
    """Blocks on the row store; their events into the test LMS's database outbox."""
    lms_django.setup()
    from facilitation_xblocks.plugin import wiring
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox
    from facilitation_xblocks.plugin.post_store import DatabasePostStore

    lms_django.clear("default")
    emitter = EventEmitter(DatabaseOutbox(), "events")
    monkeypatch.setattr(publishing, "emitter_for", lambda block: emitter)
    monkeypatch.setattr(wiring, "lms_emitter", lambda: emitter)
    monkeypatch.setattr(posts, "_factory", DatabasePostStore)
    yield emitter
    lms_django.clear("default")


def queued() -> list[Any]:
    from facilitation_xblocks.plugin.models import OutboxEvent

    return [loads(v) for v in OutboxEvent.objects.order_by("id").values_list("value", flat=True)]


def discussion(kvs: DictKeyValueStore, user: str, **fields: Any) -> DiscussionXBlock:
    return make_block(DiscussionXBlock, kvs, user, fields=fields or None)


def test_a_block_takes_more_than_the_old_2000_posts(lms) -> None:
    from facilitation_xblocks.plugin.models import Post

    Post.objects.bulk_create([
        Post(post_id=f"t{n}", usage_id=str(COURSE_USAGE), course_id=COURSE_ID, kind="thread",
             thread_id=f"t{n}", author_id="1", author_name="one", title="t", body="b",
             created="2025-01-01T00:00:00Z", event_id=f"e{n}") for n in range(2_100)])
    reply = call(discussion(DictKeyValueStore(), "1"), "post_thread", {"title": "T", "body": "b"})
    assert reply["ok"] and len(reply["threads"]) == 2_101


def test_old_field_posts_are_read_then_moved_into_rows_on_the_next_write(lms) -> None:
    from facilitation_xblocks.plugin.models import Post

    kvs = DictKeyValueStore()
    shown = call(discussion(kvs, "2", threads=OLD_THREADS), "refresh", {})["threads"]
    assert [t["id"] for t in shown] == ["old-t"] and shown[0]["responses"][0]["id"] == "old-r"
    assert not Post.objects.exists()  # reading moves nothing
    reply = call(discussion(kvs, "2"), "post_reply", {"thread_id": "old-t", "body": "Still?"})
    assert reply["ok"]
    assert list(Post.objects.order_by("id").values_list("post_id", flat=True))[:2] == [
        "old-t", "old-r"]
    assert discussion(kvs, "3").threads == []  # the field is emptied once moved
    again = call(discussion(kvs, "3"), "refresh", {})["threads"]
    assert [r["body"] for r in again[0]["responses"]] == ["An old answer", "Still?"]
    assert [e.thread_id for e in queued()] == ["old-t"]  # only the new post's event


def test_a_post_whose_event_cannot_be_queued_is_not_kept(lms, monkeypatch) -> None:
    from django.db import DatabaseError

    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox
    from facilitation_xblocks.plugin.models import Post

    def broken(self: Any, rows: Any) -> None:
        raise DatabaseError("the outbox table is gone")

    monkeypatch.setattr(DatabaseOutbox, "append", broken)
    block = discussion(DictKeyValueStore(), "1")
    with pytest.raises(DatabaseError):
        block.handle("post_thread", _request({"title": "T", "body": "b"}))
    assert not Post.objects.exists() and block.runtime.published == []


def test_retirement_scrubs_the_learners_posts_and_queues_learner_retired(lms) -> None:
    from django.contrib.auth.models import User

    # Imported as edx-platform names it (tests/lms/platform is on the path).
    from openedx.core.djangoapps.user_api.accounts import signals

    from facilitation_xblocks.plugin.models import Post, RetiredLearner

    kvs = DictKeyValueStore()
    learner = User.objects.create(id=7, username="seven")
    posted = call(discussion(kvs, "7"), "post_thread", {"title": "Mine", "body": "My words"})
    call(discussion(kvs, "8"), "post_reply", {"thread_id": posted["post_id"], "body": "Hi 7"})
    reflection = make_block(ReflectionXBlock, kvs, "7")
    call(reflection, "submit", {"text": "My reflection", "share": True})
    old = discussion(DictKeyValueStore(), "9", threads=OLD_THREADS)  # an old block, by 7 too
    before = len(queued())

    signals.USER_RETIRE_LMS_MISC.send(sender=None, user=learner)
    signals.USER_RETIRE_LMS_CRITICAL.send(sender=None, user=learner, retired_username="r",
                                          retired_email="r@retired.invalid")

    assert RetiredLearner.objects.filter(user_id="7").exists()
    theirs = Post.objects.filter(retired=True)
    assert theirs.count() == 2 and not Post.objects.filter(author_id="7").exists()
    assert set(theirs.values_list("body", "title", "author_name").distinct()) == {("", "", "")}
    view = call(discussion(kvs, "8"), "refresh", {})["threads"]
    assert view[0]["author"]["name"] == "Former learner" and view[0]["title"] == ""
    assert "My words" not in str(view) and view[0]["responses"][0]["body"] == "Hi 7"
    community = call(make_block(ReflectionXBlock, kvs, "8"), "refresh", {})["community"]
    assert "My reflection" not in str(community)
    old_view = call(old, "refresh", {})["threads"]  # not moved yet: scrubbed on reading
    assert "An old question" not in str(old_view) and "seven" not in str(old_view)
    retired = [e for e in queued()[before:] if isinstance(e, LearnerRetired)]
    assert {(e.course_id, e.learner_id, e.actor.username) for e in retired} == {
        (COURSE_ID, "7", None)}
    # The second signal found nothing left (no enrollments in the test LMS); with the LMS's
    # enrollments it queues the same event ids again, which consumers drop.
    assert len(retired) == 1


def _request(payload: dict[str, Any]) -> Any:
    import json

    from webob import Request

    request = Request.blank("/", method="POST", body=json.dumps(payload).encode())
    request.content_type = "application/json"
    return request
