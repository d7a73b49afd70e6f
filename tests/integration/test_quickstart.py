"""README's quick start stays true: exactly two commands, and `make demo` works — and opens
on a working day's queue whose every card, in Chromium on a desktop and a phone, shows what
the learner wrote and who they are."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.worker_process import free_port

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "Quick start has a shell block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_exactly_the_two_commands() -> None:
    assert quick_start_commands() == ["make demo", "make test"]


@pytest.fixture(scope="module")
def demo(kafka_bootstrap: str, redis_url: str) -> subprocess.CompletedProcess[str]:
    # Inside `make test` Kafka and Redis are already provided: the demo uses them as given.
    env = {
        **os.environ,
        "FACILITATION_DEMO_EXIT": "1",
        "FACILITATION_DEMO_WORKER_PORT": str(free_port()),
        "FACILITATION_DEMO_API_PORT": str(free_port()),
    }
    env.pop("MAKEFLAGS", None)
    return subprocess.run(
        ["make", "--no-print-directory", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.integration
def test_make_demo_prints_a_nudge_read_back_from_redis(demo: Any) -> None:
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "first nudge read back from Redis" in demo.stdout
    assert "tutor page: http://127.0.0.1:" in demo.stdout
    assert "simulated tutors' replies" in demo.stdout


@pytest.fixture
def demo_page(demo: Any, redis_url: str) -> Iterator[dict[str, Any]]:
    """The tutor API over what the demo left in Redis (its own stopped with the demo)."""
    import redis

    from facilitation_stream.delivery.queues import TutorQueue
    from facilitation_stream.delivery.tutor_api import BackgroundServer, TutorApi
    from facilitation_stream.delivery.tutor_auth import RosterDirectory, TokenStore
    from tests.support.tutor_api import ROSTER

    assert demo.returncode == 0, demo.stdout[-3000:]
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    queue = TutorQueue(client)
    tokens = TokenStore(client, queue.prefix, RosterDirectory(lambda: [ROSTER]))
    api = TutorApi(queue, tokens, lambda: [ROSTER], lms_url="https://lms.example.org")
    with BackgroundServer(api.app()) as base:
        yield {"base": base, "token": tokens.issue("ana"), "queue": queue}
    client.close()


@pytest.mark.integration
@pytest.mark.e2e
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_demo_card_shows_what_the_learner_wrote_and_who(
    demo_page: dict[str, Any], viewport: str
) -> None:
    from tests.e2e.test_tutor_view_browser import by, cards, sign_in
    from tests.support.browser import chromium, js_errors, wait

    total = sum(len(n) for n in demo_page["queue"].list_all().values())
    assert 5 <= total <= 80, f"{total} open nudges: not a working day's queue"
    with chromium(viewport) as driver:
        sign_in(driver, demo_page["base"], demo_page["token"], "?scope=all")
        while driver.find_element(*by(".tq-more")).is_displayed():
            shown = len(cards(driver))
            driver.find_element(*by(".tq-more")).click()
            wait(driver, lambda d, n=shown: len(cards(d)) > n)
        assert len(cards(driver)) == total
        for card in cards(driver):
            excerpts = [e.text.strip() for e in card.find_elements(*by(".tq-excerpt"))]
            name = card.find_element(*by(".tq-learner")).text
            assert excerpts and all(excerpts), card.text
            assert name and not name.startswith("learner-"), card.text  # a name, not an id
            assert not re.search(r"\b(test|xss|pwned|lorem)\b|<", card.text, re.I), card.text
        assert not js_errors(driver)
