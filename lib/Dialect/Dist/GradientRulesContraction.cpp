//===- GradientRulesContraction.cpp - rules of contractions and pooling ---===//
//
// Reverse-mode rules of matmul (with batch broadcasting), gemm (transposes,
// alpha, beta, broadcast bias), conv2d, pool2d and global_pool. The
// convolution and pool2d rules emit the backward ops conv2d_grad_input,
// conv2d_grad_filter and pool2d_grad; the others compose forward ops.
//
//===----------------------------------------------------------------------===//

#include "GradientSupport.h"

using namespace mlir;
using namespace distopt::dist;

/// `x` with its last two dims swapped.
static Value transposeLastTwo(GradBuilder &gb, Value x) {
  int64_t rank = tensorTypeOf(x).getRank();
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 1], perm[rank - 2]);
  return gb.transpose(x, perm);
}

/// `alpha * op(x) op(y)` as a bias-free gemm.
static Value gemmOf(GradBuilder &gb, Value x, Value y, bool transX, bool transY,
                    double alpha) {
  return GemmOp::create(gb.builder, gb.loc, x, y, Value(), transX, transY,
                        APFloat(static_cast<float>(alpha)), APFloat(1.0f));
}

LogicalResult distopt::dist::buildOpGradients(MatMulOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0], lhs = op.getLhs(), rhs = op.getRhs();
  RankedTensorType lt = tensorTypeOf(lhs), gt = tensorTypeOf(g);
  if (Value bias = op.getBias())
    grads[2] = gb.sumToType(g, tensorTypeOf(bias));
  if (tensorTypeOf(rhs).getRank() == 2) {
    // A linear layer (the weight 2-D): the batch and rows of lhs and g are
    // one dim of `rows`, and both gradients are 2-D gemms that transpose in
    // BLAS instead of copying: dlhs = g2 rhs^T, drhs = lhs2^T g2.
    int64_t k = lt.getShape().back(), n = gt.getShape().back();
    int64_t rows = lt.getNumElements() / std::max<int64_t>(k, 1);
    Value g2 = gb.reshape(g, gt.clone({rows, n}));
    Value lhs2 = gb.reshape(lhs, lt.clone({rows, k}));
    grads[0] = gb.reshape(gemmOf(gb, g2, rhs, false, true, 1.0), lt);
    grads[1] = gemmOf(gb, lhs2, g2, true, false, 1.0);
    return success();
  }
  // dlhs = g rhs^T and drhs = lhs^T g (last two dims transposed), summed
  // over the batch dims that each operand was broadcast along.
  Value dlhs =
      MatMulOp::create(gb.builder, gb.loc, g, transposeLastTwo(gb, rhs));
  Value drhs =
      MatMulOp::create(gb.builder, gb.loc, transposeLastTwo(gb, lhs), g);
  grads[0] = gb.sumToType(dlhs, lt);
  grads[1] = gb.sumToType(drhs, tensorTypeOf(rhs));
  return success();
}

LogicalResult distopt::dist::buildOpGradients(GemmOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  // y = alpha op(a) op(b) + beta c. With A = op(a), B = op(b):
  // dA = alpha g B^T, dB = alpha A^T g; da = dA (or dA^T), db likewise.
  Value g = resultGrads[0], a = op.getA(), b = op.getB();
  bool ta = op.getTransA(), tb = op.getTransB();
  double alpha = op.getAlpha().convertToDouble();
  if (!ta) // da = alpha g op(b)^T
    grads[0] = gemmOf(gb, g, b, false, !tb, alpha);
  else // da = alpha op(b) g^T
    grads[0] = gemmOf(gb, b, g, tb, true, alpha);
  if (!tb) // db = alpha op(a)^T g
    grads[1] = gemmOf(gb, a, g, !ta, false, alpha);
  else // db = alpha g^T op(a)
    grads[1] = gemmOf(gb, g, a, true, ta, alpha);
  if (Value c = op.getC()) {
    Value dc = gb.sumToType(g, tensorTypeOf(c));
    double beta = op.getBeta().convertToDouble();
    grads[2] = beta == 1.0 ? dc : gb.scale(dc, beta);
  }
  return success();
}

LogicalResult distopt::dist::buildOpGradients(Conv2DOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0];
  grads[0] = Conv2DGradInputOp::create(
      gb.builder, gb.loc, op.getInput().getType(), g, op.getFilter(),
      op.getStrides(), op.getPads(), op.getDilations(), op.getGroup());
  grads[1] = Conv2DGradFilterOp::create(
      gb.builder, gb.loc, op.getFilter().getType(), op.getInput(), g,
      op.getStrides(), op.getPads(), op.getDilations(), op.getGroup());
  if (Value bias = op.getBias())
    grads[2] = gb.reshape(gb.reduce(ReduceKind::Sum, g, {0, 2, 3}, false),
                          tensorTypeOf(bias));
  return success();
}

LogicalResult distopt::dist::buildOpGradients(Pool2DOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  grads[0] = Pool2DGradOp::create(
      gb.builder, gb.loc, op.getInput().getType(), op.getKind(), resultGrads[0],
      op.getInput(), op.getKernel(), op.getStrides(), op.getPads(),
      op.getDilations(), op.getCeilMode(), op.getCountIncludePad());
  return success();
}

Value distopt::dist::extremumReductionGrad(GradBuilder &gb, Value x, Value y,
                                           Value g, ArrayRef<int64_t> axes) {
  RankedTensorType xType = tensorTypeOf(x);
  RankedTensorType kept = GradBuilder::keptType(xType, axes);
  Value hits = gb.compare(CompareKind::Eq, x, gb.reshape(y, kept));
  Value one = gb.scalarLike(x, 1.0), zero = gb.scalarLike(x, 0.0);
  Value mask = gb.select(hits, one, zero);
  Value count = gb.reduce(ReduceKind::Sum, mask, axes, /*keepDims=*/true);
  Value share = gb.div(gb.reshape(g, kept), count);
  return gb.mul(mask, share);
}

LogicalResult distopt::dist::buildOpGradients(GlobalPoolOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0], x = op.getInput();
  RankedTensorType xType = tensorTypeOf(x);
  if (op.getKind() == PoolKind::Max) {
    grads[0] = extremumReductionGrad(gb, x, op.getResult(), g, {2, 3});
    return success();
  }
  double count = xType.getDimSize(2) * xType.getDimSize(3);
  grads[0] = gb.broadcast(gb.scale(g, 1.0 / count), xType);
  return success();
}
