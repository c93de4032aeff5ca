//===- MemoryModelTest.cpp - unit tests of the memory model ---------------===//
//
// Model states under ZeRO, transformer-layer activations and pipeline
// bubbles, each against numbers computed by hand from the ANCHORS formulas.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/MemoryModel.h"

#include "ErrorHelpers.h"

#include <gtest/gtest.h>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

TEST(CostMemoryModelTest, AdamOneBillionParamsUnderZero) {
  const double psi = 1e9;
  // ZeRO-0: 2 + 2 + 12 = 16 bytes per parameter = 16e9 bytes.
  EXPECT_DOUBLE_EQ(
      getAdamModelStateMemory(psi, ZeroStage::Zero0, 8, Precision::BF16)
          .total(),
      16e9);
  // ZeRO-1: 4 psi + 12 psi / 8 = 4e9 + 1.5e9 = 5.5e9.
  ModelStateMemory zero1 =
      getAdamModelStateMemory(psi, ZeroStage::Zero1, 8, Precision::BF16);
  EXPECT_DOUBLE_EQ(zero1.total(), 5.5e9);
  EXPECT_DOUBLE_EQ(zero1.optimizerStates, 1.5e9);
  // ZeRO-2: 2 psi + 14 psi / 8 = 2e9 + 1.75e9 = 3.75e9.
  ModelStateMemory zero2 =
      getAdamModelStateMemory(psi, ZeroStage::Zero2, 8, Precision::BF16);
  EXPECT_DOUBLE_EQ(zero2.total(), 3.75e9);
  EXPECT_DOUBLE_EQ(zero2.gradients, 0.25e9);
  EXPECT_DOUBLE_EQ(zero2.parameters, 2e9);
  // ZeRO-3: 16 psi / 8 = 2e9.
  EXPECT_DOUBLE_EQ(
      getAdamModelStateMemory(psi, ZeroStage::Zero3, 8, Precision::BF16)
          .total(),
      2e9);
  // Without data parallelism every stage keeps everything.
  EXPECT_DOUBLE_EQ(
      getAdamModelStateMemory(psi, ZeroStage::Zero3, 1, Precision::BF16)
          .total(),
      16e9);
}

TEST(CostMemoryModelTest, AdamStatesFollowThePrecision) {
  const double psi = 1e9;
  // fp16 is mixed precision like bf16: 2 + 2 + 12 bytes per parameter.
  ModelStateMemory fp16 =
      getAdamModelStateMemory(psi, ZeroStage::Zero0, 8, Precision::FP16);
  EXPECT_DOUBLE_EQ(fp16.parameters, 2e9);
  EXPECT_DOUBLE_EQ(fp16.gradients, 2e9);
  EXPECT_DOUBLE_EQ(fp16.optimizerStates, 12e9);
  // fp32: 4 + 4 + 8 (momentum and variance, no master copy): the same 16
  // bytes in all, split otherwise.
  ModelStateMemory fp32 =
      getAdamModelStateMemory(psi, ZeroStage::Zero0, 8, Precision::FP32);
  EXPECT_DOUBLE_EQ(fp32.parameters, 4e9);
  EXPECT_DOUBLE_EQ(fp32.gradients, 4e9);
  EXPECT_DOUBLE_EQ(fp32.optimizerStates, 8e9);
  // So ZeRO-1 saves less: 8 psi + 8 psi / 8 = 9e9 (mixed: 5.5e9).
  EXPECT_DOUBLE_EQ(
      getAdamModelStateMemory(psi, ZeroStage::Zero1, 8, Precision::FP32)
          .total(),
      9e9);
  // ZeRO-2: 4 psi + 12 psi / 8 = 5.5e9 (mixed: 3.75e9).
  EXPECT_DOUBLE_EQ(
      getAdamModelStateMemory(psi, ZeroStage::Zero2, 8, Precision::FP32)
          .total(),
      5.5e9);
}

