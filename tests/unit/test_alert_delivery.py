"""The alert agent's delivery: it waits out a failing sink and never skips an alert."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from facilitation_rules.contract.alerts import alert_to_dict
from facilitation_stream.metrics import Metrics
from facilitation_stream.worker.alert_delivery import AlertDelivery
from tests.support.counting_engine import CountingEngine
from tests.unit.event_factory import thread


class _Sink:
    transient_errors = (ConnectionError,)

    def __init__(self, failures: list[BaseException]) -> None:
        self.failures, self.routed = failures, []

    def route(self, alert: Any) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.routed.append(alert.alert_id)


class _Dead:
    def __init__(self) -> None:
        self.letters: list[tuple[str, str]] = []

    async def send(self, message: Any, reason: str, detail: str) -> None:
        self.letters.append((reason, detail))


def _message() -> Any:
    post = thread(1, "learner-1", "p1")
    alert = CountingEngine(None).apply("k", None, post).alerts[0]
    return SimpleNamespace(value=orjson.dumps(alert_to_dict(alert)), topic="a", partition=0,
                           offset=7, key=b"k")


def _run(sink: _Sink) -> tuple[list[float], Any, Metrics, _Dead]:
    waits: list[float] = []
    worker = SimpleNamespace(sink_failing_since=None, sink_error="")
    metrics, dead = Metrics(CollectorRegistry()), _Dead()
    seen_down: list[bool] = []

    async def sleep(s: float) -> None:
        waits.append(s)
        seen_down.append(worker.sink_failing_since is not None)

    delivery = AlertDelivery(sink, worker, metrics, dead, sleep=sleep)  # type: ignore[arg-type]
    asyncio.run(delivery.deliver(_message()))
    assert all(seen_down)  # while retrying, the worker says the sink is failing
    return waits, worker, metrics, dead


def test_a_failing_sink_is_retried_with_backoff_until_the_alert_is_in() -> None:
    sink = _Sink([ConnectionError("down")] * 12)
    waits, worker, metrics, dead = _run(sink)
    assert len(sink.routed) == 1 and dead.letters == []
    assert waits[:4] == [0.2, 0.4, 0.8, 1.6] and max(waits) == 10.0 and len(waits) == 12
    assert worker.sink_failing_since is None
    assert metrics.registry.get_sample_value("facilitation_alert_sink_up") == 1
    failures = metrics.registry.get_sample_value(
        "facilitation_alert_sink_failures_total", {"reason": "unavailable"}
    )
    assert failures == 12


def test_an_alert_the_sink_refuses_for_good_is_dead_lettered_after_a_few_tries() -> None:
    sink = _Sink([ValueError("no such roster")] * 10)
    waits, _worker, _metrics, dead = _run(sink)
    assert sink.routed == [] and len(waits) == 4
    assert dead.letters == [("undeliverable", "ValueError: no such roster")]


def test_a_value_that_is_no_alert_is_dead_lettered_at_once() -> None:
    dead, worker = _Dead(), SimpleNamespace(sink_failing_since=None, sink_error="")
    delivery = AlertDelivery(_Sink([]), worker, Metrics(CollectorRegistry()), dead)  # type: ignore[arg-type]
    asyncio.run(delivery.deliver(SimpleNamespace(value=b"{}", topic="a", partition=0, offset=1,
                                                 key=None)))
    assert [reason for reason, _ in dead.letters] == ["invalid"]
