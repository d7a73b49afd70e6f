"""Notifications on real Redis: SMTP digest into a local aiosmtpd sink, Slack-style webhook
into a local receiver; failures retried with backoff, nothing lost."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry

from facilitation_rules.contract.alerts import Alert, alert_id_for
from facilitation_rules.routing.roster import FatigueConfig, Roster, Shift, Tutor
from facilitation_stream.delivery.notifications import (
    Dispatcher,
    NotificationSpool,
    Notifier,
    SmtpSender,
    WebhookSender,
)
from facilitation_stream.delivery.queues import TutorQueue
from facilitation_stream.delivery.router import Router
from facilitation_stream.metrics import Metrics

pytestmark = pytest.mark.integration
T0 = datetime(2025, 3, 5, 13, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """A webhook endpoint that fails the first ``fail`` requests with 500."""

    def __init__(self, fail: int) -> None:
        self.fail, self.bodies, self.calls = fail, [], 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.calls += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = outer.calls > outer.fail
                if ok:
                    outer.bodies.append(json.loads(body))
                self.send_response(200 if ok else 500)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[Any]]]:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


@pytest.fixture
def queue(redis_url: str, unique: str) -> Iterator[TutorQueue]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    q = TutorQueue(client, f"notify:{unique}:")
    yield q
    keys = list(client.scan_iter(f"notify:{unique}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def alert(n: int, severity: str = "high") -> Alert:
    return Alert(
        alert_id=alert_id_for("unanswered_post", "c", "post", f"p{n}", "1"),
        rule="unanswered_post", kind="unanswered_post", course_id="c", subject_type="post",
        subject_id=f"p{n}", learner_id=f"L{n}", fired_at=T0, severity=severity,  # type: ignore[arg-type]
        reasons=("no reply for 20 h",),
        details={"title": "Quiz <b>help</b>", "url": f"https://lms.example/t{n}"},
    )


def test_webhook_failure_is_retried_with_backoff_then_delivered(queue: TutorQueue) -> None:
    receiver = Receiver(fail=2)
    spool = NotificationSpool(queue.client, queue.prefix, backoff=timedelta(seconds=30))
    metrics = Metrics(CollectorRegistry())
    dispatcher = Dispatcher(spool, {"webhook": WebhookSender(timeout=5)}, metrics)
    tutor = Tutor(tutor_id="ana", name="Ana", webhook_url=receiver.url)
    roster = Roster(course_id="c", tutors=(tutor,), fatigue=FatigueConfig(quiet_hours=None))
    notifier = Notifier(queue, spool, page_url="http://tutors.example/")
    router = Router(queue, lambda _c: roster, clock=lambda: T0, notifier=notifier)
    assert router.route(alert(1)).status == "created"
    assert dispatcher.run_once(T0) == (0, 1)
    assert dispatcher.run_once(T0 + timedelta(seconds=29)) == (0, 0)  # backing off
    assert dispatcher.run_once(T0 + timedelta(seconds=30)) == (0, 1)
    assert dispatcher.run_once(T0 + timedelta(seconds=89)) == (0, 0)  # 60 s now
    assert dispatcher.run_once(T0 + timedelta(seconds=90)) == (1, 0)
    assert spool.pending() == 0 and receiver.calls == 3
    [body] = receiver.bodies
    assert "learner L1" in body["text"] and "&lt;b&gt;" in body["text"]
    assert body["blocks"][0]["text"]["type"] == "mrkdwn"
    assert metrics.notifications_sent.labels(channel="webhook")._value.get() == 1


def test_rate_limit_and_quiet_hours_hold_pings_for_the_digest(
    queue: TutorQueue, smtp_sink: tuple[int, list[Any]]
) -> None:
    port, received = smtp_sink
    receiver = Receiver(fail=0)
    spool = NotificationSpool(queue.client, queue.prefix)
    dispatcher = Dispatcher(spool, {
        "webhook": WebhookSender(timeout=5),
        "email": SmtpSender("127.0.0.1", port, "facilitation@example.org"),
    }, Metrics(CollectorRegistry()))
    tutor = Tutor(tutor_id="ana", name="Ana", email="ana@example.org", email_digest=True,
                  webhook_url=receiver.url)
    fatigue = FatigueConfig(max_per_hour=2, quiet_hours=Shift(time(21), time(8)))
    roster = Roster(course_id="c", tutors=(tutor,), fatigue=fatigue)
    now = [T0]
    notifier = Notifier(queue, spool, page_url="http://tutors.example/")
    router = Router(queue, lambda _c: roster, clock=lambda: now[0], notifier=notifier)
    for n in range(4):
        router.route(alert(n))
    dispatcher.run_once(now[0])
    assert len(receiver.bodies) == 2  # rate limit: 2 per hour, the rest wait
    now[0] = T0.replace(hour=23)  # quiet hours: held even if the hour passed
    router.route(alert(9))
    router.route(alert(10, severity="urgent"))  # urgent bypasses quiet hours
    dispatcher.run_once(now[0])
    assert len(receiver.bodies) == 3 and "L10" in receiver.bodies[-1]["text"]
    notifier.tick([roster], now[0])
    assert spool.pending() == 0  # no digest during quiet hours
    queue.resolve(queue.list_queue("ana")[0].nudge_id, "ana", now=now[0], own_only=False)
    now[0] = T0 + timedelta(days=1)
    notifier.tick([roster], now[0])
    dispatcher.run_once(now[0])
    [mail] = received
    text = mail.content.decode()
    assert mail.rcpt_tos == ["ana@example.org"] and "Facilitation digest" in text
    assert "learner L2" in text and "learner L9" in text
    assert "Digest:" in receiver.bodies[-1]["text"]


def test_smtp_down_keeps_the_message_until_it_comes_back(
    queue: TutorQueue, smtp_sink: tuple[int, list[Any]]
) -> None:
    port, received = smtp_sink
    spool = NotificationSpool(
        queue.client, queue.prefix, backoff=timedelta(seconds=10), max_attempts=3
    )
    payload = {"subject": "Facilitation digest: 1 nudge(s) waiting", "text": "hello"}
    spool.add("email", "ben@example.org", payload, T0)
    down = Dispatcher(spool, {"email": SmtpSender("127.0.0.1", free_port(), "f@example.org",
                                                   timeout=2)}, Metrics(CollectorRegistry()))
    assert down.run_once(T0) == (0, 1)
    assert spool.pending() == 1
    up = Dispatcher(spool, {"email": SmtpSender("127.0.0.1", port, "f@example.org")},
                    Metrics(CollectorRegistry()))
    assert up.run_once(T0 + timedelta(seconds=10)) == (1, 0)
    assert len(received) == 1 and spool.pending() == 0
    # Giving up is not losing: the message waits in the dead list.
    spool.add("email", "x@example.org", payload, T0)
    for k in range(3):
        down.run_once(T0 + timedelta(hours=k + 1))
    assert spool.pending() == 0 and len(spool.dead()) == 1
