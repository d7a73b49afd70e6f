"""Debian's Prometheus scrapes a running `facilitation worker` and evaluates the project's
alerting rules against what it scraped.

The worker consumes a steady stream in which every other record is undecodable, so its
dead-letter counter rises: `FacilitationDeadLettersRising` must fire and the rules for a
worker in other trouble (not ready, absent, lagging) must not.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaProducer

from facilitation_rules.contract.codec import dumps
from facilitation_rules.contract.events import ActivityRecorded, Actor
from tests.support.worker_process import WorkerProcess, free_port, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "dashboards" / "prometheus" / "alerts.yaml"

def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return bytes(answer.read())


def _wait_for(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Call ``probe`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (OSError, ValueError, KeyError) as error:
            last_error, result = error, None
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what} (last error: {last_error})")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _feed(bootstrap: str, topic: str, stop: threading.Event) -> None:
    """Valid activity and undecodable bytes, 10 of each a second, until ``stop``."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    n = 0
    while not stop.is_set() and n < 20_000:
        event = ActivityRecorded(
            event_id=f"scrape-{n}", occurred_at=datetime.now(UTC), course_id="course-v1:P+S+1",
            actor=Actor(user_id=f"learner-{n % 7}"), learner_id=f"learner-{n % 7}",
            activity_kind="page_view",
        )
        producer.send(topic, key=event.partition_key().encode(), value=dumps(event).encode())
        producer.send(topic, key=b"bad", value=b"\xff not an event")
        n += 1
        time.sleep(0.1)
    producer.close()


@pytest.fixture(scope="module")
def metrics_target(
    kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """host:port of a running `facilitation worker` (its /metrics) fed a steady stream."""
    tmp = tmp_path_factory.mktemp("worker")
    unique = uuid.uuid4().hex[:10]
    worker = WorkerProcess(worker_env(kafka_bootstrap, redis_url, unique, tmp),
                           tmp / "worker.log").start()
    stop = threading.Event()
    feeder = threading.Thread(
        target=_feed, args=(kafka_bootstrap, worker.env["FACILITATION_EVENTS_TOPIC"], stop)
    )
    try:
        worker.wait_ready()
        feeder.start()
        yield f"127.0.0.1:{worker.port}"
    finally:
        stop.set()
        if feeder.is_alive():
            feeder.join(10)
        worker.stop()


def _rules_with_for_zero(tmp_path: Path) -> Path:
    """The project's rules as they are, with every ``for`` at 0s: the same expressions can
    then fire within seconds on what was scraped."""
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        group["name"] += ".for0s"
        for rule in group["rules"]:
            rule["for"] = "0s"
    path = tmp_path / "alerts-for0s.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


@pytest.fixture(scope="module")
def prometheus(metrics_target: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of Debian's Prometheus scraping ``metrics_target`` every second."""
    tmp_path = tmp_path_factory.mktemp("prometheus")
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus missing: run scripts/install-system-deps.sh")
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS), str(_rules_with_for_zero(tmp_path))],
        "scrape_configs": [
            {"job_name": "facilitation-worker", "static_configs": [{"targets": [metrics_target]}]}
        ],
    }
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config_path}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env={**os.environ},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for("Prometheus to be ready", lambda: _get(f"{base}/-/ready"))
        yield base
    finally:
        _stop(process)
        log.close()


def _api(base: str, path: str, **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    answer = json.loads(_get(f"{base}/api/v1/{path}{query}"))
    assert answer["status"] == "success", answer
    return answer["data"]


def test_prometheus_scrapes_the_catalog_and_alerts_fire(prometheus: str) -> None:
    def target_up() -> bool:
        targets = _api(prometheus, "targets")["activeTargets"]
        return bool(targets) and all(t["health"] == "up" for t in targets)

    _wait_for("the target to be up", target_up)

    consumed = _wait_for(
        "facilitation_events_consumed_total to be queryable",
        lambda: _api(prometheus, "query", query="facilitation_events_consumed_total")["result"],
    )
    assert consumed[0]["metric"]["event_type"] == "org.openedx.facilitation.activity.recorded.v1"
    ready = _api(prometheus, "query", query="facilitation_worker_ready")["result"]
    assert ready[0]["value"][1] == "1"

    def all_rules_evaluated() -> list[dict[str, Any]]:
        rules = [r for g in _api(prometheus, "rules")["groups"] for r in g["rules"]]
        evaluated = all(r["lastEvaluation"] > "2000" for r in rules)
        return rules if evaluated else []

    rules = _wait_for("every rule to be evaluated", all_rules_evaluated)
    project_rules = {str(rule["alert"]) for g in yaml.safe_load(ALERTS.read_text())["groups"]
                     for rule in g["rules"]}  # fmt: skip
    assert {r["name"] for r in rules} == project_rules
    assert {r["health"] for r in rules} == {"ok"}, [r for r in rules if r["health"] != "ok"]

    def firing() -> set[tuple[str, str]]:
        alerts = _api(prometheus, "alerts")["alerts"]
        return {(a["labels"]["alertname"], a["labels"].get("reason", a["labels"].get(
            "instance", ""))) for a in alerts if a["state"] == "firing"}

    wanted = {("FacilitationDeadLettersRising", "invalid")}
    _wait_for(f"{wanted} to fire", lambda: wanted <= firing(), timeout=60)
    fired = firing()
    # Nothing else is wrong with the worker: it is ready, present, keeping up, events flow.
    assert {name for name, _ in fired} == {"FacilitationDeadLettersRising"}, fired


def test_dashboard_preview_draws_scraped_data(prometheus: str) -> None:
    """dashboards/preview.py draws the pipeline dashboard from what Prometheus scraped."""
    spec = importlib.util.spec_from_file_location("preview", ROOT / "dashboards" / "preview.py")
    assert spec and spec.loader
    preview = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(preview)
    _wait_for("a few scrapes", lambda: _api(prometheus, "query",
              query="count_over_time(facilitation_consumer_lag[1m]) > 3")["result"])
    dashboard = json.loads((ROOT / "dashboards" / "pipeline-health.json").read_text())
    svg = preview.render(dashboard, preview.Prometheus(prometheus), minutes=1)
    assert "Consumer lag by topic" in svg
    assert svg.count("<polyline") >= 3  # lag, events by type, dead letters by reason


def _target_of(prometheus: str) -> str:
    return str(_api(prometheus, "targets")["activeTargets"][0]["labels"]["instance"])
