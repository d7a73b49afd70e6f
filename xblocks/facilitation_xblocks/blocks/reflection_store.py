"""A learner's reflection (private, per user) and the community's shared reflections.

Private text lives in a ``user_state`` field of the learner (only they write it). A shared
reflection is a post of the block's store (kind ``reflection``, id = the reflection's id;
sharing again updates its text), its comments posts of kind ``reflection_comment``.
Whether a reflection is shared is read from the store alone, so the two can never disagree.
Before the row store, shared reflections were one ``user_state_summary`` value (``shared``,
keyed by reflection id, with their comments); it is still read, and written where no row
store is installed.
"""

from __future__ import annotations

import copy
from typing import Any

from facilitation_xblocks.blocks.posts import LegacyField, Post, StoreFull

#: Only the field store has limits: the whole community list is one stored value.
MAX_COMMENTS_PER_REFLECTION = 200
MAX_SHARED_REFLECTIONS = 2_000

Shared = dict[str, dict[str, Any]]


def mine(reflection_id: str, text: str, submitted_at: str, event_id: str) -> dict[str, str]:
    return {"id": reflection_id, "text": text, "submitted_at": submitted_at,
            "event_id": event_id}


def shared(posts: list[Post]) -> dict[str, Post]:
    return {p.post_id: p for p in posts if p.kind == "reflection"}


def public_view(posts: list[Post], viewer_id: str, role_labels: dict[str, str],
                retired: dict[str, str]) -> list[dict[str, Any]]:
    """Shared reflections, oldest first, without user ids."""

    def author(p: Post) -> dict[str, str]:
        if p.retired:
            return {"name": retired["name"], "role": "learner", "role_label": ""}
        role = p.author.get("role", "learner")
        return {"name": p.author["name"], "role": role, "role_label": role_labels.get(role, "")}

    def body(p: Post) -> str:
        return retired["body"] if p.retired else p.body

    comments: dict[str, list[Post]] = {}
    for p in posts:
        if p.kind == "reflection_comment":
            comments.setdefault(p.thread_id, []).append(p)
    entries = sorted(shared(posts).values(), key=lambda p: p.created)
    return [
        {"id": p.post_id, "author": author(p), "body": body(p), "created": p.created,
         "mine": not p.retired and p.author["id"] == viewer_id,
         "comments": [{"id": c.post_id, "author": author(c), "body": body(c),
                       "created": c.created} for c in comments.get(p.post_id, [])]}
        for p in entries
    ]


# ------------------------------------------------------------ the old field value


def read_field(value: Shared) -> list[Post]:
    found: list[Post] = []
    for rid, entry in (value or {}).items():
        found.append(Post(post_id=rid, kind="reflection", thread_id=rid, parent_id="",
                          author=dict(entry["author"]), body=entry["text"],
                          created=entry["shared_at"], updated=entry.get("updated_at", ""),
                          event_id=""))
        found += [Post(post_id=c["id"], kind="reflection_comment", thread_id=rid,
                       parent_id=rid, author=dict(c["author"]), body=c["body"],
                       created=c["created"], event_id=c.get("event_id", ""))
                  for c in entry["comments"]]
    return found


def add_to_field(value: Shared, post: Post) -> Shared:
    """A new value with ``post`` (a shared reflection, new or again, or a comment)."""
    new = copy.deepcopy(value or {})
    if post.kind == "reflection":
        if post.post_id not in new and len(new) >= MAX_SHARED_REFLECTIONS:
            raise StoreFull()
        entry = new.get(post.post_id) or {"comments": [], "shared_at": post.created}
        entry.update(author=dict(post.author), text=post.body, updated_at=post.updated)
        new[post.post_id] = entry
        return new
    comments = new[post.thread_id]["comments"]
    if len(comments) >= MAX_COMMENTS_PER_REFLECTION:
        raise StoreFull()
    comments.append({"id": post.post_id, "event_id": post.event_id,
                     "author": dict(post.author), "body": post.body, "created": post.created})
    return new


LEGACY = LegacyField(name="shared", read=read_field, add=add_to_field, empty=dict)
