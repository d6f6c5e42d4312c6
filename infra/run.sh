#!/usr/bin/env bash
# Runs a command with the project's toolchain: bootstraps first (quiet and fast when nothing is
# missing), then executes the command with Node 24, node_modules/.bin and the Temporal binaries set.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/infra/bootstrap.sh"
# shellcheck source=/dev/null
source "$ROOT/.tools/env"
cd "$ROOT"
exec "$@"
