#!/usr/bin/env bash
# Installs exactly the Debian packages Glidepath's build and tests need, and only the
# ones that are missing: `dpkg -s` first, `apt-get update` only when something must be
# installed. Idempotent; safe to run on every `make`.
#
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --fuzz   also clang and its libFuzzer runtime (make fuzz)
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache make pkg-config
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libsqlite3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  node-llhttp libboost-dev
)
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
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
