#!/usr/bin/env bash
# Configures and builds finwave into build/ (or $BUILD_DIR); FW_CMAKE_ARGS adds
# cmake options (e.g. "-DFW_SANITIZE=ON" for the ASan+UBSan build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
# shellcheck disable=SC2086 # FW_CMAKE_ARGS is a list of options
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} ${FW_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
