"""Pictures of the dashboards from a real Prometheus scraping a simulated course.

    python dashboards/preview_demo.py [--seconds 240] [--out docs/img]

Starts a process that serves the metrics catalog and moves it the way a busy course would
(time compressed: posts, replies, SLA breaches, nudges claimed and resolved, a rebalance,
a burst of dead letters, the LMS outbox filling and draining), starts Debian's Prometheus
scraping it every second, then draws both dashboards with preview.py. The numbers are
simulated; the queries, the scraping and the evaluation are real. Point preview.py at the
Prometheus of a real deployment (or `make demo`) for pictures of real traffic.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from preview import Prometheus, render  # noqa: E402

FEEDER = r"""
import math, random, sys, time
from facilitation_stream.metrics import get_metrics, start_metrics_server
from facilitation_xblocks.outbox.metrics import default_metrics
m, x = get_metrics(), default_metrics()
start_metrics_server(int(sys.argv[1]), addr="127.0.0.1")
rng = random.Random(7)
courses = ["course-v1:Demo+Py101+2025", "course-v1:Demo+Stats201+2025"]
tutors = ["ana", "ben", "chen", "dara"]
rules = ["unanswered_post", "silent_learner", "dropout_risk", "reflection"]
precision = {"unanswered_post": 0.9, "silent_learner": 0.7, "dropout_risk": 0.55,
             "reflection": 0.8}
types = ["post.created", "post.viewed", "post.voted", "activity.recorded",
         "reflection.submitted"]
open_nudges = {t: rng.randint(1, 4) for t in tutors}
m.worker_ready.set(1); m.assigned_partitions.set(3)
t0 = time.time(); lag = 50.0
while True:
    now = time.time(); k = now - t0
    busy = 1 + 0.6 * math.sin(k / 25)
    for _ in range(int(20 * busy)):
        kind = rng.choice(types)
        m.event_consumed(f"org.openedx.facilitation.{kind}.v1", now)
    for course, slow in zip(courses, (1.0, 2.2)):
        if rng.random() < 0.8:
            m.learner_posts.labels(course=course).inc()
            m.time_to_first_reply.labels(course=course).observe(
                rng.lognormvariate(math.log(4 * 3600 * slow), 0.8))
            if rng.random() < 0.06 * slow:
                m.sla_breaches.labels(course=course).inc()
    for rule in rules:
        with m.rule_evaluation.labels(rule=rule).time():
            sum(range(rng.randint(100, 3000)))
        if rng.random() < 0.3:
            m.alerts_fired.labels(rule=rule, severity=rng.choice(["warning", "high"])).inc()
            m.nudges_enqueued.labels(rule=rule).inc()
            open_nudges[rng.choice(tutors)] += 1
        if rng.random() < 0.25:
            m.nudge_age_at_claim.labels(rule=rule).observe(rng.uniform(600, 7200))
            m.nudge_age_at_resolve.labels(rule=rule).observe(rng.uniform(3600, 30000))
            if rng.random() < precision[rule]:
                m.nudges_resolved.labels(rule=rule).inc()
            else:
                m.nudges_not_useful.labels(rule=rule).inc()
            tutor = max(open_nudges, key=open_nudges.get)
            open_nudges[tutor] = max(0, open_nudges[tutor] - 1)
    for tutor, count in open_nudges.items():
        m.open_nudges.labels(tutor=tutor).set(count)
    rebalancing = 90 <= k % 200 < 100
    m.rebalancing.set(int(rebalancing)); m.recovering.set(int(rebalancing))
    m.worker_ready.set(int(not rebalancing))
    if rebalancing and k % 200 < 91:
        m.rebalances.inc()
    lag = max(0.0, lag + (60 if rebalancing else -25) + rng.uniform(-10, 10))
    for p in range(3):
        m.consumer_lag.labels(topic="facilitation.events.v1", partition=str(p)).set(lag / 3)
    if 140 <= k % 200 < 150:
        for _ in range(rng.randint(1, 4)):
            m.dead_lettered("invalid")
    if rng.random() < 0.05:
        m.dead_lettered("late")
    depth = max(0, int(120 * math.sin(k / 30))) if 40 <= k % 200 < 130 else 0
    x.outbox_depth.set(depth); x.outbox_oldest_age.set(depth * 0.8)
    if depth > 80:
        x.delivery_failures.labels(reason="timeout").inc()
    m.notifications_sent.labels(channel="email").inc(rng.randint(0, 2))
    time.sleep(1)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=240, help="how long to simulate")
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "img")
    args = parser.parse_args(argv)
    binary = shutil.which("prometheus")
    if binary is None:
        print("prometheus is missing (Debian package prometheus)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        target_port, prom_port = _free_port(), _free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "facilitation", "static_configs": [
                {"targets": [f"127.0.0.1:{target_port}"]}]}],
        }  # fmt: skip
        Path(tmp, "prometheus.yml").write_text(yaml.safe_dump(config))
        feeder = subprocess.Popen([sys.executable, "-c", FEEDER, str(target_port)])
        prometheus = subprocess.Popen(
            [binary, f"--config.file={tmp}/prometheus.yml", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"], cwd=tmp)
        try:
            _wait(f"http://127.0.0.1:{prom_port}/-/ready")
            print(f"simulating {args.seconds} s ...", file=sys.stderr)
            time.sleep(args.seconds)
            prom = Prometheus(f"http://127.0.0.1:{prom_port}")
            minutes = max(1, round(args.seconds / 60))
            for name in ("facilitation", "pipeline-health"):
                dashboard = json.loads((HERE / f"{name}.json").read_text())
                out = args.out / f"{name}.svg"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(render(dashboard, prom, minutes))
                print(f"wrote {out}", file=sys.stderr)
        finally:
            for process in (prometheus, feeder):
                process.terminate()
                process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
