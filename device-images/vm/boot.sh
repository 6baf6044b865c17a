#!/usr/bin/env bash
# Boots the emulated ARM64 device (device-images/vm/build-image.sh) with qemu-system-aarch64 -M virt: TCG (no KVM
# here), 2 CPUs, 1.5 GiB, the disk on virtio-blk, user-mode networking with the agent's port 8000 forwarded to
# 127.0.0.1:HOST_PORT. The guest reaches the host as 10.0.2.2. The serial console (root, logged in) is this
# script's stdin and stdout; the QEMU monitor listens on IMAGE_DIR/monitor.sock (e.g. "quit" is a power cut).
#
#   device-images/vm/boot.sh IMAGE_DIR [HOST_PORT]
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,7p' "$0" >&2; exit 2; }
dir=$(cd "$1" && pwd)
port=${2:-18000}
exec qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1536 \
    -display none -serial stdio -monitor "unix:$dir/monitor.sock,server,nowait" -no-reboot \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
    -append "console=ttyAMA0 root=/dev/vda rw panic=-1 quiet" \
    -drive "file=$dir/root.img,if=virtio,format=raw,cache=unsafe" \
    -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:8000" -device virtio-net-pci,netdev=net0
