//===- RaisePatterns.cpp - raise decomposed layers to single dist ops -----===//
//
// Exporters decompose layer normalization, GELU, Mish, Softsign and biased
// linear layers into chains of elementwise ops and reductions. These
// patterns recognize the chains (with the operand orders and reassociations
// exporters and hand-written models produce) and replace each with the one
// dist op that the planner and the runtime treat as one kernel.
//
// Every pattern checks that the values inside the chain have no user
// outside it and that the raised op has the type of the value it replaces;
// otherwise it leaves the IR alone.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <optional>

#define DEBUG_TYPE "dist-raise-patterns"

namespace distopt {
#define GEN_PASS_DEF_RAISEPATTERNSPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;
using dist::BinaryKind;
using dist::BinaryOp;
using dist::UnaryKind;
using dist::UnaryOp;

//===----------------------------------------------------------------------===//
// Matching helpers
//===----------------------------------------------------------------------===//

/// The value of a `dist.constant` that holds one float repeated (a splat of
/// any shape, or a rank-0 tensor), or nothing.
static std::optional<double> getSplatFloat(Value v) {
  auto constant = v.getDefiningOp<dist::ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  if (!dense || !dense.isSplat() || !isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

/// True when `actual` equals `expected` up to a relative 1e-6, or up to the
/// rounding of `elementType` when that is coarser (f16, bf16).
static bool isNear(double actual, double expected, Type elementType) {
  double tolerance = 1e-6;
  if (auto floatType = dyn_cast<FloatType>(elementType))
    tolerance = std::max(
        tolerance,
        std::ldexp(1.0, 1 - static_cast<int>(APFloat::semanticsPrecision(
                                floatType.getFloatSemantics()))));
  return std::abs(actual - expected) <= tolerance * std::abs(expected);
}

/// True when `v` is a splat float constant near `expected`.
static bool isSplatNear(Value v, double expected) {
  std::optional<double> actual = getSplatFloat(v);
  return actual && isNear(*actual, expected, getElementTypeOrSelf(v));
}

/// The `dist.binary` of `kind` that defines `v`, or null.
static BinaryOp getBinary(Value v, BinaryKind kind) {
  auto op = v.getDefiningOp<BinaryOp>();
  return op && op.getKind() == kind ? op : BinaryOp();
}

/// The `dist.unary` of `kind` that defines `v`, or null.
static UnaryOp getUnary(Value v, UnaryKind kind) {
  auto op = v.getDefiningOp<UnaryOp>();
  return op && op.getKind() == kind ? op : UnaryOp();
}

/// For a commutative `op`, the operand that is not a splat constant near
/// `constant`, or null when neither operand is that constant.
static Value getOperandBesideConstant(BinaryOp op, double constant) {
  if (isSplatNear(op.getRhs(), constant))
    return op.getLhs();
  if (isSplatNear(op.getLhs(), constant))
    return op.getRhs();
  return Value();
}

namespace {
/// A product `scale * factors[0] * factors[1] * ...` read from a tree of
/// `dist.binary mul`, `div` by a constant and `pow` by the constant 2 or 3.
/// The tree continues through values with one use only: a value used
/// elsewhere as well is a factor, so that a match never absorbs it.
struct Product {
  double scale = 1.0;
  SmallVector<Value> factors;
  /// The ops of the tree, root first.
  SmallVector<Operation *> ops;
};

/// What a matched normalization `(x - mean(x)) / sqrt(var(x) + eps)` reads.
struct Normalization {
  Value input;
  int64_t axis = 0;
  /// The variance, before epsilon is added.
  Value variance;
  double epsilon = 0.0;
  /// The ops of the chain.
  SmallVector<Operation *> ops;
};
} // namespace

static void collectProduct(Value v, bool isRoot, Product &product) {
  if (std::optional<double> constant = getSplatFloat(v)) {
    product.scale *= *constant;
    return;
  }
  auto op = v.getDefiningOp<BinaryOp>();
  if (!op || (!isRoot && !v.hasOneUse())) {
    product.factors.push_back(v);
    return;
  }
  std::optional<double> rhs = getSplatFloat(op.getRhs());
  switch (op.getKind()) {
  case BinaryKind::Mul:
    product.ops.push_back(op);
    collectProduct(op.getLhs(), /*isRoot=*/false, product);
    collectProduct(op.getRhs(), /*isRoot=*/false, product);
    return;
  case BinaryKind::Div:
    if (rhs && *rhs != 0.0) {
      product.ops.push_back(op);
      product.scale /= *rhs;
      collectProduct(op.getLhs(), /*isRoot=*/false, product);
      return;
    }
    break;
  case BinaryKind::Pow:
    if (rhs && (*rhs == 2.0 || *rhs == 3.0)) {
      product.ops.push_back(op);
      for (int i = 0, e = static_cast<int>(*rhs); i < e; ++i)
        collectProduct(op.getLhs(), /*isRoot=*/false, product);
      return;
    }
    break;
  default:
    break;
  }
  product.factors.push_back(v);
}

/// Reads `v` as a product; see `Product`.
static Product getProduct(Value v) {
  Product product;
  collectProduct(v, /*isRoot=*/true, product);
  return product;
}

/// True when `product` is `scale * x` for `x` alone and `scale` near
/// `expected`.
static bool isScaled(const Product &product, Value x, double expected) {
  return product.factors.size() == 1 && product.factors.front() == x &&
         isNear(product.scale, expected, getElementTypeOrSelf(x));
}

/// A location that names every op of a matched chain.
static Location getFusedLoc(PatternRewriter &rewriter,
                            ArrayRef<Operation *> ops) {
  SmallVector<Location> locs =
      llvm::map_to_vector(ops, [](Operation *op) { return op->getLoc(); });
  return rewriter.getFusedLoc(locs);
}

//===----------------------------------------------------------------------===//
// GELU
//===----------------------------------------------------------------------===//

namespace {

/// Recognizes `0.5 * x * (1 + f(x))`, whatever the association and operand
/// order of the products and of the add, where `f` is given by `matchInner`:
/// it receives the operand of `1 + ...` and `x`, and appends the ops it
/// matched. Raises it to `dist.unary kind x`.
class RaiseGelu : public OpRewritePattern<BinaryOp> {
public:
  RaiseGelu(MLIRContext *context, UnaryKind kind)
      : OpRewritePattern<BinaryOp>(context), kind(kind) {}

  LogicalResult matchAndRewrite(BinaryOp root,
                                PatternRewriter &rewriter) const override {
    if (root.getKind() != BinaryKind::Mul && root.getKind() != BinaryKind::Div)
      return rewriter.notifyMatchFailure(root, "not a product");
    Product outer = getProduct(root.getResult());
    if (outer.factors.size() != 2 ||
        !isNear(outer.scale, 0.5, getElementTypeOrSelf(root.getType())))
      return rewriter.notifyMatchFailure(root, "not 0.5 * x * (...)");
    for (int i = 0; i < 2; ++i) {
      Value onePlus = outer.factors[i], x = outer.factors[1 - i];
      if (x.getType() != root.getType())
        continue;
      SmallVector<Operation *> ops(outer.ops);
      if (!matchOnePlus(onePlus, x, ops))
        continue;
      LLVM_DEBUG(llvm::dbgs() << DEBUG_TYPE << ": raising " << ops.size()
                              << " ops to " << dist::stringifyUnaryKind(kind)
                              << " at " << root.getLoc() << "\n");
      Value gelu =
          UnaryOp::create(rewriter, getFusedLoc(rewriter, ops), kind, x);
      rewriter.replaceOp(root, gelu);
      return success();
    }
    return rewriter.notifyMatchFailure(root, "no (1 + f(x)) factor");
  }

protected:
  virtual bool matchInner(Value v, Value x,
                          SmallVectorImpl<Operation *> &ops) const = 0;

private:
  /// Matches `1 + f(x)` in either operand order.
  bool matchOnePlus(Value v, Value x, SmallVectorImpl<Operation *> &ops) const {
    BinaryOp add = getBinary(v, BinaryKind::Add);
    if (!add || !v.hasOneUse())
      return false;
    Value inner = getOperandBesideConstant(add, 1.0);
    if (!inner || !inner.hasOneUse() || !matchInner(inner, x, ops))
      return false;
    ops.push_back(add);
    return true;
  }

  UnaryKind kind;
};

/// GELU as PyTorch exports `nn.GELU()`:
/// `0.5 * x * (1 + erf(x / sqrt(2)))`, or with `x * (1 / sqrt(2))`.
class RaiseGeluErf : public RaiseGelu {
public:
  explicit RaiseGeluErf(MLIRContext *context)
      : RaiseGelu(context, UnaryKind::GeluErf) {}

protected:
  bool matchInner(Value v, Value x,
                  SmallVectorImpl<Operation *> &ops) const override {
    UnaryOp erf = getUnary(v, UnaryKind::Erf);
    if (!erf || !erf.getInput().hasOneUse())
      return false;
    Product scaled = getProduct(erf.getInput());
    if (!isScaled(scaled, x, llvm::numbers::inv_sqrt2))
      return false;
    ops.push_back(erf);
    ops.append(scaled.ops);
    return true;
  }
};

/// GELU as PyTorch exports `nn.GELU(approximate='tanh')`:
/// `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`, with `x^3`
/// as `pow(x, 3)` or as products of `x`.
class RaiseGeluTanh : public RaiseGelu {
public:
  explicit RaiseGeluTanh(MLIRContext *context)
      : RaiseGelu(context, UnaryKind::GeluTanh) {}

protected:
  bool matchInner(Value v, Value x,
                  SmallVectorImpl<Operation *> &ops) const override {
    UnaryOp tanh = getUnary(v, UnaryKind::Tanh);
    if (!tanh || !tanh.getInput().hasOneUse())
      return false;
    // sqrt(2 / pi) * s
    Product scaled = getProduct(tanh.getInput());
    if (scaled.factors.size() != 1 ||
        !isNear(scaled.scale, llvm::numbers::sqrt2 * llvm::numbers::inv_sqrtpi,
                getElementTypeOrSelf(x)))
      return false;
    // s = x + 0.044715 * x^3
    Value sum = scaled.factors.front();
    BinaryOp add = getBinary(sum, BinaryKind::Add);
    if (!add || !sum.hasOneUse())
      return false;
    Value cube;
    if (add.getLhs() == x)
      cube = add.getRhs();
    else if (add.getRhs() == x)
      cube = add.getLhs();
    if (!cube || cube == x || !cube.hasOneUse())
      return false;
    Product cubed = getProduct(cube);
    if (cubed.factors.size() != 3 ||
        !llvm::all_of(cubed.factors, [&](Value f) { return f == x; }) ||
        !isNear(cubed.scale, 0.044715, getElementTypeOrSelf(x)))
      return false;
    ops.push_back(tanh);
    ops.append(scaled.ops);
    ops.push_back(add);
    ops.append(cubed.ops);
    return true;
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Mish and Softsign
//===----------------------------------------------------------------------===//

namespace {

/// Mish as PyTorch exports `nn.Mish()` before opset 18:
/// `x * tanh(softplus(x))`, either operand order. Raises it to
/// `dist.unary mish x`.
class RaiseMish : public OpRewritePattern<BinaryOp> {
public:
  using OpRewritePattern<BinaryOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(BinaryOp root,
                                PatternRewriter &rewriter) const override {
    if (root.getKind() != BinaryKind::Mul)
      return rewriter.notifyMatchFailure(root, "not a product");
    for (auto [x, t] : {std::pair(root.getLhs(), root.getRhs()),
                        std::pair(root.getRhs(), root.getLhs())}) {
      UnaryOp tanh = getUnary(t, UnaryKind::Tanh);
      if (!tanh || !t.hasOneUse() || x.getType() != root.getType())
        continue;
      UnaryOp softplus = getUnary(tanh.getInput(), UnaryKind::Softplus);
      if (!softplus || softplus.getInput() != x || !tanh.getInput().hasOneUse())
        continue;
      Location loc = getFusedLoc(rewriter, {root, tanh, softplus});
      rewriter.replaceOp(root,
                         UnaryOp::create(rewriter, loc, UnaryKind::Mish, x));
      return success();
    }
    return rewriter.notifyMatchFailure(root, "not x * tanh(softplus(x))");
  }
};

/// Softsign as PyTorch exports `nn.Softsign()`: `x / (1 + abs(x))`, either
/// operand order of the add. Raises it to `dist.unary softsign x`.
class RaiseSoftsign : public OpRewritePattern<BinaryOp> {
public:
  using OpRewritePattern<BinaryOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(BinaryOp root,
                                PatternRewriter &rewriter) const override {
    Value x = root.getLhs(), denominator = root.getRhs();
    BinaryOp add = getBinary(denominator, BinaryKind::Add);
    if (root.getKind() != BinaryKind::Div || !add || !denominator.hasOneUse() ||
        x.getType() != root.getType())
      return rewriter.notifyMatchFailure(root, "not x / (a + b)");
    Value absolute = getOperandBesideConstant(add, 1.0);
    UnaryOp abs = absolute ? getUnary(absolute, UnaryKind::Abs) : UnaryOp();
    if (!abs || abs.getInput() != x || !absolute.hasOneUse() ||
        absolute.getType() != root.getType())
      return rewriter.notifyMatchFailure(root, "not x / (1 + abs(x))");
    Location loc = getFusedLoc(rewriter, {root, add, abs});
    rewriter.replaceOp(root,
                       UnaryOp::create(rewriter, loc, UnaryKind::Softsign, x));
    return success();
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Layer normalization
//===----------------------------------------------------------------------===//

/// Matches `var + eps` (either order) for a splat constant `eps` that does
/// not broadcast `var`.
static bool matchPlusEpsilon(Value v, Normalization &norm) {
  BinaryOp add = getBinary(v, BinaryKind::Add);
  if (!add || !v.hasOneUse())
    return false;
  for (auto [var, eps] : {std::pair(add.getLhs(), add.getRhs()),
                          std::pair(add.getRhs(), add.getLhs())}) {
    std::optional<double> epsilon = getSplatFloat(eps);
    if (!epsilon || var.getType() != add.getType())
      continue;
    norm.variance = var;
    norm.epsilon = *epsilon;
    norm.ops.push_back(add);
    return true;
  }
  return false;
}

/// True when `pow` raises its base to the splat constant `exponent` without
/// broadcasting it.
static bool isPowerOf(BinaryOp pow, double exponent) {
  return pow && isSplatNear(pow.getRhs(), exponent) &&
         pow.getType() == pow.getLhs().getType();
}

/// Matches `sqrt(var + eps)` or `pow(var + eps, 0.5)`.
static bool matchStdDev(Value v, Normalization &norm) {
  if (!v.hasOneUse())
    return false;
  Value radicand;
  if (UnaryOp sqrt = getUnary(v, UnaryKind::Sqrt))
    radicand = sqrt.getInput();
  else if (BinaryOp pow = getBinary(v, BinaryKind::Pow); isPowerOf(pow, 0.5))
    radicand = pow.getLhs();
  else
    return false;
  norm.ops.push_back(v.getDefiningOp());
  return matchPlusEpsilon(radicand, norm);
}

/// Matches `rsqrt(var + eps)`, `reciprocal(sqrt(var + eps))`,
/// `pow(var + eps, -0.5)` or `1 / sqrt(var + eps)` (and `pow(.., 0.5)` for
/// `sqrt` in the last two).
static bool matchInverseStdDev(Value v, Normalization &norm) {
  if (!v.hasOneUse())
    return false;
  norm.ops.push_back(v.getDefiningOp());
  if (UnaryOp rsqrt = getUnary(v, UnaryKind::Rsqrt))
    return matchPlusEpsilon(rsqrt.getInput(), norm);
  if (UnaryOp reciprocal = getUnary(v, UnaryKind::Reciprocal))
    return matchStdDev(reciprocal.getInput(), norm);
  if (BinaryOp pow = getBinary(v, BinaryKind::Pow); isPowerOf(pow, -0.5))
    return matchPlusEpsilon(pow.getLhs(), norm);
  if (BinaryOp div = getBinary(v, BinaryKind::Div);
      div && isSplatNear(div.getLhs(), 1.0) &&
      div.getType() == div.getRhs().getType())
    return matchStdDev(div.getRhs(), norm);
  return false;
}

/// Matches a `dist.reduce mean` with `keep_dims` over the trailing
/// dimensions of its input, with one use.
static dist::ReduceOp matchTrailingMean(Value v) {
  auto reduce = v.getDefiningOp<dist::ReduceOp>();
  if (!reduce || !v.hasOneUse() || reduce.getKind() != dist::ReduceKind::Mean ||
      !reduce.getKeepDims())
    return dist::ReduceOp();
  ArrayRef<int64_t> axes = reduce.getAxes();
  int64_t rank = cast<RankedTensorType>(reduce.getInput().getType()).getRank();
  if (axes.empty() || axes.back() != rank - 1 ||
      axes.back() - axes.front() + 1 != static_cast<int64_t>(axes.size()))
    return dist::ReduceOp();
  return reduce;
}

/// Completes `norm` from the centered input `d` and the variance found so
/// far: `d = x - mean(x)`, variance `mean(d^2)` or `mean(d * d)` over the
/// same trailing axes, and `d` used by the square and by `normalize` only.
static bool matchCentered(Value d, BinaryOp normalize, Normalization &norm) {
  dist::ReduceOp varMean = matchTrailingMean(norm.variance);
  if (!varMean)
    return false;
  Value square = varMean.getInput();
  auto squareOp = square.getDefiningOp<BinaryOp>();
  if (!squareOp || !square.hasOneUse() || squareOp.getLhs() != d ||
      squareOp.getType() != d.getType())
    return false;
  bool isSquare =
      (squareOp.getKind() == BinaryKind::Pow &&
       isSplatNear(squareOp.getRhs(), 2.0)) ||
      (squareOp.getKind() == BinaryKind::Mul && squareOp.getRhs() == d);
  BinaryOp sub = getBinary(d, BinaryKind::Sub);
  if (!isSquare || !sub)
    return false;
  Value x = sub.getLhs();
  dist::ReduceOp mean = matchTrailingMean(sub.getRhs());
  if (!mean || mean.getInput() != x || mean.getAxes() != varMean.getAxes() ||
      d.getType() != x.getType() || normalize.getType() != x.getType())
    return false;
  if (!llvm::all_of(d.getUsers(), [&](Operation *user) {
        return user == squareOp || user == normalize;
      }))
    return false;
  norm.input = x;
  norm.axis = mean.getAxes().front();
  norm.ops.append({normalize, varMean, squareOp, sub, mean});
  return true;
}

/// Matches `d / stddev` or `d * inverse_stddev` (either order) with one use,
/// where `d = x - mean(x)`; see `matchCentered`.
static std::optional<Normalization> matchNormalization(Value n) {
  auto op = n.getDefiningOp<BinaryOp>();
  if (!op || !n.hasOneUse())
    return std::nullopt;
  if (op.getKind() == BinaryKind::Div) {
    Normalization norm;
    if (matchStdDev(op.getRhs(), norm) && matchCentered(op.getLhs(), op, norm))
      return norm;
  } else if (op.getKind() == BinaryKind::Mul) {
    for (auto [d, inverse] : {std::pair(op.getLhs(), op.getRhs()),
                              std::pair(op.getRhs(), op.getLhs())}) {
      Normalization norm;
      if (matchInverseStdDev(inverse, norm) && matchCentered(d, op, norm))
        return norm;
    }
  }
  return std::nullopt;
}

namespace {
/// `normalized * gamma` (either order) -> `dist.layer_norm` without bias.
/// The bias is absorbed by `FoldLayerNormBias`.
class RaiseLayerNorm : public OpRewritePattern<BinaryOp> {
public:
  using OpRewritePattern<BinaryOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(BinaryOp root,
                                PatternRewriter &rewriter) const override {
    if (root.getKind() != BinaryKind::Mul)
      return rewriter.notifyMatchFailure(root, "not a mul");
    for (auto [n, gamma] : {std::pair(root.getLhs(), root.getRhs()),
                            std::pair(root.getRhs(), root.getLhs())}) {
      std::optional<Normalization> norm = matchNormalization(n);
      if (!norm)
        continue;
      auto inputType = cast<RankedTensorType>(norm->input.getType());
      auto gammaType = cast<RankedTensorType>(gamma.getType());
      if (gammaType.getShape() != inputType.getShape().drop_front(norm->axis) ||
          gammaType.getElementType() != inputType.getElementType() ||
          root.getType() != inputType)
        return rewriter.notifyMatchFailure(
            root, "scale does not have the shape of the normalized dims");
      norm->ops.insert(norm->ops.begin(), root);
      LLVM_DEBUG(llvm::dbgs()
                 << DEBUG_TYPE << ": raising " << norm->ops.size()
                 << " ops to layer_norm at " << root.getLoc() << "\n");
      Value layerNorm = dist::LayerNormOp::create(
          rewriter, getFusedLoc(rewriter, norm->ops), norm->input, gamma,
          /*bias=*/Value(), rewriter.getI64IntegerAttr(norm->axis),
          rewriter.getF32FloatAttr(norm->epsilon));
      rewriter.replaceOp(root, layerNorm);
      return success();
    }
    return rewriter.notifyMatchFailure(root, "not a normalization times scale");
  }
};

/// `producer(...) + b` (either order) -> the producer with `b` as its bias,
/// when the producer has no bias and no other use, has the add's type, and
/// `Derived::accepts(producer, b)` holds; `Derived::withBias` builds the new
/// producer and `Derived::getBias` reads the old one's bias.
template <typename Derived, typename ProducerOp>
class FoldBiasPattern : public OpRewritePattern<BinaryOp> {
public:
  using OpRewritePattern<BinaryOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(BinaryOp root,
                                PatternRewriter &rewriter) const override {
    if (root.getKind() != BinaryKind::Add)
      return rewriter.notifyMatchFailure(root, "not an add");
    for (auto [v, bias] : {std::pair(root.getLhs(), root.getRhs()),
                           std::pair(root.getRhs(), root.getLhs())}) {
      auto producer = v.template getDefiningOp<ProducerOp>();
      if (!producer || Derived::getBias(producer) || !v.hasOneUse() ||
          root.getType() != producer.getType() ||
          !Derived::accepts(producer, bias))
        continue;
      LLVM_DEBUG(llvm::dbgs() << DEBUG_TYPE << ": adding bias to "
                              << ProducerOp::getOperationName() << " at "
                              << producer.getLoc() << "\n");
      Location loc = rewriter.getFusedLoc({producer.getLoc(), root.getLoc()});
      rewriter.replaceOp(root, Derived::withBias(rewriter, loc, producer, bias));
      return success();
    }
    return rewriter.notifyMatchFailure(root, "not a bias added to a producer "
                                             "that can take it");
  }
};

/// `layer_norm(x, gamma) + beta` (either order) -> `layer_norm(x, gamma,
/// beta)` when `beta` has the shape of the normalized dims.
struct FoldLayerNormBias
    : FoldBiasPattern<FoldLayerNormBias, dist::LayerNormOp> {
  using FoldBiasPattern::FoldBiasPattern;
  static Value getBias(dist::LayerNormOp op) { return op.getBias(); }
  static bool accepts(dist::LayerNormOp norm, Value beta) {
    return beta.getType() == norm.getScale().getType();
  }
  static Value withBias(PatternRewriter &rewriter, Location loc,
                        dist::LayerNormOp norm, Value beta) {
    return dist::LayerNormOp::create(rewriter, loc, norm.getInput(),
                                     norm.getScale(), beta, norm.getAxisAttr(),
                                     norm.getEpsilonAttr());
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

/// True when `bias` is a vector along the last dimension of `result`:
/// shape `[N]` or `[1, ..., 1, N]`, of no higher rank, same element type.
static bool isRowBias(Value bias, RankedTensorType result) {
  auto type = dyn_cast<RankedTensorType>(bias.getType());
  if (!type || type.getElementType() != result.getElementType() ||
      type.getRank() < 1 || type.getRank() > result.getRank() ||
      type.getShape().back() != result.getShape().back())
    return false;
  return llvm::all_of(type.getShape().drop_back(),
                      [](int64_t size) { return size == 1; });
}

namespace {
/// `matmul(x, w) + b` (either order) -> `matmul(x, w, b)` for a row bias.
struct FoldMatMulBias : FoldBiasPattern<FoldMatMulBias, dist::MatMulOp> {
  using FoldBiasPattern::FoldBiasPattern;
  static Value getBias(dist::MatMulOp op) { return op.getBias(); }
  static bool accepts(dist::MatMulOp matmul, Value bias) {
    return isRowBias(bias, matmul.getType());
  }
  static Value withBias(PatternRewriter &rewriter, Location loc,
                        dist::MatMulOp matmul, Value bias) {
    return dist::MatMulOp::create(rewriter, loc, matmul.getLhs(),
                                  matmul.getRhs(), bias);
  }
};

/// `gemm(a, b) + c` (either order, `alpha = 1`) -> `gemm(a, b, c)` with
/// `beta = 1`, for a row bias.
struct FoldGemmBias : FoldBiasPattern<FoldGemmBias, dist::GemmOp> {
  using FoldBiasPattern::FoldBiasPattern;
  static Value getBias(dist::GemmOp op) { return op.getC(); }
  static bool accepts(dist::GemmOp gemm, Value bias) {
    return gemm.getAlpha().isExactlyValue(1.0) &&
           isRowBias(bias, cast<RankedTensorType>(gemm.getType()));
  }
  static Value withBias(PatternRewriter &rewriter, Location loc,
                        dist::GemmOp gemm, Value bias) {
    return dist::GemmOp::create(rewriter, loc, gemm.getA(), gemm.getB(), bias,
                                gemm.getTransAAttr(), gemm.getTransBAttr(),
                                gemm.getAlphaAttr(),
                                rewriter.getF32FloatAttr(1.0));
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct RaisePatternsPass
    : public distopt::impl::RaisePatternsPassBase<RaisePatternsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateRaisePatterns(patterns);
    // Only the patterns: no folding and no constant hoisting, so that IR
    // without a match stays exactly as it was.
    GreedyRewriteConfig config;
    config.enableFolding(false).enableConstantCSE(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace

void distopt::populateRaisePatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<RaiseGeluErf, RaiseGeluTanh, RaiseMish, RaiseSoftsign>(context);
  patterns.add<RaiseLayerNorm, FoldLayerNormBias, FoldMatMulBias, FoldGemmBias>(
      context);
}
