//===- PipelineSchedule.h - Order and timeline of a pipeline ----*- C++ -*-===//
//
// The order in which each pipeline position runs the forwards and
// backwards of its stages in one step (GPipe, 1F1B, Megatron-LM's
// interleaved 1F1B), the one order dist-run runs and the plan report
// draws, and that order placed in time from per-stage durations.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_PIPELINESCHEDULE_H
#define DISTOPT_COST_PIPELINESCHEDULE_H

#include "distopt/Cost/MemoryModel.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace distopt::cost {

/// One run of a stage in a step: the forward or the backward of `stage` on
/// micro-batch `microBatch`.
struct PipelineTask {
  unsigned stage = 0;
  bool backward = false;
  unsigned microBatch = 0;
};

/// The forwards and backwards that pipeline position `position` of
/// `positions` runs in a step of `microBatches` micro-batches, in order,
/// its `chunks` stages being `position`, `position + positions`, ...
/// (GPipe and 1F1B: `chunks` is 1). GPipe runs every forward, then every
/// backward; 1F1B a warm-up of `positions - 1 - position` forwards, then
/// one forward and one backward, then the remaining backwards; interleaved
/// 1F1B (Megatron-LM's forward_backward_pipelining_with_interleaving) runs
/// m x chunks virtual micro-batches, `positions` micro-batches of one chunk
/// at a time, the same way.
std::vector<PipelineTask>
makePipelineSchedule(PipelineScheduleKind kind, unsigned positions,
                     unsigned chunks, unsigned position, unsigned microBatches);

/// A task of the schedule placed in time on its pipeline position.
struct TimedPipelineTask {
  PipelineTask task;
  unsigned position = 0;
  double startSeconds = 0, endSeconds = 0;
};

/// Places the tasks of every position (makePipelineSchedule) in time, each
/// as early as its position is free and its input is there: the forward of
/// stage s on micro-batch j after that of stage s - 1, the backward after
/// that of stage s + 1 (the last stage's after its own forward).
/// `forwardSeconds` and `backwardSeconds` hold one duration per stage
/// (positions * chunks); an empty `backwardSeconds` is an inference step
/// (forwards only). Fails when the sizes do not match.
llvm::Expected<std::vector<TimedPipelineTask>>
timePipelineSchedule(PipelineScheduleKind kind, unsigned positions,
                     unsigned chunks, unsigned microBatches,
                     llvm::ArrayRef<double> forwardSeconds,
                     llvm::ArrayRef<double> backwardSeconds);

} // namespace distopt::cost

#endif // DISTOPT_COST_PIPELINESCHEDULE_H
