"""Learner rules: ``silent_learner`` (never posted / went quiet), ``dropout_risk`` and
overdue reflection prompts, all on one subject per (course, learner).

Rules and episodes (the episode makes the alert_id):

- ``silent_learner.never_posted``: enrolled, no forum post by the course start (or the
  enrolment, if later) plus ``never_posted_days``. Episode ``never_posted``. Resolved by a post.
- ``silent_learner.went_quiet``: no activity for ``went_quiet_days`` after the last activity.
  Episode: the last activity time that started the silence. Resolved by any activity.
- ``dropout_risk``: the score (``facilitation_rules.engine.dropout_model``) evaluated once a day at
  ``evaluate_hour`` UTC while the learner is inactive; fires at or above ``threshold``.
  Episode: the day it first crossed. Resolved when the learner is active again (the score
  is then re-evaluated from scratch once they have been inactive again).
- ``reflection.overdue``: prompts of the pack past their due time that the learner has not
  answered. Episode: the missing prompt ids; a newly missed prompt supersedes the open alert
  with a wider one. Resolved when every listed prompt is answered.

Unenrolment resolves everything open and stops the clocks; staff are never learner subjects.
"""

from __future__ import annotations

import sys

from facilitation_rules.contract.events import PostCreated, ReflectionSubmitted
from facilitation_rules.engine import dropout_model as dropout
from facilitation_rules.engine.detectors import dropout_risk as learner_risk
from facilitation_rules.engine.detectors.dropout_risk import risk_now as risk_now  # the export's
from facilitation_rules.engine.detectors.emit import day_word, iso_day, iso_time
from facilitation_rules.engine.detectors.learner_alerts import (
    DROPOUT,
    NEVER_POSTED,
    OVERDUE,
    WENT_QUIET,
    enrolled,
    fire,
    never_posted_reasons,
    open_alerts,
    resolve,
    retire,
)
from facilitation_rules.engine.outputs import Output, Update
from facilitation_rules.engine.subjects import (
    ACTIVE,
    COURSE_ACTIVE_DAY,
    COURSE_JOINED,
    COURSE_LEFT,
    ENROLLED,
    POST_TRACK,
    POSTED,
    REFLECTED,
    REPLY_RECEIVED,
    RETIRED,
    UNENROLLED,
    course_key,
    post_key,
)
from facilitation_rules.packs.config import DAY, CourseRules
from facilitation_rules.state import INF, NO_TIME, CourseState, LearnerState

# What plain activity changes in the course aggregate: a mask ``active`` returns.
NEW_DAY, JOINED = 1, 2
_CHANGED = 4  # an open alert changed: the due time must be redone


