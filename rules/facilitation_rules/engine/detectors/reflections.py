"""``reflection.no_peer_response``: a shared reflection nobody else commented on in N days.

One subject per reflection. Episode: the reflection id. Resolved by the first comment from
someone other than the author (a tutor's comment counts).
"""

from __future__ import annotations

from facilitation_rules.contract.events import ReflectionSubmitted, Role
from facilitation_rules.engine.detectors.emit import alert, day_word
from facilitation_rules.engine.outputs import Output, Update
from facilitation_rules.engine.subjects import REFLECTION_COMMENTED, REFLECTION_SUBMITTED
from facilitation_rules.packs.conditions import passes
from facilitation_rules.packs.config import DAY, CourseRules
from facilitation_rules.state import INF, ReflectionState

RULE = "reflection.no_peer_response"
_NONE: tuple[Output, ...] = ()


def apply(
    state: ReflectionState | None, u: Update, rules: CourseRules
) -> tuple[ReflectionState | None, list[Output] | tuple[Output, ...]]:
    ev = u.event
    if u.op == REFLECTION_SUBMITTED:
        if state is not None:
            return state, _NONE  # redelivered, or an edit: the first submission counts
        assert isinstance(ev, ReflectionSubmitted)
        state = ReflectionState(
            course_id=ev.course_id,
            reflection_id=ev.reflection_id,
            prompt_id=ev.prompt_id,
            author_id=ev.actor.user_id,
            created=u.t,
            shared=ev.shared,
        )
        cfg = rules.reflection
        if (
            cfg.enabled
            and ev.shared
            and cfg.peer_response_days is not None
            and ev.actor.role is Role.LEARNER
            and passes(
                cfg.when_shared,
                {
                    "course_id": ev.course_id,
                    "prompt_id": ev.prompt_id,
                    "word_count": float(ev.word_count),
                    "shared": ev.shared,
                },
            )
        ):
            state.due = u.t + cfg.peer_response_days * DAY
        return state, _NONE
    if state is None or u.op != REFLECTION_COMMENTED:
        return state, _NONE
    if state.due <= u.t:
        tick(state, u.t, rules)
    if ev.actor.user_id == state.author_id or state.commented_at is not None:
        return state, _NONE
    state.commented_at = u.t
    state.due = INF
    if not state.open:
        return state, _NONE
    state.open = False
    return state, [_alert(state, u.t, "info", ("a peer responded",), resolve=True)]


def tick(
    state: ReflectionState, now: float, rules: CourseRules
) -> tuple[ReflectionState, list[Output]]:
    if state.due > now:
        return state, []
    due, state.due, state.open = state.due, INF, True
    days = day_word(rules.reflection.peer_response_days or 0)
    reason = f"shared reflection with no response from a peer or tutor for {days}"
    return state, [_alert(state, due, rules.reflection.severity, (reason,))]


def _alert(
    state: ReflectionState,
    at: float,
    severity: str,
    reasons: tuple[str, ...],
    resolve: bool = False,
) -> Output:
    return alert(
        rule=RULE,
        kind="reflection",
        course_id=state.course_id,
        subject_type="reflection",
        subject_id=state.reflection_id,
        learner_id=state.author_id,
        episode=state.reflection_id,
        at=at,
        severity=severity,
        reasons=reasons,
        resolve=resolve,
        details={"prompt_id": state.prompt_id, "reflection_id": state.reflection_id},
    )
