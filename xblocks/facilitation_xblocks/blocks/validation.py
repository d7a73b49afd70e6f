"""Checks on what learners type, all done before any field changes.

Text is stored as typed (HTML and script are just characters) and always rendered
escaped. A problem raises ``InputError`` with a message for the learner, already
translated through the ``_`` the block passes in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

#: A post or reflection body; longer bodies are refused (not cut): the learner decides.
MAX_BODY_CHARS = 10_000
MAX_TITLE_CHARS = 300

Translate = Callable[[str], str]


class InputError(ValueError):
    """Bad learner input; ``str(err)`` is the message to show."""


def clean_text(raw: Any, *, label: str, max_chars: int, _: Translate) -> str:
    """The text to store, or ``InputError``: not text, empty, too long, invalid unicode."""
    if not isinstance(raw, str):
        raise InputError(_("{label}: expected text.").format(label=label))
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (e.g. a JSON "\ud800") are not characters; storing them would
        # break every later read of the field.
        raise InputError(
            _("{label} contains characters that are not valid text. "
              "Please remove them and try again.").format(label=label)
        ) from None
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = text.strip()
    if not text:
        raise InputError(_("{label} is empty. Please write something first.").format(label=label))
    if len(text) > max_chars:
        raise InputError(
            _("{label} is too long: {count} characters, the limit is {limit}.").format(
                label=label, count=len(text), limit=max_chars
            )
        )
    return text


def flag(raw: Any, *, label: str, _: Translate) -> bool:
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise InputError(_("{label}: expected true or false.").format(label=label))
    return raw


def known_id(raw: Any, known: Any, *, label: str, _: Translate) -> str:
    """An id the block already holds (a thread, a response, a shared reflection)."""
    if not isinstance(raw, str) or raw not in known:
        raise InputError(
            _("{label} no longer exists. Reload the page and try again.").format(label=label)
        )
    return raw
