# finwave merge: the two halves of a sharded run (--shard 1/2, 2/2: what two
# CI machines run) merge into the report the unsharded run writes, and
# reports of two kernels become a matrix that marks where they differ.
. "$(dirname "$0")/lib.sh"

# A merged report lists its cases as a run given their case files in path
# order does (one catalog directory is): the paths are in that order here.
sel="cases/close/simultaneous-close.yaml cases/time_wait/rst-in-time-wait.yaml tests/fixtures/skip/"
statuses() { # name status, of every case in the given results.json files
  python3 -c 'import json,sys
for f in sys.argv[1:]:
    for c in json.load(open(f))["cases"]: print(c["name"], c["status"])' "$@" | sort
}
# The three runs are real, and a busy machine may fail a timing case in one
# of them: that says nothing about merge, so such a round is run again (at
# most three rounds; the verdicts must then agree).
for round in 1 2 3; do
  rm -rf "$work/full" "$work/s1" "$work/s2"
  # shellcheck disable=SC2086 # several paths
  "$FINWAVE" run --report-dir "$work/full" $sel >"$work/out" 2>&1
  for k in 1 2; do
    # shellcheck disable=SC2086
    "$FINWAVE" run --shard "$k/2" --report-dir "$work/s$k" $sel >>"$work/out" 2>&1
  done
  [ "$(statuses "$work/full/results.json")" = "$(statuses "$work/s1/results.json" "$work/s2/results.json")" ] && break
  echo "round $round: a case's verdict differed between the runs; again"
done
[ "$(statuses "$work/full/results.json")" = "$(statuses "$work/s1/results.json" "$work/s2/results.json")" ] &&
  pass "unsharded and sharded runs agree on every verdict ($(statuses "$work/full/results.json" | wc -l) runs, round $round)" ||
  fail "the runs disagreed in three rounds"
fw merge --report-dir "$work/m" "$work/s2" "$work/s1"
[ "$rc" -le 1 ] && pass "merge of the two shards (exit $rc)" || fail "merge of the two shards: exit $rc"
expect_out "cases x kernels" "merge prints the matrix"

# What differs between two runs of the same cases is time: durations, the
# timeline, the harness's measured lateness and the attempts it caused
# (docs/load.md), the run's wall time, the merged directories. Everything else must
# be equal, case by case and in the same order.
normalize() {
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d.get("run", {}).pop("wall_ns", None)
for c in d.get("cases", []):
    c.pop("duration_ns", None); c.pop("timeline", None)
    c.pop("lateness", None); c.pop("attempts", None)
for k in d.get("kernels", []):
    k.pop("wall_ns", None); k.pop("dirs", None)
print(json.dumps(d, indent=1, sort_keys=True))
PY
}
normalize "$work/full/results.json" >"$work/full.norm"
normalize "$work/m/results.json" >"$work/m.norm"
if [ -s "$work/full.norm" ] && cmp -s "$work/full.norm" "$work/m.norm"; then
  pass "merged results.json equals the unsharded run's ($(grep -c '"name"' "$work/m.norm") cases)"
else
  fail "merged results.json differs from the unsharded run's"; diff "$work/full.norm" "$work/m.norm" | head -30
fi
# Debian's python3-jsonschema lives in the system python, whatever python3 is first on PATH.
py=/usr/bin/python3
"$py" -m jsonschema -i "$work/m/results.json" docs/results.schema.json 2>"$work/schema.err" &&
  pass "the merged results.json is valid against docs/results.schema.json" ||
  { fail "merged results.json invalid"; head -5 "$work/schema.err"; }
fw merge --report-dir "$work/mfull" "$work/full"
[ "$rc" -le 1 ] && pass "the unsharded run as a one-directory merge (exit $rc)" || fail "one-directory merge: exit $rc"
normalize "$work/mfull/matrix.json" >"$work/mfull.mnorm" 2>/dev/null
normalize "$work/m/matrix.json" >"$work/m.mnorm" 2>/dev/null
[ -s "$work/m.mnorm" ] && cmp -s "$work/mfull.mnorm" "$work/m.mnorm" &&
  pass "matrix.json of the shards equals the unsharded run's" ||
  { fail "matrix.json differs"; diff "$work/mfull.mnorm" "$work/m.mnorm" | head -20; }
for f in results.tap results.xml index.html claims.html matrix.html; do
  [ -s "$work/m/$f" ] && pass "merged report has $f" || fail "merged report lacks $f"
done
diff <(sed 's/ # .*//; s/ - / /' "$work/full/results.tap" | grep -E '^(not )?ok') \
     <(sed 's/ # .*//; s/ - / /' "$work/m/results.tap" | grep -E '^(not )?ok') >/dev/null &&
  pass "merged TAP: the same points in the same order" || fail "merged TAP differs from the unsharded run's"
