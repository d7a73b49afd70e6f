"""Announce a learner action: the LMS tracking log (``runtime.publish``) and Kafka.

Called after the action is stored (``block.save()``), so an event never announces
something that was not kept. The event, with its ``event_id`` chosen once, goes into the
durable outbox; redelivery sends the same id.
"""

from __future__ import annotations

import uuid
from typing import Any

from facilitation_rules.contract.codec import to_dict
from facilitation_rules.contract.events import Event
from facilitation_xblocks.emitter import Emitter, shared_emitter
from facilitation_xblocks.settings import EmitterSettings


def new_id() -> str:
    return str(uuid.uuid4())


def emitter_for(block: Any) -> Emitter:
    """The process-wide emitter, configured from the LMS settings bucket or the env."""
    bucket = None
    service = block.runtime.service(block, "settings")
    if service is not None:
        bucket = service.get_settings_bucket(block)
    return shared_emitter(EmitterSettings.resolve(bucket))


def announce(block: Any, event: Event) -> None:
    block.runtime.publish(block, event.event_type, to_dict(event))
    emitter_for(block).emit(event)
