"""``unanswered_post``: a learner's thread (or first post) with no reply from someone else.

One subject per post. A learner's thread is watched from creation; a learner's first post
in the course that is a response or comment is watched once the learner's state says it is
the first (``POST_TRACK``). Three rules share the subject, each opened at most once:

- ``unanswered_post.warning`` (severity warning) at ``warn_at`` x SLA;
- ``unanswered_post`` (the pack's severity) at the SLA; it supersedes (resolves) the warning;
- ``unanswered_post.escalation`` (urgent, ``details.escalate``) after the breach plus the
  escalation delay, for the course lead.

Every one carries the episode ``post_id``. A counting reply (anyone but the author, or only
staff/tutors with ``replies_from: staff``) or the post's deletion resolves what is open.
Votes and views never reach this subject.
"""

from __future__ import annotations

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.events import PostCreated, Role
from facilitation_rules.engine.detectors.emit import (
    alert,
    hours,
    iso_time,
    learner_details,
    who_of,
)
from facilitation_rules.engine.outputs import Output, Update
from facilitation_rules.engine.subjects import (
    POST_CREATED,
    POST_DELETED,
    POST_REPLY,
    POST_TRACK,
    REPLY_RECEIVED,
    THREAD_REPLY,
    learner_key,
)
from facilitation_rules.packs.business_hours import BusinessCalendar
from facilitation_rules.packs.conditions import passes
from facilitation_rules.packs.config import CourseRules, UnansweredConfig
from facilitation_rules.state import (
    INF,
    STAGE_BREACHED,
    STAGE_ESCALATED,
    STAGE_NONE,
    STAGE_WARNED,
    PostState,
)

RULE = "unanswered_post"
WARNING = "unanswered_post.warning"
ESCALATION = "unanswered_post.escalation"
_STAFF = (Role.STAFF, Role.TUTOR)
_ALWAYS = BusinessCalendar()
_NONE: tuple[Output, ...] = ()
_ANY_CONFIG = UnansweredConfig()


def apply(
    state: PostState | None, u: Update, rules: CourseRules
) -> tuple[PostState | None, list[Output] | tuple[Output, ...]]:
    op, ev = u.op, u.event
    if op == POST_CREATED:
        if state is not None:
            return state, _NONE  # a redelivered event
        assert isinstance(ev, PostCreated)
        state = PostState(
            course_id=ev.course_id,
            post_id=ev.post_id,
            thread_id=ev.thread_id,
            author_id=ev.actor.user_id,
            author_role=ev.actor.role.value,
            post_kind=ev.post_kind,
            thread_type=ev.thread_type,
            created=u.t,
            title=ev.title,
            url=ev.url,
            who=who_of(ev.actor),
            excerpt=ev.body_excerpt,
            context=(ev.thread_title, ev.thread_excerpt)
            if ev.thread_title or ev.thread_excerpt
            else None,
        )
        cfg = rules.unanswered
        if ev.post_kind == "thread" and _eligible(ev, cfg):
            _track(state, rules)
        return state, _NONE
    if state is None:
        return None, _NONE  # the post is unknown (before the log starts): nothing to watch
    if op in (POST_REPLY, THREAD_REPLY):
        return state, _reply(state, u, rules.unanswered, direct=op == POST_REPLY)
    if op == POST_TRACK:
        ev_post = u.event
        if (
            not state.tracked
            and state.answered_at is None
            and not state.deleted
            and isinstance(ev_post, PostCreated)
            and _eligible(ev_post, rules.unanswered)
        ):
            _track(state, rules)
        return state, _NONE
    if op == POST_DELETED:
        if state.deleted:
            return state, _NONE
        state.deleted = True
        if state.answered_at is not None:
            return state, _NONE  # already closed by its reply
        return state, _close(state, u.t, "the post was deleted")
    return state, _NONE


def tick(state: PostState, now: float, rules: CourseRules) -> tuple[PostState, list[Output]]:
    """Fire every stage due at or before ``now``, each at its own due time."""
    out: list[Output] = []
    cfg = rules.unanswered
    while state.due <= now:
        due = state.due
        if state.stage == STAGE_NONE and due == state.warn_due:
            state.stage = STAGE_WARNED
            out.append(_alert(state, WARNING, due, "warning", cfg))
        elif state.stage <= STAGE_WARNED:
            if state.stage == STAGE_WARNED:
                out.append(_alert(state, WARNING, due, "warning", cfg, resolve="superseded"))
            state.stage = STAGE_BREACHED
            out.append(_alert(state, RULE, due, cfg.severity, cfg))
        else:
            state.stage = STAGE_ESCALATED
            out.append(_alert(state, ESCALATION, due, "urgent", cfg))
        _set_due(state)
    return state, out


