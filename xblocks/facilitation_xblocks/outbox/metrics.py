"""Metrics of the LMS side: outbox depth and age, deliveries, failures, the live path.

prometheus_client is optional on the LMS: without it every metric is a no-op and
``EventEmitter.stats()`` still reports the plain numbers. With the database outbox every
process's sender reports the depth and age of the one shared outbox (take the max).
Labels never carry learner, post or thread ids.
"""

from __future__ import annotations

import threading
from typing import Any

_prom: Any
try:  # the LMS may or may not ship prometheus_client
    import prometheus_client as _prom
except ImportError:  # pragma: no cover - exercised only where the package is absent
    _prom = None

#: Seconds spent writing one event into the outbox on the learner's request.
APPEND_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)


class _Noop:
    def labels(self, *_: Any, **__: Any) -> _Noop:
        return self

    def inc(self, *_: Any) -> None: ...

    def set(self, *_: Any) -> None: ...

    def observe(self, *_: Any) -> None: ...


class XBlockMetrics:
    """The producer's metrics, registered in ``registry`` (a prometheus CollectorRegistry)."""

    def __init__(self, registry: Any = None) -> None:
        if _prom is None:
            noop = _Noop()
            self.outbox_depth: Any = noop
            self.outbox_oldest_age: Any = noop
            self.appended: Any = noop
            self.append_failures: Any = noop
            self.spilled: Any = noop
            self.append_seconds: Any = noop
            self.delivered: Any = noop
            self.delivery_failures: Any = noop
            self.tracking_rejected: Any = noop
            return
        reg = registry if registry is not None else _prom.REGISTRY
        self.outbox_depth = _prom.Gauge(
            "facilitation_xblock_outbox_depth",
            "Events in the local outbox not yet acknowledged by Kafka.",
            registry=reg,
        )
        self.outbox_oldest_age = _prom.Gauge(
            "facilitation_xblock_outbox_oldest_age_seconds",
            "Age of the oldest undelivered event in the local outbox.",
            registry=reg,
        )
        self.appended = _prom.Counter(
            "facilitation_xblock_events_appended_total",
            "Events written to the local outbox.",
            ["event_type"],
            registry=reg,
        )
        self.append_failures = _prom.Counter(
            "facilitation_xblock_outbox_append_failures_total",
            "Events not queued for Kafka (logged whole; still in the tracking log).",
            registry=reg,
        )
        self.spilled = _prom.Counter(
            "facilitation_xblock_outbox_spilled_total",
            "Events held in memory briefly because the outbox was busy past the budget.",
            registry=reg,
        )
        self.append_seconds = _prom.Histogram(
            "facilitation_xblock_outbox_append_seconds",
            "Time to write one event to the outbox on the learner's request.",
            buckets=APPEND_BUCKETS,
            registry=reg,
        )
        self.delivered = _prom.Counter(
            "facilitation_xblock_events_delivered_total",
            "Events Kafka acknowledged (acks=all) and the outbox forgot.",
            registry=reg,
        )
        self.delivery_failures = _prom.Counter(
            "facilitation_xblock_delivery_failures_total",
            "Failed delivery attempts; the events stay in the outbox and are retried.",
            ["reason"],
            registry=reg,
        )
        self.tracking_rejected = _prom.Counter(
            "facilitation_xblock_tracking_rejected_total",
            "LMS tracking events of a known type the live path could not translate "
            "(a malformed record; logged).",
            ["reason"],
            registry=reg,
        )


_default: XBlockMetrics | None = None
_default_lock = threading.Lock()


def default_metrics() -> XBlockMetrics:
    """One set per process in the default registry (registering twice would raise)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = XBlockMetrics()
        return _default
