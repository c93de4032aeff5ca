//===- OpCost.h - Compute time of dist ops -----------------------*- C++
//-*-===//
//
// FLOPs and bytes moved by each dist op, whole or with the factors of its
// sharding rule split across devices, and the roofline time of that work
// on a device type with its efficiency factors. The backward work of an op
// is derived from its forward work, so training cost exists before the
// training step exists as code.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_OPCOST_H
#define DISTOPT_COST_OPCOST_H

#include "distopt/Cost/ClusterSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir {
class Operation;
class Type;
} // namespace mlir

namespace distopt::dist {
struct ShardingRule;
} // namespace distopt::dist

namespace distopt::cost {

/// Which efficiency factor and which peak bound an op's time.
enum class OpClass {
  /// Matrix products and convolutions: the peak of their precision with
  /// the GEMM curve.
  Gemm,
  /// Elementwise, reductions, normalizations, softmax, gathers and copies:
  /// memory bandwidth, or vectorFlops where the arithmetic dominates.
  Memory,
  /// No kernel runs (weights, constants, views): no time.
  Free,
};

llvm::StringRef stringifyOpClass(OpClass opClass);

/// Work of one op on one device.
struct OpWork {
  OpClass opClass = OpClass::Free;
  /// Arithmetic operations (a multiply-add counts 2).
  double flops = 0;
  /// Bytes read and written (operands and results, each once).
  double bytes = 0;
  /// The arithmetic the op runs in (its result's element type,
  /// getPrecision): Gemm work runs at the device's peak of it.
  Precision precision = Precision::BF16;
};

/// The precision a kernel on elements of `elementType` runs in: fp32 for
/// f32 and f64 (no tensor-core peak applies), fp16 for f16, bf16 for bf16
/// and for every other type (integers, i1).
Precision getPrecision(mlir::Type elementType);

/// Forward work of `op` on the types it has (global shapes before
/// partitioning, local shapes after). Non-dist ops are Free.
OpWork getOpWork(mlir::Operation *op);

/// Forward work of `op` on one device when factor `i` of its sharding rule
/// `rule` is split into `factorSplits[i]` pieces (1 = whole): FLOPs divide
/// by the product of the splits, bytes are the local operand and result
/// sizes. `factorSplits` has one entry per factor of `rule`.
OpWork getShardedOpWork(mlir::Operation *op, const dist::ShardingRule &rule,
                        llvm::ArrayRef<int64_t> factorSplits);

/// Work of the backward pass of an op whose forward work is `forward`:
/// gradients of the inputs and of the weights. A GEMM costs two forward
/// GEMMs; a memory-bound op reads its saved inputs and the output gradient
/// and writes the input gradients (twice the forward bytes).
OpWork getBackwardWork(const OpWork &forward);

/// Time in seconds of `work` on `device`: a roofline with efficiency
/// factors, plus the per-kernel overhead (none for Free work):
/// `opOverhead + max(bytes / getMemoryRate, flops / rate)` where the rate is
/// getGemmRate at the work's precision for Gemm work and `vectorFlops` for
/// Memory work (no arithmetic bound when `vectorFlops` is 0).
double getComputeTime(const DeviceType &device, const OpWork &work);

/// Time in seconds of `work` run at once on devices of each of `devices`
/// (a data- or tensor-parallel group waits for its slowest member): the
/// longest getComputeTime. 0 for no devices.
double getSlowestComputeTime(llvm::ArrayRef<const DeviceType *> devices,
                             const OpWork &work);

/// FLOP/s that a GEMM of `flops` FLOPs in `precision` reaches on `device`:
/// `getPeakFlops(precision) * gemmEfficiency * flops / (flops +
/// gemmHalfFlops)`.
double getGemmRate(const DeviceType &device, double flops, Precision precision);

/// Bytes/s that a memory-bound kernel moving `bytes` reaches on `device`:
/// the device's bandwidth curve at `bytes` when it has one, else
/// `memoryBandwidth * memoryEfficiency`.
double getMemoryRate(const DeviceType &device, double bytes);

} // namespace distopt::cost

#endif // DISTOPT_COST_OPCOST_H
