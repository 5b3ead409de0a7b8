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

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import onnx, onnxruntime, numpy, sklearn" 2>/dev/null; then
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
