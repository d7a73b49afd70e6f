"""Shared fixtures. Integration tests use the real Kafka and Redis that
`scripts/devservices.py run` (called by `make test`) starts and exports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_sessionstart(session: pytest.Session) -> None:
    """`make test-compiled` runs the suite on the mypyc-compiled build: make sure it is the
    compiled modules that get tested, not the sources."""
    if os.environ.get("FACILITATION_EXPECT_COMPILED") == "1":
        from facilitation_rules.build_info import compiled
        from facilitation_rules.engine import replay

        if not compiled():
            pytest.exit(f"expected the compiled build, imported {replay.__file__}", returncode=1)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The LMS side's run on its own venv (`make test-lms312`: no engine packages there)
    collects only the modules marked ``lms``; the others would not even import."""
    if os.environ.get("FACILITATION_LMS_ONLY") != "1" or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    return "pytest.mark.lms" not in collection_path.read_text()


def _require(var: str) -> str:
    value = os.environ.get(var)
    if not value:
        pytest.fail(
            f"{var} is not set: run integration tests with `make test` or "
            "`.venv/bin/python scripts/devservices.py run -- .venv/bin/pytest ...`"
        )
    return value


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return _require("FACILITATION_KAFKA_BOOTSTRAP")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _require("FACILITATION_REDIS_URL")


@pytest.fixture(scope="session")
def schema_registry_url() -> str:
    """The Confluent-compatible registry `devservices.py run kafka redis registry` starts."""
    return _require("FACILITATION_SCHEMA_REGISTRY_URL")


@pytest.fixture
def unique() -> str:
    """A short unique suffix so tests never share topics, groups or Redis keys."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """Say which tests talked to the real services, and where those ran."""
    passed = terminalreporter.stats.get("passed", [])
    real = [r for r in passed if "integration" in r.keywords]
    if not real:
        return
    terminalreporter.write_sep("-", "integration tests on the real services")
    terminalreporter.write_line(
        f"{len(real)} passed against Apache Kafka at "
        f"{os.environ.get('FACILITATION_KAFKA_BOOTSTRAP', '?')} and Redis at "
        f"{os.environ.get('FACILITATION_REDIS_URL', '?')}:"
    )
    for report in real:
        terminalreporter.write_line(f"  {report.nodeid}")
