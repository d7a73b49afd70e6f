"""Where a block's posts live: one stored row per post, or the block's own field.

In the LMS (and in any Django project with the plugin app) each post is a row of the
plugin's ``Post`` table, stored in the transaction of its outbox row: posts written to one
block at the same moment are all kept, and a block has no size limit (the plugin registers
its ``DatabasePostStore`` when Django is ready). Elsewhere (the stock xblock-sdk workbench)
a block keeps its posts in one ``user_state_summary`` value, as before: zero setup, but one
of two simultaneous writers loses (docs/decisions/0001-xblock-storage.md). The blocks'
old field values are still read by the row store, and moved into rows on the next write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from facilitation_rules.contract.events import Event
from facilitation_xblocks.blocks import publishing

Kind = Literal["thread", "response", "comment", "reflection", "reflection_comment"]


@dataclass(frozen=True, slots=True)
class Post:
    """One post; ``thread_id`` is its thread (a shared reflection for its comments, itself
    for a thread or a shared reflection), ``parent_id`` what it replies to ("" for none)."""

    post_id: str
    kind: Kind
    thread_id: str
    parent_id: str
    author: dict[str, str]  # id, name, role
    body: str
    created: str
    event_id: str
    title: str = ""
    question: bool = False
    updated: str = ""
    retired: bool = False


class StoreFull(Exception):
    """The block's field holds all it can (the field store only)."""


@dataclass(frozen=True, slots=True)
class LegacyField:
    """A block's posts as one field value: its name, how to read it as posts, and how to
    add a post to it (raising ``StoreFull`` at its limit)."""

    name: str
    read: Callable[[Any], list[Post]]
    add: Callable[[Any, Post], Any]
    empty: Callable[[], Any]


class PostStore(Protocol):
    def posts(self) -> list[Post]:
        """All posts of the block, in the order they were written."""
        ...

    def add(self, post: Post | None, event: Event) -> None:
        """Keep ``post`` (a shared reflection again: its new text) and queue ``event`` for
        Kafka, together where the store can; raise ``StoreFull``, or a storage error."""
        ...


class FieldPostStore:
    def __init__(self, block: Any, legacy: LegacyField) -> None:
        self.block = block
        self.legacy = legacy

    def posts(self) -> list[Post]:
        return self.legacy.read(getattr(self.block, self.legacy.name))

    def add(self, post: Post | None, event: Event) -> None:
        if post is not None:
            value = self.legacy.add(getattr(self.block, self.legacy.name), post)
            setattr(self.block, self.legacy.name, value)  # the one mutation, saved whole
            self.block.save()
        publishing.emitter_for(self.block).emit(event)


StoreFactory = Callable[[Any, LegacyField], PostStore]
_factory: StoreFactory = FieldPostStore


def use_store(factory: StoreFactory) -> None:
    """Called by the plugin app when Django is ready."""
    global _factory
    _factory = factory


def store_for(block: Any, legacy: LegacyField) -> PostStore:
    return _factory(block, legacy)
