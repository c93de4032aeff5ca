#!/usr/bin/env bash
#===- scripts/example.sh - build dist-opt and run it on the bundled examples ===#
#
# Installs what is missing, builds into build/, then:
#  1. exports the bundled GPT-2-style model (models/zoo.py) to ONNX with
#     Debian's PyTorch, imports it, compiles it for one device and runs it
#     with dist-run, comparing the logits with PyTorch's;
#  2. compiles examples/mlp-tp2.mlir, a transformer MLP block laid out for
#     two tensor-parallel devices: each op's sharding rule, the program that
#     one device runs, with its collectives; then runs it on 2 MPI ranks and
#     compares the result with the 1-rank program.
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
echo "== Compile it for one device and run it with dist-run"
OUT="$BUILD_DIR/example"
"$DISTOPT" "$MODEL" --shape input_ids=2x16 --devices 1 -o "$OUT/gpt2.dist"
"$BUILD_DIR/bin/dist-run" "$OUT/gpt2.dist" \
  --input input_ids="$OUT/gpt2/opset17/input_0_input_ids.npy" \
  --output-dir "$OUT/gpt2-out" --repeat 5
/usr/bin/python3 - "$OUT" <<'PY'
import sys, numpy as np
out = sys.argv[1]
got = np.load(f"{out}/gpt2-out/logits.npy")
want = np.load(f"{out}/gpt2/opset17/output_0_logits.npy")
print(f"logits {got.shape}: largest difference from PyTorch {np.abs(got - want).max():.2e}")
sys.exit(0 if np.allclose(got, want, rtol=1e-4, atol=1e-5) else 1)
PY

if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

echo
echo "== Plan it for 4 CPU ranks (no hints), partition, run under mpirun, compare with 1 rank"
"$DISTOPT" "$MODEL" --shape input_ids=2x16 --cluster cpu --devices 4 --report \
  -o "$OUT/gpt2-4.dist"
/usr/bin/python3 "$ROOT/test/Runtime/compare_ranks.py" \
  --dist-run "$BUILD_DIR/bin/dist-run" --one "$OUT/gpt2.dist" \
  --many "$OUT/gpt2-4.dist" -n 4 \
  --input input_ids="$OUT/gpt2/opset17/input_0_input_ids.npy"

echo
echo "== Sharding rule of each op in $(basename "$EXAMPLE")"
"$DISTOPT" "$EXAMPLE" --dist-print-sharding-rules -o /dev/null 2>&1 |
  sed -n 's/^.*:\([0-9]*\):[0-9]*: remark: /  line \1: /p'

echo
echo "== Program of one device out of 2 (sharding-propagation + shard-partition)"
"$DISTOPT" "$EXAMPLE" --dist-spmd-partition

echo
echo "== Run it on 2 MPI ranks and compare with the 1-rank program"
MLP="$OUT/mlp"
mkdir -p "$MLP"
cp "$EXAMPLE" "$ROOT/test/Runtime/Inputs/mlp.mlir" "$MLP/"
/usr/bin/python3 "$ROOT/test/Runtime/Inputs/make_mlp_weights.py" "$MLP"
"$DISTOPT" "$MLP/mlp.mlir" --devices 1 -o "$MLP/mlp-1.dist"
"$DISTOPT" "$MLP/mlp-tp2.mlir" --dist-spmd-partition --devices 2 -o "$MLP/mlp-2.dist"
"$BUILD_DIR/bin/dist-run" "$MLP/mlp-1.dist" --input x="$MLP/x.npy" --output-dir "$MLP/one"
mpirun --oversubscribe -np 2 "$BUILD_DIR/bin/dist-run" "$MLP/mlp-2.dist" \
  --input x="$MLP/x.npy" --output-dir "$MLP/two" --trace "$MLP/trace.json"
/usr/bin/python3 - "$MLP" <<'PY'
import sys, numpy as np
d = sys.argv[1]
one, two = np.load(f"{d}/one/y.npy"), np.load(f"{d}/two/y.npy")
print(f"2 ranks vs 1 rank: largest difference {np.abs(one - two).max():.2e} "
      f"(outputs up to {np.abs(one).max():.2f}); trace of both ranks: {d}/trace.json")
sys.exit(0 if np.allclose(two, one, rtol=1e-5, atol=1e-5 * np.abs(one).max()) else 1)
PY
