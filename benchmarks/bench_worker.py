"""The live worker (`facilitation worker`, default rule pack) on the real Kafka and Redis.

Figures (issue 5, item 8), each next to what it is compared with in the same run:
1. raw loop: a plain aiokafka consumer reading the pre-produced topic, decoding nothing;
2. sustained throughput per worker: ``BENCH_WORKER_RUNS`` workers (own app id each) work
   through the same ``FACILITATION_BENCH_EVENTS`` events of a realistic course mix; rate
   between the first and the last commit observed on the consumer group;
3. end-to-end latency, event produced -> nudge in Redis, for learner questions already
   overdue on arrival (they fire on the worker's next deadline tick);
4. deadline-to-nudge lateness for questions whose first deadline falls during the run;
5. worker RSS growth per tracked learner and per tracked thread.
Targets on the 2-core dev machine: >= 10,000 events/s per worker, p99 lateness <= 2 s,
<= 1 KB per tracked subject at 1M. Timings are printed, never asserted: the machine is
shared. Reproduce: ``make bench``, or with services up and their env exported
(``eval $(.venv/bin/python scripts/devservices.py env)``):
``.venv/bin/python -m benchmarks.bench_worker``.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.worker_process import WorkerProcess, worker_env

from benchmarks.engine_model import engine_rate, state_footprint
from benchmarks.kafka_probe import (
    Offsets,
    create_topic,
    first_fired,
    produce,
    raw_consume_rate,
    wait_drained,
)
from benchmarks.worker_events import (
    course_mix,
    first_deadline_s,
    new_learners,
    new_threads,
    record,
    thread_due_at,
)
from facilitation_rules.contract.codec import parse_time
from facilitation_rules.contract.events import ActivityRecorded, Actor, Event
from facilitation_stream.delivery.queues import TutorQueue, connect
from facilitation_stream.kafka_config import kafka_python_config, updates_topic
from facilitation_stream.settings import Settings

EVENTS = int(os.environ.get("FACILITATION_BENCH_EVENTS", "150000"))
#: Each worker is measured for at most this long after its first commit (or until drained).
WINDOW = float(os.environ.get("FACILITATION_BENCH_WINDOW", "15"))
RUNS = int(os.environ.get("BENCH_WORKER_RUNS", "3"))
#: Steady load of the latency run: questions per second (half overdue, half due soon)
#: plus background activity per second, for this many seconds.
RATE = float(os.environ.get("FACILITATION_BENCH_RATE", "20"))
BACKGROUND = float(os.environ.get("FACILITATION_BENCH_BACKGROUND", "80"))
SECONDS = float(os.environ.get("FACILITATION_BENCH_SECONDS", "20"))
#: New tracked learners, then as many new threads, for the memory figure.
SUBJECTS = int(os.environ.get("FACILITATION_BENCH_SUBJECTS", "10000"))
PARTITIONS = 6


def _settings() -> Settings:
    return Settings(topic_partitions=PARTITIONS)


@contextmanager
def _worker(settings: Settings, unique: str, events_topic: str) -> Iterator[WorkerProcess]:
    """A `facilitation worker` with its own app id, alerts topic and tutor, ready to use."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-worker-{unique}-"))
    env = worker_env(settings.kafka_bootstrap, settings.redis_url.get_secret_value(), unique,
                     tmp, partitions=PARTITIONS)
    env["FACILITATION_EVENTS_TOPIC"] = events_topic
    env["FACILITATION_APP_ID"] = f"bench-{unique}"
    worker = WorkerProcess(env, tmp / "worker.log")
    worker.start()
    try:
        worker.wait_ready(120)
        yield worker
    except BaseException:
        worker.stop()
        print(f"   worker log {worker.log_path}:\n{worker.tail(20)}")
        raise
    worker.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # kept above, with the log, when it failed


def _proc(worker: WorkerProcess, name: str) -> str:
    assert worker.proc is not None
    return Path(f"/proc/{worker.proc.pid}/{name}").read_text()


