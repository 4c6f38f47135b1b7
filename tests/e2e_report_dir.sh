# --report-dir is written safely (docs/reports.md, "Where reports go"):
# nothing planted in it is followed, a directory that is not the user's own
# is refused, reports are replaced whole (a killed run leaves the previous
# ones), and a report that cannot be written (full disk, full stdout) is an
# error naming the file, exit 4, never a silent pass.
. "$(dirname "$0")/lib.sh"

case1=cases/half_close/shutdown-still-receives.yaml  # no fault, one short wait: steady under load

# ---- planted symlinks are not followed -----------------------------------------
dir=$work/planted
mkdir -p "$dir" "$work/elsewhere"
echo "victim text" >"$work/victim"
ln -s ../victim "$dir/results.tap"
ln -s ../victim "$dir/results.json"
fw run --report-dir "$dir" "$case1"
expect_rc 0 "symlinked results.tap and results.json in the report dir"
[ "$(cat "$work/victim")" = "victim text" ] && pass "the file the symlinks pointed to is untouched" \
  || fail "finwave wrote through a planted symlink: $(head -c 80 "$work/victim")"
[ -f "$dir/results.tap" ] && [ ! -L "$dir/results.tap" ] && grep -q '^1\.\.2$' "$dir/results.tap" \
  && pass "results.tap is a new regular file" || fail "results.tap is not a new regular file"

rm -rf "$dir/cases"
ln -s ../elsewhere "$dir/cases"
fw run --report-dir "$dir" "$case1"
expect_rc 4 "a symlinked DIR/cases"
expect_out "$dir/cases: a symbolic link" "the error names DIR/cases"
[ -z "$(ls -A "$work/elsewhere")" ] && pass "nothing written where DIR/cases pointed" \
  || fail "finwave wrote through the symlinked DIR/cases: $(ls "$work/elsewhere")"
[ "$(wc -l <"$work/out")" -le 4 ] && pass "one error line" || fail "more than one error line"

# ---- a report dir that is not the user's own directory -------------------------------
mkdir "$work/theirs"; chown nobody "$work/theirs"
fw run --report-dir "$work/theirs" "$case1"
expect_rc 4 "a report dir owned by another user"
expect_out "belongs to uid $(id -u nobody), not to you" "the refusal says whose it is"
[ -z "$(ls -A "$work/theirs")" ] && pass "nothing written in it" || fail "files written in another user's dir"
ln -s "$dir" "$work/link"
fw run --report-dir "$work/link" "$case1"
expect_rc 4 "a report dir that is a symlink"
expect_out "is a symbolic link" "the refusal says it is a symlink"
touch "$work/plainfile"
fw run --report-dir "$work/plainfile" "$case1"
expect_rc 4 "a report dir that is a file"
expect_out "is not a directory" "the refusal says it is not a directory"
# nothing of a refused run is started: it is refused before the preflight
grep -q '^PASS' "$work/out" && fail "cases ran although the report dir was refused" || pass "no case ran"

# ---- a killed run leaves the previous reports intact ------------------------------------
dir=$work/atomic
fw run --report-dir "$dir" "$case1"
expect_rc 0 "a first run"
cp -a "$dir" "$work/atomic.before"
"$FINWAVE" run --repeat 50 --report-dir "$dir" "$case1" >/dev/null 2>&1 &
pid=$!
# kill -9 once a case process runs: every report has been begun by then
deadline=$((SECONDS + 30))
until pgrep -P "$pid" >/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.01; done
pgrep -P "$pid" >/dev/null && pass "a case process runs" || fail "no case process seen"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
for f in results.tap results.json results.xml index.html claims.html; do
  cmp -s "$dir/$f" "$work/atomic.before/$f" && pass "kill -9: $f is the previous run's" \
    || fail "kill -9: $f changed ($(wc -c <"$dir/$f") bytes, was $(wc -c <"$work/atomic.before/$f"))"
done
left=$(find "$dir" -name '.*' -type f)
[ -z "$left" ] && pass "kill -9: no temporary file left in the report dir" || fail "temporary files left: $left"

# ---- write errors are errors ------------------------------------------------------------
mnt=$work/full
mkdir "$mnt"
if mount -t tmpfs -o size=16k fw-e2e-full "$mnt"; then
  fw run --report-dir "$mnt/out" "$case1"
  expect_rc 4 "reports on a full filesystem"
  expect_out "$mnt/out/" "the error names the file"
  expect_out "No space left on device (errno 28)" "the error names the errno"
  # what is there is whole: no report is cut short
  for f in "$mnt"/out/results.*; do
    [ -e "$f" ] || continue
    case $f in
      *.tap) grep -q '^1\.\.2$' "$f" && [ "$(grep -c '^ok ' "$f")" -eq 2 ] ;;
      *.json) /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" ;;
      *.xml) xmllint --noout "$f" ;;
    esac && pass "$(basename "$f") on the full disk is whole" || fail "$(basename "$f") was cut short"
  done
  find "$mnt/out" -name '*.pcap' -size -25c | grep -q . && fail "an empty pcap was left" || pass "no empty pcap"
  find "$mnt/out" -name '*.html' -empty | grep -q . && fail "a 0-byte page was left" || pass "no 0-byte page"
  umount "$mnt"
else
  fail "cannot mount a small tmpfs for the full-disk check"
fi
"$FINWAVE" run "$case1" >/dev/full 2>"$work/out"; rc=$?
expect_rc 4 "stdout on a full device (console)"
expect_out "stdout: No space left on device" "the error says stdout"
"$FINWAVE" run --format json "$case1" >/dev/full 2>"$work/out"; rc=$?
expect_rc 4 "stdout on a full device (json)"
finish
