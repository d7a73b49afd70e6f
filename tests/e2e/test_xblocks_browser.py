"""The XBlocks in the xblock-sdk workbench, driven by Debian's Chromium through Selenium.

A learner starts a thread (with HTML in it, shown as text), a second learner and a tutor
reply, a reflection is saved privately, then shared, and a peer comments on it; the
matching contract events are read back from a fresh topic on the real Kafka broker.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facilitation_rules.contract.codec import loads
from facilitation_rules.contract.events import (
    Event,
    PostCreated,
    ReflectionCommented,
    ReflectionSubmitted,
)
from tests.support.browser import chromium

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
DISCUSSION = "/scenario/facilitation_discussion.0/"
REFLECTION = "/scenario/facilitation_reflection.0/"
HTML_BODY = '<b>not bold</b> <script>document.title="pwned"</script> Why is the sky blue?'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workbench(kafka_bootstrap: str, unique: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The workbench on 127.0.0.1:<free port>, a temp SQLite DB, events to a fresh topic."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    topic = f"xblocks-e2e-{unique}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        admin.close()
    port = _free_port()
    db = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "wb.db")}}
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.e2e.workbench_settings",
        "PYTHONPATH": str(ROOT),
        "WORKBENCH_DATABASES": json.dumps(db),
        "FACILITATION_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "FACILITATION_EVENTS_TOPIC": topic,
        "FACILITATION_OUTBOX_PATH": str(tmp_path / "outbox.sqlite3"),
    }
    admin_cmd = [sys.executable, "-m", "django"]
    subprocess.run([*admin_cmd, "migrate", "--run-syncdb", "-v0"], env=env, cwd=tmp_path,
                   check=True, timeout=120)
    log = open(tmp_path / "workbench.log", "wb")  # noqa: SIM115 - the server writes to it
    server = subprocess.Popen(
        [*admin_cmd, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + DISCUSSION, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"workbench did not start: {(tmp_path / 'workbench.log').read_text()}")
            time.sleep(0.3)
        yield {"base": base, "topic": topic, "bootstrap": kafka_bootstrap}
    finally:
        server.terminate()  # by the pid we started
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    with chromium(profile=tmp_path / "chromium-profile") as drv:
        yield drv


def _wait(driver: Any, condition: Any, timeout: float = 15) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout).until(condition)
    except TimeoutException:
        shown = [s.text for s in driver.find_elements("css selector", ".fx-status")]
        console = [entry["message"] for entry in driver.get_log("browser")]
        pytest.fail(f"timed out on {driver.current_url}; status messages: {shown}; "
                    f"browser console: {console}")


def _status_is(text: str) -> Any:
    def check(driver: Any) -> bool:
        return any(text in s.text for s in driver.find_elements("css selector", ".fx-status"))

    return check


def _focused_post(driver: Any) -> str | None:
    return driver.execute_script(
        "return document.activeElement && document.activeElement.getAttribute('data-post-id')")


def _open(driver: Any, base: str, path: str, student: str) -> None:
    driver.get(f"{base}{path}?student={student}")
    _wait(driver, lambda d: d.find_elements("css selector", "[data-fx-ready] .fx-block"))


def _read_events(bootstrap: str, topic: str, wanted: int, timeout_s: float = 30) -> list[Event]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=1000)
    events: dict[str, Event] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(events) < wanted and time.monotonic() < deadline:
            for record in consumer:
                event = loads(record.value)
                events.setdefault(event.event_id, event)  # at-least-once: dedupe by event_id
    finally:
        consumer.close()
    return sorted(events.values(), key=lambda e: e.occurred_at)


def test_learners_discuss_and_reflect_and_kafka_gets_every_event(workbench, driver) -> None:
    from selenium.webdriver.common.keys import Keys

    base = workbench["base"]
    # Learner 1 starts a question thread; the HTML in it stays text.
    _open(driver, base, DISCUSSION, "1001")
    form = driver.find_element("css selector", ".fx-new-thread")
    form.find_element("name", "title").send_keys("Sky colour")
    form.find_element("name", "body").send_keys(HTML_BODY)
    form.find_element("name", "question").click()
    form.find_element("css selector", "button[type=submit]").click()
    _wait(driver, _status_is("Your post was published."))
    thread = driver.find_element("css selector", ".fx-thread")
    assert _focused_post(driver) == thread.get_attribute("data-post-id")
    assert thread.find_element("css selector", ".fx-body").text == HTML_BODY
    assert not thread.find_elements("css selector", ".fx-body b, .fx-body script")
    assert driver.title != "pwned"
    assert "Question" in thread.find_element("css selector", ".fx-thread-title").text

    # An empty post is refused with a message, and focus goes back to the form.
    form.find_element("css selector", "button[type=submit]").click()
    _wait(driver, _status_is("is empty"))
    assert driver.switch_to.active_element.get_attribute("name") == "title"

    # Learner 2 replies using the keyboard only; then the tutor replies.
    for student, text in (("1002", "Rayleigh scattering!"), ("tutor_1", "Good answer.")):
        _open(driver, base, DISCUSSION, student)
        toggle = driver.find_element("css selector", ".fx-thread .fx-reply-toggle")
        toggle.send_keys(Keys.ENTER)
        assert toggle.get_attribute("aria-expanded") == "true"
        area = driver.switch_to.active_element
        assert area.tag_name == "textarea"
        area.send_keys(text)
        driver.find_element("css selector", ".fx-reply-form button[type=submit]").click()
        _wait(driver, _status_is("Your reply was published."))
        assert _focused_post(driver) is not None
    replies = driver.find_elements("css selector", ".fx-response")
    assert [r.find_element("css selector", ".fx-body").text for r in replies] == [
        "Rayleigh scattering!", "Good answer."]
    assert replies[1].find_element("css selector", ".fx-badge-tutor").text == "Tutor"

    # Learner 1 saves a private reflection, then shares it; learner 2 comments on it.
    _open(driver, base, REFLECTION, "1001")
    driver.find_element("name", "text").send_keys("I learned why the sky is blue.")
    driver.find_element("css selector", ".fx-reflect button[type=submit]").click()
    _wait(driver, _status_is("saved privately"))
    driver.find_element("css selector", ".fx-share").click()
    _wait(driver, _status_is("shared with your peers"))
    _open(driver, base, REFLECTION, "1002")
    shared = driver.find_element("css selector", ".fx-shared-reflection")
    assert shared.find_element("css selector", ".fx-body").text == "I learned why the sky is blue."
    shared.find_element("css selector", ".fx-comment-toggle").click()
    driver.switch_to.active_element.send_keys("Nicely put.")
    shared.find_element("css selector", ".fx-comment-form button[type=submit]").click()
    _wait(driver, _status_is("Your comment was published."))

    events = _read_events(workbench["bootstrap"], workbench["topic"], wanted=6)
    summary = [(type(e).__name__, e.actor.user_id, e.actor.role.value) for e in events]
    assert summary == [
        ("PostCreated", "1001", "learner"),
        ("PostCreated", "1002", "learner"),
        ("PostCreated", "tutor_1", "tutor"),
        ("ReflectionSubmitted", "1001", "learner"),
        ("ReflectionSubmitted", "1001", "learner"),
        ("ReflectionCommented", "1002", "learner"),
    ], summary
    thread_event, reply, tutor_reply, private, public, comment = events
    assert isinstance(thread_event, PostCreated) and isinstance(reply, PostCreated)
    assert (thread_event.post_kind, thread_event.thread_type) == ("thread", "question")
    assert thread_event.body_excerpt == HTML_BODY
    assert (reply.post_kind, reply.thread_id, reply.parent_post_id) == (
        "response", thread_event.thread_id, thread_event.post_id)
    assert isinstance(tutor_reply, PostCreated) and tutor_reply.parent_post_id == reply.thread_id
    assert isinstance(private, ReflectionSubmitted) and isinstance(public, ReflectionSubmitted)
    assert (private.shared, public.shared) == (False, True)
    assert isinstance(comment, ReflectionCommented)
    assert (comment.reflection_id, comment.reflection_author_id) == (public.reflection_id, "1001")
