#!/usr/bin/env python3
"""Start, stop and probe the local Apache Kafka (KRaft) broker, Redis and MariaDB servers.

    devservices.py start [kafka|redis|mariadb|all]  start what is not running, wait until ready
    devservices.py stop  [kafka|redis|mariadb|all]  stop what this folder's pid files name
    devservices.py status                     one line per service
    devservices.py env                        shell exports for the running services
    devservices.py run -- CMD...              start, run CMD, stop only what this call started

Kafka comes from Maven Central jars (scripts/kafka/pom.xml) resolved into a cache folder and
runs with `java -cp`; Redis is Debian's redis-server with AOF on; MariaDB (the plugin's LMS
database in tests) is Debian's mariadbd (devservices_mariadb.py). All bind to 127.0.0.1.
State, pid files and logs live in the run folder (default: ./.run). When
FACILITATION_KAFKA_BOOTSTRAP or FACILITATION_REDIS_URL is set, that service is external:
nothing is started for it and it is used as given.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import devservices_mariadb

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("FACILITATION_RUN_DIR", ROOT / ".run")).resolve()
CACHE_DIR = Path(
    os.environ.get("FACILITATION_CACHE_DIR", Path.home() / ".cache" / "openedx-facilitation")
)
KAFKA_PORT = int(os.environ.get("FACILITATION_DEV_KAFKA_PORT", "39092"))
CONTROLLER_PORT = int(os.environ.get("FACILITATION_DEV_KAFKA_CONTROLLER_PORT", str(KAFKA_PORT + 1)))
REDIS_PORT = int(os.environ.get("FACILITATION_DEV_REDIS_PORT", "36379"))
KAFKA_HEAP = os.environ.get("FACILITATION_DEV_KAFKA_HEAP", "768m")
READY_TIMEOUT_S = float(os.environ.get("FACILITATION_DEV_READY_TIMEOUT", "120"))
POM = ROOT / "scripts" / "kafka" / "pom.xml"
LOG4J = ROOT / "scripts" / "kafka" / "log4j2.properties"


def log(msg: str) -> None:
    print(f"[devservices] {msg}", file=sys.stderr, flush=True)


def kafka_version() -> str:
    text = POM.read_text()
    start = text.index("<kafka.version>") + len("<kafka.version>")
    return text[start : text.index("</kafka.version>")]


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


SERVICES = ("kafka", "redis", "mariadb")


def external(name: str) -> str | None:
    var = {"kafka": "FACILITATION_KAFKA_BOOTSTRAP", "redis": "FACILITATION_REDIS_URL",
           "mariadb": devservices_mariadb.ENV_VAR}[name]
    return os.environ.get(var) or None


# ---------------------------------------------------------------- Kafka


def kafka_classpath() -> Path:
    """Resolve the broker's jars with Maven once; later runs reuse the cache folder."""
    lib = CACHE_DIR / f"kafka-{kafka_version()}" / "lib"
    marker = lib / ".complete"
    if marker.exists():
        return lib
    if shutil.which("mvn") is None:
        raise SystemExit("devservices: Maven (mvn) is needed to fetch the Kafka jars")
    log(f"resolving Apache Kafka {kafka_version()} from Maven Central into {lib}")
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir(parents=True)
    subprocess.run(
        [
            "mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
            f"-DoutputDirectory={lib}", "-DincludeScope=runtime",
        ],
        check=True,
    )
    marker.touch()
    return lib


def kafka_properties(data_dir: Path) -> str:
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{CONTROLLER_PORT}",
            f"listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT},CONTROLLER://127.0.0.1:{CONTROLLER_PORT}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data_dir}",
            "num.partitions=1",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # One broker: a consumer group need not wait for more members to join.
            "group.initial.rebalance.delay.ms=0",
            # Topics are created deliberately (facilitation topics create), never by accident.
            "auto.create.topics.enable=false",
            "log.retention.hours=168",
            "",
        ]
    )


def kafka_probe(timeout: float = 5.0) -> bool:
    """Ready = the broker answers a metadata request and lists itself as a live broker."""
    try:
        from kafka import KafkaAdminClient  # only present inside .venv
    except ImportError:
        return _port_open(KAFKA_PORT)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=f"127.0.0.1:{KAFKA_PORT}",
            request_timeout_ms=int(timeout * 1000),
        )
    except Exception:
        return False
    try:
        cluster = admin.describe_cluster()
        admin.list_topics()
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        admin.close()


