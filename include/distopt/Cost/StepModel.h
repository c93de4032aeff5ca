//===- StepModel.h - Time and memory of one step of a plan -------*- C++ -*-===//
//
// Composes the cost of a whole inference or training step from the cost of
// the program's segments (a repeated layer, the ops before and after the
// layers) on one device: forward and backward compute, recompute, the
// collectives inside the segments, pipeline bubbles, data-parallel gradient
// synchronization, the optimizer step, and the peak memory per device.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_STEPMODEL_H
#define DISTOPT_COST_STEPMODEL_H

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/CollectiveCost.h"
#include "distopt/Cost/MemoryModel.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace distopt::cost {

/// One collective a segment runs, per copy of the segment and per
/// micro-batch, on one device.
struct CollectiveUse {
  CollectiveKind kind = CollectiveKind::AllReduce;
  /// The buffer size S as CollectiveCost.h defines it, in bytes.
  double bytes = 0;
  /// Number of ranks in the group.
  unsigned groupSize = 1;
  /// Its time on the cluster (from getCollectiveTime), in seconds.
  double seconds = 0;
  /// What it is for, for the report (e.g. "attention output").
  std::string what;
};

/// The cost of one segment of the program on one device for one
/// micro-batch: a layer repeated `repeat` times, or the ops outside layers
/// (repeat 1). Everything is per copy of the segment.
struct SegmentCost {
  std::string name;
  unsigned repeat = 1;
  /// Forward and backward compute time (backward from getBackwardWork).
  double forwardSeconds = 0;
  double backwardSeconds = 0;
  /// Model FLOPs of the forward pass on this device (no recompute).
  double forwardFlops = 0;
  /// Collectives of the forward pass, and of the backward pass.
  llvm::SmallVector<CollectiveUse> forwardCollectives;
  llvm::SmallVector<CollectiveUse> backwardCollectives;
  /// Parameters held by this device (elements) and their bytes as stored.
  double parameters = 0;
  double parameterBytes = 0;
  /// Gradient synchronization after backward (data-parallel all-reduce or
  /// reduce-scatter of the gradients of replicated parameters), per copy.
  llvm::SmallVector<CollectiveUse> gradientCollectives;
  /// Activation bytes the backward pass needs, kept from the forward pass
  /// when nothing is recomputed.
  double activationBytes = 0;
  /// Bytes of the segment's input (all that full recompute keeps).
  double inputBytes = 0;
  /// Largest set of values alive at once inside the segment in the forward
  /// pass (the working set beyond what is kept), in bytes.
  double peakTemporaryBytes = 0;
};

enum class StepMode { Inference, Training };
enum class RecomputePolicy { None, Full };

/// The plan a step is composed for. The grid is dp x tp x pp.
struct StepPlan {
  StepMode mode = StepMode::Inference;
  unsigned dataParallel = 1;
  unsigned tensorParallel = 1;
  unsigned pipelineParallel = 1;
  /// Samples per micro-batch (per data-parallel replica).
  int64_t microBatch = 1;
  /// Samples per step over all replicas.
  int64_t globalBatch = 1;
  RecomputePolicy recompute = RecomputePolicy::None;
  ZeroStage zero = ZeroStage::Zero0;
  PipelineScheduleKind schedule = PipelineScheduleKind::OneFOneB;
};

} // namespace distopt::cost

#endif // DISTOPT_COST_STEPMODEL_H
