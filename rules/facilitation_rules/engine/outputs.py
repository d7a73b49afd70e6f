"""What the engine's functions return: alerts, and derived updates for other subjects.

Below every other engine module (``subjects`` routes events into ``Update``s, the detectors
return ``Output``s), so that nothing has to import a detector to name them.
"""

from __future__ import annotations

from typing import NamedTuple

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.events import Event


class Update(NamedTuple):
    """One change to one subject, routed by ``key`` (a Kafka repartition key when live).

    ``op`` names the change (see ``facilitation_rules.engine.dispatch``); ``t`` is the event time in
    UTC epoch seconds; ``event`` is the contract event that caused it.
    """

    key: str
    op: str
    event: Event
    t: float


Output = Alert | Update
