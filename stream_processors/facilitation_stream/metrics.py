"""The one metrics catalog of the engine side (worker, router, tutor API, notifiers).

Everything the engine measures is declared here, once, with its help text, labels and
histogram buckets; processes import :func:`get_metrics` (the process-wide default on
prometheus-client's global registry) and tests build ``Metrics(CollectorRegistry())``.
The XBlock outbox lives in the LMS and must not import this package: its metrics are in
``facilitation_xblocks.outbox.metrics``. docs/metrics.md lists every name.

Label rules: never learner, post, thread or alert ids. Allowed labels have a bounded set
of values: ``event_type`` (the contract registry), ``reason`` (a fixed vocabulary below),
``rule`` (rule names in the loaded pack), ``severity``, ``tutor`` (the roster, a handful
of staff), ``course`` (the courses the deployment serves), ``topic`` / ``partition``.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

from facilitation_rules.contract.events import REGISTRY as EVENT_REGISTRY

NAMESPACE = "facilitation"

#: Why an event was refused (malformed) or sent to the dead-letter topic: the words the
#: worker writes in the dead-letter ``reason`` header (facilitation_stream.worker.dead_letters).
REASONS = frozenset(
    {
        "invalid",  # not JSON, not the envelope, or a field failed validation
        "unknown-type",  # event_type not in the contract registry
        "oversized",  # larger than any valid event (not parsed)
        "future",  # dated ahead of the worker's clock by more than the tolerance
        "late",  # older than the lateness the state keeps
        "rejected",  # an id too long, or the engine refused it (e.g. a reply to nothing)
        "error",  # a rule or a store raised on this event
        "other",
    }
)
OTHER_EVENT_TYPE = "other"
#: What became of a message from the platform event bus; what was wrong with a broken one.
EVENT_BUS_OUTCOMES = frozenset({"translated", "ignored", "unknown", "other-type", "malformed"})
EVENT_BUS_PROBLEMS = frozenset({"wire-format", "unknown-schema", "avro", "headers", "record"})

# Buckets are chosen for what each duration means to a person, not prometheus defaults.
#: Learner waits for a first reply: minutes to a week (SLAs are typically 12-48 h).
REPLY_BUCKETS = tuple(h * 3600.0 for h in (0.25, 0.5, 1, 2, 4, 8, 12, 18, 24, 36, 48, 72, 120, 168))
#: A nudge waits in a tutor queue: minutes to a few days.
NUDGE_AGE_BUCKETS = tuple(
    m * 60.0 for m in (1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 10080)
)
#: One pure rule evaluation on one event or tick: tens of microseconds to a second.
RULE_EVAL_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0
)  # fmt: skip
#: Table recovery after a restart or a rebalance: a second to half an hour.
RECOVERY_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class Metrics:
    """Every engine metric, registered on ``registry``.

    Attributes are the prometheus-client objects themselves (``.labels(...).inc()``);
    the few methods below exist where a label value comes from outside and must be
    kept inside a bounded set.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        r = registry
        # --- intake ---
        self.events_consumed = Counter(
            "events_consumed", "Contract events consumed by the worker, by event type.",
            ["event_type"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.events_malformed = Counter(
            "events_malformed", "Events refused at decoding or validation, by reason.",
            ["reason"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.events_dead_lettered = Counter(
            "events_dead_lettered", "Events written to the dead-letter topic, by reason.",
            ["reason"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.events_duplicate = Counter(
            "events_duplicate", "Re-published events recognised as already applied and "
            "skipped: by event_id (authored events), or late with no effect on their subject.",
            ["recognised_by"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.learner_posts = Counter(
            "learner_posts", "Learner posts that started a first-reply SLA clock.",
            ["course"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.time_to_first_reply = Histogram(
            "time_to_first_reply_seconds",
            "Event time from a learner post to its first reply by anyone else.",
            ["course"], buckets=REPLY_BUCKETS, namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.sla_breaches = Counter(
            "sla_breaches", "Learner posts still unanswered when their reply SLA ran out.",
            ["course"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        # --- rules and alerts ---
        self.rule_evaluation = Histogram(
            "rule_evaluation_seconds", "Wall time of one rule evaluation (event or tick).",
            ["rule"], buckets=RULE_EVAL_BUCKETS, namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.alerts_fired = Counter(
            "alerts_fired", "Alerts fired by rules, by rule and severity.",
            ["rule", "severity"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.alerts_resolved = Counter(
            "alerts_resolved", "Alerts resolved because their condition cleared.",
            ["rule"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.condition_errors = Counter(
            "condition_errors",
            "Evaluations of a rule's when: filter that failed (e.g. a division by zero) and "
            "counted as no match: the rule is partly off.",
            ["rule"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        # --- tutor queues (router and tutor API) ---
        self.nudges_enqueued = Counter(
            "nudges_enqueued", "Nudges added to a tutor queue (repeats by alert_id excluded).",
            ["rule"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.open_nudges = Gauge(
            "open_nudges", "Nudges waiting or claimed in each tutor's queue.",
            ["tutor"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.nudge_age_at_claim = Histogram(
            "nudge_age_at_claim_seconds", "Time a nudge waited before a tutor claimed it.",
            ["rule"], buckets=NUDGE_AGE_BUCKETS, namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.nudge_age_at_resolve = Histogram(
            "nudge_age_at_resolve_seconds", "Time from a nudge being queued to its resolution.",
            ["rule"], buckets=NUDGE_AGE_BUCKETS, namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.nudges_resolved = Counter(
            "nudges_resolved", "Nudges a tutor resolved (acted on): the rule was useful.",
            ["rule"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.nudges_not_useful = Counter(
            "nudges_not_useful", "Nudges a tutor dismissed as not useful (rule precision).",
            ["rule"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.notifications_sent = Counter(
            "notifications_sent", "Digests and webhooks delivered, by channel.",
            ["channel"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.notifications_failed = Counter(
            "notifications_failed", "Digests and webhooks that failed after retries.",
            ["channel"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        # --- worker health: Kafka, recovery, rebalances ---
        self.consumer_lag = Gauge(
            "consumer_lag", "Messages between the committed offset and the partition end.",
            ["topic", "partition"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.assigned_partitions = Gauge(
            "assigned_partitions", "Partitions this worker is assigned.",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.rebalances = Counter(
            "rebalances", "Consumer group rebalances this worker went through.",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.rebalancing = Gauge(
            "rebalancing", "1 while a consumer group rebalance is in progress.",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.recovering = Gauge(
            "recovering", "1 while state tables are recovering from their changelog topics.",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.recovery_duration = Histogram(
            "recovery_duration_seconds", "Time state table recovery took.",
            buckets=RECOVERY_BUCKETS, namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.worker_ready = Gauge(
            "worker_ready", "1 when the worker has recovered and processes events (/ready).",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.alert_sink_up = Gauge(
            "alert_sink_up", "0 while routing alerts into the tutor queues fails (Redis down): "
            "the alert waits, retried with backoff, and /ready answers 503.",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.alert_sink_failures = Counter(
            "alert_sink_failures", "Failed attempts to route an alert into the tutor queues.",
            ["reason"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.last_event_timestamp = Gauge(
            "last_event_timestamp_seconds", "Unix time the worker last consumed an event.",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        # --- intake from the platform event bus (facilitation ingest event-bus) ---
        self.event_bus_messages = Counter(
            "event_bus_messages",
            "TRACKING_EVENT_EMITTED messages read from the platform event bus, by outcome: "
            "translated, ignored (known, no event), unknown (name not translated), "
            "other-type (another signal on the topic), malformed (dead-lettered).",
            ["outcome"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.event_bus_malformed = Counter(
            "event_bus_malformed",
            "Event-bus messages dead-lettered as unreadable, by problem: wire-format, "
            "unknown-schema, avro, headers, record.",
            ["problem"], namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.event_bus_events_sent = Counter(
            "event_bus_events_sent",
            "Contract events from the event bus that Kafka acknowledged on the events topic.",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.event_bus_redeliveries = Counter(
            "event_bus_redeliveries",
            "Event-bus batches read again because a send was not acknowledged, the schema "
            "registry did not answer or the offset commit failed.",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.event_bus_schemas_fetched = Counter(
            "event_bus_schemas_fetched",
            "Writer schemas fetched from the schema registry (each id once per process).",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip
        self.event_bus_last_commit = Gauge(
            "event_bus_last_commit_timestamp_seconds",
            "Unix time the event-bus consumer last committed offsets (after the sends of "
            "the batch were acknowledged).",
            namespace=NAMESPACE, registry=r,
        )  # fmt: skip

    def event_consumed(self, event_type: str, now: float, count: int = 1) -> None:
        """Count consumed events; types outside the contract count as ``other``."""
        label = event_type if event_type in EVENT_REGISTRY else OTHER_EVENT_TYPE
        self.events_consumed.labels(event_type=label).inc(count)
        self.last_event_timestamp.set(now)

    def malformed(self, reason: str) -> None:
        self.events_malformed.labels(reason=_reason(reason)).inc()

    def dead_lettered(self, reason: str) -> None:
        self.events_dead_lettered.labels(reason=_reason(reason)).inc()

    def event_bus_message(self, outcome: str) -> None:
        label = outcome if outcome in EVENT_BUS_OUTCOMES else "other"
        self.event_bus_messages.labels(outcome=label).inc()

    def event_bus_unreadable(self, problem: str) -> None:
        label = problem if problem in EVENT_BUS_PROBLEMS else "other"
        self.event_bus_malformed.labels(problem=label).inc()

    def duplicate(self, recognised_by: str) -> None:
        """``event_id`` or ``late`` (a late event that changes nothing)."""
        self.events_duplicate.labels(recognised_by=recognised_by).inc()


def _reason(reason: str) -> str:
    return reason if reason in REASONS else "other"


@lru_cache(maxsize=1)
def get_metrics() -> Metrics:
    """The process-wide catalog on prometheus-client's global registry."""
    return Metrics(REGISTRY)


def exposition(registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """Body and content type of a ``/metrics`` answer, for any web framework.

    In a Faust page: ``body, ctype = exposition(); return self.bytes(body,
    content_type=ctype)``.
    """
    return generate_latest(registry), CONTENT_TYPE_LATEST


def start_metrics_server(
    port: int, addr: str = "127.0.0.1", registry: CollectorRegistry = REGISTRY
) -> tuple[Any, threading.Thread]:
    """Serve ``/metrics`` from a daemon thread (for processes without a web server).

    ``port=0`` picks a free port: read it from ``server.server_port``.
    """
    server, thread = start_http_server(port, addr=addr, registry=registry)
    return server, thread


def sample_total(exposition_text: str, name: str) -> float:
    """The sum of every sample named ``name`` in a /metrics answer (all label values)."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition_text)
        for sample in family.samples
        if sample.name == name
    )
