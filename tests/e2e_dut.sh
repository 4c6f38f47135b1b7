# The device under test: a broken ruleset or a missing file is a broken case
# file (exit 2, one located line, nothing run); a box's program that exits or
# never listens is an ERROR naming what happened, and it does not outlive the
# case. The cases that use each kind of box run in the catalog
# (cases/middlebox/: rulesets and HAProxy), the false ones in
# tests/fixtures/wrong/dut-*.yaml (e2e_says_no).
. "$(dirname "$0")/lib.sh"

fw run tests/fixtures/dut/ruleset-does-not-load.yaml
expect_rc 2 "a ruleset nft refuses"
expect_out "ruleset-does-not-load.yaml:4: ruleset tests/fixtures/dut/broken.nft does not load: " "  located, with nft's own words"
if grep -q '^PASS\|^FAIL\|^ERROR' "$work/out"; then fail "  a case ran"; else pass "  nothing ran"; fi

printf 'summary: x\ndut: {ruleset: no-such.nft}\nsteps:\n  - {do: listen, host: server, port: 1}\n' >"$work/missing.yaml"
fw check "$work/missing.yaml"
expect_rc 2 "a ruleset file that does not exist"
expect_out "missing.yaml:2:16: ruleset $work/no-such.nft: No such file or directory" "  located"

printf 'summary: x\nsteps:\n  - {expect: conntrack, state: ESTABLISHED}\n' >"$work/nobox.yaml"
fw check "$work/nobox.yaml"
expect_rc 2 "a conntrack expectation without a box"
expect_out "nobox.yaml:3:5: this step names the device under test, but the case has no 'dut:'" "  located"

fw run tests/fixtures/dut/program-exits.yaml
expect_rc 1 "a box program that exits at once"
expect_out "ERROR" "  is an ERROR"
expect_out "dut: sh exited with 3 before listening on port 8080: finwave-fixture-complaint" "  saying how it ended and what it wrote"

# The programs' sleeps get this run's own length, so that looking for a
# leftover never sees (or kills) another test run's on the same machine.
own_sleep() { sed "s/sleep $1/sleep $1$$/" "tests/fixtures/dut/$2" >"$work/$2"; }
own_sleep 31.5 program-never-listens.yaml
own_sleep 31.7 setup-backgrounds.yaml
fw_session run "$work/program-never-listens.yaml"
expect_rc 1 "a box program that never listens"
expect_out "dut: sleep never listened on port 8080" "  is an ERROR saying so"
if wait_session_empty && ! pgrep -f "sleep 31\\.5$$\$" >/dev/null; then
  pass "  the program died with the case"
else
  fail "  the box's program outlived the case"; pkill -f "sleep 31\\.5$$\$"
fi
SECONDS=0
fw run "$work/setup-backgrounds.yaml"
expect_rc 0 "a setup command that leaves a process in the background"
[ "$SECONDS" -lt 8 ] && pass "  does not wait for it (took ${SECONDS} s)" || fail "  waited ${SECONDS} s for the background process"
if pgrep -f "sleep 31\\.7$$\$" >/dev/null; then fail "  its background process outlived the case"; pkill -f "sleep 31\\.7$$\$"; else pass "  its background process died with it"; fi

fw run tests/fixtures/dut/program-signals.yaml
expect_rc 0 "a started program is killed by SIGINT (the case process ignores it, the program must not)"
fw run tests/fixtures/dut/program-own-path.yaml
expect_rc 0 "a program named by its path in the case's directory runs (not skipped)"

fw run tests/fixtures/dut/bridge-setup-env.yaml
expect_rc 0 "a bridged box (mode: bridge): its setup sees br0 and no box addresses, TCP crosses it"

fw run cases/middlebox/firewall-rst-in-window-box-only.yaml
expect_rc 0 "the box's own counters (expect counter, host: dut)"
finish
