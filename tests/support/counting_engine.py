"""A small SubjectEngine for worker tests: counts posts per thread.

It lets the foundation tests check the Faust adapter (table, changelog recovery, dedup,
alert routing) independently of the rule catalog. The first post of a thread fires an
alert, so each thread makes exactly one nudge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from facilitation_rules.contract.alerts import Alert, alert_id_for
from facilitation_rules.contract.events import Event, PostCreated
from facilitation_stream.worker.engine_protocol import Step


class CountingEngine:
    def __init__(self, rules_path: str | None) -> None:
        self.rules_path = rules_path

    def subject_key(self, event: Event) -> str:
        return event.partition_key()

    def apply(self, key: str, state: Any | None, item: Any) -> Step:
        if not isinstance(item, PostCreated):
            return Step(state=state, changed=False)
        count = (state or 0) + 1
        alerts = []
        if count == 1:
            alerts.append(
                Alert(
                    alert_id=alert_id_for("first_post", item.course_id, "post", item.post_id, "1"),
                    rule="first_post",
                    kind="unanswered_post",
                    course_id=item.course_id,
                    subject_type="post",
                    subject_id=item.post_id,
                    learner_id=item.actor.user_id,
                    fired_at=item.occurred_at,
                    severity="info",
                    reasons=(f"new thread {item.title!r}",),
                    details={"title": item.title, "thread_id": item.thread_id},
                )
            )
        return Step(state=count, alerts=alerts)

    def repeats(self, key: str, state: Any | None, event: Event) -> bool:
        return False  # counts every post it is given

    def tick(self, key: str, state: Any | None, now: datetime) -> Step:
        return Step(state=state, changed=False)

    def restore(self, key: str, state: Any) -> None:
        pass

    def reload(self, source: str) -> None:
        return None

    def export_counts(self) -> None:
        return None
