//===- PipelinePhase.h - phases of a pipeline's functions -------*- C++ -*-===//
//
// The phases of a training pipeline's stage functions (`dist.phase`), named
// once for the verifier, dist-pipeline-split, the artifact checks and the
// runtime.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_PIPELINEPHASE_H
#define DISTOPT_DIALECT_DIST_PIPELINEPHASE_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace distopt::dist {

/// Forward and backward run once per micro-batch, update once per step.
enum class PipelinePhase : int { Forward = 0, Backward = 1, Update = 2 };

/// "forward", "backward" or "update".
llvm::StringRef getPipelinePhaseName(PipelinePhase phase);

/// The phase named `name`, or nothing.
std::optional<PipelinePhase> parsePipelinePhase(llvm::StringRef name);

} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_PIPELINEPHASE_H
