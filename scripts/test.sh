#!/usr/bin/env bash
# Builds Perdure and runs the whole test suite through CTest: first the optimized build, then a
# short libFuzzer run of every target (skip it with PERDURE_SKIP_FUZZ=1), then the
# AddressSanitizer + UndefinedBehaviorSanitizer build (skip it with PERDURE_SKIP_SANITIZE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
run_suite() {
  local build_dir=$1
  shift
  cmake -S . -B "$build_dir" -G Ninja "$@" > /dev/null
  cmake --build "$build_dir" -j "$jobs"
  ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 900
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${PERDURE_SKIP_FUZZ:-0}" != 1 ]; then
  echo "=== fuzzing: a short libFuzzer run of every target (scripts/fuzz.sh) ==="
  scripts/fuzz.sh --short
fi
if [ "${PERDURE_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "=== sanitizer build (ASan + UBSan) ==="
  run_suite build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERDURE_SANITIZE=ON -DPERDURE_BENCH=OFF
fi
