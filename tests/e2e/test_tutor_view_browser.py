"""The tutor page in Debian's Chromium, on a desktop and on a 390 px phone, against the real
tutor API and Redis: cards that carry the work, triage (counts and filters that agree with
the API, kept in the URL, pages, grouping, sort, keys), a refresh that keeps a half-made
choice and the focus, undo that puts the nudge back in Redis, the lead's team view with
the over-capacity tutor and bulk reassign, reassign warnings; tutors confined to their
queue. FACILITATION_TUTOR_SCREENSHOT=DIR saves a screenshot per test and viewport."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.support.browser import chromium, fits, js_errors, wait
from tests.support.tutor_api import T0, Client, make_alert, tutor_api

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
XSS = '<img src=x onerror="document.title=\'pwned\'">Where is week 3?'


@pytest.fixture
def stack(redis_url: str, unique: str) -> Iterator[dict[str, Any]]:
    with tutor_api(redis_url, f"e2e:{unique}:") as env:
        yield env


@pytest.fixture(params=["desktop", "phone"])
def driver(request: pytest.FixtureRequest) -> Iterator[Any]:
    with chromium(request.param) as drv:
        drv.viewport = request.param
        yield drv
        errors = js_errors(drv)
        assert not errors, errors


def snap(driver: Any, name: str) -> None:
    if folder := os.environ.get("FACILITATION_TUTOR_SCREENSHOT"):
        driver.save_screenshot(os.path.join(folder, f"{name}-{driver.viewport}.png"))


def by(css: str) -> Any:
    from selenium.webdriver.common.by import By

    return (By.CSS_SELECTOR, css)


def sign_in(driver: Any, base: str, token: str, query: str = "") -> None:
    from selenium.webdriver.common.keys import Keys

    driver.get(base + "/" + query)
    field = wait(driver, lambda d: d.find_element(*by("#token")))
    wait(driver, lambda d: field.is_displayed())
    field.send_keys(token, Keys.ENTER)  # keyboard only
    loaded = ("Nudges", "Nothing")
    wait(driver, lambda d: d.find_element(*by(".tq-summary")).text.startswith(loaded))


def cards(driver: Any) -> list[Any]:
    return driver.find_elements(*by(".tq-card"))


def card_for(driver: Any, nudge_id: str) -> Any:
    return driver.find_element(*by(f'.tq-card[data-nudge-id="{nudge_id}"]'))


def enqueue(stack: dict, n: int, tutor: str, **kw: Any) -> str:
    at = kw.pop("now", T0)
    return str(stack["queue"].enqueue(make_alert(n, f"L{n}", **kw), tutor, now=at).nudge_id)


def test_cards_carry_the_work(driver: Any, stack: dict) -> None:
    post = enqueue(stack, 1, "ben", details={
        "title": XSS, "excerpt": "I tried the quiz twice and the link 404s.",
        "learner_name": "María López", "learner_username": "maria.lopez",
        "posted_at": "2025-03-04T11:00:00Z", "due_at": "2025-03-05T11:00:00Z"})
    reply = enqueue(stack, 2, "ben", details={
        "title": "", "excerpt": "Same here: the median is 4.5, not 4.", "learner_name": "Wei Zhang",
        "thread_title": "Week 2 quiz", "thread_excerpt": "Question 3 asks for the median.",
        "posted_at": "2025-03-05T01:00:00Z", "due_at": "2025-03-06T01:00:00Z"})
    quiet = enqueue(stack, 3, "ben", rule="silent_learner.went_quiet", kind="silent_learner",
                    subject_type="learner", severity="warning", reasons=(
                        "no activity for 9 days", "active on 1 of the last 14 days"),
                    details={"excerpt": "No forum posts yet; active on 1 day.", "url": "",
                             "learner_name": "Amara Okafor", "title": ""})
    other = enqueue(stack, 4, "carla")
    sign_in(driver, stack["base"], stack["ben"].token)
    wait(driver, lambda d: len(cards(d)) == 3)
    first = card_for(driver, post)
    text = first.text
    assert "María López" in text and "@maria.lopez" in text
    assert XSS in text and driver.title != "pwned" and not first.find_elements(*by("img"))
    assert "I tried the quiz twice" in text
    assert "posted " in text and "ago" in text and "reply due" in text and "overdue 2 h" in text
    assert "No reply for 20 h." in text  # one sentence of why
    links = {a.text: a.get_attribute("href") for a in first.find_elements(*by(".tq-links a"))}
    assert links["Thread"] == "https://lms.example.org/t1"
    assert links["Profile"] == "https://lms.example.org/u/maria.lopez"
    assert links["Progress"].startswith("https://lms.example.org/courses/course-v1:")
    labels = [b.get_attribute("aria-label") for b in first.find_elements(*by("button"))]
    assert "Claim nudge for María López" in labels and "Resolve nudge for María López" in labels
    answered = card_for(driver, reply).text
    assert "In reply to “Week 2 quiz”" in answered and "Question 3 asks for the median." in answered
    assert "Same here: the median is 4.5" in answered and "Wei Zhang" in answered
    learner = card_for(driver, quiet).text
    assert "No forum posts yet" in learner and "Amara Okafor" in learner
    assert "No activity for 9 days; active on 1 of the last 14 days." in learner
    snap(driver, "cards")
    assert fits(driver)
    # Claim with the keyboard; the other tutor's nudge is neither shown nor actionable.
    from selenium.webdriver.common.keys import Keys

    first.find_element(*by(".tq-claim")).send_keys(Keys.ENTER)
    wait(driver, lambda d: stack["queue"].get(post).state == "claimed")
    wait(driver, lambda d: "claimed by you" in card_for(d, post).text)
    assert driver.switch_to.active_element == card_for(driver, post).find_element(*by("h3"))
    statuses = driver.execute_async_script(
        """const [id, token, done] = arguments;
        const h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"};
        Promise.all(["claim", "resolve"].map((a) => fetch("/api/v1/nudges/" + id + "/" + a,
            {method: "POST", headers: h, body: "{}"}).then((r) => r.status))).then(done);""",
        other, stack["ben"].token)
    assert statuses == [403, 403] and stack["queue"].get(other).state == "new"


def test_triage_filters_and_counts_agree_with_the_api(driver: Any, stack: dict) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    severities = ("urgent", "high", "warning")
    for n in range(30):
        enqueue(stack, n, "ben", severity=severities[n % 3], now=T0 - timedelta(minutes=n),
                course_id="course-v1:Other+X+1" if n % 5 == 0 else make_alert(0, "x").course_id)
    api = stack["ben"]
    _, whole = api("GET", "/api/v1/queue")
    sign_in(driver, stack["base"], api.token)
    wait(driver, lambda d: len(cards(d)) == 25)  # a page; the rest comes on demand
    shown = {b.get_attribute("data-value"): b.text for b in driver.find_elements(*by(".tq-count"))}
    for severity, count in whole["counts"]["severity"].items():
        assert shown[severity] == f"{severity} {count}"
    assert shown["1"] in (f"overdue {whole['counts']['overdue']}", "claimed by me 0")
    driver.find_element(*by('.tq-count[data-value="urgent"]')).click()
    _, urgent = api("GET", "/api/v1/queue?severity=urgent&limit=100")
    wait(driver, lambda d: len(cards(d)) == urgent["total"] == 10)
    assert {c.find_element(*by(".tq-sev")).text.lower() for c in cards(driver)} == {"urgent"}
    assert "severity=urgent" in driver.current_url
    driver.refresh()  # the filter lives in the URL (the token in the tab's session)
    wait(driver, lambda d: len(cards(d)) == 10)
    assert driver.find_element(*by("#tq-severity")).get_attribute("value") == "urgent"
    if driver.viewport == "phone":
        driver.find_element(*by(".tq-filter-box > summary")).click()
    Select(driver.find_element(*by("#tq-severity"))).select_by_value("")
    driver.find_element(*by("#tq-group")).click()
    wait(driver, lambda d: len(d.find_elements(*by(".tq-group-heading"))) == 2)
    for group in driver.find_elements(*by(".tq-group")):
        heading = group.find_element(*by(".tq-group-heading")).text
        assert heading == f"{group.get_attribute('data-group')} ({len(cards(group))})"
    assert {g.get_attribute("data-group") for g in driver.find_elements(*by(".tq-group"))} == set(
        whole["counts"]["course"])
    driver.find_element(*by("#tq-group")).click()
    Select(driver.find_element(*by("#tq-sort"))).select_by_value("oldest")
    _, oldest = api("GET", "/api/v1/queue?sort=oldest&limit=25")
    wait(driver, lambda d: [c.get_attribute("data-nudge-id") for c in cards(d)]
         == [n["nudge_id"] for n in oldest["nudges"]])
    more = driver.find_element(*by(".tq-more"))
    more.click()
    wait(driver, lambda d: len(cards(d)) == 30 and not more.is_displayed())
    assert "sort=oldest" in driver.current_url
    # keys: j to the first card, j again, c claims it
    driver.find_element(*by(".tq-summary")).click()
    driver.switch_to.active_element.send_keys("j")
    driver.switch_to.active_element.send_keys("j")
    second = cards(driver)[1]
    assert driver.switch_to.active_element == second.find_element(*by("h3"))
    driver.switch_to.active_element.send_keys("c")
    nid = second.get_attribute("data-nudge-id")
    wait(driver, lambda d: stack["queue"].get(nid).state == "claimed")
    wait(driver, lambda d: "claimed by you" in card_for(d, nid).text)
    wait(driver, lambda d: d.switch_to.active_element.tag_name == "h3")
    driver.switch_to.active_element.send_keys(Keys.SHIFT, "/")  # "?": the help
    assert driver.find_element(*by(".tq-help")).is_displayed()
    snap(driver, "triage")
    assert fits(driver)


def test_refresh_keeps_a_half_made_snooze_and_the_focus(driver: Any, stack: dict) -> None:
    from selenium.webdriver.common.keys import Keys

    first = enqueue(stack, 1, "ben", severity="high")
    enqueue(stack, 2, "ben", severity="warning")
    sign_in(driver, stack["base"], stack["ben"].token, "?refresh=2")
    wait(driver, lambda d: len(cards(d)) == 2)
    choice = card_for(driver, first).find_element(*by(".tq-snooze-choice"))
    driver.execute_script("arguments[0].focus()", choice)
    choice.send_keys(Keys.ARROW_DOWN)  # 1 hour -> 4 hours, not applied yet
    assert choice.get_attribute("value") == "4"
    # Meanwhile an urgent nudge arrives (it goes first) and the first one changes.
    enqueue(stack, 3, "ben", severity="urgent")
    stack["queue"].enqueue(make_alert(9, "L1", rule="unanswered_post.escalation"), "ben", now=T0)
    wait(driver, lambda d: len(cards(d)) == 3, timeout=15)  # the 2-second refresh ran
    wait(driver, lambda d: cards(d)[0].get_attribute("data-nudge-id") != first)
    kept = card_for(driver, first).find_element(*by(".tq-snooze-choice"))
    assert kept == choice and kept.get_attribute("value") == "4"
    assert driver.switch_to.active_element == choice
    snap(driver, "refresh")
    card_for(driver, first).find_element(*by(".tq-snooze")).click()
    wait(driver, lambda d: stack["queue"].get(first).state == "snoozed")
    assert stack["queue"].get(first).snoozed_until == "2025-03-05T17:00:00Z"


def test_undo_restores_the_nudge_in_redis(driver: Any, stack: dict) -> None:
    nid = enqueue(stack, 1, "ben")
    client, p = stack["queue"].client, stack["queue"].prefix
    sign_in(driver, stack["base"], stack["ben"].token)
    wait(driver, lambda d: len(cards(d)) == 1)
    card_for(driver, nid).find_element(*by(".tq-resolve")).click()
    wait(driver, lambda d: stack["queue"].get(nid).state == "resolved")
    assert client.zscore(f"{p}queue:ben", nid) is None
    undo = wait(driver, lambda d: d.find_element(*by(".tq-undo-button")))
    assert "Resolved: nudge for Learner Nr 1." in driver.find_element(*by(".tq-undo")).text
    snap(driver, "undo")
    undo.click()
    wait(driver, lambda d: stack["queue"].get(nid).state == "new")
    assert client.zscore(f"{p}queue:ben", nid) is not None and client.ttl(f"{p}nudge:{nid}") == -1
    assert client.zscore(f"{p}unclaimed", nid) is not None
    wait(driver, lambda d: d.switch_to.active_element == card_for(d, nid).find_element(*by("h3")))
    # and by key: n (not useful), then u (undo)
    driver.switch_to.active_element.send_keys("n")
    wait(driver, lambda d: stack["queue"].get(nid).state == "resolved")
    wait(driver, lambda d: d.find_element(*by(".tq-undo")).is_displayed())
    driver.find_element(*by(".tq-summary")).send_keys("u")
    wait(driver, lambda d: stack["queue"].get(nid).state == "new")
    assert client.hget(f"{p}feedback:not_useful", "unanswered_post") == "0"


def test_lead_sees_the_over_capacity_tutor_and_reassigns(driver: Any, stack: dict) -> None:
    from selenium.webdriver.support.ui import Select

    ids = [enqueue(stack, n, "ben") for n in range(21)]  # ben's capacity is 20
    enqueue(stack, 99, "carla")
    sign_in(driver, stack["base"], stack["ana"].token, "?scope=all")
    row = wait(driver, lambda d: d.find_element(*by('.tq-team tr[data-tutor="ben"]')))
    assert "21 / 20 — over capacity" in row.text and "tq-over" in row.get_attribute("class")
    _, team = stack["ana"]("GET", "/api/v1/team")
    over = [t["tutor_id"] for t in team["tutors"] if t["over_capacity"]]
    assert over == ["ben"] and driver.find_elements(*by("tr.tq-over")) == [row]
    snap(driver, "team")
    # bulk: two of ben's to carla
    from selenium.webdriver.common.keys import Keys

    for nid in ids[:2]:
        card_for(driver, nid).find_element(*by(".tq-select")).send_keys(Keys.SPACE)
    Select(driver.find_element(*by("#tq-bulk-to"))).select_by_value("carla")
    driver.find_element(*by(".tq-bulk-go")).click()
    wait(driver, lambda d: all(stack["queue"].get(i).tutor_id == "carla" for i in ids[:2]))
    wait(driver, lambda d: "21 / 20" not in d.find_element(*by('tr[data-tutor="ben"]')).text)
    # one to isla, off shift: the page warns, then reassigns when asked to
    card = card_for(driver, ids[2])
    to = card.find_element(*by(".tq-to"))
    driver.execute_script("arguments[0].focus()", to)
    wait(driver, lambda d: len(Select(to).options) > 2)
    isla = next(o for o in Select(to).options if o.get_attribute("value") == "isla")
    assert "off shift until" in isla.text
    Select(to).select_by_value("isla")
    card.find_element(*by(".tq-reassign")).send_keys(Keys.ENTER)
    anyway = wait(driver, lambda d: card.find_element(*by(".tq-warn button")))
    assert "off shift" in card.find_element(*by(".tq-warn")).text
    assert stack["queue"].get(ids[2]).tutor_id == "ben"
    assert driver.switch_to.active_element == anyway  # the choice is the tutor's to confirm
    anyway.send_keys(Keys.ENTER)
    wait(driver, lambda d: stack["queue"].get(ids[2]).tutor_id == "isla")
    assert fits(driver)


def test_tutors_see_only_their_queue(driver: Any, stack: dict) -> None:
    from selenium.webdriver.common.keys import Keys

    enqueue(stack, 1, "carla")
    driver.get(stack["base"] + "/?scope=all")  # not a lead: the team's queue is refused
    field = wait(driver, lambda d: d.find_element(*by("#token")))
    wait(driver, lambda d: field.is_displayed())
    field.send_keys(stack["ben"].token, Keys.ENTER)
    wait(driver, lambda d: "only leads" in d.find_element(*by("#status")).text)
    assert cards(driver) == []
    assert Client(stack["base"], stack["ben"].token)("GET", "/api/v1/queue?scope=all")[0] == 403
