"""The XBlocks' posts as rows of the LMS database, each stored with its outbox row.

``add`` runs one transaction (a savepoint inside the LMS request's): the block's old field
posts moved into rows (once; a retired learner's scrubbed on the way), the new post
inserted (a shared reflection shared again: updated), and the event's outbox row. Two
learners posting to one block at once insert two rows: nothing is overwritten, and a
block has no size limit. When the operator keeps the outbox in a SQLite file instead
(``FACILITATION_OUTBOX = "sqlite"``), the event is queued there once the post committed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import IntegrityError, transaction

from facilitation_rules.contract.events import Event
from facilitation_xblocks.blocks import publishing
from facilitation_xblocks.blocks.identity import course_id, usage_id
from facilitation_xblocks.blocks.posts import LegacyField
from facilitation_xblocks.blocks.posts import Post as BlockPost
from facilitation_xblocks.outbox.emitter import EventEmitter
from facilitation_xblocks.outbox.rows import PendingRow
from facilitation_xblocks.plugin.models import Post, RetiredLearner

_FIELDS = ("post_id", "kind", "thread_id", "parent_id", "author_id", "author_name",
           "author_role", "title", "body", "question", "created", "updated", "event_id",
           "retired")


def as_block_post(row: dict[str, Any]) -> BlockPost:
    author = {"id": row["author_id"], "name": row["author_name"], "role": row["author_role"]}
    return BlockPost(post_id=row["post_id"], kind=row["kind"], thread_id=row["thread_id"],
                     parent_id=row["parent_id"], author=author, body=row["body"],
                     created=row["created"], event_id=row["event_id"], title=row["title"],
                     question=row["question"], updated=row["updated"], retired=row["retired"])


class DatabasePostStore:
    def __init__(self, block: Any, legacy: LegacyField, using: str = "default") -> None:
        self.block = block
        self.legacy = legacy
        self.usage_id = usage_id(block)
        self.using = using
        self.objects = Post.objects.using(using)

    def posts(self) -> list[BlockPost]:
        rows = [as_block_post(r) for r in self.objects.filter(usage_id=self.usage_id)
                .order_by("id").values(*_FIELDS)]
        stored = {p.post_id for p in rows}
        old = [p for p in self._legacy() if p.post_id not in stored]
        return old + rows

    def add(self, post: BlockPost | None, event: Event) -> None:
        emitter = publishing.emitter_for(self.block)
        same_database = (isinstance(emitter, EventEmitter)
                         and getattr(emitter.store, "using", None) == self.using)
        with transaction.atomic(using=self.using):
            self._move_legacy()
            if post is not None:
                self._keep(post)
            if same_database:
                assert isinstance(emitter, EventEmitter)
                emitter.store.append([PendingRow.of(emitter.topic, event)])
                transaction.on_commit(lambda: emitter.appended(event.event_type),
                                      using=self.using)
        if not same_database:
            emitter.emit(event)

    def _keep(self, post: BlockPost) -> None:
        values = self._row(post)
        if post.kind == "reflection":  # shared again: the same row, the new text
            try:
                with transaction.atomic(using=self.using):
                    self.objects.update_or_create(post_id=post.post_id, defaults=values)
            except IntegrityError:  # shared twice at the same moment: the last one wins
                self.objects.filter(post_id=post.post_id).update(**values)
            return
        self.objects.create(post_id=post.post_id, **values)

    def _row(self, post: BlockPost) -> dict[str, Any]:
        author = post.author
        return {"usage_id": self.usage_id, "course_id": course_id(self.block),
                "kind": post.kind, "thread_id": post.thread_id, "parent_id": post.parent_id,
                "author_id": author.get("id", ""), "author_name": author.get("name", ""),
                "author_role": author.get("role", "learner"), "title": post.title,
                "body": post.body, "question": post.question, "created": post.created,
                "updated": post.updated, "event_id": post.event_id, "retired": post.retired}

    def _legacy(self) -> list[BlockPost]:
        """The block's old field posts; a retired learner's without name and text."""
        old = self.legacy.read(getattr(self.block, self.legacy.name))
        authors = {p.author.get("id", "") for p in old}
        retired = set(RetiredLearner.objects.using(self.using).filter(user_id__in=authors)
                      .values_list("user_id", flat=True))
        if not retired:
            return old
        author = {"id": "", "name": "", "role": "learner"}
        return [dataclasses.replace(p, author=author, title="", body="", retired=True)
                if p.author.get("id") in retired else p for p in old]

    def _move_legacy(self) -> None:
        """Once per block: its old field posts become rows, and the field is emptied."""
        old = self._legacy()
        if not old:
            return
        self.objects.bulk_create([Post(post_id=p.post_id, **self._row(p)) for p in old],
                                 ignore_conflicts=True)  # a concurrent first write did it too
        setattr(self.block, self.legacy.name, self.legacy.empty())
        self.block.save()
