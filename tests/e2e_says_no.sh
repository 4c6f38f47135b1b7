# The harness can say no: every case in tests/fixtures/wrong/ states
# something this kernel does not do, and each must FAIL with evidence.
. "$(dirname "$0")/lib.sh"

for f in tests/fixtures/wrong/*.yaml; do
  fw run "$f"
  expect_rc 1 "$(basename "$f") fails"
  expect_out "FAIL " "  reported as FAIL"
  if grep -q "never acted" "$work/out"; then
    pass "  names the fault that never acted"
  else
    expect_out "expected " "  says what was expected"
    expect_out "actual: " "  says what happened instead"
  fi
  expect_out "last segments:" "  shows the last segments"
done
finish
