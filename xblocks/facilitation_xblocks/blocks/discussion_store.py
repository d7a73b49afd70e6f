"""A discussion's posts as threads: the page's view, and the block's old field value.

Posts come from the block's store (``posts``) in the order written; a thread's responses
point to it (``thread_id``), a comment to its response (``parent_id``). Before the row
store, a block kept every thread in its ``threads`` field (``user_state_summary``) as one
JSON value; that value is still read, and written where no row store is installed::

    [{"id", "author": {"id", "name", "role"}, "title", "body", "question", "created",
      "event_id", "responses": [{"id", "author", "body", "created", "event_id",
                                 "comments": [{"id", "author", "body", "created", "event_id"}]}]}]
"""

from __future__ import annotations

import copy
from typing import Any

from facilitation_xblocks.blocks.posts import LegacyField, Post, StoreFull

#: Only the field store has a limit: the whole list is one stored value.
MAX_POSTS_PER_FIELD = 2_000

Threads = list[dict[str, Any]]


def threads(posts: list[Post]) -> list[Post]:
    return [p for p in posts if p.kind == "thread"]


def responses(posts: list[Post], thread_id: str) -> list[Post]:
    return [p for p in posts if p.kind == "response" and p.thread_id == thread_id]


def public_view(posts: list[Post], role_labels: dict[str, str],
                retired: dict[str, str]) -> list[dict[str, Any]]:
    """What the page shows: no user ids, role as a translated label, text as stored;
    a retired learner's post keeps its place, without name or text (``retired`` labels)."""

    def item(p: Post) -> dict[str, Any]:
        if p.retired:
            author = {"name": retired["name"], "role": "learner", "role_label": ""}
            return {"id": p.post_id, "author": author, "body": retired["body"],
                    "created": p.created}
        role = p.author.get("role", "learner")
        author = {"name": p.author["name"], "role": role,
                  "role_label": role_labels.get(role, "")}
        return {"id": p.post_id, "author": author, "body": p.body, "created": p.created}

    comments: dict[str, list[Post]] = {}
    for p in posts:
        if p.kind == "comment":
            comments.setdefault(p.parent_id, []).append(p)
    return [
        {**item(t), "title": "" if t.retired else t.title, "question": t.question,
         "responses": [{**item(r), "comments": [item(c) for c in comments.get(r.post_id, [])]}
                       for r in responses(posts, t.post_id)]}
        for t in threads(posts)
    ]


# ------------------------------------------------------------ the old field value


def _post(raw: dict[str, Any], kind: str, thread_id: str, parent_id: str) -> Post:
    return Post(post_id=raw["id"], kind=kind, thread_id=thread_id,  # type: ignore[arg-type]
                parent_id=parent_id, author=dict(raw["author"]), body=raw["body"],
                created=raw["created"], event_id=raw.get("event_id", ""),
                title=raw.get("title", ""), question=bool(raw.get("question", False)))


def read_field(value: Threads) -> list[Post]:
    found: list[Post] = []
    for t in value or []:
        found.append(_post(t, "thread", t["id"], ""))
        for r in t["responses"]:
            found.append(_post(r, "response", t["id"], t["id"]))
            found += [_post(c, "comment", t["id"], r["id"]) for c in r["comments"]]
    return found


def add_to_field(value: Threads, post: Post) -> Threads:
    """A new value with ``post`` in it; the old one is left untouched."""
    if len(read_field(value)) >= MAX_POSTS_PER_FIELD:
        raise StoreFull()
    new = copy.deepcopy(value or [])
    base = {"id": post.post_id, "event_id": post.event_id, "author": dict(post.author),
            "body": post.body, "created": post.created}
    if post.kind == "thread":
        new.append({**base, "title": post.title, "question": post.question, "responses": []})
        return new
    thread = next(t for t in new if t["id"] == post.thread_id)
    if post.kind == "response":
        thread["responses"].append({**base, "comments": []})
    else:
        response = next(r for r in thread["responses"] if r["id"] == post.parent_id)
        response["comments"].append(base)
    return new


LEGACY = LegacyField(name="threads", read=read_field, add=add_to_field, empty=list)
