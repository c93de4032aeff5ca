//===- GradientRules.cpp - reverse-mode rules of the elementwise ops ------===//
//
// The GradientOpInterface external models of every differentiable dist op
// (registered here, one model per op, each dispatching to its rule
// function), and the rules of the elementwise families: unary, binary with
// broadcasting, select and cast. The other rules are in
// GradientRulesContraction.cpp (matmul, gemm, conv, pooling),
// GradientRulesReduce.cpp (reduce, softmax, layer_norm) and
// GradientRulesMovement.cpp (data movement and gather).
//
// Ties where a rule picks one of several subgradients (documented in
// docs/dialect.md): relu and abs have gradient 0 at 0; binary max/min give
// half of the gradient to each operand where they are equal (as PyTorch's
// maximum/minimum); floor and ceil have no gradient. The activations take
// PyTorch's choices: leaky_relu, elu, selu and celu the slope of the
// negative side at 0, thresholded_relu 0 at alpha, hard_sigmoid 0 at both
// kinks, hard_swish `x / 3 + 1/2` at -3 and 3.
//
//===----------------------------------------------------------------------===//

#include "GradientSupport.h"

#include "mlir/IR/DialectRegistry.h"

#include <cmath>

using namespace mlir;
using namespace distopt::dist;

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

/// The derivative of GELU's erf form at `x`: `Phi(x) + x phi(x)`.
static Value geluErfDerivative(GradBuilder &gb, Value x) {
  Value cdf = gb.scale(gb.add(gb.unary(UnaryKind::Erf, gb.scale(x, M_SQRT1_2)),
                              gb.scalarLike(x, 1.0)),
                       0.5);
  Value pdf = gb.scale(gb.unary(UnaryKind::Exp, gb.scale(gb.mul(x, x), -0.5)),
                       1.0 / std::sqrt(2.0 * M_PI));
  return gb.add(cdf, gb.mul(x, pdf));
}

/// The derivative of GELU's tanh form at `x`:
/// `0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)` with
/// `t = tanh(c (x + a x^3))`, `c = sqrt(2 / pi)`, `a = 0.044715`.
static Value geluTanhDerivative(GradBuilder &gb, Value x) {
  const double c = 0.7978845608028654, a = 0.044715;
  Value x2 = gb.mul(x, x);
  Value inner = gb.scale(gb.add(x, gb.scale(gb.mul(x2, x), a)), c);
  Value t = gb.unary(UnaryKind::Tanh, inner);
  Value one = gb.scalarLike(x, 1.0);
  Value left = gb.scale(gb.add(one, t), 0.5);
  Value sech2 = gb.sub(one, gb.mul(t, t));
  Value dInner = gb.scale(gb.add(one, gb.scale(x2, 3.0 * a)), c);
  Value right = gb.scale(gb.mul(gb.mul(x, sech2), dInner), 0.5);
  return gb.add(left, right);
}

/// `g` where `cond`, else 0.
static Value gradWhere(GradBuilder &gb, Value cond, Value g) {
  return gb.select(cond, g, gb.scalarLike(g, 0.0));
}

/// `onPositive` where `x > 0`, else `onOther` (the kinks of the ELU family
/// and leaky relu take the value of the negative side at 0, as PyTorch).
static Value wherePositive(GradBuilder &gb, Value x, Value onPositive,
                           Value onOther) {
  return gb.select(gb.compare(CompareKind::Gt, x, gb.scalarLike(x, 0.0)),
                   onPositive, onOther);
}

/// The derivative of `max(0, min(1, alpha x + beta))`: `alpha` where
/// `0 < alpha x + beta < 1`, else 0.
static Value hardSigmoidDerivative(GradBuilder &gb, Value x, double alpha,
                                   double beta) {
  Value t = gb.add(gb.scale(x, alpha), gb.scalarLike(x, beta));
  Value zero = gb.scalarLike(x, 0.0);
  Value inside =
      gb.select(gb.compare(CompareKind::Lt, t, gb.scalarLike(x, 1.0)),
                gb.scalarLike(x, alpha), zero);
  return gb.select(gb.compare(CompareKind::Gt, t, zero), inside, zero);
}

