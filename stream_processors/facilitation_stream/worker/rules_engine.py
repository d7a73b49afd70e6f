"""The rules engine as the Faust worker drives it (``SubjectEngine``).

The same pure functions as ``facilitation replay`` (``facilitation_rules.engine.dispatch``):
an event is routed to the subjects it touches; the first is applied here, on the partition of the
event's key, and the others travel the updates topic to their own partitions. Course
aggregates (``C|course``) used for cohort comparisons live on one partition; workers keep
the latest copy they applied (see "Limits" in docs/decisions/0002-live-engine.md).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.events import Event
from facilitation_rules.engine import dispatch as engine
from facilitation_rules.engine.detectors.posts import RULE as UNANSWERED
from facilitation_rules.engine.outputs import Update
from facilitation_rules.engine.subjects import POST_REPLY, REFLECTION_COMMENTED, THREAD_REPLY
from facilitation_rules.packs.conditions import Condition
from facilitation_rules.packs.config import CourseRules
from facilitation_rules.packs.loader import Pack, load_pack
from facilitation_rules.state import INF, CourseState, PostState
from facilitation_stream.metrics import Metrics, get_metrics
from facilitation_stream.worker.engine_protocol import Step

#: Updates that need their subject to exist already: a reply to a post, a comment on a
#: shared reflection. Read before it (another partition ran ahead), they are retried.
_NEEDS_SUBJECT = (POST_REPLY, THREAD_REPLY, REFLECTION_COMMENTED)


class RulesEngine:
    """``SubjectEngine`` over the rule pack at ``rules_path`` (the shipped default if None)."""

    def __init__(self, rules_path: str | None, metrics: Metrics | None = None) -> None:
        self._pack: Pack = load_pack(rules_path)
        self._metrics = metrics or get_metrics()
        self._cohorts: dict[str, CourseState] = {}
        self._lock = threading.Lock()
        #: each when: filter's failed evaluations already counted in the metric
        self._counted: dict[Condition, int] = {}

    # -- engine.Context ------------------------------------------------------------------
    def rules_for(self, course_id: str) -> CourseRules | None:
        return self._pack.rules_for(course_id)

    def cohort(self, course_id: str) -> CourseState | None:
        return self._cohorts.get(course_id)

    # -- SubjectEngine -------------------------------------------------------------------
    def subject_key(self, event: Event) -> str:
        return engine.subject_key(event)

    def apply(self, key: str, state: Any | None, item: Any) -> Step:
        derived: list[tuple[str, Any]] = []
        if isinstance(item, Update):
            update = item
        else:
            routed = engine.route(item)
            mine = [u for u in routed if u.key == key]
            derived = [(u.key, u) for u in routed if u.key != key]
            if not mine:
                return Step(state=state, derived=derived, changed=False)
            update = mine[0]
            derived += [(u.key, u) for u in mine[1:]]
        if state is None and update.op in _NEEDS_SUBJECT:
            what = "post" if key[0] == "P" else "reflection"
            return Step(state=None, rejected=f"reply to unknown {what} {key.split('|', 2)[-1]!r}")
        answered_before = state.answered_at if isinstance(state, PostState) else None
        new_state, outputs = engine.apply(key, state, update, self)
        if isinstance(new_state, CourseState):
            self._cohorts[new_state.course_id] = new_state
        elif isinstance(new_state, PostState):
            self._observe_post(state, answered_before, new_state)
        return self._step(new_state, outputs, derived)

    def _observe_post(self, before: Any, answered_before: float | None, after: PostState) -> None:
        """SLA metrics of tracked learner posts: started, and answered (time to first reply)."""
        course = after.course_id
        if before is None and after.tracked:
            self._metrics.learner_posts.labels(course=course).inc()
        elif after.tracked and answered_before is None and after.answered_at is not None:
            self._metrics.time_to_first_reply.labels(course=course).observe(
                after.answered_at - after.created
            )

    def repeats(self, key: str, state: Any | None, event: Event) -> bool:
        mine = [u for u in engine.route(event) if u.key == key]
        return bool(mine) and engine.holds(state, mine[0])

    def tick(self, key: str, state: Any | None, now: datetime) -> Step:
        new_state, outputs = engine.tick(key, state, now.timestamp(), self)
        return self._step(new_state, outputs, [])

    def restore(self, key: str, state: Any) -> None:
        # A recovered course aggregate serves cohort comparisons at once, as in replay.
        if isinstance(state, CourseState):
            self._cohorts[state.course_id] = state

    def reload(self, source: str) -> None:
        """Swap in the pack at ``source``, read within the loader's bounds; the previous pack
        stays when it is invalid (PackError, a ValueError, lists every problem)."""
        pack = load_pack(source)
        self.export_counts()  # the old pack's last failures
        with self._lock:
            self._pack = pack
            self._counted = {}

    def export_counts(self) -> None:
        """Add the when: filters' failed evaluations since the last call to their metric
        (the filters count them where they run; the worker calls this from a timer)."""
        for condition in self._pack.conditions():
            new = condition.errors - self._counted.get(condition, 0)
            if new:
                rule = condition.label.split(".")[1] if "." in condition.label else "when"
                self._metrics.condition_errors.labels(rule=rule).inc(new)
                self._counted[condition] = condition.errors

    def _step(self, state: Any, outputs: Any, derived: list[tuple[str, Any]]) -> Step:
        alerts: list[Alert] = []
        for output in outputs:
            if type(output) is Update:
                derived.append((output.key, output))
            else:
                alerts.append(output)
                if output.rule == UNANSWERED and output.action == "fire":
                    self._metrics.sla_breaches.labels(course=output.course_id).inc()
        due = getattr(state, "due", INF)
        return Step(
            state=state,
            alerts=alerts,
            derived=derived,
            next_due=None if due == INF else due,
        )