n=$(find "$work/full" -name '*.pcap' | wc -l)
[ "$n" -gt 0 ] && [ "$(find "$work/m" -name '*.pcap' | wc -l)" -eq "$n" ] &&
  pass "merged report: one pcap per case ($n)" || fail "merged pcaps: $(find "$work/m" -name '*.pcap' | wc -l), unsharded $n"

# Two kernels: the second run's results under another kernel's name, one
# case turned FAIL there (a fixture made from a real run).
mkdir -p "$work/other"
python3 - "$work/full/results.json" "$work/other/results.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["run"]["kernel"] = {"release": "9.9.9-other", "version": "#1 fixture"}
c = next(c for c in d["cases"] if c["name"] == "needs-future-kernel")  # always SKIP here
c["status"] = "FAIL"; c["message"] = "a fixture's failure"
json.dump(d, open(sys.argv[2], "w"))
PY
fw merge --report-dir "$work/two" "$work/full" "$work/other"
expect_rc 1 "merge of two kernels, a case failed on one"
expect_out "9.9.9-other" "the second kernel is a column"
grep -E '^\* needs-future-kernel +skipped +FAIL' "$work/out" >/dev/null &&
  pass "the case that changed between kernels is marked *" || { fail "no * row for needs-future-kernel"; cat "$work/out"; }
expect_out "a fixture's failure" "the differences name the reason"
python3 - "$work/two/matrix.json" <<'PY' && pass "matrix.json: two columns, the changed case differs, a skipped cell with its reason, a claim judged on part of its runs says so" || fail "matrix.json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert [k["label"] for k in d["kernels"]][1] == "9.9.9-other", d["kernels"]
rows = {r["name"]: r for r in d["cases"]}
r = rows["needs-future-kernel"]
assert r["differs"] and [c["status"] for c in r["cells"]] == ["skipped", "fail"], r
assert "needs Linux 99.1" in r["cells"][0]["reason"] and r["cells"][1]["reason"] == "a fixture's failure", r
# C01 is covered by simultaneous-close (2 runs) and needs-future-kernel
# (skipped): judged on the two, and the cell says so
c01 = next(c for c in d["claims"] if c["id"] == "C01")["cells"][0]
assert c01["status"] == "unconfirmed" or c01["reason"].startswith("judged on 2 of 3 runs (1 skipped: needs Linux 99.1"), c01
skip = rows["needs-missing-config"]["cells"]
assert not rows["needs-missing-config"]["differs"] and skip[0]["status"] == "skipped" and "CONFIG_FINWAVE_NO_SUCH_OPTION" in skip[0]["reason"], skip
PY
for f in "$work/m/matrix.json" "$work/two/matrix.json"; do
  "$py" -m jsonschema -i "$f" docs/matrix.schema.json >"$work/schema.err" 2>&1 &&
    pass "$(basename "$(dirname "$f")")/matrix.json is valid against docs/matrix.schema.json" ||
    { fail "$f invalid"; head -5 "$work/schema.err"; }
done
# the schema is strict: an unknown cell status is refused
"$py" - "$work/two/matrix.json" "$work/bad-matrix.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["cases"][0]["cells"][0]["status"] = "passed-ish"
json.dump(d, open(sys.argv[2], "w"))
PY
"$py" -m jsonschema -i "$work/bad-matrix.json" docs/matrix.schema.json >/dev/null 2>&1 &&
  fail "docs/matrix.schema.json accepts an unknown cell status" || pass "docs/matrix.schema.json refuses an unknown cell status"
[ -s "$work/two/kernels/9.9.9-other/results.json" ] && [ -s "$work/two/matrix.html" ] &&
  pass "each kernel's report under kernels/RELEASE, matrix.html beside" || fail "two-kernel layout"

# The page in a real browser: it parses, the changed row is outlined, each
# kernel's name links to its own report.
timeout 120 chromium --headless --no-sandbox --disable-background-networking --disable-gpu \
  --user-data-dir="$work/chromium" --enable-logging=stderr --v=0 --dump-dom \
  "file://$work/two/matrix.html" >"$work/matrix.dom" 2>"$work/chromium.log"
grep -q '<tr class="differs"><th>needs-future-kernel</th>' "$work/matrix.dom" &&
  grep -q '<a href="kernels/9.9.9-other/index.html">' "$work/matrix.dom" &&
  ! grep -q CONSOLE "$work/chromium.log" &&
  pass "matrix.html in Chromium: the changed row outlined, kernels linked, no console message" ||
  { fail "matrix.html in Chromium"; grep CONSOLE "$work/chromium.log" | head -3; }

# Bad input: one line, exit 2.
fw merge "$work/nonexistent"; expect_rc 2 "a directory without results.json"
[ "$(wc -l <"$work/out")" -eq 1 ] && expect_out "no results.json" "  one line saying so"
fw merge "$work/s1" "$work/s1"; expect_rc 2 "the same shard twice"
expect_out "already in another directory" "  overlapping shards are named"
fw merge --report-dir "$work/s1" "$work/s1" "$work/s2"; expect_rc 2 "an input as the output"
fw merge; expect_rc 2 "no directory"
finish
