#!/usr/bin/env bash
# Installs every Debian package finwave needs to build, test and run.
# Debian 12, as root. Safe to run again: apt-get skips what is installed.
set -euo pipefail
packages=(
  build-essential cmake pkg-config          # the build
  libnet1-dev                               # injector: crafted SYN/RST/ACK/FIN
  libpcap-dev                               # capture on both legs, per-case .pcap
  libnetfilter-queue-dev libmnl-dev         # interceptor (NFQUEUE) and rtnetlink topology
  libyaml-dev                               # case files
  libjansson-dev                            # case results as JSON
  libcmocka-dev                             # unit tests
  iptables                                  # installs the NFQUEUE rule inside a case's namespace
  iproute2 tcpdump procps                   # the end-to-end tests read pcaps and host state
  libxml2-utils                             # xmllint: JUnit report checked against tests/fixtures/reports/junit.xsd
  python3-jsonschema                        # JSON report checked against docs/results.schema.json
  chromium fonts-dejavu-core                # the HTML report opened in a real headless browser (and its text drawn)
  util-linux                                # e2e: unshare/nsenter/setsid isolate each harness run
  clang libclang-rt-14-dev                  # scripts/fuzz.sh: libFuzzer (runtime in libclang-rt)
  valgrind                                  # scripts/valgrind.sh: the catalog under memcheck
  stress-ng                                 # scripts/stability.sh: the catalog under CPU load
)
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it): sudo $0" >&2
  exit 3
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps: all packages present"
