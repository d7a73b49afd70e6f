"""The Tutor view XBlock in Debian's Chromium (desktop and 390 px): its own fragment — the
block's HTML, CSS and JS, the shared triage view — in a page whose runtime sends the
block's handler calls to the block, which calls the real tutor API (real Redis) as the
signed-in staff member. The same cards, counts, undo and team view as the tutor page."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from webob import Request
from xblock.runtime import DictKeyValueStore

from facilitation_stream.delivery.tutor_api import BackgroundServer
from facilitation_xblocks.blocks.tutor_view import TutorViewXBlock
from tests.e2e.test_tutor_view_browser import by, card_for, cards, enqueue, snap
from tests.support.browser import chromium, fits, js_errors, wait
from tests.support.tutor_api import ROSTER, SERVICE_TOKEN, tutor_api
from tests.unit.xblock_harness import make_block

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def lms_page(block: Any) -> web.Application:
    """The LMS, reduced to one unit with the block: its fragment, a runtime whose
    ``handlerUrl`` points at the block's handlers, and those handlers."""
    frag = block.student_view()
    head = []
    for res in frag.resources:
        if res.mimetype == "text/css":
            head.append(f"<style>{res.data}</style>")
        elif res.mimetype == "application/javascript":
            head.append(f"<script>{res.data}</script>")
    init = json.dumps(frag.json_init_args)
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{''.join(head)}</head>
<body><main id="unit">{frag.body_html()}</main><script>
const runtime = {{handlerUrl: (el, name) => "/handler/" + name}};
{frag.js_init_fn}(runtime, document.querySelector(".fx-tutor-view"), {init});
</script></body></html>"""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    async def handler(request: web.Request) -> web.Response:
        payload = await request.read()
        call = Request.blank("/", method="POST", body=payload)
        call.content_type = "application/json"
        answer = await asyncio.to_thread(block.handle, request.match_info["name"], call)
        return web.Response(body=answer.body, status=answer.status_code,
                            content_type="application/json")

    app = web.Application()
    app.add_routes([web.get("/", page), web.post("/handler/{name}", handler)])
    return app


@pytest.fixture
def unit(redis_url: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    with tutor_api(redis_url, f"xb-e2e:{unique}:") as env:
        # The harness's staff user 7 is "user7" in the LMS: ben, by the roster's lms_user_id.
        tutors = tuple(dataclasses.replace(t, lms_user_id="user7") if t.tutor_id == "ben" else t
                       for t in ROSTER.tutors)  # fmt: skip
        env["rosters"]["current"] = [dataclasses.replace(ROSTER, tutors=tutors)]
        monkeypatch.setenv("FACILITATION_TUTOR_API_URL", env["base"])
        monkeypatch.setenv("FACILITATION_TUTOR_SERVICE_TOKEN", SERVICE_TOKEN)
        block = make_block(TutorViewXBlock, DictKeyValueStore(), "7", staff=True)
        with BackgroundServer(lms_page(block)) as lms:
            yield {**env, "lms": lms}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_xblock_is_the_same_triage_view(unit: dict, viewport: str) -> None:
    post = enqueue(unit, 1, "ben", details={
        "learner_name": "María López", "excerpt": "The week 2 link gives a 404.",
        "thread_title": "Week 2 reading", "thread_excerpt": "Where is the PDF?"})
    enqueue(unit, 2, "ben", severity="urgent")
    enqueue(unit, 3, "carla")  # not ben's: never shown to him
    with chromium(viewport) as driver:
        driver.get(unit["lms"] + "/")
        wait(driver, lambda d: len(cards(d)) == 2)
        card = card_for(driver, post)
        assert "María López" in card.text and "The week 2 link gives a 404." in card.text
        assert "In reply to “Week 2 reading”" in card.text
        counts = {b.get_attribute("data-value"): b.text
                  for b in driver.find_elements(*by(".tq-count"))}  # fmt: skip
        assert counts["urgent"] == "urgent 1" and counts["high"] == "high 1"
        resolve = card.find_element(*by(".tq-resolve"))
        assert resolve.get_attribute("aria-label") == "Resolve nudge for María López"
        resolve.click()
        wait(driver, lambda d: unit["queue"].get(post).state == "resolved")
        wait(driver, lambda d: d.find_element(*by(".tq-undo-button")).is_displayed())
        driver.find_element(*by(".tq-undo-button")).click()
        wait(driver, lambda d: unit["queue"].get(post).state == "new")
        client, p = unit["queue"].client, unit["queue"].prefix
        assert client.zscore(f"{p}queue:ben", post) is not None
        wait(driver, lambda d: len(cards(d)) == 2)
        assert fits(driver)
        assert not js_errors(driver), js_errors(driver)
        driver.viewport = viewport
        snap(driver, "xblock")