def _eligible(ev: PostCreated, cfg: UnansweredConfig) -> bool:
    if not cfg.enabled:
        return False
    if ev.actor.role is not Role.LEARNER and not cfg.include_staff_posts:
        return False
    if cfg.when is None:
        return True
    return passes(
        cfg.when,
        {
            "course_id": ev.course_id,
            "post_kind": ev.post_kind,
            "thread_type": ev.thread_type,
            "title": ev.title,
            "body_excerpt": ev.body_excerpt,
            "word_count": float(ev.word_count),
            "anonymous": ev.anonymous,
            "author_role": ev.actor.role.value,
        },
    )


def sla_for(state: PostState, cfg: UnansweredConfig) -> float:
    if state.thread_type == "question" and cfg.question_sla is not None:
        return cfg.question_sla
    return cfg.sla


def _track(state: PostState, rules: CourseRules) -> None:
    cfg = rules.unanswered
    calendar = rules.calendar if cfg.business_hours else _ALWAYS
    sla = sla_for(state, cfg)
    state.tracked = True
    state.breach_due = calendar.add(state.created, sla)
    if cfg.warn_at is not None and 0 < cfg.warn_at < 1:
        state.warn_due = calendar.add(state.created, sla * cfg.warn_at)
    if cfg.escalate_after is not None:
        state.escalate_due = calendar.add(state.breach_due, cfg.escalate_after)
    _set_due(state)


def _set_due(state: PostState) -> None:
    if not state.tracked or state.answered_at is not None or state.deleted:
        state.due = INF
    elif state.stage == STAGE_NONE:
        state.due = min(state.warn_due, state.breach_due)
    elif state.stage == STAGE_WARNED:
        state.due = state.breach_due
    elif state.stage == STAGE_BREACHED:
        state.due = state.escalate_due
    else:
        state.due = INF


def _reply(state: PostState, u: Update, cfg: UnansweredConfig, *, direct: bool) -> list[Output]:
    replier = u.event.actor
    if replier.user_id == state.author_id:
        return []  # talking to oneself is not an answer
    out: list[Output] = []
    if direct and state.author_role == "learner":
        out.append(
            Update(learner_key(state.course_id, state.author_id), REPLY_RECEIVED, u.event, u.t)
        )
    if state.answered_at is None and (cfg.replies_from == "anyone" or replier.role in _STAFF):
        state.answered_at = u.t
        if not state.deleted:
            out.extend(_close(state, u.t, "a reply arrived"))
    return out


def _close(state: PostState, at: float, why: str) -> list[Output]:
    """Resolve whatever is open and stop watching."""
    out: list[Output] = []
    if state.tracked:
        cfg = _ANY_CONFIG  # severity/SLA text is irrelevant on a resolve
        if state.stage == STAGE_WARNED:
            out.append(_alert(state, WARNING, at, "warning", cfg, resolve=why))
        elif state.stage >= STAGE_BREACHED:
            out.append(_alert(state, RULE, at, "info", cfg, resolve=why))
            if state.stage == STAGE_ESCALATED:
                out.append(_alert(state, ESCALATION, at, "info", cfg, resolve=why))
    state.due = INF
    return out


def _alert(
    state: PostState, rule: str, at: float, severity: str, cfg: UnansweredConfig, resolve: str = ""
) -> Alert:
    what = (
        "question"
        if state.thread_type == "question" and state.post_kind == "thread"
        else ("thread" if state.post_kind == "thread" else f"first post ({state.post_kind})")
    )
    if resolve:
        reasons: tuple[str, ...] = (resolve,)
    else:
        waited = hours(at - state.created)
        sla = hours(sla_for(state, cfg))
        if rule == WARNING:
            reasons = (f"{what} with no reply for {waited} (reply due within {sla})",)
        elif rule == RULE:
            reasons = (f"{what} with no reply for {waited}: reply target of {sla} missed",)
        else:
            reasons = (f"{what} still has no reply {waited} after posting; escalated",)
    details: dict[str, object] = {
        "post_id": state.post_id,
        "thread_id": state.thread_id,
        "post_kind": state.post_kind,
        "thread_type": state.thread_type,
        "title": state.title,
        "posted_at": iso_time(state.created),
    }
    if state.url:
        details["url"] = state.url
    if not resolve:
        # what a tutor reads on the card: the post, what it answers, who wrote it, by when
        details["excerpt"] = state.excerpt
        details["due_at"] = iso_time(state.breach_due)
        if state.context is not None:
            details["thread_title"], details["thread_excerpt"] = state.context
        learner_details(state.who, details)
    if rule == ESCALATION:
        details["escalate"] = True
        details["route"] = "lead"
    return alert(
        rule=rule,
        kind="unanswered_post",
        course_id=state.course_id,
        subject_type="post",
        subject_id=state.post_id,
        learner_id=state.author_id,
        episode=state.post_id,
        at=at,
        severity=severity,
        reasons=reasons,
        resolve=bool(resolve),
        details=details,
    )
