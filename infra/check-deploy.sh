#!/usr/bin/env bash
# Checks the deployment files with real tools (installed by infra/deploy-tools.sh into .tools/):
#   1. the image:   hadolint infra/docker/Dockerfile (every rule, info level included);
#   2. Compose:     compose-check (compose-go: the Compose Specification schema and loader that
#                   `docker compose config` uses) on infra/compose/compose.yaml;
#   3. the chart:   helm lint --strict, then helm template with each infra/helm/ci/*.yaml, every
#                   rendered manifest validated by kubernetes-validate --strict against the Kubernetes
#                   JSON schemas of the oldest and newest versions the chart supports.
# Prints one line per check; exits non-zero on the first failure, with the tool's own message.
# CI runs it through test/ops/deploy-files.test.ts (and .ci/run installs the tools first).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/infra/deploy-tools.sh"
BIN="$ROOT/.tools/go/bin"
VENV="$ROOT/.tools/deploy-venv/bin"
CHART="$ROOT/infra/helm/release-pipelines"
# The chart's kubeVersion floor and the newest version kubernetes-validate knows.
KUBE_VERSIONS=(1.30.0 1.35.0)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ok() { printf '[check-deploy] ok: %s\n' "$*"; }

"$VENV/hadolint" --no-color "$ROOT/infra/docker/Dockerfile"
ok "hadolint infra/docker/Dockerfile"

# ADMIN_TOKEN and WEBHOOK_SECRET_KEY are required by the file (${…:?…}): give them one, as `docker compose
# config` would get.
ADMIN_TOKEN=check-deploy-admin-token WEBHOOK_SECRET_KEY=check-deploy-webhook-secret-key-0123456789 \
  "$BIN/compose-check" -q "$ROOT/infra/compose/compose.yaml"
ok "compose-check infra/compose/compose.yaml"

for values in "$ROOT"/infra/helm/ci/*.yaml; do
  name=$(basename "$values" .yaml)
  "$BIN/helm" lint --strict --quiet --kube-version "${KUBE_VERSIONS[-1]}" -f "$values" "$CHART" >"$out/lint.txt" 2>&1 ||
    {
      cat "$out/lint.txt" >&2
      exit 1
    }
  ok "helm lint --strict ($name)"
  for version in "${KUBE_VERSIONS[@]}"; do
    "$BIN/helm" template release-pipelines "$CHART" --kube-version "$version" -f "$values" >"$out/$name.yaml"
    "$VENV/kubernetes-validate" --strict --quiet -k "$version" "$out/$name.yaml"
    ok "helm template ($name) | kubernetes-validate --strict -k $version: $(grep -c '^kind:' "$out/$name.yaml") manifests"
  done
done
