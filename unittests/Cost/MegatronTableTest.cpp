//===- MegatronTableTest.cpp - the step model against Megatron-LM ---------===//
//
// Builds the segment costs of the four GPT rows of Narayanan et al. (SC'21,
// Table 1) analytically, without the planner,
// composes their training steps on the dgx-a100-80g preset (full
// recompute, 1F1B, micro-batch 1) and checks the predicted TFLOP/s per GPU
// against the published figures within 15%. The A100 efficiency factors of
// the preset are the one set tuned for this (docs/cluster.md).
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/OpCost.h"
#include "distopt/Cost/StepModel.h"

#include "ErrorHelpers.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

constexpr double kSeqLength = 2048;
constexpr double kVocab = 51200;
/// Bytes per element of 16-bit activations and weights.
constexpr double kHalf = 2;

/// One row of the table.
struct GptRow {
  const char *name;
  double heads, hidden, layers;
  unsigned tensorParallel, pipelineParallel, gpus;
  int64_t globalBatch;
  /// Published TFLOP/s per GPU (counting the recomputed forward).
  double paperTflops;
};

constexpr GptRow kRows[] = {
    {"1.7B", 24, 2304, 24, 1, 1, 32, 512, 137},
    {"18.4B", 48, 6144, 40, 8, 1, 256, 1024, 135},
    {"145.6B", 96, 12288, 80, 8, 8, 1536, 2304, 148},
    {"1008B", 160, 25600, 128, 8, 64, 3072, 3072, 163},
};

OpWork gemm(double flops, double bytes) {
  return {OpClass::Gemm, flops, bytes};
}
OpWork memoryOp(double bytes) { return {OpClass::Memory, 0, bytes}; }

double getForwardTime(const DeviceType &device, llvm::ArrayRef<OpWork> ops) {
  double seconds = 0;
  for (const OpWork &op : ops)
    seconds += getComputeTime(device, op);
  return seconds;
}

double getBackwardTime(const DeviceType &device, llvm::ArrayRef<OpWork> ops) {
  double seconds = 0;
  for (const OpWork &op : ops)
    seconds += getComputeTime(device, getBackwardWork(op));
  return seconds;
}

double getForwardFlops(llvm::ArrayRef<OpWork> ops) {
  double flops = 0;
  for (const OpWork &op : ops)
    if (op.opClass == OpClass::Gemm)
      flops += op.flops;
  return flops;
}

/// Ranks of one tensor-parallel group and of one data-parallel group of
/// the first stage, in composeStep's layout (tp innermost, then dp).
std::vector<unsigned> getTensorGroup(unsigned tp) {
  std::vector<unsigned> ranks(tp);
  std::iota(ranks.begin(), ranks.end(), 0);
  return ranks;
}
std::vector<unsigned> getDataGroup(unsigned dp, unsigned tp) {
  std::vector<unsigned> ranks;
  for (unsigned replica = 0; replica < dp; ++replica)
    ranks.push_back(replica * tp);
  return ranks;
}

CollectiveUse makeAllReduce(const ClusterSpec &cluster,
                            llvm::ArrayRef<unsigned> ranks, double bytes,
                            llvm::StringRef what) {
  CollectiveUse use;
  use.kind = CollectiveKind::AllReduce;
  use.bytes = bytes;
  use.groupSize = ranks.size();
  use.seconds = getCollectiveTime(cluster, CollectiveKind::AllReduce,
                                  CollectiveAlgorithm::Ring, bytes, ranks);
  use.what = what.str();
  return use;
}

