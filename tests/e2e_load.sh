#!/usr/bin/env bash
# The harness does not blame the kernel for its own lateness (issue 12,
# docs/load.md). FINWAVE_TEST_QUEUE_STALL_MS makes the queue reader wait before
# every read, as a loaded machine makes it: a timing failure that lateness
# explains is retried and ends INCONCLUSIVE (exit 1, or 0 with
# --allow-inconclusive), with the lateness as evidence; a failure no lateness
# can explain still FAILs at once; without the stall the first case passes.
# Nothing here depends on how fast the machine is: the stall only adds.
. "$(dirname "$0")/lib.sh"
explains=tests/fixtures/load/late-queue-explains.yaml
kernel=tests/fixtures/load/late-queue-kernel-difference.yaml
stall=800

fw run "$explains"
expect_rc 0 "no stall: the case passes"

FINWAVE_TEST_QUEUE_STALL_MS=$stall fw run "$explains"
expect_rc 1 "stalled queue: INCONCLUSIVE fails the run"
expect_out "INCONCLUSIVE late-queue-explains" "stalled queue: INCONCLUSIVE, not FAIL"
expect_out "3 attempts each failed while something outside the kernels" "stalled queue: retried up to 3 attempts"
expect_out "could explain this failure" "stalled queue: the lateness is the evidence"
expect_out "1 inconclusive" "stalled queue: counted in the totals"

FINWAVE_TEST_QUEUE_STALL_MS=$stall fw run --allow-inconclusive "$explains"
expect_rc 0 "--allow-inconclusive: INCONCLUSIVE does not fail the run"

FINWAVE_TEST_QUEUE_STALL_MS=$stall "$FINWAVE" run --format json "$explains" >"$work/r.json" 2>"$work/err"
if python3 - "$work/r.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["cases"][0]
l = c["lateness"]
assert c["status"] == "INCONCLUSIVE", c["status"]
assert c["attempts"] == 3, c["attempts"]
assert l["explains_failure"] is True
assert l["queue_dwell_max_ns"] > 0 and l["queued_segments"] > 0, l
assert any(e.get("late_ns", 0) > 0 for e in c["timeline"]), "no event carries late_ns"
PY
then pass "JSON: INCONCLUSIVE, 3 attempts, lateness and per-event late_ns"; else fail "JSON lacks the lateness evidence"; fi

FINWAVE_TEST_QUEUE_STALL_MS=$stall fw run "$kernel"
expect_rc 1 "stalled queue, a kernel difference: the run fails"
expect_out "FAIL  late-queue-kernel-difference" "stalled queue, a kernel difference: still FAIL"
if grep -q "could explain" "$work/out"; then fail "a 60 s timer miss was blamed on lateness"; else pass "a 60 s timer miss is not blamed on lateness"; fi
finish

# A queue that overflows: the kernel drops what it cannot queue to us, a loss
# no fault asked for. The run passes with the normal queue; with a queue of
# one it is retried and ends INCONCLUSIVE, naming the drops.
overflow=tests/fixtures/load/queue-overflow.yaml
fw run "$overflow"
expect_rc 0 "normal queue: the overflow fixture passes"
FINWAVE_TEST_QUEUE_MAXLEN=1 fw run "$overflow"
expect_rc 1 "queue of one: INCONCLUSIVE fails the run"
expect_out "INCONCLUSIVE queue-overflow" "queue of one: INCONCLUSIVE, not PASS"
expect_out "could not queue to the interceptor" "queue of one: the drops are named"
