#!/usr/bin/env python3
"""Start, stop and probe the local Apache Kafka (KRaft) broker, Redis, schema registry and
MariaDB.

    devservices.py start [kafka|redis|registry|mariadb|all]  start what is not running (all:
                                              kafka and redis), wait until ready
    devservices.py stop  [kafka|redis|registry|mariadb|all]  stop what this folder's pid
                                              files name
    devservices.py status                     one line per service
    devservices.py env                        shell exports for the running services
    devservices.py run [SERVICE...] -- CMD... start (default: kafka redis), run CMD, stop only
                                              what this call started

Kafka comes from Maven Central jars (scripts/kafka/pom.xml) resolved into a cache folder and
runs with `java -cp`; Redis is Debian's redis-server with AOF on; the schema registry (for the
platform event bus's Avro) is Apicurio Registry's Quarkus build from Maven Central
(scripts/schema-registry/pom.xml), in memory, run with `java -jar`; MariaDB (the LMS
database of the plugin app's tests) is Debian's mariadbd (devservices_mariadb.py). All bind
to 127.0.0.1.
State, pid files and logs live in the run folder (default: ./.run). When
FACILITATION_KAFKA_BOOTSTRAP, FACILITATION_REDIS_URL, FACILITATION_SCHEMA_REGISTRY_URL or
FACILITATION_TEST_MARIADB is set, that service is external: nothing is started for it and it
is used as given.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import devservices_mariadb
from devservices_common import (
    CACHE_DIR,
    ROOT,
    RUN_DIR,
    Service,
    external,
    log,
    maven_copy,
    needs_start,
    pom_property,
    port_open,
    stop,
    wait_ready,
)
from devservices_registry import registry_url, start_registry

KAFKA_PORT = int(os.environ.get("FACILITATION_DEV_KAFKA_PORT", "39092"))
CONTROLLER_PORT = int(os.environ.get("FACILITATION_DEV_KAFKA_CONTROLLER_PORT", str(KAFKA_PORT + 1)))
REDIS_PORT = int(os.environ.get("FACILITATION_DEV_REDIS_PORT", "36379"))
KAFKA_HEAP = os.environ.get("FACILITATION_DEV_KAFKA_HEAP", "768m")
POM = ROOT / "scripts" / "kafka" / "pom.xml"
LOG4J = ROOT / "scripts" / "kafka" / "log4j2.properties"
SERVICES = ("kafka", "redis", "registry", "mariadb")


def kafka_version() -> str:
    return pom_property(POM, "kafka.version")


# ---------------------------------------------------------------- Kafka


def kafka_classpath() -> Path:
    """Resolve the broker's jars with Maven once; later runs reuse the cache folder."""
    lib = CACHE_DIR / f"kafka-{kafka_version()}" / "lib"
    if not (lib / ".complete").exists():
        log(f"resolving Apache Kafka {kafka_version()} from Maven Central into {lib}")
        maven_copy(POM, lib)
        (lib / ".complete").touch()
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
        return port_open(KAFKA_PORT)
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
    if not needs_start("kafka", KAFKA_PORT):
        return False
    svc = Service("kafka")
    lib = kafka_classpath()
    data_dir = RUN_DIR / "kafka-data"
    props = RUN_DIR / "kafka.properties"
    svc.log_dir.mkdir(parents=True, exist_ok=True)
    props.write_text(kafka_properties(data_dir))
    java = ["java", "-cp", f"{lib}/*", f"-Dlog4j2.configurationFile={LOG4J}",
            f"-Dkafka.logs.dir={svc.log_dir}"]
    if not (data_dir / "meta.properties").exists():
        cluster_id = "-"
        while cluster_id.startswith("-"):  # "-t -x..." would read as an option (1 in 64)
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
    wait_ready("kafka", proc, kafka_probe)
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
    if not needs_start("redis", REDIS_PORT):
        return False
    svc = Service("redis")
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        raise SystemExit("devservices: redis-server missing; run scripts/install-system-deps.sh")
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
    wait_ready("redis", proc, redis_probe)
    log(f"redis: ready on 127.0.0.1:{REDIS_PORT} (pid {proc.pid}, AOF in {data_dir})")
    return True


def start_mariadb() -> bool:
    if not needs_start("mariadb", devservices_mariadb.PORT):
        return False
    svc = Service("mariadb")
    pid = devservices_mariadb.start(RUN_DIR, svc.log_dir, svc.pid_file, wait_ready)
    log(f"mariadb: ready on 127.0.0.1:{devservices_mariadb.PORT} (pid {pid})")
    return True


def start(names: list[str]) -> list[str]:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    started = []
    starters = {
        "kafka": start_kafka,
        "redis": start_redis,
        "registry": start_registry,
        "mariadb": start_mariadb,
    }
    for name in names:
        if starters[name]():
            started.append(name)
    return started


def env_exports() -> dict[str, str]:
    exports = {
        "FACILITATION_KAFKA_BOOTSTRAP": external("kafka") or f"127.0.0.1:{KAFKA_PORT}",
        "FACILITATION_REDIS_URL": external("redis") or f"redis://127.0.0.1:{REDIS_PORT}/0",
        devservices_mariadb.ENV_VAR: external("mariadb") or f"127.0.0.1:{devservices_mariadb.PORT}",
    }
    if external("registry") or Service("registry").pid():
        exports["FACILITATION_SCHEMA_REGISTRY_URL"] = registry_url()
    if external("mariadb") or Service("mariadb").pid():
        exports[devservices_mariadb.ENV_VAR] = (
            external("mariadb") or f"127.0.0.1:{devservices_mariadb.PORT}"
        )
    return exports


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if not rest or rest[0] == "all":
        # `stop` stops whatever this folder runs; `start` what most commands need.
        names = list(SERVICES) if cmd == "stop" else ["kafka", "redis"]
    elif rest[0] in SERVICES:
        names = [rest[0]]
    elif cmd in ("start", "stop"):
        print(__doc__)
        return 2
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
        wanted = ["kafka", "redis"]
        if "--" in rest:
            wanted = rest[: rest.index("--")] or wanted
            rest = rest[rest.index("--") + 1 :]
        if set(wanted) - set(SERVICES):
            print(__doc__)
            return 2
        started: list[str] = []
        # SIGTERM (CI time-out, kill) must stop the services too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            started = start(wanted)
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
