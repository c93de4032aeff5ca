//===- StepModel.h - Time and memory of one step of a plan ------*- C++ -*-===//
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

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

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
  /// Selective recompute (Megatron-LM's, Korthikanti et al. 2022): the
  /// attention core of a layer (the products of two activations and the
  /// softmax, mask and dropout between them) runs again before the
  /// backward instead of keeping its values. Its forward compute time and
  /// FLOPs, and the activation bytes it does not keep.
  double selectiveSeconds = 0;
  double selectiveFlops = 0;
  double selectiveBytes = 0;
  /// Largest set of values alive at once inside the segment in the forward
  /// pass (the working set beyond what is kept), in bytes.
  double peakTemporaryBytes = 0;
  /// True for a layer even when `repeat` is 1 (a one-layer model). A
  /// segment is a layer when `repeat > 1 || isLayer`: layers are what
  /// pipeline stages divide and what full recompute recomputes; the other
  /// segments (embedding, head, loss) stay on the first or last stage and
  /// keep their activations.
  bool isLayer = false;
  /// The pipeline stage that runs the segment, when the stages cut the
  /// program between ops rather than between layers (-1: by layers).
  int stage = -1;
  /// Runs once per step after every micro-batch (the update of a generated
  /// training step's stage), not once per micro-batch.
  bool perStep = false;
};

enum class StepMode { Inference, Training };
enum class RecomputePolicy { None, Selective, Full };

/// The parts of a plan that a user can fix; the planner chooses the rest.
enum class PlanKey : unsigned {
  DataParallel = 1u << 0,
  TensorParallel = 1u << 1,
  PipelineParallel = 1u << 2,
  MicroBatch = 1u << 3,
  GlobalBatch = 1u << 4,
  Recompute = 1u << 5,
  Zero = 1u << 6,
  Schedule = 1u << 7,
  Chunks = 1u << 8,
  Precision = 1u << 9,
};

/// The options of a plan: one type for the whole flow. The user's text
/// gives it (makePlanOptions: what is fixed, with defaults for the rest),
/// the planner completes it for each candidate grid, and composeStep prices
/// the completed plan. The grid is dp x tp x pp.
struct PlanOptions {
  /// Inference: forward only. Training: forward, backward, gradient
  /// synchronization and a mixed-precision Adam step.
  StepMode mode = StepMode::Inference;
  unsigned dataParallel = 1;
  unsigned tensorParallel = 1;
  unsigned pipelineParallel = 1;
  /// Samples per micro-batch (per data-parallel replica).
  int64_t microBatch = 1;
  /// Samples per step over all replicas.
  int64_t globalBatch = 1;
  /// Full: layers keep only their input and run forward again before
  /// their backward. Selective: layers run their attention core again
  /// (SegmentCost::selectiveSeconds) and keep the rest.
  RecomputePolicy recompute = RecomputePolicy::None;
  /// Sharding of the Adam model states over the data-parallel replicas.
  ZeroStage zero = ZeroStage::Zero0;
  PipelineScheduleKind schedule = PipelineScheduleKind::OneFOneB;
  /// The precision the model computes in: the element type of its floats
  /// (the planner takes it from the graph; the plan key `precision` fixes
  /// it, and the graph must have been retyped to it: dist-convert-precision).
  /// GEMMs run at the device's peak of it; training in bf16 or fp16 is mixed
  /// precision (fp32 master weights and Adam states, getAdamModelStateMemory).
  Precision precision = Precision::BF16;
  /// Interleaved 1F1B: the stages (chunks) each pipeline position runs, v;
  /// the model is cut into pp * v stages, stage c on position c mod pp.
  /// 1 for the other schedules.
  unsigned chunks = 1;
  /// The keys the user fixed (a bit per PlanKey).
  unsigned fixed = 0;
  /// The function is a whole training step (dist-add-loss, dist-autodiff
  /// and dist-optimizer made its backward and optimizer update ops): the
  /// mode is Inference, as every op, backward ones included, is priced as
  /// it is, and optimizer states are weights.
  bool explicitStep = false;

