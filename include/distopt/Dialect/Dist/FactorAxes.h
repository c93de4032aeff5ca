//===- FactorAxes.h - read and write dist.factor_axes -----------*- C++ -*-===//
//
// `dist.factor_axes` is the planner's choice for one op: which grid axes
// split which factors of the op's sharding rule, by factor name, listing
// only the split factors, major to minor:
//
//   dist.factor_axes = {m = array<i16: 0>, k = array<i16: 1>}
//
// This header is the one reader and the one writer of that attribute. The
// dist dialect verifies what can be checked of it without the op's rule and
// the grid (its shape); `readFactorAxes` checks the rest.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_FACTORAXES_H
#define DISTOPT_DIALECT_DIST_FACTORAXES_H

#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/IR/Attributes.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir {
class Operation;
} // namespace mlir

namespace distopt::dist {

/// Checks what `dist.factor_axes` with value `value` on `op` must satisfy
/// on its own: `op` has a sharding rule, and `value` is a dictionary from
/// factor name to a non-empty `array<i16>` of non-negative grid axes, with
/// no grid axis listed twice. Emits an error on `op` and fails otherwise.
mlir::LogicalResult verifyFactorAxesAttr(mlir::Operation *op,
                                         mlir::Attribute value);

/// Reads `op`'s `dist.factor_axes` against its sharding rule `rule` and a
/// grid of shape `gridShape`: per factor of the rule, in rule order, the
/// grid axes that split it (empty for a factor that is not split, and for
/// every factor when the op has no `dist.factor_axes`). Emits an error on
/// `op` and fails when the attribute is malformed, names a factor that the
/// rule lacks, names a grid axis that the grid lacks or one axis twice,
/// splits a whole factor, splits a factor into pieces of unequal size, or
/// splits a factor that is not the major-most of a dimension it indexes
/// (a device would then hold a strided piece of the dimension).
mlir::FailureOr<llvm::SmallVector<llvm::SmallVector<int16_t>>>
readFactorAxes(mlir::Operation *op, const ShardingRule &rule,
               llvm::ArrayRef<int64_t> gridShape);

/// Sets `op`'s `dist.factor_axes` from `axes`, the grid axes of each factor
/// of `rule` in rule order; removes it when no factor is split.
void writeFactorAxes(mlir::Operation *op, const ShardingRule &rule,
                     llvm::ArrayRef<llvm::SmallVector<int16_t, 2>> axes);

} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_FACTORAXES_H
