# finwave lab: boots one Debian kernel (bookworm's linux-image-6.1.0-N-amd64,
# downloaded once with apt-get download into the kernel cache) under the
# accelerator that works here (KVM if a guest boots under it, else TCG) and
# runs a few cases in it; the matrix must have that kernel's column, cases
# skipped there with their reason, and a claim not testable there. A guest
# past its deadline is killed and reported; a kernel that does not exist is
# one line and exit 2.
. "$(dirname "$0")/lib.sh"

# The newest 6.1 kernel the archive has (what linux-image-amd64 depends on).
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
  sed -n 's/.*Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n 1)
[ -n "$pkg" ] || pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
  awk '{print $1}' | sort -V | tail -n 1)
if [ -z "$pkg" ]; then
  fail "no linux-image-6.1.0-*-amd64 in apt's lists (apt-get update with bookworm's sources first)"
  finish
fi
release=${pkg#linux-image-}
sel="tests/fixtures/skip/ cases/time_wait/rst-in-time-wait.yaml"  # the latter does not cover C01

# shellcheck disable=SC2086 # several paths
fw lab --kernel "$pkg" --report-dir "$work/lab" --claims tests/fixtures/skip/claims.md $sel
accel=$(sed -n 's/.*booting under \([a-z]*\).*/\1/p' "$work/out")
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] && pass "lab on $pkg under ${accel:-?} (exit $rc)" ||
  { fail "lab on $pkg: exit $rc"; sed 's/^/    /' "$work/out" | tail -30; }
expect_out "KVM " "the lab says whether it used KVM or TCG"
expect_out "$release [$accel]" "the kernel's line names it and the accelerator"
kdir="$work/lab/kernels/$release"
grep -q "finwave-lab: kernel $release" "$kdir/console.log" 2>/dev/null &&
  pass "the guest's console is in kernels/$release/console.log" || fail "no guest console log"
python3 - "$work/lab/matrix.json" "$kdir/results.json" "$release" <<'PY' && pass "matrix.json: the $release column, skipped cells and a not-testable claim with their reasons, the real cases ran in the guest" || fail "matrix.json content"
import json, sys
m, r, release = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert r["run"]["kernel"]["release"] == release, r["run"]["kernel"]  # ran in the guest, not here
assert [k["label"] for k in m["kernels"]] == [release], m["kernels"]
k = m["kernels"][0]
assert k["accel"] in ("kvm", "tcg") and k["note"] == "" and "Debian" in k["version"], k
rows = {c["name"]: c["cells"][0] for c in m["cases"]}
fut = rows["needs-future-kernel"]
assert fut["status"] == "skipped" and "needs Linux 99.1 or later (this is " + release in fut["reason"], fut
cfg = rows["needs-missing-config"]  # the package's config is in the guest's /boot
assert cfg["status"] == "skipped" and "CONFIG_FINWAVE_NO_SUCH_OPTION" in cfg["reason"] and "publishes no config" not in cfg["reason"], cfg
assert rows["has-everything"]["status"] == "pass", rows["has-everything"]
for fam in ("ipv4,tcp_rfc1337=0", "ipv6,tcp_rfc1337=1"):
    assert rows["time_wait/rst-in-time-wait[%s]" % fam]["status"] in ("pass", "fail"), rows
c01 = m["claims"][0]["cells"][0]
assert c01["status"] == "not-testable" and "99.1" in c01["reason"], c01
PY
/usr/bin/python3 -m jsonschema -i "$work/lab/matrix.json" docs/matrix.schema.json >/dev/null 2>&1 &&
  pass "matrix.json is valid against docs/matrix.schema.json" || fail "matrix.json does not match docs/matrix.schema.json"
[ -s "$work/lab/matrix.html" ] && grep -q "$release" "$work/lab/matrix.html" &&
  pass "matrix.html names the kernel" || fail "matrix.html"

# A guest that does not finish by its deadline: killed, reported, nothing
# left. The same kernel given the two other ways: the package file the cache
# holds now, and its image with its modules directory.
cache=${FINWAVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finwave/kernels}
deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1)
unpacked="$cache/$(basename "$deb" .deb)"
n=0
for spec in "$pkg" "$deb" "$unpacked/boot/vmlinuz-$release:$unpacked/lib/modules/$release"; do
  n=$((n + 1))
  fw lab --accel tcg --timeout 1 --kernel "$spec" --report-dir "$work/hang$n" tests/fixtures/skip/
  expect_rc 1 "a guest past --timeout (--kernel $(basename "$spec"))"
  expect_out "$release [tcg]" "  the kernel is $release"
  expect_out "hung: killed at the 1 s deadline" "  reported as hung"
  pgrep -f "finwave.job=$work/hang$n" >/dev/null && fail "  qemu still running" || pass "  its qemu is gone"
done

fw lab --kernel "$work/no-such.deb" --report-dir "$work/bad" tests/fixtures/skip/
expect_rc 2 "a kernel package that does not exist"
[ "$(wc -l <"$work/out")" -eq 2 ] && expect_out "no-such.deb: no such file" "  says so in one line"
fw lab --report-dir "$work/bad" tests/fixtures/skip/; expect_rc 2 "no --kernel"
finish
