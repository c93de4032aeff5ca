//===- StepModel.cpp - Time and memory of one step of a plan --------------===//
//
// Composes segment costs into the time, FLOPs and memory of one inference
// or training step under data, tensor and pipeline parallelism (formulas in
// docs/cluster.md, "Step composition"), prints and serializes the report,
// and parses plan specifications (`dp=2,tp=4,...`).
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/StepModel.h"
#include "distopt/Support/Suggest.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <queue>
#include <tuple>

#define DEBUG_TYPE "dist-step-model"

using namespace distopt::cost;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

bool distopt::cost::hasTrainingSettings(const PlanOptions &plan) {
  return plan.mode == StepMode::Training && !plan.explicitStep;
}

void distopt::cost::addTrainingSettings(const PlanOptions &plan,
                                        llvm::json::Object &object) {
  object["recompute"] = stringifyRecomputePolicy(plan.recompute);
  object["zero"] = unsigned(plan.zero);
  object["schedule"] = stringifyPipelineScheduleKind(plan.schedule);
  object["chunks"] = plan.chunks;
}

StringRef distopt::cost::stringifyStepMode(StepMode mode) {
  return mode == StepMode::Training ? "training" : "inference";
}

StringRef distopt::cost::stringifyRecomputePolicy(RecomputePolicy policy) {
  switch (policy) {
  case RecomputePolicy::None:
    return "none";
  case RecomputePolicy::Selective:
    return "selective";
  case RecomputePolicy::Full:
    return "full";
  }
  return "unknown";
}

StringRef
distopt::cost::stringifyPipelineScheduleKind(PipelineScheduleKind kind) {
  switch (kind) {
  case PipelineScheduleKind::GPipe:
    return "gpipe";
  case PipelineScheduleKind::OneFOneB:
    return "1f1b";
  case PipelineScheduleKind::Interleaved1F1B:
    return "interleaved-1f1b";
  }
  return "unknown";
}

StringRef distopt::cost::stringifyCommunicationPhase(CommunicationPhase phase) {
  switch (phase) {
  case CommunicationPhase::Layer:
    return "layer";
  case CommunicationPhase::Pipeline:
    return "pipeline";
  case CommunicationPhase::Gradient:
    return "gradient";
  }
  return "unknown";
}

bool StepMemory::isTight() const {
  return fits() && headroom() < kTightHeadroom * deviceMemory;
}

double StepReport::getExposedCommunicationSeconds() const {
  double sum = 0;
  for (const CommunicationTime &comm : communication)
    sum += comm.exposedSeconds;
  return sum;
}

//===----------------------------------------------------------------------===//
// Composition
//===----------------------------------------------------------------------===//

namespace {

constexpr unsigned kNumCollectiveKinds = unsigned(CollectiveKind::SendRecv) + 1;

/// Seconds per collective kind.
using KindSeconds = std::array<double, kNumCollectiveKinds>;

/// One copy of a segment, in program order.
struct SegmentCopy {
  const SegmentCost *segment;
  bool isLayer;
};

/// What composeStep accumulates per stage before it fills StageReport.
struct StageWork {
  llvm::SmallVector<SegmentCopy> copies;
  double forwardCompute = 0, backwardCompute = 0, recomputeCompute = 0;
  KindSeconds layerCollectives{};
  double forwardCollectives = 0, backwardCollectives = 0,
         recomputeCollectives = 0;
  double forwardTransfer = 0, backwardTransfer = 0;
  double forwardFlops = 0, recomputeFlops = 0;
  /// Backward of one micro-batch with its recompute, collectives and the
  /// gradient it sends to the previous stage.
  double backwardPart = 0;
  KindSeconds gradientTotal{}, gradientExposed{};
};

} // namespace

static bool isLayerSegment(const SegmentCost &segment) {
  return segment.repeat > 1 || segment.isLayer;
}

static double sumSeconds(llvm::ArrayRef<CollectiveUse> uses) {
  double sum = 0;
  for (const CollectiveUse &use : uses)
    sum += use.seconds;
  return sum;
}

static void addSeconds(KindSeconds &into, llvm::ArrayRef<CollectiveUse> uses,
                       double scale = 1) {
  for (const CollectiveUse &use : uses)
    into[unsigned(use.kind)] += scale * use.seconds;
}

/// The rank of tensor-parallel index `tpIndex` of replica `replica` in
/// stage `stage`: tp innermost, then dp, then pp.
static unsigned getRank(const PlanOptions &plan, unsigned stage,
                        unsigned replica, unsigned tpIndex) {
  unsigned position = stage % plan.pipelineParallel;
  return (position * plan.dataParallel + replica) * plan.tensorParallel +
         tpIndex;
}

/// Devices the plan uses: dp * tp * pp.
static uint64_t getNumPlanDevices(const PlanOptions &plan) {
  return uint64_t(plan.dataParallel) * plan.tensorParallel *
         plan.pipelineParallel;
}

/// The ranks of stage `stage`: [first, end), tp innermost, then dp. Under
/// interleaved 1F1B stage c runs on pipeline position c mod pp.
static std::pair<unsigned, unsigned> getStageRanks(const PlanOptions &plan,
                                                   unsigned stage) {
  unsigned first = getRank(plan, stage, 0, 0);
  return {first, first + plan.dataParallel * plan.tensorParallel};
}

/// Slowest point-to-point transfer of `bytes` from every device of stage
/// `from` to its peer in stage `to`. Every device of a node sends over the
/// same kind of link to the same peer node, so each run of ranks whose node
/// and peer node stay the same is priced once.
static double getStageTransferTime(const RankLocator &locator,
                                   const PlanOptions &plan, unsigned from,
                                   unsigned to, double bytes) {
  if (bytes <= 0)
    return 0;
  auto [first, end] = getStageRanks(plan, from);
  unsigned peerFirst = getStageRanks(plan, to).first;
  double slowest = 0;
  for (unsigned rank = first; rank < end;) {
    unsigned peer = peerFirst + (rank - first);
    unsigned ranks[] = {rank, peer};
    slowest =
        std::max(slowest, getCollectiveTime(getCollectiveGroup(locator, ranks),
                                            CollectiveKind::SendRecv,
                                            CollectiveAlgorithm::Ring, bytes));
    rank += std::min(locator.getRanksLeftInNode(rank),
                     locator.getRanksLeftInNode(peer));
  }
  return slowest;
}

/// Seconds a layer copy of `segment` runs again before its backward.
static double getRecomputeSeconds(const SegmentCost &segment,
                                  RecomputePolicy recompute) {
  switch (recompute) {
  case RecomputePolicy::None:
    return 0;
  case RecomputePolicy::Selective:
    return segment.selectiveSeconds;
  case RecomputePolicy::Full:
    return segment.forwardSeconds + sumSeconds(segment.forwardCollectives);
  }
  return 0;
}

