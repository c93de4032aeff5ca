//===- OpCost.cpp - FLOPs, bytes and roofline time of dist ops ------------===//
//
// Work counts per dist op (docs/cluster.md, "Op compute cost"): FLOPs with
// a multiply-add counted as 2 and a transcendental function counted as the
// FLOP-equivalents of its usual polynomial evaluation; bytes as every
// operand read once and every result written once. Sharded work takes the
// local sizes from the op's sharding rule. The time is a roofline with the
// device type's efficiency factors.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/OpCost.h"

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <optional>

using namespace mlir;
using namespace distopt;
using namespace distopt::cost;

llvm::StringRef distopt::cost::stringifyOpClass(OpClass opClass) {
  switch (opClass) {
  case OpClass::Gemm:
    return "gemm";
  case OpClass::Memory:
    return "memory";
  case OpClass::Free:
    return "free";
  }
  llvm_unreachable("unknown op class");
}

//===----------------------------------------------------------------------===//
// Sizes
//===----------------------------------------------------------------------===//

/// Bytes per element as the runtime stores it (i1 takes one byte).
static double getElementBytes(Type type) {
  auto tensor = cast<ShapedType>(type);
  unsigned bits = tensor.getElementTypeBitWidth();
  return std::max(1u, (bits + 7) / 8);
}

static double getNumElements(Value value) {
  auto tensor = dyn_cast<RankedTensorType>(value.getType());
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  return double(tensor.getNumElements());
}

static double getBytes(Value value) {
  double elements = getNumElements(value);
  return elements ? elements * getElementBytes(value.getType()) : 0;
}

/// Bytes `op` moves, from the bytes of its operands and results (whole or
/// local): each operand read once and each result written once, except
/// where a kernel reads only part of an operand. A gather reads the
/// selected slices of its table (as many bytes as it writes) and its
/// indices; a slice reads as many bytes as it writes.
static double combineBytes(Operation *op, ArrayRef<double> operandBytes,
                           ArrayRef<double> resultBytes) {
  double written = 0;
  for (double bytes : resultBytes)
    written += bytes;
  if (isa<dist::GatherOp, dist::GatherElementsOp>(op) &&
      operandBytes.size() == 2)
    return operandBytes[1] + 2 * written;
  if (isa<dist::SliceOp>(op))
    return 2 * written;
  // A scatter-add zeroes its result, reads the gradient and the indices, and
  // reads and writes one result slice per gradient slice.
  if (isa<dist::GatherGradOp>(op) && operandBytes.size() == 2)
    return written + 3 * operandBytes[0] + operandBytes[1];
  // A copy of the value into the weight's buffer.
  if (isa<dist::AssignOp>(op) && operandBytes.size() == 2)
    return 2 * operandBytes[1];
  double read = 0;
  for (double bytes : operandBytes)
    read += bytes;
  return read + written;
}

/// Bytes `op` moves on its own types.
static double getOperandAndResultBytes(Operation *op) {
  SmallVector<double> operands, results;
  for (Value operand : op->getOperands())
    operands.push_back(getBytes(operand));
  for (Value result : op->getResults())
    results.push_back(getBytes(result));
  return combineBytes(op, operands, results);
}

//===----------------------------------------------------------------------===//
// FLOPs per op
//===----------------------------------------------------------------------===//

/// FLOP-equivalents of one exp or log (see getUnaryFlopsPerElement).
static constexpr double kTranscendentalFlops = 15;

