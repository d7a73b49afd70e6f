"""The pure triage helpers: one sentence of reasons, safe links, respond-by times, filters,
counts, sort orders, the team's load, reassignment choices, next shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from facilitation_rules.routing.assignment import Load, Request, reassign_candidates
from facilitation_rules.routing.nudges import (
    Nudge,
    NudgeItem,
    learner_links,
    reason_sentence,
    safe_url,
)
from facilitation_rules.routing.roster import load_roster
from facilitation_rules.routing.triage import (
    Filters,
    counts,
    is_overdue,
    ordered,
    respond_by,
    shift_after,
    team_loads,
)
from facilitation_stream.delivery.notifications import digest_email, webhook_payload

ROOT = Path(__file__).parents[2]
ROSTER = load_roster(ROOT / "rules/facilitation_rules/packs/roster.example.yaml")
T0 = datetime(2025, 3, 5, 13, tzinfo=UTC)


def item(rule: str, reasons: tuple[str, ...], **kw: str) -> NudgeItem:
    return NudgeItem(alert_id=f"{rule}:1", rule=rule, kind=rule.split(".")[0],
                     subject_type="learner", subject_id="L", fired_at="2025-03-05T10:00:00Z",
                     reasons=reasons, **kw)  # type: ignore[arg-type]


def nudge(nid: str, *items: NudgeItem, severity: str = "high", state: str = "new",
          created: str = "2025-03-05T10:00:00Z", claimed_by: str = "") -> Nudge:
    return Nudge(nudge_id=nid, course_id=ROSTER.course_id, learner_id="L", tutor_id="ben",
                 state=state, severity=severity, created_at=created, updated_at=created,
                 due_at=created, items=items, claimed_by=claimed_by)


def test_one_sentence_of_reasons_without_repeats() -> None:
    quiet = item("silent_learner.went_quiet", ("no activity for 9 days (last active 2025-02-24)",))
    risk = item("dropout_risk", ("no activity for 9 days", "active on only 1 day so far",
                                 "active on 1 of the last 14 days"))
    assert reason_sentence((quiet, risk)) == (
        "No activity for 9 days (last active 2025-02-24); active on only 1 day so far.")
    assert reason_sentence(()) == ""


def test_only_http_links_leave_the_engine() -> None:
    for bad in ("javascript:alert(1)", "JAVASCRIPT://x%0aalert(1)", "data:text/html,x",
                "https://x.org/a b", 'https://x.org/"><script>', "https://x.org/|evil>",
                "//x.org", "https:///x", "vbscript:x", "https://x.org/\x00"):
        assert safe_url(bad) == "", bad
    assert safe_url(" https://lms.example.org/t/1?a=b#c ") == "https://lms.example.org/t/1?a=b#c"
    links = learner_links("https://lms.example.org/", "course-v1:A+B+C", "42", "maría l")
    assert links == {"progress": "https://lms.example.org/courses/course-v1:A+B+C/progress/42/",
                     "profile": "https://lms.example.org/u/mar%C3%ADa%20l"}
    assert learner_links("javascript:x", "c", "1", "u") == {}


def test_digests_and_webhooks_carry_only_safe_links() -> None:
    bad = nudge("n1", item("unanswered_post", ("no reply",), url="javascript:alert(1)",
                           title="<b>x</b>"))
    good = nudge("n2", item("unanswered_post", ("no reply",), url="https://lms.example.org/t"))
    text = digest_email(ROSTER.tutors[0], [bad, good], "javascript:void(0)")["text"]
    assert "javascript" not in text and "https://lms.example.org/t" in text
    payload = webhook_payload([bad], "javascript:alert(1)", "New nudge")
    assert "javascript" not in str(payload) and "&lt;b&gt;" in payload["text"]
    assert "<https://tutors.example.org/|Open" in webhook_payload(
        [good], "https://tutors.example.org/", "x")["text"]


def test_respond_by_overdue_filters_counts_and_sorts() -> None:
    post = item("unanswered_post", ("no reply",), due_at="2025-03-05T12:00:00Z")
    quiet = item("silent_learner.went_quiet", ("quiet",))  # escalates after 24 h (roster)
    a = nudge("a", post, severity="urgent", created="2025-03-05T11:00:00Z")
    b = nudge("b", quiet, severity="warning", created="2025-03-05T09:00:00Z", claimed_by="ben",
              state="claimed")
    c = nudge("c", post, state="snoozed", created="2025-03-05T08:00:00Z")
    assert respond_by(a, ROSTER) == T0 - timedelta(hours=1)
    assert respond_by(b, ROSTER) == datetime(2025, 3, 6, 10, tzinfo=UTC)
    assert [is_overdue(n, ROSTER, T0) for n in (a, b, c)] == [True, False, False]
    assert Filters(rule=frozenset({"silent_learner"})).matches(b, False)
    assert not Filters(rule=frozenset({"silent"})).matches(b, False)
    assert Filters(claimed_by="ben", state=frozenset({"claimed"})).matches(b, False)
    assert not Filters(overdue=True).matches(b, False)
    assert counts([a, b, c])["severity"] == {"high": 1, "urgent": 1, "warning": 1}
    due = {n.nudge_id: respond_by(n, ROSTER) for n in (a, b, c)}
    assert [n.nudge_id for n in ordered([a, b, c], "oldest", due)] == ["c", "b", "a"]
    assert [n.nudge_id for n in ordered([a, b, c], "severity", due)] == ["a", "c", "b"]
    assert [n.nudge_id for n in ordered([b, c, a], "due", due)] == ["a", "c", "b"]


def test_team_loads_candidates_and_next_shift() -> None:
    ana = [nudge(f"n{i}") for i in range(26)]
    rows = {r.tutor_id: r for r in team_loads(ROSTER, {"ana": ana}, T0, frozenset({"dev"}))}
    assert rows["ana"].over_capacity and rows["ana"].open == 26 and not rows["ben"].over_capacity
    assert rows["dev"].away and rows["isla"].next_shift is not None
    request = Request(key="n", rule="silent_learner.went_quiet", kind="silent_learner",
                      severity="warning")
    loads = {"carla": Load(open=30)}
    choices = reassign_candidates(ROSTER, request, T0, loads=loads, holder="ben")
    found = {c.tutor_id: c for c in choices}
    assert "ben" not in found and sum(c.recommended for c in choices) == 1
    assert choices[0].recommended and choices[0].warnings == ()
    assert "does not cover learners" in found["carla"].warnings
    assert "at capacity (30 of 20)" in found["carla"].warnings
    assert found["isla"].warnings == ()  # off shift, but on within the rule's 24 h
    assert found["ana"].warnings == ()  # a lead covering everything, on shift
    urgent = Request(key="n", rule="unanswered_post", kind="unanswered_post", severity="urgent")
    now = {c.tutor_id: c for c in reassign_candidates(ROSTER, urgent, T0, loads={}, holder="ben")}
    assert now["isla"].warnings == ("off shift until Wed 21:00 UTC",)
    ben = ROSTER.get("ben")
    assert ben is not None and shift_after(ben, T0) == datetime(2025, 3, 8, 9, tzinfo=UTC)
