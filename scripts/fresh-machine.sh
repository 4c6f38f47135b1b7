#!/usr/bin/env bash
# Proves the README's quick start on a fresh Debian 12: a minimal bookworm root
# (debootstrap --variant=minbase), a fresh clone of the repository in it, then
# the README's two commands run inside it as root, as a newcomer would:
#   1. bash scripts/quickstart.sh   2. bash scripts/test.sh
# Prints each command's wall time (and apt's share), the last lines of each
# transcript, and exits 1 if either command fails.
#
#   bash scripts/fresh-machine.sh [--commit REV] [--only quickstart|test]
#                                 [--cold] [--verbose] [--path PATH]
#   --commit REV  what to clone (default: main of this repository)
#   --only CMD    run one of the two commands (test alone still installs and builds)
#   --cold        ignore the cached base root and debootstrap from nothing again
#   --verbose     stream the transcripts while they are written
#   --path PATH   the commands' PATH (default: a root login's, with the sbin
#                 directories; "su" without "-" leaves a user's, without them)
#
# The root lives in a temporary directory removed on every exit path. The base
# root debootstrap makes is cached (before anything changes it) as a tarball in
# /var/cache/finwave-fresh; the first run, and every --cold run, starts from
# nothing. Transcripts are kept in /var/cache/finwave-fresh/runs/.
#
# Each command runs in its own mount and PID namespace (unshare), chrooted:
# the mounts it needs (proc, sysfs, /dev, devpts, tmpfs /tmp, /run, /dev/shm)
# exist only in that namespace and vanish with it even if this script is
# killed, and no process of the fresh machine can outlive it or see the host's
# processes. The network namespace is the host's (apt needs the network);
# finwave only ever carries traffic in namespaces it creates, and nothing here
# touches the host's network configuration.
# Exit codes: 0 both commands passed, 1 a command failed, 2 bad usage,
# 3 not root or a tool missing, 4 the fresh root could not be made or removed.
set -euo pipefail
# The whole script is one compound command: bash reads it entirely before
# running it, so editing or pulling the file during a run cannot change it.
{
export LC_ALL=C
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=/var/cache/finwave-fresh
suite=bookworm
# Bounds: a command that takes longer is stopped and counts as failed.
limit_quickstart=$((60 * 60)) limit_test=$((120 * 60)) limit_debootstrap=$((30 * 60))

commit="" only="" cold=0 verbose=0
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
while [ $# -gt 0 ]; do
  case "$1" in
    --commit) [ $# -ge 2 ] || { echo "fresh-machine: --commit needs a revision" >&2; exit 2; }
              commit=$2; shift 2 ;;
    --only) [ $# -ge 2 ] && { [ "$2" = quickstart ] || [ "$2" = test ]; } ||
              { echo "fresh-machine: --only takes quickstart or test" >&2; exit 2; }
            only=$2; shift 2 ;;
    --cold) cold=1; shift ;;
    --verbose) verbose=1; shift ;;
    --path) [ $# -ge 2 ] && [ -n "$2" ] || { echo "fresh-machine: --path needs a PATH" >&2; exit 2; }
            path=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-machine: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-machine: run as root (debootstrap, chroot and mounts need it)" >&2; exit 3
fi
for tool in debootstrap unshare chroot git tar timeout; do
  command -v "$tool" >/dev/null ||
    { echo "fresh-machine: $tool missing: bash scripts/install-deps.sh --test installs it" >&2; exit 3; }
done
if [ -z "$commit" ]; then
  commit=$(git -C "$repo" rev-parse --verify -q main || git -C "$repo" rev-parse HEAD)
fi
commit=$(git -C "$repo" rev-parse --verify -q "$commit^{commit}") ||
  { echo "fresh-machine: '$commit' is no commit of $repo" >&2; exit 2; }

# The Debian mirror this machine's apt uses (deb822 "URIs:" or one-line "deb"),
# the security one beside it.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  awk '/^URIs:/ {print $2} /^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' |
  grep -E '/debian/?$' | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
security=${mirror%/debian}/debian-security

work="" runner=""
# Everything mounted under $work as the host sees it (none: the mounts are
# made in private namespaces; this is the proof, and the fallback).
mounts_under() { awk -v w="$1/" 'index($5 "/", w) == 1 {print $5}' /proc/self/mountinfo | sort -r; }
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$runner" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$runner" 2>/dev/null || true
    wait "$runner" 2>/dev/null || true
  fi
  if [ -n "$work" ] && [ -d "$work" ]; then
    for _ in 1 2 3 4 5; do
      [ -z "$(mounts_under "$work")" ] && break
      mounts_under "$work" | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
      sleep 0.2
    done
    if [ -n "$(mounts_under "$work")" ]; then
      echo "fresh-machine: still mounted, $work NOT removed:" >&2; mounts_under "$work" >&2
      exit 4
    fi
    # --one-file-system: never follow into anything mounted after all
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

stamp=$(date -u +%Y%m%dT%H%M%SZ)
logs=$cache/runs/$stamp-${commit:0:10}
mkdir -p "$cache" "$logs"
work=$(mktemp -d /var/tmp/finwave-fresh.XXXXXX)
root=$work/root
echo "fresh-machine: commit $(git -C "$repo" log -1 --format='%h %s' "$commit" | cut -c1-80)"
echo "fresh-machine: root $root, transcripts $logs, mirror $mirror, PATH $path"

# ---- the base root: debootstrap from nothing, or the cached one ----
base=$cache/$suite-minbase.tar
t0=$SECONDS
if [ "$cold" -eq 0 ] && [ -s "$base" ]; then
  mkdir "$root"
  tar -C "$root" --numeric-owner -xpf "$base"
  echo "fresh-machine: base root unpacked from $base in $((SECONDS - t0)) s (--cold makes it again)"
else
  echo "fresh-machine: debootstrap --variant=minbase $suite (from nothing; a few minutes)"
  # In a private mount namespace: the /proc and /sys debootstrap mounts in
  # the target cannot stay behind on the host if it fails or is killed.
  if ! timeout -k 30 "$limit_debootstrap" unshare --mount --propagation private \
       debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$logs/debootstrap.log" 2>&1; then
    tail -n 20 "$logs/debootstrap.log" >&2
    echo "fresh-machine: debootstrap failed (whole log: $logs/debootstrap.log)" >&2
    exit 4
  fi
  tar -C "$root" --numeric-owner -cpf "$base.part" . && mv "$base.part" "$base"
  echo "fresh-machine: debootstrap took $((SECONDS - t0)) s; base root cached in $base"
fi

# ---- what an installed Debian 12 has that debootstrap leaves out ----
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
# A package's postinst must not start services in the chroot (invoke-rc.d
# asks this; 101: action forbidden).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# ---- the repository, freshly cloned as a newcomer gets it ----
git clone --quiet --no-hardlinks --no-checkout "$repo" "$root/root/finwave"
git -C "$root/root/finwave" checkout --quiet -B main "$commit"

# ---- run one command inside the fresh machine ----
# Inside new mount + PID namespaces: mount what a booted Debian has, pivot into it,
# and run the command with a root login's environment (no LANG: minbase has no
# locales; the PATH of Debian's /etc/profile for root, or --path).
inner='
set -e
r=$1 path=$2; shift 2
# / of a booted machine is a mount point (unshare --propagation, used by the
# tests, needs that): make the root one.
mount --bind "$r" "$r"
mount -t proc proc "$r/proc"
mount -t sysfs sysfs "$r/sys"
mount --bind /dev "$r/dev"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mkdir -p "$r/run/lock" "$r/.oldroot"
# pivot_root, not only chroot: the fresh root becomes this mount namespace'"'"'s
# root, so a process that enters the namespace (nsenter -m, as the cleanup
# test does) lands in the fresh machine, not in the host'"'"'s /.
cd "$r"
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
set +e
chroot / /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=xterm \
  PATH="$path" \
  /bin/bash -c "cd /root/finwave && $*"
# (not exec: this shell stays the namespace'"'"'s init, reaping orphans, and
# the command is an ordinary process as on a booted machine)
exit $?
'
declare -A took rcs
run_in_root() { # run_in_root NAME LIMIT COMMAND
  local name=$1 limit=$2 cmd=$3 log=$logs/$1.log t
  echo "fresh-machine: [$name] $cmd (transcript: $log)"
  : >"$log"
  t=$(date +%s.%N)
  # --kill-child: if unshare dies, the namespace's first process dies, and
  # with it every process of the fresh machine.
  timeout -k 30 "$limit" unshare --mount --pid --fork --kill-child --propagation private \
    bash -c "$inner" inner "$root" "$path" "$cmd" </dev/null >"$log" 2>&1 &
  runner=$!
  if [ "$verbose" -eq 1 ]; then tail -n +1 -f --pid="$runner" "$log" || true; fi
  rcs[$name]=0
  wait "$runner" || rcs[$name]=$?
  runner=""
  took[$name]=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
  [ "${rcs[$name]}" -eq 124 ] && echo "fresh-machine: [$name] stopped after ${limit} s" >>"$log"
  return 0
}
summary() { # summary NAME
  local log=$logs/$1.log apt
  apt=$(awk '/^install-deps: done in [0-9]+ s$/ {s += $(NF - 1)} END {print s + 0}' "$log")
  echo
  echo "== [$1] exit ${rcs[$1]}, wall time ${took[$1]} s (apt: $apt s); last lines of $log:"
  tail -n 12 "$log" | sed 's/^/    /'
}

names=()
[ "$only" != test ] && names+=(quickstart)
[ "$only" != quickstart ] && names+=(test)
for n in "${names[@]}"; do
  case "$n" in
    quickstart) run_in_root quickstart "$limit_quickstart" "bash scripts/quickstart.sh" ;;
    test) run_in_root test "$limit_test" "bash scripts/test.sh" ;;
  esac
done
failed=0
for n in "${names[@]}"; do
  summary "$n"
  [ "${rcs[$n]}" -eq 0 ] || failed=1
done
echo
for n in "${names[@]}"; do
  printf 'fresh-machine: %-10s %s  %5s s\n' "$n" "$([ "${rcs[$n]}" -eq 0 ] && echo PASS || echo "FAIL(${rcs[$n]})")" "${took[$n]}"
done
exit "$failed"
}
