"""The Tutor plugin with PyPI's Tutor: `tutor plugins enable facilitation` and `tutor config
save` in a temporary TUTOR_ROOT, then what was rendered, checked without a Docker engine or a
cluster (neither exists here):

- `tutor local`: each compose file validates against the Compose Specification JSON schema
  (from the check-jsonschema wheel, see tutor_helper.py), and the files `tutor local` combines
  reference only services, env files and folders that exist;
- `tutor k8s`: `kustomize build` of the environment validates strictly with kubeconform
  against the Kubernetes 1.30 schemas, as the Helm chart does (scripts/helm-check.sh);
- the LMS and CMS settings Tutor renders, imported as the LMS imports them (over stand-ins for
  edx-platform's modules: edx_platform/), hold the FACILITATION_* settings and the XBlocks'
  XBLOCK_SETTINGS["FACILITATION"];
- a second `tutor config save` changes nothing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .tutor_env import (
    REPO,
    env_file,
    env_tree,
    helper,
    helper_python,
    load_yaml,
    new_root,
    read,
    sweep,
    tutor,
    user_config,
)

KUBE_VERSION = "1.30.0"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.prod.yml", "docker-compose.jobs.yml")
EXTERNAL_KAFKA = "kafka-1.example.org:9093,kafka-2.example.org:9093"
ENGINE = ("facilitation-worker", "facilitation-api")
VARIANTS = ["root", "external", "lms_only"]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_root(tmp_path_factory.mktemp("tutor-root"))


@pytest.fixture(scope="module")
def external(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same site with an existing Kafka cluster and SASL."""
    values = {
        "FACILITATION_KAFKA_BOOTSTRAP": EXTERNAL_KAFKA,
        "FACILITATION_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "FACILITATION_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "FACILITATION_KAFKA_SASL_USERNAME": "facilitation",
        "FACILITATION_KAFKA_SASL_PASSWORD": "sasl-secret",
    }
    return sweep(root, {"external": values}, tmp_path_factory.mktemp("variants"))["external"]


