#!/usr/bin/env bash
#===- scripts/example.sh - build dist-opt and run it on the bundled example ===#
#
# Installs what is missing, builds into build/, then compiles the bundled
# example (examples/mlp-tp2.mlir, a transformer MLP block laid out for two
# tensor-parallel devices): prints each op's sharding rule and the program
# that one device runs, with its collectives.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
EXAMPLE="$ROOT/examples/mlp-tp2.mlir"

"$ROOT/scripts/build.sh"
DISTOPT="$BUILD_DIR/bin/dist-opt"

echo
echo "== Sharding rule of each op in $(basename "$EXAMPLE")"
"$DISTOPT" "$EXAMPLE" --dist-print-sharding-rules -o /dev/null 2>&1 |
  sed -n 's/^.*:\([0-9]*\):[0-9]*: remark: /  line \1: /p'

echo
echo "== Program of one device out of 2 (sharding-propagation + shard-partition)"
"$DISTOPT" "$EXAMPLE" --dist-spmd-partition
