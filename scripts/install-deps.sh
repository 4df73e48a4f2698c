#!/usr/bin/env bash
# Installs exactly the Debian packages Glidepath's build and tests need, and only the
# ones that are missing: `dpkg -s` first, `apt-get update` only when something must be
# installed. Then the dashboard's npm packages (web/package-lock.json) when web/node_modules
# is missing or older than the lock file. Idempotent; safe to run on every `make`.
#
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --fuzz   also clang and its libFuzzer runtime (make fuzz)
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache make pkg-config
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libsqlite3-dev libssl-dev libcurl4-openssl-dev ca-certificates
  libpq-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev
  node-llhttp libboost-dev libnghttp2-dev
  chromium
)
# Node.js runs npm (the dashboard's uPlot, and playwright-core for its browser test); the
# machine's own Node.js is used when there is one.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg -s "$p" >/dev/null 2>&1 ||
    ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci installs exactly the lock file's versions; the marker file records that it ran
# for this lock file (node_modules/.package-lock.json is rewritten by npm itself).
web="$(cd "$(dirname "$0")/../web" && pwd)"
marker="$web/node_modules/.glidepath-installed"
if [[ ! -f "$marker" || "$web/package-lock.json" -nt "$marker" ]]; then
  echo "install-deps: npm ci in web/" >&2
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$marker"
fi
