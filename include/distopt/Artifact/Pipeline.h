//===- Pipeline.h - the contract of a pipeline artifact ---------*- C++ -*-===//
//
// A pipeline artifact holds one function per stage (`dist.stage = k`); its
// arguments and results are model inputs and outputs (`dist.name`) or
// boundary values (`dist.boundary = id`) that one stage produces and later
// stages consume (docs/pipeline.md). A training pipeline holds three
// functions per stage (`dist.phase` forward, backward, update), whose
// values also include accumulated gradients (`dist.accumulate = id`). The
// artifact is untrusted input: checkPipeline checks the whole contract
// before anything runs.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_ARTIFACT_PIPELINE_H
#define DISTOPT_ARTIFACT_PIPELINE_H

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/PipelinePhase.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distopt {

/// The attributes of a training pipeline's functions and values: a stage
/// function's phase, and an accumulated value's id.
inline constexpr llvm::StringLiteral kPipelinePhaseAttr =
    dist::DistDialect::PhaseAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kPipelineAccumulateAttr =
    dist::DistDialect::AccumulateAttrHelper::getNameStr();

/// The phase of a training pipeline's stage function (`dist.phase`).
using dist::getPipelinePhaseName;
using dist::PipelinePhase;

/// One function of a training pipeline, as a reader of a boundary value.
struct PipelineReader {
  int64_t stage = 0;
  PipelinePhase phase = PipelinePhase::Forward;
  bool operator==(const PipelineReader &o) const {
    return stage == o.stage && phase == o.phase;
  }
};

/// A boundary value: produced by one stage, consumed by later ones.
struct PipelineBoundary {
  int64_t id = 0;
  int64_t producer = -1;
  /// The consuming stages, ascending, each once (in a training pipeline,
  /// the producer's own stage too when one of its functions reads it).
  std::vector<int64_t> consumers;
  mlir::Type type;
  /// Training pipelines: the producing function's phase, and every
  /// function that reads the value, in micro-batch order.
  PipelinePhase producerPhase = PipelinePhase::Forward;
  std::vector<PipelineReader> readers;
};

/// A training pipeline's accumulated value: a result of the forward or
/// backward function of `stage`, summed over the micro-batches, divided by
/// their number, and taken by the update function of `stage`.
struct PipelineAccumulate {
  int64_t id = 0;
  int64_t stage = 0;
  PipelinePhase producer = PipelinePhase::Backward;
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
  /// The function of each stage, indexed by stage (inference pipelines).
  std::vector<mlir::func::FuncOp> stages;
  /// Training pipelines: the forward, backward and update function of
  /// each stage, indexed by stage then PipelinePhase.
  std::vector<std::array<mlir::func::FuncOp, 3>> phases;
  /// Training pipelines: every accumulated value, by ascending id; the
  /// stage whose forward returns the loss.
  std::vector<PipelineAccumulate> accumulates;
  int64_t lossStage = -1;
  /// Every boundary value, by ascending id.
  std::vector<PipelineBoundary> boundaries;
  /// The model inputs by name; the model outputs by producing stage, then
  /// result position.
  std::vector<PipelineValue> inputs, outputs;

  /// The index of boundary `id` in `boundaries`, or -1.
  int64_t boundaryIndex(int64_t id) const;
  /// A training pipeline (its functions have `dist.phase`).
  bool isTraining() const { return !phases.empty(); }
  /// The number of stages.
  int64_t numStages() const {
    return isTraining() ? int64_t(phases.size()) : int64_t(stages.size());
  }
  /// The number v of stages each rank group runs (the module's
  /// `dist.chunks`, 1 without it): v > 1 only in a training pipeline, run
  /// by the interleaved 1F1B schedule.
  int64_t chunks = 1;
  /// The number K of rank groups: numStages() / chunks. Group r runs stages
  /// r, r + K, ..., r + (v - 1) K, each on its copy of the device grid.
  int64_t numRankGroups() const { return numStages() / chunks; }
  /// The rank group that runs `stage`.
  int64_t rankGroupOf(int64_t stage) const { return stage % numRankGroups(); }
};

/// The phase of `f` (`dist.phase`), or nothing (no phase, or a value that
/// is no phase).
std::optional<PipelinePhase> getPipelinePhase(mlir::func::FuncOp f);

/// The number of stages of `module`: of distinct `dist.stage` values of its
/// functions (0: not a pipeline).
int64_t getPipelineStageCount(mlir::ModuleOp module);

/// The number of rank groups of `module`'s pipeline: its stage count
/// divided by its `dist.chunks` (the stage count itself without the
/// attribute, or when it does not divide it; 0: not a pipeline).
int64_t getPipelineRankGroupCount(mlir::ModuleOp module);

/// Checks the pipeline contract of `module`: when some function has
/// `dist.stage`, every function has one, the stages are 0..K-1 each once,
/// every argument and result is either a model value (`dist.name`) or a
/// boundary value (`dist.boundary`), each boundary id is the result of
/// exactly one stage and an argument of at least one later stage, of the
/// same type everywhere (so there is no cycle), a model input has one
/// type in every stage that reads it, and no two results share a model
/// output name. A training pipeline (functions with `dist.phase`) is
/// checked against its contract (docs/pipeline.md, "The artifact of a
/// training pipeline"): one function of each phase per stage, boundaries in
/// micro-batch order, accumulated values from a stage's forward or backward
/// to its update, one loss, and a weight that a stage assigns in no other
/// stage unless that stage assigns it too. The module's `dist.chunks` (v)
/// divides the stage count S, is 1 in an inference pipeline, and leaves
/// at least 2 rank groups (S / v) when it is above 1.
/// Emits an error at the offending function on a violation.
mlir::FailureOr<PipelineInfo> checkPipeline(mlir::ModuleOp module);

} // namespace distopt

#endif // DISTOPT_ARTIFACT_PIPELINE_H