def apply(
    state: LearnerState | None, u: Update, rules: CourseRules, cohort: CourseState | None
) -> tuple[LearnerState | None, list[Output]]:
    op, t, ev = u.op, u.t, u.event
    out: list[Output] = []
    course = ev.course_id
    if op == ACTIVE:  # the hot path: most events are plain activity
        state, changes = active(state, course, u.key[3 + len(course) :], t, rules, cohort, out)
        if changes & NEW_DAY:
            out.append(Update(course_key(course), COURSE_ACTIVE_DAY, ev, t))
        if changes & JOINED:
            out.append(Update(course_key(course), COURSE_JOINED, ev, t))
        return state, out
    if op == RETIRED:
        return None, retire(state, course, u.key[3 + len(course) :], t)
    if state is None:
        # prompts due before we knew the learner are not theirs
        state = LearnerState(course_id=course, learner_id=u.key[3 + len(course) :], prompts_from=t)
    elif state.due <= t:
        tick(state, t, rules, cohort, out)  # per-subject event time: deadlines first
    was_enrolled = enrolled(state, rules)
    if op == POSTED:
        assert isinstance(ev, PostCreated)
        _touched(state, t, u, out, rules, cohort)
        state.posts += 1
        state.first_post_at = min(state.first_post_at, t)
        if state.posts == 1 and ev.post_kind != "thread" and rules.unanswered.first_posts:
            out.append(Update(post_key(state.course_id, ev.post_id), POST_TRACK, ev, t))
        if NEVER_POSTED in open_alerts(state):
            out.append(resolve(state, NEVER_POSTED, t, "posted in the forum"))
    elif op == REFLECTED:
        assert isinstance(ev, ReflectionSubmitted)
        _touched(state, t, u, out, rules, cohort)
        state.reflections += 1
        answered = state.answered_prompts
        if ev.prompt_id not in answered:
            answered = state.answered_prompts = (*answered, sys.intern(ev.prompt_id))
        episode = open_alerts(state).get(OVERDUE)
        if episode is not None and all(p in answered for p in episode.split(",")):
            out.append(resolve(state, OVERDUE, t, "the reflection was submitted"))
    elif op == REPLY_RECEIVED:
        state.replies_received += 1
    elif op == ENROLLED:
        if state.enrolled_at is None or t < state.enrolled_at:
            state.enrolled_at = t
        state.unenrolled = False
    elif op == UNENROLLED:
        state.unenrolled = True
        for rule in sorted(open_alerts(state)):
            out.append(resolve(state, rule, t, "unenrolled from the course"))
    now_enrolled = enrolled(state, rules)
    if now_enrolled != was_enrolled:
        change = COURSE_JOINED if now_enrolled else COURSE_LEFT
        out.append(Update(course_key(state.course_id), change, ev, t))
    _set_due(state, _components(state, rules))
    return state, out


def active(
    state: LearnerState | None,
    course_id: str,
    learner_id: str,
    t: float,
    rules: CourseRules,
    cohort: CourseState | None,
    out: list[Output],
) -> tuple[LearnerState, int]:
    """Plain activity of a learner at ``t`` (most events): alerts go to ``out``.

    Returns the state and what changed in the course aggregate (``NEW_DAY | JOINED``);
    ``apply`` turns that into updates of the course subject, replay applies it at once.
    """
    if state is None:
        state = LearnerState(course_id=course_id, learner_id=learner_id, prompts_from=t)
    elif (changes := quick_activity(state, t, rules)) >= 0:
        return state, changes
    elif state.due <= t:
        tick(state, t, rules, cohort, out)  # per-subject event time: deadlines first
    was_enrolled = enrolled(state, rules)
    changes = _touch(state, t, out, rules, cohort)
    if changes & _CHANGED or not was_enrolled or state.unenrolled:
        _set_due(state, _components(state, rules))
    else:
        state.due = _due_after_activity(state, rules)
    if not was_enrolled and enrolled(state, rules):
        changes |= JOINED
    return state, changes & (NEW_DAY | JOINED)


def quick_activity(state: LearnerState, t: float, rules: CourseRules) -> int:
    """Record the plain activity of a known, enrolled learner with no alert open that
    activity resolves and no deadline due by ``t``, not older than their last activity
    (most of a log): the ``NEW_DAY`` mask or 0. -1 when it may do more: then nothing was
    changed.

    Later on the day of the last activity it adds no active day and resolves nothing, and
    the deadlines it moves (went quiet, the next dropout evaluation) only move later, so
    ``due`` is left as it is: a lower bound, as it may be; the tick at that time finds
    nothing due yet and sets it right, the dropout evaluation reschedules itself past the
    new activity. On a new day it does what ``active`` does for such a learner.
    """
    last = state.last_active
    open_alerts = state.open
    if not (
        last <= t < state.due
        and (open_alerts is None or (WENT_QUIET not in open_alerts and DROPOUT not in open_alerts))
        and last != NO_TIME
        and enrolled(state, rules)
    ):
        return -1
    state.last_active = t
    if t // DAY == last // DAY:
        return 0
    # nothing open that activity resolves: _touch neither reads the cohort nor outputs
    changes = _touch(state, t, [], rules, None)
    state.due = _due_after_activity(state, rules)
    return changes


