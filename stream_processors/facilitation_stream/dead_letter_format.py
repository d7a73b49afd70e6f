"""What a dead letter's headers say, for every writer of one (the worker, ``ingest event-bus``).

An operator reads ``reason`` and ``detail`` to know why, and ``source-topic`` /
``source-partition`` / ``source-offset`` to find the original message.
"""

from __future__ import annotations


def dead_letter_headers(
    reason: str, detail: str, topic: str, partition: int, offset: int
) -> dict[str, bytes]:
    """The headers of a dead letter: why (``reason``, ``detail``) and where it was read."""
    return {
        "reason": reason.encode(),
        "detail": detail[:1000].encode(errors="replace"),
        "source-topic": str(topic).encode(),
        "source-partition": str(partition).encode(),
        "source-offset": str(offset).encode(),
    }
