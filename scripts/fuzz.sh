#!/usr/bin/env bash
# Fuzzes the case loader (fuzz/fuzz_case.c) with libFuzzer for a bounded time.
#   FUZZ_SECONDS=60 (default) FUZZ_SEED=N (default: from the clock, printed)
# Builds build-fuzz/ with clang (ASan+UBSan, coverage), seeds a scratch corpus
# from cases/, tests/fixtures/ and fuzz/regressions/, and exits non-zero when
# the fuzzer finds a crash, a leak, a hang (> 5 s on one input) or a broken
# invariant; the input is kept in build-fuzz/artifacts/ (copy it into
# fuzz/regressions/ with the fix).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-$(( $(date +%s) % 100000 + 1 ))}
build=${FUZZ_BUILD_DIR:-build-fuzz}
cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cc" ]; then
  echo "fuzz: no clang (apt-get install clang, see scripts/install-deps.sh)" >&2
  exit 3
fi
mkdir -p "$build"
# quiet unless a step fails: then its whole output is shown
run_logged() {
  "$@" >"$build/step.log" 2>&1 || { cat "$build/step.log" >&2; echo "fuzz: '$*' failed (above)" >&2; exit 1; }
}
run_logged cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DFW_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_logged cmake --build "$build" -j"$(nproc)" --target fuzz_case
corpus=$(mktemp -d /tmp/finwave-fuzz.XXXXXX)
trap 'rm -rf "$corpus"' EXIT
find cases tests/fixtures fuzz/regressions -type f -exec cp -t "$corpus" {} +
mkdir -p "$build/artifacts"
echo "fuzz: case loader, ${seconds}s, seed $seed, $(ls "$corpus" | wc -l) seed inputs (FUZZ_SEED=$seed repeats this run)"
# -timeout: one input taking 5 s is a hang; -rss_limit_mb: a blow-up is a bug too.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$build/fuzz/fuzz_case" -seed="$seed" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -max_len=8192 -dict=fuzz/case.dict -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/" "$corpus" 2>"$build/fuzz.log" \
  || { tail -60 "$build/fuzz.log"; echo "fuzz: FAILED (input in $build/artifacts/)"; exit 1; }
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+ +DONE' "$build/fuzz.log" || true
echo "fuzz: no crash, leak, hang or broken invariant in ${seconds}s"
