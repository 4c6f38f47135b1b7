# Hostile input gets a clear answer at once, not a hang, a crash or a
# machine's worth of memory: a FIFO or device as a case path, an empty
# directory (qsort(NULL) under UBSan), a 1 MiB file of YAML aliases that
# main expanded to 64 runs x 149k steps (7.5 GB, 44 s), too many steps.
. "$(dirname "$0")/lib.sh"

# ---- a FIFO given as a case file: refused, never opened for a read that waits ----
mkfifo "$work/case.yaml"
for cmd in check run list; do
  timeout 20 "$FINWAVE" $cmd "$work/case.yaml" >"$work/out" 2>&1; rc=$?
  expect_rc 2 "$cmd of a FIFO (124 = it hung)"
  expect_out "$work/case.yaml: not a regular file (a FIFO, socket or device)" "$cmd: the FIFO is named"
done
timeout 20 "$FINWAVE" check /dev/zero >"$work/out" 2>&1; rc=$?
expect_rc 2 "check of a device"
# a FIFO inside a directory is not a case file either (the walk takes *.yaml regular files)
mkdir "$work/withfifo"; cp cases/close/four-way.yaml "$work/withfifo/"; mkfifo "$work/withfifo/x.yaml"
timeout 20 "$FINWAVE" check "$work/withfifo" >"$work/out" 2>&1; rc=$?
expect_rc 0 "a directory holding a FIFO named *.yaml: the FIFO is left out"

# ---- an empty directory: a one-line answer, no undefined behaviour ----------------
mkdir "$work/empty"
fw check "$work/empty"
expect_rc 2 "an empty directory"
expect_out "no case files (*.yaml) found" "the empty directory is named as having no case"
grep -q 'runtime error' "$work/out" && fail "UBSan reports undefined behaviour" || pass "no undefined behaviour reported"

# ---- bounded expansion: a 1 MiB file of aliases -------------------------------------
# 32 matrix rows x 2 families x 149k uses of one step: refused, located, and
# in a few MB (ru_maxrss of the child, not a clock).
/usr/bin/python3 - "$work/bomb.yaml" <<'EOF'
import sys
head = "summary: alias bomb\nmatrix:\n" + "".join(
    "  - {name: r%d, sysctl: {client: {net.ipv4.tcp_rfc1337: %d}}}\n" % (i, i % 2) for i in range(32))
head += "steps:\n  - &s {do: listen, host: server, port: 8080}\n"
n = ((1 << 20) - len(head) - 100) // 7
open(sys.argv[1], "w").write(head + "  - *s\n" * n)
EOF
maxrss=$(/usr/bin/python3 - "$FINWAVE" "$work/bomb.yaml" "$work/out" <<'EOF'
import resource, subprocess, sys
with open(sys.argv[3], "w") as out:
    rc = subprocess.run([sys.argv[1], "check", sys.argv[2]], stdout=out, stderr=out, timeout=300).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
)
rc=${maxrss% *}; kb=${maxrss#* }
expect_rc 2 "a 1 MiB file of YAML aliases"
expect_out "bomb.yaml:36:5: more than 256 uses of YAML aliases (*name) in the file" "the refusal is located"
# ASan's shadow memory makes its RSS larger; 512 MB is far under main's 7.5 GB either way
[ "$kb" -lt 524288 ] && pass "it took $((kb / 1024)) MB" || fail "it took $((kb / 1024)) MB"

/usr/bin/python3 - "$work/steps.yaml" <<'EOF'
import sys
open(sys.argv[1], "w").write("summary: too many steps\nsteps:\n" +
                             "  - {do: listen, host: server, port: 8080}\n" * 1001)
EOF
fw check "$work/steps.yaml"
expect_rc 2 "1001 steps"
expect_out "steps.yaml:3:3: 'steps' has 1001 entries, more than 1000" "the limit is named, located"
# ---- run names: "<name>#N" of --repeat always fits -------------------------------
# Two files whose run names (120 bytes, UTF-8 row name) differ past byte
# 104: main cut every "#2" name to its first 104 bytes, so both runs' "#2"
# reports went to one pcap and one page. Names longer than 120 bytes are
# refused at load, and the ones that fit are never cut.
mkdir "$work/long" "$work/toolong"
long=$(printf 'x%.0s' $(seq 105))   # + /yyyk[éééé]: 120 bytes
for k in a b; do
  for d in long toolong; do
    extra=""; [ $d = toolong ] && extra=z
    cat >"$work/$d/$k.yaml" <<EOF
name: $long/yyy$extra$k
summary: a long name
family: ipv4
matrix:
  - {name: "\u00e9\u00e9\u00e9\u00e9", sysctl: {client: {net.ipv4.tcp_rfc1337: 0}}}
steps:
  - {do: listen, host: server, port: 8080}
EOF
  done
done
fw check "$work/toolong"
expect_rc 2 "a run name of 121 bytes"
expect_out "is 121 bytes long, at most 120 (room for --repeat's #N)" "the refusal says why"
fw run --repeat 2 --report-dir "$work/rep" "$work/long"
expect_rc 0 "two 120-byte run names, --repeat 2"
n=$(find "$work/rep" -name '*#2.pcap' | wc -l)
[ "$n" -eq 2 ] && pass "two runs #2, two pcaps" || { fail "two runs #2 but $n pcap(s)"; find "$work/rep" -name '*.pcap'; }
/usr/bin/python3 - "$work/rep/results.json" <<'EOF' && pass "results.json: four distinct run names, whole UTF-8" || fail "results.json run names"
import json, sys
names = [c["name"] for c in json.load(open(sys.argv[1]))["cases"]]
assert len(set(names)) == 4, names
assert all(n.endswith("[\u00e9\u00e9\u00e9\u00e9]") or n.endswith("\u00e9]#2") for n in names), names
EOF
finish