def _touched(
    state: LearnerState,
    t: float,
    u: Update,
    out: list[Output],
    rules: CourseRules,
    cohort: CourseState | None,
) -> None:
    """``_touch`` for a post or a reflection: a new active day updates the course."""
    if _touch(state, t, out, rules, cohort) & NEW_DAY:
        out.append(Update(course_key(state.course_id), COURSE_ACTIVE_DAY, u.event, t))


def _touch(
    state: LearnerState,
    t: float,
    out: list[Output],
    rules: CourseRules,
    cohort: CourseState | None,
) -> int:
    """Record activity at ``t``; a mask of ``NEW_DAY`` and ``_CHANGED``."""
    if t > state.last_active:
        state.last_active = t
    if t < state.first_active:
        state.first_active = t
    changes = NEW_DAY if state.days.add(int(t // DAY)) else 0
    open_alerts = state.open
    if rules.dropout.enabled and (open_alerts is None or DROPOUT not in open_alerts):
        # scored only once inactive for min_inactive_days: move the evaluation past that
        earliest = t + rules.dropout.min_inactive_days * DAY
        if state.eval_due < earliest or state.eval_due == INF:
            state.eval_due = learner_risk.evaluation_slot(earliest, rules)
    if not open_alerts:
        return changes
    if WENT_QUIET in open_alerts:
        out.append(resolve(state, WENT_QUIET, t, "active again"))
        changes |= _CHANGED
    if DROPOUT in open_alerts:
        cfg = rules.dropout
        risk = learner_risk.assess(state, t, rules, cohort).risk
        out.append(resolve(state, DROPOUT, t, f"active again (risk now {risk:.2f})"))
        state.eval_due = learner_risk.evaluation_slot(t + cfg.min_inactive_days * DAY, rules)
        changes |= _CHANGED
    return changes


def tick(
    state: LearnerState,
    now: float,
    rules: CourseRules,
    cohort: CourseState | None,
    out: list[Output] | None = None,
) -> tuple[LearnerState, list[Output]]:
    """Handle every learner deadline due at or before ``now``, earliest first."""
    out = [] if out is None else out
    while True:
        found = _components(state, rules)
        due, name = min(found)
        if due > now:
            break
        if name == NEVER_POSTED:
            state.never_posted_checked = due
            fire(
                state,
                NEVER_POSTED,
                "never_posted",
                due,
                rules,
                out,
                never_posted_reasons(state, rules),
            )
        elif name == WENT_QUIET:
            state.quiet_checked = due
            reason = (
                f"no activity for {day_word(rules.silent.went_quiet_days or 0)} "
                f"(last active {iso_day(state.last_active)})"
            )
            fire(state, WENT_QUIET, iso_time(state.last_active), due, rules, out, (reason,))
        elif name == OVERDUE:
            _prompt_due(state, due, rules, out)
        else:
            _evaluate_dropout(state, due, rules, cohort, out)
    _set_due(state, found)  # what the loop ended on: nothing else is due by now
    return state, out


def _components(state: LearnerState, rules: CourseRules) -> list[tuple[float, str]]:
    """The next due time of each rule on this learner (INF when none)."""
    if not enrolled(state, rules):
        return [(INF, "")]
    end = rules.course_end if rules.course_end is not None else INF
    found = [(state.eval_due if rules.dropout.enabled else INF, DROPOUT)]
    silent = rules.silent
    if (
        silent.enabled
        and silent.never_posted_days is not None
        and state.posts == 0
        and state.never_posted_checked is None
    ):
        due = _base(state, rules) + silent.never_posted_days * DAY
        found.append((due if due <= end else INF, NEVER_POSTED))
    if (
        silent.enabled
        and silent.went_quiet_days is not None
        and state.active
        and WENT_QUIET not in open_alerts(state)
    ):
        due = state.last_active + silent.went_quiet_days * DAY
        if state.quiet_checked != due and due <= end:
            found.append((due, WENT_QUIET))
    reflection = rules.reflection
    if reflection.enabled and reflection.prompts:
        after = max(state.overdue_checked, state.prompts_from)
        for prompt in reflection.prompts:  # sorted by due time
            if prompt.due > after:
                found.append((prompt.due, OVERDUE))
                break
    return found


def _set_due(state: LearnerState, found: list[tuple[float, str]]) -> None:
    """Due times from the state's ``_components``."""
    first = fixed = INF
    for due, name in found:
        if due < first:
            first = due
        if due < fixed and name in (NEVER_POSTED, OVERDUE):
            fixed = due
    state.due = first
    state.fixed_due = fixed


def _due_after_activity(state: LearnerState, rules: CourseRules) -> float:
    """``_set_due`` for an enrolled learner whose activity moved only went-quiet and dropout."""
    due = min(state.fixed_due, state.eval_due if rules.dropout.enabled else INF)
    silent = rules.silent
    if (
        silent.enabled
        and silent.went_quiet_days is not None
        and WENT_QUIET not in open_alerts(state)
    ):
        quiet = state.last_active + silent.went_quiet_days * DAY
        end = rules.course_end if rules.course_end is not None else INF
        if quiet < due and quiet <= end and state.quiet_checked != quiet:
            due = quiet
    return due


def _base(state: LearnerState, rules: CourseRules) -> float:
    """When the never-posted clock starts: the course start, or the enrolment if later."""
    joined = state.enrolled_at if state.enrolled_at is not None else state.first_active
    if rules.course_start is None:
        return joined
    return max(rules.course_start, joined) if state.enrolled_at is not None else rules.course_start


def _prompt_due(state: LearnerState, due: float, rules: CourseRules, out: list[Output]) -> None:
    cfg = rules.reflection
    start = state.prompts_from
    state.overdue_checked = due
    if cfg.only_active_learners and not (state.active and state.first_active <= due):
        return
    missing = [
        p for p in cfg.prompts if start < p.due <= due and p.prompt_id not in state.answered_prompts
    ]
    if not missing:
        return
    episode = ",".join(sorted(p.prompt_id for p in missing))
    current = open_alerts(state).get(OVERDUE)
    if current == episode:
        return
    if current is not None:
        out.append(resolve(state, OVERDUE, due, "superseded by a newer overdue prompt"))
    reasons = tuple(
        f"reflection {p.title or p.prompt_id!r} not submitted by {iso_day(p.due)}" for p in missing
    )
    fire(state, OVERDUE, episode, due, rules, out, reasons)


def _evaluate_dropout(
    state: LearnerState,
    at: float,
    rules: CourseRules,
    cohort: CourseState | None,
    out: list[Output],
) -> None:
    cfg = rules.dropout
    state.eval_due = INF
    if DROPOUT in open_alerts(state) or not state.active:
        return  # already flagged (re-evaluated on activity), or never started
    if rules.course_end is not None and at > rules.course_end:
        return
    if rules.course_start is not None and at < rules.course_start:
        state.eval_due = learner_risk.evaluation_slot(rules.course_start, rules)
        return
    inactive = at - state.last_active
    if inactive < cfg.min_inactive_days * DAY:
        state.eval_due = learner_risk.evaluation_slot(
            state.last_active + cfg.min_inactive_days * DAY, rules
        )
        return
    if inactive > max(dropout.RECENCY_CAP_WEEKS * 7, 2 * cfg.window_days) * DAY:
        return  # every feature is flat from here on: the score cannot change
    z, active_recent = learner_risk.quick_logit(state, at, rules, cohort)
    if dropout.sigmoid(z) >= cfg.threshold:
        found = learner_risk.assess(state, at, rules, cohort)
        reasons = learner_risk.reasons(found, cfg)
        details = {"risk_score": round(found.risk, 3)}
        fire(state, DROPOUT, iso_day(at), at, rules, out, reasons, details)
        if DROPOUT in open_alerts(state):
            return
    # Skip ahead: without new activity the logit rises by a bounded amount a day, so no
    # evaluation before the gap to the threshold could close can fire.
    gap = learner_risk.logit(cfg.threshold) - z
    days = learner_risk.days_before_crossing(gap, active_recent, cfg)
    state.eval_due = at + DAY * days
