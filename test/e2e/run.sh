#!/usr/bin/env bash
# Builds the e2e models (MLP, CNN, encoder; symbolic batch) with onnxruntime
# references and checks dlc against them, JIT and AOT, at two batch sizes.
set -euo pipefail
build=$1
shift
py=${DLC_PYTHON:-python3}
here=$(dirname "$0")
# A folder per run: the CPU, emulated and precision variants of this test run in
# parallel under ctest -j, and one rewriting the models while another reads them failed
# the reader now and then.
models=$(mktemp -d "$build/e2e-models.XXXXXX")
trap 'rm -rf "$models"' EXIT
"$py" "$here/make_models.py" "$models" > /dev/null
"$py" "$here/check_models.py" --build-dir "$build" --models "$models" "$@"
