#!/usr/bin/env bash
# The proxy benchmark: direct vs nginx vs HAProxy vs Glidepath (without and with API
# keys required) on this machine, in one
# run with alternating rounds, then nginx vs HAProxy vs Glidepath over TLS (keep-alive and
# new connections; TLS=0 skips them). Prints Markdown and rewrites the proxy section of
# docs/BENCHMARKS.md. About 9 minutes on a quiet machine (up to ~15 when other work keeps
# disturbing rounds, which are then re-run); QUICK=1 for a ~2 minute smoke run (which leaves the
# docs alone). Other knobs (ROUNDS, DURATION, CONNECTIONS, PROXY_CPU, LOAD_CPU, TLS_NEW_RATE,
# HOLD=1, ...) are listed in bench/README.md.
#
#   bench/proxy/run.sh            or   make bench
#   QUICK=1 bench/proxy/run.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

"$root/bench/install-deps.sh"
if [[ $(nproc) -lt 2 ]]; then
  echo "bench: needs 2 cores (proxy on one, load generator + upstream on the other)" >&2
  exit 2
fi
glidepath=${GLIDEPATH:-$root/build/glidepath}
if [[ ! -x $glidepath ]]; then
  echo "bench: $glidepath is missing; run 'make build' (or 'make bench', which builds it)" >&2
  exit 2
fi
exec python3 "$here/bench_proxy.py" "$@"
