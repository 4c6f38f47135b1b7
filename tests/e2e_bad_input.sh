# Bad input gets a located one-line error and a distinct exit code, and
# nothing runs: broken case files (2), bad usage (2), no privileges (3).
# (A sysctl this kernel lacks is no broken file: tests/e2e_skip.sh.)
. "$(dirname "$0")/lib.sh"

for f in tests/fixtures/bad/*.yaml; do
  want=$(head -1 "$f" | sed 's/^# expect: //')
  fw check "$f"
  expect_rc 2 "check $(basename "$f")"
  expect_out "$want" "  message: $want"
  fw run "$f"
  expect_rc 2 "run $(basename "$f") refuses before running"
done

# One bad file in a directory stops the whole run before anything runs.
mkdir -p "$work/mixed"
cp cases/close/four-way.yaml tests/fixtures/bad/bad-action.yaml "$work/mixed/"
fw run "$work/mixed"
expect_rc 2 "a catalog with one broken file"
if grep -q '^PASS' "$work/out"; then fail "a case ran although the catalog was invalid"; else pass "no case ran"; fi

fw frobnicate cases/;            expect_rc 2 "unknown command"
fw run --filter "no-such-case*"; expect_rc 2 "run without paths takes the catalog (a filter matching nothing)"
fw run --jobs 0 cases/;          expect_rc 2 "--jobs 0"
fw run --format xml cases/;      expect_rc 2 "unknown format"
fw run cases/no-such-dir;        expect_rc 2 "missing path"
fw run --filter 'nomatch*' cases/; expect_rc 2 "filter matching nothing"

if command -v setpriv >/dev/null; then
  setpriv --reuid 65534 --regid 65534 --clear-groups "$FINWAVE" run cases/close/four-way.yaml >"$work/out" 2>&1
  rc=$?
  expect_rc 3 "not root"
  expect_out "run it as root" "  message says what to do"
fi
finish
