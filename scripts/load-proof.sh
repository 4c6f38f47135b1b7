#!/usr/bin/env bash
# Load proof (issue 12, docs/load.md): under stress-ng --cpu 4 at the default
# --jobs, the figures that say whether verdicts can be trusted on a busy
# machine:
#   1. the catalog CATALOG_RUNS times (10): 0 FAIL, 0 ERROR expected
#   2. --repeat REPEAT (20) of close/four-way and close/simultaneous-close: 0 FAIL
#   3. two catalog runs at once: both pass
#   4. every case of tests/fixtures/wrong/: each must still FAIL
# Per series: verdict counts, runs retried, the worst harness lateness, and
# for every INCONCLUSIVE run its lateness line. Exits 1 when a criterion is
# missed, 3 when stress-ng is missing. Long (many minutes): not in ctest.
#   CATALOG_RUNS=10 REPEAT=20 CPU_HOGS=4 bash scripts/load-proof.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
runs=${CATALOG_RUNS:-10}
repeat=${REPEAT:-20}
hogs=${CPU_HOGS:-4}
bash scripts/build.sh --quiet
command -v stress-ng >/dev/null || { echo "load-proof: stress-ng missing (scripts/install-deps.sh --test)" >&2; exit 3; }
out=$(mktemp -d /tmp/finwave-load-proof.XXXXXX)
# shellcheck source=scripts/stress.sh
. scripts/stress.sh
cleanup() {
  stop_stress
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run LABEL ARGS...: one finwave run, its JSON report in $out/LABEL.json
run() {
  local label=$1 rc=0
  shift
  "$build/finwave" run --format json "$@" >"$out/$label.json" 2>"$out/$label.err" || rc=$?
  [ "$rc" -le 1 ] || { echo "load-proof: $label exited $rc:"; cat "$out/$label.err"; exit 1; }
}

# summary LABEL WANT FILES...: verdict counts and lateness over the reports;
# WANT is "pass" (no FAIL/ERROR/INCONCLUSIVE) or "fail" (every case file has a
# FAIL run, none is ERROR or INCONCLUSIVE).
summary() {
  python3 - "$@" <<'PY'
import json, sys
label, want, files = sys.argv[1], sys.argv[2], sys.argv[3:]
counts, retried, worst, inconclusive, bad, failed_files = {}, 0, 0, [], [], {}
for f in files:
    for c in json.load(open(f))["cases"]:
        st = c["status"]
        counts[st] = counts.get(st, 0) + 1
        late = c.get("lateness", {})
        worst = max(worst, late.get("max_ns", 0))
        retried += c.get("attempts", 1) > 1
        lines = c["message"].splitlines()
        why = next((l.strip() for l in lines if "harness lateness" in l), "")
        if st == "INCONCLUSIVE":
            inconclusive.append(f'{c["name"]}: {why}')
        if (want == "pass" and st in ("FAIL", "ERROR", "INCONCLUSIVE")) or (want == "fail" and st in ("ERROR", "INCONCLUSIVE")):
            bad.append(f'{c["name"]} {st}: ' + " | ".join(l.strip() for l in lines[:3]))
        failed_files.setdefault(c["path"], False)
        failed_files[c["path"]] |= st == "FAIL"
# "fail": each case file must FAIL (some have a matrix row that passes by design)
if want == "fail":
    bad += [f"{p}: no run FAILed" for p, f in sorted(failed_files.items()) if not f]
total = sum(counts.values())
print(f"{label}: {total} runs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
      + f"; retried {retried}; worst harness lateness {worst / 1e6:.1f} ms")
for i in inconclusive:
    print(f"  INCONCLUSIVE {i}")
for b in bad[:20]:
    print(f"  UNEXPECTED {b}")
sys.exit(1 if bad else 0)
PY
}

echo "load-proof: stress-ng --cpu $hogs on $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
# bounded twice over: its own timeout, and the kill in cleanup
stress_start "$hogs" 10800
sleep 2
problems=0
t0=$(date +%s)
for i in $(seq "$runs"); do run "catalog.$i" cases/; done
summary "catalog x$runs" pass "$out"/catalog.*.json || problems=$((problems + 1))
run four-way --repeat "$repeat" --filter 'close/four-way[*' cases/
summary "four-way --repeat $repeat" pass "$out/four-way.json" || problems=$((problems + 1))
run simultaneous --repeat "$repeat" --filter 'close/simultaneous-close[*' cases/
summary "simultaneous-close --repeat $repeat" pass "$out/simultaneous.json" || problems=$((problems + 1))
run twin.1 cases/ & twin1=$!
run twin.2 cases/ & twin2=$!
wait "$twin1" && wait "$twin2" || problems=$((problems + 1))
summary "two catalog runs at once" pass "$out/twin.1.json" "$out/twin.2.json" || problems=$((problems + 1))
run wrong tests/fixtures/wrong/
summary "tests/fixtures/wrong (must FAIL)" fail "$out/wrong.json" || problems=$((problems + 1))
stop_stress
echo "load-proof: $(( $(date +%s) - t0 )) s; load average after $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$problems" -ne 0 ]; then
  echo "load-proof: $problems criterion/criteria missed"
  exit 1
fi
echo "load-proof: every criterion met"
