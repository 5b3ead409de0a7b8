#!/usr/bin/env bash
# The main job on the bundled example: set up, compile examples/mlp.onnx (symbolic
# batch) to an artifact, inspect it, run it with dlc-run and JIT with dlc run, and print
# outputs and timings; then train a small CNN with dlc train and check it with
# onnxruntime.
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
echo
echo "== dlc train: a CNN on scikit-learn's digits (80/20 split), then onnxruntime on it"
.venv/bin/python test/train/make_digits.py "$out/digits"
build/bin/dlc train "$out/digits/cnn.onnx" --data "$out/digits/train_img.npz" \
  --eval "$out/digits/eval_img.npz" --loss cross_entropy --optimizer adam --lr 0.01 \
  --epochs 5 -o "$out/digits/cnn_trained.onnx"
.venv/bin/python -c "
import numpy as np, onnxruntime as ort
e = np.load('$out/digits/eval_img.npz')
y = ort.InferenceSession('$out/digits/cnn_trained.onnx').run(None, {'x': e['x']})[0]
print(f'onnxruntime on the trained model: {100 * np.mean(y.argmax(1) == e[\"label\"]):.2f}% held-out accuracy')"
