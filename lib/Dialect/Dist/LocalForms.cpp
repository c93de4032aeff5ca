//===- LocalForms.cpp - Local forms of ops whose reductions are split -----===//
//
// Split means become partial sums; biases of split contractions are added
// once after the partial results are combined.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/LocalForms.h"

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/Reshard.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

shard::ReductionKind dist::getUpstreamReductionKind(ReduceKind combiner) {
  switch (getPartialKind(combiner)) {
  case ReduceKind::Sum:
  case ReduceKind::Mean:
    return shard::ReductionKind::Sum;
  case ReduceKind::Max:
    return shard::ReductionKind::Max;
  case ReduceKind::Min:
    return shard::ReductionKind::Min;
  case ReduceKind::Prod:
    return shard::ReductionKind::Product;
  }
  llvm_unreachable("unknown reduce kind");
}

/// A rank-0 constant of `elementType` holding `value`.
static Value buildScalar(OpBuilder &b, Location loc, Type elementType,
                         double value) {
  auto type = RankedTensorType::get({}, elementType);
  return ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getFloatAttr(elementType, value)));
}

FailureOr<Value> dist::buildPartialMean(OpBuilder &b, Operation *op,
                                        Value localMean, int64_t pieces) {
  Type element = cast<ShapedType>(localMean.getType()).getElementType();
  if (!isa<FloatType>(element))
    return op->emitOpError("cannot split the mean of integers: the "
                           "truncated mean of the whole is not a sum of "
                           "partial results");
  return BinaryOp::create(b, op->getLoc(), BinaryKind::Mul, localMean,
                          buildScalar(b, op->getLoc(), element, 1.0 / pieces))
      .getResult();
}

void dist::dropBias(Operation *op, const BiasAfterReduction &bias) {
  op->eraseOperand(bias.operand);
  if (!bias.scaleAttr.empty())
    op->removeAttr(bias.scaleAttr);
}

Value dist::buildBiasAdd(OpBuilder &b, Location loc, Value combined,
                         Value localBias, const BiasAfterReduction &bias) {
  auto biasType = cast<RankedTensorType>(localBias.getType());
  auto resultType = cast<RankedTensorType>(combined.getType());
  Type element = biasType.getElementType();
  Value local = localBias;
  if (bias.scale != 1.0)
    local = BinaryOp::create(b, loc, BinaryKind::Mul, local,
                             buildScalar(b, loc, element, bias.scale));
  // Broadcasting aligns trailing dimensions: a bias whose dimensions are not
  // the result's last ones gets size-1 dimensions after them (a
  // convolution's bias of shape O becomes O x 1 x 1 over N x O x H x W).
  int64_t resultRank = resultType.getRank();
  if (!bias.resultDims.empty() && bias.resultDims.back() != resultRank - 1) {
    int64_t first = bias.resultDims.front();
    SmallVector<int64_t> shape(resultRank - first, 1);
    for (auto [d, resultDim] : llvm::enumerate(bias.resultDims))
      shape[resultDim - first] = biasType.getDimSize(d);
    local =
        ReshapeOp::create(b, loc, RankedTensorType::get(shape, element), local);
  }
  return BinaryOp::create(b, loc, BinaryKind::Add, combined, local).getResult();
}
