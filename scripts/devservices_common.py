"""What scripts/devservices.py and its service modules share: folders, pid files, waiting
for readiness, stopping by pid, resolving a service from Maven Central."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("FACILITATION_RUN_DIR", ROOT / ".run")).resolve()
CACHE_DIR = Path(
    os.environ.get("FACILITATION_CACHE_DIR", Path.home() / ".cache" / "openedx-facilitation")
)
READY_TIMEOUT_S = float(os.environ.get("FACILITATION_DEV_READY_TIMEOUT", "120"))


def log(msg: str) -> None:
    print(f"[devservices] {msg}", file=sys.stderr, flush=True)


def pom_property(pom: Path, name: str) -> str:
    text = pom.read_text()
    start = text.index(f"<{name}>") + len(name) + 2
    return text[start : text.index(f"</{name}>")]


@dataclass
class Service:
    name: str

    @property
    def pid_file(self) -> Path:
        return RUN_DIR / f"{self.name}.pid"

    @property
    def log_dir(self) -> Path:
        return RUN_DIR / "logs"

    def pid(self) -> int | None:
        """The pid in our pid file if that process is alive and is ours, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except (FileNotFoundError, PermissionError):
            return None
        # A recycled pid belongs to someone else: ours names this run folder on its command
        # line (Kafka) or works inside it (Redis rewrites its process title).
        if str(RUN_DIR) not in cmdline and not cwd.startswith(str(RUN_DIR)):
            return None
        return pid


#: The variable naming an external service instead of a local one, and the local port's.
EXTERNAL_VARS = {
    "kafka": "FACILITATION_KAFKA_BOOTSTRAP",
    "redis": "FACILITATION_REDIS_URL",
    "registry": "FACILITATION_SCHEMA_REGISTRY_URL",
    "mariadb": "FACILITATION_TEST_MARIADB",
}
PORT_VARS = {
    "kafka": "FACILITATION_DEV_KAFKA_PORT",
    "redis": "FACILITATION_DEV_REDIS_PORT",
    "registry": "FACILITATION_DEV_REGISTRY_PORT",
    "mariadb": "FACILITATION_DEV_MARIADB_PORT",
}


def external(name: str) -> str | None:
    return os.environ.get(EXTERNAL_VARS[name]) or None


def needs_start(name: str, port: int) -> bool:
    """False when the service is external or already runs; stops when another process holds
    its port."""
    if external(name):
        log(f"{name}: external at {external(name)}, nothing started")
        return False
    pid = Service(name).pid()
    if pid:
        log(f"{name}: already running (pid {pid}) on 127.0.0.1:{port}")
        return False
    if port_open(port):
        raise SystemExit(
            f"devservices: 127.0.0.1:{port} is taken by a process this folder did not "
            f"start; set {PORT_VARS[name]} or {EXTERNAL_VARS[name]}"
        )
    return True


def maven_copy(pom: Path, into: Path) -> None:
    """The runtime dependencies of ``pom`` into a fresh folder ``into`` (Maven's cache too)."""
    if shutil.which("mvn") is None:
        raise SystemExit(f"devservices: Maven (mvn) is needed to resolve {pom}")
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    subprocess.run(
        [
            "mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
            f"-DoutputDirectory={into}", "-DincludeScope=runtime",
        ],
        check=True,
    )


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_ready(name: str, proc: subprocess.Popen[bytes], probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"devservices: {name} exited with code {proc.returncode} during start; "
                f"see {RUN_DIR / 'logs'}"
            )
        if probe():
            return
        time.sleep(0.3)
    stop(name)
    raise SystemExit(f"devservices: {name} not ready after {READY_TIMEOUT_S:.0f}s")


def stop(name: str) -> None:
    svc = Service(name)
    pid = svc.pid()
    if pid is None:
        svc.pid_file.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        _reap(pid)
        time.sleep(0.2)
    if Path(f"/proc/{pid}").exists():
        log(f"{name}: still running after SIGTERM, sending SIGKILL to pid {pid}")
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        _reap(pid)
    svc.pid_file.unlink(missing_ok=True)
    log(f"{name}: stopped (pid {pid})")


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):  # not our child: nothing to reap
        os.waitpid(pid, os.WNOHANG)
