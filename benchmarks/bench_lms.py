"""The LMS side on MariaDB: what the live path adds to a request, and the outbox's drain rate.

Figures, each next to a plain insert into the same database measured in the same run:

1. *Added time per event on the LMS request*: the plugin's tracking backend handling one
   processed ``edx.forum.thread.created`` (translation, the thread index, the outbox row in
   a savepoint) and one ``problem_check``, inside a request transaction as Tutor runs them
   (``ATOMIC_REQUESTS``); the baseline is one plain ``INSERT`` of an outbox row in the same
   transaction shape. Target: p99 <= 2 ms.
2. *Outbox drain rate*: ``FACILITATION_BENCH_LMS_ROWS`` rows waiting in the database outbox,
   drained to a fresh 6-partition topic of the real Kafka by two sender processes (each an
   LMS process's sender: ``SELECT ... FOR UPDATE SKIP LOCKED`` per shard), then by one;
   the baseline is the rate of inserting the same rows (500 a transaction). Target: >= 5,000
   events/s with two senders.

Needs Kafka and MariaDB from scripts/devservices.py (``make bench`` starts them).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = int(os.environ.get("FACILITATION_BENCH_LMS_REQUESTS", "3000"))
ROWS = int(os.environ.get("FACILITATION_BENCH_LMS_ROWS", "60000"))
COURSE = "course-v1:Bench+LMS+2026"


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.support import lms_django

    lms_django.setup()
    if not lms_django.mariadb():
        raise SystemExit("bench_lms: FACILITATION_TEST_MARIADB is not set (make bench sets it)")


def forum_event(n: int) -> dict[str, Any]:
    """A thread created, as edx-platform's processors hand it to tracking backends."""
    return {
        "name": "edx.forum.thread.created", "event_type": "edx.forum.thread.created",
        "time": datetime.now(UTC), "event_source": "server", "username": f"learner{n % 500}",
        "ip": "10.0.0.1", "agent": "Mozilla/5.0", "host": "lms.example", "page": None,
        "session": "s", "referer": "", "accept_language": "en",
        "context": {"user_id": 1000 + n % 500, "course_id": COURSE, "org_id": "Bench",
                    "path": "/api/discussion/v1/threads/", "enterprise_uuid": ""},
        "event": {"id": f"T{n}-{uuid.uuid4().hex[:6]}", "commentable_id": "week1",
                  "thread_type": "question", "title": "How do I start exercise 3?",
                  "body": "<p>I tried the first step twice and it fails with an error.</p>",
                  "anonymous": False, "anonymous_to_peers": False, "truncated": False,
                  "url": "https://lms.example/d/1", "user_forums_roles": ["Student"],
                  "user_course_roles": []},
    }


def problem_event(n: int) -> dict[str, Any]:
    event = forum_event(n)
    event.update(name="problem_check", event_type="problem_check",
                 event={"problem_id": f"block-v1:Bench+LMS+2026+type@problem+block@p{n % 40}",
                        "success": "correct", "attempts": 1})
    return event


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(works: dict[str, Any]) -> dict[str, list[float]]:
    """ms per call of each work, each in a request's transaction (``ATOMIC_REQUESTS``);
    the works take turns, so a busy moment of the machine weighs on all of them alike."""
    from django.db import transaction

    times: dict[str, list[float]] = {label: [] for label in works}
    for n in range(REQUESTS):
        for label, work in works.items():
            with transaction.atomic():
                started = time.perf_counter()
                work(n)
                times[label].append((time.perf_counter() - started) * 1000)
    for label, values in times.items():
        print(f"   {label:<44} median {statistics.median(values):6.3f} ms   "
              f"p99 {_pct(values, 0.99):6.3f} ms")
    return times


