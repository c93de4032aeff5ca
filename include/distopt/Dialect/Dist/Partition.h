//===- Partition.h - SPMD partitioning from per-op assignments --*- C++ -*-===//
//
// The rewrite behind `dist-partition`, callable on its own: the planner runs
// it on a copy of a generated training step to measure the memory of the
// program a plan compiles to.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_PARTITION_H
#define DISTOPT_DIALECT_DIST_PARTITION_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace distopt::dist {

/// Rewrites every function of `module` into the program that each device
/// of the module's one `shard.grid` runs, following the ops'
/// `dist.factor_axes` (docs/partition.md). Without a grid, fails if an op
/// carries factor axes and leaves the module as it is otherwise. Emits an
/// error and fails on a bad assignment.
mlir::LogicalResult partitionModule(mlir::ModuleOp module);

} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_PARTITION_H
