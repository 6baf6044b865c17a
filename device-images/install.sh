#!/usr/bin/env bash
# Installs a published edge-agent on this device as a systemd service.
# Usage: sudo device-images/install.sh artifacts/publish/linux-arm64   (or linux-x64)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
publish=${1:?usage: install.sh PUBLISH_DIR (e.g. artifacts/publish/linux-arm64)}
[ -x "$publish/edge-agent" ] || { echo "install.sh: $publish/edge-agent not found; run ./build.sh --target=Publish" >&2; exit 2; }

id edge-agent >/dev/null 2>&1 || useradd --system --home-dir /var/lib/edge-agent --shell /usr/sbin/nologin edge-agent
for group in gpio i2c spi; do   # the groups owning GPIO, I2C and SPI device nodes, where the system has them
    getent group "$group" >/dev/null && usermod -a -G "$group" edge-agent
done
install -d -m 0755 /usr/lib/edge-agent
install -m 0755 "$publish/edge-agent" /usr/lib/edge-agent/edge-agent
install -m 0644 "$publish"/libonnxruntime*.so /usr/lib/edge-agent/
install -d -m 0755 /etc/edge-agent
install -d -m 0755 /etc/edge-agent/trusted-keys   # the operators' public keys (edgefleet keys generate → *.pub.pem)
install -d -m 0755 /etc/edge-agent/agent.d        # drop-in settings after agent.json (edgefleet devices enroll --out)
[ -f /etc/edge-agent/agent.json ] || install -m 0640 -g edge-agent "$here/config/agent.json" /etc/edge-agent/agent.json
install -d -o edge-agent -g edge-agent -m 0750 /var/lib/edge-agent /var/lib/edge-agent/models /var/lib/edge-agent/data
install -m 0644 "$here/systemd/edge-agent.service" /etc/systemd/system/edge-agent.service
systemctl daemon-reload
systemctl enable --now edge-agent
systemctl --no-pager status edge-agent