/// Embedding, `layers` transformer layers and the logit head of GPT as one
/// device of a Megatron tensor-parallel group holds them (no sequence
/// parallelism), for one micro-batch of one sequence.
std::vector<SegmentCost> buildGptSegments(const GptRow &row,
                                          const ClusterSpec &cluster) {
  const DeviceType &device = cluster.deviceTypes.front();
  double s = kSeqLength, b = 1, h = row.hidden, a = row.heads, v = kVocab,
         t = row.tensorParallel;
  double sbh = s * b * h, scores = a * s * s * b / t;
  unsigned dp = row.gpus / (row.tensorParallel * row.pipelineParallel);
  std::vector<unsigned> tensorGroup = getTensorGroup(row.tensorParallel);
  std::vector<unsigned> dataGroup = getDataGroup(dp, row.tensorParallel);
  bool splitTensors = row.tensorParallel > 1;

  // Word embedding split over the vocabulary (an all-reduce joins the
  // parts), position embedding added, dropout.
  SegmentCost embedding;
  embedding.name = "embedding";
  std::vector<OpWork> embeddingOps = {memoryOp(kHalf * 2 * sbh),
                                      memoryOp(kHalf * 3 * sbh),
                                      memoryOp(kHalf * 2 * sbh + sbh)};
  embedding.forwardSeconds = getForwardTime(device, embeddingOps);
  embedding.backwardSeconds = getBackwardTime(device, embeddingOps);
  if (splitTensors)
    embedding.forwardCollectives.push_back(makeAllReduce(
        cluster, tensorGroup, kHalf * sbh, "vocabulary-parallel embedding"));
  embedding.parameters = v * h / t + s * h;
  embedding.parameterBytes = kHalf * embedding.parameters;
  embedding.activationBytes = sbh;  // dropout mask
  embedding.inputBytes = 8 * s * b; // token ids
  embedding.peakTemporaryBytes = kHalf * 2 * sbh;
  embedding.gradientCollectives.push_back(makeAllReduce(
      cluster, dataGroup, kHalf * embedding.parameters, "embedding gradients"));

  // A transformer layer: Megatron's column- then row-parallel attention and
  // MLP, with the unfused attention of the paper's code.
  SegmentCost layer;
  layer.name = "layer";
  layer.repeat = unsigned(row.layers);
  std::vector<OpWork> layerOps = {
      memoryOp(kHalf * 2 * sbh), // layer norm
      gemm(2 * sbh * 3 * h / t,
           kHalf * (sbh + 3 * h * h / t + 3 * sbh / t)),     // QKV
      gemm(2 * s * sbh / t, kHalf * (2 * sbh / t + scores)), // Q K^T
      memoryOp(kHalf * 2 * scores),          // scale, mask, softmax
      memoryOp(kHalf * 2 * scores + scores), // attention dropout
      gemm(2 * s * sbh / t, kHalf * (scores + 2 * sbh / t)),      // scores V
      gemm(2 * sbh * h / t, kHalf * (sbh / t + h * h / t + sbh)), // proj
      memoryOp(kHalf * 3 * sbh + sbh), // bias, dropout, residual
      memoryOp(kHalf * 2 * sbh),       // layer norm
      gemm(2 * sbh * 4 * h / t,
           kHalf * (sbh + 4 * h * h / t + 4 * sbh / t)), // MLP up
      memoryOp(kHalf * 2 * 4 * sbh / t),                 // bias, GeLU
      gemm(2 * sbh * 4 * h / t,
           kHalf * (4 * sbh / t + 4 * h * h / t + sbh)), // MLP down
      memoryOp(kHalf * 3 * sbh + sbh), // bias, dropout, residual
  };
  layer.forwardSeconds = getForwardTime(device, layerOps);
  layer.backwardSeconds = getBackwardTime(device, layerOps);
  layer.forwardFlops = getForwardFlops(layerOps);
  if (splitTensors) {
    // g after attention and after the MLP forward, f before them backward.
    for (const char *what : {"attention output", "MLP output"})
      layer.forwardCollectives.push_back(
          makeAllReduce(cluster, tensorGroup, kHalf * sbh, what));
    for (const char *what : {"attention input gradient", "MLP input gradient"})
      layer.backwardCollectives.push_back(
          makeAllReduce(cluster, tensorGroup, kHalf * sbh, what));
  }
  layer.parameters = 12 * h * h / t + 7 * h / t + 6 * h;
  layer.parameterBytes = kHalf * layer.parameters;
  layer.activationBytes = getTransformerLayerActivationBytes(
      {s, b, h, a}, ActivationPolicy::TensorParallel, row.tensorParallel);
  layer.inputBytes = kHalf * sbh;
  layer.peakTemporaryBytes = kHalf * 2 * scores;
  layer.gradientCollectives.push_back(makeAllReduce(
      cluster, dataGroup, kHalf * layer.parameters, "layer gradients"));

  // Final layer norm, logits against the (tied) word embedding split over
  // the vocabulary, and the vocabulary-parallel cross entropy (fp32 passes
  // over the logits). The last stage keeps its own copy of the embedding.
  SegmentCost head;
  head.name = "head";
  double logits = s * b * v / t;
  std::vector<OpWork> headOps = {
      memoryOp(kHalf * 2 * sbh),
      gemm(2 * sbh * v / t, kHalf * (sbh + v * h / t + logits)),
      memoryOp(24 * logits),
  };
  head.forwardSeconds = getForwardTime(device, headOps);
  head.backwardSeconds = getBackwardTime(device, headOps);
  head.forwardFlops = getForwardFlops(headOps);
  if (splitTensors)
    head.backwardCollectives.push_back(makeAllReduce(
        cluster, tensorGroup, kHalf * sbh, "logits input gradient"));
  head.parameters = row.pipelineParallel > 1 ? v * h / t : 0;
  head.parameterBytes = kHalf * head.parameters;
  head.activationBytes = 4 * logits + kHalf * sbh;
  head.inputBytes = kHalf * sbh;
  head.peakTemporaryBytes = 4 * 2 * logits;
  if (head.parameters > 0)
    head.gradientCollectives.push_back(makeAllReduce(
        cluster, dataGroup, kHalf * head.parameters, "head gradients"));
  return {embedding, layer, head};
}

