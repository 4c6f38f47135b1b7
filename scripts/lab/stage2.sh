#!/bin/sh
# finwave lab, guest stage 2: runs as PID 1 on the host's root (read-only 9p
# under a tmpfs overlay), in the guest kernel. Mounts what a run needs, binds
# the kernel's own modules at /lib/modules/$(uname -r), loads the modules
# finwave uses, mounts the report directory (9p tag "out", writable) and runs
# the job 'finwave lab' wrote there (lab-job.sh: FW_CWD, FW_MODULES, FW_OUT and
# the finwave command line). Exit code: FW_OUT/lab-exit, then the power-off
# through isa-debug-exit carries it too.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
job=$(sed -n 's/.*finwave.job=\([^ ]*\).*/\1/p' /proc/cmdline)
out=$(dirname "$job")
mkdir -p "$out"
poweroff_with() { # the exit code leaves through the isa-debug-exit port (0xf4)
  sync
  printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  echo o >/proc/sysrq-trigger
  sleep 60
}
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out "$out"; then
  echo "finwave-lab: cannot mount the report directory"; poweroff_with 125
fi
. "$job" || { echo "finwave-lab: cannot read $job"; poweroff_with 125; }
rel=$(uname -r)
mkdir -p "/lib/modules/$rel" && mount --bind "$FW_MODULES" "/lib/modules/$rel"
# the package's config, where a case's 'requires: CONFIG_...' looks for it
config="${FW_MODULES%/lib/modules/*}/boot/config-$rel"
[ -r "$config" ] && mkdir -p /boot && cp "$config" "/boot/config-$rel"
# crc32c first: nf_tables needs libcrc32c, whose softdep on crc32c modprobe may miss.
# nf_conntrack: its sysctls (a middlebox case's requirement) exist only once it is loaded.
for m in crc32c veth nfnetlink_queue nf_tables nft_compat xt_NFQUEUE xt_tcpudp inet_diag tcp_diag \
    nf_conntrack; do
  modprobe "$m" 2>&1 | sed 's/^/finwave-lab: modprobe: /'
done
ip link set lo up
echo "finwave-lab: kernel $rel ($(cat /proc/version)); running: $FW_CMD"
cd "$FW_CWD" || poweroff_with 125
start=$(cut -d' ' -f1 /proc/uptime)
eval "$FW_CMD" >"$out/stdout.txt" 2>"$out/stderr.txt"
rc=$?
end=$(cut -d' ' -f1 /proc/uptime)
echo "finwave-lab: finwave exited $rc after $start..$end s of uptime"
tail -n 3 "$out/stdout.txt"
echo "$rc $start $end" >"$out/lab-exit"
sync
umount "$out"
poweroff_with "$rc"
