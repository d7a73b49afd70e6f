"""Which thread a forum post belongs to, remembered in the LMS database.

The forum logs votes and deletions of responses and comments without their thread; the
tracking-log translation looks the post up in a ``ThreadIndex`` filled as posts are
created. ``facilitation ingest`` keeps one for a run; the live path keeps this one, shared
by every LMS process and pod. A failed write is logged, never raised: at worst a later vote
names no thread, as it would for a post created before the plugin was installed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping

from django.db import DatabaseError, transaction

from facilitation_xblocks.plugin.models import ForumThread

log = logging.getLogger(__name__)


class DatabaseThreadIndex(MutableMapping[str, str]):
    def __getitem__(self, post_id: str) -> str:
        """A response's or comment's thread (a thread, not kept, is a miss: the translation
        then names the post itself for a thread, as it always does)."""
        found = (ForumThread.objects.filter(post_id=post_id)
                 .values_list("thread_id", flat=True).first())
        if found is None:
            raise KeyError(post_id)
        return found

    def __setitem__(self, post_id: str, thread_id: str) -> None:
        if post_id == thread_id:
            return  # a thread is its own thread: nothing to look up later
        try:
            with transaction.atomic():
                ForumThread.objects.bulk_create(
                    [ForumThread(post_id=post_id, thread_id=thread_id)], ignore_conflicts=True)
        except DatabaseError as err:
            log.warning("facilitation: thread of forum post %s not remembered: %s", post_id, err)

    def __delitem__(self, post_id: str) -> None:
        ForumThread.objects.filter(post_id=post_id).delete()

    def __iter__(self) -> Iterator[str]:
        return iter(ForumThread.objects.values_list("post_id", flat=True))

    def __len__(self) -> int:
        return ForumThread.objects.count()
