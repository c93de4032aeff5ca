//===- TrainingOps.cpp - training ops: verifiers and gradient rules -------===//
//
// Verifiers and result-type inference of the training ops (dist.assign, the
// loss ops and the optimizer ops), and the gradient rules of the loss ops.
// Their sharding rules are in ShardingRules.cpp with every other op's.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace distopt::dist;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static RankedTensorType rankedOf(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// Checks that `value` has exactly the type `expected`; `what` names it.
static LogicalResult checkSameType(std::optional<Location> loc, StringRef what,
                                   Value value, Type expected) {
  if (value.getType() != expected)
    return emitOptionalError(loc, "expects ", what, " of type ", expected,
                             ", found ", value.getType());
  return success();
}

/// Checks that `value` is a rank-0 tensor of `element`; `what` names it.
static LogicalResult checkScalar(std::optional<Location> loc, StringRef what,
                                 Value value, Type element) {
  RankedTensorType type = rankedOf(value);
  if (!type || type.getRank() != 0 || type.getElementType() != element)
    return emitOptionalError(loc, "expects ", what, " of type ",
                             RankedTensorType::get({}, element), ", found ",
                             value.getType());
  return success();
}

/// Checks that `labels` has the shape of `logits` without its last (class)
/// dimension.
static LogicalResult checkLabels(std::optional<Location> loc, Value logits,
                                 Value labels) {
  RankedTensorType lt = rankedOf(logits), bt = rankedOf(labels);
  if (!lt || !bt)
    return emitOptionalError(loc, "expects ranked logits and labels");
  if (lt.getRank() < 1)
    return emitOptionalError(loc, "expects logits of rank at least 1 (the "
                                  "classes last), found rank 0");
  if (bt.getShape() != lt.getShape().drop_back())
    return emitOptionalError(
        loc, "expects labels of shape ",
        RankedTensorType::get(lt.getShape().drop_back(), bt.getElementType()),
        " (the logits' shape without the class dimension), found ",
        labels.getType());
  return success();
}

/// Checks a hyper-parameter against [low, high) or [low, inf).
static LogicalResult checkRange(Operation *op, StringRef name, double value,
                                double low, std::optional<double> high) {
  if (value >= low && (!high || value < *high))
    return success();
  // Shortest form of each number (0.9, not 9.000000e-01).
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "expects " << name << " in [" << llvm::format("%g", low) << ", ";
  if (high)
    os << llvm::format("%g", *high) << ")";
  else
    os << "inf)";
  os << ", found " << llvm::format("%g", value);
  return op->emitOpError(text);
}

/// A rank-0 constant of `elementType` holding `value`.
static Value scalarConstant(OpBuilder &b, Location loc, Type elementType,
                            double value) {
  auto type = RankedTensorType::get({}, elementType);
  return ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getFloatAttr(elementType, value)));
}

//===----------------------------------------------------------------------===//
// AssignOp
//===----------------------------------------------------------------------===//

LogicalResult AssignOp::verify() {
  auto weight = getWeight().getDefiningOp<WeightOp>();
  if (!weight) {
    InFlightDiagnostic diag = emitOpError(
        "expects its first operand to be the result of a dist.weight");
    if (Operation *def = getWeight().getDefiningOp())
      diag << ", found the result of '" << def->getName() << "'";
    else
      diag << ", found a block argument";
    return diag;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Loss ops
//===----------------------------------------------------------------------===//

LogicalResult
CrossEntropyOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                 Adaptor adaptor,
                                 SmallVectorImpl<Type> &inferred) {
  if (failed(checkLabels(loc, adaptor.getLogits(), adaptor.getLabels())))
    return failure();
  inferred.push_back(RankedTensorType::get(
      {}, rankedOf(adaptor.getLogits()).getElementType()));
  return success();
}

LogicalResult
CrossEntropyGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &inferred) {
  if (failed(checkLabels(loc, adaptor.getLogits(), adaptor.getLabels())))
    return failure();
  RankedTensorType logits = rankedOf(adaptor.getLogits());
  if (failed(checkScalar(loc, "scale", adaptor.getScale(),
                         logits.getElementType())))
    return failure();
  inferred.push_back(logits);
  return success();
}

/// Checks that `value` (named `what`) is a tensor over the positions of
/// `logits` (its shape without the classes) of its element type.
static LogicalResult checkPositions(Operation *op, StringRef what, Value value,
                                   Value logits) {
  RankedTensorType lt = rankedOf(logits);
  auto expected =
      RankedTensorType::get(lt.getShape().drop_back(), lt.getElementType());
  if (value.getType() != expected)
    return op->emitOpError("expects ")
           << what << " of type " << expected
           << " (the logits' positions), found " << value.getType();
  return success();
}