/// Exposed time of the gradient synchronization of one stage.
///
/// The last micro-batch's backward runs the stage's copies in reverse
/// program order; the gradient collectives of a copy start when its
/// backward ends and the previous collective is done (one communication
/// stream). Whatever runs past `hiddenUntil` (the end of the stage's
/// backward plus the drain of the earlier stages) is exposed. All-gathers
/// are ZeRO parameter gathers after the optimizer step and fully exposed.
///
/// Under ZeRO (stage 1 and up) a gradient all-reduce over the replicas is
/// its two ring halves, each half its time: a reduce-scatter in its place
/// and an all-gather of the updated parameters after the optimizer step
/// (exposed). ZeRO-2 keeps no whole gradients, so every micro-batch
/// reduce-scatters; ZeRO-3 keeps no whole parameters either, so every
/// micro-batch also all-gathers them before its forward and before its
/// backward. That per-micro-batch communication runs beside the stage's
/// compute; what it takes beyond it is exposed, once per micro-batch.
static void composeGradientSync(StageWork &stage, const PlanOptions &plan,
                                unsigned microBatches, double hiddenUntil) {
  bool zero = plan.zero >= ZeroStage::Zero1;
  double computeEnd = 0, streamEnd = 0, halves = 0;
  for (const SegmentCopy &copy : llvm::reverse(stage.copies)) {
    const SegmentCost &segment = *copy.segment;
    computeEnd +=
        segment.backwardSeconds + sumSeconds(segment.backwardCollectives);
    if (copy.isLayer)
      computeEnd += getRecomputeSeconds(segment, plan.recompute);
    for (const CollectiveUse &use : segment.gradientCollectives) {
      CollectiveKind kind = use.kind;
      double seconds = use.seconds;
      if (zero && kind == CollectiveKind::AllReduce) {
        kind = CollectiveKind::ReduceScatter;
        seconds /= 2;
        halves += seconds;
      }
      stage.gradientTotal[unsigned(kind)] += seconds;
      if (kind == CollectiveKind::AllGather) {
        stage.gradientExposed[unsigned(kind)] += seconds;
        continue;
      }
      double start = std::max(streamEnd, computeEnd);
      streamEnd = start + seconds;
      stage.gradientExposed[unsigned(kind)] +=
          std::max(0.0, streamEnd - std::max(start, hiddenUntil));
    }
  }
  if (halves == 0)
    return;
  unsigned gather = unsigned(CollectiveKind::AllGather);
  unsigned scatter = unsigned(CollectiveKind::ReduceScatter);
  stage.gradientTotal[gather] += halves;
  stage.gradientExposed[gather] += halves;
  double perMicroBatch = 0;
  if (plan.zero >= ZeroStage::Zero2) {
    stage.gradientTotal[scatter] += (microBatches - 1) * halves;
    perMicroBatch += halves;
  }
  if (plan.zero >= ZeroStage::Zero3) {
    stage.gradientTotal[gather] += microBatches * 2 * halves;
    perMicroBatch += 2 * halves;
  }
  double compute =
      stage.forwardCompute + stage.backwardCompute + stage.recomputeCompute;
  stage.gradientExposed[plan.zero >= ZeroStage::Zero3 ? gather : scatter] +=
      microBatches * std::max(0.0, perMicroBatch - compute);
}

/// Checks the chunks of an interleaved 1F1B plan: at least 2 on at least 2
/// pipeline positions, in a training step.
static llvm::Error checkChunks(const PlanOptions &plan) {
  bool interleaved = plan.schedule == PipelineScheduleKind::Interleaved1F1B;
  if (!interleaved && plan.chunks == 1)
    return llvm::Error::success();
  if (!interleaved)
    return llvm::createStringError(
        "chunks = %u stages per pipeline position need the interleaved "
        "schedule, not %s",
        plan.chunks, stringifyPipelineScheduleKind(plan.schedule).data());
  if (plan.chunks < 2)
    return llvm::createStringError(
        "the interleaved schedule runs at least 2 chunks per pipeline "
        "position (got chunks = %u; one chunk is the 1f1b schedule)",
        plan.chunks);
  if (plan.pipelineParallel < 2)
    return llvm::createStringError(
        "the interleaved schedule needs pipeline stages (pp >= 2, got pp = "
        "%u)",
        plan.pipelineParallel);
  if (plan.mode == StepMode::Inference && !plan.explicitStep)
    return llvm::createStringError(
        "the interleaved 1F1B schedule runs training steps; an inference "
        "pipeline runs gpipe");
  return llvm::Error::success();
}

/// Checks the degrees, batches and device count of `plan`; returns the
/// number of micro-batches per replica.
static llvm::Expected<unsigned> checkPlan(const PlanOptions &plan,
                                          size_t numSegments,
                                          const ClusterSpec &cluster) {
  if (plan.dataParallel == 0 || plan.tensorParallel == 0 ||
      plan.pipelineParallel == 0)
    return llvm::createStringError(
        "parallel degrees must be at least 1 (got dp=%u, tp=%u, pp=%u)",
        plan.dataParallel, plan.tensorParallel, plan.pipelineParallel);
  if (plan.microBatch < 1 || plan.globalBatch < 1)
    return llvm::createStringError(
        "micro-batch and global batch must be at least 1 (got micro-batch "
        "%lld, global batch %lld)",
        (long long)plan.microBatch, (long long)plan.globalBatch);
  if (llvm::Error error = checkChunks(plan))
    return std::move(error);
  if (numSegments == 0)
    return llvm::createStringError("a step needs at least one segment");

  int64_t perStep = int64_t(plan.dataParallel) * plan.microBatch;
  if (plan.globalBatch < perStep)
    return llvm::createStringError(
        "global batch %lld is smaller than dp * micro-batch = %u * %lld = "
        "%lld: no micro-batch per replica",
        (long long)plan.globalBatch, plan.dataParallel,
        (long long)plan.microBatch, (long long)perStep);
  if (plan.globalBatch % perStep != 0)
    return llvm::createStringError(
        "global batch %lld is not a multiple of dp * micro-batch = %u * %lld "
        "= %lld, so the number of micro-batches is not an integer",
        (long long)plan.globalBatch, plan.dataParallel,
        (long long)plan.microBatch, (long long)perStep);
  int64_t microBatches = plan.globalBatch / perStep;
  if (microBatches > std::numeric_limits<unsigned>::max())
    return llvm::createStringError("%lld micro-batches are too many",
                                   (long long)microBatches);
  if (plan.chunks > 1 && microBatches % plan.pipelineParallel != 0)
    return llvm::createStringError(
        "the interleaved 1F1B schedule runs the micro-batches in groups of "
        "pp = %u, but there are %lld per replica (global batch %lld / (dp * "
        "micro-batch) = %lld / %lld)",
        plan.pipelineParallel, (long long)microBatches,
        (long long)plan.globalBatch, (long long)plan.globalBatch,
        (long long)perStep);

  uint64_t devices = getNumPlanDevices(plan);
  if (devices > cluster.getNumDevices())
    return llvm::createStringError(
        "plan dp=%u x tp=%u x pp=%u needs %llu devices, but cluster '%s' has "
        "%u",
        plan.dataParallel, plan.tensorParallel, plan.pipelineParallel,
        (unsigned long long)devices, cluster.name.c_str(),
        cluster.getNumDevices());
  return unsigned(microBatches);
}

