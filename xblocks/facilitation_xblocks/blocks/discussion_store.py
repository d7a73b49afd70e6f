"""The discussion's threads as one JSON value, changed only by building a new value.

The block keeps all threads in one ``user_state_summary`` field (see
docs/decisions/0001-xblock-storage.md). Every function here takes the current value and
returns a new one without touching the old, so the block validates everything, builds
the new value, and assigns the field once: a post is stored whole or not at all.

Shape (plain JSON so any runtime can store it)::

    [{"id", "author": {"id", "name", "role"}, "title", "body", "question", "created",
      "event_id", "responses": [{"id", "author", "body", "created", "event_id",
                                 "comments": [{"id", "author", "body", "created", "event_id"}]}]}]
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

#: Beyond this a block refuses new posts: the whole list is one stored value.
MAX_POSTS_PER_BLOCK = 2_000

Threads = list[dict[str, Any]]


class StoreFull(Exception):
    """The discussion reached ``MAX_POSTS_PER_BLOCK``."""


class UnknownPost(Exception):
    """The thread or response replied to is not in this discussion."""


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post ready to store; ids and times are chosen by the caller."""

    post_id: str
    event_id: str
    author: dict[str, str]
    body: str
    created: str
    title: str = ""
    question: bool = False


def count_posts(threads: Threads) -> int:
    return sum(
        1 + len(r["responses"]) + sum(len(c["comments"]) for c in r["responses"])
        for r in threads
    )


def _check_room(threads: Threads) -> None:
    if count_posts(threads) >= MAX_POSTS_PER_BLOCK:
        raise StoreFull()


def _base(post: NewPost) -> dict[str, Any]:
    return {"id": post.post_id, "event_id": post.event_id, "author": dict(post.author),
            "body": post.body, "created": post.created}


def with_thread(threads: Threads, post: NewPost) -> Threads:
    _check_room(threads)
    thread = {**_base(post), "title": post.title, "question": post.question, "responses": []}
    return [*copy.deepcopy(threads), thread]


def find_thread(threads: Threads, thread_id: str) -> dict[str, Any]:
    for thread in threads:
        if thread["id"] == thread_id:
            return thread
    raise UnknownPost(thread_id)


def find_response(thread: dict[str, Any], response_id: str) -> dict[str, Any]:
    for response in thread["responses"]:
        if response["id"] == response_id:
            return response
    raise UnknownPost(response_id)


def with_response(threads: Threads, thread_id: str, post: NewPost) -> Threads:
    _check_room(threads)
    new = copy.deepcopy(threads)
    find_thread(new, thread_id)["responses"].append({**_base(post), "comments": []})
    return new


def with_comment(threads: Threads, thread_id: str, response_id: str, post: NewPost) -> Threads:
    _check_room(threads)
    new = copy.deepcopy(threads)
    find_response(find_thread(new, thread_id), response_id)["comments"].append(_base(post))
    return new


def public_view(threads: Threads, role_labels: dict[str, str]) -> list[dict[str, Any]]:
    """What the page shows: no user ids, role as a translated label, text as stored."""

    def author(a: dict[str, str]) -> dict[str, str]:
        role = a.get("role", "learner")
        return {"name": a["name"], "role": role, "role_label": role_labels.get(role, "")}

    def item(p: dict[str, Any]) -> dict[str, Any]:
        return {"id": p["id"], "author": author(p["author"]), "body": p["body"],
                "created": p["created"]}

    return [
        {**item(t), "title": t["title"], "question": t["question"],
         "responses": [{**item(r), "comments": [item(c) for c in r["comments"]]}
                       for r in t["responses"]]}
        for t in threads
    ]
