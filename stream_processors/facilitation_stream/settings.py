"""Typed settings of the engine side, read from ``FACILITATION_*`` environment variables.

Each field documents itself; secrets are ``SecretStr`` so they never show in logs or reprs.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACILITATION_", extra="ignore")

    kafka_bootstrap: str = Field(
        "127.0.0.1:39092", description="Kafka bootstrap servers, comma separated."
    )
    kafka_security_protocol: str = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: str | None = Field(None, description="PLAIN, SCRAM-SHA-256/512.")
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(None, description="CA bundle for SSL listeners.")
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:36379/0"),
        description="Redis URL of the tutor queues (may hold a password: kept secret).",
    )
    events_topic: str = Field(
        "facilitation.events.v1", description="Contract events from XBlocks and the bridge."
    )
    alerts_topic: str = Field("facilitation.alerts.v1", description="Alerts fired by rules.")
    dead_letter_topic: str = Field(
        "facilitation.events.dlq.v1", description="Events the engine could not use, with why."
    )
    topic_partitions: int = Field(6, ge=1, description="Partitions of the source topics.")
    topic_replication: int = Field(1, ge=1, description="Replication factor of new topics.")
    app_id: str = Field("openedx-facilitation", description="Faust app id = consumer group.")
    data_dir: str = Field(".run/worker", description="Worker's local table state.")
    table_store: str = Field(
        "memory://", description="memory:// (default) or rocksdb:// for large state."
    )
    web_port: int = Field(6066, description="Worker HTTP port: health, readiness, /metrics.")
    web_host: str = Field("127.0.0.1", description="Worker HTTP bind address.")
    session_timeout_s: float = Field(
        10.0, description="How long a silent worker keeps its partitions before they move."
    )
    stall_s: float = Field(
        120.0,
        description="/live fails after this long without progress while messages wait "
        "(Kubernetes then restarts the stuck worker).",
    )
    lateness_s: float = Field(
        7 * 24 * 3600.0,
        description="Events older than a partition's event-time watermark by more than this "
        "are dead-lettered as late.",
    )
    future_tolerance_s: float = Field(
        300.0,
        ge=0,
        description="Events dated more than this ahead of the worker's clock (a skewed LMS "
        "clock, a bad log line) are dead-lettered as future and never move event time.",
    )
    max_event_bytes: int = Field(
        65_536,
        ge=1024,
        description="Events-topic messages larger than this are dead-lettered as oversized "
        "unparsed (a valid event, its strings bounded by the contract, is far smaller).",
    )
    idle_s: float = Field(
        1.0,
        gt=0,
        description="An events partition read to its end with nothing new for this long "
        "no longer holds deadlines back: wall time moves them (raise it for backfills).",
    )
    batch_max_records: int = Field(
        2000, ge=1, description="Most source messages a worker applies per batch (one fetch)."
    )
    # `facilitation ingest event-bus` (docs/ingest.md, "Live from the platform event bus").
    event_bus_topic: str = Field(
        "analytics",
        description="Platform event bus topic with TRACKING_EVENT_EMITTED (Aspects: "
        "'analytics', after EVENT_BUS_TOPIC_PREFIX and a hyphen when the LMS sets one).",
    )
    event_bus_bootstrap: str | None = Field(
        None, description="Brokers of the event bus when not those of kafka_bootstrap."
    )
    event_bus_group: str = Field(
        "openedx-facilitation-event-bus", description="Consumer group reading the bus topic."
    )
    event_bus_dead_letter_topic: str = Field(
        "facilitation.event-bus.dlq.v1",
        description="Bus messages that could not be read, untouched, with why in headers.",
    )
    schema_registry_url: str | None = Field(
        None, description="Confluent-compatible schema registry of the event bus."
    )
    schema_registry_auth: SecretStr | None = Field(
        None, description="'key:secret' for the registry's basic authentication."
    )
    rules_path: str | None = Field(None, description="Rule pack file or folder (hot reload).")
    roster_path: str | None = Field(None, description="Tutor roster YAML.")
    default_tutor: str = Field("tutor-1", description="Queue for alerts when no roster routes.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
