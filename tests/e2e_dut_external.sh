# An external box on two real interfaces: finwave moves them into its wire
# namespaces for the case and gives them back afterwards, on a pass, a fail
# and an interrupt; a missing or busy interface is refused (exit 3) and left
# alone. The "real interfaces" here are veths whose far ends sit in a
# namespace this test makes to play the box (a router with the addresses
# docs/middlebox.md gives, then a bridge with none); all of it runs inside a
# private network namespace, so the machine's own interfaces are never
# touched.
. "$(dirname "$0")/lib.sh"

inner=$work/inner.sh
cat >"$inner" <<'INNER'
set -u
box_setup() {
  unshare --net sleep 300 & box=$!
  for i in $(seq 100); do [ "$(readlink /proc/$box/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.01; done
  nsenter --net=/proc/$box/ns/net sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip link add fwt-exa type veth peer name boxa netns /proc/$box/ns/net
  ip link add fwt-exb type veth peer name boxb netns /proc/$box/ns/net
  nsenter --net=/proc/$box/ns/net sh -c '
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    ip link set lo up; ip link set boxa up; ip link set boxb up
    ip addr add 198.18.3.2/24 dev boxa; ip addr add 198.18.4.2/24 dev boxb
    ip addr add 2001:2:0:3::2/64 dev boxa nodad; ip addr add 2001:2:0:4::2/64 dev boxb nodad
    ip route add 198.18.1.0/24 via 198.18.3.1; ip route add 198.18.2.0/24 via 198.18.4.1
    ip -6 route add 2001:2:0:1::/64 via 2001:2:0:3::1; ip -6 route add 2001:2:0:2::/64 via 2001:2:0:4::1'
}
bridge_box_setup() { # a transparent box: a bridge over its two ends, no address
  unshare --net sleep 300 & bbox=$!
  for i in $(seq 100); do [ "$(readlink /proc/$bbox/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.01; done
  ip link add fwt-exc type veth peer name boxc netns /proc/$bbox/ns/net
  ip link add fwt-exd type veth peer name boxd netns /proc/$bbox/ns/net
  nsenter --net=/proc/$bbox/ns/net sh -c '
    ip link set lo up; ip link add br0 type bridge
    ip link set boxc master br0; ip link set boxd master br0
    ip link set boxc up; ip link set boxd up; ip link set br0 up'
}
back() { # both interfaces are here again, down, with no address
  for i in ${1:-fwt-exa fwt-exb}; do
    ip -o link show "$i" >/dev/null 2>&1 || { echo "NOT BACK: $i"; return; }
    ip -o link show "$i" | grep -q 'state UP' && { echo "LEFT UP: $i"; return; }
    ip -o addr show dev "$i" | grep -q 'inet' && { echo "ADDRESS LEFT: $i"; return; }
  done
  echo "BACK"
}
box_setup
"$FINWAVE" run "$FW_SOURCE_DIR/tests/fixtures/dut/external-box-four-way.yaml"; echo "rc-pass=$?"; back
"$FINWAVE" run "$FW_SOURCE_DIR/tests/fixtures/dut/external-box-wrong.yaml"; echo "rc-fail=$?"; back
# SIGTERM while a case holds the interfaces: it waits 30 s after its close, and
# the signal goes once the interfaces have left this namespace (not after a
# fixed sleep, which a loaded machine outran or a fast one missed)
{ cat "$FW_SOURCE_DIR/tests/fixtures/dut/external-box-four-way.yaml"; echo "  - {do: wait, for: 30s}"; } >"$1/long.yaml"
"$FINWAVE" run "$1/long.yaml" & fw=$!
for i in $(seq 1000); do ip -o link show fwt-exa >/dev/null 2>&1 || break; sleep 0.01; done
kill -TERM $fw; wait $fw; echo "rc-term=$?"; back
ip link set fwt-exa up
"$FINWAVE" run "$FW_SOURCE_DIR/tests/fixtures/dut/external-box-four-way.yaml"; echo "rc-up=$?"
ip -o link show fwt-exa >/dev/null 2>&1 && echo "STILL HERE: fwt-exa"
ip link set fwt-exa down
ip link del fwt-exb
"$FINWAVE" run "$FW_SOURCE_DIR/tests/fixtures/dut/external-box-four-way.yaml"; echo "rc-missing=$?"
bridge_box_setup
"$FINWAVE" run "$FW_SOURCE_DIR/tests/fixtures/dut/external-bridge-four-way.yaml"; echo "rc-bridge=$?"; back "fwt-exc fwt-exd"
kill $box $bbox
INNER
FINWAVE=$FINWAVE FW_SOURCE_DIR=$FW_SOURCE_DIR unshare --net bash "$inner" "$work" >"$work/all" 2>&1
# expect_out prints $work/out on a miss: keep that to the lines that matter
grep -E '^(PASS|FAIL|ERROR|SKIP|rc-|BACK|NOT|LEFT|ADDRESS|STILL|finwave:|      actual:)' "$work/all" >"$work/out"
expect_out "rc-pass=0" "a passing case through the external box"
expect_out "PASS  external-box-four-way[ipv6]" "  over IPv6 too"
grep -A1 'rc-pass=0' "$work/out" | grep -q '^BACK$' && pass "  both interfaces given back, down, without addresses" || { fail "  interfaces not given back"; cat "$work/out"; }
expect_out "rc-fail=1" "a false expectation through the box FAILs"
expect_out "actual: FIN_WAIT_2" "  with what happened instead"
grep -A1 'rc-fail=1' "$work/out" | grep -q '^BACK$' && pass "  interfaces given back after a failure" || fail "  interfaces not back after a failure"
expect_out "rc-term=130" "SIGTERM during the case"
grep -A1 'rc-term=130' "$work/out" | grep -q '^BACK$' && pass "  interfaces given back after SIGTERM" || fail "  interfaces not back after SIGTERM"
expect_out "rc-up=3" "an interface that is up (in use) is refused, exit 3"
expect_out "dut interface fwt-exa is up, so something uses it; free it first: ip link set fwt-exa down" "  in one line with the fix"
expect_out "STILL HERE: fwt-exa" "  and left where it was"
expect_out "rc-missing=3" "a missing interface is refused, exit 3"
expect_out "dut interface fwt-exb: no such interface here" "  in one line"
expect_out "rc-bridge=0" "a passing case through a bridged external box (mode: bridge: one subnet through it)"
expect_out "PASS  external-bridge-four-way[ipv6]" "  over IPv6 too"
grep -A1 'rc-bridge=0' "$work/out" | grep -q '^BACK$' && pass "  both interfaces given back" || fail "  interfaces not given back after the bridged box"
finish
