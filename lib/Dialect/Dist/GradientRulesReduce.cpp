//===- GradientRulesReduce.cpp - rules of reductions and normalizations ---===//
//
// Reverse-mode rules of reduce (sum, mean, max, min, prod), softmax (and
// log-softmax) and layer_norm, composed of forward dist ops. Layer norm
// recomputes its mean and inverse standard deviation in the backward.
//
//===----------------------------------------------------------------------===//

#include "GradientSupport.h"

using namespace mlir;
using namespace distopt::dist;

LogicalResult distopt::dist::buildOpGradients(ReduceOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0], x = op.getInput();
  if (!isFloatTensor(x))
    return success();
  RankedTensorType xType = tensorTypeOf(x);
  ArrayRef<int64_t> axes = op.getAxes();
  switch (op.getKind()) {
  case ReduceKind::Sum:
    grads[0] = gb.expandReduced(g, xType, axes);
    return success();
  case ReduceKind::Mean: {
    int64_t count = 1;
    for (int64_t a : axes)
      count *= xType.getDimSize(a);
    grads[0] = gb.expandReduced(gb.scale(g, 1.0 / count), xType, axes);
    return success();
  }
  case ReduceKind::Max:
  case ReduceKind::Min:
    grads[0] = extremumReductionGrad(gb, x, op.getResult(), g, axes);
    return success();
  case ReduceKind::Prod: {
    // d prod / dx = prod / x: exact for inputs without zeros.
    Value y = gb.expandReduced(op.getResult(), xType, axes);
    grads[0] = gb.div(gb.mul(gb.expandReduced(g, xType, axes), y), x);
    return success();
  }
  }
  return success();
}

LogicalResult distopt::dist::buildOpGradients(SoftmaxOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0], y = op.getResult();
  int64_t axis = op.getAxis();
  if (op.getLog()) {
    // dx = g - softmax(x) * sum(g)
    Value sum = gb.reduce(ReduceKind::Sum, g, {axis}, /*keepDims=*/true);
    grads[0] = gb.sub(g, gb.mul(gb.unary(UnaryKind::Exp, y), sum));
    return success();
  }
  // dx = y * (g - sum(g * y))
  Value dot = gb.reduce(ReduceKind::Sum, gb.mul(g, y), {axis}, true);
  grads[0] = gb.mul(y, gb.sub(g, dot));
  return success();
}

LogicalResult distopt::dist::buildOpGradients(LayerNormOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0], x = op.getInput(), gamma = op.getScale();
  RankedTensorType xType = tensorTypeOf(x);
  SmallVector<int64_t> axes =
      llvm::to_vector(llvm::seq<int64_t>(op.getAxis(), xType.getRank()));
  // xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps), recomputed.
  Value mean = gb.reduce(ReduceKind::Mean, x, axes, /*keepDims=*/true);
  Value centered = gb.sub(x, mean);
  Value var = gb.reduce(ReduceKind::Mean, gb.mul(centered, centered), axes,
                        /*keepDims=*/true);
  double eps = op.getEpsilon().convertToDouble();
  Value rstd = gb.unary(UnaryKind::Rsqrt, gb.add(var, gb.scalarLike(x, eps)));
  Value xhat = gb.mul(centered, rstd);
  // dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = g gamma.
  Value dxhat = gb.mul(g, gamma);
  Value meanD = gb.reduce(ReduceKind::Mean, dxhat, axes, true);
  Value meanDX = gb.reduce(ReduceKind::Mean, gb.mul(dxhat, xhat), axes, true);
  grads[0] = gb.mul(rstd, gb.sub(gb.sub(dxhat, meanD), gb.mul(xhat, meanDX)));
  grads[1] = gb.sumToType(gb.mul(g, xhat), tensorTypeOf(gamma));
  if (Value beta = op.getBias())
    grads[2] = gb.sumToType(g, tensorTypeOf(beta));
  return success();
}
