# --shard K/N splits the catalog into disjoint parts that together are the
# whole catalog, whatever order the paths come in; bad values exit 2 with one
# line. --repeat N runs every case N times, names the runs name#2.., and a
# verdict that changes between runs is reported and fails the run.
. "$(dirname "$0")/lib.sh"

names() { sed -n 's/^\(PASS\|FAIL\|SKIP\|ERROR\) \+\([^ ]*\) .*/\2/p' "$work/out"; }

# ---- --shard ----------------------------------------------------------------
fw list cases/; all=$(grep -v '^finwave: ' "$work/out" | awk '{print $1}' | sort)
ncases=$(echo "$all" | wc -l)
files_reversed=$(find cases -name '*.yaml' | sort -r)
for n in 1 2 3 7 $((ncases + 2)); do
  union=""; sizes=""
  for k in $(seq "$n"); do
    # shellcheck disable=SC2086 # one word per file
    fw list --shard "$k/$n" $files_reversed
    if [ "$rc" -ne 0 ]; then fail "list --shard $k/$n: exit $rc"; sed 's/^/    /' "$work/out"; continue; fi
    part=$(grep -v '^finwave: ' "$work/out" | awk '{print $1}' | sort)
    fw list --shard "$k/$n" cases/
    other=$(grep -v '^finwave: ' "$work/out" | awk '{print $1}' | sort)
    [ "$part" = "$other" ] || fail "shard $k/$n depends on the order of the paths: '$part' vs '$other'"
    [ -z "$part" ] && { expect_out "holds no case" "empty shard $k/$n says so"; }
    union=$(printf '%s\n%s\n' "$union" "$part" | sed '/^$/d')
    sizes="$sizes $(echo "$part" | sed '/^$/d' | wc -l)"
  done
  [ "$(echo "$union" | sort)" = "$all" ] && pass "shards of $n: together the whole catalog" \
    || fail "shards of $n: union differs from the catalog: $(echo "$union" | tr '\n' ' ')"
  [ "$(echo "$union" | sort | uniq -d)" = "" ] && pass "shards of $n: disjoint" || fail "shards of $n overlap"
  min=$(echo $sizes | tr ' ' '\n' | sort -n | head -1); max=$(echo $sizes | tr ' ' '\n' | sort -n | tail -1)
  [ $((max - min)) -le 1 ] && pass "shards of $n: sizes$sizes differ by at most one" \
    || fail "shards of $n: unbalanced sizes$sizes"
done

# A shard runs exactly what list says it holds (of a small catalog: runs take time).
small=cases/time_wait/
fw list --shard 2/3 "$small"; want=$(grep -v '^finwave: ' "$work/out" | awk '{print $1}' | sort)
fw run --shard 2/3 "$small"; expect_rc 0 "run --shard 2/3"
[ "$(names | sort)" = "$want" ] && pass "run --shard 2/3 ran the listed cases" \
  || fail "run --shard 2/3 ran '$(names | tr '\n' ' ')', list said '$(echo "$want" | tr '\n' ' ')'"

for bad in 0/2 3/2 2 a/b 1/0 /2 1/ 1/2x -1/2 " 1/2" 1/99999 ""; do
  fw run --shard "$bad" cases/
  expect_rc 2 "--shard '$bad' refused"
  lines=$(wc -l <"$work/out")
  [ "$lines" -eq 1 ] && grep -q -- '--shard' "$work/out" && pass "--shard '$bad': one line naming the option" \
    || { fail "--shard '$bad': wanted one line about --shard, got $lines"; cat "$work/out"; }
done

# ---- --repeat ---------------------------------------------------------------
for bad in 0 -1 x 10001 ""; do
  fw run --repeat "$bad" cases/; expect_rc 2 "--repeat '$bad' refused"
done
fw list --repeat 2 cases/; expect_rc 2 "--repeat applies only to run"

pair="cases/close/four-way.yaml cases/time_wait/syn-in-time-wait.yaml"
# shellcheck disable=SC2086 # two files
fw list $pair; few=$(awk '{print $1}' "$work/out"); nfew=$(echo "$few" | wc -l)
# shellcheck disable=SC2086 # two files
fw run --repeat 3 --jobs 4 --report-dir "$work/rep" $pair
expect_rc 0 "--repeat 3 of $nfew runs"
[ "$(names | wc -l)" -eq $((3 * nfew)) ] && pass "--repeat 3: $((3 * nfew)) results" \
  || fail "--repeat 3: $(names | wc -l) results, wanted $((3 * nfew))"
for c in $few; do
  got=$(names | grep -cxF -e "$c" -e "$c#2" -e "$c#3")
  [ "$got" -eq 3 ] || fail "--repeat 3: $c has $got results (want $c, $c#2, $c#3)"
  [ -s "$work/rep/$c#3.pcap" ] || fail "--repeat 3: no pcap for $c#3"
done
[ "$(grep -c '^ok ' "$work/rep/results.tap")" -eq $((3 * nfew)) ] && pass "--repeat 3: one TAP point per run" \
  || fail "--repeat 3: TAP has $(grep -c '^ok ' "$work/rep/results.tap") ok points"
grep -q 'verdict changed' "$work/out" && fail "--repeat 3: a flip reported on a stable catalog" \
  || pass "--repeat 3: no flip reported"

# A verdict that changes: the second run of a case is crashed from outside
# (its process gets SIGABRT, which the ASan build does not catch), so it is
# ERROR while the others PASS.
"$FINWAVE" run --repeat 3 --jobs 1 --filter 'loss/first-fin-lost?ipv4?' cases/ >"$work/out" 2>&1 &
pid=$!
# The case processes: a case process holds its namespaces, and they are
# forked in run order (the next runs are prepared ahead while one runs), so
# the second smallest pid is the second run's. Once three are seen, or two
# and the first has gone, the second is known.
second="" seen=""
deadline=$((SECONDS + 20))
while [ -z "$second" ] && [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
  for c in $(pgrep -P "$pid" -x finwave); do
    case " $seen " in *" $c "*) continue ;; esac
    n=$(readlink /proc/"$c"/fd/* 2>/dev/null | grep -c '^net:')
    [ "$n" -ge 3 ] && seen="$seen $c"
  done
  set -- $(printf '%s\n' $seen | sort -n)
  if [ $# -ge 3 ] || { [ $# -eq 2 ] && ! kill -0 "$1" 2>/dev/null; }; then second=$2; fi
  [ -z "$second" ] && sleep 0.002
done
if [ -n "$second" ]; then
  kill -ABRT "$second"
  wait "$pid"; rc=$?
  expect_rc 1 "--repeat with a crashed run fails"
  expect_out "ERROR loss/first-fin-lost[ipv4]#2" "the crashed run is named #2"
  expect_out "died of signal 6" "the crash is the reason"
  expect_out "verdict changed: loss/first-fin-lost[ipv4]: PASS 2/3 ERROR 1/3" "the flip is reported with its counts"
else
  kill "$pid" 2>/dev/null; wait "$pid"
  fail "could not see the second run's process start"
fi
finish
