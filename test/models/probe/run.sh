#!/usr/bin/env bash
# A probe beyond the corpus: exports 59 architectures users bring (torchvision
# classifiers, segmenters and detectors, transformers encoders/decoders with tiny configs,
# small recurrent, data-dependent and scripted control-flow modules) through
# both torch.onnx exporters and checks dlc against onnxruntime: JIT at batch 1, ahead of
# time (symbolic dims) at batch 2. Not in CI (it needs .venv-corpus, made by
# scripts/corpus.sh, and about 30 minutes on 2 cores); results in $DLC_PROBE_DIR
# (default build/probe)/results.txt, one RESULT line per run.
#   test/models/probe/run.sh [NAME...]
set -uo pipefail
cd "$(dirname "$0")/../../.."
py=.venv-corpus/bin/python
[ -x "$py" ] || { echo "probe: .venv-corpus missing (run scripts/corpus.sh first)" >&2; exit 1; }
export DLC_PROBE_DIR=${DLC_PROBE_DIR:-build/probe}
mkdir -p "$DLC_PROBE_DIR"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <("$py" -c "import sys; sys.argv=['x']; sys.path.insert(0, 'test/models/probe'); import export; print('\n'.join(export.MODELS))")
fi
results="$DLC_PROBE_DIR/results.txt"
: > "$results"
for name in "${names[@]}"; do
  for exp in ts dynamo; do
    tag=${name}_$exp
    if ! timeout 300 "$py" test/models/probe/export.py "$name" "$exp" > "$DLC_PROBE_DIR/$tag.export.log" 2>&1; then
      echo "RESULT $tag export FAILED :: $(grep -m1 -i error "$DLC_PROBE_DIR/$tag.export.log" | cut -c1-200)" | tee -a "$results"
      continue
    fi
    "$py" test/models/probe/check.py "$tag" | tee -a "$results"
    "$py" test/models/probe/check.py "$tag" aot | tee -a "$results"
  done
done
echo "probe: $(grep -c ' PASS ' "$results") passed of $(grep -c '^RESULT' "$results") runs ($results)"