/// Expands `segments` into copies and cuts the layer copies into
/// `numStages` equal runs; a segment that is not a layer goes with the
/// layer before it (the first stage when none precedes it).
static llvm::Expected<std::vector<StageWork>>
assignStages(llvm::ArrayRef<SegmentCost> segments, unsigned numStages) {
  uint64_t numLayers = 0;
  std::string layerList;
  for (const SegmentCost &segment : segments) {
    if (segment.repeat == 0)
      return llvm::createStringError("segment '%s' is repeated 0 times",
                                     segment.name.c_str());
    if (!isLayerSegment(segment))
      continue;
    numLayers += segment.repeat;
    if (!layerList.empty())
      layerList += ", ";
    layerList += llvm::formatv("'{0}' x {1}", segment.name, segment.repeat);
  }
  // Segments placed on their stages by the planner.
  if (llvm::any_of(segments,
                   [](const SegmentCost &s) { return s.stage >= 0; })) {
    std::vector<StageWork> stages(numStages);
    for (const SegmentCost &segment : segments) {
      if (segment.stage < 0 || unsigned(segment.stage) >= numStages)
        return llvm::createStringError(
            "segment '%s' is placed on stage %d of %u", segment.name.c_str(),
            segment.stage, numStages);
      if (segment.perStep)
        continue; // getUpdateSeconds
      for (unsigned copy = 0; copy < segment.repeat; ++copy)
        stages[segment.stage].copies.push_back({&segment, false});
    }
    return stages;
  }
  if (numStages > 1 && numLayers == 0)
    return llvm::createStringError(
        "pp = %u stages need layers to divide among them, but no segment is a "
        "layer (repeat > 1)",
        numStages);
  if (numLayers % numStages != 0)
    return llvm::createStringError(
        "the %llu layers (%s) do not divide evenly into pp = %u stages: layers "
        "per stage = layers / pp must be an integer",
        (unsigned long long)numLayers, layerList.c_str(), numStages);
  uint64_t layersPerStage = std::max<uint64_t>(1, numLayers / numStages);

  std::vector<StageWork> stages(numStages);
  uint64_t layerIndex = 0;
  unsigned currentStage = 0;
  for (const SegmentCost &segment : segments) {
    bool isLayer = isLayerSegment(segment);
    for (unsigned copy = 0; copy < segment.repeat; ++copy) {
      if (isLayer)
        currentStage = unsigned(
            std::min<uint64_t>(layerIndex++ / layersPerStage, numStages - 1));
      stages[currentStage].copies.push_back({&segment, isLayer});
    }
  }
  return stages;
}

/// Adds the compute and collectives of one micro-batch of `stage`'s
/// copies: forward; in training backward, and the forward again of the
/// layers that are recomputed.
static void addStageCompute(StageWork &stage, bool training,
                            RecomputePolicy recompute) {
  for (const SegmentCopy &copy : stage.copies) {
    const SegmentCost &segment = *copy.segment;
    stage.forwardCompute += segment.forwardSeconds;
    stage.forwardCollectives += sumSeconds(segment.forwardCollectives);
    stage.forwardFlops += segment.forwardFlops;
    addSeconds(stage.layerCollectives, segment.forwardCollectives);
    if (!training)
      continue;
    stage.backwardCompute += segment.backwardSeconds;
    stage.backwardCollectives += sumSeconds(segment.backwardCollectives);
    addSeconds(stage.layerCollectives, segment.backwardCollectives);
    if (!copy.isLayer)
      continue;
    if (recompute == RecomputePolicy::Full) {
      stage.recomputeCompute += segment.forwardSeconds;
      stage.recomputeCollectives += sumSeconds(segment.forwardCollectives);
      stage.recomputeFlops += segment.forwardFlops;
      addSeconds(stage.layerCollectives, segment.forwardCollectives);
    } else if (recompute == RecomputePolicy::Selective) {
      stage.recomputeCompute += segment.selectiveSeconds;
      stage.recomputeFlops += segment.selectiveFlops;
    }
  }
}

/// Fills the time per micro-batch of every stage: its compute and
/// collectives and the point-to-point transfers it sends.
static void addStageTimes(std::vector<StageWork> &stages,
                          const PlanOptions &plan, const RankLocator &locator) {
  bool training = plan.mode == StepMode::Training;
  unsigned p = stages.size();
  // Stages on the same pipeline positions send the same bytes at the same
  // price (the chunks of interleaved 1F1B): each is priced once.
  std::map<std::tuple<unsigned, unsigned, double>, double> priced;
  auto transfer = [&](unsigned from, unsigned to, double bytes) {
    unsigned positions = plan.pipelineParallel;
    auto [it, inserted] =
        priced.try_emplace({from % positions, to % positions, bytes}, 0);
    if (inserted)
      it->second = getStageTransferTime(locator, plan, from, to, bytes);
    return it->second;
  };
  for (unsigned s = 0; s < p; ++s) {
    StageWork &stage = stages[s];
    addStageCompute(stage, training, plan.recompute);
    // Activations go to the next stage; in training their gradients come
    // back. The bytes are the input of the receiving stage's first copy.
    if (s + 1 < p && !stages[s + 1].copies.empty())
      stage.forwardTransfer =
          transfer(s, s + 1, stages[s + 1].copies.front().segment->inputBytes);
    if (training && s > 0 && !stage.copies.empty())
      stage.backwardTransfer =
          transfer(s, s - 1, stage.copies.front().segment->inputBytes);
    stage.backwardPart = stage.backwardCompute + stage.backwardCollectives +
                         stage.recomputeCompute + stage.recomputeCollectives +
                         stage.backwardTransfer;
  }
}

/// Fills what each stage holds and its time per micro-batch into
/// `report.stages`, and picks the critical (slowest) stage.
static void reportStages(llvm::ArrayRef<StageWork> stages, StepReport &report) {
  report.stages.resize(stages.size());
  for (auto [s, work] : llvm::enumerate(stages)) {
    StageReport &out = report.stages[s];
    for (const SegmentCopy &copy : work.copies) {
      if (copy.isLayer)
        ++out.layers;
      out.parameters += copy.segment->parameters;
      if (out.segments.empty() || out.segments.back() != copy.segment->name)
        out.segments.push_back(copy.segment->name);
    }
    out.forwardSeconds = work.forwardCompute + work.forwardCollectives;
    out.backwardSeconds = work.backwardCompute + work.backwardCollectives;
    out.recomputeSeconds = work.recomputeCompute + work.recomputeCollectives;
    out.pipelineTransferSeconds = work.forwardTransfer + work.backwardTransfer;
    out.microBatchSeconds = out.forwardSeconds + out.backwardSeconds +
                            out.recomputeSeconds + out.pipelineTransferSeconds;
    if (out.microBatchSeconds >
        report.stages[report.criticalStage].microBatchSeconds)
      report.criticalStage = s;
  }
}

