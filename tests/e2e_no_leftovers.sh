# No namespace, link, rule, route, sysctl change, process or temporary file
# survives a run, on any exit path: pass, fail, SIGINT, SIGTERM, and SIGKILL
# of the harness at several moments.
. "$(dirname "$0")/lib.sh"

before=$(host_snapshot)
tmp_before=$(ls -A /tmp /dev/shm | grep -v '^finwave-e2e\.' | sort)

check_clean() { # check_clean WHAT
  if ! wait_no_processes; then fail "$1: processes left: $(pgrep -af "$FINWAVE|iptables")"; fi
  after=$(host_snapshot)
  if [ "$before" = "$after" ]; then pass "$1: host namespace unchanged"; else fail "$1: host namespace changed"; diff <(echo "$before") <(echo "$after") | head -20; fi
  tmp_after=$(ls -A /tmp /dev/shm | grep -v '^finwave-e2e\.' | sort)
  if [ "$tmp_before" = "$tmp_after" ]; then pass "$1: no temporary files"; else fail "$1: temporary files left"; diff <(echo "$tmp_before") <(echo "$tmp_after"); fi
}

fw run cases/;                                   check_clean "passing run"
fw run tests/fixtures/wrong/;                    check_clean "failing run"

for sig in INT TERM; do
  "$FINWAVE" run --jobs 2 cases/ >"$work/out" 2>&1 &
  pid=$!
  # wait (bounded) until a case is under way: its namespaces exist
  for _ in $(seq 200); do pgrep -P "$pid" >/dev/null && break; sleep 0.01; done
  kill -"$sig" "$pid"; wait "$pid"; rc=$?
  [ "$rc" -eq 130 ] && pass "SIG$sig: exit 130" || fail "SIG$sig: exit $rc, wanted 130"
  check_clean "SIG$sig"
done

# SIGKILL cannot be caught: cleanup must not depend on the harness at all.
for delay in 0.02 0.05 0.1 0.2 0.3 0.45; do
  "$FINWAVE" run --jobs 4 cases/ >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"   # the moment of the kill is the variable under test
  kill -KILL "$pid"; wait "$pid" 2>/dev/null
  check_clean "SIGKILL after ${delay}s"
done
finish
