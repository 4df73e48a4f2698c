#!/usr/bin/env bash
# The rollback benchmark: faulty canaries (50 % errors at 200 req/s) rolled back by the default
# alarm, and healthy ones that must pass without a false alarm, against one `glidepath serve`.
# Prints Markdown and rewrites the bench/rollback section of docs/BENCHMARKS.md. About 3
# minutes for 10 + 10 deployments; QUICK=1 for a 3 + 3 smoke run (~1 minute, leaves the
# docs alone). Knobs (FAULTY_ROUNDS, HEALTHY_ROUNDS, RATE, CONNECTIONS, STICKINESS, KEEP_TMP,
# ...) are described at the top of bench/rollback/bench_rollback.py.
#
#   bench/rollback/run.sh         or   make bench-rollback
#   QUICK=1 bench/rollback/run.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

glidepath=${GLIDEPATH:-$root/build/glidepath}
if [[ ! -x $glidepath ]]; then
  echo "bench-rollback: $glidepath is missing; run 'make build' (or 'make bench-rollback', which builds it)" >&2
  exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "bench-rollback: needs python3 (standard library only)" >&2
  exit 2
fi
export GLIDEPATH=$glidepath
exec python3 "$here/bench_rollback.py" "$@"