@pytest.fixture(scope="module")
def lms_only(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LMS side only, for an engine deployed with the Helm chart."""
    values = {
        "FACILITATION_RUN_ENGINE": False,
        "FACILITATION_KAFKA_BOOTSTRAP": EXTERNAL_KAFKA,
        "FACILITATION_TUTOR_API_URL": "http://facilitation-api.facilitation.svc",
    }
    return sweep(root, {"lms_only": values}, tmp_path_factory.mktemp("variants"))["lms_only"]


@pytest.fixture(scope="module")
def compose_schema() -> jsonschema.Draft202012Validator:
    schema = json.loads(Path(helper("schema").strip()).read_text(encoding="utf-8"))
    assert schema["title"] == "Compose Specification"
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def tools() -> Path:
    result = subprocess.run(
        [str(REPO / "scripts" / "install-helm-tools.sh")],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def _services(root: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in COMPOSE_FILES:
        merged.update(load_yaml(root, f"local/{name}")["services"])
    return merged


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_files_follow_the_compose_specification(
    variant: str, name: str, compose_schema: jsonschema.Draft202012Validator,
    request: pytest.FixtureRequest,
) -> None:
    document = load_yaml(request.getfixturevalue(variant), f"local/{name}")
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in compose_schema.iter_errors(document)]
    assert errors == []


def test_the_schema_check_catches_a_wrong_compose_file(
    root: Path, compose_schema: jsonschema.Draft202012Validator
) -> None:
    document = load_yaml(root, "local/docker-compose.yml")
    document["services"]["facilitation-worker"]["restart_policy"] = "always"  # not a key
    document["services"]["facilitation-api"]["depends_on"] = "redis"  # not a list/mapping
    errors = list(compose_schema.iter_errors(document))
    assert any("'restart_policy' was unexpected" in e.message for e in errors)
    assert any(list(e.absolute_path) == ["services", "facilitation-api"] for e in errors)
    assert len(errors) == 3  # the two, and the api service failing as a whole


@pytest.mark.parametrize("variant", VARIANTS)
def test_local_services_reference_what_exists(variant: str, request: pytest.FixtureRequest) -> None:
    root = request.getfixturevalue(variant)
    services = _services(root)
    local = root / "env" / "local"
    for name, service in services.items():
        for target in service.get("depends_on") or []:
            assert target in services, f"{name} depends on unknown {target}"
        for path in service.get("env_file", []):
            assert (local / path).is_file(), f"{name}: env_file {path}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("../plugins/"):
                assert (local / source).exists(), f"{name}: volume {source}"
    runs_kafka = variant == "root"
    assert ("facilitation-kafka" in services) is runs_kafka
    assert "facilitation-job" in services
    if variant == "lms_only":
        assert not set(ENGINE) & set(services)
    else:
        worker_needs = set(services["facilitation-worker"]["depends_on"])
        kafka = {"facilitation-kafka"} if runs_kafka else set()
        assert worker_needs == {"permissions", "redis"} | kafka
    assert services["facilitation-job"]["entrypoint"] == []
    assert "../../data/lms:/openedx/lms-data:ro" in services["facilitation-job"]["volumes"]


def test_engine_settings_come_from_the_tutor_values(root: Path, external: Path) -> None:
    config = user_config(root)
    engine = env_file(root, "plugins/facilitation/apps/env/engine.env")
    assert engine["FACILITATION_KAFKA_BOOTSTRAP"] == "facilitation-kafka:9092"
    assert engine["FACILITATION_TOPIC_REPLICATION"] == "1"
    assert "FACILITATION_ROSTER_PATH" not in engine and "FACILITATION_RULES_PATH" not in engine
    assert engine["FACILITATION_TUTOR_PAGE_URL"] == "http://tutors.local.openedx.io/"
    secrets = env_file(root, "plugins/facilitation/apps/env/engine-secrets.env")
    # Tutor's own Redis, in a database of its own.
    assert secrets == {
        "FACILITATION_REDIS_URL": "redis://redis:6379/9",
        "FACILITATION_TUTOR_SERVICE_TOKEN": config["FACILITATION_TUTOR_SERVICE_TOKEN"],
    }
    kafka = env_file(root, "plugins/facilitation/apps/env/kafka.env")
    assert kafka["CLUSTER_ID"] == config["FACILITATION_KAFKA_CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(kafka["CLUSTER_ID"] + "==")) == 16
    outside = env_file(external, "plugins/facilitation/apps/env/engine.env")
    assert outside["FACILITATION_KAFKA_BOOTSTRAP"] == EXTERNAL_KAFKA
    assert outside["FACILITATION_TOPIC_REPLICATION"] == "3"
    assert outside["FACILITATION_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert "FACILITATION_KAFKA_SASL_PASSWORD" not in outside  # secrets file only
    outside_secrets = env_file(external, "plugins/facilitation/apps/env/engine-secrets.env")
    assert outside_secrets["FACILITATION_KAFKA_SASL_PASSWORD"] == "sasl-secret"


def test_generated_kafka_cluster_ids_never_start_with_a_dash() -> None:
    # One in 64 base64 ids starts with "-", which the broker's format command would read as
    # an option; 2,000 tries show a missing guard with certainty near 1 - (63/64)**2000.
    script = (
        "from tutorfacilitation.plugin import kafka_cluster_id\n"
        "ids = [kafka_cluster_id() for _ in range(2000)]\n"
        "print(sum(i.startswith('-') for i in ids), len(set(ids)), {len(i) for i in ids})"
    )
    assert helper_python(script).split() == ["0", "2000", "{22}"]


def test_images_and_the_proxy(root: Path) -> None:
    config = user_config(root)
    openedx = read(root, "build/openedx/Dockerfile")
    assert "install 'openedx-facilitation[lms]==0.1.0'" in openedx
    engine = read(root, "plugins/facilitation/build/facilitation/Dockerfile")
    assert "pip install --no-cache-dir 'openedx-facilitation[engine,rocksdb]==0.1.0'" in engine
    for dockerfile in (openedx, engine):  # secrets stay out of the images
        assert config["FACILITATION_TUTOR_SERVICE_TOKEN"] not in dockerfile
    caddy = read(root, "apps/caddy/Caddyfile")
    site = caddy[caddy.index("tutors.local.openedx.io{$default_site_port} {"):]
    assert 'import proxy "facilitation-api:8077"' in site and "respond @metrics 404" in site


def _kustomize(tools: Path, root: Path, out: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(tools / "kustomize"), "build", str(root / "env")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out.write_text(result.stdout, encoding="utf-8")
    return [m for m in yaml.safe_load_all(result.stdout) if m]


def _kubeconform(tools: Path, manifests: Path) -> str:
    schemas = tools.parent / "kubernetes-json-schema"
    result = subprocess.run(
        [
            str(tools / "kubeconform"), "-strict", "-summary", "-kubernetes-version", KUBE_VERSION,
            "-schema-location",
            f"{schemas}/{{{{ .NormalizedKubernetesVersion }}}}-standalone{{{{ .StrictSuffix }}}}"
            "/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            str(manifests),
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _named(manifests: list[dict[str, Any]], kind: str, prefix: str) -> dict[str, Any]:
    found = [
        m for m in manifests if m["kind"] == kind and m["metadata"]["name"].startswith(prefix)
    ]
    assert len(found) == 1, f"{kind} {prefix}*: {[m['metadata']['name'] for m in found]}"
    return found[0]


@pytest.mark.parametrize("variant", VARIANTS)
def test_k8s_output_validates_with_kubeconform(
    variant: str, tools: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    root = request.getfixturevalue(variant)
    manifests = _kustomize(tools, root, tmp_path / "k8s.yaml")
    summary = _kubeconform(tools, tmp_path / "k8s.yaml")
    assert f"{len(manifests)} resources found" in summary and "Invalid: 0" in summary
    kinds = {(m["kind"], m["metadata"]["name"]) for m in manifests}
    engine = {("Deployment", n) for n in ENGINE} | {("Service", n) for n in ENGINE}
    assert engine <= kinds if variant != "lms_only" else not engine & kinds
    assert (("Deployment", "facilitation-kafka") in kinds) is (variant == "root")
    assert (("PersistentVolumeClaim", "facilitation-kafka") in kinds) is (variant == "root")


def test_k8s_engine_reads_a_configmap_and_a_secret(root: Path, tools: Path, tmp_path: Path) -> None:
    manifests = _kustomize(tools, root, tmp_path / "k8s.yaml")
    settings = _named(manifests, "ConfigMap", "facilitation-env-")
    secret = _named(manifests, "Secret", "facilitation-secrets-")
    files = _named(manifests, "ConfigMap", "facilitation-config-")
    token = user_config(root)["FACILITATION_TUTOR_SERVICE_TOKEN"]
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded["FACILITATION_TUTOR_SERVICE_TOKEN"] == token
    assert token not in json.dumps(settings) and token not in json.dumps(files)
    assert settings["data"]["FACILITATION_KAFKA_BOOTSTRAP"] == "facilitation-kafka:9092"
    for name in ENGINE:
        pod = _named(manifests, "Deployment", name)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        refs = [next(iter(ref.values()))["name"] for ref in container["envFrom"]]
        assert refs == [settings["metadata"]["name"], secret["metadata"]["name"]]
        volume = next(v for v in pod["volumes"] if v["name"] == "config")
        assert volume["configMap"]["name"] == files["metadata"]["name"]
        assert all("subPath" not in m for m in container["volumeMounts"])  # hot reload
        assert pod["enableServiceLinks"] is False
    job = _named(manifests, "Job", "facilitation-job")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == []


def _platform_settings(root: Path, variant: str, tmp_path: Path) -> dict[str, Any]:
    """Import Tutor's rendered settings as the LMS does, over edx-platform stand-ins."""
    tree = tmp_path / "platform"
    shutil.copytree(Path(__file__).with_name("edx_platform"), tree)
    for name in ("lms", "cms"):
        shutil.copytree(root / "env" / "apps" / "openedx" / "settings" / name,
                        tree / name / "envs" / "tutor")
    config = root / "env" / "apps" / "openedx" / "config"
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "run_settings.py", variant],
        cwd=tree, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(tree), "LMS_CFG": str(config / "lms.env.yml"),
             "CMS_CFG": str(config / "cms.env.yml")},
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("variant", ["lms", "cms"])
def test_lms_and_cms_settings_configure_the_plugin_and_the_xblocks(
    variant: str, root: Path, external: Path, tmp_path: Path
) -> None:
    token = user_config(root)["FACILITATION_TUTOR_SERVICE_TOKEN"]
    expected = {
        "KAFKA_BOOTSTRAP": "facilitation-kafka:9092",
        "EVENTS_TOPIC": "facilitation.events.v1",
        "PRODUCER_CONFIG": {"security_protocol": "PLAINTEXT"},
        "OUTBOX": "database",
        "OUTBOX_PATH": "/openedx/data/facilitation/outbox.sqlite3",
        "LIVE_TRACKING": True,
        "TUTOR_API_URL": "http://facilitation-api:8077",
        "TUTOR_SERVICE_TOKEN": token,
        "TUTOR_PAGE_URL": "http://tutors.local.openedx.io/",
    }
    loaded = _platform_settings(root, variant, tmp_path / "default")
    as_settings = {f"FACILITATION_{k}": v for k, v in expected.items()}
    assert as_settings.items() <= loaded["settings"].items()
    assert expected.items() <= loaded["xblock_settings"].items()
    outside = _platform_settings(external, variant, tmp_path / "external")["xblock_settings"]
    assert outside["TUTOR_API_URL"] == "http://facilitation-api:8077"
    assert outside["KAFKA_BOOTSTRAP"] == EXTERNAL_KAFKA
    assert outside["PRODUCER_CONFIG"] == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "facilitation", "sasl_plain_password": "sasl-secret",
    }
    if not loaded["plugins_loaded"]:
        pytest.skip("edx-django-utils is not installed: plugin app discovery not exercised")
    if not entry_points(group=f"{variant}.djangoapp", name="facilitation"):
        pytest.skip(f"the installed package declares no {variant}.djangoapp entry point yet")
    assert "facilitation_xblocks.plugin.apps.FacilitationPluginConfig" in loaded["installed_apps"]


def test_lms_only_points_the_lms_at_the_engine_elsewhere(lms_only: Path, tmp_path: Path) -> None:
    xblocks = _platform_settings(lms_only, "lms", tmp_path)["xblock_settings"]
    assert xblocks["TUTOR_API_URL"] == "http://facilitation-api.facilitation.svc"
    assert xblocks["KAFKA_BOOTSTRAP"] == EXTERNAL_KAFKA
    assert "facilitation-api:8077" not in read(lms_only, "apps/caddy/Caddyfile")


def test_a_second_save_changes_nothing(tmp_path: Path) -> None:
    root = new_root(tmp_path / "root")
    before = ((root / "config.yml").read_bytes(), env_tree(root))
    tutor(root, "config", "save")
    assert ((root / "config.yml").read_bytes(), env_tree(root)) == before
