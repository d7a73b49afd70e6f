"""The dead-letter topic: events the engine could not use, with the reason in headers.

Bad input is data: the original bytes go to the dead-letter topic, with headers saying why
(``reason``: see ``metrics.REASONS``, and ``detail``) and where it came from, so an
operator can inspect, fix and re-publish. A value larger than ``MAX_LETTER_BYTES`` (a
record the broker would refuse, or a hostile one) is cut to that size and the header
``original-bytes`` says how large it was: the source offset finds the whole record.
Nothing here raises: a failure to dead-letter is logged and counted, and processing goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from facilitation_stream.dead_letter_format import dead_letter_headers
from facilitation_stream.settings import Settings

log = logging.getLogger(__name__)
#: Far below any broker's record limit (Kafka's default is 1 MiB), far above a valid event.
MAX_LETTER_BYTES = 64 * 1024


class DeadLetters:
    def __init__(self, app: Any, settings: Settings) -> None:
        self._topic = app.topic(
            settings.dead_letter_topic,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        self.counts: Counter[str] = Counter()
        self._on_dead_letter = lambda reason: None

    def observe(self, callback: Any) -> None:
        """Call ``callback(reason)`` for every dead letter (metrics hook)."""
        self._on_dead_letter = callback

    async def send(
        self, message: Any, reason: str, detail: str, value: bytes | None = None
    ) -> None:
        """Dead-letter ``message`` (or ``value`` in its place, e.g. the event behind an
        internal update) with ``reason`` and ``detail`` in the headers."""
        self.counts[reason] += 1
        self._on_dead_letter(reason)
        log.warning(
            "dead letter (%s) %s:%s:%s: %s",
            reason,
            message.topic,
            message.partition,
            message.offset,
            detail,
        )
        headers = dead_letter_headers(
            reason, detail, message.topic, message.partition, message.offset
        )
        if value is None:
            value = message.value if isinstance(message.value, bytes) else b""
        if len(value) > MAX_LETTER_BYTES:
            headers["original-bytes"] = str(len(value)).encode()
            value = value[:MAX_LETTER_BYTES]
        key = message.key[:1024] if isinstance(message.key, bytes) else message.key
        try:
            await self._topic.send(key=key, value=value, headers=headers)
        except Exception:
            log.exception("could not dead-letter %s:%s", message.partition, message.offset)

