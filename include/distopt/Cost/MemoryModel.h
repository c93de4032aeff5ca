//===- MemoryModel.h - Per-device memory and pipeline bubbles --*- C++ -*-===//
//
// Memory per device of model states (mixed-precision Adam under ZeRO
// stages), activations of transformer layers (plain, tensor parallel,
// tensor + sequence parallel, full recompute), micro-batches in flight per
// pipeline schedule, and the pipeline bubble fraction. Formulas from the
// ZeRO paper (Rajbhandari et al. 2020), Korthikanti et al. 2022 and
// Narayanan et al. 2021.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_MEMORYMODEL_H
#define DISTOPT_COST_MEMORYMODEL_H

#include "distopt/Cost/ClusterSpec.h"

#include "llvm/Support/Error.h"

namespace distopt::cost {

enum class ZeroStage { Zero0 = 0, Zero1 = 1, Zero2 = 2, Zero3 = 3 };

/// Bytes per device of the model states.
struct ModelStateMemory {
  /// The parameters the step computes with: 16-bit in mixed precision (2
  /// bytes per parameter before sharding), fp32 (4) in fp32 training.
  double parameters = 0;
  /// Gradients, in the parameters' precision (2 or 4 bytes per parameter).
  double gradients = 0;
  /// Adam momentum and variance (8 bytes per parameter) and, in mixed
  /// precision, the fp32 master weights (4 more: 12).
  double optimizerStates = 0;
  double total() const { return parameters + gradients + optimizerStates; }
};

/// Model states of `numParams` parameters trained with Adam in `precision`
/// under `stage` with data-parallel degree `dataParallel`. Mixed precision
/// (bf16, fp16): 2 + 2 + 12 bytes per parameter, ZeRO-0 16P, ZeRO-1
/// 4P + 12P/N, ZeRO-2 2P + 14P/N, ZeRO-3 16P/N. fp32: 4 + 4 + 8 bytes
/// (no master copy), ZeRO-0 16P, ZeRO-1 8P + 8P/N, ZeRO-2 4P + 12P/N,
/// ZeRO-3 16P/N.
ModelStateMemory getAdamModelStateMemory(double numParams, ZeroStage stage,
                                         unsigned dataParallel,
                                         Precision precision);

/// Shape of one transformer layer's activations.
struct TransformerLayerShape {
  double seqLength = 0;  ///< s
  double microBatch = 0; ///< b
  double hidden = 0;     ///< h
  double heads = 0;      ///< a
};

enum class ActivationPolicy {
  /// Everything kept, 16-bit activations: s b h (34 + 5 a s / h).
  KeepAll,
  /// Tensor parallel t: s b h (10 + 24/t + 5 a s / (h t)).
  TensorParallel,
  /// Tensor + sequence parallel t: s b h (34 + 5 a s / h) / t.
  TensorSequenceParallel,
  /// Full recompute: only the layer input, 2 s b h.
  FullRecompute,
};

/// Activation bytes of one transformer layer kept for backward, per device.
/// `tensorParallel` is used by the tensor-parallel policies.
double getTransformerLayerActivationBytes(const TransformerLayerShape &shape,
                                          ActivationPolicy policy,
                                          unsigned tensorParallel = 1);

enum class PipelineScheduleKind { GPipe, OneFOneB, Interleaved1F1B };

/// Micro-batches whose activations the first stage holds at once: GPipe m,
/// 1F1B and interleaved 1F1B min(p, m).
unsigned getInFlightMicroBatches(PipelineScheduleKind kind, unsigned stages,
                                 unsigned microBatches);

/// Micro-batches whose forward of chunk `chunk` (0..v-1) is in flight at
/// once on pipeline position `position` of `stages` under interleaved 1F1B
/// with `chunks` chunks per position (Megatron-LM's schedule): of the
/// forwards it runs before its first backward, those of that chunk.
unsigned getInterleavedInFlight(unsigned stages, unsigned chunks,
                                unsigned microBatches, unsigned position,
                                unsigned chunk);

/// Micro-batches in flight on stage `stage` of a pipeline of `positions`
/// positions with `chunks` stages each (stage c on position c mod
/// positions): getInterleavedInFlight with chunks > 1, else
/// getInFlightMicroBatches over the stages from `stage` to the last.
unsigned getStageInFlightMicroBatches(PipelineScheduleKind kind,
                                      unsigned positions, unsigned chunks,
                                      unsigned microBatches, unsigned stage);

/// Bubble fraction (idle time over ideal time): (p-1)/m for GPipe and 1F1B,
/// (p-1)/(v m) for interleaved 1F1B with v chunks per device. Fails for
/// zero stages, micro-batches or chunks.
llvm::Expected<double> getPipelineBubbleFraction(PipelineScheduleKind kind,
                                                 unsigned stages,
                                                 unsigned microBatches,
                                                 unsigned chunks = 1);

} // namespace distopt::cost

#endif // DISTOPT_COST_MEMORYMODEL_H
