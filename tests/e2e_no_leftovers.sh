# No namespace, veth, NFQUEUE binding, rule, route, sysctl change, process or
# temporary file survives a run, on any exit path: pass, fail, error, SIGINT,
# SIGTERM, a case process that crashes, and SIGKILL of the harness at many
# random moments (seeded: FW_SEED=N repeats a run, FW_KILLS=N sets how many).
#
# Every harness starts in a session of its own (its processes, a box's
# programs included, are exactly that session's) and in a mount namespace
# whose /tmp and /dev/shm are empty tmpfs kept open by a holder process, so
# what it leaves there is seen after it is gone, and what other programs on
# this machine do in /tmp is not mistaken for it.
. "$(dirname "$0")/lib.sh"

seed=${FW_SEED:-$(( $(date +%s%N) % 32768 ))}
kills=${FW_KILLS:-16}
echo "random kill moments: FW_SEED=$seed FW_KILLS=$kills"
RANDOM=$seed

before=$(host_snapshot)
host_net=$(readlink /proc/self/ns/net)

# start_harness OUT ARGS...: the harness in the background; sets $pid (also
# its session id) and $holder (the process keeping its mount namespace).
start_harness() {
  local out=$1; shift
  # The private /tmp below hides everything under the real /tmp, where a CI
  # clone may live: reach the binary through the working directory (a
  # process's cwd survives a mount over one of its parents; /proc/self/cwd
  # and not ./, which bash would spell out from $PWD).
  local fw=$FINWAVE rel
  rel=$(realpath --relative-to="$PWD" "$FINWAVE")
  case $rel in ../*) ;; *) fw=/proc/self/cwd/$rel ;; esac
  exec 3>"$work/holder"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid unshare -m --propagation private bash -c '
    mount -t tmpfs fw-tmp /tmp && mount -t tmpfs fw-shm /dev/shm || exit 99
    setsid sleep 600 </dev/null >/dev/null 2>&1 &
    # the holder, then the namespaces kept by a mount before the harness starts
    { echo $!; awk "$NSFS_AWK" /proc/self/mountinfo; echo end; } >&3
    exec 3>&-
    exec "$@"' _ "$fw" "$@" >"$out" 2>&1 &
  pid=$!
  exec 3>&-
  holder=""
  local deadline=$((SECONDS + 10))
  while ! grep -q '^end$' "$work/holder" && [ $SECONDS -lt $deadline ]; do sleep 0.001; done
  holder=$(head -1 "$work/holder")
  nsfs_start=$(sed '1d;$d' "$work/holder" | sort)
  [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] || [ ! -d "/proc/$pid" ] \
    || fail "the harness $pid is not the leader of its own session"
}

# Namespaces kept by a mount (named ones: ip netns add) in the harness's
# private mount namespace. Its propagation is private, so another program's
# named namespaces, made in the host's mount namespace meanwhile, never show
# here; one the harness made does.
export NSFS_AWK='{for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "nsfs") print $5; break }}'
nsfs_mounts() { awk "$NSFS_AWK" "/proc/$holder/mountinfo" 2>/dev/null | sort; }
named_netns_made() { comm -13 <(echo "$nsfs_start") <(nsfs_mounts); }

# The network namespaces the session's processes hold right now.
netns_in_use() {
  local p
  for p in $(pgrep -s "$pid"); do
    readlink "/proc/$p/ns/net" /proc/"$p"/fd/* 2>/dev/null
  done | grep '^net:' | grep -vxF "$host_net" | sort -u
}

# Every network namespace the harness could still be keeping: held by a
# process of its session, or kept by a mount in its mount namespace. Not
# the whole machine's: namespace inode numbers are reused, and on a busy
# machine another program (another finwave's harness or case process, a
# named namespace made meanwhile) soon holds a new namespace with a number
# one of ours had; that is no leftover of this harness.
netns_referenced() {
  local p
  for p in $(pgrep -s "$pid"); do
    readlink "/proc/$p/ns/net" /proc/"$p"/fd/* 2>/dev/null
  done | grep '^net:'
  awk -v want=nsfs '{for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == want) print $4; break }}' \
    "/proc/$holder/mountinfo" 2>/dev/null | grep -o 'net:\[[0-9]*\]'
}

check_clean() { # check_clean WHAT [NETNS-SEEN]
  local what=$1 seen=${2:-} left deadline=$((SECONDS + 10))
  while [ -n "$(pgrep -s "$pid")" ] && [ $SECONDS -lt $deadline ]; do sleep 0.02; done
  left=$(pgrep -a -s "$pid")
  [ -z "$left" ] && pass "$what: no process left" || fail "$what: processes left: $left"
  if [ -n "$seen" ]; then
    left=$(comm -12 <(echo "$seen") <(netns_referenced | sort -u))
    [ -z "$left" ] && pass "$what: the $(echo "$seen" | wc -l) namespace(s) the case processes held are unreferenced" \
      || fail "$what: namespaces still referenced: $left"
  fi
  left=$(named_netns_made)
  [ -z "$left" ] && pass "$what: no named namespace" || fail "$what: named namespaces made: $left"
  left=$(nsenter -t "$holder" -m -- find /tmp /dev/shm -mindepth 1 2>&1)
  [ -z "$left" ] && pass "$what: no temporary file" || fail "$what: temporary files left: $left"
  kill "$holder" 2>/dev/null
  after=$(host_snapshot)
  if [ "$before" = "$after" ]; then pass "$what: host namespace unchanged"
  else fail "$what: host namespace changed"; diff <(echo "$before") <(echo "$after") | head -20; fi
}

# Run to the end: pass, fail, error; cases/process/ forks endpoint processes
# and crashes (SIGSEGV) or kills them. The whole catalog too, for every code
# path; its verdicts are e2e_catalog's business (on a loaded machine a timing
# case may FAIL), here only what it leaves behind counts.
for run in "cases/time_wait/syn-in-time-wait.yaml 0 passing" "tests/fixtures/wrong/ 1 failing" \
           "tests/fixtures/error/ 1 erroring" "cases/process/ 0 endpoint-crashing" "cases/ any catalog"; do
  set -- $run
  start_harness "$work/out" run --jobs 4 "$1"; wait "$pid"; rc=$?
  if [ "$2" = any ]; then
    [ "$rc" -le 1 ] && grep -q '^PASS ' "$work/out" && pass "catalog run (exit $rc)" \
      || { fail "catalog run: exit $rc"; tail -5 "$work/out"; }
  else
    expect_rc "$2" "$3 run"
  fi
  [ "$3" = erroring ] && expect_out "ERROR inject-before-connect" "the erroring case is reported as ERROR"
  check_clean "$3 run"
done

# Another program's named namespace, made on this machine while a harness
# runs, is not the harness's leftover (on main it turned this test red).
other=fw-e2e-other-$$
start_harness "$work/out" run --jobs 4 cases/time_wait/syn-in-time-wait.yaml
ip netns add "$other" && pass "another program made the named namespace $other" || fail "ip netns add $other"
wait "$pid"; rc=$?
expect_rc 0 "a run while another program made a named namespace"
check_clean "a run while another program made a named namespace"
ip netns del "$other"

# ...and the check still says no to a named namespace the harness makes:
# a stand-in "harness" (ip itself) that runs 'ip netns add' in its place.
probe=fw-e2e-probe-$$
FINWAVE=$(command -v ip) start_harness "$work/out" netns add "$probe"
wait "$pid"
made=$(named_netns_made)
echo "$made" | grep -q "/run/netns/$probe" && pass "a named namespace the harness made is seen ($made)" \
  || fail "a named namespace the harness made went unseen: the check is blind"
nsenter -t "$holder" -m -- ip netns del "$probe"
kill "$holder" 2>/dev/null

# Wait (bounded) until a case process holds its namespaces; sets $case_pid.
# A case process is a child of the harness that holds three network
# namespaces (client, wire, server) of its own: a program it starts (a box's)
# between fork and exec is a "finwave" child too, but holds fewer.
wait_case_running() {
  local deadline=$((SECONDS + 10)) child n
  seen="" case_pid=""
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
    for child in $(pgrep -P "$pid" -x finwave); do
      n=$(readlink /proc/"$child"/fd/* 2>/dev/null | grep '^net:' | grep -vxF "$host_net" | sort -u | wc -l)
      if [ "$n" -ge 3 ]; then case_pid=$child; seen=$(netns_in_use); return 0; fi
    done
    sleep 0.005
  done
  return 1
}

for sig in INT TERM; do
  start_harness "$work/out" run --jobs 2 cases/
  wait_case_running || fail "SIG$sig: no case process seen"
  kill -"$sig" "$pid"; wait "$pid"; rc=$?
  expect_rc 130 "SIG$sig"
  check_clean "SIG$sig" "$seen"
done

# SIGKILL of the harness while a case's forked endpoint process lives: the
# endpoint goes with its case process, the case process with the harness.
start_harness "$work/out" run --jobs 1 cases/process/
deadline=$((SECONDS + 20)) endpoint=""
while [ -z "$endpoint" ] && [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
  # several case processes: the one running, the next ones prepared ahead
  for c in $(pgrep -P "$pid" -x finwave); do
    e=$(pgrep -P "$c" -x finwave | head -1); [ -n "$e" ] && endpoint=$e
  done
  [ -z "$endpoint" ] && sleep 0.002
done
if [ -n "$endpoint" ]; then
  seen=$(netns_in_use)
  kill -KILL "$pid"; wait "$pid" 2>/dev/null
  check_clean "SIGKILL with an endpoint process alive" "$seen"
else
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  fail "no endpoint process seen under cases/process/"
fi

# A case process that crashes (SIGSEGV, SIGABRT) is an ERROR with the signal
# named, and what it held goes with it.
# (handle_segv=0: in the ASan build, let SIGSEGV kill as it does elsewhere.)
for sig in SEGV ABRT; do
  # On a loaded machine the case may end before the signal lands (kill
  # fails), or land after its result, while it closes its namespaces (the
  # harness says so and the result stands): that attempt proves nothing, so
  # try again (bounded).
  for attempt in 1 2 3 4 5; do
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0 \
      start_harness "$work/out" run --jobs 1 cases/loss/first-fin-lost.yaml
    wait_case_running || fail "SIG$sig of a case: no case process seen"
    sleep "0.$((RANDOM % 200 + 100))"   # somewhere in its 0.42 s run
    if kill -"$sig" "$case_pid" 2>/dev/null; then landed=1; else landed=0; fi
    wait "$pid"; rc=$?
    grep -q "while closing its namespaces, after its result" "$work/out" && landed=0
    [ "$landed" = 1 ] && break
    echo "note: SIG$sig attempt $attempt: the case had handed in its result before the signal; again"
    check_clean "SIG$sig attempt $attempt (case ended first)" "$seen"
  done
  expect_rc 1 "case process killed by SIG$sig"
  expect_out "died of signal" "SIG$sig: the reason is in the report"
  check_clean "SIG$sig of a case process" "$seen"
done

# SIGKILL of the harness cannot be caught: cleanup must not depend on it.
# The moments cover preflight (the harness's own scratch namespace and its
# NFQUEUE rules), case setup, running cases and teardown.
for i in $(seq "$kills"); do
  ms=$((RANDOM % 900))
  start_harness /dev/null run --jobs 4 cases/
  sleep "$(printf '0.%03d' "$ms")"
  seen=$(netns_in_use)
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  check_clean "SIGKILL $i/$kills after ${ms}ms" "$seen"
done
finish
