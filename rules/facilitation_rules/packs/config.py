"""Typed settings of the built-in detectors, as a loaded rule pack gives them to the engine.

Defaults here are the documented defaults of the shipped pack (``packs/default.yaml``); the
pack loader fills these classes from YAML after schema validation. Times are stored in
seconds (the engine's unit) but named after what the course team writes (hours, days).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from facilitation_rules.packs.business_hours import BusinessCalendar

DAY = 86400.0
HOUR = 3600.0

#: A compiled ``when:`` filter: takes the symbol mapping, says whether the rule applies.
Condition = Any  # conditions.Condition; typed loosely so the engine never imports rule-engine

RepliesFrom = Literal["anyone", "staff"]


@dataclass(frozen=True, slots=True)
class UnansweredConfig:
    enabled: bool = True
    sla: float = 24 * HOUR
    question_sla: float | None = 12 * HOUR
    #: Fraction of the SLA at which a warning fires (None: no warning).
    warn_at: float | None = 0.75
    #: Business time after the breach at which the lead is alerted (None: never).
    escalate_after: float | None = 24 * HOUR
    replies_from: RepliesFrom = "anyone"
    include_staff_posts: bool = False
    #: Also watch a learner's first post in the course when it is a response or comment.
    first_posts: bool = True
    business_hours: bool = False
    severity: str = "high"
    when: Condition = None


@dataclass(frozen=True, slots=True)
class SilentConfig:
    enabled: bool = True
    #: "never posted": no forum post by this many days after the course start (or enrolment).
    never_posted_days: float | None = 14.0
    #: "went quiet": no activity at all for this many days after having been active.
    went_quiet_days: float | None = 10.0
    severity: str = "warning"
    when: Condition = None


@dataclass(frozen=True, slots=True)
class DropoutConfig:
    enabled: bool = True
    threshold: float = 0.5  # the default pack's (docs/dropout-risk.md)
    #: Learners active more recently than this are not evaluated (the score is low anyway).
    min_inactive_days: float = 5.0
    #: Hour of the day (UTC) at which scores are evaluated.
    evaluate_hour: int = 6
    window_days: int = 14
    max_reasons: int = 3
    intercept: float = -0.6
    weights: dict[str, float] = field(default_factory=dict)
    #: Feature means of the learners who stayed, in the data the weights were fitted on:
    #: contributions are measured against them when choosing the reasons.
    reference: dict[str, float] = field(default_factory=dict)
    severity: str = "high"
    when: Condition = None


@dataclass(frozen=True, slots=True)
class Prompt:
    prompt_id: str
    due: float
    title: str = ""


@dataclass(frozen=True, slots=True)
class ReflectionConfig:
    enabled: bool = True
    prompts: tuple[Prompt, ...] = ()
    #: Only learners who were active at least once are reminded of overdue prompts.
    only_active_learners: bool = True
    #: A shared reflection with no comment from someone else within this many days.
    peer_response_days: float | None = 3.0
    severity: str = "warning"
    #: Filter on learners for overdue prompts.
    when: Condition = None
    #: Filter on shared reflections for the no-peer-response rule.
    when_shared: Condition = None


@dataclass(frozen=True, slots=True)
class CourseRules:
    """Everything the engine needs to know about one course's rules."""

    pack_name: str = "default"
    course_start: float | None = None
    course_end: float | None = None
    #: Learners seen active in the course count as enrolled even without an enrolment event
    #: (a log that starts mid-course has none for earlier sign-ups).
    implicit_enrollment: bool = True
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    unanswered: UnansweredConfig = field(default_factory=UnansweredConfig)
    silent: SilentConfig = field(default_factory=SilentConfig)
    dropout: DropoutConfig = field(default_factory=DropoutConfig)
    reflection: ReflectionConfig = field(default_factory=ReflectionConfig)
