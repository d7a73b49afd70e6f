"""Start and stop `facilitation worker` processes for integration tests (by pid)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The engine's CLI: this Python's, unless the tests run from another venv than the engine's
# (the LMS side's Python 3.12 run: `make test-lms312`).
FACILITATION = os.environ.get("FACILITATION_ENGINE_CLI") or str(
    Path(sys.executable).with_name("facilitation"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WorkerProcess:
    env: dict[str, str]
    log_path: Path
    engine: str | None = None
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return int(self.env["FACILITATION_WEB_PORT"])

    def start(self) -> WorkerProcess:
        args = [FACILITATION, "worker", *self.extra_args]
        if self.engine:
            args += ["--engine", self.engine]
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            args, env={**os.environ, **self.env, "PYTHONPATH": _pythonpath()}, cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        return self

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited {self.proc.returncode}: {self.tail()}")
            try:
                if self.get("/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"worker not ready in {timeout}s: {self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commit — a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(kafka_bootstrap: str, redis_url: str, unique: str, tmp: Path,
               partitions: int = 3) -> dict[str, str]:
    return {
        "FACILITATION_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "FACILITATION_REDIS_URL": redis_url,
        "FACILITATION_EVENTS_TOPIC": f"events-{unique}",
        "FACILITATION_ALERTS_TOPIC": f"alerts-{unique}",
        "FACILITATION_DEAD_LETTER_TOPIC": f"dlq-{unique}",
        "FACILITATION_APP_ID": f"worker-{unique}",
        "FACILITATION_TOPIC_PARTITIONS": str(partitions),
        "FACILITATION_DATA_DIR": str(tmp / "worker-data"),
        "FACILITATION_WEB_PORT": str(free_port()),
        "FACILITATION_DEFAULT_TUTOR": f"tutor-{unique}",
    }


def _pythonpath() -> str:
    """The repository (for test engines such as ``tests.support.counting_engine``) ahead of
    whatever PYTHONPATH the tests run with, so worker and test import the same code."""
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join([str(ROOT), inherited]) if inherited else str(ROOT)
