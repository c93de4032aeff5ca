//===- TrainPipeline.h - dist-run's training pipelines ----------*- C++ -*-===//
//
// Runs a training pipeline (docs/pipeline.md, "The artifact of a training
// pipeline"): each rank builds its stage's forward, backward and update
// functions over one store of weights, and runs every step as a schedule
// (GPipe or 1F1B) of forwards and backwards over the micro-batches, then
// the update on the accumulated values.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_TOOLS_DIST_RUN_TRAINPIPELINE_H
#define DISTOPT_TOOLS_DIST_RUN_TRAINPIPELINE_H

#include "Training.h"

#include "distopt/Artifact/Pipeline.h"
#include "runtime/core/Executor.h"

#include <string>

namespace distopt::rt {

/// The order in which a stage runs its forwards and backwards.
enum class PipelineSchedule { GPipe, OneFOneB };

/// A training pipeline's run: the training flags and the schedule.
struct TrainPipelineOptions {
  TrainingOptions training;
  PipelineSchedule schedule = PipelineSchedule::OneFOneB;
};

/// True when `module` is a training pipeline (a function with
/// `dist.phase`).
bool isTrainingPipeline(mlir::ModuleOp module);

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

#endif // DISTOPT_TOOLS_DIST_RUN_TRAINPIPELINE_H