  bool isFixed(PlanKey key) const { return fixed & unsigned(key); }
  void fix(PlanKey key) { fixed |= unsigned(key); }
};

/// Whether `plan` trains a forward graph, where the recompute, ZeRO stage,
/// schedule and chunks are settings the planner chooses with the grid.
bool hasTrainingSettings(const PlanOptions &plan);
/// Adds those settings to `object`: recompute, zero, schedule, chunks.
void addTrainingSettings(const PlanOptions &plan, llvm::json::Object &object);

llvm::StringRef stringifyStepMode(StepMode mode);
llvm::StringRef stringifyRecomputePolicy(RecomputePolicy policy);
llvm::StringRef stringifyPipelineScheduleKind(PipelineScheduleKind kind);

//===----------------------------------------------------------------------===//
// Step report
//===----------------------------------------------------------------------===//

/// Where a collective of the step comes from.
enum class CommunicationPhase {
  /// Collectives inside the segments (tensor parallel all-reduces, ...),
  /// forward, backward and recompute: on the critical path.
  Layer,
  /// Point-to-point activation and gradient transfers between stages.
  Pipeline,
  /// Data-parallel gradient synchronization after the last backward
  /// (partly hidden behind backward compute), and ZeRO parameter gathers
  /// after the optimizer step (not hidden).
  Gradient,
};

llvm::StringRef stringifyCommunicationPhase(CommunicationPhase phase);

/// Time of the collectives of one kind and phase on the device the step
/// time is composed for, over one whole step.
struct CommunicationTime {
  CollectiveKind kind = CollectiveKind::AllReduce;
  CommunicationPhase phase = CommunicationPhase::Layer;
  /// Time the collectives take, in seconds.
  double totalSeconds = 0;
  /// The part of it that compute does not hide, in seconds.
  double exposedSeconds = 0;
};

/// Memory of one device, in bytes.
struct StepMemory {
  /// Pipeline stage of the device these figures are for.
  unsigned stage = 0;
  /// 16-bit parameters in training (ZeRO-3 shards them), the parameter
  /// bytes as stored in inference.
  double parameters = 0;
  /// 16-bit gradients (ZeRO-2 and 3 shard them); 0 in inference.
  double gradients = 0;
  /// fp32 master weights, Adam momentum and variance (ZeRO-1 and later
  /// shard them); 0 in inference.
  double optimizerStates = 0;
  /// Activations kept for backward over all micro-batches in flight.
  double activations = 0;
  /// Largest working set of one segment.
  double temporaries = 0;
  /// Receive buffers of the pipeline transfers and the largest collective
  /// buffer of the stage.
  double communicationBuffers = 0;
  /// The inputs of the step (a generated training step's batch; the step
  /// model of a forward graph counts them in the activations).
  double inputs = 0;
  /// Memory the device may use (ClusterSpec::getDeviceMemory).
  double deviceMemory = 0;
  double total() const {
    return parameters + gradients + optimizerStates + activations +
           temporaries + communicationBuffers + inputs;
  }
  bool fits() const { return total() <= deviceMemory; }
  /// Device memory left, in bytes (negative when it does not fit).
  double headroom() const { return deviceMemory - total(); }
  /// Fits, but with less than kTightHeadroom of the device left: what the
  /// model does not count (allocator fragmentation, the framework's own
  /// buffers, the CUDA context) may not fit.
  bool isTight() const;
};

/// The share of device memory under which a plan that fits is flagged.
inline constexpr double kTightHeadroom = 0.05;

/// One pipeline stage: what it holds and its time per micro-batch.
struct StageReport {
  /// Number of layer copies the stage holds.
  unsigned layers = 0;
  /// Names of the segments with at least one copy on the stage, in order.
  llvm::SmallVector<std::string> segments;
  /// Forward compute, forward collectives; backward compute, backward
  /// collectives; recompute (compute and collectives); point-to-point
  /// transfers the stage sends. Seconds per micro-batch.
  double forwardSeconds = 0;
  double backwardSeconds = 0;
  double recomputeSeconds = 0;
  double pipelineTransferSeconds = 0;
  /// Sum of the four above.
  double microBatchSeconds = 0;
  /// Data-parallel gradient synchronization not hidden behind the drain
  /// of the pipeline and the backward of earlier layers, and the optimizer
  /// step, once per step.
  double exposedGradientSeconds = 0;
  double optimizerSeconds = 0;
  /// Parameters (elements) held by one device of the stage.
  double parameters = 0;
  /// Its memory.
  StepMemory memory;
};

