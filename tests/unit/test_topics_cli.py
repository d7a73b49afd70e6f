"""`facilitation topics create`: the wait loop and its exit status, with the Kafka admin call
replaced (the real broker run is tests/integration/test_topics_cli.py)."""

from __future__ import annotations

import pytest
from kafka.errors import KafkaTimeoutError

from facilitation_stream import kafka_config
from facilitation_stream.cli import topics
from facilitation_stream.cli.main import main


def test_retries_until_the_brokers_answer_then_lists_each_topic(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []

    def ensure(settings: object, names: list[str]) -> list[str]:
        calls.append(list(names))
        if len(calls) < 3:
            raise KafkaTimeoutError("Unable to bootstrap")
        return names[1:]

    monkeypatch.setattr(kafka_config, "ensure_topics", ensure)
    monkeypatch.setattr(topics, "RETRY_S", 0.01)
    monkeypatch.setenv("FACILITATION_APP_ID", "app")
    assert main(["topics", "create", "--wait", "5"]) == 0
    out, err = capsys.readouterr()
    assert len(calls) == 3 and err.count("waiting for Kafka") == 2
    assert out.splitlines() == [
        "exists facilitation.events.v1",
        "created app-subject-updates",
        "created facilitation.alerts.v1",
        "created facilitation.events.dlq.v1",
    ]


def test_gives_up_after_the_wait_with_exit_status_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable(settings: object, names: list[str]) -> list[str]:
        raise KafkaTimeoutError("Unable to bootstrap")

    monkeypatch.setattr(kafka_config, "ensure_topics", unreachable)
    monkeypatch.setattr(topics, "RETRY_S", 0.01)
    assert main(["topics", "create"]) == topics.EXIT_UNREACHABLE
    assert "did not answer" in capsys.readouterr().err
