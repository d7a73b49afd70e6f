"""A learner's reflection (private, per user) and the community's shared reflections.

Private text lives in a ``user_state`` field of the learner; a shared reflection is copied
into the block's ``user_state_summary`` field ``shared`` keyed by reflection id, with its
comments. Whether a reflection is shared is read from ``shared`` alone (one source of
truth), so the two fields can never disagree about it. Functions return new values.
"""

from __future__ import annotations

import copy
from typing import Any

#: Comments per shared reflection; the whole community list is one stored value.
MAX_COMMENTS_PER_REFLECTION = 200
MAX_SHARED_REFLECTIONS = 2_000

Shared = dict[str, dict[str, Any]]


class StoreFull(Exception):
    pass


def mine(reflection_id: str, text: str, submitted_at: str, event_id: str) -> dict[str, str]:
    return {"id": reflection_id, "text": text, "submitted_at": submitted_at,
            "event_id": event_id}


def with_shared(
    shared: Shared, reflection_id: str, author: dict[str, str], text: str, when: str
) -> Shared:
    """Share (or update the shared text of) a reflection; its comments stay."""
    if reflection_id not in shared and len(shared) >= MAX_SHARED_REFLECTIONS:
        raise StoreFull()
    new = copy.deepcopy(shared)
    entry = new.get(reflection_id) or {"comments": [], "shared_at": when}
    entry.update(author=dict(author), text=text, updated_at=when)
    new[reflection_id] = entry
    return new


def with_comment(shared: Shared, reflection_id: str, comment: dict[str, Any]) -> Shared:
    if len(shared[reflection_id]["comments"]) >= MAX_COMMENTS_PER_REFLECTION:
        raise StoreFull()
    new = copy.deepcopy(shared)
    new[reflection_id]["comments"].append(dict(comment))
    return new


def public_view(
    shared: Shared, viewer_id: str, role_labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Shared reflections, oldest first, without user ids."""

    def author(a: dict[str, str]) -> dict[str, str]:
        role = a.get("role", "learner")
        return {"name": a["name"], "role": role, "role_label": role_labels.get(role, "")}

    entries = sorted(shared.items(), key=lambda item: item[1]["shared_at"])
    return [
        {"id": rid, "author": author(e["author"]), "body": e["text"], "created": e["shared_at"],
         "mine": e["author"]["id"] == viewer_id,
         "comments": [{"id": c["id"], "author": author(c["author"]), "body": c["body"],
                       "created": c["created"]} for c in e["comments"]]}
        for rid, e in entries
    ]
