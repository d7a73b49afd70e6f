"""The seed course: calibrated to the reference MOOC, and the engine meets the targets."""

from __future__ import annotations

import json

import pytest

from facilitation_stream.cli.main import main


@pytest.fixture(scope="module")
def runs() -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["simulate", "--json", "--compare", "--seed", "1"]) == 0
    return json.loads(out.getvalue())


def test_course_is_calibrated_to_the_reference_mooc(runs: dict) -> None:
    assert runs["enrolled"] == 402 and runs["active_to_end"] == 86 and runs["weeks"] == 13
    assert 950 <= runs["posts"] <= 1200
    assert len(runs["nudges_per_tutor"]) == 8


def test_engine_on_meets_the_targets_and_beats_browsing(runs: dict) -> None:
    for key in (
        "learner_first_posts",
        "replied_within_sla_share",
        "median_hours_to_first_reply",
        "nudges",
        "nudges_per_tutor",
        "tutor_load_spread",
    ):
        assert key in runs
    assert runs["replied_within_sla_share"] >= 0.99
    assert runs["tutor_load_spread"] <= 1.25
    off = runs["compare"]
    assert off["engine"] == "off" and off["nudges"] == 0
    assert off["replied_within_sla_share"] < runs["replied_within_sla_share"]
    assert off["learner_first_posts"] == runs["learner_first_posts"]