def request_cost() -> None:
    from django.db import connection

    from facilitation_xblocks.outbox.emitter import EventEmitter
    from facilitation_xblocks.plugin import wiring
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox
    from facilitation_xblocks.plugin.tracking import FacilitationTrackingBackend

    emitter = EventEmitter(DatabaseOutbox(), "bench-events")  # rows wait: no sender
    wiring.lms_emitter = lambda: emitter  # type: ignore[assignment]
    backend = FacilitationTrackingBackend()
    insert = ("INSERT INTO facilitation_outbox_event (shard, topic, `key`, value, event_id, "
              "event_type, enqueued_at) VALUES (%s, %s, %s, %s, %s, %s, %s)")
    value = '{"event_type": "x", "body_excerpt": "' + "w" * 300 + '"}'

    def plain(n: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(insert, (n % 16, "bench-events", f"L|{COURSE}|{n}", value,
                                    f"plain-{n}", "x", time.time()))

    print(f"1. time per event on the LMS request, {REQUESTS:,} requests each on MariaDB")
    times = _timed({
        "baseline: a plain INSERT of an outbox row": plain,
        "live path: edx.forum.thread.created": lambda n: backend.send(forum_event(n)),
        "live path: problem_check": lambda n: backend.send(problem_event(n)),
    })
    base, forum, activity = times.values()
    added = _pct(forum, 0.99)
    print(f"   p99 of the forum event {added:.3f} ms (goal <= 2 ms: "
          f"{'met' if added <= 2.0 else 'NOT met'}; the plain insert's p99 in the same run "
          f"{_pct(base, 0.99):.3f} ms); median over the plain insert: forum "
          f"+{statistics.median(forum) - statistics.median(base):.3f} ms, activity "
          f"+{statistics.median(activity) - statistics.median(base):.3f} ms")


def _fill(rows: int, topic: str) -> float:
    """Insert ``rows`` outbox rows for ``topic``, 500 a transaction; rows/s (the baseline)."""
    from facilitation_rules.contract.events import Actor, PostCreated
    from facilitation_xblocks.outbox.rows import PendingRow
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox

    box = DatabaseOutbox()
    at = datetime.now(UTC)
    pending = [PendingRow.of(topic, PostCreated(
        event_id=f"d{n}", occurred_at=at, course_id=COURSE, actor=Actor(user_id=f"{n % 2000}"),
        post_id=f"p{n}", thread_id=f"p{n % 3000}", title="A question about exercise 3",
        body_excerpt="I tried the first step twice and it fails with an error.",
    )) for n in range(rows)]
    started = time.perf_counter()
    for start in range(0, rows, 500):
        box.append(pending[start:start + 500])
    return rows / (time.perf_counter() - started)


def drain(senders: int, topic: str) -> float:
    """Start ``senders`` sender processes, let them go at once; rows/s until empty."""
    from facilitation_xblocks.plugin.models import OutboxEvent

    rows = OutboxEvent.objects.count()
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.bench_lms", "sender", topic],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(senders)]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        while OutboxEvent.objects.exists():
            time.sleep(0.02)
        return rows / (time.perf_counter() - started)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def drain_rate() -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    bootstrap = os.environ["FACILITATION_KAFKA_BOOTSTRAP"]
    print(f"2. outbox drain to Kafka, {ROWS:,} rows waiting in MariaDB")
    results = {}
    for senders in (2, 1):
        topic = f"bench-lms-{uuid.uuid4().hex[:8]}"
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
        admin.close()
        inserted = _fill(ROWS, topic)
        results[senders] = drain(senders, topic)
        if senders == 2:
            print(f"   baseline: plain inserts of the same rows     {inserted:10,.0f} rows/s")
        print(f"   drained by {senders} sender process{'es' if senders > 1 else ''}"
              f"{'' if senders > 1 else '  '}            {results[senders]:10,.0f} events/s")
    print(f"   two senders: {results[2]:,.0f} events/s (goal >= 5,000: "
          f"{'met' if results[2] >= 5000 else 'NOT met'})")


def sender(topic: str) -> None:
    """A sender process: ready, wait for go, drain until stopped."""
    _setup()
    from facilitation_xblocks.outbox.emitter import EventEmitter
    from facilitation_xblocks.plugin.db_outbox import DatabaseOutbox

    print("ready", flush=True)
    sys.stdin.readline()
    chunk = int(os.environ.get("FACILITATION_BENCH_LMS_CHUNK", "0"))
    EventEmitter(DatabaseOutbox(), topic, bootstrap=os.environ["FACILITATION_KAFKA_BOOTSTRAP"],
                 idle_poll_s=0.05, **({"chunk_size": chunk} if chunk else {}))
    while True:
        time.sleep(1)


def main() -> None:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    os.environ["FACILITATION_TEST_MARIADB_DB"] = name  # shared with the sender processes
    _setup()
    try:
        from tests.support import lms_django

        lms_django.clear("default")
        request_cost()
        lms_django.clear("default")
        drain_rate()
    finally:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


if __name__ == "__main__":
    if sys.argv[1:2] == ["sender"]:
        sender(sys.argv[2])
    else:
        main()