def start_kafka() -> bool:
    svc = Service("kafka")
    if external("kafka"):
        log(f"kafka: external at {external('kafka')}, nothing started")
        return False
    if svc.pid():
        log(f"kafka: already running (pid {svc.pid()}) on 127.0.0.1:{KAFKA_PORT}")
        return False
    if _port_open(KAFKA_PORT):
        raise SystemExit(
            f"devservices: 127.0.0.1:{KAFKA_PORT} is taken by a process this folder did not "
            "start; set FACILITATION_DEV_KAFKA_PORT or FACILITATION_KAFKA_BOOTSTRAP"
        )
    lib = kafka_classpath()
    data_dir = RUN_DIR / "kafka-data"
    props = RUN_DIR / "kafka.properties"
    svc.log_dir.mkdir(parents=True, exist_ok=True)
    props.write_text(kafka_properties(data_dir))
    java = ["java", "-cp", f"{lib}/*", f"-Dlog4j2.configurationFile={LOG4J}",
            f"-Dkafka.logs.dir={svc.log_dir}"]
    if not (data_dir / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        subprocess.run(
            [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
            check=True, stdout=subprocess.DEVNULL,
        )
    out = open(svc.log_dir / "kafka.out", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [*java, "-Xms256m", f"-Xmx{KAFKA_HEAP}", "-XX:+UseG1GC",
         "-Djava.awt.headless=true", "kafka.Kafka", str(props)],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it cleanly
    )
    svc.pid_file.write_text(str(proc.pid))
    log(f"kafka {kafka_version()}: started pid {proc.pid}, waiting for readiness")
    _wait_ready("kafka", proc, kafka_probe)
    log(f"kafka: ready on 127.0.0.1:{KAFKA_PORT} (log: {svc.log_dir / 'kafka.log'})")
    return True


# ---------------------------------------------------------------- Redis


def redis_probe(timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis() -> bool:
    svc = Service("redis")
    if external("redis"):
        log(f"redis: external at {external('redis')}, nothing started")
        return False
    if svc.pid():
        log(f"redis: already running (pid {svc.pid()}) on 127.0.0.1:{REDIS_PORT}")
        return False
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        raise SystemExit("devservices: redis-server missing; run scripts/install-system-deps.sh")
    if _port_open(REDIS_PORT):
        raise SystemExit(
            f"devservices: 127.0.0.1:{REDIS_PORT} is taken by a process this folder did not "
            "start; set FACILITATION_DEV_REDIS_PORT or FACILITATION_REDIS_URL"
        )
    data_dir = RUN_DIR / "redis-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    svc.log_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            server, "--bind", "127.0.0.1", "--port", str(REDIS_PORT),
            "--dir", str(data_dir), "--appendonly", "yes",
            # Every acknowledged write is on disk before the reply: a restart loses nothing.
            "--appendfsync", "always", "--save", "",
            "--logfile", str(svc.log_dir / "redis.log"), "--daemonize", "no",
        ],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    svc.pid_file.write_text(str(proc.pid))
    _wait_ready("redis", proc, redis_probe)
    log(f"redis: ready on 127.0.0.1:{REDIS_PORT} (pid {proc.pid}, AOF in {data_dir})")
    return True


# ---------------------------------------------------------------- MariaDB


def start_mariadb() -> bool:
    svc, port = Service("mariadb"), devservices_mariadb.PORT
    if external("mariadb") or svc.pid():
        log(f"mariadb: {external('mariadb') or f'pid {svc.pid()}'} already up, nothing started")
        return False
    if _port_open(port):
        raise SystemExit(f"devservices: 127.0.0.1:{port} is taken by a process this folder "
                         "did not start; set FACILITATION_DEV_MARIADB_PORT or "
                         "FACILITATION_TEST_MARIADB")
    pid = devservices_mariadb.start(RUN_DIR, svc.log_dir, svc.pid_file, _wait_ready)
    log(f"mariadb: ready on 127.0.0.1:{port} (pid {pid})")
    return True


# ---------------------------------------------------------------- common


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_ready(name: str, proc: subprocess.Popen[bytes], probe) -> None:  # type: ignore[no-untyped-def]
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


def start(names: list[str]) -> list[str]:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    started = []
    starters = {"kafka": start_kafka, "redis": start_redis, "mariadb": start_mariadb}
    for name in names:
        if starters[name]():
            started.append(name)
    return started


def env_exports() -> dict[str, str]:
    return {
        "FACILITATION_KAFKA_BOOTSTRAP": external("kafka") or f"127.0.0.1:{KAFKA_PORT}",
        "FACILITATION_REDIS_URL": external("redis") or f"redis://127.0.0.1:{REDIS_PORT}/0",
        devservices_mariadb.ENV_VAR: external("mariadb") or f"127.0.0.1:{devservices_mariadb.PORT}",
    }


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    names = list(SERVICES) if not rest or rest[0] == "all" else [rest[0]]
    if cmd == "start":
        start(names)
    elif cmd == "stop":
        for name in names:
            stop(name)
    elif cmd == "status":
        for name in SERVICES:
            pid = Service(name).pid()
            where = external(name) or (f"running, pid {pid}" if pid else "stopped")
            print(f"{name}: {where}")
    elif cmd == "env":
        for key, value in env_exports().items():
            print(f"export {key}={value}")
    elif cmd == "run":
        if "--" in rest:
            rest = rest[rest.index("--") + 1 :]
        started: list[str] = []
        # SIGTERM (CI time-out, kill) must stop the services too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            started = start(list(SERVICES))
            child = subprocess.Popen(rest, env={**os.environ, **env_exports()})
            try:
                return child.wait()
            except KeyboardInterrupt:
                # A terminal's Ctrl-C reached the child too: let it stop what it started.
                try:
                    child.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    child.terminate()
                    child.wait(timeout=30)
                return 130
        except KeyboardInterrupt:
            return 130
        finally:
            for name in reversed(started):
                stop(name)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
