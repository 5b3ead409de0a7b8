#!/usr/bin/env bash
# One call on a lent GPU machine: everything the bundle holds, in an order that keeps
# the timings clean. Made here by test/gpu/prepare_bundle.py and prepare_bench.py; then
#   run(command="bash test/gpu/device_session.sh", carry=["bundle.tar.gz"], timeout_s=...)
#  1. torch.compile of the benchmark architectures in parallel processes (CPU work;
#     Inductor caches what the timing phase then reuses), while
#  2. the runtime builds (CMake, no LLVM) and the node tests run (correctness only);
#  3. then, alone on the machine: e2e models, trainings, bandwidth and compute tables
#     (run_bundle.py) and dlc against PyTorch eager and torch.compile (torch_bench.py).
# JSON reports and logs.tgz go to $OUT. DLC_NODE_DEADLINE: seconds for the node tests
# (150); DLC_REPEAT: runs per timing (30); DLC_BENCH_TIMEOUT: seconds for torch_bench (300).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/dlc-gpu
final=${OUT:-$work/final}
out=$work/logs  # $OUT takes 8 files at most: logs.tgz and the reports at the end
py=${DLC_PYTHON:-python3}
rm -rf "$work" && mkdir -p "$work" "$out" "$final"
finish() {
  cp "$out"/*.json "$final"/ 2> /dev/null
  tar czf "$final/logs.tgz" -C "$out" .
}
trap finish EXIT
tar xzf "$root/bundle.tar.gz" -C "$work"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu \
  --format=csv,noheader
export PYTHONUNBUFFERED=1
archs=$("$py" -c "import json; print(' '.join(m['arch'] for m in json.load(open('$work/bundle/bench.json'))['models']))")
for a in $archs; do
  timeout 300 "$py" "$root/test/gpu/torch_bench.py" --bundle "$work/bundle" --phase compile --arch "$a" \
    > "$out/compile-$a.log" 2>&1 &
done
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
t0=$(date +%s)
cmake -S "$root" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DDLC_RUNTIME_ONLY=ON -DDLC_BUILD_TESTS=OFF \
  -DDLC_FLATBUFFERS_INCLUDE_DIR="$work/bundle/include" \
  -DDLC_PREGENERATED_DIR="$work/bundle/gen" > "$out/build.log" 2>&1 &&
  cmake --build "$work/build" --target dlc-run -j 8 >> "$out/build.log" 2>&1 ||
  { tail -20 "$out/build.log"; exit 1; }
dlc_run=$work/build/bin/dlc-run
echo "runtime built in $(($(date +%s) - t0)) s"
timeout 240 "$py" "$root/test/gpu/run_bundle.py" --bundle "$work/bundle" --dlc-run "$dlc_run" --jobs 8 \
  --only node --deadline "${DLC_NODE_DEADLINE:-150}" --report "$out/node.json" \
  > "$out/node.log" 2>&1
tail -8 "$out/node.log" | grep -v '^$'
finish
wait
grep -h "compile" "$out"/compile-*.log | grep -v "^compiled" | head -5
echo "torch.compile warm-up done at $(($(date +%s) - t0)) s"
timeout 200 "$py" "$root/test/gpu/run_bundle.py" --bundle "$work/bundle" --dlc-run "$dlc_run" --jobs 8 \
  --only e2e,train,bandwidth,compute --repeat "${DLC_REPEAT:-30}" --report "$out/bundle.json" > "$out/bundle.log" 2>&1
finish
sed -n '/^model /,$p' "$out/bundle.log" | grep -v '^\s*$' | grep -v "^  node\|^node" | head -70
timeout "${DLC_BENCH_TIMEOUT:-300}" "$py" "$root/test/gpu/torch_bench.py" --bundle "$work/bundle" \
  --dlc-run "$dlc_run" --repeat "${DLC_REPEAT:-30}" --report "$final/torch_bench.json" > "$out/torch_bench.log" 2>&1
sed -n '/^NVIDIA\|^gemm 4096/,$p' "$out/torch_bench.log" | grep -v '^\s*$'
tail -3 "$out/torch_bench.log"
finish
echo "done at $(($(date +%s) - t0)) s"
