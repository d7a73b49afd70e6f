"""Chart tests: `helm template` with various values, assertions on the parsed manifests,
and offline validation against the Kubernetes schemas (kubeconform).

helm, kubeconform and the schemas come from scripts/install-helm-tools.sh (cached).
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from facilitation_stream.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "openedx-facilitation"
ALL_OPTIONS = CHART / "ci" / "all-options-values.yaml"
HPA = CHART / "ci" / "hpa-values.yaml"
KUBE_VERSION = "1.30.0"
# Custom resources: no schema in the Kubernetes set. Checked by the tests below instead
# (the PrometheusRule by promtool, the ScaledObject's fields by assertion).
CRD_KINDS = "ServiceMonitor,PrometheusRule,ScaledObject"

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def tools() -> Path:
    result = subprocess.run(
        [str(ROOT / "scripts" / "install-helm-tools.sh")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def _helm(tools: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tools / "helm"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HELM_CACHE_HOME": "/tmp/helm-cache"},
    )


def _render_text(tools: Path, *args: str) -> str:
    result = _helm(tools, "template", "fac", str(CHART), "--kube-version", KUBE_VERSION, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(tools: Path, *args: str) -> list[Manifest]:
    return [m for m in yaml.safe_load_all(_render_text(tools, *args)) if m]


def render_fails(tools: Path, *args: str) -> str:
    result = _helm(tools, "template", "fac", str(CHART), "--kube-version", KUBE_VERSION, *args)
    assert result.returncode != 0, "expected helm template to fail"
    return result.stderr


def one(manifests: list[Manifest], kind: str, suffix: str = "") -> Manifest:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, f"{kind} *{suffix}: {[m['metadata']['name'] for m in found]}"
    return found[0]


def containers(manifest: Manifest) -> list[Manifest]:
    return list(manifest["spec"]["template"]["spec"]["containers"])


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {e["name"]: e for e in container["env"]}


VALUE_SETS = {"default": (), "all-options": ("-f", str(ALL_OPTIONS)), "hpa": ("-f", str(HPA))}


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_lint_and_offline_schema_validation(
    tools: Path, values: tuple[str, ...], tmp_path: Path
) -> None:
    lint = _helm(tools, "lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION, *values)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(_render_text(tools, *values))
    schemas = tools.parent / "kubernetes-json-schema"
    result = subprocess.run(
        [str(tools / "kubeconform"), "-strict", "-summary", "-kubernetes-version", KUBE_VERSION,
         "-schema-location",
         f"{schemas}/{{{{ .NormalizedKubernetesVersion }}}}-standalone{{{{ .StrictSuffix }}}}"
         "/{{ .ResourceKind }}{{ .KindSuffix }}.json",
         "-skip", CRD_KINDS, str(manifests)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Invalid: 0, Errors: 0" in result.stdout


def test_kubeconform_rejects_an_invalid_manifest(tools: Path, tmp_path: Path) -> None:
    """The offline schemas are really applied (strict: unknown fields fail)."""
    bad = yaml.safe_dump(one(render(tools), "Deployment", "-api"))
    bad = bad.replace("imagePullPolicy:", "imagePullPolicyy:")
    (tmp_path / "bad.yaml").write_text(bad)
    schemas = tools.parent / "kubernetes-json-schema"
    result = subprocess.run(
        [str(tools / "kubeconform"), "-strict", "-kubernetes-version", KUBE_VERSION,
         "-schema-location", f"{schemas}/v{KUBE_VERSION}-standalone-strict"
         "/{{ .ResourceKind }}{{ .KindSuffix }}.json", str(tmp_path / "bad.yaml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "imagePullPolicyy" in result.stdout


def test_defaults_render_the_core_objects_and_no_secret(tools: Path) -> None:
    manifests = render(tools)
    kinds = sorted(m["kind"] for m in manifests)
    assert kinds == [
        "Deployment",
        "PodDisruptionBudget",
        "PodDisruptionBudget",
        "Service",
        "Service",
        "ServiceAccount",
        "StatefulSet",
    ]
    assert "Secret" not in {m["kind"] for m in render(tools, "-f", str(ALL_OPTIONS))}


def test_worker_probes_and_settings(tools: Path) -> None:
    worker = one(render(tools), "StatefulSet", "-worker")
    [container] = containers(worker)
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/live", "port": "http"}
    assert container["ports"][0]["containerPort"] == 6066
    env = env_of(container)
    assert env["FACILITATION_WEB_HOST"]["value"] == "0.0.0.0"
    # Every FACILITATION_* variable the worker gets is a real setting.
    fields = {f"FACILITATION_{name.upper()}" for name in Settings.model_fields}
    facilitation_env = {name for name in env if name.startswith("FACILITATION_")}
    assert facilitation_env <= fields, sorted(facilitation_env - fields)
    all_options = one(render(tools, "-f", str(ALL_OPTIONS)), "StatefulSet", "-worker")
    all_env = {n for n in env_of(containers(all_options)[0]) if n.startswith("FACILITATION_")}
    assert all_env <= fields, sorted(all_env - fields)


def test_api_health_and_service(tools: Path) -> None:
    manifests = render(tools)
    [api] = containers(one(manifests, "Deployment", "-api"))
    assert api["command"] == ["facilitation", "tutors", "serve"]
    assert api["args"][:2] == ["--host=0.0.0.0", "--port=8077"]
    assert api["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    service = one(manifests, "Service", "-api")
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert not [
        m
        for m in render(tools, "--set", "api.enabled=false")
        if m["metadata"]["name"].endswith("-api")
    ]


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_every_pod_runs_non_root_read_only_without_capabilities(
    tools: Path, values: tuple[str, ...]
) -> None:
    pods = [m for m in render(tools, *values) if m["kind"] in ("StatefulSet", "Deployment")]
    assert pods
    for workload in pods:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert container["resources"]["requests"]
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts  # writable scratch on a read-only root


def test_secrets_are_referenced_never_inlined(tools: Path) -> None:
    manifests = render(tools, "-f", str(ALL_OPTIONS))
    worker = one(manifests, "StatefulSet", "-worker")
    env = env_of(containers(worker)[0])
    assert env["FACILITATION_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "facilitation-kafka-user",
        "key": "password",
    }
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "facilitation-redis"
    # The URL refers to the password variable; Kubernetes expands it in the pod.
    assert env["FACILITATION_REDIS_URL"]["value"] == (
        "rediss://:$(REDIS_PASSWORD)@redis-master.redis.svc:6380/2"
    )
    assert env["FACILITATION_KAFKA_SSL_CAFILE"]["value"] == "/etc/facilitation/kafka-ca/ca.crt"
    volumes = {v["name"]: v for v in worker["spec"]["template"]["spec"]["volumes"]}
    assert volumes["kafka-ca"]["secret"]["secretName"] == "events-cluster-ca-cert"
    api = one(manifests, "Deployment", "-api")
    api_volumes = {v["name"]: v for v in api["spec"]["template"]["spec"]["volumes"]}
    assert api_volumes["tutor-tokens"]["secret"]["secretName"] == "facilitation-tutor-api"
    api_env = env_of(containers(api)[0])
    assert api_env["FACILITATION_TUTOR_TOKENS_FILE"]["value"] == (
        "/etc/facilitation/tutor-tokens/tokens.yaml"
    )
    assert api_env["FACILITATION_TUTOR_SERVICE_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "facilitation-tutor-api",
        "key": "lms-service-token",
    }
    # MSK style: the username from the Secret too.
    hpa_env = env_of(containers(one(render(tools, "-f", str(HPA)), "StatefulSet"))[0])
    assert hpa_env["FACILITATION_KAFKA_SASL_USERNAME"]["valueFrom"]["secretKeyRef"] == {
        "name": "msk-facilitation",
        "key": "username",
    }
    assert "FACILITATION_KAFKA_SSL_CAFILE" not in hpa_env


def test_sasl_without_a_secret_is_refused(tools: Path) -> None:
    err = render_fails(
        tools,
        "--set",
        "kafka.securityProtocol=SASL_SSL",
        "--set",
        "kafka.sasl.mechanism=PLAIN",
        "--set",
        "kafka.sasl.username=u",
    )
    assert "kafka.sasl.existingSecret" in err
    assert "api.auth.existingSecret" in render_fails(tools, "--set", "api.auth.tokensKey=t")


def test_workers_never_outnumber_partitions(tools: Path) -> None:
    err = render_fails(tools, "--set", "worker.replicas=7")
    assert "worker.replicas (7) must not exceed kafka.topics.partitions (6)" in err
    err = render_fails(
        tools, "--set", "autoscaling.enabled=true", "--set", "autoscaling.maxReplicas=10"
    )
    assert "autoscaling.maxReplicas (10) must not exceed" in err
    assert one(render(tools, "--set", "worker.replicas=6"), "StatefulSet")["spec"]["replicas"] == 6


def test_schema_rejects_typos_and_root(tools: Path) -> None:
    assert "replica" in render_fails(tools, "--set", "worker.replica=3")
    assert "runAsNonRoot" in render_fails(tools, "--set", "podSecurityContext.runAsNonRoot=false")
    assert "securityProtocol" in render_fails(tools, "--set", "kafka.securityProtocol=TLS")


def test_rule_pack_is_mounted_for_hot_reload(tools: Path) -> None:
    manifests = render(tools, "--set-string", "rules.pack=version: 1")
    config_map = one(manifests, "ConfigMap", "-rules")
    assert config_map["data"] == {"rules.yaml": "version: 1\n"}
    worker = one(manifests, "StatefulSet")
    [container] = containers(worker)
    mount = next(m for m in container["volumeMounts"] if m["name"] == "rules")
    # A subPath mount would never see ConfigMap updates.
    assert "subPath" not in mount
    assert env_of(container)["FACILITATION_RULES_PATH"]["value"] == (
        f"{mount['mountPath']}/rules.yaml"
    )
    assert "annotations" not in worker["spec"]["template"]["metadata"]


def test_roll_on_change_checksum_follows_the_pack(tools: Path) -> None:
    def checksum(pack: str) -> str:
        worker = one(
            render(tools, "--set", "rules.rollOnChange=true", "--set-string", f"rules.pack={pack}"),
            "StatefulSet",
        )
        return str(worker["spec"]["template"]["metadata"]["annotations"]["checksum/rules"])

    assert checksum("version: 1") == checksum("version: 1")
    assert checksum("version: 1") != checksum("version: 2")


def test_existing_config_maps_are_used_as_given(tools: Path) -> None:
    manifests = render(
        tools,
        "--set",
        "rules.existingConfigMap=team-rules",
        "--set",
        "roster.existingConfigMap=team-roster",
    )
    assert not [m for m in manifests if m["kind"] == "ConfigMap"]
    volumes = {v["name"]: v for v in one(manifests, "StatefulSet")["spec"]["template"]["spec"]
               ["volumes"]}  # fmt: skip
    assert volumes["rules"]["configMap"]["name"] == "team-rules"
    assert volumes["roster"]["configMap"]["name"] == "team-roster"


def test_prometheus_rule_is_the_alerts_file_and_promtool_accepts_it(
    tools: Path, tmp_path: Path
) -> None:
    rule = one(render(tools, "-f", str(ALL_OPTIONS)), "PrometheusRule")
    source = yaml.safe_load((ROOT / "dashboards" / "prometheus" / "alerts.yaml").read_text())
    assert rule["spec"] == source
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"]))
    check = subprocess.run(
        ["promtool", "check", "rules", str(tmp_path / "rules.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_dashboard_config_maps_hold_the_generated_json(tools: Path) -> None:
    manifests = render(tools, "--set", "metrics.dashboards.enabled=true")
    for name in ("facilitation", "pipeline-health"):
        config_map = one(manifests, "ConfigMap", f"-dashboard-{name}")
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        committed = (ROOT / "dashboards" / f"{name}.json").read_text()
        assert config_map["data"][f"{name}.json"] == committed


def test_service_monitor_scrapes_worker_and_api(tools: Path) -> None:
    monitor = one(render(tools, "--set", "metrics.serviceMonitor.enabled=true"), "ServiceMonitor")
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
    assert monitor["spec"]["selector"]["matchExpressions"][0]["values"] == ["worker", "api"]


def test_lag_scalers_stay_within_partitions(tools: Path) -> None:
    manifests = render(tools, "-f", str(ALL_OPTIONS))
    scaled = one(manifests, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["kind"] == "StatefulSet"
    assert scaled["spec"]["maxReplicaCount"] == 12
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["metadata"]["consumerGroup"] == "openedx-facilitation"
    assert trigger["authenticationRef"] == {"name": "facilitation-kafka-trigger-auth"}
    # Autoscaled: the StatefulSet leaves replicas to the scaler.
    assert "replicas" not in one(manifests, "StatefulSet")["spec"]
    hpa = one(render(tools, "-f", str(HPA)), "HorizontalPodAutoscaler")
    assert hpa["spec"]["maxReplicas"] == 6
    assert hpa["spec"]["metrics"][0]["external"]["metric"]["name"] == "facilitation_consumer_lag"


def test_rocksdb_state_gets_a_volume_per_worker(tools: Path) -> None:
    worker = one(render(tools, "-f", str(ALL_OPTIONS)), "StatefulSet")
    [claim] = worker["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert env_of(containers(worker)[0])["FACILITATION_TABLE_STORE"]["value"] == "rocksdb://"


def test_network_policy_allows_scrapes_kafka_redis_and_dns(tools: Path) -> None:
    policy = one(render(tools, "-f", str(ALL_OPTIONS)), "NetworkPolicy", "-worker")
    ingress = policy["spec"]["ingress"][0]
    assert ingress["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert {53, 9093, 6380} <= egress_ports


def test_chart_packages_with_its_generated_files(tools: Path, tmp_path: Path) -> None:
    result = _helm(tools, "package", str(CHART), "--destination", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [archive] = tmp_path.glob("*.tgz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "openedx-facilitation/files/prometheus/alerts.yaml" in names
    assert "openedx-facilitation/files/dashboards/facilitation.json" in names
    assert not any("/ci/" in name for name in names)


def test_the_tutor_page_gets_the_lms_url_and_the_token_lifetime(tools: Path) -> None:
    api = one(render(tools, "--set", "api.lmsUrl=https://lms.example.org",
                     "--set", "api.tokenDays=30"), "Deployment", "-api")
    env = env_of(containers(api)[0])
    assert env["FACILITATION_LMS_URL"]["value"] == "https://lms.example.org"
    assert env["FACILITATION_TUTOR_TOKEN_DAYS"]["value"] == "30"
    default = env_of(containers(one(render(tools), "Deployment", "-api"))[0])
    assert "FACILITATION_LMS_URL" not in default
    assert default["FACILITATION_TUTOR_TOKEN_DAYS"]["value"] == "90"
    assert "tokenDays" in render_fails(tools, "--set", "api.tokenDays=0")
