# finwave claims: per claim, whether it holds on this kernel and why not,
# from a fresh run or from the results a --report-dir run left behind.
. "$(dirname "$0")/lib.sh"

sel="cases/close/simultaneous-close.yaml cases/time_wait/rst-in-time-wait.yaml cases/time_wait/syn-in-time-wait-lower-seq-newer-ts.yaml"
# shellcheck disable=SC2086 # three paths
fw claims $sel
expect_rc 0 "finwave claims runs the selection"
expect_out "C15  DOES NOT HOLD" "a case's verdict makes its claim not hold"
expect_out "why: C15 does not hold; a newer timestamp alone is enough" "  and says why, in the case's words"
expect_out "C02  holds if" "a case's condition makes its claim hold, with that condition"
expect_out "condition: C02 holds unless both sides close at once" "  and names the condition"
expect_out "C16  holds" "a claim whose cases pass without a verdict holds"
expect_out "why: time_wait/rst-in-time-wait[ipv4,tcp_rfc1337=0]: An RST at exactly rcv_nxt" "  and says which run decided it and what it showed"
expect_out "C26  not covered" "a claim no selected case checks is 'not covered'"
expect_out "cases: time_wait/rst-in-time-wait[ipv4,tcp_rfc1337=0] PASS" "  the runs behind each claim are listed"

# shellcheck disable=SC2086
fw run --quiet --report-dir "$work/rep" $sel
fw claims "$work/rep"
expect_rc 0 "claims DIR reads DIR/results.json"
expect_out "C15  DOES NOT HOLD" "  and judges the same from the saved results"
expect_out "C02  holds if" "  the condition too"

# A run that fails leaves its claim open: the catalog could not confirm it.
{ echo "claims: [C16]"; cat tests/fixtures/wrong/rfc1337-assassinated.yaml; } >"$work/wrong-c16.yaml"
fw claims "$work/wrong-c16.yaml"
expect_rc 1 "a failing run fails 'claims' too"
expect_out "C16  unconfirmed" "a claim whose case failed is 'unconfirmed'"

fw claims --claims "$work/none.md" cases/close/four-way.yaml
expect_rc 2 "a missing claims list exits 2"
expect_out "none.md" "  naming the file"
fw claims --results "$work/missing.json"
expect_rc 2 "missing results exit 2"
finish
