"""Dashboards as code and alerting rules: committed files match the generator, every
metric they query exists in a catalog, promtool accepts and unit-tests the rules, and each
alert has its runbook section."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from prometheus_client import CollectorRegistry

from facilitation_stream.metrics import Metrics
from facilitation_xblocks.outbox.metrics import XBlockMetrics

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "dashboards" / "prometheus" / "alerts.yaml"
ALERT_TESTS = ROOT / "dashboards" / "prometheus" / "alerts_test.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}
NAME = re.compile(r"\bfacilitation_[a-zA-Z0-9_:]*")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "dashboards_generate", ROOT / "dashboards" / "generate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def catalog_series_names() -> set[str]:
    """Every series name the catalogs can expose (counters with _total, histogram parts)."""
    registry = CollectorRegistry()
    Metrics(registry)
    XBlockMetrics(registry)
    return {
        family.name + suffix for family in registry.collect() for suffix in SUFFIXES[family.type]
    }


def _dashboard_queries(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query") and isinstance(value, str):
                yield value
            else:
                yield from _dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dashboard_queries(item)


def _alert_rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_committed_generated_files_are_current() -> None:
    generator = _generator()
    stale = generator.stale(generator.render())
    assert not stale, f"run python dashboards/generate.py: stale {stale}"


@pytest.mark.parametrize("dashboard", ["facilitation.json", "pipeline-health.json"])
def test_dashboard_queries_use_catalog_metrics(dashboard: str) -> None:
    known = catalog_series_names()
    data = json.loads((ROOT / "dashboards" / dashboard).read_text())
    queries = list(_dashboard_queries(data["panels"])) + list(
        _dashboard_queries(data["templating"])
    )
    used = {name for query in queries for name in NAME.findall(query)}
    assert len(used) >= 8
    assert used <= known, f"not in the catalog: {sorted(used - known)}"


def test_alert_rules_use_catalog_metrics() -> None:
    known = catalog_series_names()
    used = {name for rule in _alert_rules() for name in NAME.findall(str(rule["expr"]))}
    assert used <= known, f"not in the catalog: {sorted(used - known)}"


def test_the_name_check_catches_a_typo() -> None:
    assert "facilitation_event_consumed_total" not in catalog_series_names()
    assert "facilitation_events_consumed_total" in catalog_series_names()


def test_every_alert_has_a_runbook_section() -> None:
    headings = set(re.findall(r"^### (\w+)", OPERATIONS.read_text(), re.M))
    for rule in _alert_rules():
        name = str(rule["alert"])
        assert name in headings, f"docs/operations.md lacks '### {name}'"
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        assert annotations["runbook"] == f"docs/operations.md#{name.lower()}"


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool missing: run scripts/install-system-deps.sh (Debian prometheus)")
    return promtool


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", str(ALERT_TESTS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested() -> None:
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test.get("alert_rule_test", [])}
    assert {str(rule["alert"]) for rule in _alert_rules()} <= tested
