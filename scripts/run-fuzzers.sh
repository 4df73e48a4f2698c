#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, starting from the
# committed seed corpus (tests/fuzz/corpus/<target>/). New inputs go to a scratch corpus
# under the build directory so the committed seeds stay small and reviewed.
set -euo pipefail
build=${1:?build dir}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
  [[ -x "$bin" ]] || continue
  name=$(basename "$bin")
  target=${name#fuzz_}
  seeds="$root/tests/fuzz/corpus/$target"
  scratch="$build/fuzz-corpus/$target"
  mkdir -p "$scratch"
  echo "== $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/fuzz-crash-$target-" "$scratch" "$seeds"; then
    echo "!! $name found a failure; reproducer under $build/fuzz-crash-$target-*" >&2
    status=1
  fi
done
exit $status
