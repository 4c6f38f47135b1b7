#!/bin/bash
# finwave lab: turn one kernel given to 'finwave lab --kernel' into what qemu
# boots, in the cache directory (never in the repository):
#   NAME.deb            a Debian kernel package (linux-image-*.deb)
#   NAME                a package name: apt-get download, once (cached)
#   VMLINUZ:MODULES     a kernel image and its modules directory (lib/modules/REL)
# Prints key=value lines on stdout: release, vmlinuz, modules, initrd, source.
# The initramfs holds busybox-static, stage1.sh and the modules that reach the
# host's root (virtio PCI, 9p, overlay), decompressed, in load order.
# Exit 2: the kernel cannot be found or read (one line on stderr).
set -euo pipefail
spec=$1 cache=$2
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "finwave lab: $*" >&2; exit 2; }
mkdir -p "$cache"
extract() { # DEB -> the directory it is unpacked in (once)
  local deb=$1 dir
  dir="$cache/$(basename "$deb" .deb)"
  if [ ! -e "$dir/.extracted" ]; then
    rm -rf "$dir"
    dpkg-deb -x "$deb" "$dir" || die "$deb: not a Debian package (dpkg-deb -x failed)"
    touch "$dir/.extracted"
  fi
  echo "$dir"
}
case $spec in
  *:*)
    vmlinuz=${spec%%:*} modules=${spec#*:}
    [ -r "$vmlinuz" ] || die "$vmlinuz: no such kernel image (VMLINUZ:MODULES_DIR)"
    [ -d "$modules" ] || die "$modules: no such modules directory (VMLINUZ:MODULES_DIR)"
    modules=$(cd "$modules" && pwd)
    release=$(basename "$modules")
    source="$vmlinuz"
    ;;
  *.deb)
    [ -r "$spec" ] || die "$spec: no such file"
    root=$(extract "$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")")
    source="$(dpkg-deb -f "$spec" Package) $(dpkg-deb -f "$spec" Version) ($spec)"
    ;;
  *)
    [[ $spec =~ ^[a-z0-9][a-z0-9.+-]+$ ]] || die "'$spec': not a .deb, VMLINUZ:MODULES or package name"
    deb=$(ls "$cache/${spec}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$deb" ]; then
      echo "finwave lab: apt-get download $spec (into $cache)" >&2
      (cd "$cache" && apt-get -q -o APT::Sandbox::User=root download "$spec" >&2) \
        || die "apt-get download $spec failed (apt-cache policy $spec shows where it comes from)"
      deb=$(ls "$cache/${spec}"_*.deb | sort -V | tail -n 1)
    fi
    root=$(extract "$deb")
    source="$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) (Debian archive)"
    ;;
esac
if [ -n "${root:-}" ]; then
  modules=$(ls -d "$root"/lib/modules/*/ 2>/dev/null | head -n 1)
  [ -n "$modules" ] || die "$spec: no lib/modules/RELEASE in the package"
  modules=${modules%/}
  release=$(basename "$modules")
  vmlinuz="$root/boot/vmlinuz-$release"
  [ -r "$vmlinuz" ] || die "$spec: no boot/vmlinuz-$release in the package"
fi
base=${modules%/lib/modules/$release}
[ "$base" != "$modules" ] || die "$modules: expected a path ending in lib/modules/$release"
# modules.dep: generated once (Debian's packages leave it to their postinst)
[ -s "$modules/modules.dep" ] || depmod -b "$base" "$release" || die "depmod failed for $modules"
# named after what is in it: another stage1.sh makes another initramfs
initrd="$cache/initrd-$release-$(cat "$here/stage1.sh" /bin/busybox | md5sum | cut -c1-12).cpio"
if [ ! -s "$initrd" ]; then
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/bin" "$stage/modules"
  cp /bin/busybox "$stage/bin/busybox"
  cp "$here/stage1.sh" "$stage/init"
  chmod 755 "$stage/init" # an installed copy may have lost its x bit
  : >"$stage/modules/order"
  for m in virtio_pci 9pnet_virtio 9p overlay; do
    modprobe -d "$base" -S "$release" --show-depends "$m"
  done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
    name=$(basename "$ko"); name=${name%.xz}; name=${name%.zst}
    case $ko in
      *.xz) xz -dc "$ko" >"$stage/modules/$name" ;;
      *.zst) zstd -qdc "$ko" >"$stage/modules/$name" ;;
      *) cp "$ko" "$stage/modules/$name" ;;
    esac
    echo "$name" >>"$stage/modules/order"
  done
  (cd "$stage" && find . | busybox cpio -o -H newc >"$initrd.tmp" 2>/dev/null) && mv "$initrd.tmp" "$initrd"
fi
echo "release=$release"
echo "vmlinuz=$vmlinuz"
echo "modules=$modules"
echo "initrd=$initrd"
echo "source=$source"
