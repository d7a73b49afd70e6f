"""What a step sends: alerts, derived updates and changelog records, batched per partition.

The last stage of a batch (``batches``): a step's alerts go to the alerts topic (counted
here), its derived updates to the updates topic (``item_codec``), the batch's newest
states to the changelog; ``flush`` waits once for the broker's acks of all of them.
"""

from __future__ import annotations

from typing import Any

import orjson

from facilitation_rules.contract.alerts import Alert, alert_to_dict
from facilitation_stream import item_codec
from facilitation_stream.metrics import Metrics
from facilitation_stream.worker.engine_protocol import Step
from facilitation_stream.worker.record_batches import RecordBatches, Sent

#: Derived updates of one message get sub-sequence numbers below this bound.
MAX_DERIVED = 64


class StepOutputs:
    def __init__(
        self,
        records: RecordBatches,
        metrics: Metrics,
        *,
        alerts_topic: str,
        updates_topic: str,
        changelog_topic: str,
    ) -> None:
        self._records = records
        self._metrics = metrics
        self._alerts = alerts_topic
        self._updates = updates_topic
        self._changelog = changelog_topic

    async def step(self, step: Step, origin: str, seq: int) -> None:
        """Hand a step's alerts and derived updates to the producer (acks awaited per batch).

        Each derived update is marked (origin, seq * MAX_DERIVED + index): its target skips
        it when a crash makes this step run again.
        """
        metrics = self._metrics
        for alert in step.alerts:
            if alert.action == "fire":
                metrics.alerts_fired.labels(rule=alert.rule, severity=alert.severity).inc()
            else:
                metrics.alerts_resolved.labels(rule=alert.rule).inc()
            await self._records.add(
                self._alerts, f"{alert.course_id}|{alert.subject_id}".encode(), _alert_bytes(alert)
            )
        for index, (target, item) in enumerate(step.derived[:MAX_DERIVED]):
            await self.update(target, ("derived", origin, seq * MAX_DERIVED + index, item))

    async def update(self, key: str, payload: tuple[Any, ...]) -> None:
        await self._records.add(self._updates, key.encode(), item_codec.dumps(payload))

    async def changelog(self, key: bytes, value: bytes | None, partition: int) -> None:
        await self._records.add(self._changelog, key, value, partition)

    async def flush(self) -> list[Sent]:
        return await self._records.flush()


def _alert_bytes(alert: Alert) -> bytes:
    return orjson.dumps(alert_to_dict(alert))
