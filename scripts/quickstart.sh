#!/usr/bin/env bash
# README command 1: install what building and running need, build, run the
# default catalog (reports in out/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec build/finwave run --report-dir out cases/
