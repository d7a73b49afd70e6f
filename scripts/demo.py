#!/usr/bin/env python3
"""`make demo`: the engine end to end, live, on the simulated course.

1. A Faust worker (`facilitation worker`) starts with the default rule pack and the example
   roster of eight tutors.
2. The seed course (402 learners, 13 weeks, calibrated to the reference MOOC) is shifted so
   that today is in its third week; its events up to now go through the XBlock-side
   emitter (durable outbox → Kafka), as the Discussion and Reflection XBlocks send them.
3. The worker fires the due deadlines; nudges land in the tutors' queues in Redis. The first
   one read back is printed.
4. The tutor API and page start; a token per tutor is printed. Ctrl-C stops everything.

Run by `make demo` inside `scripts/devservices.py run`, which provides Kafka and Redis.
With FACILITATION_DEMO_EXIT=1 it stops after printing where to look (used by tests).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".run" / "demo"
BIN = Path(sys.executable).with_name("facilitation")
ROSTER = ROOT / "rules" / "facilitation_rules" / "packs" / "roster.example.yaml"
WORKER_PORT = int(os.environ.get("FACILITATION_DEMO_WORKER_PORT", "6066"))
API_PORT = int(os.environ.get("FACILITATION_DEMO_API_PORT", "8077"))


def say(text: str) -> None:
    print(f"\033[1m[demo]\033[0m {text}" if sys.stdout.isatty() else f"[demo] {text}", flush=True)


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"[demo] {proc.args[1]} exited; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"[demo] {url} not ready after {timeout:.0f}s; see {log}")


def start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own sessions: Ctrl-C reaches the demo only, which stops its children in order.
    return subprocess.Popen(
        [str(BIN), *args], env=env, cwd=ROOT, stdin=subprocess.DEVNULL, start_new_session=True,
        stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # the child owns it
    )


def consumed() -> float:
    from facilitation_stream.metrics import sample_total

    url = f"http://127.0.0.1:{WORKER_PORT}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        return sample_total(response.read().decode(), "facilitation_events_consumed_total")


def settle_queues(queue, events: int, quiet_s: float = 4.0, limit_s: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until the worker has read every event and no new nudge came for a while."""
    deadline = time.monotonic() + limit_s
    while consumed() < events and time.monotonic() < deadline:
        time.sleep(0.5)
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = sum(len(n) for n in queue.list_all().values())
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.5)


def course_until_now(weeks_in: int = 3) -> list:  # type: ignore[type-arg]
    from facilitation_rules.simulation.course import START, generate_course

    now = datetime.now(UTC)
    shift = (now - timedelta(weeks=weeks_in)) - START
    events = []
    for event in generate_course(seed=1).events:
        at = event.occurred_at + shift
        if at <= now:
            events.append(dataclasses.replace(event, occurred_at=at))
    return events


def main() -> int:
    from facilitation_stream.delivery.queues import DEFAULT_PREFIX, TutorQueue, connect
    from facilitation_stream.delivery.tutor_auth import TokenStore
    from facilitation_xblocks.outbox.emitter import file_emitter

    RUN.mkdir(parents=True, exist_ok=True)
    bootstrap = os.environ["FACILITATION_KAFKA_BOOTSTRAP"]
    redis_url = os.environ["FACILITATION_REDIS_URL"]
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    env = {
        **os.environ,
        "FACILITATION_APP_ID": f"facilitation-demo-{run_id}",
        "FACILITATION_EVENTS_TOPIC": f"facilitation.demo-{run_id}.events.v1",
        "FACILITATION_ALERTS_TOPIC": f"facilitation.demo-{run_id}.alerts.v1",
        "FACILITATION_DEAD_LETTER_TOPIC": f"facilitation.demo-{run_id}.dlq.v1",
        "FACILITATION_DATA_DIR": str(RUN / "worker"),
        "FACILITATION_WEB_PORT": str(WORKER_PORT),
        "FACILITATION_ROSTER_PATH": str(ROSTER),
        "FACILITATION_DEFAULT_TUTOR": "ana",
    }
    client = connect(redis_url)
    # Each demo run starts from empty queues: its nudges are the ones on screen.
    for key in client.scan_iter(f"{DEFAULT_PREFIX}*"):
        client.delete(key)
    children: list[subprocess.Popen[bytes]] = []

    def stop_children(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        t0 = time.monotonic()
        say("starting a Faust worker with the default rule pack and an 8-tutor roster")
        worker_log = RUN / "worker.log"
        children.append(start(["worker"], worker_log, env))
        wait_http(f"http://127.0.0.1:{WORKER_PORT}/ready", 90, children[-1], worker_log)
        say(f"worker ready after {time.monotonic() - t0:.1f}s")

        events = course_until_now()
        emitter = file_emitter(bootstrap, env["FACILITATION_EVENTS_TOPIC"],
                               str(RUN / f"outbox-{run_id}.sqlite3"))
        for event in events:
            emitter.emit(event)
        delivered = emitter.flush(60)
        emitter.close()
        say(f"sent {len(events)} events of weeks 1-3 through the XBlock emitter "
            f"(outbox drained: {delivered})")

        queue = TutorQueue(client)
        deadline = time.monotonic() + 60
        first = None
        while first is None and time.monotonic() < deadline:
            queues = queue.list_all()
            first = next((n for nudges in queues.values() for n in nudges), None)
            time.sleep(0.5)
        if first is None:
            say(f"no nudge arrived within 60 s; see {worker_log}")
            return 1
        say(f"first nudge read back from Redis {time.monotonic() - t0:.1f}s after start:")
        print(f"    tutor {first.tutor_id}: [{first.severity}] learner {first.learner_id}: "
              f"{'; '.join(first.reasons)}")
        settle_queues(queue, len(events))
        for tutor, nudges in sorted(queue.list_all().items()):
            print(f"    {tutor:<8} {len(nudges):>3} open nudges")

        api_log = RUN / "tutor-api.log"
        children.append(start(["tutors", "--roster", str(ROSTER), "serve", "--port",
                               str(API_PORT)], api_log, env))
        wait_http(f"http://127.0.0.1:{API_PORT}/healthz", 30, children[-1], api_log)
        tokens = TokenStore(client, DEFAULT_PREFIX)
        say(f"tutor page: http://127.0.0.1:{API_PORT}/  (sign in with a token)")
        for tutor in ("ana", "ben", "carla"):
            print(f"    {tutor:<6} token {tokens.issue(tutor)}")
        say("where to look:")
        print(f"    {BIN.name} queue list --all          every tutor's queue (Redis)")
        print(f"    http://127.0.0.1:{WORKER_PORT}/ready  worker readiness; /metrics: Prometheus")
        print(f"    {RUN}/                  worker and API logs")
        if os.environ.get("FACILITATION_DEMO_EXIT") == "1":
            return 0
        say("running; Ctrl-C stops the worker, the API, Kafka and Redis")
        while all(child.poll() is None for child in children):
            time.sleep(1)
        say("a demo process exited; stopping")
        return 1
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        stop_children()


if __name__ == "__main__":
    sys.exit(main())
