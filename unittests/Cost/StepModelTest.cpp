//===- StepModelTest.cpp - unit tests of the step composition -------------===//
//
// composeStep against step times, FLOPs and memory computed by hand from
// the formulas of docs/cluster.md ("Step composition"), and the --plan
// parser's answers and errors.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/StepModel.h"

#include "ErrorHelpers.h"

#include "llvm/Support/JSON.h"

#include <gtest/gtest.h>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

constexpr double kMs = 1e-3;

ClusterSpec getDgxA100(unsigned devices) {
  llvm::Expected<ClusterSpec> cluster =
      getClusterPreset("dgx-a100-80g", devices);
  EXPECT_EQ(succeeded(cluster), "");
  return *cluster;
}

SegmentCost makeSegment(llvm::StringRef name, unsigned repeat, double forward,
                        double backward) {
  SegmentCost segment;
  segment.name = name.str();
  segment.repeat = repeat;
  segment.forwardSeconds = forward;
  segment.backwardSeconds = backward;
  return segment;
}

CollectiveUse makeUse(CollectiveKind kind, double seconds) {
  CollectiveUse use;
  use.kind = kind;
  use.seconds = seconds;
  return use;
}

PlanOptions makeTrainingPlan(unsigned dp, unsigned tp, unsigned pp,
                          int64_t globalBatch) {
  PlanOptions plan;
  plan.mode = StepMode::Training;
  plan.dataParallel = dp;
  plan.tensorParallel = tp;
  plan.pipelineParallel = pp;
  plan.microBatch = 1;
  plan.globalBatch = globalBatch;
  return plan;
}

double getCommunication(const StepReport &report, CollectiveKind kind,
                        CommunicationPhase phase, bool exposed = true) {
  for (const CommunicationTime &comm : report.communication)
    if (comm.kind == kind && comm.phase == phase)
      return exposed ? comm.exposedSeconds : comm.totalSeconds;
  return 0;
}

/// embed (1 ms / 2 ms), 8 layers (10 ms / 20 ms), head (3 ms / 6 ms);
/// the layer input is 3 MB.
std::vector<SegmentCost> makeEightLayerModel() {
  SegmentCost embed = makeSegment("embed", 1, 1 * kMs, 2 * kMs);
  embed.activationBytes = 0.5e9;
  SegmentCost layer = makeSegment("layer", 8, 10 * kMs, 20 * kMs);
  layer.activationBytes = 1e9;
  layer.inputBytes = 3e6;
  SegmentCost head = makeSegment("head", 1, 3 * kMs, 6 * kMs);
  head.activationBytes = 2e9;
  return {embed, layer, head};
}

