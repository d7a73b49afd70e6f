"""The dropout-risk features, score and plain-word reasons (engine.dropout_model)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from facilitation_rules.engine import dropout_model as dropout
from facilitation_rules.packs.loader import load_pack
from facilitation_rules.state import ActiveDays, CourseState, LearnerState

DAY = dropout.DAY
CFG = load_pack().rules.dropout


def learner(days: set[int], last: int | None = None) -> LearnerState:
    state = LearnerState(course_id="c", learner_id="ann")
    state.days = ActiveDays(days)
    if days:
        state.last_active = ((max(days) if last is None else last) + 0.5) * DAY
    return state


def test_features_count_days_in_the_windows_and_so_far():
    state = learner({80, 90, 95, 100, 101})
    cohort = CourseState(course_id="c")
    cohort.learners = 2
    cohort.active_by_day = {95: 2, 100: 1, 101: 1}
    f = dropout.features_at(state, 102 * DAY, cohort, 14)
    assert (f.active_recent, f.active_prior, f.active_total) == (4, 1, 5)  # 89..102, 75..88
    assert f.days_since_active == 0.5
    assert f.cohort_mean == 2.0
    v = f.vector()
    assert v["total_days"] == math.log1p(5)
    assert v["active_days"] == 2.0 and v["trend"] == 1.5 and v["cohort"] == 1.0
    assert set(v) == set(dropout.FEATURES)


def test_a_learner_with_few_days_so_far_is_told_so():
    weights = {"total_days": -1.0, "recency": 0.5}
    reference = {"total_days": math.log1p(6), "recency": 2.0}
    f = dropout.features_at(learner({100, 101}), 105 * DAY, None, 14)
    reasons = dropout.reasons(f, f.vector(), weights, reference, 3)
    assert reasons == ("active on only 2 days so far",)


def test_a_never_active_learner_reads_never_active():
    f = dropout.features_at(learner(set()), 105 * DAY, None, 14)
    reasons = dropout.reasons(f, f.vector(), {"total_days": -1.0}, {"total_days": 1.0}, 3)
    assert reasons == ("never active",)


def test_when_nothing_stands_out_the_inactivity_is_the_reason():
    f = dropout.features_at(learner(set(range(80, 101))), 104 * DAY, None, 14)
    reasons = dropout.reasons(f, f.vector(), {"total_days": -1.0}, {"total_days": 0.0}, 3)
    assert reasons == ("no activity for 3 days",)


def test_the_default_model_ranks_the_one_day_visitor_above_the_regular():
    one = dropout.features_at(learner({100}), 110 * DAY, None, CFG.window_days).vector()
    regular = dropout.features_at(learner(set(range(90, 101))), 110 * DAY, None, CFG.window_days)
    assert dropout.score(one, CFG.intercept, CFG.weights) > dropout.score(
        regular.vector(), CFG.intercept, CFG.weights
    )


@given(
    st.sets(st.integers(min_value=0, max_value=60), max_size=40),
    st.integers(min_value=0, max_value=60),
)
def test_every_learner_gets_a_score_in_range_and_at_least_one_reason(days, gap):
    state = learner(days)
    now = (max(days, default=0) + gap + 1) * DAY
    f = dropout.features_at(state, now, None, CFG.window_days)
    vector = f.vector()
    assert 0.0 <= dropout.score(vector, CFG.intercept, CFG.weights) <= 1.0
    reasons = dropout.reasons(f, vector, CFG.weights, CFG.reference, CFG.max_reasons)
    assert 1 <= len(reasons) <= CFG.max_reasons


@given(
    days=st.sets(st.integers(min_value=0, max_value=120), max_size=40),
    since=st.floats(min_value=0, max_value=60),
    counts=st.tuples(*[st.integers(min_value=0, max_value=30)] * 3),
    cohort_weight=st.sampled_from([0.0, 0.25, -0.5]),
    with_cohort=st.booleans(),
)
def test_quick_logit_is_the_same_float_as_the_full_assessment(
    days, since, counts, cohort_weight, with_cohort
):
    from dataclasses import replace

    from facilitation_rules.engine.detectors import dropout_risk as learner_risk

    rules = load_pack().rules
    weights = {**rules.dropout.weights, "cohort": cohort_weight}
    rules = replace(rules, dropout=replace(rules.dropout, weights=weights))
    state = LearnerState(course_id="c", learner_id="ann")
    state.days = ActiveDays(days)
    state.posts, state.reflections, state.replies_received = counts
    at = (max(days, default=0) + since) * DAY
    if days:
        state.last_active = max(days) * DAY + 3600.0
    cohort = None
    if with_cohort:
        cohort = CourseState(course_id="c")
        cohort.learners = 3
        cohort.active_by_day = {d: 1 + d % 3 for d in range(0, 130, 2)}
    full = learner_risk.assess(state, at, rules, cohort)
    z, recent = learner_risk.quick_logit(state, at, rules, cohort)
    assert z == full.logit  # exactly: the alert decision must not depend on the path
    assert recent == full.features.active_recent
