#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine for dlc and builds it: installs the apt
# packages (LLVM/MLIR/LLD 22, ONNX, FlatBuffers, xxHash, GoogleTest, Ninja, ccache, and
# clang-22 with its sanitizer runtimes for scripts/sanitize.sh and fuzz.sh), creates the
# Python venv from requirements.txt, configures and builds into build/.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build ccache g++ python3 python3-venv
          llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools liblld-22-dev
          libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
          libflatbuffers-dev flatbuffers-compiler libxxhash-dev libgtest-dev libbenchmark-dev
          clang-22 libclang-rt-22-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" > /dev/null
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import onnx, onnxruntime, numpy, sklearn, nvidia.cuda_nvcc" 2>/dev/null; then
  echo "setup: creating the Python venv (.venv) from requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
fi

# ccache keys on relative paths, so clones in other folders (CI) share the cache.
export CCACHE_BASEDIR="$PWD"
echo "setup: building (build/)"
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
fi
cmake --build build

# The node tests of the newest onnx release, generated: its wheel no longer ships them.
# They need that onnx, so it gets its own venv (.venv-node-tests) beside the pinned one;
# check_ml_ops.py (ctest ml-ops-random) runs its reference implementation too.
node_onnx=$(sed -n 's/^onnx==//p' test/conformance/requirements-node-tests.txt)
node_tests=build/node-tests/onnx-$node_onnx
if ! .venv-node-tests/bin/python -c "import onnx; assert onnx.__version__ == '$node_onnx'" 2>/dev/null; then
  echo "setup: creating .venv-node-tests (onnx $node_onnx) for the node-test generator"
  python3 -m venv .venv-node-tests
  .venv-node-tests/bin/pip install -q --disable-pip-version-check \
    -r test/conformance/requirements-node-tests.txt
fi
if [ "$(cat "$node_tests/VERSION" 2>/dev/null)" != "$node_onnx" ]; then
  .venv-node-tests/bin/python -W ignore test/conformance/generate_node_tests.py "$node_tests"
fi
