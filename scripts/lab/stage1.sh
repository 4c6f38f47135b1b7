#!/bin/busybox sh
# finwave lab, guest stage 1 (the initramfs's /init, run by busybox-static).
# Loads the few modules that reach the host's root (virtio PCI, 9p, overlay),
# mounts that root read-only over 9p under a tmpfs overlay and switches to it;
# stage 2 (finwave.stage2= on the kernel command line: scripts/lab/stage2.sh,
# read from the host's root) runs finwave. The modules were put in /modules
# in load order by prepare-kernel.sh. A failure powers the guest off.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /lower /upper /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# 'finwave lab' asks first whether KVM boots this far: answer 42 and stop
if grep -q finwave.probe /proc/cmdline; then
  printf '\052' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  echo o >/proc/sysrq-trigger; sleep 30
fi
fail() { echo "finwave-lab stage1: $*"; echo o >/proc/sysrq-trigger; sleep 30; }
for m in $(cat /modules/order); do
  insmod "/modules/$m" || echo "finwave-lab stage1: insmod $m failed (built in?)"
done
# the virtio-9p device appears asynchronously after its driver loads
i=0
until mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "cannot mount the host root over 9p"; sleep 0.1
done
mount -t tmpfs -o mode=0755 tmpfs /upper || fail "tmpfs"
mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot || fail "overlay mount"
stage2=$(sed -n 's/.*finwave.stage2=\([^ ]*\).*/\1/p' /proc/cmdline)
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /bin/sh "$stage2"