LogicalResult CrossEntropyGradOp::verify() {
  if (bool(getMax()) != bool(getClassAxes()))
    return emitOpError("expects 'class_axes' exactly when it has stats");
  if (!getMax())
    return success();
  if (failed(checkPositions(*this, "the maxima", getMax(), getLogits())) ||
      failed(checkPositions(*this, "the sums", getSumExp(), getLogits())))
    return failure();
  return success();
}

LogicalResult CrossEntropyStatsOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  if (failed(checkLabels(loc, adaptor.getLogits(), adaptor.getLabels())))
    return failure();
  RankedTensorType lt = rankedOf(adaptor.getLogits());
  auto positions =
      RankedTensorType::get(lt.getShape().drop_back(), lt.getElementType());
  inferred.assign({positions, positions});
  return success();
}

LogicalResult CrossEntropyStatsOp::verify() {
  if (getClassAxes().empty())
    return emitOpError("expects the grid axes that split the classes");
  return checkPositions(*this, "the maxima", getMax(), getLogits());
}

//===----------------------------------------------------------------------===//
// Local forms of a split class dimension
//===----------------------------------------------------------------------===//

namespace {
/// The statistics of softmaxes over classes split across devices: every
/// position's maximum and sum of exp(logit - maximum) over all classes,
/// all-reduced over the class axes, and the local sum of the label logits.
struct SplitClassStats {
  Value max, sumExp, localTarget;
};
} // namespace

/// The grid axes of the rule's class factor `c` in `factorAxes`.
static SmallVector<int16_t>
getSplitClassAxes(const ShardingRule &rule,
             ArrayRef<SmallVector<int16_t>> factorAxes) {
  std::optional<int64_t> c = rule.lookupFactor("c");
  return c ? factorAxes[*c] : SmallVector<int16_t>();
}

/// Emits the statistics of `logits` (this device's block of classes) in
/// the order of the rule's inner all-reduces: maxima, then sums.
static SplitClassStats buildSplitClassStats(OpBuilder &b, Location loc,
                                            Value logits, Value labels,
                                            ArrayRef<int16_t> axes,
                                            StringRef grid) {
  int64_t rank = rankedOf(logits).getRank();
  Value localMax =
      ReduceOp::create(b, loc, ReduceKind::Max, logits,
                       b.getDenseI64ArrayAttr({rank - 1}), /*keep_dims=*/false)
          .getResult();
  SplitClassStats stats;
  stats.max = shard::AllReduceOp::create(b, loc, localMax, grid, axes,
                                         shard::ReductionKind::Max)
                  .getResult();
  auto local = CrossEntropyStatsOp::create(b, loc, logits, labels, stats.max,
                                           b.getDenseI16ArrayAttr(axes));
  stats.sumExp = shard::AllReduceOp::create(b, loc, local.getSumExp(), grid,
                                            axes, shard::ReductionKind::Sum)
                     .getResult();
  stats.localTarget = local.getTarget();
  return stats;
}

FailureOr<SmallVector<Value>>
CrossEntropyOp::buildSplitForm(OpBuilder &b,
                               ArrayRef<SmallVector<int16_t>> factorAxes,
                               StringRef grid) {
  SmallVector<int16_t> axes = getSplitClassAxes(getShardingRule(), factorAxes);
  if (axes.empty())
    return emitOpError("has no split class factor to build a local form for");
  Location loc = getLoc();
  SplitClassStats stats =
      buildSplitClassStats(b, loc, getLogits(), getLabels(), axes, grid);
  Value target = shard::AllReduceOp::create(b, loc, stats.localTarget, grid,
                                            axes, shard::ReductionKind::Sum)
                     .getResult();
  // loss = mean over positions of log(sum) + max - target.
  Value lse = UnaryOp::create(b, loc, UnaryKind::Log, stats.sumExp);
  Value perPosition = BinaryOp::create(
      b, loc, BinaryKind::Sub,
      BinaryOp::create(b, loc, BinaryKind::Add, lse, stats.max), target);
  int64_t positions = rankedOf(perPosition).getRank();
  if (positions == 0)
    return SmallVector<Value>{perPosition};
  Value loss = ReduceOp::create(
      b, loc, ReduceKind::Mean, perPosition,
      b.getDenseI64ArrayAttr(llvm::to_vector(llvm::seq<int64_t>(0, positions))),
      /*keep_dims=*/false);
  return SmallVector<Value>{loss};
}

FailureOr<SmallVector<Value>>
CrossEntropyGradOp::buildSplitForm(OpBuilder &b,
                                   ArrayRef<SmallVector<int16_t>> factorAxes,
                                   StringRef grid) {
  SmallVector<int16_t> axes = getSplitClassAxes(getShardingRule(), factorAxes);
  if (axes.empty() || getMax())
    return emitOpError("has no split class factor to build a local form for");
  Location loc = getLoc();
  SplitClassStats stats =
      buildSplitClassStats(b, loc, getLogits(), getLabels(), axes, grid);
  Value grad = CrossEntropyGradOp::create(
      b, loc, getLogits(), getLabels(), getScale(), stats.max, stats.sumExp,
      b.getDenseI16ArrayAttr(axes));
  return SmallVector<Value>{grad};
}

