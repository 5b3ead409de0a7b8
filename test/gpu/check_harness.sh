#!/usr/bin/env bash
# The GPU bundle's harness, tried on the CPU: prepare_bundle.py --target cpu for node
# tests whose inputs or checks need care (sequence and optional inputs given per element,
# random ops checked by their distribution, host ops), then run_bundle.py
# --no-device-check --only node must pass every one of them, as on a lent GPU.
# Usage: check_harness.sh BUILD_DIR [PYTHON]
set -euo pipefail
build=$(cd "$1" && pwd)
py=${2:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
filter='identity_sequence|identity_opt|optional_get_element_tensor|optional_has_element_empty'
filter+='|loop13_seq|test_bernoulli$|training_dropout$|unique_not_sorted|nonmaxsuppression_two_batches'
"$py" "$root/test/gpu/prepare_bundle.py" --build-dir "$build" --target cpu --filter "$filter" \
  --bundle "$work/bundle" --tar "$work/bundle.tar.gz" --jobs 2 > "$work/prepare.log" 2>&1 ||
  { tail -20 "$work/prepare.log"; exit 1; }
"$py" "$root/test/gpu/run_bundle.py" --bundle "$work/bundle" --dlc-run "$build/bin/dlc-run" \
  --no-device-check --only node --jobs 2 | grep -E "^node tests|^  [a-z-]+ |^e2e"
