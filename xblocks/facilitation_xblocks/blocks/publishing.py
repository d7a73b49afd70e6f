"""Announce a learner action: the LMS tracking log (``runtime.publish``) and Kafka.

Called after the action is stored (``block.save()``), so an event never announces
something that was not kept. The event, with its ``event_id`` chosen once, goes into the
durable outbox; redelivery sends the same id.
"""

from __future__ import annotations

import uuid
from typing import Any

from facilitation_rules.event_codec import to_dict
from facilitation_rules.events import Event
from facilitation_xblocks.outbox.config import EmitterSettings
from facilitation_xblocks.outbox.emitter import Emitter, shared_emitter


def new_id() -> str:
    return str(uuid.uuid4())


def settings_bucket(block: Any) -> dict[str, Any] | None:
    service = block.runtime.service(block, "settings")
    return service.get_settings_bucket(block) if service is not None else None


def emitter_for(block: Any) -> Emitter:
    """The process-wide emitter, configured from the LMS settings bucket, Django or the env."""
    return shared_emitter(EmitterSettings.for_lms(settings_bucket(block)))


def announce(block: Any, event: Event) -> None:
    block.runtime.publish(block, event.event_type, to_dict(event))
    emitter_for(block).emit(event)
