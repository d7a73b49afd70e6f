"""The alerts topic into the tutor queues, with the worker's own guarantee: no alert is lost.

The alert agent hands each alert to the sink (the router: Redis) and does not take the
next until the sink took this one, so Faust never commits an offset past an alert that is
not in a queue. While the sink is unavailable (its ``transient_errors``: Redis down,
restarting, failing over) the same alert is retried with exponential backoff, ``/ready``
answers 503 and ``facilitation_alert_sink_up`` is 0; the backlog waits on the topic and
drains when the sink is back. Redelivery after a crash is harmless: the queues drop an
``alert_id`` they hold. An alert the sink refuses for another reason is retried a few
times, then dead-lettered (``undeliverable``) so one bad alert cannot stop the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from facilitation_rules.contract.alerts import alert_from_dict
from facilitation_stream.metrics import Metrics
from facilitation_stream.worker.dead_letters import DeadLetters

log = logging.getLogger(__name__)


class AlertDelivery:
    def __init__(
        self,
        sink: Any,
        worker: Any,
        metrics: Metrics,
        dead: DeadLetters,
        *,
        first_backoff_s: float = 0.2,
        max_backoff_s: float = 10.0,
        attempts_on_error: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sink = sink
        self._transient: tuple[type[BaseException], ...] = getattr(
            sink, "transient_errors", (OSError,)
        )
        self._worker = worker
        self._metrics = metrics
        self._dead = dead
        self._first, self._max = first_backoff_s, max_backoff_s
        self._attempts = attempts_on_error
        self._sleep = sleep
        metrics.alert_sink_up.set(1)

    async def deliver(self, message: Any) -> None:
        """Route the alert ``message`` carries; return once it is in a queue (or dead)."""
        try:
            alert = alert_from_dict(orjson.loads(message.value))
        except Exception as err:  # not an alert this version can read: never routable
            await self._dead.send(message, "invalid", f"not an alert: {err}")
            return
        delay, errors = self._first, 0
        while True:
            try:
                # redis-py is synchronous: keep the event loop free while Redis answers.
                await asyncio.to_thread(self._sink.route, alert)
            except self._transient as err:
                self._failing("unavailable", err)
            except Exception as err:
                errors += 1
                self._failing("error", err)
                if errors >= self._attempts:
                    log.exception("alert %s undeliverable, dead-lettered", alert.alert_id)
                    await self._dead.send(message, "undeliverable", f"{type(err).__name__}: {err}")
                    self._recovered()
                    return
            else:
                self._recovered()
                return
            await self._sleep(delay)
            delay = min(delay * 2, self._max)

    def _failing(self, reason: str, err: BaseException) -> None:
        self._metrics.alert_sink_failures.labels(reason=reason).inc()
        self._metrics.alert_sink_up.set(0)
        worker = self._worker
        if worker.sink_failing_since is None:
            worker.sink_failing_since = time.monotonic()
            log.warning("alert sink failing, retrying with backoff: %s: %s",
                        type(err).__name__, err)
        worker.sink_error = f"{type(err).__name__}: {err}"

    def _recovered(self) -> None:
        worker = self._worker
        if worker.sink_failing_since is not None:
            log.info("alert sink back after %.1fs", time.monotonic() - worker.sink_failing_since)
            worker.sink_failing_since = None
            self._metrics.alert_sink_up.set(1)
