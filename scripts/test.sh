#!/usr/bin/env bash
# README command 2: install what the tests need, build, and run every test
# (unit and end-to-end) with ctest. Extra arguments go to ctest (-R REGEX...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 "$@"