/// The pipeline: m micro-batches of the critical pipeline position (the
/// one whose stages take longest per micro-batch: one stage, or its v
/// chunks under interleaved 1F1B), its layer collectives and transfers, and
/// the bubble of (p - 1) / v of its micro-batch times. Returns its seconds
/// per micro-batch.
static double composePipeline(llvm::ArrayRef<StageWork> stages,
                              const PlanOptions &plan, StepReport &report) {
  unsigned m = report.microBatches, p = plan.pipelineParallel;
  unsigned v = stages.size() / p;
  std::vector<double> positionSeconds(p, 0);
  for (auto [s, stage] : llvm::enumerate(report.stages))
    positionSeconds[s % p] += stage.microBatchSeconds;
  unsigned critical =
      std::max_element(positionSeconds.begin(), positionSeconds.end()) -
      positionSeconds.begin();
  KindSeconds layerCollectives{};
  double transfer = 0;
  report.criticalStage = critical;
  for (unsigned s = critical; s < stages.size(); s += p) {
    const StageWork &stage = stages[s];
    report.forwardComputeSeconds += m * stage.forwardCompute;
    report.backwardComputeSeconds += m * stage.backwardCompute;
    report.recomputeSeconds += m * stage.recomputeCompute;
    for (unsigned kind = 0; kind < kNumCollectiveKinds; ++kind)
      layerCollectives[kind] += m * stage.layerCollectives[kind];
    transfer += m * (stage.forwardTransfer + stage.backwardTransfer);
    if (report.stages[s].microBatchSeconds >
        report.stages[report.criticalStage].microBatchSeconds)
      report.criticalStage = s;
  }
  report.pipelineBubbleSeconds = (p - 1) * positionSeconds[critical] / v;
  for (unsigned kind = 0; kind < kNumCollectiveKinds; ++kind)
    if (layerCollectives[kind] > 0)
      report.communication.push_back(
          {CollectiveKind(kind), CommunicationPhase::Layer,
           layerCollectives[kind], layerCollectives[kind]});
  if (transfer > 0)
    report.communication.push_back({CollectiveKind::SendRecv,
                                    CommunicationPhase::Pipeline, transfer,
                                    transfer});
  return positionSeconds[critical];
}

/// Seconds of the mixed-precision Adam step of stage `stage`, which holds
/// `parameters` per device, at the slowest memory rate of its devices.
static double getOptimizerSeconds(const PlanOptions &plan,
                                  const RankLocator &locator, unsigned stage,
                                  double parameters) {
  double updated = plan.zero >= ZeroStage::Zero1
                       ? parameters / plan.dataParallel
                       : parameters;
  double slowestRate = std::numeric_limits<double>::infinity();
  auto [first, end] = getStageRanks(plan, stage);
  for (unsigned rank = first; rank < end;
       rank += locator.getRanksLeftInNode(rank)) {
    const DeviceType &device = locator.getDeviceType(rank);
    slowestRate = std::min(slowestRate, device.memoryBandwidth *
                                            device.efficiency.memoryEfficiency);
  }
  return slowestRate > 0 ? kAdamBytesPerParameter * updated / slowestRate : 0;
}

/// After the pipeline, in training: gradient synchronization and the
/// optimizer step of every stage; the pipeline position that finishes last
/// (the tail: its stage, or its chunks one after another) decides. Returns
/// the tail's seconds.
static double composeTail(std::vector<StageWork> &stages,
                          const PlanOptions &plan, const RankLocator &locator,
                          StepReport &report) {
  unsigned p = plan.pipelineParallel;
  std::vector<double> positionTail(p, 0);
  double drain = 0;
  for (unsigned s = 0; s < stages.size(); ++s) {
    StageWork &stage = stages[s];
    StageReport &out = report.stages[s];
    // Stages 0..s-1 still run their last backward after stage s is done.
    composeGradientSync(stage, plan, report.microBatches,
                        stage.backwardPart - stage.backwardTransfer + drain);
    drain += stage.backwardPart;
    for (double seconds : stage.gradientExposed)
      out.exposedGradientSeconds += seconds;
    out.optimizerSeconds =
        getOptimizerSeconds(plan, locator, s, out.parameters);
    positionTail[s % p] += out.exposedGradientSeconds + out.optimizerSeconds;
  }
  unsigned tail = std::max_element(positionTail.begin(), positionTail.end()) -
                  positionTail.begin();
  report.tailStage = tail;
  KindSeconds total{}, exposed{};
  for (unsigned s = tail; s < stages.size(); s += p) {
    report.optimizerSeconds += report.stages[s].optimizerSeconds;
    for (unsigned kind = 0; kind < kNumCollectiveKinds; ++kind) {
      total[kind] += stages[s].gradientTotal[kind];
      exposed[kind] += stages[s].gradientExposed[kind];
    }
  }
  for (unsigned kind = 0; kind < kNumCollectiveKinds; ++kind)
    if (total[kind] > 0)
      report.communication.push_back({CollectiveKind(kind),
                                      CommunicationPhase::Gradient, total[kind],
                                      exposed[kind]});
  return positionTail[tail];
}

/// FLOPs per device and per second, averaged over the devices of the plan.
static void composeFlops(llvm::ArrayRef<StageWork> stages,
                         const RankLocator &locator, StepReport &report) {
  const PlanOptions &plan = report.plan;
  // Every pipeline position holds 1 / pp of the model.
  unsigned m = report.microBatches, p = plan.pipelineParallel;
  uint64_t devices = getNumPlanDevices(plan);
  double forwardFlops = 0, recomputeFlops = 0, peak = 0;
  for (const StageWork &stage : stages) {
    forwardFlops += stage.forwardFlops;
    recomputeFlops += stage.recomputeFlops;
  }
  for (uint64_t rank = 0; rank < devices;) {
    uint64_t run =
        std::min<uint64_t>(locator.getRanksLeftInNode(rank), devices - rank);
    peak += run * locator.getDeviceType(rank).getPeakFlops(plan.precision);
    rank += run;
  }
  report.peakFlopsPerSecond = peak / devices;
  double passes = plan.mode == StepMode::Training ? 3 : 1;
  report.modelFlopsPerDevice = passes * m * forwardFlops / p;
  report.hardwareFlopsPerDevice =
      report.modelFlopsPerDevice + double(m) * recomputeFlops / p;
  if (report.stepSeconds > 0) {
    report.modelFlopsPerSecond =
        report.modelFlopsPerDevice / report.stepSeconds;
    report.hardwareFlopsPerSecond =
        report.hardwareFlopsPerDevice / report.stepSeconds;
  }
  if (report.peakFlopsPerSecond > 0) {
    report.modelFlopsUtilization =
        report.modelFlopsPerSecond / report.peakFlopsPerSecond;
    report.hardwareFlopsUtilization =
        report.hardwareFlopsPerSecond / report.peakFlopsPerSecond;
  }
}

