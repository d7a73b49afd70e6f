"""Where the worker's alerts go: the router, which puts them in tutor queues in Redis.

With a roster (``FACILITATION_ROSTER_PATH``, a file or a folder, hot reloaded) the router
picks a tutor per alert; for a course without one, alerts land in the default tutor's
queue. Enqueueing is idempotent by ``alert_id``, so alerts repeated by at-least-once
delivery make one nudge.
"""

from __future__ import annotations

from facilitation_rules.routing.roster import Roster
from facilitation_stream.delivery.queues import TutorQueue, connect
from facilitation_stream.delivery.router import RosterFiles, Router
from facilitation_stream.settings import Settings


def _no_roster(course_id: str) -> Roster | None:
    return None


def build_sink(settings: Settings) -> Router:
    queue = TutorQueue(connect(settings.redis_url.get_secret_value()))
    rosters = RosterFiles(settings.roster_path) if settings.roster_path else _no_roster
    return Router(queue, rosters, default_tutor=settings.default_tutor)
