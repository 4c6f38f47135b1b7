# Any kernel: a run that needs what this kernel lacks (a sysctl it sets, a
# counter it reads, a `requires:` entry) is SKIP with the reason in every
# report, the rest of the selection runs, and the run exits 0. A broken
# `requires:` is still a located error (exit 2).
. "$(dirname "$0")/lib.sh"

fw run --report-dir "$work/r" tests/fixtures/skip/
expect_rc 0 "a selection with runs this kernel cannot run"
for f in tests/fixtures/skip/*.yaml; do
  want=$(sed -n 's/^# skip: //p' "$f")
  [ -n "$want" ] || continue
  name=$(basename "$f" .yaml)
  if grep -A1 -E "^SKIP  $name(\[|  |\s)" "$work/out" | grep -qF -- "$want"; then
    pass "$name: SKIP, reason '$want'"
  else
    fail "$name: no SKIP line with '$want'"; sed 's/^/    /' "$work/out"
  fi
  grep -E "^ok [0-9]+ - $name.* # SKIP .*$want" "$work/r/results.tap" >/dev/null &&
    pass "  TAP: # SKIP with the reason" || fail "  TAP lacks '# SKIP ... $want' for $name"
  grep -qF -- "$want" "$work/r/results.json" && pass "  JSON holds the reason" || fail "  JSON lacks '$want'"
  grep -qF -- "$want" "$work/r/results.xml" && pass "  JUnit holds the reason" || fail "  JUnit lacks '$want'"
done
expect_out "PASS  has-everything" "a case whose requirements this kernel meets runs and passes"
expect_out "PASS  needs-missing-row-sysctl[plain]" "only the matrix row that needs the missing sysctl is skipped"

# The claims table: a claim whose every run was skipped is not testable here.
fw claims --claims tests/fixtures/skip/claims.md "$work/r"
expect_rc 0 "claims from the report dir"
expect_out "C01  not testable" "a claim covered only by skipped runs is 'not testable'"
expect_out "not testable on this kernel: needs Linux 99.1 or later" "  and says why"

# A broken requires: is what is wrong with the case file: exit 2, located.
printf 'summary: x\nrequires: {kernel: "new"}\nsteps:\n  - {do: listen, host: server, port: 1}\n' >"$work/bad.yaml"
fw check "$work/bad.yaml"
expect_rc 2 "a requires: kernel that is not a version"
expect_out "bad.yaml:2:20: 'kernel' must be a version" "  located"
printf 'summary: x\nrequires: {modules: [a], sysctl: [net.x]}\nsteps:\n  - {do: listen, host: server, port: 1}\n' >"$work/bad2.yaml"
fw check "$work/bad2.yaml"
expect_rc 2 "an unknown requires: key"
expect_out "bad2.yaml:2:26: unknown requires key 'sysctl'" "  located, with the keys it takes"
finish
