"""What both blocks share: translation, the acting person, the clock, handler replies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from facilitation_rules.contract.codec import format_time
from facilitation_xblocks.blocks.identity import Person, current_person
from facilitation_xblocks.blocks.validation import InputError


def mark(text: str) -> str:
    """Marks field names and help texts for extraction; the runtime translates them."""
    return text


class FacilitationBlockMixin:
    """Mixed into both XBlocks; expects ``runtime``, ``scope_ids`` and a ``tutors`` field."""

    #: Both blocks read ``XBLOCK_SETTINGS["FACILITATION"]`` (see facilitation_xblocks.settings).
    block_settings_key = "FACILITATION"

    runtime: Any
    tutors: list[str]

    def gettext(self) -> Callable[[str], str]:
        service = self.runtime.service(self, "i18n")
        return service.gettext if service is not None else mark

    def acting_person(self) -> Person:
        """The signed-in user, or ``InputError`` when nobody is (an anonymous visitor)."""
        _ = self.gettext()
        person = current_person(self, self.tutors)
        if person.actor.user_id in ("", "None", "anonymous"):
            raise InputError(_("Please sign in to take part."))
        return person

    def now(self) -> datetime:
        """Wall time: the XBlocks are the edge where events get their ``occurred_at``."""
        return datetime.now(UTC)

    @staticmethod
    def stamp(moment: datetime) -> str:
        return format_time(moment)

    def role_labels(self) -> dict[str, str]:
        _ = self.gettext()
        return {"learner": "", "staff": _("Staff"), "tutor": _("Tutor")}

    def retired_labels(self) -> dict[str, str]:
        """What a post of a retired learner shows instead of their name and text."""
        _ = self.gettext()
        return {"name": _("Former learner"),
                "body": _("This post was removed with its author's account.")}

    @staticmethod
    def refused(err: InputError) -> dict[str, Any]:
        return {"ok": False, "error": str(err)}
