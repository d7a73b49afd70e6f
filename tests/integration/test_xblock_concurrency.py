"""Fifty learners post to one Discussion block at the same moment: no post is lost.

Each learner is a thread with its own database connection, as each LMS request is; they
wait at a barrier, then all post. On MariaDB (Debian's, from scripts/devservices.py) and
on SQLite, every post is a row of its own with its outbox row, and every learner sees all
of them. (The field store of runtimes without the plugin keeps one JSON value per block,
and loses posts here: docs/decisions/0001-xblock-storage.md has the measured figures.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial

import pytest
from xblock.runtime import DictKeyValueStore

from facilitation_rules.contract.codec import loads
from facilitation_xblocks.blocks import posts, publishing
from facilitation_xblocks.blocks.discussion import DiscussionXBlock
from facilitation_xblocks.outbox.emitter import EventEmitter
from tests.support import lms_django
from tests.unit.xblock_harness import call, make_block

pytestmark = [pytest.mark.integration, pytest.mark.lms]
WRITERS = 50


@pytest.fixture(params=["mariadb", "sqlite"])
def alias(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    lms_django.setup()
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox
    from facilitation_xblocks.plugin.post_store import DatabasePostStore

    using = "default" if request.param == "mariadb" else "sqlite"
    if request.param == "mariadb" and not lms_django.mariadb():
        pytest.fail("FACILITATION_TEST_MARIADB is not set: run with `make test`")
    lms_django.clear(using)
    emitter = EventEmitter(DatabaseOutbox(using=using), "events")  # rows wait: no sender
    monkeypatch.setattr(publishing, "emitter_for", lambda block: emitter)
    monkeypatch.setattr(posts, "_factory", partial(DatabasePostStore, using=using))
    yield using
    lms_django.clear(using)


def test_fifty_simultaneous_posts_to_one_block_are_all_kept(alias: str) -> None:
    from django.db import connections

    from facilitation_xblocks.plugin.models import OutboxEvent, Post

    kvs = DictKeyValueStore()
    opening = call(make_block(DiscussionXBlock, kvs, "1"), "post_thread",
                   {"title": "Week 1", "body": "Introduce yourselves."})
    thread_id = opening["post_id"]
    barrier = threading.Barrier(WRITERS)
    replies: list[dict[str, object]] = []
    errors: list[BaseException] = []

    def learner(n: int) -> None:
        try:
            block = make_block(DiscussionXBlock, kvs, str(100 + n))
            barrier.wait(30)
            if n % 2:
                replies.append(call(block, "post_reply",
                                    {"thread_id": thread_id, "body": f"Hello from {n}"}))
            else:
                replies.append(call(block, "post_thread",
                                    {"title": f"Question {n}", "body": f"From learner {n}"}))
        except BaseException as err:  # reported below, with the others
            errors.append(err)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=learner, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert all(r["ok"] for r in replies) and len(replies) == WRITERS
    stored = Post.objects.using(alias)
    assert stored.count() == WRITERS + 1  # lost: 0
    event_ids = set(stored.values_list("event_id", flat=True))
    queued = {loads(v).event_id for v in OutboxEvent.objects.using(alias)
              .values_list("value", flat=True)}
    assert queued == event_ids  # each post's event queued with it
    view = call(make_block(DiscussionXBlock, kvs, "2"), "refresh", {})["threads"]
    assert len(view) == 1 + WRITERS // 2
    assert len(view[0]["responses"]) == WRITERS // 2
