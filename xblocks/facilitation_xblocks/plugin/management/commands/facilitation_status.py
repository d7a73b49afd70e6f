"""``./manage.py lms facilitation_status [--json] [--stuck-after S] [--kafka-timeout S]``:
the outbox depth, its oldest row's age, the last delivery, Kafka reachability and whether
the live tracking backend is active; exit status 1 when delivery is stuck."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from facilitation_xblocks.plugin.status import STUCK_AFTER_S, status


class Command(BaseCommand):
    help = "Is the facilitation outbox reaching Kafka? Exit status 1 when delivery is stuck."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON object")
        parser.add_argument("--stuck-after", type=float, default=STUCK_AFTER_S,
                            help=f"stuck: a row waits longer than this (s, {STUCK_AFTER_S:.0f})")
        parser.add_argument("--kafka-timeout", type=float, default=5.0,
                            help="seconds to wait for Kafka's answer (5)")

    def handle(self, *args: Any, **options: Any) -> None:
        found = status(stuck_after_s=options["stuck_after"],
                       kafka_timeout_s=options["kafka_timeout"])
        if options["json"]:
            self.stdout.write(json.dumps(found.as_dict(), sort_keys=True))
        else:
            last = found.last_delivery_age_s
            kafka = ("reachable" if found.kafka_reachable else f"UNREACHABLE ({found.kafka_error})")
            self.stdout.write("\n".join([
                f"outbox:            {found.outbox} (rows in the LMS database: {found.depth})",
                f"oldest row:        {found.oldest_age_s:.0f} s old" if found.depth else
                "oldest row:        - (empty)",
                f"last delivery:     {'never' if last is None else f'{last:.0f} s ago'} "
                f"({found.delivered_total} rows delivered in all)",
                f"kafka:             {found.kafka_bootstrap or '(not configured)'} {kafka}",
                f"events topic:      {found.events_topic} "
                f"{'exists' if found.topic_exists else 'NOT FOUND'}",
                f"tracking backend:  {'active' if found.tracking_backend_active else 'INACTIVE'}",
            ]))
        if found.stuck:
            raise CommandError(f"delivery stuck: {found.depth} rows wait, the oldest for "
                               f"{found.oldest_age_s:.0f} s", returncode=1)
