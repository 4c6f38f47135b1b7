# Text from a case file is made safe in every format: a summary or verdict
# holding newlines, terminal escapes (ESC, BEL, the C1 CSI), U+FFFE and
# control characters must not add a TAP line, drive the terminal, or make
# results.xml invalid; a case file whose name is not UTF-8 (Latin-1 "café")
# still PASSes (on main its result could not be sent as JSON: ERROR).
. "$(dirname "$0")/lib.sh"

py=/usr/bin/python3
mkdir -p "$work/cases"
"$py" - "$work/cases" <<'EOF'
import re, sys
evil = ('name: close/cafe\n'
        r'summary: "evil\e[31mred\e]0;title\a\nok 99 - injected\n\uFFFE\x01 end \u009b[2J"' '\n'
        r'verdict: "C01 \e[2Jgone\nnot ok 98 - injected"')
src = re.sub(r'^summary:.*$', lambda m: evil, open("cases/half_close/shutdown-still-receives.yaml").read(), count=1, flags=re.M)
open(sys.argv[1].encode() + b"/caf\xe9.yaml", "w").write(src)
EOF

no_escapes() { # no_escapes FILE WHAT: no ESC, BEL, CR or C1 CSI byte
  if LC_ALL=C grep -q $'[\x1b\x07\r]\|\xc2\x9b' "$1"; then fail "$2 holds terminal control bytes"; cat -v "$1" | head -5
  else pass "$2: no terminal control byte"; fi
}

"$FINWAVE" run --format tap --report-dir "$work/out" "$work/cases" >"$work/tap" 2>"$work/err"; rc=$?
expect_rc 0 "a passing case with hostile text in a non-UTF-8 file name"
for f in "$work/tap" "$work/out/results.tap"; do
  n=$(grep -cE '^(not )?ok ' "$f")
  [ "$n" -eq 2 ] && pass "$(basename "$f"): 2 test points, none injected" || { fail "$(basename "$f"): $n test points"; cat -v "$f"; }
  grep -q '^ok 1 - close/cafe\[ipv4\]$' "$f" && pass "$(basename "$f"): the case PASSes" || fail "$(basename "$f"): not ok"
  no_escapes "$f" "$(basename "$f")"
done
xmllint --noout --schema tests/fixtures/reports/junit.xsd "$work/out/results.xml" >"$work/xmllint" 2>&1 \
  && pass "results.xml is valid XML and JUnit" || { fail "results.xml is invalid"; head -5 "$work/xmllint"; }
"$py" -m jsonschema -i "$work/out/results.json" docs/results.schema.json >"$work/js" 2>&1 \
  && pass "results.json is valid" || { fail "results.json is invalid"; head -5 "$work/js"; }
"$py" - "$work/out/results.json" <<'EOF' && pass "results.json: PASS, text kept readable, path in UTF-8" || fail "results.json content"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["cases"][0]
assert c["status"] == "PASS", c["status"]
assert "ok 99 - injected" in c["summary"] and "\x1b" not in c["summary"] and "\ufffe" not in c["summary"], c["summary"]
assert c["path"].endswith("caf\ufffd.yaml"), c["path"]
EOF
for f in "$work"/out/index.html "$work"/out/cases/close/*.html; do
  xmllint --html --noout "$f" 2>/dev/null; no_escapes "$f" "$(basename "$f")"
done

"$FINWAVE" run "$work/cases" >"$work/console" 2>&1; rc=$?
expect_rc 0 "console run"
no_escapes "$work/console" "the console"
"$FINWAVE" run --verbose "$work/cases" >"$work/console" 2>&1
no_escapes "$work/console" "the console with --verbose"
"$FINWAVE" list "$work/cases" >"$work/list" 2>&1
no_escapes "$work/list" "list"
[ "$(wc -l <"$work/list")" -eq 2 ] && pass "list: one line per run" || { fail "list: $(wc -l <"$work/list") lines"; cat -v "$work/list"; }
"$FINWAVE" claims "$work/cases" >"$work/claims" 2>&1
no_escapes "$work/claims" "claims"
grep -q '^not ok 98' "$work/claims" && fail "claims: the verdict made a line of its own" || pass "claims: the verdict stays on its line"
# the progress line on a terminal shows the name, nothing else of the file
script -qec "$FINWAVE run $work/cases" /dev/null >"$work/tty" 2>&1
LC_ALL=C grep -q $'\x1b\[2J\|\x1b\]0' "$work/tty" && fail "the terminal got the case file's escapes" || pass "the terminal got none of the case file's escapes"
finish
