"""What ``./manage.py lms facilitation_status`` reports: is delivery to Kafka working?

Read from the database outbox (depth, oldest row, last delivery: shared by every LMS
process and pod, so any process can answer), a short Kafka metadata request, and the
tracker this process built from ``EVENT_TRACKING_BACKENDS``. Delivery is *stuck* when the
oldest waiting row is older than ``stuck_after_s``: nobody sends (no bootstrap, Kafka down,
every sender dead) or the senders fall behind.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from facilitation_xblocks.outbox.config import BUCKET, EmitterSettings
from facilitation_xblocks.outbox.sqlite_file import SqliteFileOutbox
from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox
from facilitation_xblocks.plugin.tracking import FacilitationTrackingBackend

STUCK_AFTER_S = 300.0


@dataclass(frozen=True, slots=True)
class Status:
    outbox: str
    depth: int
    oldest_age_s: float
    last_delivery_age_s: float | None
    delivered_total: int
    kafka_bootstrap: str
    kafka_reachable: bool
    kafka_error: str
    events_topic: str
    topic_exists: bool
    tracking_backend_active: bool
    stuck: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(now: float | None = None, stuck_after_s: float = STUCK_AFTER_S,
           kafka_timeout_s: float = 5.0) -> Status:
    now = time.time() if now is None else now
    conf = EmitterSettings.for_lms(settings.XBLOCK_SETTINGS.get(BUCKET))
    box = DatabaseOutbox() if conf.outbox == "database" else SqliteFileOutbox(conf.outbox_path)
    depth, oldest = box.depth(), box.oldest_age_s(now)
    # A file outbox keeps no delivery record: only its own process's sender knows.
    last, total = box.last_delivery() if isinstance(box, DatabaseOutbox) else (None, 0)
    reachable, topics, error = kafka_topics(conf, kafka_timeout_s)
    return Status(
        outbox=conf.outbox, depth=depth, oldest_age_s=round(oldest, 1),
        last_delivery_age_s=None if last is None else round(now - last, 1),
        delivered_total=total, kafka_bootstrap=conf.kafka_bootstrap,
        kafka_reachable=reachable, kafka_error=error, events_topic=conf.events_topic,
        topic_exists=conf.events_topic in topics, tracking_backend_active=tracking_active(),
        stuck=depth > 0 and oldest > stuck_after_s,
    )


def kafka_topics(conf: EmitterSettings, timeout_s: float) -> tuple[bool, set[str], str]:
    """(Reachable, topic names, the error when not) with the producer's own options."""
    if not conf.kafka_bootstrap:
        return False, set(), "FACILITATION_KAFKA_BOOTSTRAP is not set"
    from kafka import KafkaAdminClient

    from facilitation_xblocks.outbox.sender import producer_config

    options = {k: v for k, v in producer_config(conf.kafka_bootstrap, conf.producer_config)
               .items() if k in KafkaAdminClient.DEFAULT_CONFIG}
    timeout_ms = int(timeout_s * 1000)
    options.update(request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms,
                   client_id="facilitation-status")
    try:
        admin = KafkaAdminClient(**options)
    except Exception as err:  # NoBrokersAvailable, DNS, auth ...
        return False, set(), f"{type(err).__name__}: {err}"
    try:
        return True, set(admin.list_topics()), ""
    except Exception as err:
        return False, set(), f"{type(err).__name__}: {err}"
    finally:
        admin.close()


def tracking_active() -> bool:
    """The live path: this process's tracker holds the backend, and it is switched on."""
    if not getattr(settings, "FACILITATION_LIVE_TRACKING", True):
        return False
    try:
        from eventtracking import tracker

        backends = dict(tracker.get_tracker().backends)
    except (ImportError, KeyError):  # event-tracking absent, or no tracker registered
        return False
    nested = [getattr(b, "backends", {}) for b in backends.values()]
    return any(isinstance(b, FacilitationTrackingBackend)
               for group in (backends, *nested) for b in group.values())
