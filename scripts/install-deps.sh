#!/usr/bin/env bash
# Installs the Debian 12 packages finwave needs, as root.
#   bash scripts/install-deps.sh          building and running (run_packages below)
#   bash scripts/install-deps.sh --test   the same plus what the tests need (test_packages)
#   bash scripts/install-deps.sh --list run|test   print a list, one "package  # why" per line
# The two lists below are the only place packages are named, each with why it
# is there: tests/e2e_deps.sh (scripts/check-deps.py) checks that every
# library, module and program the build finds comes from run_packages, and
# docs/dependencies.md is generated from them (scripts/gen-docs.sh). Safe to run again: apt-get
# skips what is installed. apt's own progress is shown (no silent minutes), a
# dpkg lock held by another apt is waited for (up to 10 minutes) instead of
# failing, and a failing step's output is never hidden.
set -euo pipefail

# Debian 12 packages that building and running finwave need.
run_packages=(
  build-essential        # the C compiler, make and libc headers
  cmake                  # the build
  pkg-config             # cmake finds libpcap, libnetfilter_queue, libmnl, yaml-0.1, jansson through it
  git                    # --version names the commit it was built from (git describe)
  python3                # builds the man pages from docs/ (scripts/md2man.py)
  libnet1-dev            # the injector: crafted SYN/RST/ACK/FIN with exact numbers and TS options
  libpcap0.8-dev         # capture on every leg and the per-case pcap files
  libnetfilter-queue-dev # the interceptor: userspace verdicts (drop, delay, hold, rewrite) on chosen segments
  libnftnl-dev           # the interceptor's NFQUEUE rules by netlink, one batch per case (the xt NFQUEUE target through nft_compat: this kernel has no nft queue), instead of two iptables processes per sender
  libmnl-dev             # rtnetlink (veth, addresses, routes) and sock_diag, without spawning ip or parsing ss
  libyaml-dev            # case files: libyaml's document API keeps each node's line and column, so every error is located (libcyaml points only at the enclosing mapping)
  libjansson-dev         # the JSON report, and results read back from it (claims)
  zlib1g-dev             # requires: config reads the kernel's /proc/config.gz
  libnetfilter-conntrack-dev # the device under test: conntrack entries (state, timeout, status, NAT) read in its namespace
  nftables               # the device under test: a case's nft ruleset loaded in the box's namespace (nft -f)
  haproxy                # the default catalog's proxy cases: a real TCP proxy as the device under test (without it they SKIP, saying so)
  socat                  # the default catalog's own-program case: a small real server as an endpoint (without it, it SKIPs)
  qemu-system-x86        # finwave lab: boots each kernel under test (KVM when usable, else TCG emulation)
  busybox-static         # finwave lab: the guest's first stage (initramfs): insmod, mount, switch_root, cpio to pack it
  kmod                   # finwave lab: depmod for a downloaded kernel's modules, modprobe inside the guest
  clang                  # compiles bpf/sockev.bpf.c (clang -target bpf): socket state changes as events, not sock_diag polls; also scripts/fuzz.sh's libFuzzer
  libbpf-dev             # loads that BPF program (CO-RE against /sys/kernel/btf/vmlinux) and reads its ring buffer
)

# Debian 12 packages the tests need, on top of run_packages.
test_packages=(
  libcmocka-dev          # unit tests (lib/tests/, ctest)
  tcpdump                # e2e: the per-case pcaps must open in tcpdump
  libxml2-utils          # e2e: xmllint checks the JUnit report against tests/fixtures/reports/junit.xsd
  python3-jsonschema     # e2e: the JSON report is checked against docs/results.schema.json
  chromium               # e2e: every HTML page is opened in a real headless browser
  fonts-dejavu-core      # e2e: the browser draws the pages' text with a known font
  util-linux             # e2e: unshare, nsenter and setsid isolate each harness run in the cleanup test
  man-db                 # e2e: man -l renders finwave(1) and finwave-case(5) without warnings
  libclang-rt-14-dev     # scripts/fuzz.sh: libFuzzer's runtime
  valgrind               # scripts/valgrind.sh: the catalog under memcheck
  stress-ng              # scripts/stability.sh and scripts/load-proof.sh: the catalog under CPU load
  iproute2               # e2e: the cleanup test compares the host's links, routes and rules before and after
  iptables               # unit: nft prints the interceptor's xt NFQUEUE rule as "queue num N" only with iptables' extensions; e2e: the cleanup test's iptables-save of the host
  procps                 # e2e: pgrep/ps find what a harness run left running
  debootstrap            # scripts/fresh-machine.sh: a minimal Debian 12 root to prove the quick start on a fresh machine
)

# --list: the lines of one array above, as written (name and why), read
# from this file so the whys need no second copy.
if [ "${1:-}" = "--list" ]; then
  case "${2:-}" in
    run | test) sed -n "/^${2}_packages=(/,/^)/{//!p}" "$0" | sed 's/^  //' ;;
    *) echo "usage: $0 --list run|test" >&2; exit 2 ;;
  esac
  exit 0
fi
packages=("${run_packages[@]}")
case "${1:-}" in
  "") ;;
  --test) packages+=("${test_packages[@]}") ;;
  *) echo "usage: $0 [--test | --list run|test]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it): sudo bash $0 $*" >&2
  exit 3
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} of ${#packages[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 -o APT::Color=0)
start=$SECONDS
echo "install-deps: apt-get update"
apt-get "${apt_opts[@]}" update
# Without -q apt prints one line per package fetched, unpacked and set up:
# that is the progress a user sees during the minutes a first install takes.
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done in $((SECONDS - start)) s"
