#!/usr/bin/env bash
#===- scripts/build.sh - configure and build dist-opt into build/ ---------===#
#
# Usage: scripts/build.sh [extra cmake args...]
# BUILD_DIR overrides the build directory (default: build/ in the checkout).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/setup.sh"

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$BUILD_DIR"
