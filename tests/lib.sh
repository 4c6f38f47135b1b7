# Shared helpers for the end-to-end tests (sourced).
set -u
# A root shell's PATH may lack the sbin directories ("su" without "-"): the
# tools the checks use (iptables-save, sysctl, nft) live there, and a check
# whose tool is not found would compare two empty outputs and pass.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
: "${FINWAVE:?set FINWAVE to the finwave binary}"
: "${FW_SOURCE_DIR:?set FW_SOURCE_DIR to the source tree}"
cd "$FW_SOURCE_DIR"
failures=0
work=$(mktemp -d /tmp/finwave-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
# bash runs no EXIT trap when a signal kills it: a ctest timeout or a
# killed CI run left these directories behind
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

pass() { echo "ok: $*"; }
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }

# Run finwave, capture stdout+stderr in $work/out and the exit code in $rc.
fw() { "$FINWAVE" "$@" >"$work/out" 2>&1; rc=$?; }

# The head of the output, and every run that did not pass with its evidence
# (a long catalog's head alone does not say which run failed).
show_out() {
  sed 's/^/    /' "$work/out" | head -30
  grep -E -A12 '^(FAIL|ERROR|INCONCLUSIVE) ' "$work/out" | head -60 | sed 's/^/    /'
}

expect_rc() { # expect_rc WANT WHAT
  if [ "$rc" -eq "$1" ]; then pass "$2 (exit $rc)"; else fail "$2: exit $rc, wanted $1"; show_out; fi
}

expect_out() { # expect_out FIXED-STRING WHAT
  if grep -qF -- "$1" "$work/out"; then pass "$2"; else fail "$2: output lacks '$1'"; show_out; fi
}

# What the host namespace looks like: links, routes, rules, the net sysctls
# cases set. Must be identical before and after any run. Named namespaces
# are not here: other programs make them; e2e_no_leftovers checks the ones
# a harness could have made, in the harness's own mount namespace.
host_snapshot() {
  {
    ip -o link show | sed 's/ qlen [0-9]*//'
    ip -o addr show; ip route show table all; ip -6 route show table all 2>/dev/null
    ip rule show; ip -6 rule show 2>/dev/null
    cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null  # NFQUEUE bindings
    nft list ruleset 2>/dev/null
    iptables-save 2>/dev/null | grep -v '^#'; ip6tables-save 2>/dev/null | grep -v '^#'
    iptables-legacy-save 2>/dev/null | grep -v '^#'
    for s in ipv4/tcp_rfc1337 ipv4/tcp_fin_timeout ipv4/tcp_tw_reuse ipv4/tcp_timestamps \
             ipv4/tcp_max_tw_buckets ipv4/ip_forward ipv6/conf/all/forwarding ipv4/tcp_orphan_retries; do
      echo "$s=$(cat /proc/sys/net/$s)"
    done
  } 2>&1
}

# fw in a session of its own ($fw_sid): what it started can then be told
# from what another test run on the same machine started.
fw_session() {
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$work/sid" "$FINWAVE" "$@" >"$work/out" 2>&1
  rc=$?; fw_sid=$(cat "$work/sid")
}

# Every process of fw_session's run (case processes, a
# box's programs) must be gone. They die with the harness through
# PR_SET_PDEATHSIG; allow the kernel a bounded moment to deliver the signals.
wait_session_empty() {
  local deadline=$((SECONDS + 10))
  while pgrep -s "$fw_sid" >/dev/null; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.05
  done
  return 0
}

finish() {
  if [ "$failures" -eq 0 ]; then echo "all checks passed"; exit 0; fi
  echo "$failures check(s) failed"; exit 1
}
