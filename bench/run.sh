#!/usr/bin/env bash
# Prints finwave's figures (docs/benchmarks.md): never passes or fails on
# time. Builds first; needs root (namespaces). Takes about 20 minutes.
#   bash bench/run.sh            everything
#   bash bench/run.sh --quick    fewer rounds (a smoke run, about 30 s)
# Other load on the machine skews every figure: the load average is printed
# before and after so a reader can judge.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
quick=""; runs=5
[ "${1:-}" = "--quick" ] && { quick=--quick; runs=2; }
bash scripts/build.sh --quiet

echo "# finwave benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem/ {print $2}') GiB, Linux $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

"$build/bench/fw_bench" $quick --cases cases

# ---- 2d. the interceptor's own cost: the throughput series on one CPU ---------
# On two CPUs an unqueued transfer runs its sender and receiver in parallel;
# the queued one waits on the consumer between them. On one CPU neither has
# that parallelism, so the ratio shows what the consumer itself costs.
echo
echo "## 2d. the same bulk transfers with every process on CPU 0 (taskset -c 0)"
taskset -c 0 "$build/bench/fw_bench" $quick throughput | grep -v '^## 2\.' | sed '/^$/d'

# ---- 5. the catalog: serial vs the default --jobs and more ---------------------
to_ms() { # "1.234s" | "12.3ms" | "15us" -> milliseconds
  awk -v d="$1" 'BEGIN { v = d + 0; if (d ~ /us$/) v /= 1000; else if (d ~ /ms$/) v = v; else if (d ~ /s$/) v *= 1000; printf "%.1f\n", v }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { # "min / median / max" of the numbers on stdin
  sort -n | awk '{ v[NR] = $1 } END { printf "%.1f / %.1f / %.1f", v[1], (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR] }'
}
out=$(mktemp -d /tmp/finwave-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
ncases=$("$build/finwave" list cases/ | wc -l)
# "default": no --jobs, whatever the harness picks (harness/main.c
# default_jobs(), 16 per CPU); 4 per CPU was the default before, 32 is beyond
job_list="1 $((4 * $(nproc))) default $((32 * $(nproc)))"
catalog_runs=$(( runs > 3 ? 3 : runs ))
echo
echo "## 5. catalog wall time ($ncases runs in the catalog, each --jobs value $catalog_runs times, alternated, medians)"
for i in $(seq "$catalog_runs"); do
  for jobs in $job_list; do
    # a FAIL is counted, not a reason to stop: these are figures, not a test
    # shellcheck disable=SC2046 # no word or one --jobs N
    # CPU: user + system of the harness and every case process (bash's time)
    { TIMEFORMAT='%U %S'; time "$build/finwave" run $([ "$jobs" = default ] || echo "--jobs $jobs") cases/ >"$out/run" 2>&1 || true; } 2>"$out/time"
    awk '{ print ($1 + $2) * 1000 }' "$out/time" >>"$out/cpu.$jobs"
    to_ms "$(sed -n 's/.* in \([0-9.]*[mu]*s\)$/\1/p' "$out/run")" >>"$out/wall.$jobs"
    grep -cE '^(FAIL|ERROR) ' "$out/run" >>"$out/bad.$jobs" || true
    sed -n 's/^[A-Z]* *\([^ ]*\) (\([0-9.]*[mu]*s\))$/\1 \2/p' "$out/run" | while read -r name d; do
      echo "$(to_ms "$d") $name"
    done >>"$out/cases.$jobs"
  done
done
serial=$(median <"$out/wall.1")
longest=$(sort -k2,2 -k1,1n "$out/cases.1" | awk '{ d[$2] = d[$2] " " $1 } END { for (n in d) print n, d[n] }' |
  while read -r name ds; do echo "$(echo "$ds" | tr ' ' '\n' | median) $name"; done | sort -rn | head -1)
for jobs in $job_list; do
  wall=$(median <"$out/wall.$jobs")
  printf '%-22s %9.1f ms  speed-up %5.2f  x longest case %5.2f  FAIL/ERROR runs: %s\n' \
    "$([ "$jobs" = default ] && echo "default --jobs" || echo "--jobs $jobs")" "$wall" \
    "$(awk -v a="$serial" -v b="$wall" 'BEGIN { print a / b }')" \
    "$(awk -v a="$wall" -v b="${longest% *}" 'BEGIN { print a / b }')" \
    "$(awk '{ s += $1 } END { print s + 0 }' "$out/bad.$jobs")"
done
echo "longest case (serial runs): ${longest#* } ${longest% *} ms"
for jobs in $job_list; do
  printf '%-22s wall %s ms, cpu %s ms (min / median / max of %s)\n' \
    "$([ "$jobs" = default ] && echo "default --jobs" || echo "--jobs $jobs")" \
    "$(spread <"$out/wall.$jobs")" "$(spread <"$out/cpu.$jobs")" "$catalog_runs"
done

# ---- 6b. many connections: section 6's case end to end -----------------------------
# finwave run as a user runs it: the case process, its result through JSON
# to the harness, the console report. TIMEFORMAT gives wall and user+sys.
echo
echo "## 6b. finwave run of section 6's case, end to end ($catalog_runs runs each, min / median / max)"
minmedmax() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f / %.1f / %.1f", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
for n in 1 100 1000 10000; do
  {
    echo "summary: $n connections, the middle one's FIN lost"
    echo "family: ipv4"
    echo "sysctl:"
    echo "  server: {net.core.somaxconn: $(( n > 128 ? n : 128 ))}"
    echo "faults:"
    echo "  - {name: lose-fin, from: client, flags: F., action: drop, count: 0, connection: $(( (n + 1) / 2 ))}"
    echo "steps:"
    echo "  - {do: listen, host: server, port: 8080}"
    echo "  - {do: connect, host: client, port: 8080, connections: $n, within: 60s}"
    echo "  - {expect: state, host: client, state: ESTABLISHED, count: $n, within: 60s}"
    echo "  - {do: close, host: client}"
    echo "  - {expect: state, host: client, state: FIN_WAIT_2, count: $(( n - 1 )), within: 60s}"
    echo "  - {expect: state, host: client, state: FIN_WAIT_1, count: 1}"
  } >"$out/many-$n.yaml"
  : >"$out/e2e-wall.$n"; : >"$out/e2e-cpu.$n"; bad=0
  for _ in $(seq "$catalog_runs"); do
    TIMEFORMAT='%R %U %S'
    t=$( { time "$build/finwave" run --quiet "$out/many-$n.yaml" >"$out/run" 2>&1; } 2>&1 ) || true
    grep -q '^1 passed' "$out/run" || bad=$((bad + 1))
    read -r real usr sys <<<"$t"
    awk -v r="$real" 'BEGIN { printf "%.1f\n", r * 1000 }' >>"$out/e2e-wall.$n"
    awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.1f\n", (u + s) * 1000 }' >>"$out/e2e-cpu.$n"
  done
  printf 'N %5d   wall ms %s   cpu ms %s%s\n' "$n" "$(minmedmax <"$out/e2e-wall.$n")" \
    "$(minmedmax <"$out/e2e-cpu.$n")" "$([ "$bad" -gt 0 ] && echo "  ($bad run(s) did not pass)")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
