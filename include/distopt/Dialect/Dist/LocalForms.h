//===- LocalForms.h - Local forms of split reductions -----------*- C++ -*-===//
//
// When a reduction factor of an op is split, each device computes a partial
// result. What the op's sharding rule says about that case (the combiner of
// its reduction, a bias added after its contraction) is turned into IR here,
// once, for both partitioners: dist-partition and the upstream
// ShardingInterface models.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_LOCALFORMS_H
#define DISTOPT_DIALECT_DIST_LOCALFORMS_H

#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace distopt::dist {

/// Upstream's reduction kind that combines partial results of a reduction
/// with `combiner` (a split mean is combined as sums; see getPartialKind).
mlir::shard::ReductionKind getUpstreamReductionKind(ReduceKind combiner);

/// Turns the local result of a mean reduction split into `pieces` pieces
/// into partial sums of the global mean: local mean x (1 / pieces). Fails
/// with an error on `op` for integer means, whose truncated mean is not a
/// sum of partial results.
mlir::FailureOr<mlir::Value> buildPartialMean(mlir::OpBuilder &b,
                                              mlir::Operation *op,
                                              mlir::Value localMean,
                                              int64_t pieces);

/// Removes `bias` from `op`, which then computes its contraction only (its
/// scale attribute back at the default).
void dropBias(mlir::Operation *op, const BiasAfterReduction &bias);

/// Adds `localBias`, the bias operand in the pieces that match `combined`,
/// to `combined`, the combined results of the contraction: scaled, and
/// reshaped so that it broadcasts onto the result dimensions it indexes.
mlir::Value buildBiasAdd(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value combined, mlir::Value localBias,
                         const BiasAfterReduction &bias);

} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_LOCALFORMS_H
