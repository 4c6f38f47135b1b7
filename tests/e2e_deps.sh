# A fresh machine builds: every library, pkg-config module and program the
# build looks for comes from a package that scripts/install-deps.sh installs
# (scripts/check-deps.py asks dpkg who ships each one). The check itself must
# be able to say no: with a build dependency taken out of the list, it fails
# and names the package.
. "$(dirname "$0")/lib.sh"
: "${FW_BUILD_DIR:?set FW_BUILD_DIR to the configured build directory}"
py=/usr/bin/python3

"$py" scripts/check-deps.py "$FW_BUILD_DIR" >"$work/out" 2>&1; rc=$?
expect_rc 0 "every dependency the build finds is installed by scripts/install-deps.sh"
grep -c '^ok:' "$work/out" | sed 's/^/    dependencies checked: /'

# (not zlib1g-dev any more: libbpf-dev depends on it, so the list still
# installs it without its own line)
for pkg in libnet1-dev libyaml-dev libbpf-dev libnetfilter-queue-dev; do
  bash scripts/install-deps.sh --list run | grep -v "^$pkg " >"$work/run.txt"
  "$py" scripts/check-deps.py "$FW_BUILD_DIR" --run-list "$work/run.txt" >"$work/out" 2>&1; rc=$?
  expect_rc 1 "without $pkg in the run list the check fails"
  expect_out "which scripts/install-deps.sh does not install" "  and says the list lacks it"
  expect_out "in package $pkg," "  naming $pkg"
done

# Every package named in the lists exists in Debian's archive (a typo would
# make install-deps.sh fail on a fresh machine only).
listed=$({ bash scripts/install-deps.sh --list run; bash scripts/install-deps.sh --list test; } |
  sed -e 's/#.*//' | awk 'NF {print $1}')
# shellcheck disable=SC2086 # one word per package
if apt-cache show --no-all-versions $listed >/dev/null 2>&1; then
  pass "every listed package is known to apt"
else
  for pkg in $listed; do # which one
    apt-cache show --no-all-versions "$pkg" >/dev/null 2>&1 || fail "$pkg (scripts/install-deps.sh) is no package apt knows"
  done
fi
finish
