"""Where the XBlocks send their events, read from the LMS settings or the environment.

In the LMS (``lms.yml`` / Django settings)::

    XBLOCK_SETTINGS = {
        "FACILITATION": {
            "KAFKA_BOOTSTRAP": "kafka-1:9092,kafka-2:9092",  # empty: tracking log only
            "EVENTS_TOPIC": "facilitation.events.v1",
            "OUTBOX_PATH": "/openedx/data/facilitation/outbox.sqlite3",  # a persistent disk
            "PRODUCER_CONFIG": {"security_protocol": "SASL_SSL", ...},  # kafka-python options
        }
    }

Both blocks read the bucket ``FACILITATION`` through the XBlock ``settings`` service. A key
missing there falls back to the environment variables ``FACILITATION_KAFKA_BOOTSTRAP``,
``FACILITATION_EVENTS_TOPIC`` and ``FACILITATION_OUTBOX_PATH``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUCKET = "FACILITATION"
DEFAULT_TOPIC = "facilitation.events.v1"


def default_outbox_path(env: Mapping[str, str]) -> str:
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state) / "openedx-facilitation" / "outbox.sqlite3")


@dataclass(frozen=True, slots=True)
class EmitterSettings:
    kafka_bootstrap: str = ""
    events_topic: str = DEFAULT_TOPIC
    outbox_path: str = ""
    producer_config: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls, bucket: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
    ) -> EmitterSettings:
        """LMS settings first, then ``FACILITATION_*`` environment variables, then defaults."""
        env = os.environ if env is None else env
        bucket = bucket or {}

        def pick(key: str, default: str) -> str:
            value = bucket.get(key) or env.get(f"FACILITATION_{key}") or default
            return str(value).strip()

        producer_config = bucket.get("PRODUCER_CONFIG") or {}
        if not isinstance(producer_config, Mapping):
            raise ValueError(f"{BUCKET}.PRODUCER_CONFIG must be a mapping of kafka-python options")
        return cls(
            kafka_bootstrap=pick("KAFKA_BOOTSTRAP", ""),
            events_topic=pick("EVENTS_TOPIC", DEFAULT_TOPIC),
            outbox_path=pick("OUTBOX_PATH", default_outbox_path(env)),
            producer_config=dict(producer_config),
        )