PlanOptions getPlan(const GptRow &row) {
  PlanOptions plan;
  plan.mode = StepMode::Training;
  plan.tensorParallel = row.tensorParallel;
  plan.pipelineParallel = row.pipelineParallel;
  plan.dataParallel = row.gpus / (row.tensorParallel * row.pipelineParallel);
  plan.microBatch = 1;
  plan.globalBatch = row.globalBatch;
  plan.recompute = RecomputePolicy::Full;
  plan.schedule = PipelineScheduleKind::OneFOneB;
  return plan;
}

/// Training FLOPs of one iteration with full recompute (ANCHORS):
/// 96 B s l h^2 (1 + s / (6h) + V / (16 l h)).
double getMegatronFlops(const GptRow &row) {
  double h = row.hidden, l = row.layers, s = kSeqLength;
  return 96 * double(row.globalBatch) * s * l * h * h *
         (1 + s / (6 * h) + kVocab / (16 * l * h));
}

TEST(MegatronTableTest, PredictsPublishedThroughputWithinFifteenPercent) {
  llvm::outs() << "Megatron-LM (SC'21 Table 1) on dgx-a100-80g, full "
                  "recompute, 1F1B, micro-batch 1\n"
               << llvm::formatv("{0,8} {1,4} {2,4} {3,5} {4,4} {5,11} "
                                "{6,10} {7,7} {8,9} {9,8}\n",
                                "model", "tp", "pp", "dp", "m", "step (s)",
                                "predicted", "paper", "error", "fits");
  std::vector<StepReport> reports;
  for (const GptRow &row : kRows) {
    llvm::Expected<ClusterSpec> cluster =
        getClusterPreset("dgx-a100-80g", row.gpus);
    ASSERT_EQ(succeeded(cluster), "");
    PlanOptions plan = getPlan(row);
    llvm::Expected<StepReport> report =
        composeStep(buildGptSegments(row, *cluster), plan, *cluster);
    ASSERT_EQ(succeeded(report), "") << row.name;

    // The FLOPs the paper counts (recompute included) are the hardware
    // FLOPs of the report: the count is exact, whatever the efficiencies.
    EXPECT_NEAR(report->hardwareFlopsPerDevice,
                getMegatronFlops(row) / row.gpus,
                1e-9 * report->hardwareFlopsPerDevice)
        << row.name;
    double predicted = report->hardwareFlopsPerSecond / 1e12;
    double error = predicted / row.paperTflops - 1;
    llvm::outs() << llvm::formatv(
        "{0,8} {1,4} {2,4} {3,5} {4,4} {5,11:f3} {6,10:f1} {7,7:f0} "
        "{8,8:f1}% {9,8}\n",
        row.name, plan.tensorParallel, plan.pipelineParallel, plan.dataParallel,
        report->microBatches, report->stepSeconds, predicted, row.paperTflops,
        100 * error, report->fits ? "yes" : "no");
    EXPECT_LT(std::abs(error), 0.15) << row.name << ": predicted " << predicted
                                     << " TFLOP/s, paper " << row.paperTflops;
    // The paper trained every row, so every plan fits in 80 GB.
    EXPECT_TRUE(report->fits) << row.name;
    reports.push_back(std::move(*report));
  }
  for (auto [row, report] : llvm::zip(kRows, reports)) {
    llvm::outs() << "\nGPT " << row.name << ": ";
    printStepReport(report, llvm::outs());
  }
}

} // namespace
