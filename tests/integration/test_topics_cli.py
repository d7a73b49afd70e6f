"""`facilitation topics create` against the real Kafka broker: creates the four topics with
the configured partitions, and a second run finds them all."""

from __future__ import annotations

import pytest

from facilitation_stream.cli.main import main

pytestmark = pytest.mark.integration


def test_creates_the_engine_topics_once(
    kafka_bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kafka import KafkaAdminClient

    env = {
        "FACILITATION_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "FACILITATION_APP_ID": f"app-{unique}",
        "FACILITATION_EVENTS_TOPIC": f"events-{unique}",
        "FACILITATION_ALERTS_TOPIC": f"alerts-{unique}",
        "FACILITATION_DEAD_LETTER_TOPIC": f"dlq-{unique}",
        "FACILITATION_TOPIC_PARTITIONS": "3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    names = [f"events-{unique}", f"app-{unique}-subject-updates", f"alerts-{unique}",
             f"dlq-{unique}"]

    assert main(["topics", "create", "--wait", "30"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"created {n}" for n in names]
    assert main(["topics", "create"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"exists {n}" for n in names]

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        described = admin.describe_topics(names)
    finally:
        admin.close()
    assert {t["name"]: len(t["partitions"]) for t in described} == dict.fromkeys(names, 3)