/// FLOP-equivalents per element of a unary kind, in units of one
/// vectorized arithmetic operation. Functions of the C library run scalar
/// and cost tens of those: the weights are their relative costs on the
/// machine of docs/performance.md (glibc's float exp, erf, tanh; sigmoid
/// adds a division and a data-dependent branch), so that one `vectorFlops`
/// rate prices all of them. Devices that evaluate them in hardware set
/// `vectorFlops` to 0 and stay memory-bound.
static double getUnaryFlopsPerElement(dist::UnaryKind kind) {
  using dist::UnaryKind;
  switch (kind) {
  case UnaryKind::Relu:
  case UnaryKind::Neg:
  case UnaryKind::Abs:
  case UnaryKind::Floor:
  case UnaryKind::Ceil:
  case UnaryKind::Round:
  case UnaryKind::Not:
    return 1;
  case UnaryKind::Sqrt:
  case UnaryKind::Reciprocal:
    return 4;
  case UnaryKind::Rsqrt:
    return 8;
  case UnaryKind::Exp:
  case UnaryKind::Log:
  case UnaryKind::Sin:
  case UnaryKind::Cos:
    return kTranscendentalFlops;
  // Not measured: priced as exp, log, sin and cos are (one libm call each).
  case UnaryKind::Tan:
  case UnaryKind::Asin:
  case UnaryKind::Acos:
  case UnaryKind::Atan:
  case UnaryKind::Sinh:
  case UnaryKind::Cosh:
  case UnaryKind::Asinh:
  case UnaryKind::Acosh:
  case UnaryKind::Atanh:
    return kTranscendentalFlops;
  case UnaryKind::Erf:
    return 24;
  case UnaryKind::GeluErf:
    return 27;
  case UnaryKind::Tanh:
    return 110;
  case UnaryKind::GeluTanh:
    return 115;
  case UnaryKind::Sigmoid:
    return 55;
  case UnaryKind::Silu:
    return 57;
  // The activations below were not measured: each is priced as the sum of
  // the functions it calls (exp, log, tanh above) and its arithmetic.
  case UnaryKind::LeakyRelu:
  case UnaryKind::ThresholdedRelu:
    return 2;
  case UnaryKind::HardSigmoid:
    return 4;
  case UnaryKind::HardSwish:
    return 5;
  case UnaryKind::Softsign:
    return 6;
  case UnaryKind::Elu:
  case UnaryKind::Celu:
    return kTranscendentalFlops + 3;
  case UnaryKind::Selu:
    return kTranscendentalFlops + 4;
  case UnaryKind::Softplus: // exp and log1p
    return 2 * kTranscendentalFlops + 3;
  case UnaryKind::Mish: // softplus, tanh, a product
    return 2 * kTranscendentalFlops + 3 + 110 + 1;
  }
  llvm_unreachable("unknown unary kind");
}

/// FLOPs of `m x k` times `k x n`, `batch` times.
static double getContractionFlops(double batch, double m, double n, double k) {
  return 2.0 * batch * m * n * k;
}

static OpWork getMatMulWork(dist::MatMulOp op) {
  auto lhs = cast<RankedTensorType>(op.getLhs().getType());
  double k = double(lhs.getShape().back());
  double outputs = getNumElements(op.getResult());
  // outputs = batch * m * n; each output is a k-long dot product.
  double flops = getContractionFlops(1, outputs, 1, k);
  if (op.getBias())
    flops += outputs;
  return {OpClass::Gemm, flops, getOperandAndResultBytes(op)};
}

static OpWork getGemmWork(dist::GemmOp op) {
  auto a = cast<RankedTensorType>(op.getA().getType());
  double k = double(op.getTransA() ? a.getDimSize(0) : a.getDimSize(1));
  double outputs = getNumElements(op.getResult());
  double flops = getContractionFlops(1, outputs, 1, k);
  // alpha * (a b) + beta * c: a scale and a multiply-add per output.
  if (op.getC())
    flops += 2 * outputs;
  return {OpClass::Gemm, flops, getOperandAndResultBytes(op)};
}

static OpWork getConv2DWork(dist::Conv2DOp op) {
  auto filter = cast<RankedTensorType>(op.getFilter().getType());
  double outputs = getNumElements(op.getResult());
  // Each output sums C/group x KH x KW products.
  double window = double(filter.getDimSize(1) * filter.getDimSize(2) *
                         filter.getDimSize(3));
  double flops = 2.0 * outputs * window;
  if (op.getBias())
    flops += outputs;
  return {OpClass::Gemm, flops, getOperandAndResultBytes(op)};
}

