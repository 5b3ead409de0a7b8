#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-22, ASan + UBSan, build-asan/) and runs each for
# SECONDS (default 60) on its seed corpus:
#
#   scripts/fuzz.sh [SECONDS] [import|artifact|artifact-run|tensor ...]
#
# The targets run side by side, $DLC_FUZZ_JOBS (default: the core count) at a time.
#
#   import        ONNX bytes -> importer, graph passes, kernel formation (dlc IR)
#   artifact      .dlc bytes (checksum resealed) -> verification, and loading when the
#                 code section is a seed's
#   artifact-run  the same, and a loaded model with a seed's code runs on small inputs
#   tensor        .npy / .pb / .npz bytes -> the tensor file parsers
#
# Seeds: the node tests' models (import), artifacts compiled from e2e models and node
# tests (artifact), the node tests' input .pb files and .npy/.npz files (tensor). The
# corpora grow in build-asan/fuzz/<target>/; a crash, leak, hang (30 s), sanitizer
# report or more than 4 GiB of memory stops the target and leaves its input in
# build-asan/fuzz/<target>/artifacts/. Prints executions and coverage per target; exit
# status 1 when any target found something. docs/robustness.md has the measured runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(import artifact artifact-run tensor)

scripts/sanitize.sh build-only
build=build-asan
py=.venv/bin/python
work=$build/fuzz
mkdir -p "$work"
# Artifact seeds are compiled by the normal build's dlc ($DLC_BUILD_DIR, default build/).
$py test/fuzz/make_seeds.py --build-dir "${DLC_BUILD_DIR:-build}" --out "$work/seeds" > "$work/seeds.log"

fuzz_one() { # target
  local target=$1 bin seeds env=()
  case $target in
    import) bin=dlc-fuzz-import; seeds=$work/seeds/import ;;
    artifact) bin=dlc-fuzz-artifact; seeds=$work/seeds/artifact
              env=("DLC_FUZZ_SEEDS=$work/seeds/artifact") ;;
    artifact-run) bin=dlc-fuzz-artifact; seeds=$work/seeds/artifact
                  env=(DLC_FUZZ_RUN=1 "DLC_FUZZ_SEEDS=$work/seeds/artifact") ;;
    tensor) bin=dlc-fuzz-tensor; seeds=$work/seeds/tensor ;;
    *) echo "fuzz: unknown target '$target'" >&2; return 2 ;;
  esac
  local corpus=$work/$target log=$work/$target.log
  mkdir -p "$corpus/artifacts"
  echo "fuzz: $target for ${seconds} s ($log)"
  local result=0
  if ! env "${env[@]}" \
      ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:allow_user_poisoning=0 \
      UBSAN_OPTIONS=print_stacktrace=1 \
      "$build/bin/$bin" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=30 \
      -rss_limit_mb=4096 -malloc_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$corpus/artifacts/" > "$log" 2>&1; then
    echo "fuzz: $target FOUND A PROBLEM:"
    grep -E "ERROR|SUMMARY|==[0-9]+==|Test unit written" "$log" | head -20
    result=1
  fi
  local runs cov
  runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
  cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1 || echo "cov: ?")
  echo "fuzz: $target: $runs executions, $cov, corpus $(ls "$corpus" | wc -l) files"
  return $result
}

# The targets run side by side, as many at once as there are cores.
jobs=${DLC_FUZZ_JOBS:-$(nproc)}
status=0
pids=()
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n || status=1
  done
  fuzz_one "$target" &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit $status
