#!/usr/bin/env bash
# Prints finwave's figures (README "Benchmarks"): never passes or fails on
# time. Builds first; needs root (namespaces). Takes about 2 minutes.
#   bash bench/run.sh            everything
#   bash bench/run.sh --quick    fewer rounds (a smoke run, about 30 s)
# Other load on the machine skews every figure: the load average is printed
# before and after so a reader can judge.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
quick=""; runs=5
[ "${1:-}" = "--quick" ] && { quick=--quick; runs=2; }
bash scripts/build.sh >/dev/null

echo "# finwave benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem/ {print $2}') GiB, Linux $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

"$build/bench/fw_bench" $quick --cases cases

# ---- 5. the catalog: serial vs the default --jobs ---------------------------
to_ms() { # "1.234s" | "12.3ms" | "15us" -> milliseconds
  awk -v d="$1" 'BEGIN { v = d + 0; if (d ~ /us$/) v /= 1000; else if (d ~ /ms$/) v = v; else if (d ~ /s$/) v *= 1000; printf "%.1f", v }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
out=$(mktemp -d /tmp/finwave-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
ncases=$("$build/finwave" list cases/ | wc -l)
jobs_default=$((2 * $(nproc)))
echo
echo "## 5. catalog wall time ($ncases cases, $runs runs each, alternated, medians)"
for i in $(seq "$runs"); do
  for jobs in 1 "$jobs_default"; do
    "$build/finwave" run --jobs "$jobs" cases/ >"$out/run" 2>&1 || { echo "a catalog run failed:"; cat "$out/run"; exit 1; }
    to_ms "$(sed -n 's/.* in \([0-9.]*[mu]*s\)$/\1/p' "$out/run")" >>"$out/wall.$jobs"; echo >>"$out/wall.$jobs"
    sed -n 's/^[A-Z]* *\([^ ]*\) (\([0-9.]*[mu]*s\))$/\1 \2/p' "$out/run" | while read -r name d; do
      echo "$(to_ms "$d") $name"
    done >>"$out/cases.$jobs"
  done
done
serial=$(median <"$out/wall.1"); parallel=$(median <"$out/wall.$jobs_default")
longest=$(sort -k2,2 -k1,1n "$out/cases.1" | awk '{ d[$2] = d[$2] " " $1 } END { for (n in d) print n, d[n] }' |
  while read -r name ds; do echo "$(echo "$ds" | tr ' ' '\n' | median) $name"; done | sort -rn | head -1)
echo "--jobs 1:                 ${serial} ms"
echo "--jobs $jobs_default (default):      ${parallel} ms  (speed-up $(awk -v a="$serial" -v b="$parallel" 'BEGIN { printf "%.2f", a / b }'))"
echo "longest case (serial runs): ${longest#* } ${longest% *} ms; the parallel catalog takes $(awk -v a="$parallel" -v b="${longest% *}" 'BEGIN { printf "%.2f", a / b }') x that"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
