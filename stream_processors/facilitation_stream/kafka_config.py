"""Kafka client settings and topic creation shared by the bridge, the CLI and the workers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from facilitation_stream.settings import Settings


def kafka_python_config(settings: Settings) -> dict[str, Any]:
    """Connection options for kafka-python clients (producer, admin, consumer)."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap.split(","),
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_sasl_mechanism:
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism
        config["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            config["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_ssl_cafile:
        config["ssl_cafile"] = settings.kafka_ssl_cafile
    return config


def ensure_topics(
    settings: Settings, names: Iterable[str], partitions: int | None = None
) -> list[str]:
    """Create the topics that do not exist yet; returns the ones created.

    Workers need their source topics before they start (Faust does not create them), so
    every entry point that produces or consumes calls this first. Safe to call repeatedly.
    """
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(**kafka_python_config(settings))
    try:
        existing = set(admin.list_topics())
        missing = [name for name in dict.fromkeys(names) if name not in existing]
        if not missing:
            return []
        new = [
            NewTopic(
                name=name,
                num_partitions=partitions or settings.topic_partitions,
                replication_factor=settings.topic_replication,
            )
            for name in missing
        ]
        # Created concurrently by another process: that is the goal anyway.
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(new)
        return missing
    finally:
        admin.close()


def updates_topic(settings: Settings) -> str:
    """The worker's internal topic (derived updates, ticks), co-partitioned with events."""
    return f"{settings.app_id}-subject-updates"


def engine_topics(settings: Settings) -> list[str]:
    return [
        settings.events_topic,
        updates_topic(settings),
        settings.alerts_topic,
        settings.dead_letter_topic,
    ]
