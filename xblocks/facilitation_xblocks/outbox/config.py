"""Where the LMS side sends its events, read from the LMS settings or the environment.

In the LMS the plugin app sets the ``FACILITATION_*`` Django settings' defaults (see
docs/lms-plugin.md) and mirrors them into the XBlocks' bucket::

    XBLOCK_SETTINGS = {
        "FACILITATION": {
            "KAFKA_BOOTSTRAP": "kafka-1:9092,kafka-2:9092",  # empty: rows wait in the outbox
            "EVENTS_TOPIC": "facilitation.events.v1",
            "OUTBOX": "database",          # the LMS database; "sqlite": a local file
            "OUTBOX_PATH": "/openedx/data/facilitation/outbox.sqlite3",  # for "sqlite"
            "PRODUCER_CONFIG": {"security_protocol": "SASL_SSL", ...},  # kafka-python options
        }
    }

A key missing in the bucket falls back to the Django setting ``FACILITATION_<KEY>`` (when
Django is configured), then to the environment variable of that name, then to a default.
Without the plugin app (the xblock-sdk workbench) the outbox is the SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUCKET = "FACILITATION"
DEFAULT_TOPIC = "facilitation.events.v1"
OUTBOXES = ("database", "sqlite")


def default_outbox_path(env: Mapping[str, str]) -> str:
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state) / "openedx-facilitation" / "outbox.sqlite3")


def django_settings() -> Any:
    """``django.conf.settings`` when Django is configured here, else None."""
    try:
        from django.conf import settings
    except ImportError:
        return None
    return settings if settings.configured else None


@dataclass(frozen=True, slots=True)
class EmitterSettings:
    kafka_bootstrap: str = ""
    events_topic: str = DEFAULT_TOPIC
    outbox: str = "sqlite"
    outbox_path: str = ""
    producer_config: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls, bucket: Mapping[str, Any] | None, env: Mapping[str, str] | None = None,
        django: Any = None,
    ) -> EmitterSettings:
        """The bucket, then Django's ``FACILITATION_*`` settings, then the environment."""
        env = os.environ if env is None else env
        bucket = bucket or {}

        def pick(key: str, default: Any) -> Any:
            value = bucket.get(key)
            if value in (None, "") and django is not None:
                value = getattr(django, f"FACILITATION_{key}", None)
            if value in (None, ""):
                value = env.get(f"FACILITATION_{key}")
            return default if value in (None, "") else value

        producer_config = pick("PRODUCER_CONFIG", {})
        if not isinstance(producer_config, Mapping):
            raise ValueError(f"{BUCKET}.PRODUCER_CONFIG must be a mapping of kafka-python options")
        outbox = str(pick("OUTBOX", "sqlite")).strip()
        if outbox not in OUTBOXES:
            raise ValueError(f"{BUCKET}.OUTBOX must be one of {', '.join(OUTBOXES)}: {outbox!r}")
        return cls(
            kafka_bootstrap=str(pick("KAFKA_BOOTSTRAP", "")).strip(),
            events_topic=str(pick("EVENTS_TOPIC", DEFAULT_TOPIC)).strip(),
            outbox=outbox,
            outbox_path=str(pick("OUTBOX_PATH", default_outbox_path(env))).strip(),
            producer_config=dict(producer_config),
        )

    @classmethod
    def for_lms(cls, bucket: Mapping[str, Any] | None = None) -> EmitterSettings:
        """As the XBlocks and the plugin resolve them in a running LMS (or workbench)."""
        return cls.resolve(bucket, django=django_settings())
