#!/usr/bin/env bash
# Configures and builds finwave into build/ (or $BUILD_DIR); FW_CMAKE_ARGS adds
# cmake options (e.g. "-DFW_SANITIZE=ON" for the ASan+UBSan build).
# cmake's configure output is kept in $BUILD_DIR/configure.log and shown whole
# when configuring fails (a missing package is named there). --quiet keeps
# the compiler's output in $BUILD_DIR/build.log too, and shows it only when
# the build fails: a failing step's output is never hidden.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
mkdir -p "$build"
# shellcheck disable=SC2086 # FW_CMAKE_ARGS is a list of options
if ! cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} ${FW_CMAKE_ARGS:-} \
     >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  echo "build: cmake could not configure $build (above); bash scripts/install-deps.sh installs what the build needs" >&2
  exit 1
fi
if [ "${1:-}" = "--quiet" ]; then
  cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 ||
    { cat "$build/build.log" >&2; echo "build: the build failed (above)" >&2; exit 1; }
else
  cmake --build "$build" -j"$(nproc)"
fi
