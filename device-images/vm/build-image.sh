#!/usr/bin/env bash
# An emulated ARM64 device: Debian bookworm arm64 with systemd, Debian's arm64 kernel and the edge-agent .deb
# installed as a device owner would (enabled, started at boot), on a raw ext4 disk, with the kernel and initrd
# beside it for qemu-system-aarch64 -M virt (device-images/vm/boot.sh).
#
#   device-images/vm/build-image.sh EDGE_AGENT_ARM64_DEB OUT_DIR [MIRROR]
#
# Writes OUT_DIR/root.img (2 GiB, sparse), OUT_DIR/vmlinuz and OUT_DIR/initrd.img. Needs root, mmdebstrap,
# qemu-user-static (the arm64 maintainer scripts run under it: its binfmt_misc entry is registered here when
# missing) and e2fsprogs (mke2fs -d: no loop mount). The serial console logs root in, for tests to drive.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
deb=$(readlink -f "$1")
mkdir -p "$2"
out=$(cd "$2" && pwd)
mirror=${3:-http://deb.debian.org/debian}
[ -f "$deb" ] || { echo "build-image.sh: no package at $1 (./build.sh --target=Deb makes it)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-image.sh: needs root (mmdebstrap --mode=root)" >&2; exit 2; }

# arm64 programs in the new root run through qemu-aarch64-static, found by the kernel's binfmt_misc.
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    echo ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
        > /proc/sys/fs/binfmt_misc/register
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$deb" "$work/edge-agent.deb"

started=$(date +%s)
# The initrd holds only what mounting the virtio disk needs: listing the modules instead of initramfs-tools'
# default (most of them) saves many minutes of mkinitramfs under emulation.
mmdebstrap --arch=arm64 --variant=minbase --mode=root --quiet \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
    --essential-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/edge-vm"' \
    --essential-hook='printf "virtio_pci\nvirtio_mmio\nvirtio_blk\next4\n" > "$1/usr/share/initramfs-tools/modules.d/edge-vm"' \
    --include=systemd,systemd-sysv,udev,kmod,dbus,iproute2,linux-image-arm64 \
    --customize-hook="copy-in $work/edge-agent.deb /tmp" \
    --customize-hook='chroot "$1" apt-get install -y -qq /tmp/edge-agent.deb >/dev/null && rm "$1/tmp/edge-agent.deb"' \
    --customize-hook='echo edge-vm > "$1/etc/hostname"' \
    --customize-hook='echo "/dev/vda / ext4 defaults 0 1" > "$1/etc/fstab"' \
    --customize-hook='printf "[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n" > "$1/etc/systemd/network/10-wired.network"' \
    --customize-hook='chroot "$1" systemctl enable systemd-networkd >/dev/null 2>&1' \
    --customize-hook='chroot "$1" passwd -d root >/dev/null' \
    --customize-hook='mkdir -p "$1/etc/systemd/system/serial-getty@ttyAMA0.service.d"' \
    --customize-hook='printf "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200 %%I vt220\n" > "$1/etc/systemd/system/serial-getty@ttyAMA0.service.d/autologin.conf"' \
    --customize-hook='sed -i "s|\"Urls\": \"http://127.0.0.1:8000\"|\"Urls\": \"http://0.0.0.0:8000\"|" "$1/etc/edge-agent/agent.json"' \
    bookworm "$work/root" "$mirror"

cp "$work"/root/boot/vmlinuz-* "$out/vmlinuz"
cp "$work"/root/boot/initrd.img-* "$out/initrd.img"
rm -f "$out/root.img"
mke2fs -q -t ext4 -L root -d "$work/root" "$out/root.img" 2G
echo "build-image.sh: $out/root.img ($(du -h --apparent-size "$out/root.img" | cut -f1), $(du -h "$out/root.img" | cut -f1) used) in $(( $(date +%s) - started )) s"
