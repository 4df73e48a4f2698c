#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, starting from the
# committed seed corpus (tests/fuzz/corpus/<target>/). New inputs go to a scratch corpus
# under the build directory so the committed seeds stay small and reviewed.
set -euo pipefail
build=${1:?build dir}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
# The fuzz build compiles UBSan checks as recoverable: without halt_on_error a report is
# printed and fuzzing carries on, so undefined behaviour would leave no reproducer and
# the run would still pass.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
found=0
for bin in "$build"/tests/fuzz/fuzz_*; do
  [[ -f "$bin" && -x "$bin" ]] || continue
  found=$((found + 1))
  name=$(basename "$bin")
  target=${name#fuzz_}
  seeds="$root/tests/fuzz/corpus/$target"
  scratch="$build/fuzz-corpus/$target"
  mkdir -p "$scratch"
  corpora=("$scratch")
  # libFuzzer refuses a corpus directory that does not exist; a new target may have none yet.
  if [[ -d "$seeds" ]]; then
    corpora+=("$seeds")
  else
    echo "warning: $name has no seed corpus at $seeds" >&2
  fi
  echo "== $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/fuzz-crash-$target-" "${corpora[@]}"; then
    echo "!! $name found a failure; reproducer under $build/fuzz-crash-$target-*" >&2
    status=1
  fi
done
if [[ $found -eq 0 ]]; then
  echo "no fuzz targets under $build/tests/fuzz (build the fuzz_targets target first)" >&2
  exit 1
fi
exit $status