/// The composed time and memory of one step of a plan on one device.
///
/// stepSeconds = forwardComputeSeconds + backwardComputeSeconds
///             + recomputeSeconds + sum(communication[i].exposedSeconds)
///             + pipelineBubbleSeconds + optimizerSeconds.
/// The compute, layer and pipeline terms are those of the slowest stage
/// (`criticalStage`) over m micro-batches, the bubble is (p - 1) of its
/// micro-batch times, and the gradient and optimizer terms are those of the
/// stage that finishes last (`tailStage`).
struct StepReport {
  PlanOptions plan;
  /// Micro-batches per step per replica: globalBatch / (dp * microBatch).
  unsigned microBatches = 0;
  double stepSeconds = 0;

  double forwardComputeSeconds = 0;
  double backwardComputeSeconds = 0;
  double recomputeSeconds = 0;
  /// One entry per (phase, kind) that occurs, Layer, Pipeline, Gradient.
  llvm::SmallVector<CommunicationTime> communication;
  double pipelineBubbleSeconds = 0;
  double optimizerSeconds = 0;
  unsigned criticalStage = 0;
  unsigned tailStage = 0;

  /// FLOPs per device per step averaged over the devices: model FLOPs
  /// count forward once and backward twice (3x forward in training, 1x in
  /// inference); hardware FLOPs add the recomputed forward.
  double modelFlopsPerDevice = 0;
  double hardwareFlopsPerDevice = 0;
  /// The above over stepSeconds, and over the device peak.
  double modelFlopsPerSecond = 0;
  double hardwareFlopsPerSecond = 0;
  /// Mean dense peak of the devices the plan uses at the plan's precision,
  /// FLOP/s.
  double peakFlopsPerSecond = 0;
  double modelFlopsUtilization = 0;
  double hardwareFlopsUtilization = 0;

  /// The device with the least headroom (device memory minus total).
  StepMemory memory;
  /// True when every stage fits.
  bool fits = false;

  std::vector<StageReport> stages;

  /// Data-parallel shares by speed (composeStep with replica groups): the
  /// micro-batches of each replica, by data-parallel index, when they are
  /// not all `microBatches`; empty when every replica runs as many. The
  /// figures above are then those of the replica that finishes last
  /// (`microBatches` is its count).
  llvm::SmallVector<unsigned> replicaMicroBatches;

  /// Sum of the exposed communication over all kinds and phases.
  double getExposedCommunicationSeconds() const;
};

/// Bytes Adam reads and writes per parameter it updates in mixed precision:
/// reads the fp32 master weight, momentum and variance (12) and the 16-bit
/// gradient (2), writes the master weight, momentum and variance (12) and
/// the 16-bit parameter (2). In fp32 the same 28: reads the weight, the
/// gradient, momentum and variance (16), writes all but the gradient (12).
inline constexpr double kAdamBytesPerParameter = 28;

/// Composes one step of `plan` on `cluster` from `segments`.
///
/// `segments` describe the whole model in program order, as one device of
/// a tensor-parallel group holds it (so FLOPs, bytes and parameters are
/// already divided by tp, and the collectives are those of that group for
/// one micro-batch of `plan.microBatch` samples).
///
/// Stages: the layer copies (segments with repeat > 1 or isLayer) in
/// program order are cut into pp equal runs (an error if pp does not divide
/// their number); a segment that is not a layer goes with the layer before
/// it, or with the first stage if no layer precedes it.
///
/// Ranks: tp is innermost, then dp, then pp:
/// rank = (stage * dp + replica) * tp + tpIndex; the cluster must have
/// dp * tp * pp devices. Point-to-point transfers between stages send the
/// `inputBytes` of the next stage's first segment from rank r to
/// rank r + dp * tp, forward (activations) and backward (their gradients),
/// and composeStep costs them with getCollectiveTime.
///
/// Fails when a degree, microBatch or globalBatch is 0, when globalBatch is
/// not a multiple of dp * microBatch, when pp does not divide the layers,
/// or when the cluster has too few devices. docs/cluster.md gives the
/// formulas.
llvm::Expected<StepReport> composeStep(llvm::ArrayRef<SegmentCost> segments,
                                       const PlanOptions &plan,
                                       const ClusterSpec &cluster);

