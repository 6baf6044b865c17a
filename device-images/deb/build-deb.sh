#!/usr/bin/env bash
# Builds edge-agent_<version>_<arch>.deb from a published Native AOT agent.
# Usage: device-images/deb/build-deb.sh PUBLISH_DIR OUT_DIR [VERSION]
#   PUBLISH_DIR: artifacts/publish/linux-x64 (→ amd64) or artifacts/publish/linux-arm64 (→ arm64)
#   VERSION:     the Debian version (default: <Version> of Directory.Build.props, revision 1)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
images=$(dirname "$here")
repo=$(dirname "$images")
publish=${1:?usage: build-deb.sh PUBLISH_DIR OUT_DIR [VERSION]}
out=${2:?usage: build-deb.sh PUBLISH_DIR OUT_DIR [VERSION]}
version=${3:-$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -1)-1}
[ -x "$publish/edge-agent" ] && [ -f "$publish/libonnxruntime.so" ] \
    || { echo "build-deb.sh: $publish has no edge-agent and libonnxruntime.so; run ./build.sh --target=Publish" >&2; exit 2; }
case "$(file -b "$publish/edge-agent")" in
    *x86-64*) arch=amd64 ;;
    *aarch64*) arch=arm64 ;;
    *) echo "build-deb.sh: $publish/edge-agent is neither x86-64 nor aarch64" >&2; exit 2 ;;
esac
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { echo "build-deb.sh: '$version' is not a Debian version" >&2; exit 2; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -d -m 0755 "$root/DEBIAN" "$root/usr/lib/edge-agent" "$root/usr/bin" "$root/lib/systemd/system" \
    "$root/etc/edge-agent/trusted-keys" "$root/etc/edge-agent/agent.d" "$root/usr/share/doc/edge-agent" "$root/usr/share/man/man1" "$root/usr/share/lintian/overrides"
install -m 0755 "$publish/edge-agent" "$root/usr/lib/edge-agent/edge-agent"
install -m 0644 "$publish"/libonnxruntime*.so "$root/usr/lib/edge-agent/"
ln -s ../lib/edge-agent/edge-agent "$root/usr/bin/edge-agent"
install -m 0644 "$images/systemd/edge-agent.service" "$root/lib/systemd/system/edge-agent.service"
install -m 0644 "$images/config/agent.json" "$root/etc/edge-agent/agent.json"
# An empty directory dpkg would not keep otherwise: the operators' public keys (edgefleet keys generate → *.pub.pem).
install -m 0644 /dev/null "$root/etc/edge-agent/trusted-keys/.keep"
# Likewise the drop-in settings read after agent.json, e.g. a fleet's enrollment (edgefleet devices enroll --out).
install -m 0644 /dev/null "$root/etc/edge-agent/agent.d/.keep"
install -m 0644 "$here/copyright" "$root/usr/share/doc/edge-agent/copyright"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/edge-agent"
gzip -9n < "$here/edge-agent.1" > "$root/usr/share/man/man1/edge-agent.1.gz"
chmod 0644 "$root/usr/share/man/man1/edge-agent.1.gz"
sed "s/@VERSION@/$version/; s/@DATE@/$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}")/" "$here/changelog" \
    | gzip -9n > "$root/usr/share/doc/edge-agent/changelog.Debian.gz"
chmod 0644 "$root/usr/share/doc/edge-agent/changelog.Debian.gz"
for script in postinst prerm postrm; do
    install -m 0755 "$here/$script" "$root/DEBIAN/$script"
done
echo /etc/edge-agent/agent.json > "$root/DEBIAN/conffiles"
echo /etc/edge-agent/trusted-keys/.keep >> "$root/DEBIAN/conffiles"
echo /etc/edge-agent/agent.d/.keep >> "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/; s/@SIZE@/$size/" "$here/control" > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/edge-agent_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
