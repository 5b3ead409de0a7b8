#!/usr/bin/env bash
# Per corpus model and precision: the CUDA kernels, those that run on one thread (no
# block or grid: `--remarks` says why), those whose PTX touches local (per-thread)
# memory, the shared memory all kernels declare (bytes of `__wg_*` buffers), and of the
# kernels with barriers (bar.sync), those whose contraction steps are copied ahead of
# their products (dlc.copy_stages, dlc-gpu-async-copies) and those using cp.async, and
# the kernels on wgmma (sm_90a's warpgroup tiles) with and without cp.async, the
# cp.async lines (those with a src-size: zero-filling guarded copies) and scalar
# (not vector) ld.global lines, and the
# bytes the artifact's launches read and write per run (the weights included; symbolic
# dims 1: `dlc compile`'s summary; DLC_HALF_ACTIVATIONS=0 compares f32 activations).
# Without a GPU, what the kernel-code passes leave in shared and local memory is
# checked here (docs/cuda.md). Run it on two builds to compare them:
#   test/gpu/ptx_census.sh [BUILD_DIR] [CORPUS_DIR] [ARCH]
# (defaults build, build/corpus, sm_80). Models that need --input-shape print "no PTX".
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
corpus=${2:-build/corpus}
arch=${3:-sm_80}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for m in "$corpus"/*.onnx; do
  n=$(basename "$m" .onnx)
  for p in fp32 fp16; do
    if ! "$build/bin/dlc" compile "$m" --target cuda --precision "$p" --cuda-arch "$arch" --emit ptx -o "$work/k.ptx" \
        --print-ir-after=dlc-gpu-async-copies --remarks > "$work/log" 2> "$work/ir"; then
      echo "PTX $n $p: no PTX ($(tail -n1 "$work/ir" | cut -c1-120))"
      continue
    fi
    serial=$(grep -c "runs on one thread\|runs as 1 thread\|runs as one block of 1 thread" "$work/ir")
    local=$(awk '/^.visible .entry/{name=$3} /ld.local|st.local/{print name}' "$work/k.ptx" | sort -u | wc -l)
    kernels=$(grep -c '^.visible .entry' "$work/k.ptx")
    shared=$(grep -o '__wg_[A-Za-z0-9_]*\[[0-9]*\]' "$work/k.ptx" | sed 's/.*\[\([0-9]*\)\]/\1/' |
      awk '{s += $1} END {print s + 0}')
    stepped=$(awk '/^.visible .entry/{name=$3} /bar.sync/{print name}' "$work/k.ptx" | sort -u | wc -l)
    async=$(awk '/^.visible .entry/{name=$3} /cp.async.c[ag]/{print name}' "$work/k.ptx" | sort -u | wc -l)
    copies=$(grep -cE 'cp\.async\.c[ag]' "$work/k.ptx")
    zfill=$(grep -cE 'cp\.async\.c[ag].*, [0-9]+, %r' "$work/k.ptx")
    scalar=$(grep -cE 'ld\.global(\.nc)?\.(b|f|u|s)[0-9]+ ' "$work/k.ptx")
    ahead=$(grep -E '^ *gpu.func .*dlc.copy_stages' "$work/ir" | wc -l)
    wgmma=$(awk '/^.visible .entry/{name=$3} /wgmma.mma_async/{print name}' "$work/k.ptx" | sort -u)
    wgmmaAsync=$(awk '/^.visible .entry/{name=$3} /cp.async.c[ag]/{print name}' "$work/k.ptx" |
      sort -u | comm -12 - <(echo "$wgmma") | grep -c . || true)
    moved=$("$build/bin/dlc" compile "$m" --target cuda --precision "$p" --cuda-arch "$arch" \
        -o "$work/a.dlc" 2>/dev/null | sed -n 's/.* \([0-9]*\) bytes moved per run.*/\1/p')
    echo "PTX $n $p: $kernels kernels ($serial on one thread), ${moved:-?} bytes moved, $local with local memory, $shared bytes of shared memory," \
      "$ahead of $stepped with barriers copy ahead of their products, $async with cp.async" \
      "($copies cp.async lines, $zfill zero-filling: a src-size operand), $scalar scalar ld.global lines," \
      "$(echo "$wgmma" | grep -c . || true) on wgmma ($wgmmaAsync with cp.async)"
  done
done