TEST(CostMemoryModelTest, GptLayerActivations) {
  // GPT-3 175B layer: s = 2048, b = 1, h = 12288, a = 96, t = 8.
  // s*b*h = 25165824; a*s/h = 96*2048/12288 = 16.
  TransformerLayerShape shape{2048, 1, 12288, 96};
  // Everything kept: sbh (34 + 5*16) = 25165824 * 114 = 2868903936.
  EXPECT_DOUBLE_EQ(
      getTransformerLayerActivationBytes(shape, ActivationPolicy::KeepAll),
      2868903936.0);
  // TP t = 8: sbh (10 + 24/8 + 80/8) = 25165824 * 23 = 578813952.
  EXPECT_DOUBLE_EQ(getTransformerLayerActivationBytes(
                       shape, ActivationPolicy::TensorParallel, 8),
                   578813952.0);
  // TP + SP t = 8: 2868903936 / 8 = 358612992.
  EXPECT_DOUBLE_EQ(getTransformerLayerActivationBytes(
                       shape, ActivationPolicy::TensorSequenceParallel, 8),
                   358612992.0);
  // Full recompute: 2 sbh = 50331648.
  EXPECT_DOUBLE_EQ(getTransformerLayerActivationBytes(
                       shape, ActivationPolicy::FullRecompute),
                   50331648.0);
  // TP with t = 1 is the plain formula: 10 + 24 = 34.
  EXPECT_DOUBLE_EQ(getTransformerLayerActivationBytes(
                       shape, ActivationPolicy::TensorParallel, 1),
                   2868903936.0);
}

/// The bubble fraction, or -1 with the error printed if it failed.
double getBubble(PipelineScheduleKind kind, unsigned p, unsigned m,
                 unsigned v = 1) {
  llvm::Expected<double> bubble = getPipelineBubbleFraction(kind, p, m, v);
  if (!bubble) {
    ADD_FAILURE() << llvm::toString(bubble.takeError());
    return -1;
  }
  return *bubble;
}

TEST(CostMemoryModelTest, PipelineBubbleAndInFlight) {
  // 1F1B, p = 4, m = 8: (4 - 1) / 8 = 0.375; GPipe the same.
  EXPECT_DOUBLE_EQ(getBubble(PipelineScheduleKind::OneFOneB, 4, 8), 0.375);
  EXPECT_DOUBLE_EQ(getBubble(PipelineScheduleKind::GPipe, 4, 8), 0.375);
  // Interleaved with v = 2: 3 / (2 * 8) = 0.1875.
  EXPECT_DOUBLE_EQ(getBubble(PipelineScheduleKind::Interleaved1F1B, 4, 8, 2),
                   0.1875);
  // One stage has no bubble.
  EXPECT_DOUBLE_EQ(getBubble(PipelineScheduleKind::OneFOneB, 1, 8), 0.0);
  EXPECT_EQ(getErrorMessage(getPipelineBubbleFraction(
                PipelineScheduleKind::OneFOneB, 4, 0)),
            "pipeline bubble needs at least one stage, micro-batch and chunk "
            "(got p=4, m=0, v=1)");

  // Interleaved, p = 4, v = 2, m = 8: position 0 runs 3 * 2 + 1 * 4 = 10
  // warm-up forwards and one more before its first backward: virtual
  // micro-batches 0-3 are chunk 0's micro-batches 0-3, 4-7 chunk 1's, 8-10
  // chunk 0's 4-6.
  EXPECT_EQ(getInterleavedInFlight(4, 2, 8, 0, 0), 7u);
  EXPECT_EQ(getInterleavedInFlight(4, 2, 8, 0, 1), 4u);
  // The last position: (v - 1) * p + 1 = 5: 4 of chunk 0, 1 of chunk 1.
  EXPECT_EQ(getInterleavedInFlight(4, 2, 8, 3, 0), 4u);
  EXPECT_EQ(getInterleavedInFlight(4, 2, 8, 3, 1), 1u);
  // m == p: every forward runs first.
  EXPECT_EQ(getInterleavedInFlight(4, 2, 4, 3, 1), 4u);

  // GPipe keeps all m micro-batches, 1F1B at most p.
  EXPECT_EQ(getInFlightMicroBatches(PipelineScheduleKind::GPipe, 4, 8), 8u);
  EXPECT_EQ(getInFlightMicroBatches(PipelineScheduleKind::OneFOneB, 4, 8), 4u);
  EXPECT_EQ(getInFlightMicroBatches(PipelineScheduleKind::OneFOneB, 4, 2), 2u);
}

} // namespace