/// The derivative of hard_swish, `x < -3 ? 0 : x <= 3 ? x / 3 + 1/2 : 1`
/// (PyTorch's choice at the kinks).
static Value hardSwishDerivative(GradBuilder &gb, Value x) {
  Value middle = gb.add(gb.scale(x, 1.0 / 3.0), gb.scalarLike(x, 0.5));
  Value upper = gb.select(gb.compare(CompareKind::Le, x, gb.scalarLike(x, 3.0)),
                          middle, gb.scalarLike(x, 1.0));
  return gb.select(gb.compare(CompareKind::Lt, x, gb.scalarLike(x, -3.0)),
                   gb.scalarLike(x, 0.0), upper);
}

/// The derivative of mish, `t + x sigmoid(x) (1 - t^2)` with
/// `t = tanh(softplus(x))`.
static Value mishDerivative(GradBuilder &gb, Value x) {
  Value t = gb.unary(UnaryKind::Tanh, gb.unary(UnaryKind::Softplus, x));
  Value sech2 = gb.sub(gb.scalarLike(x, 1.0), gb.mul(t, t));
  return gb.add(t, gb.mul(gb.mul(x, gb.unary(UnaryKind::Sigmoid, x)), sech2));
}

/// The derivatives of the activations with parameters `alpha` and `beta`
/// (dist.unary's formulas); null for the other kinds.
static Value parametricDerivative(GradBuilder &gb, UnaryKind kind, Value x,
                                  double alpha, double beta) {
  Value one = gb.scalarLike(x, 1.0);
  switch (kind) {
  case UnaryKind::LeakyRelu:
    return wherePositive(gb, x, one, gb.scalarLike(x, alpha));
  case UnaryKind::Elu:
    return wherePositive(gb, x, one,
                         gb.scale(gb.unary(UnaryKind::Exp, x), alpha));
  case UnaryKind::Selu:
    return wherePositive(gb, x, gb.scalarLike(x, beta),
                         gb.scale(gb.unary(UnaryKind::Exp, x), alpha * beta));
  case UnaryKind::Celu:
    return wherePositive(gb, x, one,
                         gb.unary(UnaryKind::Exp, gb.scale(x, 1.0 / alpha)));
  case UnaryKind::HardSigmoid:
    return hardSigmoidDerivative(gb, x, alpha, beta);
  case UnaryKind::ThresholdedRelu:
    return gb.select(gb.compare(CompareKind::Gt, x, gb.scalarLike(x, alpha)),
                     one, gb.scalarLike(x, 0.0));
  default:
    return nullptr;
  }
}

