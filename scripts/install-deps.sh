#!/usr/bin/env bash
# Installs the Debian 12 packages finwave needs, as root.
#   bash scripts/install-deps.sh          building and running (scripts/deps/run.txt)
#   bash scripts/install-deps.sh --test   the same plus what the tests need (scripts/deps/test.txt)
# The package lists say why each package is there. Safe to run again: apt-get
# skips what is installed. apt's own progress is shown (no silent minutes), a
# dpkg lock held by another apt is waited for (up to 10 minutes) instead of
# failing, and a failing step's output is never hidden.
set -euo pipefail
cd "$(dirname "$0")/.."
lists=(scripts/deps/run.txt)
case "${1:-}" in
  "") ;;
  --test) lists+=(scripts/deps/test.txt) ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it): sudo bash $0 $*" >&2
  exit 3
fi
# the first word of each line that is not a comment
mapfile -t packages < <(sed -e 's/#.*//' "${lists[@]}" | awk 'NF { print $1 }')
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages of ${lists[*]} present"
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
