#!/usr/bin/env bash
# The probe's models on the CUDA path, without a GPU: for each exported TAG (NAME_EXP,
# made by test/models/probe/run.sh or export.py), `dlc compile --target cuda --remarks`
# in fp32 and fp16 (the kernel count and the kernels the remarks name as running on one
# GPU thread), then the JIT run under GPU emulation with strict blocks against
# onnxruntime (check.py with DLC_EMULATE_GPU=1 DLC_STRICT_GPU_BLOCKS=1). One CENSUS line
# per precision and one EMULATED line per model. Not in CI (needs the probe's exports).
#   test/models/probe/gpu_census.sh resnext50_32x4d_ts swin_t_ts ...
#   test/models/probe/gpu_census.sh            # every export in $DLC_PROBE_DIR/m
set -uo pipefail
cd "$(dirname "$0")/../../.."
export DLC_PROBE_DIR=${DLC_PROBE_DIR:-build/probe}
tags=("$@")
if [ ${#tags[@]} -eq 0 ]; then
  mapfile -t tags < <(ls "$DLC_PROBE_DIR"/m/*.onnx 2>/dev/null | xargs -n1 basename | sed 's/\.onnx$//')
fi
[ ${#tags[@]} -gt 0 ] || { echo "gpu_census: no exports in $DLC_PROBE_DIR/m" >&2; exit 1; }
art=$(mktemp -d)
trap 'rm -rf "$art"' EXIT
for tag in "${tags[@]}"; do
  model="$DLC_PROBE_DIR/m/$tag.onnx"
  [ -f "$model" ] || { echo "CENSUS $tag: no export"; continue; }
  for p in fp32 fp16; do
    log=$(timeout 600 build/bin/dlc compile "$model" --target cuda --precision "$p" --remarks \
      -o "$art/$tag.dlc" 2>&1)
    kernels=$(grep -o '[0-9]* kernels' <<<"$log" | tail -1)
    serial=$(grep "one thread" <<<"$log" | sed "s/.*(\([A-Za-z]*\)): kernel '.*/\1/" | sort |
      uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')
    err=$(grep -m1 "error" <<<"$log")
    echo "CENSUS $tag $p: ${kernels:-no artifact}; one-thread: ${serial:-none}${err:+; $err}"
  done
  DLC_EMULATE_GPU=1 DLC_STRICT_GPU_BLOCKS=1 .venv/bin/python test/models/probe/check.py "$tag" |
    sed 's/^RESULT/EMULATED/'
done
