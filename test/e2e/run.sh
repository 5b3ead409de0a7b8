#!/usr/bin/env bash
# Builds the e2e models (MLP, CNN, encoder; symbolic batch) with onnxruntime
# references and checks dlc against them, JIT and AOT, at two batch sizes.
set -euo pipefail
build=$1
shift
py=${DLC_PYTHON:-python3}
here=$(dirname "$0")
models=$build/e2e-models
"$py" "$here/make_models.py" "$models" > /dev/null
exec "$py" "$here/check_models.py" --build-dir "$build" --models "$models" "$@"
