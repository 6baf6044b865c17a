#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers: SharpFuzz instruments the assemblies, afl++ drives each target for a fixed
# time; the inputs it found join corpus/, and every crash or hang is copied into regressions/ (FuzzRegressionTests
# replays both in every test run).
#   tests/EdgeInference.Fuzz/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET ...]
# Needs Debian's afl++ (apt-get install afl++) and the sharpfuzz tool (restored from .config/dotnet-tools.json).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
root="$(cd ../.. && pwd)"
out="$root/artifacts/fuzz/bin"
findings="$root/artifacts/fuzz/findings"
command -v afl-fuzz >/dev/null || { echo "fuzz.sh: afl-fuzz is missing (apt-get install afl++)" >&2; exit 2; }
(cd "$root" && dotnet tool restore >/dev/null)
dotnet build -c Release --nologo -v quiet EdgeInference.Fuzz.csproj >/dev/null
rm -rf "$out" && mkdir -p "$(dirname "$out")" && cp -r bin/Release/net10.0 "$out"  # instrumented here, never in bin/
for assembly in edge-agent EdgeInference.Runtime EdgeInference.Packaging edge-fleet; do
    (cd "$root" && dotnet sharpfuzz "$out/$assembly.dll" >/dev/null)
done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(v2-json tf-serving grpc-wire manifest trust model-config golden npy device-status device-telemetry rollout-parser)
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
printf '| target | seconds | executions | executions/s | paths | crashes | hangs |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for target in "${targets[@]}"; do
    rm -rf "$findings/$target" && mkdir -p "$findings"
    afl-fuzz -V "$seconds" -t 10000 -m none -i "corpus/$target" -o "$findings/$target" -- dotnet "$out/EdgeInference.Fuzz.dll" "$target" >"$findings/$target.log" 2>&1 || true
    stats="$findings/$target/default/fuzzer_stats"
    value() { grep -E "^$1 +:" "$stats" | awk -F: '{gsub(/ /, "", $2); print $2}'; }
    # Keep what afl++ learned: its queue's smallest 40 inputs join the corpus (named by content, so reruns add only news).
    for file in $(ls -S -r "$findings/$target/default/queue"/id:* 2>/dev/null | head -40); do
        cp "$file" "corpus/$target/queue-$(sha256sum "$file" | cut -c1-16)"
    done
    mkdir -p "regressions/$target"
    for kind in crashes hangs; do
        for file in "$findings/$target/default/$kind"/id:*; do
            [ -e "$file" ] || continue
            cp "$file" "regressions/$target/$kind-$(sha256sum "$file" | cut -c1-16)"
        done
    done
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$target" "$seconds" "$(value execs_done)" "$(value execs_per_sec)" "$(value corpus_count)" "$(value saved_crashes)" "$(value saved_hangs)"
done
