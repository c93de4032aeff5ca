#!/usr/bin/env bash
#===- scripts/build.sh - configure and build dist-opt into build/ ---------===#
#
# Usage: scripts/build.sh [extra cmake args...]
# BUILD_DIR overrides the build directory (default: build/ in the checkout);
# BUILD_TARGETS (space-separated) builds only those targets. The extra cmake
# arguments apply when the build directory is first configured.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/setup.sh"

# ccache, when installed, makes rebuilds in fresh build folders cheap; the
# project does not need it.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    "${launcher[@]}" "$@"
fi
# shellcheck disable=SC2086 # BUILD_TARGETS is a space-separated list
cmake --build "$BUILD_DIR" ${BUILD_TARGETS:+--target $BUILD_TARGETS}

# `import distopt` for Debian's Python from this build (docs/python.md).
"$ROOT/scripts/install-python.sh" "$BUILD_DIR"
