#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, every library instrumented, in build-fuzz, and
# runs each target for a while. A crash stops the script; its input is saved under
# build-fuzz/fuzz-artifacts/ — turn it into a regression test (docs/reliability.md).
#
#   scripts/fuzz.sh --short        each target ~25 s (CI)
#   scripts/fuzz.sh --long         each target 10 min
#   scripts/fuzz.sh --seconds N    each target N s
#   PERDURE_FUZZ_TARGETS="fuzz_payload_codec ..." scripts/fuzz.sh   only those targets
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=25
# A short run (CI's) compiles at -O1 with line tables only: clang compiles the tree's heaviest file
# in 25% less CPU time that way (docs/benchmarks.md, "The test command"), and 25 s of fuzzing gains
# little from faster code. Longer runs keep -O2 -g.
optimize="-O2 -g"
case "${1:---short}" in
  --short) seconds=25; optimize="-O1 -g1" ;;
  --long) seconds=600 ;;
  --seconds) seconds=${2:?--seconds needs a number} ;;
  *) echo "usage: $0 [--short | --long | --seconds N]" >&2; exit 2 ;;
esac

build=build-fuzz
read -r -a targets <<< "${PERDURE_FUZZ_TARGETS:-fuzz_history_decoder fuzz_payload_codec fuzz_http_api}"
# -fno-sanitize=function: clang 14 cannot emit its check for some coroutine frames ("Cannot represent
# a difference across sections", model/schedule_orchestration.cpp); the GCC sanitizer build covers the rest.
instrument="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DPERDURE_FUZZ=ON -DPERDURE_WERROR=OFF \
  -DCMAKE_C_FLAGS="$instrument" -DCMAKE_CXX_FLAGS="$instrument" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="$optimize -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$optimize -DNDEBUG" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" > /dev/null
# fuzz/<name>_seeds.cpp, where there is one, builds <target>_seeds, which writes seeds into a corpus dir.
seeders=()
for target in "${targets[@]}"; do
  [ -f "fuzz/${target#fuzz_}_seeds.cpp" ] && seeders+=("${target}_seeds")
done
cmake --build "$build" --target "${targets[@]}" "${seeders[@]}" -j "$(nproc)"

mkdir -p "$build/fuzz-artifacts"
for target in "${targets[@]}"; do
  name=${target#fuzz_}
  corpus="$build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  [ -x "$build/fuzz/${target}_seeds" ] && "$build/fuzz/${target}_seeds" "$corpus" > /dev/null
  # A target without checked-in seeds has no fuzz/corpus/<name> in a clone (git keeps no empty dirs).
  corpora=("$corpus")
  [ -d "fuzz/corpus/$name" ] && corpora+=("fuzz/corpus/$name")
  echo "=== $target: $seconds s ==="
  log="$build/fuzz-artifacts/$name.log"
  # New inputs go to the first corpus dir (the build's); the checked-in seeds are only read.
  status=0
  "$build/fuzz/$target" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$name-" "${corpora[@]}" > "$log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -60 "$log"
    echo "$target failed (exit $status); the crashing input is in $build/fuzz-artifacts/" >&2
    exit "$status"
  fi
done
echo "fuzzing: no crash"