TEST(StepModelTest, OneFOneBFourStagesEightMicroBatches) {
  // p = 4 stages of 2 layers on one DGX node, m = 8 micro-batches.
  PlanOptions plan = makeTrainingPlan(1, 1, 4, 8);
  llvm::Expected<StepReport> report =
      composeStep(makeEightLayerModel(), plan, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  EXPECT_EQ(report->microBatches, 8u);
  ASSERT_EQ(report->stages.size(), 4u);
  EXPECT_EQ(report->stages[0].layers, 2u);
  EXPECT_EQ(report->stages[3].layers, 2u);
  EXPECT_EQ(report->stages[0].segments.front(), "embed");
  EXPECT_EQ(report->stages[3].segments.back(), "head");
  // A 3 MB transfer over NVLink: 2 us + 3e6 / 300e9 s = 12 us.
  const double transfer = 12e-6;
  // Stage 0: embed + 2 layers = 21 + 42 ms, sends forward only.
  EXPECT_NEAR(report->stages[0].microBatchSeconds, 63 * kMs + transfer, 1e-9);
  // Stages 1, 2: 60 ms, forward and backward transfers.
  EXPECT_NEAR(report->stages[1].microBatchSeconds, 60 * kMs + 2 * transfer,
              1e-9);
  // Stage 3: 2 layers + head = 23 + 46 ms, sends backward only: slowest.
  double stage3 = 69 * kMs + transfer;
  EXPECT_NEAR(report->stages[3].microBatchSeconds, stage3, 1e-9);
  EXPECT_EQ(report->criticalStage, 3u);
  // (m + p - 1) = 11 slowest micro-batch times; bubble (p - 1) of them.
  EXPECT_NEAR(report->stepSeconds, 11 * stage3, 1e-9);
  EXPECT_NEAR(report->pipelineBubbleSeconds, 3 * stage3, 1e-9);
  EXPECT_NEAR(report->forwardComputeSeconds, 8 * 23 * kMs, 1e-9);
  EXPECT_NEAR(report->backwardComputeSeconds, 8 * 46 * kMs, 1e-9);
  EXPECT_NEAR(getCommunication(*report, CollectiveKind::SendRecv,
                               CommunicationPhase::Pipeline),
              8 * transfer, 1e-12);
  // The breakdown adds up to the step.
  EXPECT_NEAR(report->forwardComputeSeconds + report->backwardComputeSeconds +
                  report->recomputeSeconds +
                  report->getExposedCommunicationSeconds() +
                  report->pipelineBubbleSeconds + report->optimizerSeconds,
              report->stepSeconds, 1e-9);
  // 1F1B: stage 0 holds min(p, m) = 4 micro-batches of embed + 2 layers,
  // stage 3 holds 1 of 2 layers + head.
  EXPECT_DOUBLE_EQ(report->stages[0].memory.activations, 4 * 2.5e9);
  EXPECT_DOUBLE_EQ(report->stages[3].memory.activations, 1 * 4e9);
}

TEST(StepModelTest, GPipeKeepsEveryMicroBatch) {
  PlanOptions plan = makeTrainingPlan(1, 1, 4, 8);
  plan.schedule = PipelineScheduleKind::GPipe;
  llvm::Expected<StepReport> report =
      composeStep(makeEightLayerModel(), plan, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  // Same time formula as 1F1B; stage 0 holds all m = 8 micro-batches.
  EXPECT_NEAR(report->stepSeconds, 11 * (69 * kMs + 12e-6), 1e-9);
  EXPECT_DOUBLE_EQ(report->stages[0].memory.activations, 8 * 2.5e9);
  EXPECT_DOUBLE_EQ(report->stages[3].memory.activations, 8 * 4e9);
}

/// 4 layers (10 ms forward + a 1 ms all-reduce, 20 ms backward + a 1 ms
/// all-reduce, 1e12 forward FLOPs) and a head (3 ms / 6 ms, 1e11 FLOPs).
std::vector<SegmentCost> makeRecomputeModel() {
  SegmentCost layer = makeSegment("layer", 4, 10 * kMs, 20 * kMs);
  layer.forwardCollectives.push_back(makeUse(CollectiveKind::AllReduce, kMs));
  layer.backwardCollectives.push_back(makeUse(CollectiveKind::AllReduce, kMs));
  layer.forwardFlops = 1e12;
  layer.activationBytes = 1e9;
  layer.inputBytes = 1e8;
  SegmentCost head = makeSegment("head", 1, 3 * kMs, 6 * kMs);
  head.forwardFlops = 1e11;
  head.activationBytes = 5e8;
  return {layer, head};
}

TEST(StepModelTest, FullRecomputeAddsTheLayersForward) {
  PlanOptions plan = makeTrainingPlan(1, 1, 1, 2);
  llvm::Expected<StepReport> keep =
      composeStep(makeRecomputeModel(), plan, getDgxA100(8));
  ASSERT_EQ(succeeded(keep), "");
  // Per micro-batch: 4 (10 + 1 + 20 + 1) + 3 + 6 = 137 ms; m = 2.
  EXPECT_NEAR(keep->stepSeconds, 2 * 137 * kMs, 1e-9);
  EXPECT_DOUBLE_EQ(keep->recomputeSeconds, 0);
  // Everything kept: 4 layers + head, one micro-batch in flight.
  EXPECT_DOUBLE_EQ(keep->memory.activations, 4e9 + 5e8);

  plan.recompute = RecomputePolicy::Full;
  llvm::Expected<StepReport> full =
      composeStep(makeRecomputeModel(), plan, getDgxA100(8));
  ASSERT_EQ(succeeded(full), "");
  // The layers (not the head) run forward again with their all-reduce:
  // + 4 (10 + 1) = 181 ms per micro-batch.
  EXPECT_NEAR(full->stepSeconds, 2 * 181 * kMs, 1e-9);
  EXPECT_NEAR(full->recomputeSeconds, 2 * 40 * kMs, 1e-9);
  EXPECT_NEAR(getCommunication(*full, CollectiveKind::AllReduce,
                               CommunicationPhase::Layer),
              2 * 4 * 3 * kMs, 1e-9);
  // Model FLOPs 3 x forward; hardware FLOPs add the recomputed layers.
  EXPECT_DOUBLE_EQ(full->modelFlopsPerDevice, 3 * 2 * 4.1e12);
  EXPECT_DOUBLE_EQ(full->hardwareFlopsPerDevice, 3 * 2 * 4.1e12 + 2 * 4e12);
  EXPECT_DOUBLE_EQ(keep->hardwareFlopsPerDevice, keep->modelFlopsPerDevice);
  // Full recompute keeps the 4 layer inputs and the head, plus one
  // layer's activations while it is recomputed.
  EXPECT_DOUBLE_EQ(full->memory.activations, 4e8 + 5e8 + 1e9);
}

TEST(StepModelTest, SelectiveRecomputeRunsTheAttentionCoreAgain) {
  std::vector<SegmentCost> model = makeRecomputeModel();
  // The layer's attention core: 2 ms of its 10 ms forward, 2e11 of its
  // 1e12 FLOPs, 6e8 of its 1e9 kept bytes. The head has none.
  model[0].selectiveSeconds = 2 * kMs;
  model[0].selectiveFlops = 2e11;
  model[0].selectiveBytes = 6e8;
  PlanOptions plan = makeTrainingPlan(1, 1, 1, 2);
  plan.recompute = RecomputePolicy::Selective;
  llvm::Expected<StepReport> report = composeStep(model, plan, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  // 137 ms per micro-batch without recompute, + 4 layers x 2 ms; the
  // core has no collectives to run again.
  EXPECT_NEAR(report->stepSeconds, 2 * 145 * kMs, 1e-9);
  EXPECT_NEAR(report->recomputeSeconds, 2 * 8 * kMs, 1e-9);
  EXPECT_NEAR(getCommunication(*report, CollectiveKind::AllReduce,
                               CommunicationPhase::Layer),
              2 * 4 * 2 * kMs, 1e-9);
  EXPECT_DOUBLE_EQ(report->hardwareFlopsPerDevice,
                   3 * 2 * 4.1e12 + 2 * 4 * 2e11);
  // Kept: 4 layers without their core (4e8 each) and the head, plus one
  // layer's core while it is recomputed.
  EXPECT_DOUBLE_EQ(report->memory.activations, 4 * 4e8 + 5e8 + 6e8);
  EXPECT_EQ(stringifyRecomputePolicy(plan.recompute), "selective");
}

TEST(StepModelTest, LittleHeadroomIsFlagged) {
  StepMemory memory;
  memory.deviceMemory = 80;
  memory.parameters = 79.08;
  EXPECT_TRUE(memory.fits());
  EXPECT_TRUE(memory.isTight());
  EXPECT_NEAR(memory.headroom(), 0.92, 1e-12);
  memory.parameters = 75.9; // 4.1 left: more than 5%
  EXPECT_FALSE(memory.isTight());
  memory.parameters = 81; // does not fit: not "tight"
  EXPECT_FALSE(memory.isTight());
  EXPECT_LT(memory.headroom(), 0);
}

TEST(StepModelTest, ZeroOneShardsOptimizerStatesAndUpdates) {
  // 10 layers of 1e8 parameters = 1e9 parameters, dp = 8.
  SegmentCost layer = makeSegment("layer", 10, kMs, 2 * kMs);
  layer.parameters = 1e8;
  layer.parameterBytes = 2e8;
  PlanOptions plan = makeTrainingPlan(8, 1, 1, 8);
  plan.zero = ZeroStage::Zero1;
  ClusterSpec cluster = getDgxA100(8);
  cluster.deviceTypes[0].efficiency.memoryEfficiency = 0.5;
  llvm::Expected<StepReport> report = composeStep(layer, plan, cluster);
  ASSERT_EQ(succeeded(report), "");
  // ZeRO-1: 2 psi + 2 psi + 12 psi / 8.
  EXPECT_DOUBLE_EQ(report->memory.parameters, 2e9);
  EXPECT_DOUBLE_EQ(report->memory.gradients, 2e9);
  EXPECT_DOUBLE_EQ(report->memory.optimizerStates, 1.5e9);
  EXPECT_TRUE(report->fits);
  // Adam updates 1e9 / 8 parameters, 28 bytes each, at half of 2039 GB/s.
  double optimizer = 1.25e8 * 28 / (0.5 * 2039e9);
  EXPECT_NEAR(report->optimizerSeconds, optimizer, 1e-12);
  EXPECT_NEAR(report->stepSeconds, 30 * kMs + optimizer, 1e-12);

  // ZeRO-0 updates all of them and keeps 12 bytes of states each.
  plan.zero = ZeroStage::Zero0;
  llvm::Expected<StepReport> zero0 = composeStep(layer, plan, cluster);
  ASSERT_EQ(succeeded(zero0), "");
  EXPECT_DOUBLE_EQ(zero0->memory.optimizerStates, 12e9);
  EXPECT_NEAR(zero0->optimizerSeconds, 8 * optimizer, 1e-12);
}

TEST(StepModelTest, MemoryLimitDecidesFits) {
  SegmentCost layer = makeSegment("layer", 10, kMs, 2 * kMs);
  layer.parameters = 1e9; // 10e9 parameters: 160 GB of Adam states.
  PlanOptions plan = makeTrainingPlan(1, 1, 1, 1);
  llvm::Expected<StepReport> report = composeStep(layer, plan, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  EXPECT_DOUBLE_EQ(report->memory.total(), 160e9);
  EXPECT_DOUBLE_EQ(report->memory.deviceMemory, 80.0 * (1ull << 30));
  EXPECT_FALSE(report->fits);
  // Two pipeline stages hold 80e9 bytes each, under 80 GiB = 85.9e9.
  plan.pipelineParallel = 2;
  llvm::Expected<StepReport> split = composeStep(layer, plan, getDgxA100(8));
  ASSERT_EQ(succeeded(split), "");
  EXPECT_DOUBLE_EQ(split->memory.total(), 80e9);
  EXPECT_TRUE(split->fits);
}

/// embed, 3 layers and head with a gradient collective each; backward
/// 2, 10, 1 ms. `layerSync` is the time of a layer's gradient all-reduce.
std::vector<SegmentCost> makeGradientModel(double layerSync) {
  SegmentCost embed = makeSegment("embed", 1, kMs, 2 * kMs);
  embed.gradientCollectives.push_back(
      makeUse(CollectiveKind::AllReduce, 5 * kMs));
  SegmentCost layer = makeSegment("layer", 3, 5 * kMs, 10 * kMs);
  layer.gradientCollectives.push_back(
      makeUse(CollectiveKind::AllReduce, layerSync));
  SegmentCost head = makeSegment("head", 1, kMs, kMs);
  head.gradientCollectives.push_back(
      makeUse(CollectiveKind::AllReduce, 3 * kMs));
  return {embed, layer, head};
}

TEST(StepModelTest, GradientAllReduceHidesBehindEarlierBackward) {
  PlanOptions plan = makeTrainingPlan(2, 1, 1, 2);
  // Backward in reverse order: head ends at 1 ms, layers at 11, 21, 31,
  // embed at 33. Collectives: head [1, 4], layers [11, 15], [21, 25],
  // [31, 35], embed [35, 40]: 40 - 33 = 7 ms exposed of 20 ms.
  llvm::Expected<StepReport> fast =
      composeStep(makeGradientModel(4 * kMs), plan, getDgxA100(8));
  ASSERT_EQ(succeeded(fast), "");
  double compute = 3 + 3 * 15 + 2; // ms of forward + backward
  EXPECT_NEAR(fast->stepSeconds, (compute + 7) * kMs, 1e-12);
  EXPECT_NEAR(getCommunication(*fast, CollectiveKind::AllReduce,
                               CommunicationPhase::Gradient),
              7 * kMs, 1e-12);
  EXPECT_NEAR(getCommunication(*fast, CollectiveKind::AllReduce,
                               CommunicationPhase::Gradient,
                               /*exposed=*/false),
              20 * kMs, 1e-12);

  // Slow layer all-reduces queue up: head [1, 4], layers [11, 26],
  // [26, 41], [41, 56], embed [56, 61]: 61 - 33 = 28 ms exposed.
  llvm::Expected<StepReport> slow =
      composeStep(makeGradientModel(15 * kMs), plan, getDgxA100(8));
  ASSERT_EQ(succeeded(slow), "");
  EXPECT_NEAR(slow->stepSeconds, (compute + 28) * kMs, 1e-12);
  EXPECT_NEAR(slow->stages[0].exposedGradientSeconds, 28 * kMs, 1e-12);
}

TEST(StepModelTest, ZeroParameterGatherIsExposed) {
  // ZeRO-1: reduce-scatter of the gradients hides like the all-reduce,
  // the all-gather of the updated parameters runs after the optimizer.
  SegmentCost layer = makeSegment("layer", 2, kMs, 10 * kMs);
  layer.gradientCollectives.push_back(
      makeUse(CollectiveKind::ReduceScatter, 2 * kMs));
  layer.gradientCollectives.push_back(
      makeUse(CollectiveKind::AllGather, 2 * kMs));
  PlanOptions plan = makeTrainingPlan(2, 1, 1, 2);
  llvm::Expected<StepReport> report = composeStep(layer, plan, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  // Layer 2's reduce-scatter [10, 12] hides behind layer 1's backward;
  // layer 1's [20, 22] is exposed; both all-gathers are.
  EXPECT_NEAR(getCommunication(*report, CollectiveKind::ReduceScatter,
                               CommunicationPhase::Gradient),
              2 * kMs, 1e-12);
  EXPECT_NEAR(getCommunication(*report, CollectiveKind::AllGather,
                               CommunicationPhase::Gradient),
              4 * kMs, 1e-12);
  EXPECT_NEAR(report->stepSeconds, (22 + 6) * kMs, 1e-12);
}

TEST(StepModelTest, ZeroStagesSplitTheGradientAllReduce) {
  // Two copies of a layer (1 ms forward, 10 ms backward), each with a 4 ms
  // gradient all-reduce over dp = 2; two micro-batches: 44 ms of compute.
  auto compose = [](ZeroStage zero, double backward) {
    SegmentCost layer = makeSegment("layer", 2, kMs, backward);
    layer.gradientCollectives.push_back(
        makeUse(CollectiveKind::AllReduce, 4 * kMs));
    PlanOptions plan = makeTrainingPlan(2, 1, 1, 4);
    plan.zero = zero;
    return composeStep(layer, plan, getDgxA100(8));
  };
  auto exposed = [](const StepReport &report, CollectiveKind kind) {
    return getCommunication(report, kind, CommunicationPhase::Gradient);
  };
  auto total = [](const StepReport &report, CollectiveKind kind) {
    return getCommunication(report, kind, CommunicationPhase::Gradient,
                            /*exposed=*/false);
  };
  // ZeRO-0: the second copy's all-reduce [10, 14] hides behind the first
  // copy's backward; the first copy's [20, 24] is exposed.
  llvm::Expected<StepReport> zero0 = compose(ZeroStage::Zero0, 10 * kMs);
  ASSERT_EQ(succeeded(zero0), "");
  EXPECT_NEAR(zero0->stepSeconds, 48 * kMs, 1e-12);
  // ZeRO-1: reduce-scatters of 2 ms ([10, 12] hidden, [20, 22] exposed)
  // and the all-gather of both copies' parameters after the optimizer.
  llvm::Expected<StepReport> zero1 = compose(ZeroStage::Zero1, 10 * kMs);
  ASSERT_EQ(succeeded(zero1), "");
  EXPECT_NEAR(exposed(*zero1, CollectiveKind::ReduceScatter), 2 * kMs, 1e-12);
  EXPECT_NEAR(exposed(*zero1, CollectiveKind::AllGather), 4 * kMs, 1e-12);
  EXPECT_NEAR(zero1->stepSeconds, 50 * kMs, 1e-12);
  // ZeRO-2: the first micro-batch reduce-scatters too, behind the second.
  llvm::Expected<StepReport> zero2 = compose(ZeroStage::Zero2, 10 * kMs);
  ASSERT_EQ(succeeded(zero2), "");
  EXPECT_NEAR(total(*zero2, CollectiveKind::ReduceScatter), 8 * kMs, 1e-12);
  EXPECT_NEAR(zero2->stepSeconds, 50 * kMs, 1e-12);
  // ZeRO-3: each micro-batch gathers the parameters twice (8 ms), which
  // with its reduce-scatters (4 ms) hides behind its 22 ms of compute.
  llvm::Expected<StepReport> zero3 = compose(ZeroStage::Zero3, 10 * kMs);
  ASSERT_EQ(succeeded(zero3), "");
  EXPECT_NEAR(total(*zero3, CollectiveKind::AllGather), 20 * kMs, 1e-12);
  EXPECT_NEAR(zero3->stepSeconds, 50 * kMs, 1e-12);
  // With a 1 ms backward a micro-batch computes 4 ms and communicates
  // 12: 8 ms exposed per micro-batch. The last micro-batch's
  // reduce-scatters [1, 3] and [3, 5] pass its backward's end at 2 by 3.
  llvm::Expected<StepReport> short3 = compose(ZeroStage::Zero3, kMs);
  ASSERT_EQ(succeeded(short3), "");
  EXPECT_NEAR(exposed(*short3, CollectiveKind::ReduceScatter), 3 * kMs, 1e-12);
  EXPECT_NEAR(exposed(*short3, CollectiveKind::AllGather), 20 * kMs, 1e-12);
  EXPECT_NEAR(short3->stepSeconds, (8 + 3 + 20) * kMs, 1e-12);
}

TEST(StepModelTest, PipelineRanksPutTensorParallelInsideANode) {
  // tp = 4, dp = 2, pp = 2 on two DGX nodes: stage 0 is ranks 0-7 (node 0),
  // stage 1 ranks 8-15, so activations cross InfiniBand (5 us + S / 25 GB/s).
  SegmentCost layer = makeSegment("layer", 2, 10 * kMs, 0);
  layer.inputBytes = 1e8;
  PlanOptions plan;
  plan.dataParallel = 2;
  plan.tensorParallel = 4;
  plan.pipelineParallel = 2;
  plan.globalBatch = 2;
  llvm::Expected<StepReport> report = composeStep(layer, plan, getDgxA100(16));
  ASSERT_EQ(succeeded(report), "");
  EXPECT_NEAR(report->stages[0].pipelineTransferSeconds, 5e-6 + 1e8 / 25e9,
              1e-12);
  // Inference: no backward transfer from the last stage.
  EXPECT_DOUBLE_EQ(report->stages[1].pipelineTransferSeconds, 0);
  // Too few devices for the grid.
  llvm::Expected<StepReport> small = composeStep(layer, plan, getDgxA100(8));
  EXPECT_NE(getErrorMessage(std::move(small)).find("needs 16 devices"),
            std::string::npos);
}

TEST(StepModelTest, MixedNodesInsideAStageDecideItsPrices) {
  // Nodes of 4, 2 and 2 devices; the middle node's devices have half the
  // FLOPs and memory rate, a 10 GiB limit and a 1 GB/s port. dp = 2, tp = 2,
  // pp = 2: stage 0 is node 0, stage 1 spans the slow node and the last.
  ClusterSpec cluster = getDgxA100(8);
  DeviceType slow = cluster.deviceTypes[0];
  slow.peakFlops /= 2;
  slow.memoryBandwidth /= 2;
  cluster.deviceTypes.push_back(slow);
  NodeSpec node = cluster.nodes[0];
  cluster.nodes.clear();
  for (unsigned count : {4, 2, 2}) {
    cluster.nodes.push_back(node);
    cluster.nodes.back().numDevices = count;
  }
  cluster.nodes[1].deviceType = 1;
  cluster.nodes[1].memoryLimitBytes = 10ull << 30;
  cluster.nodes[1].interNode.bandwidth = 1e9;

  SegmentCost layer = makeSegment("layer", 2, 10 * kMs, 20 * kMs);
  layer.inputBytes = 1e8;
  layer.parameters = 1e6;
  layer.forwardFlops = 1e12;
  llvm::Expected<StepReport> report =
      composeStep(layer, makeTrainingPlan(2, 2, 2, 2), cluster);
  ASSERT_EQ(succeeded(report), "");
  // Ranks 0 and 1 send to ranks 4 and 5 (the slow node), 2 and 3 to 6 and
  // 7: the slow port decides, on the way there and back.
  double transfer = 5e-6 + 1e8 / 1e9;
  EXPECT_NEAR(report->stages[0].pipelineTransferSeconds, transfer, 1e-12);
  EXPECT_NEAR(report->stages[1].pipelineTransferSeconds, transfer, 1e-12);
  EXPECT_DOUBLE_EQ(report->stages[0].memory.deviceMemory, 80.0 * (1ull << 30));
  EXPECT_DOUBLE_EQ(report->stages[1].memory.deviceMemory, 10.0 * (1ull << 30));
  // Stage 1 updates its parameters at the slow devices' rate.
  double rate = cluster.deviceTypes[0].memoryBandwidth *
                cluster.deviceTypes[0].efficiency.memoryEfficiency;
  EXPECT_NEAR(report->stages[1].optimizerSeconds,
              2 * report->stages[0].optimizerSeconds, 1e-15);
  EXPECT_NEAR(report->stages[0].optimizerSeconds,
              kAdamBytesPerParameter * report->stages[0].parameters / rate,
              1e-15);
  EXPECT_DOUBLE_EQ(report->peakFlopsPerSecond, (6 * 312e12 + 2 * 156e12) / 8);
}

TEST(StepModelTest, InferenceHoldsParametersOnly) {
  SegmentCost layer = makeSegment("layer", 2, 10 * kMs, 20 * kMs);
  layer.parameters = 1e9;
  layer.parameterBytes = 4e9; // fp32 as stored
  layer.activationBytes = 1e9;
  layer.peakTemporaryBytes = 3e8;
  PlanOptions plan;
  plan.globalBatch = 4;
  llvm::Expected<StepReport> report = composeStep(layer, plan, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  EXPECT_NEAR(report->stepSeconds, 4 * 20 * kMs, 1e-12);
  EXPECT_DOUBLE_EQ(report->backwardComputeSeconds, 0);
  EXPECT_DOUBLE_EQ(report->optimizerSeconds, 0);
  EXPECT_DOUBLE_EQ(report->memory.parameters, 8e9);
  EXPECT_DOUBLE_EQ(report->memory.gradients, 0);
  EXPECT_DOUBLE_EQ(report->memory.optimizerStates, 0);
  EXPECT_DOUBLE_EQ(report->memory.activations, 0);
  EXPECT_DOUBLE_EQ(report->memory.temporaries, 3e8);
}

TEST(StepModelTest, Fp32TrainingKeepsNoMasterCopy) {
  // The plan of ZeroOneShardsOptimizerStatesAndUpdates in fp32: 4 psi
  // weights, 4 psi gradients and 8 psi / 8 momentum and variance.
  SegmentCost layer = makeSegment("layer", 10, kMs, 2 * kMs);
  layer.parameters = 1e8;
  layer.parameterBytes = 4e8;
  PlanOptions plan = makeTrainingPlan(8, 1, 1, 8);
  plan.zero = ZeroStage::Zero1;
  plan.precision = Precision::FP32;
  llvm::Expected<StepReport> report = composeStep(layer, plan, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  EXPECT_DOUBLE_EQ(report->memory.parameters, 4e9);
  EXPECT_DOUBLE_EQ(report->memory.gradients, 4e9);
  EXPECT_DOUBLE_EQ(report->memory.optimizerStates, 1e9);
  // Utilization is against the fp32 peak of the A100 preset.
  EXPECT_DOUBLE_EQ(report->peakFlopsPerSecond, 19.5e12);
  EXPECT_EQ(
      *toJSON(*report).getAsObject()->getObject("plan")->getString("precision"),
      "fp32");
}

TEST(StepModelTest, FlopsAgainstPeak) {
  // One A100 (312 TFLOP/s): a 1 s forward of 156 TFLOPs is half of peak.
  SegmentCost segment = makeSegment("layer", 1, 1, 2);
  segment.forwardFlops = 156e12;
  PlanOptions inference;
  llvm::Expected<StepReport> report =
      composeStep(segment, inference, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  EXPECT_DOUBLE_EQ(report->peakFlopsPerSecond, 312e12);
  EXPECT_DOUBLE_EQ(report->modelFlopsPerSecond, 156e12);
  EXPECT_DOUBLE_EQ(report->modelFlopsUtilization, 0.5);
  // Training: 3 x 156 TFLOPs in 1 + 2 s is also half of peak.
  PlanOptions training = makeTrainingPlan(1, 1, 1, 1);
  report = composeStep(segment, training, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  EXPECT_DOUBLE_EQ(report->modelFlopsPerDevice, 468e12);
  EXPECT_DOUBLE_EQ(report->modelFlopsUtilization, 0.5);
  // Two stages of 1 s each, one micro-batch: 2 s for 312 TFLOPs on two
  // devices is a quarter of peak.
  segment.repeat = 2;
  inference.pipelineParallel = 2;
  report = composeStep(segment, inference, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  EXPECT_DOUBLE_EQ(report->stepSeconds, 2);
  EXPECT_DOUBLE_EQ(report->modelFlopsUtilization, 0.25);
}

TEST(StepModelTest, MicroBatchesMustBeIntegral) {
  SegmentCost layer = makeSegment("layer", 4, kMs, kMs);
  PlanOptions plan = makeTrainingPlan(8, 1, 1, 100);
  std::string message =
      getErrorMessage(composeStep(layer, plan, getDgxA100(8)));
  EXPECT_NE(message.find("global batch 100 is not a multiple of dp * "
                         "micro-batch = 8 * 1 = 8"),
            std::string::npos)
      << message;
  plan.globalBatch = 4;
  message = getErrorMessage(composeStep(layer, plan, getDgxA100(8)));
  EXPECT_NE(message.find("smaller than dp * micro-batch"), std::string::npos)
      << message;
}

TEST(StepModelTest, PipelineStagesMustDivideLayers) {
  SegmentCost layer = makeSegment("block", 30, kMs, kMs);
  PlanOptions plan = makeTrainingPlan(1, 1, 4, 8);
  std::string message =
      getErrorMessage(composeStep(layer, plan, getDgxA100(8)));
  EXPECT_NE(message.find("the 30 layers ('block' x 30) do not divide evenly "
                         "into pp = 4 stages"),
            std::string::npos)
      << message;
  plan.pipelineParallel = 3;
  EXPECT_EQ(getErrorMessage(composeStep(layer, plan, getDgxA100(8))),
            "<success>");
}

TEST(StepModelTest, ReportAsJSONAndText) {
  PlanOptions plan = makeTrainingPlan(1, 1, 4, 8);
  llvm::Expected<StepReport> report =
      composeStep(makeEightLayerModel(), plan, getDgxA100(8));
  ASSERT_EQ(succeeded(report), "");
  llvm::json::Value value = toJSON(*report);
  const llvm::json::Object *object = value.getAsObject();
  ASSERT_TRUE(object);
  EXPECT_EQ(object->getNumber("stepSeconds"), report->stepSeconds);
  const llvm::json::Object *breakdown = object->getObject("breakdown");
  ASSERT_TRUE(breakdown);
  EXPECT_EQ(breakdown->getNumber("pipelineBubbleSeconds"),
            report->pipelineBubbleSeconds);
  EXPECT_EQ(object->getObject("plan")->getInteger("microBatches"), 8);
  EXPECT_EQ(object->getArray("stages")->size(), 4u);
  EXPECT_EQ(object->getObject("memory")->getBoolean("fits"), true);
  const llvm::json::Array *communication = object->getArray("communication");
  ASSERT_TRUE(communication && !communication->empty());
  EXPECT_EQ((*communication)[0].getAsObject()->getString("kind"), "send-recv");

  std::string text;
  llvm::raw_string_ostream os(text);
  printStepReport(*report, os);
  EXPECT_NE(text.find("pipeline bubble"), std::string::npos) << text;
  EXPECT_NE(text.find("stage 3: 2 layers (layer, head)"), std::string::npos)
      << text;
}

TEST(StepModelTest, PlanSpecParses) {
  llvm::Expected<PlanOptions> spec = parsePlanSpec(
      "dp=32,tp=8,pp=4,microbatch=2,recompute=full,zero=1,schedule=gpipe");
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->dataParallel, 32u);
  EXPECT_EQ(spec->tensorParallel, 8u);
  EXPECT_EQ(spec->pipelineParallel, 4u);
  EXPECT_EQ(spec->microBatch, 2);
  EXPECT_EQ(spec->recompute, RecomputePolicy::Full);
  EXPECT_EQ(spec->zero, ZeroStage::Zero1);
  EXPECT_EQ(spec->schedule, PipelineScheduleKind::GPipe);
  for (PlanKey key :
       {PlanKey::DataParallel, PlanKey::TensorParallel,
        PlanKey::PipelineParallel, PlanKey::MicroBatch, PlanKey::Recompute,
        PlanKey::Zero, PlanKey::Schedule})
    EXPECT_TRUE(spec->isFixed(key)) << unsigned(key);
  EXPECT_FALSE(spec->isFixed(PlanKey::GlobalBatch));

  // Absent keys are the planner's choice, with defaults meanwhile.
  spec = parsePlanSpec("tp=2");
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->fixed, unsigned(PlanKey::TensorParallel));
  EXPECT_EQ(spec->dataParallel, 1u);
  EXPECT_EQ(spec->tensorParallel, 2u);
  EXPECT_EQ(spec->pipelineParallel, 1u);
  EXPECT_EQ(spec->microBatch, 1);
  EXPECT_EQ(spec->recompute, RecomputePolicy::None);
  EXPECT_EQ(spec->schedule, PipelineScheduleKind::OneFOneB);
  EXPECT_FALSE(spec->isFixed(PlanKey::Precision));
  EXPECT_EQ(getErrorMessage(parsePlanSpec("")), "<success>");

  // The precision, in any case.
  for (auto [text, precision] :
       {std::pair{"precision=fp32", Precision::FP32},
        std::pair{"precision=FP16", Precision::FP16},
        std::pair{"tp=2,precision=bf16", Precision::BF16}}) {
    spec = parsePlanSpec(text);
    ASSERT_EQ(succeeded(spec), "") << text;
    EXPECT_TRUE(spec->isFixed(PlanKey::Precision)) << text;
    EXPECT_EQ(spec->precision, precision) << text;
  }
}

TEST(StepModelTest, PlanSpecChunksImplyInterleaved) {
  llvm::Expected<PlanOptions> spec = parsePlanSpec("pp=4,chunks=3");
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->schedule, PipelineScheduleKind::Interleaved1F1B);
  EXPECT_EQ(spec->chunks, 3u);
  EXPECT_TRUE(spec->isFixed(PlanKey::Schedule));
  spec = parsePlanSpec("pp=2,schedule=interleaved");
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->chunks, 2u);
  EXPECT_TRUE(spec->isFixed(PlanKey::Chunks));
  spec = parsePlanSpec("pp=2,chunks=1");
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->schedule, PipelineScheduleKind::OneFOneB);
}

TEST(StepModelTest, InterleavedChunksShrinkTheBubble) {
  // p = 2 positions x v = 2 chunks of 2 layers each, m = 4: position 0
  // runs embed + layers 0-1 and layers 4-5, position 1 layers 2-3 and
  // layers 6-7 + head.
  PlanOptions plan = makeTrainingPlan(1, 1, 2, 4);
  plan.schedule = PipelineScheduleKind::Interleaved1F1B;
  plan.chunks = 2;
  llvm::Expected<StepReport> report =
      composeStep(makeEightLayerModel(), plan, getDgxA100(2));
  ASSERT_EQ(succeeded(report), "");
  ASSERT_EQ(report->stages.size(), 4u);
  EXPECT_EQ(report->stages[0].segments.front(), "embed");
  EXPECT_EQ(report->stages[3].segments.back(), "head");
  const double transfer = 12e-6;
  // Position 1: 60 + 2 transfers, and 69 + 1 transfer (sends backward
  // only): 129 ms + 3 transfers per micro-batch; position 0: 63 + 1 and
  // 60 + 2.
  double position1 = 129 * kMs + 3 * transfer;
  EXPECT_EQ(report->criticalStage, 3u);
  // Bubble (p - 1) / v = 1/2 of a position's micro-batch.
  EXPECT_NEAR(report->pipelineBubbleSeconds, position1 / 2, 1e-9);
  EXPECT_NEAR(report->stepSeconds, 4 * position1 + position1 / 2, 1e-9);
  EXPECT_NEAR(report->forwardComputeSeconds, 4 * 43 * kMs, 1e-9);
  EXPECT_NEAR(report->forwardComputeSeconds + report->backwardComputeSeconds +
                  report->recomputeSeconds +
                  report->getExposedCommunicationSeconds() +
                  report->pipelineBubbleSeconds + report->optimizerSeconds,
              report->stepSeconds, 1e-9);
  // Position 0 (p = 2, v = 2, m = 4) runs (2 - 0 - 1) * 2 + (2 - 1) * 2
  // = 4 warm-up forwards and one more before its first backward: chunk 0
  // micro-batches 0, 1, 2 and chunk 1 micro-batches 0, 1. The report's
  // memory is the fuller position's, the sum of its chunks.
  EXPECT_DOUBLE_EQ(report->stages[0].memory.activations, 3 * 2.5e9);
  EXPECT_DOUBLE_EQ(report->stages[2].memory.activations, 2 * 2e9);
  EXPECT_GE(report->memory.activations, 3 * 2.5e9 + 2 * 2e9);

  // m must be a multiple of p; the schedule runs training steps.
  plan.globalBatch = 3;
  EXPECT_NE(
      getErrorMessage(composeStep(makeEightLayerModel(), plan, getDgxA100(2)))
          .find("runs the micro-batches in groups of pp = 2, but there "
                "are 3 per replica"),
      std::string::npos);
  plan.globalBatch = 4;
  plan.mode = StepMode::Inference;
  EXPECT_EQ(
      getErrorMessage(composeStep(makeEightLayerModel(), plan, getDgxA100(2))),
      "the interleaved 1F1B schedule runs training steps; an inference "
      "pipeline runs gpipe");
  // 8 layers do not split into 2 x 3 chunks.
  plan.mode = StepMode::Training;
  plan.chunks = 3;
  plan.globalBatch = 4;
  EXPECT_NE(
      getErrorMessage(composeStep(makeEightLayerModel(), plan, getDgxA100(2)))
          .find("do not divide evenly into"),
      std::string::npos);
}

TEST(StepModelTest, PlanOptionsFromModeAndBatch) {
  llvm::Expected<PlanOptions> options =
      makePlanOptions("dp=2", "train", int64_t(64));
  ASSERT_EQ(succeeded(options), "");
  EXPECT_EQ(options->mode, StepMode::Training);
  EXPECT_EQ(options->globalBatch, 64);
  EXPECT_TRUE(options->isFixed(PlanKey::GlobalBatch));
  EXPECT_TRUE(options->isFixed(PlanKey::DataParallel));
  options = makePlanOptions("", "infer", std::nullopt);
  ASSERT_EQ(succeeded(options), "");
  EXPECT_EQ(options->mode, StepMode::Inference);
  EXPECT_EQ(options->fixed, 0u);
  // The messages name no command-line flag.
  EXPECT_EQ(getErrorMessage(makePlanOptions("", "trian", std::nullopt)),
            "the mode must be 'infer' or 'train', not 'trian'");
  EXPECT_EQ(getErrorMessage(makePlanOptions("", "infer", int64_t(8))),
            "in inference, a batch is what a pipeline plan (pp > 1) runs as "
            "micro-batches of the model's batch; fix pp, or give no batch");
  // An inference pipeline's batch: micro-batches of the model's batch.
  options = makePlanOptions("pp=4", "infer", int64_t(16));
  ASSERT_EQ(succeeded(options), "");
  EXPECT_EQ(options->globalBatch, 16);
  EXPECT_TRUE(options->isFixed(PlanKey::GlobalBatch));
  EXPECT_EQ(getErrorMessage(makePlanOptions("dp=0", "train", std::nullopt)),
            "plan key 'dp' must be at least 1, got 0");
}

TEST(StepModelTest, PlanSpecErrors) {
  auto error = [](llvm::StringRef text) {
    return getErrorMessage(parsePlanSpec(text));
  };
  // The messages name the plan key and never a command-line flag.
  EXPECT_EQ(error("dp=8,micro_batch=2"),
            "unknown plan key 'micro_batch' (did you mean 'microbatch'?); "
            "keys are dp, tp, pp, microbatch, recompute, zero, schedule, "
            "chunks, precision");
  EXPECT_NE(error("shedule=1f1b").find("did you mean 'schedule'"),
            std::string::npos);
  EXPECT_EQ(error("foo=1").find("did you mean"), std::string::npos);
  EXPECT_EQ(error("dp=8,tp"), "plan key 'tp' needs a value (tp=...)");
  EXPECT_EQ(error("dp="), "plan key 'dp' needs a value (dp=...)");
  EXPECT_EQ(error("dp=eight"),
            "plan key 'dp' must be a positive integer, got 'eight'");
  EXPECT_EQ(error("pp=0"), "plan key 'pp' must be at least 1, got 0");
  EXPECT_EQ(error("tp=99999999999"),
            "plan key 'tp' = 99999999999 is too large");
  EXPECT_EQ(error("microbatch=1.5"),
            "plan key 'microbatch' must be a positive integer, got '1.5'");
  EXPECT_EQ(error("zero=4"), "plan key 'zero' must be 0, 1, 2 or 3, got '4'");
  EXPECT_EQ(error("precision=fp8"),
            "plan key 'precision' must be bf16, fp16 or fp32, got 'fp8'");
  EXPECT_EQ(error("recompute=some"),
            "plan key 'recompute' must be none, selective or full, got 'some'");
  EXPECT_EQ(error("schedule=zigzag"),
            "plan key 'schedule' must be 1f1b, gpipe or interleaved, got "
            "'zigzag'");
  EXPECT_EQ(error("schedule=gpipe,chunks=2"),
            "plan key 'chunks' = 2 needs schedule=interleaved, not gpipe");
  EXPECT_EQ(error("schedule=interleaved,chunks=1"),
            "schedule=interleaved runs at least 2 chunks per pipeline "
            "position (got chunks=1: that is schedule=1f1b)");
  EXPECT_EQ(error("chunks=0"), "plan key 'chunks' must be at least 1, got 0");
  EXPECT_EQ(error("dp=2,dp=4"), "plan key 'dp' is given twice");
  EXPECT_EQ(error("dp=2,,tp=2"), "empty item in plan 'dp=2,,tp=2' (items are "
                                 "key=value separated by commas)");
}

} // namespace

namespace {

/// One layer of `seconds` forward and twice that backward, 8 copies.
std::vector<SegmentCost> makeReplicaModel(double seconds) {
  return {makeSegment("layer", 8, seconds, 2 * seconds)};
}

TEST(StepModelTest, DataParallelSharesFollowReplicaSpeed) {
  // Replicas 0-1 three times as fast as replicas 2-3; 32 micro-batches.
  PlanOptions plan = makeTrainingPlan(4, 1, 1, 32);
  ClusterSpec cluster = getDgxA100(4);
  std::vector<SegmentCost> fast = makeReplicaModel(1 * kMs);
  std::vector<SegmentCost> slow = makeReplicaModel(3 * kMs);
  std::vector<ReplicaGroup> groups = {{{0, 1}, fast}, {{2, 3}, slow}};
  llvm::Expected<StepReport> uneven =
      composeStep(slow, plan, cluster, groups);
  ASSERT_EQ(succeeded(uneven), "");
  llvm::Expected<StepReport> equal = composeStep(slow, plan, cluster);
  ASSERT_EQ(succeeded(equal), "");
  EXPECT_TRUE(equal->replicaMicroBatches.empty());
  EXPECT_EQ(equal->microBatches, 8u);

  // The shares: every micro-batch placed, the fast replicas with three
  // times the slow ones' (the last replica's 12 * 24 ms vs 4 * 72 ms).
  ASSERT_EQ(uneven->replicaMicroBatches.size(), 4u);
  unsigned sum = 0;
  for (unsigned m : uneven->replicaMicroBatches)
    sum += m;
  EXPECT_EQ(sum, 32u);
  EXPECT_EQ(uneven->replicaMicroBatches,
            (llvm::SmallVector<unsigned>{12, 12, 4, 4}));
  EXPECT_LT(uneven->stepSeconds, equal->stepSeconds);

  // No allocation of the 32 micro-batches (each replica at least one) has
  // a smaller last finish than the one chosen: brute force over the fast
  // and slow shares, with each group's step composed at its count.
  auto stepOf = [&](const std::vector<SegmentCost> &segments, unsigned m) {
    PlanOptions one = makeTrainingPlan(4, 1, 1, 4 * m);
    llvm::Expected<StepReport> step = composeStep(segments, one, cluster);
    EXPECT_EQ(succeeded(step), "");
    return step->stepSeconds;
  };
  double best = std::numeric_limits<double>::infinity();
  for (unsigned a = 1; a <= 15; ++a)
    for (unsigned b = a; b <= 15; ++b)
      for (unsigned c = 1; c <= 15; ++c) {
        int d = 32 - int(a + b + c);
        if (d < 1 || d > 15)
          continue;
        double last = std::max({stepOf(fast, b), stepOf(slow, c),
                                stepOf(slow, unsigned(d))});
        best = std::min(best, last);
      }
  EXPECT_NEAR(uneven->stepSeconds, best, 1e-12);
}

TEST(StepModelTest, ReplicaGroupsOfEqualSpeedShareEqually) {
  PlanOptions plan = makeTrainingPlan(4, 1, 1, 32);
  ClusterSpec cluster = getDgxA100(4);
  std::vector<SegmentCost> model = makeReplicaModel(2 * kMs);
  std::vector<ReplicaGroup> groups = {{{0, 2}, model}, {{1, 3}, model}};
  llvm::Expected<StepReport> grouped =
      composeStep(model, plan, cluster, groups);
  ASSERT_EQ(succeeded(grouped), "");
  llvm::Expected<StepReport> plain = composeStep(model, plan, cluster);
  ASSERT_EQ(succeeded(plain), "");
  EXPECT_TRUE(grouped->replicaMicroBatches.empty());
  EXPECT_EQ(grouped->microBatches, 8u);
  EXPECT_DOUBLE_EQ(grouped->stepSeconds, plain->stepSeconds);
  // Groups that leave a replica out are an error.
  groups = {{{0, 1}, model}, {{2}, model}};
  llvm::Expected<StepReport> partial = composeStep(model, plan, cluster, groups);
  EXPECT_NE(succeeded(partial), "");
}

} // namespace