LogicalResult MseOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  if (failed(checkSameType(loc, "target", adaptor.getTarget(),
                           adaptor.getPred().getType())))
    return failure();
  inferred.push_back(
      RankedTensorType::get({}, rankedOf(adaptor.getPred()).getElementType()));
  return success();
}

/// Number of positions (elements of the labels) that the mean divides by.
static int64_t positionCount(Value labels) {
  return rankedOf(labels).getNumElements();
}

LogicalResult
CrossEntropyOp::buildGradients(OpBuilder &builder, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  Value dloss = resultGrads.empty() ? Value() : resultGrads[0];
  if (!dloss)
    return success();
  // The mean divides by the global number of positions: types are whole
  // while rules run, so the count is the whole batch's.
  Location loc = getLoc();
  Type element = getType().getElementType();
  Value count =
      scalarConstant(builder, loc, element, positionCount(getLabels()));
  Value scale =
      BinaryOp::create(builder, loc, BinaryKind::Div, dloss, count).getResult();
  operandGrads[0] =
      CrossEntropyGradOp::create(builder, loc, getLogits(), getLabels(), scale,
                                 /*max=*/Value(), /*sum_exp=*/Value(),
                                 /*class_axes=*/nullptr)
          .getResult();
  return success();
}

LogicalResult MseOp::buildGradients(OpBuilder &builder,
                                    ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  Value dloss = resultGrads.empty() ? Value() : resultGrads[0];
  if (!dloss)
    return success();
  // d/dpred mean((pred - target)^2) = 2 (pred - target) / N; the target's
  // gradient is its negation.
  Location loc = getLoc();
  Type element = getType().getElementType();
  int64_t count = rankedOf(getPred()).getNumElements();
  Value coef =
      BinaryOp::create(builder, loc, BinaryKind::Mul, dloss,
                       scalarConstant(builder, loc, element, 2.0 / count))
          .getResult();
  Value diff =
      BinaryOp::create(builder, loc, BinaryKind::Sub, getPred(), getTarget())
          .getResult();
  Value dpred =
      BinaryOp::create(builder, loc, BinaryKind::Mul, diff, coef).getResult();
  operandGrads[0] = dpred;
  operandGrads[1] =
      UnaryOp::create(builder, loc, UnaryKind::Neg, dpred).getResult();
  return success();
}

//===----------------------------------------------------------------------===//
// Optimizer ops
//===----------------------------------------------------------------------===//

LogicalResult AdamWOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  Type param = adaptor.getParam().getType();
  if (failed(checkSameType(loc, "grad", adaptor.getGrad(), param)) ||
      failed(checkSameType(loc, "m", adaptor.getM(), param)) ||
      failed(checkSameType(loc, "v", adaptor.getV(), param)))
    return failure();
  RankedTensorType step = rankedOf(adaptor.getStep());
  if (!step || step.getRank() != 0)
    return emitOptionalError(loc, "expects a rank-0 step, found ",
                             adaptor.getStep().getType());
  inferred.assign(3, param);
  return success();
}

LogicalResult AdamWOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRange(op, "lr", getLr().convertToDouble(), 0.0, {})) ||
      failed(checkRange(op, "beta1", getBeta1().convertToDouble(), 0.0, 1.0)) ||
      failed(checkRange(op, "beta2", getBeta2().convertToDouble(), 0.0, 1.0)) ||
      failed(checkRange(op, "eps", getEps().convertToDouble(), 0.0, {})) ||
      failed(checkRange(op, "weight_decay", getWeightDecay().convertToDouble(),
                        0.0, {})))
    return failure();
  return success();
}

LogicalResult SgdOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  Type param = adaptor.getParam().getType();
  if (failed(checkSameType(loc, "grad", adaptor.getGrad(), param)))
    return failure();
  inferred.push_back(param);
  if (Value buffer = adaptor.getMomentumBuffer()) {
    if (failed(checkSameType(loc, "momentum buffer", buffer, param)))
      return failure();
    inferred.push_back(param);
  }
  return success();
}

LogicalResult SgdOp::verify() {
  Operation *op = getOperation();
  double momentum = getMomentum().convertToDouble();
  if (failed(checkRange(op, "lr", getLr().convertToDouble(), 0.0, {})) ||
      failed(checkRange(op, "momentum", momentum, 0.0, {})) ||
      failed(checkRange(op, "weight_decay", getWeightDecay().convertToDouble(),
                        0.0, {})))
    return failure();
  bool hasBuffer = static_cast<bool>(getMomentumBuffer());
  if (momentum != 0.0 && !hasBuffer)
    return emitOpError(
        llvm::formatv("expects a momentum buffer operand when momentum is {0}",
                      llvm::format("%g", momentum))
            .str());
  if (momentum == 0.0 && hasBuffer)
    return emitOpError("expects no momentum buffer when momentum is 0");
  return success();
}