/// The data-parallel replicas of one kind of devices: which they are (by
/// data-parallel index) and the segments of one of them, its ops timed on
/// its own devices.
struct ReplicaGroup {
  llvm::SmallVector<unsigned> replicas;
  std::vector<SegmentCost> segments;
};

/// composeStep for a training plan without pipeline stages whose
/// data-parallel replicas run on devices of different speeds (`groups`,
/// covering every replica; fewer than two groups: composeStep of
/// `segments`). The step's globalBatch / microBatch micro-batches are
/// shared out so that the last replica finishes as early as it can: each
/// replica runs at least one, and each further one goes to the replica
/// that would finish it first (optimal for micro-batches of equal work);
/// the gradient synchronization waits for the last. The report is that
/// replica's, with every replica's share (StepReport::replicaMicroBatches).
llvm::Expected<StepReport>
composeStep(llvm::ArrayRef<SegmentCost> segments, const PlanOptions &plan,
            const ClusterSpec &cluster, llvm::ArrayRef<ReplicaGroup> groups);

/// Replaces the memory of `report`'s stages with `memory` (one for every
/// stage, or one per stage; keeping each device's memory), the report's
/// with the fullest stage's, and whether it fits: for a program whose
/// memory is known exactly, such as a generated training step laid out as
/// it runs.
void setStepMemory(StepReport &report, llvm::ArrayRef<StepMemory> memory);

/// The memory of one device of each pipeline position: of its stage, or
/// the sum of its chunks' under interleaved 1F1B (they are held at once;
/// their working sets are used one after another).
std::vector<StepMemory> getPositionMemories(const StepReport &report);

/// Writes `report` for people: plan, step time and its breakdown, FLOP/s,
/// memory, and one line per stage.
void printStepReport(const StepReport &report, llvm::raw_ostream &os);

/// The report as a JSON object the caller embeds in its own report (keys
/// in docs/cluster.md). Called by llvm::json::Value's constructor.
llvm::json::Value toJSON(const StepReport &report);

/// Writes toJSON(report) as one value of `os`.
void writeStepReportJSON(const StepReport &report, llvm::json::OStream &os);

//===----------------------------------------------------------------------===//
// Plan specification (the text of dist-opt's `--plan`)
//===----------------------------------------------------------------------===//

/// Parses `key=value` items separated by commas:
///
///   dp=32,tp=8,pp=4,microbatch=1,recompute=full,zero=1,schedule=1f1b
///
/// dp, tp, pp, microbatch, chunks: positive integers; recompute: none |
/// selective | full; zero: 0 | 1 | 2 | 3; schedule: 1f1b | gpipe | interleaved;
/// precision: bf16 | fp16 | fp32.
/// Every key at most once. `chunks=v` (v >= 2) goes with the interleaved
/// schedule (and implies it); `schedule=interleaved` without chunks runs 2.
/// Unknown keys are errors that suggest the closest key; missing values,
/// non-integers and out-of-range values are errors that name the key
/// ("plan key 'dp' must be ..."). The messages do not name the command-line
/// flag the text came from; the driver adds that. The empty string fixes
/// nothing. Each key given is marked fixed in the result.
llvm::Expected<PlanOptions> parsePlanSpec(llvm::StringRef text);

/// The options of a plan from a plan specification (parsePlanSpec), a mode
/// ("infer" or "train") and, in training, the global batch if one is given.
llvm::Expected<PlanOptions>
makePlanOptions(llvm::StringRef planText, llvm::StringRef modeText,
                std::optional<int64_t> globalBatch);

} // namespace distopt::cost

#endif // DISTOPT_COST_STEPMODEL_H
