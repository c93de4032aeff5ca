#!/usr/bin/env bash
#===- scripts/test.sh - build dist-opt and run every test -----------------===#
#
# Runs the lit suite (test/) and the GoogleTest unit tests (unittests/)
# through ctest. Exits non-zero when anything fails.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/build.sh"
cd "$BUILD_DIR"
ctest --output-on-failure