/// Work of a convolution's input or filter gradient: as many multiply-adds
/// as the forward convolution whose output gradient is `grad` and whose
/// filter has the type `filterType`.
static OpWork getConv2DGradWork(Operation *op, Value grad, Type filterType) {
  auto filter = cast<RankedTensorType>(filterType);
  double window = double(filter.getDimSize(1) * filter.getDimSize(2) *
                         filter.getDimSize(3));
  return {OpClass::Gemm, 2.0 * getNumElements(grad) * window,
          getOperandAndResultBytes(op)};
}

/// FLOPs per element of the AdamW kernel: decay (1), first moment (3),
/// second moment (4), sqrt (4), bias correction (4), eps (1), the step
/// (multiply, divide, subtract: 6).
static constexpr double kAdamWFlopsPerElement = 23;

/// FLOPs per logit of a row's logsumexp in f64: max, subtract, exp, sum.
static constexpr double kLogSumExpFlops = 3 + kTranscendentalFlops;

/// Work of the training ops (losses, their gradients, optimizer updates,
/// backward kernels, assigns), or nullopt for another op. `memory` makes a
/// memory-bound work of the op's own bytes.
static std::optional<OpWork>
getTrainingOpWork(Operation *op, llvm::function_ref<OpWork(double)> memory) {
  using Result = std::optional<OpWork>;
  return llvm::TypeSwitch<Operation *, Result>(op)
      .Case([](dist::Conv2DGradInputOp op) -> Result {
        return getConv2DGradWork(op, op.getGrad(), op.getFilter().getType());
      })
      .Case([](dist::Conv2DGradFilterOp op) -> Result {
        return getConv2DGradWork(op, op.getGrad(), op.getResult().getType());
      })
      // One add per gradient element.
      .Case([&](dist::GatherGradOp op) -> Result {
        return memory(getNumElements(op.getGrad()));
      })
      // Each output gradient visits its window (a compare or an add).
      .Case([&](dist::Pool2DGradOp op) -> Result {
        ArrayRef<int64_t> kernel = op.getKernel();
        return memory(getNumElements(op.getGrad()) *
                      double(kernel[0] * kernel[1]));
      })
      // A logsumexp per row, then a log, a pick and a subtraction per row.
      .Case([&](dist::CrossEntropyOp op) -> Result {
        double logits = getNumElements(op.getLogits());
        double rows = getNumElements(op.getLabels());
        return memory(logits * kLogSumExpFlops +
                      rows * (kTranscendentalFlops + 2));
      })
      // The row's logsumexp again, then exp, subtract one-hot and scale.
      .Case([&](dist::CrossEntropyGradOp op) -> Result {
        return memory(getNumElements(op.getLogits()) *
                      (kLogSumExpFlops + kTranscendentalFlops + 4));
      })
      // Per element: subtract the row's maximum, exp, add; a pick per row.
      .Case([&](dist::CrossEntropyStatsOp op) -> Result {
        return memory(getNumElements(op.getLogits()) *
                          (kTranscendentalFlops + 2) +
                      getNumElements(op.getLabels()));
      })
      // Subtract, square, sum; one division.
      .Case([&](dist::MseOp op) -> Result {
        return memory(3 * getNumElements(op.getPred()) + 1);
      })
      .Case([&](dist::AdamWOp op) -> Result {
        return memory(kAdamWFlopsPerElement * getNumElements(op.getParam()));
      })
      // The step (2), weight decay (2) and momentum (2) where present.
      .Case([&](dist::SgdOp op) -> Result {
        double perElement = 2;
        if (op.getWeightDecay().convertToDouble() != 0.0)
          perElement += 2;
        if (op.getMomentumBuffer())
          perElement += 2;
        return memory(perElement * getNumElements(op.getParam()));
      })
      .Case([&](dist::AssignOp) -> Result { return memory(0); })
      .Default([](Operation *) -> Result { return std::nullopt; });
}

