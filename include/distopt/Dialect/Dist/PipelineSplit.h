//===- PipelineSplit.h - one function per pipeline stage --------*- C++ -*-===//
//
// The rewrite behind `dist-pipeline-split`, callable on its own: the
// planner runs it on a partitioned copy of a pipeline plan to measure the
// memory of each stage's programs.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_PIPELINESPLIT_H
#define DISTOPT_DIALECT_DIST_PIPELINESPLIT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace distopt::dist {

/// Cuts the one function of `module` whose ops carry `dist.stage` into the
/// functions of its pipeline stages (for a training step, a forward, a
/// backward and an update function per stage), as docs/pipeline.md
/// describes; a module without staged ops is left as it is. Emits an error
/// and fails when the stages cannot be cut.
mlir::LogicalResult splitPipelineStages(mlir::ModuleOp module);

} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_PIPELINESPLIT_H
