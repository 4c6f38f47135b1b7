# Socket states as events (lib/sockev.c, docs/architecture.md): a state
# that lives for microseconds (LAST_ACK over a veth, no added latency) is in
# the timeline and satisfies its expectation; with BPF turned off
# (FINWAVE_NO_BPF=1, as on a machine without BPF) the catalog's cases still
# PASS by polling, and the run says so exactly once.
. "$(dirname "$0")/lib.sh"

fw run -v tests/fixtures/sockev/last-ack-no-latency.yaml
expect_rc 0 "LAST_ACK without added wire latency"
if grep -E "^ +[0-9.]+ms state +server conn :8080 > :[0-9]+ LAST_ACK" "$work/out" >/dev/null; then
  pass "  the timeline holds the server's LAST_ACK"
else
  fail "  no LAST_ACK state line in the timeline"; sed 's/^/    /' "$work/out" | head -40
fi
if grep -qF "polled" "$work/out"; then fail "  a run with BPF says states are polled"; grep -F polled "$work/out"; else pass "  and says nothing of polling"; fi

# The fallback: every run of several cases (forked case processes) PASSes
# and the reason is given once for the whole run, not once per case.
FINWAVE_NO_BPF=1 fw run cases/close/four-way.yaml cases/close/three-way-close.yaml cases/time_wait/
expect_rc 0 "FINWAVE_NO_BPF=1: the cases pass, polling"
n=$(grep -c "socket states are polled with sock_diag, not traced: FINWAVE_NO_BPF is set" "$work/out")
if [ "$n" -eq 1 ]; then pass "  said once ($(grep -c '^PASS' "$work/out") runs)"; else fail "  said $n times, not once"; fi
# What only events can decide (never entered, a retransmission count) is
# SKIPped without them, saying why, and not judged by polling.
FINWAVE_NO_BPF=1 fw run cases/loss/fin-retransmits-counted-by-kernel.yaml
expect_rc 0 "FINWAVE_NO_BPF=1: a case that needs socket events"
expect_out "SKIP  loss/fin-retransmits-counted-by-kernel" "  is SKIPped"
expect_out "needs the kernel's socket events (BPF): FINWAVE_NO_BPF is set" "  saying why"
fw run cases/loss/fin-retransmits-counted-by-kernel.yaml
expect_rc 0 "with events it PASSes"
finish
