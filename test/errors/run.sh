#!/usr/bin/env bash
# Builds the malformed-input corpus and checks that each case fails cleanly: exit code
# 1 and a one-line message, never a crash or hang.
set -euo pipefail
build=$1
py=${DLC_PYTHON:-python3}
here=$(dirname "$0")
corpus=$build/error-corpus
"$py" "$here/make_corpus.py" "$corpus" > /dev/null
exec "$py" "$here/check_corpus.py" --build-dir "$build" --corpus "$corpus"