def _rss_kb(worker: WorkerProcess) -> int:
    for line in _proc(worker, "status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _cpu_s(worker: WorkerProcess) -> float:
    """User + system CPU seconds the worker process has used."""
    fields = _proc(worker, "stat").rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _spread(values: list[float]) -> str:
    return f"p50 {_pct(values, .5):.3f} s, p99 {_pct(values, .99):.3f} s, max {max(values):.3f} s"


def throughput(settings: Settings, offsets: Offsets, run: str) -> None:
    topic = f"bench-events-{run}"
    create_topic(settings, topic)
    started = time.perf_counter()
    records = list(course_mix(f"course-v1:Bench+{run}+T", EVENTS))
    total = produce(settings, topic, records)
    print(f"{total:,} events (course mix) generated and produced in "
          f"{time.perf_counter() - started:.1f} s to {topic} ({PARTITIONS} partitions)")
    raw = statistics.median(raw_consume_rate(settings, topic, total) for _ in range(RUNS))
    print(f"raw aiokafka loop, decode nothing: {raw:>9,.0f} events/s (median of {RUNS})")
    alone, applies = engine_rate(records[:50_000])
    print(f"engine alone, no Kafka:          {alone:>9,.0f} events/s (decode, route, apply, "
          f"encode state; {applies:.2f} subject updates per event)")
    del records
    rates = []
    for i in range(RUNS):
        unique = f"{run}-tp{i}"
        group = f"bench-{unique}"
        with _worker(settings, unique, topic) as worker:
            cpu, wall = _cpu_s(worker), time.time()
            drain = wait_drained(offsets, group, topic, updates_topic(Settings(app_id=group)),
                                 total, timeout=WINDOW + 120, window=WINDOW)
            cpu, wall = _cpu_s(worker) - cpu, time.time() - wall
            derived = offsets.end(updates_topic(Settings(app_id=group)))
            rss = _rss_kb(worker)
        rates.append(drain.rate)
        done = "all" if drain.settled_at else f"{drain.last[1]:,}"
        print(f"   worker {i + 1}: {drain.rate:>7,.0f} events/s over {drain.seconds:.1f} s "
              f"({done} events; {derived:,} derived updates sent); CPU {cpu / wall:.0%} of a "
              f"core; RSS {rss / 1024:.0f} MB")
    rate = statistics.median(rates)
    print(f"worker, default rules:           {rate:>9,.0f} events/s (median of {RUNS}) = "
          f"{rate / raw:.1%} of the raw loop, {rate / alone:.0%} of the engine alone "
          f"(target >= 10,000 events/s)")


def latency(settings: Settings, run: str) -> None:
    """Steady load: questions overdue on arrival (latency) and due in 5-15 s (lateness)."""
    from kafka import KafkaProducer

    unique = f"{run}-lat"
    topic = f"bench-events-{unique}"
    create_topic(settings, topic)
    course = f"course-v1:Bench+{unique}+T"
    first_deadline = first_deadline_s()
    rng = random.Random(7)
    sent: dict[str, float] = {}  # asker -> produced at (overdue questions)
    due: dict[str, float] = {}  # asker -> first deadline (questions due during the run)
    per_second = RATE + BACKGROUND
    with _worker(settings, unique, topic) as worker:
        producer = KafkaProducer(**kafka_python_config(settings), linger_ms=0)
        started = time.time()
        for n in range(int(per_second * SECONDS)):
            wait = started + n / per_second - time.time()
            if wait > 0:
                time.sleep(wait)
            now, overdue = datetime.now(UTC), False
            if rng.random() * per_second >= RATE:
                learner = f"busy-{n % 400}"
                event: Event = ActivityRecorded(
                    event_id=f"act{n}", occurred_at=now, course_id=course,
                    actor=Actor(user_id=learner), learner_id=learner, activity_kind="video",
                )
            elif n % 2:
                at = now + timedelta(seconds=rng.uniform(5, 15))
                event = thread_due_at(course, n, at, first_deadline)
                due[f"asker-{n}"] = at.timestamp()
            else:
                event = thread_due_at(course, n, now - timedelta(seconds=60), first_deadline)
                overdue = True
            key, value = record(event)
            if overdue:
                sent[f"asker-{n}"] = time.time()
            producer.send(topic, key=key, value=value)
        producer.flush()
        producer.close()
        queue = TutorQueue(connect(settings.redis_url.get_secret_value()))
        tutor = worker.env["FACILITATION_DEFAULT_TUTOR"]
        appeared: dict[str, float] = {}
        give_up = max(due.values(), default=time.time()) + 30
        while len(appeared) < len(sent) + len(due) and time.time() < give_up:
            for nudge in queue.list_queue(tutor):
                appeared.setdefault(nudge.learner_id, parse_time(nudge.created_at).timestamp())
            time.sleep(0.5)
        fired = first_fired(settings, worker.env["FACILITATION_ALERTS_TOPIC"])
    print(f"steady load {per_second:.0f} events/s for {SECONDS:.0f} s: {RATE:.0f}/s learner "
          f"questions (half overdue on arrival, half due 5-15 s later), the rest activity")
    _latencies("produced -> nudge in Redis (overdue on arrival)", sent, appeared, fired)
    _latencies("deadline -> nudge lateness (target p99 <= 2 s)", due, appeared, fired)


def _latencies(title: str, start: dict[str, float], appeared: dict[str, float],
               fired: dict[str, float]) -> None:
    total = [appeared[k] - t for k, t in start.items() if k in appeared]
    if not total:
        print(f"{title}: no nudge appeared")
        return
    print(f"{title}: {_spread(total)} ({len(total)}/{len(start)} nudges)")
    split = [k for k in start if k in appeared and k in fired]
    if split:
        print(f"   of which until the alert is on the alerts topic: "
              f"{_spread([fired[k] - start[k] for k in split])}")
        print(f"   alerts topic -> Redis (router): "
              f"{_spread([appeared[k] - fired[k] for k in split])}")


def memory(settings: Settings, offsets: Offsets, run: str) -> None:
    unique = f"{run}-mem"
    topic = f"bench-events-{unique}"
    create_topic(settings, topic)
    course = f"course-v1:Bench+{unique}+T"
    group = f"bench-{unique}"
    updates = updates_topic(Settings(app_id=group))
    with _worker(settings, unique, topic) as worker:
        done = 0

        def load(records: list[tuple[bytes, bytes]]) -> int:
            nonlocal done
            produce(settings, topic, records)
            wait_drained(offsets, group, topic, updates, len(records),
                         timeout=max(120.0, len(records) / 100), already=done)
            done += len(records)
            time.sleep(1.0)
            return _rss_kb(worker)

        # Warm up every code path (and Faust's buffers) before the baseline.
        base = load([*new_learners(course, 2_000, offset=10**7),
                     *new_threads(course, 2_000, offset=10**7)])
        started = time.perf_counter()
        learners = load(list(new_learners(course, SUBJECTS)))
        threads = load(list(new_threads(course, SUBJECTS)))
        took = time.perf_counter() - started
    model = {
        "learner": state_footprint(list(new_learners(course, SUBJECTS))),
        "thread": state_footprint(list(new_threads(course, SUBJECTS))),
    }
    print(f"worker RSS {base / 1024:.0f} MB after warm-up, {learners / 1024:.0f} MB with "
          f"{SUBJECTS:,} more tracked learners, {threads / 1024:.0f} MB with {SUBJECTS:,} more "
          f"tracked threads ({took:.0f} s)")
    for kind, grown in (("learner", learners - base), ("thread", threads - learners)):
        rss, changelog = model[kind]
        print(f"   per tracked {kind}: {grown * 1024 / SUBJECTS:>6,.0f} B of worker RSS; in "
              f"process without Faust {rss:,.0f} B (state, key, marks, due index), changelog "
              f"record {changelog:,.0f} B")
    print(f"   (target <= 1 KB at 1M; measured at {SUBJECTS:,} each, not extrapolated)")


def main() -> None:
    settings = _settings()
    run = uuid.uuid4().hex[:8]
    offsets = Offsets(settings)
    try:
        throughput(settings, offsets, run)
        latency(settings, run)
        memory(settings, offsets, run)
    finally:
        offsets.close()


if __name__ == "__main__":
    main()
