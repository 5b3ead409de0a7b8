#!/usr/bin/env bash
# Benchmarks the e2e models (MLP, CNN, transformer encoder block) on one target:
# fused vs --no-fusion warm run time (median of --repeat runs of dlc-run, after one
# cold run) and the per-kernel profile of the fused artifact (time, bytes, bandwidth
# against the measured copy ceiling).
#   bench/run_bench.sh [BUILD_DIR] [TARGET cpu|cuda] [BATCH]
# Writes its artifacts and inputs under BUILD_DIR/bench. On a lent GPU machine run the
# CUDA half from artifacts compiled here (test/gpu/prepare_bundle.py carries them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
target=${2:-cpu}
batch=${3:-64}
repeat=${DLC_BENCH_REPEAT:-50}
py=${DLC_PYTHON:-$root/.venv/bin/python}
work=$build/bench
mkdir -p "$work"
"$py" "$root/test/e2e/make_models.py" "$work" > /dev/null
"$py" - "$work" "$batch" <<'PY'
import sys, numpy as np, onnx
work, batch = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
for name in ("mlp", "cnn", "encoder"):
    m = onnx.load(f"{work}/{name}.onnx")
    dims = [d.dim_value if d.dim_value else batch
            for d in m.graph.input[0].type.tensor_type.shape.dim]
    np.save(f"{work}/{name}.bench.npy", rng.standard_normal(dims).astype(np.float32))
PY
echo "target $target, batch $batch, median of $repeat warm runs"
printf "%-9s %9s %11s %8s %5s %8s\n" model kernels fused_ms unfused "(k)" speedup
for m in mlp cnn encoder; do
  "$build/bin/dlc" compile "$work/$m.onnx" --target "$target" -o "$work/$m.fused.dlc" > "$work/$m.fused.txt"
  "$build/bin/dlc" compile "$work/$m.onnx" --target "$target" --no-fusion -o "$work/$m.unfused.dlc" > "$work/$m.unfused.txt"
  fused=$("$build/bin/dlc-run" "$work/$m.fused.dlc" "$work/$m.bench.npy" --repeat "$repeat" | sed -n 's/^warm median: time: \([0-9.]*\) ms/\1/p')
  unfused=$("$build/bin/dlc-run" "$work/$m.unfused.dlc" "$work/$m.bench.npy" --repeat "$repeat" | sed -n 's/^warm median: time: \([0-9.]*\) ms/\1/p')
  kf=$(grep -o '[0-9]* kernels\?,' "$work/$m.fused.txt" | grep -o '[0-9]*')
  ku=$(grep -o '[0-9]* kernels\?,' "$work/$m.unfused.txt" | grep -o '[0-9]*')
  printf '%-9s %9s %11s %8s %5s %8s\n' "$m" "$kf" "$fused" "$unfused" "($ku)" \
    "$(awk -v f="$fused" -v u="$unfused" 'BEGIN { printf "%.2fx", u / f }')"
done
echo
for m in mlp cnn encoder; do
  echo "== $m (fused) per-kernel profile"
  "$build/bin/dlc-run" "$work/$m.fused.dlc" "$work/$m.bench.npy" --profile --repeat 21 |
    sed -n '/^profile:/,$p'
done