/// The memory of one device of stage `s`: parameters (and in training
/// gradients and optimizer states), activations of the micro-batches in
/// flight, the largest working set and the communication buffers.
static StepMemory getStageMemory(llvm::ArrayRef<StageWork> stages, unsigned s,
                                 const StepReport &report,
                                 const RankLocator &locator) {
  const PlanOptions &plan = report.plan;
  bool training = plan.mode == StepMode::Training;
  bool recomputes = training && plan.recompute == RecomputePolicy::Full;
  unsigned p = stages.size();
  const StageWork &stage = stages[s];
  StepMemory memory;
  memory.stage = s;
  double parameterBytes = 0, activationBytes = 0, layerInputBytes = 0,
         largestLayerActivations = 0, largestCollective = 0;
  for (const SegmentCopy &copy : stage.copies) {
    const SegmentCost &segment = *copy.segment;
    parameterBytes += segment.parameterBytes;
    memory.temporaries =
        std::max(memory.temporaries, segment.peakTemporaryBytes);
    for (const CollectiveUse &use : segment.forwardCollectives)
      largestCollective = std::max(largestCollective, use.bytes);
    if (training)
      for (const CollectiveUse &use : segment.backwardCollectives)
        largestCollective = std::max(largestCollective, use.bytes);
    if (recomputes && copy.isLayer) {
      layerInputBytes += segment.inputBytes;
      largestLayerActivations =
          std::max(largestLayerActivations, segment.activationBytes);
    } else if (copy.isLayer && training &&
               plan.recompute == RecomputePolicy::Selective) {
      // The attention core of one layer is alive again during its backward.
      activationBytes += segment.activationBytes - segment.selectiveBytes;
      largestLayerActivations =
          std::max(largestLayerActivations, segment.selectiveBytes);
    } else {
      activationBytes += segment.activationBytes;
    }
  }
  // Receive buffers: the activation from the previous stage and, in
  // training, the gradient from the next one.
  double receiveBytes = 0;
  if (s > 0 && !stage.copies.empty())
    receiveBytes += stage.copies.front().segment->inputBytes;
  if (training && s + 1 < p && !stages[s + 1].copies.empty())
    receiveBytes += stages[s + 1].copies.front().segment->inputBytes;
  memory.communicationBuffers = receiveBytes + largestCollective;
  if (training) {
    ModelStateMemory states =
        getAdamModelStateMemory(report.stages[s].parameters, plan.zero,
                                plan.dataParallel, plan.precision);
    memory.parameters = states.parameters;
    memory.gradients = states.gradients;
    memory.optimizerStates = states.optimizerStates;
    unsigned inFlight =
        getStageInFlightMicroBatches(plan.schedule, plan.pipelineParallel,
                                     plan.chunks, report.microBatches, s);
    memory.activations = inFlight * (activationBytes + layerInputBytes) +
                         largestLayerActivations;
  } else {
    memory.parameters = parameterBytes;
  }
  memory.deviceMemory = std::numeric_limits<double>::infinity();
  auto [first, end] = getStageRanks(plan, s);
  for (unsigned rank = first; rank < end;
       rank += locator.getRanksLeftInNode(rank))
    memory.deviceMemory =
        std::min(memory.deviceMemory, double(locator.getDeviceMemory(rank)));
  return memory;
}

std::vector<StepMemory>
distopt::cost::getPositionMemories(const StepReport &report) {
  unsigned p = report.plan.pipelineParallel;
  std::vector<StepMemory> positions(std::min<size_t>(p, report.stages.size()));
  for (auto [s, stage] : llvm::enumerate(report.stages)) {
    const StepMemory &m = stage.memory;
    StepMemory &sum = positions[s % p];
    if (s < p) {
      sum = m;
      continue;
    }
    sum.parameters += m.parameters;
    sum.gradients += m.gradients;
    sum.optimizerStates += m.optimizerStates;
    sum.activations += m.activations;
    sum.temporaries = std::max(sum.temporaries, m.temporaries);
    sum.communicationBuffers += m.communicationBuffers;
    sum.inputs += m.inputs;
    sum.deviceMemory = std::min(sum.deviceMemory, m.deviceMemory);
  }
  return positions;
}

/// Memory per device of each stage; the report's memory is the pipeline
/// position with the least headroom.
static void composeMemory(llvm::ArrayRef<StageWork> stages,
                          const RankLocator &locator, StepReport &report) {
  for (unsigned s = 0; s < stages.size(); ++s)
    report.stages[s].memory = getStageMemory(stages, s, report, locator);
  report.fits = true;
  double leastHeadroom = std::numeric_limits<double>::infinity();
  for (const StepMemory &memory : getPositionMemories(report)) {
    report.fits &= memory.fits();
    double headroom = memory.deviceMemory - memory.total();
    if (headroom < leastHeadroom) {
      leastHeadroom = headroom;
      report.memory = memory;
    }
  }
}

void distopt::cost::setStepMemory(StepReport &report,
                                  llvm::ArrayRef<StepMemory> memory) {
  // One memory for every stage, or one per stage.
  for (auto [s, stage] : llvm::enumerate(report.stages)) {
    StepMemory exact = memory[memory.size() == 1 ? 0 : s];
    exact.stage = s;
    exact.deviceMemory = stage.memory.deviceMemory;
    stage.memory = exact;
  }
  // The report's memory is the fullest pipeline position's.
  std::vector<StepMemory> positions = getPositionMemories(report);
  const StepMemory *fullest = &positions.front();
  for (const StepMemory &position : positions)
    if (position.total() > fullest->total())
      fullest = &position;
  report.memory = *fullest;
  report.fits =
      llvm::all_of(positions, [](const StepMemory &m) { return m.fits(); });
}

/// The updates of a generated training step's stages (`perStep`
/// segments) run once per step after the pipeline, side by side on the
/// pipeline positions (one after another for the chunks of one): the
/// slowest position's decides.
static double getUpdateSeconds(llvm::ArrayRef<SegmentCost> segments,
                               unsigned positions) {
  llvm::SmallDenseMap<int, double> perStage;
  for (const SegmentCost &segment : segments)
    if (segment.perStep)
      perStage[segment.stage % int(positions)] +=
          segment.repeat *
          (segment.forwardSeconds + sumSeconds(segment.forwardCollectives));
  double slowest = 0;
  for (const auto &[stage, seconds] : perStage)
    slowest = std::max(slowest, seconds);
  return slowest;
}

/// The step of `plan` with `microBatches` per replica (checked by
/// checkPlan).
static llvm::Expected<StepReport>
composeChecked(llvm::ArrayRef<SegmentCost> segments, const PlanOptions &plan,
               const ClusterSpec &cluster, unsigned microBatches) {
  llvm::Expected<std::vector<StageWork>> stages =
      assignStages(segments, plan.pipelineParallel * plan.chunks);
  if (!stages)
    return stages.takeError();
  RankLocator locator(cluster);
  addStageTimes(*stages, plan, locator);

  StepReport report;
  report.plan = plan;
  report.microBatches = microBatches;
  reportStages(*stages, report);
  double positionSeconds = composePipeline(*stages, plan, report);
  double tailSeconds = plan.mode == StepMode::Training
                           ? composeTail(*stages, plan, locator, report)
                           : 0;
  if (double update = getUpdateSeconds(segments, plan.pipelineParallel);
      update > 0) {
    report.optimizerSeconds = update;
    tailSeconds += update;
  }
  report.stepSeconds = report.microBatches * positionSeconds +
                       report.pipelineBubbleSeconds + tailSeconds;
  composeFlops(*stages, locator, report);
  composeMemory(*stages, locator, report);

  LLVM_DEBUG(llvm::dbgs() << "composed step: " << report.stepSeconds
                          << " s, critical stage " << report.criticalStage
                          << ", tail stage " << report.tailStage << "\n");
  return report;
}

llvm::Expected<StepReport>
distopt::cost::composeStep(llvm::ArrayRef<SegmentCost> segments,
                           const PlanOptions &plan,
                           const ClusterSpec &cluster) {
  llvm::Expected<unsigned> microBatches =
      checkPlan(plan, segments.size(), cluster);
  if (!microBatches)
    return microBatches.takeError();
  return composeChecked(segments, plan, cluster, *microBatches);
}

