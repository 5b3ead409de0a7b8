#!/usr/bin/env bash
# The probe's TensorFlow half: exports the models of export_tf.py (Keras applications,
# Keras recurrent and attention text models, tf.functions with while loops, conds,
# TensorArrays, NMS and data-dependent shapes) through tf2onnx at opsets 13 and 17 and
# checks dlc against onnxruntime as run.sh does (check.py: JIT at batch 1, ahead of
# time with the symbolic dims at batch 2). Not in CI: it makes its own virtual
# environment ($DLC_TF_VENV, default build/tfvenv: tensorflow-cpu 2.15.1, tf2onnx 1.16.1,
# onnxruntime 1.22.1; about 600 MB) and takes about 15 minutes on 2 cores. Results in
# $DLC_PROBE_DIR (default build/probe-tf)/results.txt.
#   test/models/probe/run_tf.sh [NAME...]
set -uo pipefail
cd "$(dirname "$0")/../../.."
venv=${DLC_TF_VENV:-build/tfvenv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q tensorflow-cpu==2.15.1 tf2onnx==1.16.1 \
    onnxruntime==1.22.1 || { echo "probe: could not make $venv" >&2; exit 1; }
fi
py=.venv/bin/python
[ -x "$py" ] || { echo "probe: .venv missing (run scripts/setup.sh first)" >&2; exit 1; }
export DLC_PROBE_DIR=${DLC_PROBE_DIR:-build/probe-tf}
mkdir -p "$DLC_PROBE_DIR"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <("$venv/bin/python" -c "import sys; sys.argv=['x']; sys.path.insert(0, 'test/models/probe'); import export_tf; print('\n'.join(export_tf.MODELS))" 2>/dev/null)
fi
results="$DLC_PROBE_DIR/results.txt"
: > "$results"
for name in "${names[@]}"; do
  for opset in ${DLC_TF_OPSETS:-13 17}; do
    tag=${name}_tf$opset
    if ! timeout 600 "$venv/bin/python" test/models/probe/export_tf.py "$name" "$opset" > "$DLC_PROBE_DIR/$tag.export.log" 2>&1; then
      echo "RESULT $tag export FAILED :: $(grep -v '^WARNING' "$DLC_PROBE_DIR/$tag.export.log" | grep -m1 -i error | cut -c1-200)" | tee -a "$results"
      continue
    fi
    "$py" test/models/probe/check.py "$tag" | tee -a "$results"
    "$py" test/models/probe/check.py "$tag" aot | tee -a "$results"
  done
done
echo "probe: $(grep -c ' PASS ' "$results") passed of $(grep -c '^RESULT' "$results") runs ($results)"
