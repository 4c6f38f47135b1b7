# An interrupted run loses no obtained result: after SIGINT, SIGTERM or
# SIGHUP every run that finished is in every report and the others are
# marked "not run" (on main, results.json said "cases": [] whenever the
# first run in catalog order was still running). And a finished case is not
# reported as over its time budget because the harness was stopped
# (SIGSTOP) while its result waited in the pipe.
. "$(dirname "$0")/lib.sh"

py=/usr/bin/python3
slow=cases/time_wait/time-wait-length-full.yaml   # first in catalog order, 60 s
fast="cases/half_close/shutdown-still-receives.yaml cases/close/three-way-close.yaml"

# run_processes PID: its children now, in ${kids[@]} (builtins only: fast)
run_processes() {
  local f k
  kids=()
  for f in /proc/"$1"/task/*/children; do
    k=(); read -r -a k <"$f" 2>/dev/null || true
    kids+=("${k[@]}")
  done
}

for sig in INT TERM HUP; do
  dir=$work/rep-$sig
  # shellcheck disable=SC2086
  "$FINWAVE" run --slow --jobs 8 --report-dir "$dir" --format tap $slow $fast >"$work/tap" 2>"$work/err" &
  pid=$!
  # wait (bounded) until only the slow runs are left: every run's process was
  # seen (six, however briefly: under load they need not overlap, and a short
  # one lives ~100 ms, so the loop reads /proc with builtins, not pgrep) and
  # two are live
  deadline=$((SECONDS + 50)); unset seen; declare -A seen=()
  while [ $SECONDS -lt $deadline ]; do
    run_processes "$pid"
    for c in "${kids[@]}"; do seen[$c]=1; done
    [ ${#seen[@]} -ge 6 ] && [ ${#kids[@]} -le 2 ] && break
    sleep 0.005
  done
  [ ${#seen[@]} -ge 6 ] && [ ${#kids[@]} -le 2 ] && pass "SIG$sig: the fast runs finished first" \
    || fail "SIG$sig: never saw only the slow runs left (run processes seen: ${#seen[@]}, live: ${#kids[@]})"
  kill -"$sig" "$pid"; wait "$pid"; rc=$?
  expect_rc 130 "SIG$sig"
  "$py" - "$dir/results.json" "$sig" <<'EOF' && pass "SIG$sig: results.json has every finished run and marks the rest not run" || fail "SIG$sig: results.json"
import json, sys
d = json.load(open(sys.argv[1]))
cases = d["cases"]
assert d["run"]["interrupted"] is True
assert len(cases) == 6, [c["name"] for c in cases]
done = [c for c in cases if not c["message"].startswith("not run:")]
notrun = [c for c in cases if c["message"].startswith("not run:")]
assert len(done) == 4 and all(not c["name"].startswith("time_wait/") for c in done), [(c["name"], c["status"]) for c in done]
assert len(notrun) == 2 and all(c["name"].startswith("time_wait/") and c["status"] == "SKIP" for c in notrun), notrun
EOF
  for tap in "$work/tap" "$dir/results.tap"; do
    [ "$(grep -cE '^(not )?ok ' "$tap")" -eq 6 ] && grep -q '^1\.\.6$' "$tap" && grep -q '^Bail out! interrupted' "$tap" \
      && pass "SIG$sig: $(basename "$tap") has 6 points of 6 and bails out" || { fail "SIG$sig: $(basename "$tap")"; cat "$tap"; }
  done
  grep -q '# SKIP not run: the run was interrupted' "$dir/results.tap" && pass "SIG$sig: TAP says not run" || fail "SIG$sig: no 'not run' in TAP"
  xmllint --noout --schema tests/fixtures/reports/junit.xsd "$dir/results.xml" 2>/dev/null \
    && [ "$(grep -c '<testcase ' "$dir/results.xml")" -eq 6 ] && pass "SIG$sig: results.xml valid, 6 testcases" || fail "SIG$sig: results.xml"
done

# ---- SIGSTOP past the budget while the result waits in the pipe ----------------
# A case whose result (85 KB: 300 kB of data, segment by segment) is larger
# than a pipe holds; its budget is the 30 s margin plus, per step, its wait
# and 2 s: 50 s. The harness is stopped while the case runs and stays
# stopped past the budget; meanwhile the case ends and blocks writing its
# result. Resumed, the harness must take the whole result: a PASS, not an
# overrun (main killed it: ERROR "overran its time budget").
cat >"$work/big.yaml" <<'EOF'
summary: a result larger than a pipe holds (for the SIGSTOP check)
family: ipv4
steps:
  - {do: listen, host: server, port: 8080}
  - {expect: no_segment, from: client, within: 2s}
  - {do: connect, host: client, port: 8080}
  - {do: accept, host: server}
  - {do: send, host: client, bytes: 300000}
  - {do: recv, host: server, bytes: 300000}
EOF
"$FINWAVE" run --jobs 1 "$work/big.yaml" >"$work/out" 2>&1 &
pid=$!
deadline=$((SECONDS + 30)) child=""
while [ -z "$child" ] && [ $SECONDS -lt $deadline ]; do child=$(pgrep -P "$pid" | head -1); sleep 0.01; done
kill -STOP "$pid"
t0=$SECONDS
# the case ends and writes its result: a zombie, or blocked on the full pipe
done_writing() {
  [ "$(awk '{print $3}' "/proc/$child/stat" 2>/dev/null)" = Z ] || case $(cat "/proc/$child/wchan" 2>/dev/null) in *pipe_write) true ;; *) false ;; esac  # anon_pipe_write since 6.15
}
while [ -n "$child" ] && ! done_writing && [ $SECONDS -lt $((t0 + 40)) ]; do sleep 0.05; done
done_writing && pass "the case ended and wrote its result while the harness was stopped ($(cat "/proc/$child/wchan" 2>/dev/null))" \
  || fail "the case did not end while the harness was stopped"
# stay stopped past the budget (50 s from the case's start): the one wait
# here that is a duration by nature
sleep $((52 - (SECONDS - t0)))
kill -CONT "$pid"; wait "$pid"; rc=$?
expect_rc 0 "resumed past the budget with the result in the pipe"
expect_out "PASS  big" "the case is a PASS"
grep -q "overran its time budget" "$work/out" && fail "reported as over its budget" || pass "not reported as over its budget"
finish
