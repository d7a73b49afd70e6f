#!/usr/bin/env bash
# helm lint, then helm template with the default values and each ci/*-values.yaml, every
# rendered manifest validated offline (strict) against the Kubernetes schemas by kubeconform.
# Custom resources (ServiceMonitor, PrometheusRule, ScaledObject) have no schema in that set:
# they are skipped here and checked by tests/unit/test_helm_chart.py (promtool, assertions).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=$(scripts/install-helm-tools.sh)
CHART=helm/openedx-facilitation
KUBE_VERSION=1.30.0
SCHEMAS="$(dirname "$TOOLS")/kubernetes-json-schema"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

for values in "" "$CHART"/ci/*-values.yaml; do
  args=(--kube-version "$KUBE_VERSION")
  name=default
  if [ -n "$values" ]; then
    args+=(-f "$values")
    name=$(basename "$values" .yaml)
  fi
  echo "== $name"
  "$TOOLS/helm" lint --strict --quiet "$CHART" "${args[@]}"
  "$TOOLS/helm" template facilitation "$CHART" "${args[@]}" > "$OUT/$name.yaml"
  "$TOOLS/kubeconform" -strict -summary -kubernetes-version "$KUBE_VERSION" \
    -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -skip ServiceMonitor,PrometheusRule,ScaledObject \
    "$OUT/$name.yaml"
done