/// d kind(x) / dx as a function of the input `x` and the result `y`; null
/// where the kind has no gradient.
static Value unaryDerivative(GradBuilder &gb, UnaryOp op, Value x, Value y) {
  Value one = gb.scalarLike(x, 1.0);
  UnaryKind kind = op.getKind();
  if (UnaryOp::takesAlpha(kind))
    return parametricDerivative(gb, kind, x, op.getAlpha()->convertToDouble(),
                                op.getBeta() ? op.getBeta()->convertToDouble()
                                             : 0.0);
  switch (kind) {
  case UnaryKind::GeluErf:
    return geluErfDerivative(gb, x);
  case UnaryKind::GeluTanh:
    return geluTanhDerivative(gb, x);
  case UnaryKind::Tanh:
    return gb.sub(one, gb.mul(y, y));
  case UnaryKind::Exp:
    return y;
  case UnaryKind::Log:
    return gb.div(one, x);
  case UnaryKind::Sqrt:
    return gb.div(gb.scalarLike(x, 0.5), y);
  case UnaryKind::Rsqrt: // -0.5 x^-3/2 = -0.5 y^3
    return gb.scale(gb.mul(gb.mul(y, y), y), -0.5);
  case UnaryKind::Erf:
    return gb.scale(
        gb.unary(UnaryKind::Exp, gb.unary(UnaryKind::Neg, gb.mul(x, x))),
        2.0 / std::sqrt(M_PI));
  case UnaryKind::Reciprocal:
    return gb.unary(UnaryKind::Neg, gb.mul(y, y));
  case UnaryKind::Sigmoid:
    return gb.mul(y, gb.sub(one, y));
  case UnaryKind::Sin:
    return gb.unary(UnaryKind::Cos, x);
  case UnaryKind::Cos:
    return gb.unary(UnaryKind::Neg, gb.unary(UnaryKind::Sin, x));
  case UnaryKind::Tan: // 1 + tan^2
    return gb.add(one, gb.mul(y, y));
  case UnaryKind::Asin: // 1 / sqrt(1 - x^2)
    return gb.unary(UnaryKind::Rsqrt, gb.sub(one, gb.mul(x, x)));
  case UnaryKind::Acos:
    return gb.unary(UnaryKind::Neg,
                    gb.unary(UnaryKind::Rsqrt, gb.sub(one, gb.mul(x, x))));
  case UnaryKind::Atan: // 1 / (1 + x^2)
    return gb.div(one, gb.add(one, gb.mul(x, x)));
  case UnaryKind::Sinh:
    return gb.unary(UnaryKind::Cosh, x);
  case UnaryKind::Cosh:
    return gb.unary(UnaryKind::Sinh, x);
  case UnaryKind::Asinh: // 1 / sqrt(x^2 + 1)
    return gb.unary(UnaryKind::Rsqrt, gb.add(gb.mul(x, x), one));
  case UnaryKind::Acosh: // 1 / sqrt(x^2 - 1)
    return gb.unary(UnaryKind::Rsqrt, gb.sub(gb.mul(x, x), one));
  case UnaryKind::Atanh: // 1 / (1 - x^2)
    return gb.div(one, gb.sub(one, gb.mul(x, x)));
  case UnaryKind::Silu: { // s (1 + x (1 - s))
    Value s = gb.unary(UnaryKind::Sigmoid, x);
    return gb.mul(s, gb.add(one, gb.mul(x, gb.sub(one, s))));
  }
  case UnaryKind::Softplus:
    return gb.unary(UnaryKind::Sigmoid, x);
  case UnaryKind::Softsign: { // 1 / (1 + |x|)^2
    Value d = gb.add(one, gb.unary(UnaryKind::Abs, x));
    return gb.div(one, gb.mul(d, d));
  }
  case UnaryKind::HardSwish:
    return hardSwishDerivative(gb, x);
  case UnaryKind::Mish:
    return mishDerivative(gb, x);
  default:
    return nullptr;
  }
}

LogicalResult distopt::dist::buildOpGradients(UnaryOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0], x = op.getInput(), y = op.getResult();
  if (!isFloatTensor(x))
    return success();
  Value zero = gb.scalarLike(x, 0.0);
  switch (op.getKind()) {
  case UnaryKind::Relu:
    grads[0] = gradWhere(gb, gb.compare(CompareKind::Gt, x, zero), g);
    return success();
  case UnaryKind::Neg:
    grads[0] = gb.unary(UnaryKind::Neg, g);
    return success();
  case UnaryKind::Abs: {
    Value pos = gradWhere(gb, gb.compare(CompareKind::Gt, x, zero), g);
    Value neg = gradWhere(gb, gb.compare(CompareKind::Lt, x, zero), g);
    grads[0] = gb.sub(pos, neg);
    return success();
  }
  case UnaryKind::Floor:
  case UnaryKind::Ceil:
  case UnaryKind::Round:
  case UnaryKind::Not:
    return success();
  default:
    break;
  }
  Value derivative = unaryDerivative(gb, op, x, y);
  if (!derivative)
    return op.emitOpError("has no gradient rule for kind '")
           << stringifyUnaryKind(op.getKind()) << "'";
  grads[0] = gb.mul(g, derivative);
  return success();
}

//===----------------------------------------------------------------------===//
// Binary, select, cast
//===----------------------------------------------------------------------===//

/// The gradients of max (`isMax`) or min before undoing the broadcast: the
/// operand that wins gets `g`, both get `g / 2` where they tie.
static std::pair<Value, Value> extremumGrads(GradBuilder &gb, bool isMax,
                                             Value l, Value r, Value g) {
  Value lWins = gb.compare(isMax ? CompareKind::Gt : CompareKind::Lt, l, r);
  Value rWins = gb.compare(isMax ? CompareKind::Lt : CompareKind::Gt, l, r);
  Value tie = gb.compare(CompareKind::Eq, l, r);
  Value half = gradWhere(gb, tie, gb.scale(g, 0.5));
  return {gb.add(gradWhere(gb, lWins, g), half),
          gb.add(gradWhere(gb, rWins, g), half)};
}

