"""The metrics catalog: injectable registry, bounded labels, /metrics serving."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import CollectorRegistry

from facilitation_stream.metrics import (
    REPLY_BUCKETS,
    Metrics,
    exposition,
    start_metrics_server,
)
from facilitation_xblocks.outbox.metrics import XBlockMetrics

FORBIDDEN_LABELS = {"learner", "learner_id", "user", "user_id", "username", "post", "post_id",
                    "thread", "thread_id", "alert_id", "event_id", "subject_id"}  # fmt: skip


def _catalogs() -> list[object]:
    return [Metrics(CollectorRegistry()), XBlockMetrics(CollectorRegistry())]


def test_each_registry_gets_its_own_metrics() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    Metrics(first).alerts_fired.labels(rule="r", severity="high").inc()
    Metrics(second)
    assert (
        first.get_sample_value("facilitation_alerts_fired_total", {"rule": "r", "severity": "high"})
        == 1.0
    )
    assert (
        second.get_sample_value(
            "facilitation_alerts_fired_total", {"rule": "r", "severity": "high"}
        )
        is None
    )


def test_no_metric_is_labelled_by_an_id() -> None:
    for catalog in _catalogs():
        for metric in vars(catalog).values():
            labels = set(getattr(metric, "_labelnames", ()))
            assert not labels & FORBIDDEN_LABELS, metric


def test_every_metric_is_documented_and_namespaced() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    XBlockMetrics(registry)
    families = list(registry.collect())
    assert len(families) >= 30
    for family in families:
        assert family.name.startswith("facilitation_"), family.name
        assert len(family.documentation) > 15, family.name


def test_outside_label_values_stay_bounded() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.event_consumed("org.openedx.facilitation.post.created.v1", now=100.0)
    metrics.event_consumed("whatever.a.client.sends", now=200.0)
    metrics.dead_lettered("a free-form exception text")
    metrics.malformed("invalid")
    sample = registry.get_sample_value
    assert (
        sample(
            "facilitation_events_consumed_total",
            {"event_type": "org.openedx.facilitation.post.created.v1"},
        )
        == 1.0
    )
    assert sample("facilitation_events_consumed_total", {"event_type": "other"}) == 1.0
    assert sample("facilitation_events_dead_lettered_total", {"reason": "other"}) == 1.0
    assert sample("facilitation_events_malformed_total", {"reason": "invalid"}) == 1.0
    assert sample("facilitation_last_event_timestamp_seconds") == 200.0


def test_reply_buckets_cover_common_slas() -> None:
    hours = {b / 3600 for b in REPLY_BUCKETS}
    assert {12, 24, 48} <= hours
    assert list(REPLY_BUCKETS) == sorted(REPLY_BUCKETS)


@pytest.mark.timeout(20)
def test_metrics_are_served_over_http() -> None:
    registry = CollectorRegistry()
    Metrics(registry).open_nudges.labels(tutor="tutor-1").set(3)
    body, content_type = exposition(registry)
    assert b'facilitation_open_nudges{tutor="tutor-1"} 3.0' in body
    assert content_type.startswith("text/plain")
    server, _thread = start_metrics_server(0, registry=registry)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert b'facilitation_open_nudges{tutor="tutor-1"} 3.0' in answer.read()
    finally:
        server.shutdown()
        server.server_close()
