#!/usr/bin/env bash
# Sanitizer builds and the suites they run (docs/robustness.md has the times):
#
#   scripts/sanitize.sh asan        ASan + UBSan build of the compiler, runtime, tests and
#                                   fuzz targets (clang-22, build-asan/); runs the unit
#                                   tests, lit, the malformed-input corpus, the edge cases,
#                                   the runtime control flow, sm_90a's implicit-GEMM Convs
#                                   under the SIMT emulation and a sample of the ONNX
#                                   node tests
#   scripts/sanitize.sh tsan        TSan build of the runtime and its tests
#                                   (build-tsan/); runs the runtime tests, the 8-thread
#                                   run test among them
#   scripts/sanitize.sh build-only  the ASan + UBSan build alone (scripts/fuzz.sh)
#
# Any sanitizer report aborts the process that hit it, which fails its suite; the
# script exits 1 when a suite fails. It needs the normal build (build/) for the
# Python suites' references and the venv (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-asan}
export CCACHE_BASEDIR="$PWD"
py=.venv/bin/python
for tool in clang-22 clang++-22; do
  command -v $tool > /dev/null || { echo "sanitize: $tool not found (apt install clang-22 libclang-rt-22-dev)" >&2; exit 1; }
done

# Abort on the first report: a report is a failure, never a warning.
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its slabs when compiled with
# ASan; libLLVM and liblld are not, and the two copies of its inline code mix in libdlc.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1:allow_user_poisoning=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

configure() { # folder, extra cmake args...
  local dir=$1
  shift
  [ -f "$dir/build.ninja" ] || cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 "$@" > "$dir.config.log"
}

failed=0
suite() { # name, command...
  local name=$1
  shift
  local start=$SECONDS
  if "$@" > "build-asan/$name.log" 2>&1; then
    echo "sanitize: $name passed ($((SECONDS - start)) s)"
  else
    echo "sanitize: $name FAILED ($((SECONDS - start)) s): build-asan/$name.log"
    grep -E "ERROR: |runtime error:|SUMMARY:" "build-asan/$name.log" | head -5 || true
    failed=1
  fi
}

case $mode in
  build-only|asan)
    configure build-asan -DDLC_SANITIZE=address,undefined -DDLC_FUZZ=ON
    start=$SECONDS
    ninja -C build-asan
    echo "sanitize: build-asan built ($((SECONDS - start)) s)"
    [ "$mode" = build-only ] && exit 0
    suite runtime-tests build-asan/bin/dlc-runtime-tests
    suite api-tests build-asan/bin/dlc-api-tests
    suite lit /usr/lib/llvm-22/bin/lit -sv build-asan/test/lit
    suite error-corpus env DLC_PYTHON=$py test/errors/run.sh "$PWD/build-asan"
    suite edge-cases $py test/conformance/edge_cases.py --build-dir build-asan
    suite control-flow $py test/control/check_control_flow.py --build-dir build-asan
    # sm_90a's warpgroup tiles under the SIMT emulation (the compiler's shared-window
    # addresses, the emulator's wgmma), exactly.
    suite simt-sm90a env DLC_EMULATE_GPU=simt $py test/gpu/check_implicit_gemm.py \
      --build-dir build-asan --cuda-arch sm_90a
    # A sample of the node tests: every op family, about one test in six.
    suite node-tests $py test/conformance/run_node_tests.py --build-dir build-asan \
      --suite all --jobs 2 --timeout 300 --filter 'onnx/test_[a-e]|debian/test_[m-z]' \
      --expected test/conformance/expected_pass_cpu.txt
    ;;
  tsan)
    mkdir -p build-asan # for the logs
    configure build-tsan -DDLC_RUNTIME_ONLY=ON -DDLC_SANITIZE=thread
    start=$SECONDS
    ninja -C build-tsan dlc-runtime-tests
    echo "sanitize: build-tsan built ($((SECONDS - start)) s)"
    suite tsan-runtime-tests build-tsan/bin/dlc-runtime-tests
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan|tsan|build-only" >&2
    exit 2
    ;;
esac
exit $failed
