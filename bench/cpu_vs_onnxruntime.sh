#!/usr/bin/env bash
# The CPU benchmark suite of issue 16 (docs/perf.md): the micro-kernel against this
# machine's FMA peak, the e2e models and the real-model corpus against onnxruntime at
# batch 1 and batch 8, same thread count, warm medians, ratios and geometric means.
#   bench/cpu_vs_onnxruntime.sh [BUILD_DIR] [THREADS]
# Needs the venv (scripts/setup.sh) and the corpus (test/models/build_corpus.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
threads=${2:-2}
py=${DLC_PYTHON:-$root/.venv/bin/python}
"$build/bin/dlc-ukernel-bench" --threads "$threads"
echo
"$py" "$root/bench/e2e_vs_onnxruntime.py" --build-dir "$build" --threads "$threads"
for batch in 1 8; do
  echo
  "$py" "$root/test/models/bench_corpus.py" --build-dir "$build" --threads "$threads" \
    --repeat 10 --batch "$batch" 2> /dev/null
done
