#!/usr/bin/env bash
# Builds Perdure and runs the whole test suite through CTest: first the optimized build, then a
# short libFuzzer run of every target (skip it with PERDURE_SKIP_FUZZ=1), then the
# AddressSanitizer + UndefinedBehaviorSanitizer build (skip it with PERDURE_SKIP_SANITIZE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
started=$SECONDS
phase() {
  echo "=== $1 ($((SECONDS - started)) s since the start) ==="
}
# Line tables only (-g1): sanitizer reports and backtraces still name files and lines, and the
# builds take a quarter to a third less time than with full debug info; the sanitizer build at -O1
# (what AddressSanitizer's docs advise) compiles in ~40% less time than at -O2 (docs/benchmarks.md,
# "The test command").
optimized=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
sanitized=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DPERDURE_SANITIZE=ON
           -DPERDURE_BENCH=OFF)
run_suite() {
  local build_dir=$1
  shift
  cmake -S . -B "$build_dir" -G Ninja "$@" > /dev/null
  phase "building $build_dir"
  cmake --build "$build_dir" -j "$jobs"
  phase "testing $build_dir"
  ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 900
}

run_suite build "${optimized[@]}"
if [ "${PERDURE_SKIP_FUZZ:-0}" != 1 ]; then
  phase "fuzzing: a short libFuzzer run of every target (scripts/fuzz.sh)"
  scripts/fuzz.sh --short
fi
if [ "${PERDURE_SKIP_SANITIZE:-0}" != 1 ]; then
  phase "sanitizer build (ASan + UBSan)"
  run_suite build-asan "${sanitized[@]}"
fi
phase "done"
