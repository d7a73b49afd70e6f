"""A Redis of one test's own (devservices: AOF, appendfsync always), to kill and restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.worker_process import ROOT, free_port


class OwnRedis:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir, self.port = run_dir, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.env = {k: v for k, v in os.environ.items() if k != "FACILITATION_REDIS_URL"}
        self.env.update(
            FACILITATION_RUN_DIR=str(run_dir), FACILITATION_DEV_REDIS_PORT=str(self.port)
        )

    def devservices(self, *args: str) -> None:
        subprocess.run([sys.executable, str(ROOT / "scripts/devservices.py"), *args],
                       env=self.env, check=True, timeout=60, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def start(self) -> None:
        self.devservices("start", "redis")

    @property
    def pid(self) -> int:
        return int((self.run_dir / "redis.pid").read_text())

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid)


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    proc = Path(f"/proc/{pid}/cmdline")
    while proc.exists() and proc.read_bytes():
        assert time.monotonic() < deadline, f"process {pid} did not die"
        time.sleep(0.02)


@contextmanager
def own_redis(run_dir: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(run_dir)
    server.start()
    try:
        yield server
    finally:
        server.devservices("stop", "redis")