LogicalResult distopt::dist::buildOpGradients(BinaryOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0], l = op.getLhs(), r = op.getRhs();
  if (!isFloatTensor(l))
    return success();
  Value gl, gr;
  switch (op.getKind()) {
  case BinaryKind::Add:
    gl = g, gr = g;
    break;
  case BinaryKind::Sub:
    gl = g, gr = gb.unary(UnaryKind::Neg, g);
    break;
  case BinaryKind::Mul:
    gl = gb.mul(g, r), gr = gb.mul(g, l);
    break;
  case BinaryKind::Div: // d/dr (l / r) = -(l / r) / r
    gl = gb.div(g, r);
    gr = gb.unary(UnaryKind::Neg, gb.div(gb.mul(g, op.getResult()), r));
    break;
  case BinaryKind::Pow: { // r l^(r-1); l^r log l
    Value rMinus1 = gb.sub(r, gb.scalarLike(r, 1.0));
    gl = gb.mul(g, gb.mul(r, gb.binary(BinaryKind::Pow, l, rMinus1)));
    gr = gb.mul(g, gb.mul(op.getResult(), gb.unary(UnaryKind::Log, l)));
    break;
  }
  case BinaryKind::Mod:
  case BinaryKind::FMod: // y = l - r q, q = (l - y) / r, constant in pieces
    gl = g;
    gr = gb.mul(g, gb.div(gb.sub(op.getResult(), l), r));
    break;
  case BinaryKind::Max:
  case BinaryKind::Min:
    std::tie(gl, gr) =
        extremumGrads(gb, op.getKind() == BinaryKind::Max, l, r, g);
    break;
  default:
    return success();
  }
  grads[0] = gb.sumToType(gl, tensorTypeOf(l));
  grads[1] = gb.sumToType(gr, tensorTypeOf(r));
  return success();
}

LogicalResult distopt::dist::buildOpGradients(SelectOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  Value g = resultGrads[0];
  if (!isFloatTensor(g))
    return success();
  Value zero = gb.scalarLike(g, 0.0);
  grads[1] = gb.sumToType(gb.select(op.getCondition(), g, zero),
                          tensorTypeOf(op.getOnTrue()));
  grads[2] = gb.sumToType(gb.select(op.getCondition(), zero, g),
                          tensorTypeOf(op.getOnFalse()));
  return success();
}

LogicalResult distopt::dist::buildOpGradients(CastOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  // Only float-to-float casts carry a gradient: cast it back.
  if (isFloatTensor(op.getInput()) && isFloatTensor(op.getResult()))
    grads[0] =
        gb.cast(resultGrads[0], op.getInput().getType().getElementType());
  return success();
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

namespace {
/// The GradientOpInterface model of `OpT`: its rule function, with one null
/// gradient per operand preset and the ops built at the op's location.
template <typename OpT>
struct GradientModel
    : public GradientOpInterface::ExternalModel<GradientModel<OpT>, OpT> {
  LogicalResult buildGradients(Operation *op, OpBuilder &builder,
                               ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) const {
    operandGrads.assign(op->getNumOperands(), Value());
    GradBuilder gb(builder, op->getLoc());
    return buildOpGradients(cast<OpT>(op), gb, resultGrads, operandGrads);
  }
};

template <typename... OpTs> void attachGradientModels(MLIRContext *ctx) {
  (OpTs::template attachInterface<GradientModel<OpTs>>(*ctx), ...);
}
} // namespace

void distopt::dist::registerGradientInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, DistDialect *) {
    attachGradientModels<MatMulOp, GemmOp, Conv2DOp, Pool2DOp, GlobalPoolOp,
                         UnaryOp, BinaryOp, SelectOp, CastOp, ReduceOp,
                         SoftmaxOp, LayerNormOp, GatherOp, ReshapeOp,
                         BroadcastOp, TransposeOp, SliceOp, ConcatOp, SplitOp,
                         TopKOp, GatherElementsOp, ScatterElementsOp>(ctx);
  });
}
