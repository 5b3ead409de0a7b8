#!/usr/bin/env bash
# On a lent GPU machine (no LLVM there): unpack the bundle made here by
# test/gpu/prepare_bundle.py, build the runtime alone with CMake, run the bundle and
# print the table. The device tool carries bundle.tar.gz:
#   run(command="bash test/gpu/run_on_device.sh", carry=["bundle.tar.gz"], timeout_s=...)
# Results (report.json, build log) go to $OUT when set. Exit 77: no usable GPU.
# DLC_PYTHON: a python3 with numpy and onnx (default python3; the lent machines have one).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tar=${1:-$root/bundle.tar.gz}
work=${DLC_GPU_WORK:-/tmp/dlc-gpu}
out=${OUT:-$work/out}
rm -rf "$work" && mkdir -p "$work" "$out"
tar xzf "$tar" -C "$work"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DDLC_RUNTIME_ONLY=ON -DDLC_BUILD_TESTS=OFF \
  -DDLC_FLATBUFFERS_INCLUDE_DIR="$work/bundle/include" \
  -DDLC_PREGENERATED_DIR="$work/bundle/gen" > "$out/build.log" 2>&1 ||
  { tail -20 "$out/build.log"; exit 1; }
cmake --build "$work/build" --target dlc-run -j "$(nproc)" >> "$out/build.log" 2>&1 ||
  { tail -20 "$out/build.log"; exit 1; }
echo "runtime built: $(ldd "$work/build/bin/dlc-run" | grep -c -i -E 'llvm|mlir') LLVM/MLIR libraries linked"
PYTHONUNBUFFERED=1 exec "${DLC_PYTHON:-python3}" "$root/test/gpu/run_bundle.py" --bundle "$work/bundle" \
  --dlc-run "$work/build/bin/dlc-run" --jobs "$(nproc)" --report "$out/report.json" ${DLC_GPU_ARGS:-}
