#!/usr/bin/env bash
#===- scripts/example.sh - build dist-opt and run it on the bundled examples ===#
#
# Installs what is missing, builds into build/, then:
#  1. exports the bundled GPT-2-style model (models/zoo.py) to ONNX with
#     Debian's PyTorch and imports it: the dist module of the whole model;
#  2. compiles examples/mlp-tp2.mlir, a transformer MLP block laid out for
#     two tensor-parallel devices: each op's sharding rule, then the program
#     that one device runs, with its collectives.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
EXAMPLE="$ROOT/examples/mlp-tp2.mlir"

"$ROOT/scripts/build.sh"
DISTOPT="$BUILD_DIR/bin/dist-opt"

echo
echo "== Export the bundled GPT-2-style model to ONNX (opset 17)"
/usr/bin/python3 "$ROOT/models/export.py" --out "$BUILD_DIR/example" \
  --models gpt2 --opsets 17
MODEL="$BUILD_DIR/example/gpt2/opset17/model.onnx"

echo
echo "== Import $MODEL with a batch of 2 sequences of 16 tokens"
"$DISTOPT" "$MODEL" --shape input_ids=2x16 -o "$BUILD_DIR/example/gpt2.mlir"
echo "dist ops in the imported module:"
grep -oE '= dist\.[a-z_0-9]+' "$BUILD_DIR/example/gpt2.mlir" | sed 's/= //' |
  sort | uniq -c | sort -rn
echo "(full module: $BUILD_DIR/example/gpt2.mlir)"

echo
echo "== Sharding rule of each op in $(basename "$EXAMPLE")"
"$DISTOPT" "$EXAMPLE" --dist-print-sharding-rules -o /dev/null 2>&1 |
  sed -n 's/^.*:\([0-9]*\):[0-9]*: remark: /  line \1: /p'

echo
echo "== Program of one device out of 2 (sharding-propagation + shard-partition)"
"$DISTOPT" "$EXAMPLE" --dist-spmd-partition
