"""README's quick start stays true: exactly two commands, and `make demo` works."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.worker_process import free_port

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "Quick start has a shell block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_exactly_the_two_commands() -> None:
    assert quick_start_commands() == ["make demo", "make test"]


@pytest.mark.integration
def test_make_demo_prints_a_nudge_read_back_from_redis(
    kafka_bootstrap: str, redis_url: str
) -> None:
    # Inside `make test` Kafka and Redis are already provided: the demo uses them as given.
    env = {
        **os.environ,
        "FACILITATION_DEMO_EXIT": "1",
        "FACILITATION_DEMO_WORKER_PORT": str(free_port()),
        "FACILITATION_DEMO_API_PORT": str(free_port()),
    }
    env.pop("MAKEFLAGS", None)
    result = subprocess.run(
        ["make", "--no-print-directory", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "first nudge read back from Redis" in result.stdout
    assert "tutor page: http://127.0.0.1:" in result.stdout
