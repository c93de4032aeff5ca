#!/usr/bin/env bash
#===- scripts/update-docs.sh - refresh the generated docs under docs/ -----===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
cmake --build "$BUILD_DIR" --target distopt-doc
mkdir -p "$ROOT/docs/Dialects"
cp "$BUILD_DIR/docs/Dialects/Dist.md" "$ROOT/docs/Dialects/Dist.md"
cp "$BUILD_DIR/docs/DistOptPasses.md" "$ROOT/docs/Passes.md"
echo "updated docs/Dialects/Dist.md and docs/Passes.md"