/// Forward work of `op` by its kind, the precision left at its default.
static OpWork getOpWorkOfKind(Operation *op) {
  double bytes = getOperandAndResultBytes(op);
  auto memory = [&](double flops) {
    return OpWork{OpClass::Memory, flops, bytes};
  };
  auto outputs = [&]() {
    double n = 0;
    for (Value result : op->getResults())
      n += getNumElements(result);
    return n;
  };
  return llvm::TypeSwitch<Operation *, OpWork>(op)
      .Case<dist::WeightOp, dist::ConstantOp, dist::ReshapeOp>(
          [](Operation *) { return OpWork{}; })
      .Case([](dist::MatMulOp op) { return getMatMulWork(op); })
      .Case([](dist::GemmOp op) { return getGemmWork(op); })
      .Case([](dist::Conv2DOp op) { return getConv2DWork(op); })
      .Case([&](dist::Pool2DOp op) {
        ArrayRef<int64_t> kernel = op.getKernel();
        return memory(outputs() * double(kernel[0] * kernel[1]));
      })
      .Case([&](dist::GlobalPoolOp op) {
        return memory(getNumElements(op.getInput()));
      })
      .Case([&](dist::UnaryOp op) {
        return memory(outputs() * getUnaryFlopsPerElement(op.getKind()));
      })
      .Case<dist::BinaryOp, dist::CompareOp, dist::SelectOp>(
          [&](Operation *) { return memory(outputs()); })
      .Case([&](dist::ReduceOp op) {
        double flops = getNumElements(op.getInput());
        if (op.getKind() == dist::ReduceKind::Mean)
          flops += outputs();
        return memory(flops);
      })
      .Case([&](dist::SoftmaxOp op) {
        // Per element: max, subtract, exp and a sum in f64; then a division
        // in f64 (23 units together), or for log-softmax a subtraction.
        return memory(outputs() *
                      (kTranscendentalFlops + (op.getLog() ? 4 : 23)));
      })
      .Case([&](dist::LayerNormOp op) {
        // Per element: mean (1), variance (3), normalize, scale and shift
        // (4 with a bias, 3 without).
        return memory(outputs() * (op.getBias() ? 8 : 7));
      })
      // Data movement: bytes only. A scatter copies its data and writes
      // (or combines) one element per update.
      .Case<dist::CastOp, dist::BroadcastOp, dist::GatherOp, dist::TransposeOp,
            dist::SliceOp, dist::ConcatOp, dist::SplitOp,
            dist::GatherElementsOp>([&](Operation *) { return memory(0); })
      .Case<dist::ScatterElementsOp, dist::ScatterNDOp>([&](Operation *op) {
        return memory(getNumElements(op->getOperand(2)));
      })
      // A top-k keeps a heap of k per row: about log2(k + 1) comparisons
      // per element.
      .Case([&](dist::TopKOp op) {
        return memory(getNumElements(op.getInput()) *
                      std::log2(double(op.getK()) + 1));
      })
      // A dist op without a count of its own (a new op) is still a kernel
      // that moves its bytes; only other dialects' ops are free.
      .Default([&](Operation *op) {
        if (std::optional<OpWork> work = getTrainingOpWork(op, memory))
          return *work;
        return isa<dist::DistDialect>(op->getDialect()) ? memory(0) : OpWork{};
      });
}

Precision distopt::cost::getPrecision(Type elementType) {
  if (elementType.isF32() || elementType.isF64())
    return Precision::FP32;
  if (elementType.isF16())
    return Precision::FP16;
  return Precision::BF16;
}

/// The precision `op` computes in: that of its first result's element type
/// (a contraction's accumulator type), else of its first operand's.
static Precision getOpPrecision(Operation *op) {
  for (ValueRange values :
       {ValueRange(op->getResults()), ValueRange(op->getOperands())})
    for (Value value : values)
      if (auto shaped = dyn_cast<ShapedType>(value.getType()))
        return getPrecision(shaped.getElementType());
  return Precision::BF16;
}

OpWork distopt::cost::getOpWork(Operation *op) {
  OpWork work = getOpWorkOfKind(op);
  work.precision = getOpPrecision(op);
  return work;
}

