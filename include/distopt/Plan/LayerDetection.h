//===- LayerDetection.h - Find repeated identical layers ---------*- C++ -*-===//
//
// Transformer models repeat one layer many times. The planner solves one
// copy and applies the answer to all, and the pipeline model splits the
// copies over stages. Two windows of ops are identical layers when their
// ops match one by one: same op name, attributes and types, and operands
// that come from the same relative position, from weights of the same type,
// from the same constant or from the same function argument.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_PLAN_LAYERDETECTION_H
#define DISTOPT_PLAN_LAYERDETECTION_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace distopt::plan {

struct LayerStructure {
  /// The function's compute ops in program order: every op of the body but
  /// dist.weight, dist.constant and the terminator.
  llvm::SmallVector<mlir::Operation *> ops;
  /// Layer copy `i` is ops[begin + i * period, begin + (i + 1) * period).
  /// `count` is 0 when the function has no repeated run of at least two
  /// copies.
  unsigned begin = 0, period = 0, count = 0;

  /// Index of the layer copy that `ops[index]` belongs to, or -1.
  int getLayer(unsigned index) const {
    if (count == 0 || index < begin || index >= begin + period * count)
      return -1;
    return (index - begin) / period;
  }
};

/// Finds the longest run of identical consecutive layers (largest
/// period * count) in `func`. Linear in the number of ops for a given
/// candidate period; candidate periods come from ops that recur at equal
/// distances.
LayerStructure findRepeatedLayers(mlir::func::FuncOp func);

} // namespace distopt::plan

#endif // DISTOPT_PLAN_LAYERDETECTION_H
