#!/usr/bin/env bash
# Installs dlc into a scratch prefix and builds examples/ against it with
# find_package(dlc), then runs the example on a model: the user's-own-project path.
set -euo pipefail
build=$1
examples=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" > /dev/null
cmake -S "$examples" -B "$scratch/build" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" > /dev/null
cmake --build "$scratch/build" > /dev/null
out=$("$scratch/build/run_model" "$(dirname "$0")/../api/Inputs/add_relu.onnxtxt" 3)
echo "$out"
grep -q '^y: \[3, 4\]' <<< "$out"
