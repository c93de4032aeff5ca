//===- MemoryModel.cpp - Per-device memory and pipeline bubbles -----------===//
//
// Implements the formulas listed in MemoryModel.h.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/MemoryModel.h"

#include <algorithm>

using namespace distopt::cost;

ModelStateMemory distopt::cost::getAdamModelStateMemory(double numParams,
                                                        ZeroStage stage,
                                                        unsigned dataParallel,
                                                        Precision precision) {
  double n = std::max(1u, dataParallel);
  // Mixed precision keeps an fp32 master copy beside the 16-bit weights.
  bool mixed = precision != Precision::FP32;
  double weightBytes = mixed ? 2 : 4;
  ModelStateMemory mem;
  mem.parameters = weightBytes * numParams;
  mem.gradients = weightBytes * numParams;
  mem.optimizerStates = (mixed ? 12 : 8) * numParams;
  if (stage >= ZeroStage::Zero1)
    mem.optimizerStates /= n;
  if (stage >= ZeroStage::Zero2)
    mem.gradients /= n;
  if (stage >= ZeroStage::Zero3)
    mem.parameters /= n;
  return mem;
}

double distopt::cost::getTransformerLayerActivationBytes(
    const TransformerLayerShape &shape, ActivationPolicy policy,
    unsigned tensorParallel) {
  double s = shape.seqLength, b = shape.microBatch, h = shape.hidden,
         a = shape.heads;
  double t = std::max(1u, tensorParallel);
  double sbh = s * b * h;
  switch (policy) {
  case ActivationPolicy::KeepAll:
    return sbh * (34 + 5 * a * s / h);
  case ActivationPolicy::TensorParallel:
    return sbh * (10 + 24 / t + 5 * a * s / (h * t));
  case ActivationPolicy::TensorSequenceParallel:
    return sbh * (34 + 5 * a * s / h) / t;
  case ActivationPolicy::FullRecompute:
    return 2 * sbh;
  }
  return 0;
}

unsigned distopt::cost::getInFlightMicroBatches(PipelineScheduleKind kind,
                                                unsigned stages,
                                                unsigned microBatches) {
  if (kind == PipelineScheduleKind::GPipe)
    return microBatches;
  return std::min(stages, microBatches);
}

unsigned distopt::cost::getInterleavedInFlight(unsigned stages, unsigned chunks,
                                               unsigned microBatches,
                                               unsigned position,
                                               unsigned chunk) {
  uint64_t total = uint64_t(microBatches) * chunks;
  // The forwards before the first backward: the warm-up, and the first
  // forward of the steady state (all of them when m == p).
  uint64_t warmup = microBatches == stages
                        ? total
                        : uint64_t(stages - position - 1) * 2 +
                              uint64_t(chunks - 1) * stages + 1;
  warmup = std::min(warmup, total);
  // Virtual micro-batch k runs chunk (k mod p*v) / p: groups of p
  // micro-batches go through the chunks in turn.
  uint64_t group = uint64_t(stages) * chunks;
  uint64_t count = (warmup / group) * stages;
  uint64_t rest = warmup % group, from = uint64_t(chunk) * stages;
  if (rest > from)
    count += std::min<uint64_t>(rest - from, stages);
  return unsigned(count);
}

unsigned distopt::cost::getStageInFlightMicroBatches(PipelineScheduleKind kind,
                                                     unsigned positions,
                                                     unsigned chunks,
                                                     unsigned microBatches,
                                                     unsigned stage) {
  if (chunks > 1)
    return getInterleavedInFlight(positions, chunks, microBatches,
                                  stage % positions, stage / positions);
  return getInFlightMicroBatches(kind, positions - stage, microBatches);
}

llvm::Expected<double>
distopt::cost::getPipelineBubbleFraction(PipelineScheduleKind kind,
                                         unsigned stages, unsigned microBatches,
                                         unsigned chunks) {
  if (stages == 0 || microBatches == 0 || chunks == 0)
    return llvm::createStringError(
        "pipeline bubble needs at least one stage, micro-batch and chunk "
        "(got p=%u, m=%u, v=%u)",
        stages, microBatches, chunks);
  double v = kind == PipelineScheduleKind::Interleaved1F1B ? chunks : 1;
  return double(stages - 1) / (v * microBatches);
}
