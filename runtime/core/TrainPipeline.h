//===- TrainPipeline.h - training pipelines ---------------------*- C++ -*-===//
//
// Runs a training pipeline (docs/pipeline.md, "The artifact of a training
// pipeline"): each rank builds the forward, backward and update functions
// of each stage of its rank group (one stage, or v with dist.chunks = v),
// each stage over its own store of weights, and runs every step as a
// schedule (GPipe, 1F1B or interleaved 1F1B) of forwards and backwards
// over the micro-batches, then each stage's update on its accumulated
// values.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CORE_TRAINPIPELINE_H
#define DISTOPT_RUNTIME_CORE_TRAINPIPELINE_H

#include "runtime/core/Pipeline.h"
#include "runtime/core/Training.h"

#include "distopt/Artifact/Pipeline.h"
#include "runtime/core/Executor.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace distopt::rt {

/// The order in which a rank runs the forwards and backwards of its
/// stages: GPipe and 1F1B with one stage per rank group, Megatron-LM's
/// interleaved 1F1B with several (dist.chunks).
enum class PipelineSchedule { GPipe, OneFOneB, Interleaved };

/// The schedule's name on the command line ("gpipe", "1f1b",
/// "interleaved"), and the schedule of a name (nothing for another).
llvm::StringRef getPipelineScheduleName(PipelineSchedule schedule);
std::optional<PipelineSchedule> parsePipelineSchedule(llvm::StringRef name);

/// A training pipeline's run: the training flags and the schedule
/// (nothing: interleaved with dist.chunks > 1, else 1F1B).
struct TrainPipelineOptions {
  TrainingOptions training;
  std::optional<PipelineSchedule> schedule;
};

/// One run of a stage function in a step: the forward or backward of
/// `stage` on micro-batch `j`.
struct PipelineTask {
  int64_t stage;
  PipelinePhase phase;
  int64_t j;
};

/// The forwards and backwards that rank group `group` of `groups` runs in
/// a step of `m` micro-batches, in order, its `chunks` stages being
/// `group`, `group + groups`, ... (GPipe and 1F1B: `chunks` is 1).
std::vector<PipelineTask> makePipelineSchedule(PipelineSchedule schedule,
                                               int64_t groups, int64_t chunks,
                                               int64_t group, int64_t m);

/// True when `module` is a training pipeline (a function with
/// `dist.phase`).
bool isTrainingPipeline(mlir::ModuleOp module);

/// A training pipeline built on this rank and run one step at a time on
/// inputs in memory (the library's Program).
class TrainingPipeline {
public:
  /// Builds this rank's stages of `module` (checked: `info`) for steps of
  /// `inputs.microBatches` micro-batches of `inputs`, which every step
  /// reads: the caller replaces its tensors (the same shapes) between
  /// steps. The schedule is the artifact's (interleaved with dist.chunks >
  /// 1, else 1F1B). `module`, `info` and `inputs` outlive it.
  TrainingPipeline(Communicator &comm, mlir::ModuleOp module,
                   const PipelineInfo &info, const PipelineInputs &inputs);
  ~TrainingPipeline();
  /// Runs step `step` (0-based) and returns its loss, the mean over the
  /// micro-batches, on every rank.
  double runStep(int64_t step);
  /// Every stage's persistent weights (in stage order, each once) and, on
  /// rank 0, each one's bytes whole (empty on the other ranks). Collective
  /// over the job.
  std::vector<std::pair<StateInfo, std::vector<uint8_t>>> gatherWeights();

  struct Impl;

private:
  std::unique_ptr<Impl> impl;
};

/// Runs `opts.training.steps` steps of the training pipeline `module`
/// (checked: `info`). Prints each step's loss on rank 0 and writes the loss
/// log; with `trace`, every step's functions ("stage S forward J", "stage S
/// backward J", "stage S update"), receives and kernels are timed into it
/// from the start of training. Every error stops every rank with a message.
void runTrainingPipeline(Communicator &comm, mlir::ModuleOp module,
                         const PipelineInfo &info,
                         const TrainPipelineOptions &opts,
                         std::vector<TraceEvent> *trace);

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CORE_TRAINPIPELINE_H
