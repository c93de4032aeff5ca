//===- Pipeline.h - the contract of a pipeline artifact ---------*- C++ -*-===//
//
// A pipeline artifact holds one function per stage (`dist.stage = k`); its
// arguments and results are model inputs and outputs (`dist.name`) or
// boundary values (`dist.boundary = id`) that one stage produces and later
// stages consume (docs/pipeline.md). The artifact is untrusted input:
// checkPipeline checks the whole contract before anything runs.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_ARTIFACT_PIPELINE_H
#define DISTOPT_ARTIFACT_PIPELINE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distopt {

/// A boundary value: produced by one stage, consumed by later ones.
struct PipelineBoundary {
  int64_t id = 0;
  int64_t producer = -1;
  /// The consuming stages, ascending, each once.
  std::vector<int64_t> consumers;
  mlir::Type type;
};

/// A model input or output of the pipeline.
struct PipelineValue {
  std::string name;
  /// The stages that read an input (ascending); the one stage that
  /// produces an output.
  std::vector<int64_t> stages;
  mlir::Type type;
};

/// What checkPipeline found; `stages` is empty for a module without
/// `dist.stage` functions (an ordinary one-stage program).
struct PipelineInfo {
  /// The function of each stage, indexed by stage.
  std::vector<mlir::func::FuncOp> stages;
  /// Every boundary value, by ascending id.
  std::vector<PipelineBoundary> boundaries;
  /// The model inputs by name; the model outputs by producing stage, then
  /// result position.
  std::vector<PipelineValue> inputs, outputs;

  /// The index of boundary `id` in `boundaries`, or -1.
  int64_t boundaryIndex(int64_t id) const;
};

/// The number of functions of `module` with `dist.stage` (0: not a
/// pipeline).
int64_t getPipelineStageCount(mlir::ModuleOp module);

/// Checks the pipeline contract of `module`: when some function has
/// `dist.stage`, every function has one, the stages are 0..K-1 each once,
/// every argument and result is either a model value (`dist.name`) or a
/// boundary value (`dist.boundary`), each boundary id is the result of
/// exactly one stage and an argument of at least one later stage, of the
/// same type everywhere (so there is no cycle), a model input has one
/// type in every stage that reads it, and no two results share a model
/// output name. Emits an error at the offending function on a violation.
mlir::FailureOr<PipelineInfo> checkPipeline(mlir::ModuleOp module);

} // namespace distopt

#endif // DISTOPT_ARTIFACT_PIPELINE_H