//===----------------------------------------------------------------------===//
// Sharded work
//===----------------------------------------------------------------------===//

/// Local bytes of a tensor of `type` indexed by `dims` when factor `i` is
/// split `splits[i]` ways (a dimension's local size is the product over its
/// factors of ceil(size / split)).
static double getLocalBytes(Type type, const dist::TensorFactors &dims,
                            const dist::ShardingRule &rule,
                            ArrayRef<int64_t> splits) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  double elements = 1;
  for (const dist::DimFactors &factors : dims) {
    double size = 1;
    for (int64_t f : factors) {
      int64_t split = std::max<int64_t>(1, splits[f]);
      size *= double((rule.factors[f].size + split - 1) / split);
    }
    elements *= size;
  }
  return elements * getElementBytes(type);
}

OpWork distopt::cost::getShardedOpWork(Operation *op,
                                       const dist::ShardingRule &rule,
                                       ArrayRef<int64_t> factorSplits) {
  assert(factorSplits.size() == rule.factors.size() &&
         "one split per factor of the rule");
  OpWork work = getOpWork(op);
  if (work.opClass == OpClass::Free)
    return work;
  double pieces = 1;
  for (int64_t split : factorSplits)
    pieces *= double(std::max<int64_t>(1, split));
  work.flops /= pieces;
  SmallVector<double> operands, results;
  for (auto [i, dims] : llvm::enumerate(rule.operands))
    if (i < op->getNumOperands())
      operands.push_back(
          getLocalBytes(op->getOperand(i).getType(), dims, rule, factorSplits));
  for (auto [i, dims] : llvm::enumerate(rule.results))
    if (i < op->getNumResults())
      results.push_back(
          getLocalBytes(op->getResult(i).getType(), dims, rule, factorSplits));
  work.bytes = combineBytes(op, operands, results);
  return work;
}

//===----------------------------------------------------------------------===//
// Backward work and time
//===----------------------------------------------------------------------===//

OpWork distopt::cost::getBackwardWork(const OpWork &forward) {
  OpWork backward = forward;
  backward.flops = 2 * forward.flops;
  backward.bytes = 2 * forward.bytes;
  return backward;
}

double distopt::cost::getGemmRate(const DeviceType &device, double flops,
                                  Precision precision) {
  const ComputeEfficiency &eff = device.efficiency;
  double rate = device.getPeakFlops(precision) * eff.gemmEfficiency;
  if (eff.gemmHalfFlops > 0)
    rate *= flops / (flops + eff.gemmHalfFlops);
  return rate;
}

double distopt::cost::getMemoryRate(const DeviceType &device, double bytes) {
  llvm::ArrayRef<BandwidthPoint> curve = device.efficiency.bandwidthCurve;
  if (curve.empty())
    return device.memoryBandwidth * device.efficiency.memoryEfficiency;
  return interpolateBandwidth(curve, bytes);
}

double distopt::cost::getComputeTime(const DeviceType &device,
                                     const OpWork &work) {
  if (work.opClass == OpClass::Free)
    return 0;
  const ComputeEfficiency &eff = device.efficiency;
  double memoryRate = getMemoryRate(device, work.bytes);
  double memoryTime = memoryRate > 0 ? work.bytes / memoryRate : 0;
  double computeTime = 0;
  if (work.opClass == OpClass::Gemm) {
    double rate = getGemmRate(device, work.flops, work.precision);
    computeTime = rate > 0 ? work.flops / rate : 0;
  } else if (eff.vectorFlops > 0) {
    computeTime = work.flops / eff.vectorFlops;
  }
  return eff.opOverhead + std::max(memoryTime, computeTime);
}

double
distopt::cost::getSlowestComputeTime(llvm::ArrayRef<const DeviceType *> devices,
                                     const OpWork &work) {
  double slowest = 0;
  for (const DeviceType *device : devices)
    slowest = std::max(slowest, getComputeTime(*device, work));
  return slowest;
}
