#!/usr/bin/env bash
# Installs the chart tooling into a cache folder, skipping what is already there:
#   helm, kubeconform and kustomize (built from the Go module proxy with `go install`), and the
#   Kubernetes JSON schemas for offline validation (shipped inside the PyPI wheel of
#   kubernetes-validate; its absolute "/api/_definitions.json" refs are rewritten to
#   relative ones so kubeconform resolves them from disk).
# Prints the bin folder on stdout; everything else goes to stderr.
set -euo pipefail

HELM_VERSION="v3.22.0"
KUBECONFORM_VERSION="v0.8.0"
# The newest kustomize v5 that builds with this machine's Go (v5.8.3 needs Go 1.27).
KUSTOMIZE_VERSION="v5.8.1"
KUBERNETES_VALIDATE_VERSION="1.37.0"
# Kubernetes minor whose schemas validate the chart (the oldest minor we support).
KUBE_SCHEMA_VERSION="1.30.0"

CACHE="${FACILITATION_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/openedx-facilitation/tools}"
BIN="$CACHE/bin"
SCHEMAS="$CACHE/kubernetes-json-schema/v${KUBE_SCHEMA_VERSION}-standalone-strict"
mkdir -p "$BIN"

log() { echo "[install-helm-tools] $*" >&2; }

go_install() {  # name module version
  local name=$1 module=$2 version=$3 stamp="$BIN/.$1-$3"
  if [ -x "$BIN/$name" ] && [ -e "$stamp" ]; then
    return 0
  fi
  command -v go >/dev/null || { log "go is required to build $name"; exit 1; }
  log "building $name $version from the Go module proxy (first run takes a few minutes)"
  GOBIN="$BIN" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "$module@$version" >&2
  rm -f "$BIN/.$name-"*
  touch "$stamp"
}

go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
go_install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"

if [ ! -e "$SCHEMAS/.complete" ]; then
  log "unpacking Kubernetes v$KUBE_SCHEMA_VERSION schemas from kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
  PY="${PYTHON:-python3}"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$PY" -m pip download -q --no-deps -d "$tmp" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
  src="kubernetes_validate/kubernetes-json-schema/v${KUBE_SCHEMA_VERSION}-local-strict"
  (cd "$tmp" && "$PY" -m zipfile -e kubernetes_validate-*.whl x >&2)
  rm -rf "$SCHEMAS"
  mkdir -p "$(dirname "$SCHEMAS")"
  mv "$tmp/x/$src" "$SCHEMAS"
  # kubernetes-validate resolves refs through the schemas' "$id" (https://kubernetes.io/...)
  # itself; kubeconform would fetch that URL. Dropping "$id" and making the refs relative
  # lets kubeconform resolve them from the files next to each schema.
  "$PY" - "$SCHEMAS" <<'PYEOF'
import json, pathlib, sys
for path in pathlib.Path(sys.argv[1]).glob("*.json"):
    text = path.read_text().replace('"/api/_definitions.json#', '"_definitions.json#')
    schema = json.loads(text)
    schema.pop("$id", None)
    path.write_text(json.dumps(schema))
PYEOF
  touch "$SCHEMAS/.complete"
fi

echo "$BIN"
