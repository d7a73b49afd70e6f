"""The schema registry service of scripts/devservices.py: Apicurio Registry (its
Confluent-compatible API, /apis/ccompat/v7) for the platform event bus's Avro schemas.

Apicurio publishes its Quarkus build as a Maven archive (`apicurio-registry-app`, classifier
`all`): scripts/schema-registry/pom.xml names it, Maven resolves it into its cache, and it is
unpacked once into the cache folder and run with `java -jar`, storage in memory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from pathlib import Path

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
    wait_ready,
)

REGISTRY_PORT = int(os.environ.get("FACILITATION_DEV_REGISTRY_PORT", "38081"))
REGISTRY_POM = ROOT / "scripts" / "schema-registry" / "pom.xml"


def registry_jar() -> Path:
    """Apicurio Registry's runnable jar, unpacked once from the Maven archive into the cache."""
    version = pom_property(REGISTRY_POM, "apicurio.version")
    home = CACHE_DIR / f"apicurio-registry-{version}"
    if not (home / ".complete").exists():
        log(f"resolving Apicurio Registry {version} from Maven Central into {home}")
        with tempfile.TemporaryDirectory() as tmp:
            maven_copy(REGISTRY_POM, Path(tmp) / "archive")
            if home.exists():
                shutil.rmtree(home)
            for archive in (Path(tmp) / "archive").glob("*.tar.gz"):
                with tarfile.open(archive) as tar:
                    tar.extractall(home, filter="data")
        (home / ".complete").touch()
    return next(home.glob("*-runner.jar"))


def registry_url() -> str:
    return external("registry") or f"http://127.0.0.1:{REGISTRY_PORT}/apis/ccompat/v7"


def registry_probe(timeout: float = 2.0) -> bool:
    """Ready = the Confluent-compatible API lists its subjects."""
    try:
        with urllib.request.urlopen(f"{registry_url()}/subjects", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def start_registry() -> bool:
    if not needs_start("registry", REGISTRY_PORT):
        return False
    svc = Service("registry")
    jar = registry_jar()
    work = RUN_DIR / "registry"  # its cwd: how pid() knows the process is ours
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    svc.log_dir.mkdir(parents=True, exist_ok=True)
    out = open(svc.log_dir / "registry.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [
            "java",
            "-Xms64m",
            "-Xmx256m",
            f"-Djava.io.tmpdir={work / 'tmp'}",
            "-Dquarkus.http.host=127.0.0.1",
            f"-Dquarkus.http.port={REGISTRY_PORT}",
            "-jar",
            str(jar),
        ],
        cwd=work,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    svc.pid_file.write_text(str(proc.pid))
    log(f"registry: started pid {proc.pid} ({jar.name}), waiting for readiness")
    wait_ready("registry", proc, registry_probe)
    log(f"registry: ready at {registry_url()} (log: {svc.log_dir / 'registry.log'})")
    return True
