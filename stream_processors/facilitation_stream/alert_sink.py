"""Where the worker's alerts go: the tutor queues in Redis.

With a roster (``FACILITATION_ROSTER_PATH``) the router picks a tutor per alert; without
one, every alert lands in the default tutor's queue. Either way enqueueing is idempotent
by ``alert_id``, so alerts repeated by at-least-once delivery make one nudge.
"""

from __future__ import annotations

from typing import Any

from facilitation_rules.alerts import Alert
from facilitation_stream.settings import Settings
from facilitation_stream.tutor_queue import TutorQueue, connect


class QueueSink:
    """Routes every alert to one tutor queue (no roster configured)."""

    def __init__(self, queue: TutorQueue, tutor_id: str) -> None:
        self.queue = queue
        self.tutor_id = tutor_id

    def route(self, alert: Alert) -> Any:
        if alert.action == "resolve":
            return self.queue.alert_resolved(alert.alert_id)
        return self.queue.enqueue(alert, self.tutor_id)


def build_sink(settings: Settings) -> Any:
    queue = TutorQueue(connect(settings.redis_url.get_secret_value()))
    return QueueSink(queue, settings.default_tutor)
