"""Who is acting, in which course: read from the runtime's user service.

In the LMS the user service's ``opt_attrs`` carry ``edx-platform.user_id``,
``edx-platform.username``, ``edx-platform.user_is_staff`` and ``edx-platform.user_role``
(``instructor`` / ``staff`` / ``student``); the xblock-sdk workbench carries
``xblock-workbench.user_id``. Forum roles (Community TA ...) are not exposed to XBlocks, so
the course team lists its tutors on the block (``tutors``: user ids or usernames).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from facilitation_rules.contract.events import Actor, Role

_STAFF_ROLES = frozenset({"instructor", "staff", "limited_staff", "administrator"})


@dataclass(frozen=True, slots=True)
class Person:
    actor: Actor
    display_name: str


def current_person(block: Any, tutors: Iterable[str]) -> Person:
    attrs: dict[str, Any] = {}
    service = block.runtime.service(block, "user")
    if service is not None:
        user = service.get_current_user()
        attrs = dict(getattr(user, "opt_attrs", None) or {})
    user_id = str(
        attrs.get("edx-platform.user_id")
        or attrs.get("xblock-workbench.user_id")
        or block.scope_ids.user_id
        or "anonymous"
    )
    username = attrs.get("edx-platform.username") or None
    tutor_names = {t.strip() for t in tutors if t and t.strip()}
    if user_id in tutor_names or (username and username in tutor_names):
        role = Role.TUTOR
    elif attrs.get("edx-platform.user_is_staff") or attrs.get("edx-platform.user_role") in (
        _STAFF_ROLES
    ):
        role = Role.STAFF
    else:
        role = Role.LEARNER
    return Person(
        actor=Actor(user_id=user_id, role=role, username=username),
        display_name=username or user_id,
    )


def course_id(block: Any) -> str:
    """The course key as a string; the workbench has none and says so."""
    context = getattr(block.scope_ids.usage_id, "context_key", None)
    if context is None:
        context = getattr(block.runtime, "course_id", None)
    return str(context) if context else "workbench"


def usage_id(block: Any) -> str:
    return str(block.scope_ids.usage_id)
