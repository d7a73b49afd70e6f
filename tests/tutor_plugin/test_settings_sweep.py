"""Every FACILITATION_* setting of the plugin reaches what is rendered: each override below,
saved as `tutor config save --set` does (tutor_helper.py sweep), changes the environment,
and a text value shows up in a changed file. A new setting without a line here fails."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .tutor_env import REPO, env_tree, helper, new_root, sweep

ROSTER = (REPO / "rules" / "facilitation_rules" / "packs" / "roster.example.yaml").read_text()
PACK = (REPO / "rules" / "facilitation_rules" / "packs" / "default.yaml").read_text()

OVERRIDES: dict[str, Any] = {
    "FACILITATION_VERSION": "9.8.7",
    "FACILITATION_LMS_PIP_REQUIREMENT": "openedx-facilitation[lms] @ git+https://git.example.org/f@v9",
    "FACILITATION_ENGINE_PIP_REQUIREMENT": "openedx-facilitation[engine] @ https://example.org/f.whl",
    "FACILITATION_DOCKER_IMAGE": "registry.example.org/facilitation:9",
    "FACILITATION_KAFKA_DOCKER_IMAGE": "registry.example.org/kafka:9",
    "FACILITATION_KAFKA_BOOTSTRAP": "kafka-1.example.org:9093",
    "FACILITATION_KAFKA_BROKERS": "brokers.example.org:9092",
    "FACILITATION_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "FACILITATION_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "FACILITATION_KAFKA_SASL_USERNAME": "sasl-user-x",
    "FACILITATION_KAFKA_SASL_PASSWORD": "sasl-password-x",
    "FACILITATION_KAFKA_HEAP": "3g",
    "FACILITATION_KAFKA_VOLUME_SIZE": "77Gi",
    "FACILITATION_EVENTS_TOPIC": "site.events.x",
    "FACILITATION_ALERTS_TOPIC": "site.alerts.x",
    "FACILITATION_DEAD_LETTER_TOPIC": "site.dlq.x",
    "FACILITATION_TOPIC_PARTITIONS": 12,
    "FACILITATION_TOPIC_REPLICATION": 2,
    "FACILITATION_APP_ID": "site-facilitation-x",
    "FACILITATION_REDIS_DB": 11,
    "FACILITATION_REDIS_URL": "redis://redis.example.org:6380/3",
    "FACILITATION_OUTBOX": "sqlite",
    "FACILITATION_OUTBOX_PATH": "/openedx/data/outbox-x.sqlite3",
    "FACILITATION_LIVE_TRACKING": False,
    "FACILITATION_RUN_ENGINE": False,
    "FACILITATION_HOST": "nudges.example.org",
    "FACILITATION_TUTOR_API_URL": "http://engine.example.org:8077",
    "FACILITATION_TUTOR_PAGE_URL": "https://nudges.example.org/page/",
    "FACILITATION_API_REPLICAS": 3,
    "FACILITATION_TICK_SECONDS": 17,
    "FACILITATION_WORKER_REPLICAS": 4,
    "FACILITATION_TABLE_STORE": "rocksdb://",
    "FACILITATION_DEFAULT_TUTOR": "lead-tutor-x",
    "FACILITATION_ROSTER": ROSTER,
    "FACILITATION_RULE_PACK": PACK,
    "FACILITATION_TUTOR_SERVICE_TOKEN": "service-token-x",
    "FACILITATION_KAFKA_CLUSTER_ID": "AAAAAAAAAAAAAAAAAAAAAA",
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    base = new_root(tmp_path_factory.mktemp("base"))
    variants = {"unchanged": {}} | {key: {key: value} for key, value in OVERRIDES.items()}
    roots = sweep(base, variants, tmp_path_factory.mktemp("sweep"))
    return {"cli": env_tree(base)} | {name: env_tree(root) for name, root in roots.items()}


def test_every_plugin_setting_has_an_override_here() -> None:
    declared = json.loads(helper("settings"))
    assert set(OVERRIDES) == set(declared["defaults"]) | set(declared["unique"])


def test_the_sweep_renders_what_the_cli_renders(rendered: dict[str, dict[str, bytes]]) -> None:
    assert rendered["unchanged"] == rendered["cli"]


@pytest.mark.parametrize("key", sorted(OVERRIDES))
def test_each_setting_changes_what_is_rendered(
    key: str, rendered: dict[str, dict[str, bytes]]
) -> None:
    base, variant = rendered["unchanged"], rendered[key]
    changed = sorted(path for path in base.keys() | variant.keys()
                     if base.get(path) != variant.get(path))
    assert changed, f"{key}: nothing rendered differently"
    value = OVERRIDES[key]
    if isinstance(value, str) and "\n" not in value:
        assert any(value.encode() in variant.get(path, b"") for path in changed), changed
