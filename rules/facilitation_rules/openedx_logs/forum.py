"""Translators for the LMS forum's ``edx.forum.*`` tracking-log events.

What the forum writes (and what we rely on): every event has ``id`` (the post), the
author's ``user_forums_roles`` / ``user_course_roles``; created responses point to their
thread through ``discussion.id``; created comments carry ``discussion.id`` and their
response in ``response.id``; thread events carry ``thread_type``, ``title`` (cut at 1,000
characters by the LMS) and ``body`` (HTML, cut at 2,000; ``truncated`` says so, so a word
count of a cut body is a lower bound). Votes and deletions of responses and comments do
not name the thread: ``ThreadIndex`` remembers which thread each post created earlier in
the same run belongs to, and ``thread_id`` is ``""`` when it is not known.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, MutableMapping
from functools import partial
from typing import Any

from facilitation_rules.contract.events import (
    Event,
    PostCreated,
    PostDeleted,
    PostKind,
    PostViewed,
    PostVoted,
    Role,
    excerpt,
    word_count,
)
from facilitation_rules.openedx_logs.fields import (
    LearnerActivity,
    TrackingLogError,
    actor,
    context_of,
    course_of,
    event_id,
    nested_id,
    occurred_at,
    payload_dict,
    role_of,
    str_field,
    user_of,
)

#: post id -> thread id of the posts seen created; filled and read by the translators.
ThreadIndex = MutableMapping[str, str]
Translator = Callable[[dict[str, Any], str, "ThreadIndex | None"], list[Event]]

_TAG = re.compile(r"<[^>]*>")


def plain_text(body: str) -> str:
    """Forum bodies are HTML; excerpts and word counts are about the words."""
    if "<" in body or "&" in body:
        body = html.unescape(_TAG.sub(" ", body))
    return " ".join(body.split())


class _Post:
    """The fields every forum event shares, read once."""

    __slots__ = ("actor", "at", "course_id", "data", "post_id")

    def __init__(self, record: dict[str, Any], event_type: str) -> None:
        self.at = occurred_at(record)
        ctx = context_of(record)
        self.data = data = payload_dict(record)
        post_id = str_field(data, ("id",))
        if post_id is None:
            raise TrackingLogError(f"{event_type}: no post id ('id')")
        self.post_id = post_id
        user_id, username = user_of(record, ctx, data)
        if user_id is None:
            raise TrackingLogError(f"{event_type}: no user id or username")
        course_id = course_of(record, ctx, data, event_type)
        if course_id is None:
            raise TrackingLogError(f"{event_type}: no course id")
        self.course_id = course_id
        self.actor = actor(user_id, role_of(data), username)

    def event_id(self, event_type: str) -> str:
        return event_id(event_type, self.at, self.actor.user_id, self.post_id)


def _created(kind: PostKind) -> Translator:
    def translate(
        record: dict[str, Any], event_type: str, threads: ThreadIndex | None
    ) -> list[Event]:
        post = _Post(record, event_type)
        data = post.data
        parent = None
        thread_id = post.post_id
        if kind != "thread":
            parent = nested_id(data, "response") if kind == "comment" else None
            found = nested_id(data, "discussion")
            if found is None and threads is not None:
                found = threads.get(parent or "")
            if found is None:
                raise TrackingLogError(f"{event_type}: no thread id ('discussion.id')")
            thread_id = found
            parent = parent or thread_id
        if threads is not None:
            threads[post.post_id] = thread_id
        body = data.get("body")
        text = plain_text(body) if isinstance(body, str) else ""
        title = data.get("title")
        thread_type = data.get("thread_type")
        return [
            PostCreated(
                event_id=post.event_id(event_type),
                occurred_at=post.at,
                course_id=post.course_id,
                actor=post.actor,
                post_id=post.post_id,
                thread_id=thread_id,
                parent_post_id=parent,
                post_kind=kind,
                thread_type="question" if thread_type == "question" else "discussion",
                title=excerpt(plain_text(title)) if isinstance(title, str) else "",
                body_excerpt=excerpt(text),
                word_count=word_count(text),
                anonymous=bool(data.get("anonymous") or data.get("anonymous_to_peers")),
                url=str_field(data, ("url",)),
            )
        ]

    return translate


def _thread_of(post: _Post, kind: PostKind, threads: ThreadIndex | None) -> str:
    if kind == "thread":
        return post.post_id
    known = nested_id(post.data, "discussion")
    if known is None and threads is not None:
        known = threads.get(post.post_id)
    return known or ""


def _action(
    cls: type[PostVoted] | type[PostDeleted],
    kind: PostKind,
    post: _Post,
    event_type: str,
    threads: ThreadIndex | None,
) -> Event:
    """A vote or a deletion: the post it touches, its thread, and (votes) whether undone."""
    fields = _on_post(post, event_type)
    if cls is PostVoted:
        fields["undo"] = bool(post.data.get("undo_vote"))
    return cls(**fields, thread_id=_thread_of(post, kind, threads), post_kind=kind)


def _view(post: _Post, event_type: str, threads: ThreadIndex | None) -> Event:
    return PostViewed(**_on_post(post, event_type), thread_id=post.post_id)


def _on_post(post: _Post, event_type: str) -> dict[str, Any]:
    """The fields every event about one forum post shares."""
    return {
        "event_id": post.event_id(event_type),
        "occurred_at": post.at,
        "course_id": post.course_id,
        "actor": post.actor,
        "post_id": post.post_id,
    }


class ActorActivity:
    """A view or a vote: to the rules, activity of whoever did it (votes are not replies).

    ``lean`` gives a learner's as a ``LearnerActivity`` without building the event.
    """

    __slots__ = ("build",)

    def __init__(self, build: Callable[[_Post, str, ThreadIndex | None], Event]) -> None:
        self.build = build

    def __call__(
        self, record: dict[str, Any], event_type: str, threads: ThreadIndex | None
    ) -> list[Event]:
        return [self.build(_Post(record, event_type), event_type, threads)]

    def lean(
        self, record: dict[str, Any], event_type: str, threads: ThreadIndex | None
    ) -> list[Event] | LearnerActivity:
        post = _Post(record, event_type)
        if post.actor.role is Role.LEARNER:
            return (post.at.timestamp(), post.course_id, post.actor.user_id)
        return [self.build(post, event_type, threads)]


def _voted(kind: PostKind) -> Translator:
    return ActorActivity(partial(_action, PostVoted, kind))


def _deleted(kind: PostKind) -> Translator:
    def translate(
        record: dict[str, Any], event_type: str, threads: ThreadIndex | None
    ) -> list[Event]:
        return [_action(PostDeleted, kind, _Post(record, event_type), event_type, threads)]

    return translate


_viewed = ActorActivity(_view)


FORUM_TRANSLATORS: dict[str, Translator] = {
    "edx.forum.thread.viewed": _viewed,
    **{f"edx.forum.{kind}.created": _created(kind) for kind in ("thread", "response", "comment")},
    **{f"edx.forum.{kind}.voted": _voted(kind) for kind in ("thread", "response", "comment")},
    **{f"edx.forum.{kind}.deleted": _deleted(kind) for kind in ("thread", "response", "comment")},
}

#: Forum events that change nothing a facilitation rule looks at (yet).
FORUM_IGNORED = frozenset(
    {
        *(
            f"edx.forum.{kind}.{action}"
            for kind in ("thread", "response", "comment")
            for action in ("edited", "reported", "unreported", "followed", "unfollowed")
        ),
        "edx.forum.thread.locked",
        "edx.forum.thread.unlocked",
        "edx.forum.response.mark",
        "edx.forum.response.unmark",
        "edx.forum.searched",
    }
)
