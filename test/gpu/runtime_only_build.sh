#!/usr/bin/env bash
# Builds the runtime alone the way a lent GPU machine does (-DDLC_RUNTIME_ONLY=ON, no
# LLVM; FlatBuffers headers and the generated artifact header given as folders), then
# checks that dlc-run links no LLVM/MLIR and, on a machine without a GPU, refuses CUDA
# with one line and exit 1. Usage: runtime_only_build.sh MAIN_BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
main_build=$(cd "$1" && pwd)
work=$main_build/runtime-only
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$work" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DDLC_RUNTIME_ONLY=ON -DDLC_BUILD_TESTS=OFF -DDLC_FLATBUFFERS_INCLUDE_DIR=/usr/include \
  -DDLC_PREGENERATED_DIR="$main_build/runtime" > "$work.log" 2>&1 || { cat "$work.log"; exit 1; }
cmake --build "$work" --target dlc-run >> "$work.log" 2>&1 || { tail -30 "$work.log"; exit 1; }
if ldd "$work/bin/dlc-run" | grep -i -E 'llvm|mlir|onnx|protobuf'; then
  echo "FAIL: the runtime-only dlc-run links the libraries above"
  exit 1
fi
echo "dlc-run (runtime only) links: $(ldd "$work/bin/dlc-run" | awk '{print $1}' | tr '\n' ' ')"
set +e
msg=$("$work/bin/dlc-run" --cuda-check 2>&1)
code=$?
set -e
echo "dlc-run --cuda-check: exit $code: $msg"
if [[ $code -eq 0 ]]; then
  exit 0 # A GPU machine.
fi
if [[ $code -ne 1 || $(printf '%s\n' "$msg" | wc -l) -ne 1 ||
      ! $msg =~ (no CUDA driver|no CUDA device|built without CUDA) ]]; then
  echo "FAIL: expected one line about the missing driver or device and exit 1"
  exit 1
fi
echo "1 passed, 0 failed"