llvm::Expected<StepReport>
distopt::cost::composeStep(llvm::ArrayRef<SegmentCost> segments,
                           const PlanOptions &plan, const ClusterSpec &cluster,
                           llvm::ArrayRef<ReplicaGroup> groups) {
  if (groups.size() < 2 || plan.mode != StepMode::Training ||
      plan.pipelineParallel != 1)
    return composeStep(segments, plan, cluster);
  llvm::Expected<unsigned> equal = checkPlan(plan, segments.size(), cluster);
  if (!equal)
    return equal.takeError();
  // Each group's step is a fixed part plus m micro-batch times (no
  // pipeline: no bubble); two compositions give both.
  struct Line {
    double fixed = 0, perMicroBatch = 0;
  };
  std::vector<Line> lines;
  std::vector<unsigned> groupOf(plan.dataParallel, ~0u);
  for (auto [g, group] : llvm::enumerate(groups)) {
    llvm::Expected<StepReport> one =
        composeChecked(group.segments, plan, cluster, 1);
    if (!one)
      return one.takeError();
    llvm::Expected<StepReport> two =
        composeChecked(group.segments, plan, cluster, 2);
    if (!two)
      return two.takeError();
    double per = two->stepSeconds - one->stepSeconds;
    lines.push_back({one->stepSeconds - per, per});
    for (unsigned r : group.replicas) {
      if (r >= plan.dataParallel || groupOf[r] != ~0u)
        return llvm::createStringError(
            "replica groups must cover each of the %u data-parallel "
            "replicas once",
            plan.dataParallel);
      groupOf[r] = unsigned(g);
    }
  }
  if (llvm::is_contained(groupOf, ~0u))
    return llvm::createStringError(
        "replica groups must cover each of the %u data-parallel replicas once",
        plan.dataParallel);
  // One micro-batch each, then each next one to the replica that would
  // finish it first (ties: the lower index).
  uint64_t total = uint64_t(*equal) * plan.dataParallel;
  llvm::SmallVector<unsigned> shares(plan.dataParallel, 1);
  auto finish = [&](unsigned r, unsigned m) {
    const Line &line = lines[groupOf[r]];
    return line.fixed + m * line.perMicroBatch;
  };
  using Entry = std::pair<double, unsigned>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> next;
  for (unsigned r = 0; r < plan.dataParallel; ++r)
    next.push({finish(r, 2), r});
  for (uint64_t given = plan.dataParallel; given < total; ++given) {
    unsigned r = next.top().second;
    next.pop();
    ++shares[r];
    next.push({finish(r, shares[r] + 1), r});
  }
  // The replica that finishes last decides: each group's with the most
  // micro-batches is composed, and the slowest one's report is the step's.
  std::optional<StepReport> report;
  for (auto [g, group] : llvm::enumerate(groups)) {
    unsigned most = 0;
    for (unsigned r : group.replicas)
      most = std::max(most, shares[r]);
    llvm::Expected<StepReport> step =
        composeChecked(group.segments, plan, cluster, most);
    if (!step)
      return step.takeError();
    if (!report || step->stepSeconds > report->stepSeconds)
      report = std::move(*step);
  }
  if (llvm::any_of(shares, [&](unsigned m) { return m != shares.front(); }))
    report->replicaMicroBatches = std::move(shares);
  return std::move(*report);
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

static constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

static std::string formatSeconds(double seconds) {
  if (seconds == 0)
    return "0 s";
  if (seconds >= 1)
    return llvm::formatv("{0:f3} s", seconds).str();
  if (seconds >= 1e-3)
    return llvm::formatv("{0:f3} ms", seconds * 1e3).str();
  return llvm::formatv("{0:f3} us", seconds * 1e6).str();
}

static std::string formatBytes(double bytes) {
  if (bytes >= 0.1 * kGiB || bytes == 0)
    return llvm::formatv("{0:f2} GiB", bytes / kGiB).str();
  if (bytes >= 1024 * 1024)
    return llvm::formatv("{0:f2} MiB", bytes / (1024 * 1024)).str();
  return llvm::formatv("{0:f2} KiB", bytes / 1024).str();
}

/// The schedule, with its chunks per pipeline position when interleaved.
static std::string getScheduleText(const PlanOptions &plan) {
  std::string text = stringifyPipelineScheduleKind(plan.schedule).str();
  if (plan.chunks > 1)
    text += llvm::formatv(" ({0} chunks per stage)", plan.chunks).str();
  return text;
}

void distopt::cost::printStepReport(const StepReport &report,
                                    llvm::raw_ostream &os) {
  const PlanOptions &plan = report.plan;
  bool training = plan.mode == StepMode::Training;
  os << llvm::formatv("{0} step: dp={1} tp={2} pp={3}, ",
                      plan.explicitStep ? "training (generated)"
                                        : stringifyStepMode(plan.mode),
                      plan.dataParallel,
                      plan.tensorParallel, plan.pipelineParallel);
  // In inference every grid axis splits the one batch; in training each
  // data-parallel replica runs its own micro-batches.
  if (training)
    os << llvm::formatv("{0} micro-batches of {1} per replica (global batch "
                        "{2}), {3}, recompute {4}, ZeRO-{5}",
                        report.microBatches, plan.microBatch, plan.globalBatch,
                        getScheduleText(plan),
                        stringifyRecomputePolicy(plan.recompute),
                        unsigned(plan.zero));
  else
    os << llvm::formatv("batch {0}, {1}", plan.globalBatch,
                        getScheduleText(plan));
  os << "\n";
  if (!report.replicaMicroBatches.empty()) {
    // Runs of replicas with the same share: "0-3: 5, 4-7: 3".
    os << "  data-parallel shares by speed (micro-batches per replica):";
    llvm::ArrayRef<unsigned> shares = report.replicaMicroBatches;
    for (size_t first = 0; first < shares.size();) {
      size_t end = first + 1;
      while (end < shares.size() && shares[end] == shares[first])
        ++end;
      os << (first ? "," : "") << " replica" << (end - first > 1 ? "s " : " ")
         << first;
      if (end - first > 1)
        os << "-" << end - 1;
      os << ": " << shares[first];
      first = end;
    }
    os << "; the figures are the replica's that finishes last\n";
  }
  os << "  step time                   " << formatSeconds(report.stepSeconds)
     << "\n";
  auto line = [&](StringRef what, double seconds) {
    double share = report.stepSeconds > 0 ? seconds / report.stepSeconds : 0;
    os << llvm::formatv("    {0,-26}{1,12}  {2,5:f1}%\n", what,
                        formatSeconds(seconds), 100 * share);
  };
  line("forward compute", report.forwardComputeSeconds);
  if (training) {
    line("backward compute", report.backwardComputeSeconds);
    line("recompute", report.recomputeSeconds);
  }
  for (const CommunicationTime &comm : report.communication) {
    std::string what =
        llvm::formatv("{0} ({1})", stringifyCollectiveKind(comm.kind),
                      stringifyCommunicationPhase(comm.phase))
            .str();
    line(what, comm.exposedSeconds);
    if (comm.exposedSeconds != comm.totalSeconds)
      os << llvm::formatv("      ({0} in all, the rest hidden behind "
                          "backward compute)\n",
                          formatSeconds(comm.totalSeconds));
  }
  line("pipeline bubble", report.pipelineBubbleSeconds);
  if (training)
    line("optimizer step", report.optimizerSeconds);
  else if (report.optimizerSeconds > 0) // the stages' updates, once per step
    line("update (per step)", report.optimizerSeconds);
  os << llvm::formatv(
      "  FLOP/s per device: model {0:f1} TFLOP/s ({1:f1}% of "
      "peak {2:f1} TFLOP/s), hardware {3:f1} TFLOP/s "
      "({4:f1}%)\n",
      report.modelFlopsPerSecond / 1e12, 100 * report.modelFlopsUtilization,
      report.peakFlopsPerSecond / 1e12, report.hardwareFlopsPerSecond / 1e12,
      100 * report.hardwareFlopsUtilization);
  const StepMemory &memory = report.memory;
  // Under interleaved 1F1B a device holds the stages of its position.
  std::string verdict = report.fits ? "fits" : "DOES NOT FIT";
  if (report.fits && memory.isTight())
    verdict = llvm::formatv("fits with only {0} ({1:f1}%) left: TIGHT, the "
                            "allocator's fragmentation and the framework's "
                            "own buffers may not fit",
                            formatBytes(memory.headroom()),
                            100 * memory.headroom() / memory.deviceMemory)
                  .str();
  os << llvm::formatv("  memory per device ({0} {1}): {2} of {3}, {4}\n",
                      plan.chunks > 1 ? "pipeline position" : "stage",
                      memory.stage, formatBytes(memory.total()),
                      formatBytes(memory.deviceMemory), verdict);
  os << llvm::formatv(
      "    parameters {0}, gradients {1}, optimizer states "
      "{2}, activations {3}, temporaries {4}, communication "
      "buffers {5}{6}\n",
      formatBytes(memory.parameters), formatBytes(memory.gradients),
      formatBytes(memory.optimizerStates), formatBytes(memory.activations),
      formatBytes(memory.temporaries),
      formatBytes(memory.communicationBuffers),
      memory.inputs > 0 ? ", inputs " + formatBytes(memory.inputs) : "");
  for (auto [index, stage] : llvm::enumerate(report.stages))
    os << llvm::formatv("  stage {0}: {1} layers ({2}); {3} per micro-batch; "
                        "memory {4}\n",
                        index, stage.layers, llvm::join(stage.segments, ", "),
                        formatSeconds(stage.microBatchSeconds),
                        formatBytes(stage.memory.total()));
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

static llvm::json::Object getMemoryJSON(const StepMemory &memory) {
  return llvm::json::Object{
      {"stage", memory.stage},
      {"parametersBytes", memory.parameters},
      {"gradientsBytes", memory.gradients},
      {"optimizerStatesBytes", memory.optimizerStates},
      {"activationsBytes", memory.activations},
      {"temporariesBytes", memory.temporaries},
      {"communicationBuffersBytes", memory.communicationBuffers},
      {"inputsBytes", memory.inputs},
      {"totalBytes", memory.total()},
      {"deviceMemoryBytes", memory.deviceMemory},
      {"fits", memory.fits()},
      {"headroomBytes", memory.headroom()},
      {"tight", memory.isTight()},
  };
}

llvm::json::Value distopt::cost::toJSON(const StepReport &report) {
  const PlanOptions &plan = report.plan;
  llvm::json::Array communication;
  for (const CommunicationTime &comm : report.communication)
    communication.push_back(llvm::json::Object{
        {"kind", stringifyCollectiveKind(comm.kind)},
        {"phase", stringifyCommunicationPhase(comm.phase)},
        {"totalSeconds", comm.totalSeconds},
        {"exposedSeconds", comm.exposedSeconds},
    });
  llvm::json::Array stages;
  for (auto [index, stage] : llvm::enumerate(report.stages)) {
    llvm::json::Array names;
    for (const std::string &name : stage.segments)
      names.push_back(name);
    stages.push_back(llvm::json::Object{
        {"stage", index},
        {"layers", stage.layers},
        {"segments", std::move(names)},
        {"parameters", stage.parameters},
        {"forwardSeconds", stage.forwardSeconds},
        {"backwardSeconds", stage.backwardSeconds},
        {"recomputeSeconds", stage.recomputeSeconds},
        {"pipelineTransferSeconds", stage.pipelineTransferSeconds},
        {"microBatchSeconds", stage.microBatchSeconds},
        {"exposedGradientSeconds", stage.exposedGradientSeconds},
        {"optimizerSeconds", stage.optimizerSeconds},
        {"memory", getMemoryJSON(stage.memory)},
    });
  }
  return llvm::json::Object{
      {"mode", plan.explicitStep ? "training-step"
                                 : stringifyStepMode(plan.mode).str()},
      {"plan",
       llvm::json::Object{
           {"dp", plan.dataParallel},
           {"tp", plan.tensorParallel},
           {"pp", plan.pipelineParallel},
           {"microBatch", plan.microBatch},
           {"globalBatch", plan.globalBatch},
           {"microBatches", report.microBatches},
           {"replicaMicroBatches",
            llvm::json::Array(report.replicaMicroBatches)},
           {"schedule", stringifyPipelineScheduleKind(plan.schedule)},
           {"chunks", plan.chunks},
           {"recompute", stringifyRecomputePolicy(plan.recompute)},
           {"zero", unsigned(plan.zero)},
           {"precision", stringifyPrecision(plan.precision)},
       }},
      {"stepSeconds", report.stepSeconds},
      {"breakdown",
       llvm::json::Object{
           {"forwardComputeSeconds", report.forwardComputeSeconds},
           {"backwardComputeSeconds", report.backwardComputeSeconds},
           {"recomputeSeconds", report.recomputeSeconds},
           {"exposedCommunicationSeconds",
            report.getExposedCommunicationSeconds()},
           {"pipelineBubbleSeconds", report.pipelineBubbleSeconds},
           {"optimizerSeconds", report.optimizerSeconds},
           {"criticalStage", report.criticalStage},
           {"tailStage", report.tailStage},
       }},
      {"communication", std::move(communication)},
      {"flops",
       llvm::json::Object{
           {"modelFlopsPerDevice", report.modelFlopsPerDevice},
           {"hardwareFlopsPerDevice", report.hardwareFlopsPerDevice},
           {"modelFlopsPerSecond", report.modelFlopsPerSecond},
           {"hardwareFlopsPerSecond", report.hardwareFlopsPerSecond},
           {"peakFlopsPerSecond", report.peakFlopsPerSecond},
           {"modelFlopsUtilization", report.modelFlopsUtilization},
           {"hardwareFlopsUtilization", report.hardwareFlopsUtilization},
       }},
      {"memory", getMemoryJSON(report.memory)},
      {"fits", report.fits},
      {"stages", std::move(stages)},
  };
}

void distopt::cost::writeStepReportJSON(const StepReport &report,
                                        llvm::json::OStream &os) {
  os.value(toJSON(report));
}

//===----------------------------------------------------------------------===//
// Plan specifications
//===----------------------------------------------------------------------===//

// The messages name the plan key, never a command-line flag: the driver
// that reads the text from its command line says where it came from.

static constexpr StringRef kPlanKeys[] = {
    "dp",   "tp",       "pp",     "microbatch", "recompute",
    "zero", "schedule", "chunks", "precision"};

/// The key of kPlanKeys closest to `key`, if close enough to be a typo.
static std::optional<StringRef> getClosestPlanKey(StringRef key) {
  // Short keys allow one edit, longer ones one per three characters.
  std::string lower = key.lower();
  return distopt::getClosestName(lower, kPlanKeys,
                                 lower.size() < 3 ? 1 : lower.size() / 3 + 1);
}

static llvm::Expected<int64_t> parsePositive(StringRef key, StringRef value) {
  int64_t number;
  if (value.getAsInteger(10, number))
    return llvm::createStringError(
        "plan key '%s' must be a positive integer, got '%s'", key.str().c_str(),
        value.str().c_str());
  if (number < 1)
    return llvm::createStringError("plan key '%s' must be at least 1, got %lld",
                                   key.str().c_str(), (long long)number);
  return number;
}

/// Sets the field of `spec` that `key` (one of kPlanKeys) names from
/// `value`.
static llvm::Error setPlanKey(PlanOptions &spec, StringRef key,
                              StringRef value) {
  if (key == "dp" || key == "tp" || key == "pp") {
    llvm::Expected<int64_t> degree = parsePositive(key, value);
    if (!degree)
      return degree.takeError();
    if (*degree > std::numeric_limits<unsigned>::max())
      return llvm::createStringError("plan key '%s' = %lld is too large",
                                     key.str().c_str(), (long long)*degree);
    bool dp = key == "dp", tp = key == "tp";
    unsigned &slot = dp   ? spec.dataParallel
                     : tp ? spec.tensorParallel
                          : spec.pipelineParallel;
    slot = unsigned(*degree);
    spec.fix(dp   ? PlanKey::DataParallel
             : tp ? PlanKey::TensorParallel
                  : PlanKey::PipelineParallel);
    return llvm::Error::success();
  }
  if (key == "microbatch") {
    llvm::Expected<int64_t> size = parsePositive(key, value);
    if (!size)
      return size.takeError();
    spec.microBatch = *size;
    spec.fix(PlanKey::MicroBatch);
    return llvm::Error::success();
  }
  if (key == "chunks") {
    llvm::Expected<int64_t> chunks = parsePositive(key, value);
    if (!chunks)
      return chunks.takeError();
    if (*chunks > 1024)
      return llvm::createStringError(
          "plan key 'chunks' = %lld is too large (at most 1024)",
          (long long)*chunks);
    spec.chunks = unsigned(*chunks);
    spec.fix(PlanKey::Chunks);
    return llvm::Error::success();
  }
  if (key == "recompute") {
    if (value == "none")
      spec.recompute = RecomputePolicy::None;
    else if (value == "full")
      spec.recompute = RecomputePolicy::Full;
    else if (value == "selective")
      spec.recompute = RecomputePolicy::Selective;
    else
      return llvm::createStringError(
          "plan key 'recompute' must be none, selective or full, got '%s'",
          value.str().c_str());
    spec.fix(PlanKey::Recompute);
    return llvm::Error::success();
  }
  if (key == "zero") {
    unsigned stage;
    if (value.getAsInteger(10, stage) || stage > 3)
      return llvm::createStringError(
          "plan key 'zero' must be 0, 1, 2 or 3, got '%s'",
          value.str().c_str());
    spec.zero = ZeroStage(stage);
    spec.fix(PlanKey::Zero);
    return llvm::Error::success();
  }
  if (key == "precision") {
    std::optional<Precision> precision = parsePrecision(value.lower());
    if (!precision)
      return llvm::createStringError(
          "plan key 'precision' must be bf16, fp16 or fp32, got '%s'",
          value.str().c_str());
    spec.precision = *precision;
    spec.fix(PlanKey::Precision);
    return llvm::Error::success();
  }
  std::string lower = value.lower();
  if (lower == "1f1b")
    spec.schedule = PipelineScheduleKind::OneFOneB;
  else if (lower == "gpipe")
    spec.schedule = PipelineScheduleKind::GPipe;
  else if (lower == "interleaved" || lower == "interleaved-1f1b")
    spec.schedule = PipelineScheduleKind::Interleaved1F1B;
  else
    return llvm::createStringError(
        "plan key 'schedule' must be 1f1b, gpipe or interleaved, got '%s'",
        value.str().c_str());
  spec.fix(PlanKey::Schedule);
  return llvm::Error::success();
}

/// Chunks imply the interleaved schedule; the interleaved schedule without
/// chunks runs 2.
static llvm::Expected<PlanOptions> completeChunks(PlanOptions spec) {
  bool interleaved = spec.schedule == PipelineScheduleKind::Interleaved1F1B;
  if (spec.isFixed(PlanKey::Chunks) && spec.chunks > 1 && !interleaved) {
    if (spec.isFixed(PlanKey::Schedule))
      return llvm::createStringError(
          "plan key 'chunks' = %u needs schedule=interleaved, not %s",
          spec.chunks, stringifyPipelineScheduleKind(spec.schedule).data());
    spec.schedule = PipelineScheduleKind::Interleaved1F1B;
    spec.fix(PlanKey::Schedule);
  } else if (interleaved && !spec.isFixed(PlanKey::Chunks)) {
    spec.chunks = 2;
    spec.fix(PlanKey::Chunks);
  } else if (interleaved && spec.chunks < 2) {
    return llvm::createStringError(
        "schedule=interleaved runs at least 2 chunks per pipeline position "
        "(got chunks=1: that is schedule=1f1b)");
  }
  return spec;
}

llvm::Expected<PlanOptions> distopt::cost::parsePlanSpec(StringRef text) {
  PlanOptions spec;
  text = text.trim();
  if (text.empty())
    return spec;
  llvm::StringSet<> seen;
  llvm::SmallVector<StringRef> items;
  text.split(items, ',');
  for (StringRef item : items) {
    item = item.trim();
    if (item.empty())
      return llvm::createStringError(
          "empty item in plan '%s' (items are key=value separated by commas)",
          text.str().c_str());
    auto [key, value] = item.split('=');
    key = key.trim();
    value = value.trim();
    if (!llvm::is_contained(kPlanKeys, key)) {
      std::string message = llvm::formatv("unknown plan key '{0}'", key).str();
      if (std::optional<StringRef> closest = getClosestPlanKey(key))
        message += llvm::formatv(" (did you mean '{0}'?)", *closest).str();
      message += "; keys are dp, tp, pp, microbatch, recompute, zero, "
                 "schedule, chunks, precision";
      return llvm::createStringError(message);
    }
    if (!item.contains('=') || value.empty())
      return llvm::createStringError("plan key '%s' needs a value (%s=...)",
                                     key.str().c_str(), key.str().c_str());
    if (!seen.insert(key).second)
      return llvm::createStringError("plan key '%s' is given twice",
                                     key.str().c_str());
    if (llvm::Error error = setPlanKey(spec, key, value))
      return std::move(error);
  }
  return completeChunks(spec);
}

llvm::Expected<PlanOptions>
distopt::cost::makePlanOptions(StringRef planText, StringRef modeText,
                               std::optional<int64_t> globalBatch) {
  llvm::Expected<PlanOptions> options = parsePlanSpec(planText);
  if (!options)
    return options.takeError();
  if (modeText == "train")
    options->mode = StepMode::Training;
  else if (modeText != "infer")
    return llvm::createStringError(
        "the mode must be 'infer' or 'train', not '%s'",
        modeText.str().c_str());
  if (globalBatch) {
    if (options->mode != StepMode::Training &&
        !(options->isFixed(PlanKey::PipelineParallel) &&
          options->pipelineParallel > 1))
      return llvm::createStringError(
          "in inference, a batch is what a pipeline plan (pp > 1) runs as "
          "micro-batches of the model's batch; fix pp, or give no batch");
    options->globalBatch = *globalBatch;
    options->fix(PlanKey::GlobalBatch);
  }
  return options;
}
