"""Retirement: when the LMS retires a learner, scrub their posts and tell the engine.

edx-platform's retirement pipeline sends ``USER_RETIRE_LMS_MISC`` (and, in its LMS step,
``USER_RETIRE_LMS_CRITICAL``) with the ``user``; ``plugin_app`` connects ``learner_retired``
to both (a second call finds nothing left to scrub; for the learner's enrollments it queues
the same event ids again, which consumers drop).
In one transaction: the learner is recorded as retired (their posts still in old blocks'
``user_state_summary`` data are scrubbed on read and when migrated), their post rows lose
author, name, title and text, and one ``LearnerRetired`` event per course they had anything
in (their posts, their enrollments) goes into the outbox, keyed after their other events.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.apps import apps
from django.db import transaction

from facilitation_rules.contract.events import Actor, LearnerRetired
from facilitation_xblocks.plugin.models import Post, RetiredLearner

#: What a scrubbed post keeps: its place in the thread, no identity, no text.
SCRUBBED = {"author_id": "", "author_name": "", "title": "", "body": "", "retired": True}


def learner_retired(sender: Any, user: Any = None, **kwargs: Any) -> None:
    if user is not None and getattr(user, "id", None) is not None:
        retire(str(user.id), enrolled_courses(user))


def retire(learner_id: str, courses: Iterable[str] = (), now: datetime | None = None
           ) -> list[LearnerRetired]:
    from facilitation_xblocks.plugin.wiring import lms_emitter

    at = now or datetime.now(UTC)
    with transaction.atomic():
        RetiredLearner.objects.update_or_create(user_id=learner_id,
                                                defaults={"retired_at": time.time()})
        theirs = Post.objects.filter(author_id=learner_id)
        touched = set(theirs.values_list("course_id", flat=True))
        theirs.update(**SCRUBBED)
        events = [retired_event(learner_id, course, at) for course in sorted(touched | {*courses})]
        emitter = lms_emitter()
        for event in events:
            emitter.emit(event)
    return events


def retired_event(learner_id: str, course_id: str, at: datetime) -> LearnerRetired:
    """The same id for the same learner and course, however often it is sent."""
    key = f"learner.retired\x1f{course_id}\x1f{learner_id}".encode()
    return LearnerRetired(event_id=hashlib.blake2b(key, digest_size=16).hexdigest(),
                          occurred_at=at, course_id=course_id, actor=Actor(user_id=learner_id),
                          learner_id=learner_id)


def enrolled_courses(user: Any) -> list[str]:
    """The learner's courses as the LMS records them (edx-platform's ``student`` app)."""
    if not apps.is_installed("common.djangoapps.student"):
        return []
    enrollment = apps.get_model("student", "CourseEnrollment")
    return [str(c) for c in enrollment.objects.filter(user_id=user.id)
            .values_list("course_id", flat=True)]
