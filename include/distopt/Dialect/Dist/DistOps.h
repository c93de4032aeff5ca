//===- DistOps.h - dist dialect operations ----------------------*- C++ -*-===//
//
// Declares the dist dialect's operations and op interfaces.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_DISTOPS_H
#define DISTOPT_DIALECT_DIST_DISTOPS_H

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/ShardingRule.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "distopt/Dialect/Dist/DistInterfaces.h.inc"

#define GET_OP_CLASSES
#include "distopt/Dialect/Dist/DistOps.h.inc"

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace distopt::dist {
/// Attaches upstream MLIR's shard::ShardingInterface to every dist op that
/// has a sharding rule, so that `sharding-propagation` and `shard-partition`
/// work on dist ops. The models are derived from the ops' sharding rules.
void registerShardingInterfaceExternalModels(mlir::DialectRegistry &registry);

/// Attaches GradientOpInterface, the reverse-mode rule that dist-autodiff
/// asks, to every differentiable dist op (lib/Dialect/Dist/GradientRules.cpp).
void registerGradientInterfaceExternalModels(mlir::DialectRegistry &registry);

namespace detail {
/// Checks the `row_axes` of a gather (or its gradient) on a table split by
/// rows, if present: a non-empty list of distinct, non-negative grid axes.
/// Emits an error on `op` and fails otherwise.
mlir::LogicalResult
verifyRowAxes(mlir::Operation *op,
              std::optional<llvm::ArrayRef<int16_t>> rowAxes);
} // namespace detail
} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_DISTOPS_H
