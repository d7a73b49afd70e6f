"""How the blocks' events leave: the outbox (for Kafka) and the LMS tracking log.

A block stores an action and queues its event in one step (``posts.PostStore.add``, or
``emitter_for(block).emit``), then writes it to the tracking log (``publish``), so an event
never announces something that was not kept. The event's ``event_id`` is chosen once;
redelivery sends the same id.
"""

from __future__ import annotations

import uuid
from typing import Any

from facilitation_rules.contract.codec import to_dict
from facilitation_rules.contract.events import Event
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


def publish(block: Any, event: Event) -> None:
    """To the LMS tracking log (``runtime.publish``); the plugin's live path leaves the
    blocks' own events there alone, as they are queued with the post."""
    block.runtime.publish(block, event.event_type, to_dict(event))
