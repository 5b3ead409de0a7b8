#!/usr/bin/env bash
# Sets up, builds and runs every test: lit (importer, dialect, passes), gtest (runtime,
# API), end-to-end models vs onnxruntime, the malformed-input corpus, the ONNX node-test
# conformance suites (expected-pass list) and the install consumer. ctest prints the
# summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build --output-on-failure -j2 "$@"
