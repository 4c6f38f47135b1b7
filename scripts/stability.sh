#!/usr/bin/env bash
# Stability: the catalog 20 times in a row at the default --jobs, then 5 times
# with stress-ng loading every core, counting verdict changes (a case whose
# verdict in some run differs from its verdict in the first). Prints the
# figures; exits 1 when any verdict changed or a run failed, 0 otherwise.
#   RUNS=20 LOADED_RUNS=5 bash scripts/stability.sh [CATALOG]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
catalog=${1:-cases/}
runs=${RUNS:-20}
loaded=${LOADED_RUNS:-5}
bash scripts/build.sh --quiet
command -v stress-ng >/dev/null || { echo "stability: stress-ng missing (scripts/install-deps.sh)" >&2; exit 3; }
out=$(mktemp -d /tmp/finwave-stability.XXXXXX)
# shellcheck source=scripts/stress.sh
. scripts/stress.sh
cleanup() {
  stop_stress
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_series LABEL COUNT: the catalog COUNT times; per-run verdicts in $out/LABEL.N
run_series() {
  local label=$1 count=$2 i rc
  for i in $(seq "$count"); do
    rc=0
    "$build/finwave" run "$catalog" >"$out/$label.$i" 2>&1 || rc=$?
    [ "$rc" -le 1 ] || { echo "stability: run $label $i exited $rc:"; cat "$out/$label.$i"; exit 1; }
  done
}

# summarise LABEL COUNT: verdict changes against the first unloaded run.
summarise() {
  local label=$1 count=$2 i changes=0 failed=0 walls
  for i in $(seq "$count"); do
    f="$out/$label.$i"
    grep -E '^(PASS|FAIL|SKIP|ERROR) ' "$f" | awk '{print $2, $1}' | sort >"$f.v"
    if ! diff -q "$out/ref" "$f.v" >/dev/null; then
      # (diff exits 1 when the files differ: not an error here)
      changes=$((changes + $({ diff "$out/ref" "$f.v" || true; } | grep -c '^>' || true)))
      { diff "$out/ref" "$f.v" || true; } | sed -n "s/^> /  $label run $i: /p"
      # why: the first lines of each FAIL/ERROR report
      grep -A2 -E '^(FAIL|ERROR) ' "$f" | sed 's/^/      /' || true
    fi
    grep -qE '^(FAIL|ERROR) ' "$f" && failed=$((failed + 1))
  done
  walls=$(for i in $(seq "$count"); do sed -n 's/.* in \([0-9.]*[mu]*s\)$/\1/p' "$out/$label.$i"; done |
    awk '{ v = $1 + 0; if ($1 ~ /ms$/) v /= 1000; print v }' | sort -n | tr '\n' ' ')
  echo "$label: $count runs of $(wc -l <"$out/ref") cases, $changes verdict change(s), $failed run(s) with a FAIL/ERROR; wall s (sorted): $walls"
  problems=$((problems + changes + failed))
}

echo "stability: $catalog, $runs runs, then $loaded under stress-ng --cpu $(nproc); load average $(cut -d' ' -f1-3 /proc/loadavg)"
run_series plain "$runs"
grep -E '^(PASS|FAIL|SKIP|ERROR) ' "$out/plain.1" | awk '{print $2, $1}' | sort >"$out/ref"
# bounded twice over: its own timeout, and the kill in cleanup
stress_start "$(nproc)" $((loaded * 60))
sleep 1
run_series loaded "$loaded"
stop_stress
problems=0
summarise plain "$runs"
summarise loaded "$loaded"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$problems" -eq 0 ] && echo "stability: zero verdict changes" || { echo "stability: VERDICTS CHANGED"; exit 1; }
