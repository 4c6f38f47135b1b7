# The default catalog passes on this kernel, and --report-dir writes a TAP
# file and one pcap per case that tcpdump can read.
. "$(dirname "$0")/lib.sh"

fw run --report-dir "$work/out-dir" cases/
expect_rc 0 "finwave run cases/"
# every file runs once per family (and matrix row): count the runs
"$FINWAVE" list cases/ | awk '{print $1}' >"$work/names"
n=$(wc -l <"$work/names")
expect_out "$n passed, 0 failed" "every one of the $n runs passed"
cp "$work/out" "$work/console"

tap="$work/out-dir/results.tap"
if [ -f "$tap" ] && head -2 "$tap" | grep -qx "1..$n" && [ "$(grep -c '^ok ' "$tap")" -eq "$n" ]; then
  pass "results.tap: TAP 13 plan 1..$n and $n ok lines"
else
  fail "results.tap is missing or wrong"; cat "$tap"
fi

pcap="$work/out-dir/close/four-way[ipv4].pcap"
if tcpdump -nn -r "$pcap" >"$work/pcap.txt" 2>/dev/null; then
  pass "four-way.pcap opens in tcpdump ($(wc -l <"$work/pcap.txt") segments)"
  [ "$(grep -c 'Flags \[F\.\]' "$work/pcap.txt")" -eq 2 ] && pass "four-way.pcap holds both FINs" || { fail "four-way.pcap FIN count"; cat "$work/pcap.txt"; }
  grep -q '198.18.1.2' "$work/pcap.txt" && pass "addresses are the case's own 198.18.0.0/15" || fail "unexpected addresses in the pcap"
else
  fail "tcpdump cannot read $pcap"
fi
for f in $(cat "$work/names"); do
  [ -s "$work/out-dir/$f.pcap" ] || fail "no pcap for $f"
done

fw check cases/
expect_rc 0 "finwave check cases/"
fw list cases/
expect_rc 0 "finwave list cases/"
expect_out "close/four-way" "list shows case names"
expect_out "[C16]" "list shows claims"

fw run --format tap cases/close/four-way.yaml
expect_rc 0 "--format tap"
expect_out "ok 1 - close/four-way[ipv4]" "TAP on stdout"
expect_out "ok 2 - close/four-way[ipv6]" "  and the IPv6 run"
finish
