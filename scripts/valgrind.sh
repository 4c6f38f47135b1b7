#!/usr/bin/env bash
# The catalog (and the failing and erroring fixtures) under valgrind memcheck:
# every process, the harness and each forked case process, must report no
# invalid access, no uninitialised read and no definite or indirect leak.
# Builds build/ first. Exits 1 on any valgrind finding, with the logs shown.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
bash scripts/build.sh --quiet
if ! command -v valgrind >/dev/null; then
  echo "valgrind: not installed (scripts/install-deps.sh installs it)" >&2
  exit 3
fi
logs=$(mktemp -d /tmp/finwave-valgrind.XXXXXX)
trap 'rm -rf "$logs"' EXIT
status=0
for target in cases/ tests/fixtures/wrong/ tests/fixtures/error/; do
  # --trace-children=no: programs a case runs are not ours; forked case
  # processes are followed anyway (fork without exec).
  valgrind --quiet --suppressions=scripts/valgrind.supp --trace-children=no \
    --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --track-origins=yes \
    --log-file="$logs/vg.%p" "$build/finwave" run --jobs 2 "$target" >"$logs/out" 2>&1 || true
  # Verdicts are for information: valgrind slows a case 10-50 times, and
  # valgrind 3.19 (Debian 12) knows no pidfd_open (syscall 434), so the
  # cases with fork/kill steps (cases/process/) cannot fork their endpoint.
  echo "valgrind: $target: $(grep -cE '^(PASS|FAIL|ERROR|SKIP) ' "$logs/out") case(s) run, $(ls "$logs"/vg.* | wc -l) process log(s); $(tail -1 "$logs/out")"
  # Unknown syscalls are no memory finding: epoll_pwait2 (441, the engine
  # falls back to epoll_wait), pidfd_open (434, see above), and bpf commands
  # valgrind 3.19 does not model (28, BPF_LINK_CREATE: the socket events'
  # tracepoints). scripts/valgrind.supp: libbpf's own bpf_attr probes.
  findings=$(cat "$logs"/vg.* | grep -vE 'unhandled amd64-linux syscall: (441|434)|unhandled eBPF command 28|You may be able to write|README_MISSING_SYSCALL|Nevertheless we consider|valgrind.org/support/bug_reports' || true)
  if [ -n "$findings" ]; then
    echo "valgrind: FINDINGS for $target:"; echo "$findings" | head -80; status=1
  fi
  rm -f "$logs"/vg.*
done
[ $status -eq 0 ] && echo "valgrind: no invalid access, uninitialised read or leak"
exit $status
