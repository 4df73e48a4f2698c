#!/usr/bin/env bash
# Installs what `make bench` needs from Debian, and only what is missing: `dpkg -s` first,
# `apt-get update` only when something must be installed. Idempotent. (openssl: the TLS
# rounds make their ECDSA certificate with its CLI.)
#
# The Debian nginx and haproxy packages start system services on install; the benchmark
# runs its own instances with its own config files, so those services are stopped and
# left disabled here (a running system nginx would hold port 80 and compete for CPU).
set -euo pipefail

packages=(nginx-light haproxy wrk nghttp2-client openssl procps util-linux curl python3)
# nginx-light is enough (no extra modules); any installed nginx flavour will do.
has_nginx=0
command -v nginx >/dev/null 2>&1 && has_nginx=1

missing=()
for p in "${packages[@]}"; do
  [[ $p == nginx-light && $has_nginx -eq 1 ]] && continue
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "bench/install-deps: installing ${missing[*]}" >&2
sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' init scripts from starting nginx/haproxy services during install
# (policy-rc.d exit 101 = "action not allowed"); removed again afterwards.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  added_policy=1
fi
# An `if`, not `&&`: a trap's last status becomes the script's, and a false test would
# fail a successful install.
cleanup() {
  if [[ $added_policy -eq 1 ]]; then "${sudo[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT

"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# If a service got started anyway (systemd without policy-rc.d support), stop it.
for svc in nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    "${sudo[@]}" systemctl stop "$svc" || true
    "${sudo[@]}" systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
