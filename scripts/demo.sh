#!/usr/bin/env bash
# The main job on the bundled example: set up, compile examples/mlp.onnx (symbolic
# batch) to an artifact, inspect it, run it with dlc-run and JIT with dlc run, and print
# outputs and timings.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
out=build/demo
mkdir -p "$out"
echo
echo "== dlc compile examples/mlp.onnx"
build/bin/dlc compile examples/mlp.onnx -o "$out/mlp.dlc"
echo
echo "== dlc inspect"
build/bin/dlc inspect "$out/mlp.dlc"
echo
echo "== dlc-run (ahead of time), batch of 4"
build/bin/dlc-run "$out/mlp.dlc" examples/mlp_input.npy --output-dir "$out"
.venv/bin/python -c "import numpy as np; print('probabilities (row 0):', np.round(np.load('$out/output_0.npy')[0], 4))"
echo
echo "== dlc run (JIT)"
build/bin/dlc run examples/mlp.onnx examples/mlp_input.npy --output-dir "$out"
