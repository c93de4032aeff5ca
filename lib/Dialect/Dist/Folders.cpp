//===- Folders.cpp - constant folding of the dist ops ---------------------===//
//
// The fold() methods of the dist ops and the machinery they share: NumPy
// broadcasting as an index mapping over DenseElementsAttr, element-wise
// evaluation on APInt / APFloat, and data movement (gather, concat, slice,
// transpose, broadcast, split) as a remapping of element indices.
//
// Exported ONNX models compute shapes at run time (Shape -> Gather ->
// Unsqueeze -> Concat -> Reshape, ConstantOfShape, Range, Where, Expand,
// ...). Once input shapes are fixed, these folders turn such subgraphs into
// `dist.constant`. Integers use signed semantics (i1 is a boolean); floats
// are computed in double and rounded to the element type.
//
// A fold never builds a non-splat constant of more than kMaxFoldedElements
// elements: a [seq, seq] causal mask belongs in the graph as an op, not as
// megabytes of attribute. When an element has no defined value (division by
// zero, an out-of-range gather index, a float that does not fit the integer
// type of a cast), the op is left unfolded.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/FoldLimits.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APSInt.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <optional>

#define DEBUG_TYPE "dist-fold"

using namespace mlir;
using namespace distopt::dist;
using llvm::APFloat;
using llvm::APInt;
using llvm::APSInt;

//===----------------------------------------------------------------------===//
// Index mapping
//===----------------------------------------------------------------------===//

/// Row-major strides of `shape`.
static SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

/// For every element of a tensor of `shape`, in row-major order, the linear
/// index `base + sum_d index[d] * sourceStrides[d]` of the element it reads.
/// Broadcasting, transposes, slices and splits are all such affine maps.
static SmallVector<int64_t>
stridedSourceIndices(ArrayRef<int64_t> shape, int64_t base,
                     ArrayRef<int64_t> sourceStrides) {
  int64_t count = product(shape);
  SmallVector<int64_t> sources;
  sources.reserve(count);
  if (count == 0)
    return sources;
  int64_t rank = shape.size();
  SmallVector<int64_t> index(rank, 0);
  int64_t source = base;
  for (int64_t i = 0; i < count; ++i) {
    sources.push_back(source);
    // Advance the odometer: the innermost dimension fastest.
    for (int64_t d = rank - 1; d >= 0; --d) {
      source += sourceStrides[d];
      if (++index[d] < shape[d])
        break;
      source -= sourceStrides[d] * shape[d];
      index[d] = 0;
    }
  }
  return sources;
}

/// Strides with which an operand of `operandShape` is read when it broadcasts
/// to `resultShape` by NumPy rules: leading dimensions it lacks and size-1
/// dimensions that stretch have stride 0.
static SmallVector<int64_t> broadcastStrides(ArrayRef<int64_t> operandShape,
                                             ArrayRef<int64_t> resultShape) {
  SmallVector<int64_t> own = rowMajorStrides(operandShape);
  size_t lead = resultShape.size() - operandShape.size();
  SmallVector<int64_t> strides(resultShape.size(), 0);
  for (size_t d = 0; d < operandShape.size(); ++d)
    if (operandShape[d] == resultShape[lead + d])
      strides[lead + d] = own[d];
  return strides;
}

/// True when the fold of a non-splat result of `type` stays within the limit.
static bool withinFoldLimit(ShapedType type) {
  if (type.getNumElements() <= kMaxFoldedElements)
    return true;
  LLVM_DEBUG(llvm::dbgs() << "dist-fold: not folding into " << type
                          << ", more than " << kMaxFoldedElements
                          << " elements\n");
  return false;
}

/// A non-empty splat. (Whether an empty attribute counts as a splat is left
/// to MLIR; the folders never rely on it.)
static bool isNonEmptySplat(DenseElementsAttr attr) {
  return attr.getNumElements() > 0 && attr.isSplat();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

namespace {
/// Where one result element of a data-movement fold comes from.
struct ElementSource {
  unsigned input;
  int64_t index;
};
} // namespace

template <typename ElementT>
static DenseElementsAttr copyElementsAs(RankedTensorType resultType,
                                        ArrayRef<DenseElementsAttr> inputs,
                                        ArrayRef<ElementSource> sources) {
  using Range = decltype(inputs.front().getValues<ElementT>());
  SmallVector<Range> ranges;
  for (DenseElementsAttr input : inputs)
    ranges.push_back(input.getValues<ElementT>());
  SmallVector<ElementT> values;
  values.reserve(sources.size());
  for (ElementSource source : sources)
    values.push_back(ranges[source.input][source.index]);
  return DenseElementsAttr::get(resultType, values);
}

/// Builds the constant of `resultType` whose element `i` is element
/// `sources[i].index` of `inputs[sources[i].input]`. All inputs have the
/// result's element type.
static DenseElementsAttr copyElements(RankedTensorType resultType,
                                      ArrayRef<DenseElementsAttr> inputs,
                                      ArrayRef<ElementSource> sources) {
  if (isa<FloatType>(resultType.getElementType()))
    return copyElementsAs<APFloat>(resultType, inputs, sources);
  return copyElementsAs<APInt>(resultType, inputs, sources);
}

/// A constant of `type`, which has no elements.
static DenseElementsAttr emptyElements(RankedTensorType type) {
  if (isa<FloatType>(type.getElementType()))
    return DenseElementsAttr::get(type, ArrayRef<APFloat>());
  return DenseElementsAttr::get(type, ArrayRef<APInt>());
}

/// Single-input form of copyElements.
static DenseElementsAttr copyElements(RankedTensorType resultType,
                                      DenseElementsAttr input,
                                      ArrayRef<int64_t> indices) {
  SmallVector<ElementSource> sources;
  sources.reserve(indices.size());
  for (int64_t index : indices)
    sources.push_back({0, index});
  return copyElements(resultType, {input}, sources);
}

/// Folds a data-movement op with one constant input whose result reads
/// `base + sum_d index[d] * sourceStrides[d]`: a splat input gives a splat
/// result of any size; otherwise the result must be within the limit.
static OpFoldResult foldStridedCopy(Attribute inputAttr,
                                    RankedTensorType resultType, int64_t base,
                                    ArrayRef<int64_t> sourceStrides) {
  auto input = dyn_cast_if_present<DenseElementsAttr>(inputAttr);
  if (!input)
    return {};
  if (resultType.getNumElements() == 0)
    return emptyElements(resultType);
  if (isNonEmptySplat(input))
    return input.resizeSplat(resultType);
  if (!withinFoldLimit(resultType))
    return {};
  return copyElements(
      resultType, input,
      stridedSourceIndices(resultType.getShape(), base, sourceStrides));
}

//===----------------------------------------------------------------------===//
// Element-wise evaluation
//===----------------------------------------------------------------------===//

/// The value of `value` as a double (exact for f16, bf16, f32 and f64).
static double toDouble(APFloat value) {
  bool losesInfo = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToDouble();
}

/// `value` rounded to nearest (ties to even) in `semantics`.
static APFloat fromDouble(double value, const llvm::fltSemantics &semantics) {
  APFloat result(value);
  bool losesInfo = false;
  result.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
  return result;
}

/// Evaluates an element-wise op on constant operands that broadcast to
/// `resultType`. `compute` receives, for one result element, the linear
/// index of the element read from each operand, and returns the result
/// element or std::nullopt when it has no defined value (then nothing folds).
/// Splat operands give a splat result of any size; otherwise the result must
/// be within the limit.
template <typename ElementT>
static DenseElementsAttr foldElementwise(
    RankedTensorType resultType, ArrayRef<DenseElementsAttr> operands,
    function_ref<std::optional<ElementT>(ArrayRef<int64_t>)> compute) {
  int64_t count = resultType.getNumElements();
  // An operand with no elements broadcasts only to a result without any.
  if (count == 0)
    return DenseElementsAttr::get(resultType, ArrayRef<ElementT>());
  SmallVector<int64_t> index(operands.size(), 0);
  if (llvm::all_of(operands, isNonEmptySplat)) {
    std::optional<ElementT> value = compute(index);
    if (!value)
      return {};
    return DenseElementsAttr::get(resultType, ArrayRef<ElementT>(*value));
  }
  if (!withinFoldLimit(resultType))
    return {};
  SmallVector<SmallVector<int64_t>> sources;
  for (DenseElementsAttr operand : operands) {
    ArrayRef<int64_t> shape = cast<ShapedType>(operand.getType()).getShape();
    sources.push_back(
        isNonEmptySplat(operand)
            ? SmallVector<int64_t>(count, 0)
            : stridedSourceIndices(
                  resultType.getShape(), 0,
                  broadcastStrides(shape, resultType.getShape())));
  }
  SmallVector<ElementT> values;
  values.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    for (auto [k, operandSources] : llvm::enumerate(sources))
      index[k] = operandSources[i];
    std::optional<ElementT> value = compute(index);
    if (!value)
      return {};
    values.push_back(std::move(*value));
  }
  return DenseElementsAttr::get(resultType, values);
}

/// The dense constant behind a fold operand, or null.
static DenseElementsAttr getDense(Attribute attr) {
  return dyn_cast_if_present<DenseElementsAttr>(attr);
}

/// True when `attr` is a splat constant equal to `value` (for floats, a zero
/// of either sign matches 0).
static bool isSplatOf(Attribute attr, int64_t value) {
  DenseElementsAttr dense = getDense(attr);
  if (!dense || !isNonEmptySplat(dense))
    return false;
  if (isa<FloatType>(dense.getElementType()))
    return toDouble(dense.getSplatValue<APFloat>()) ==
           static_cast<double>(value);
  APInt splat = dense.getSplatValue<APInt>();
  return splat.getBitWidth() > 1 && splat.getSExtValue() == value;
}

//===----------------------------------------------------------------------===//
// BinaryOp
//===----------------------------------------------------------------------===//

/// `base ** exponent` on signed integers by repeated (wrapping)
/// multiplication, computed by squaring. A negative exponent gives
/// `1 / base ** -exponent` truncated toward zero, undefined for base 0.
static std::optional<APInt> powInt(const APInt &base, const APInt &exponent) {
  unsigned width = base.getBitWidth();
  if (exponent.isNegative()) {
    if (base.isZero())
      return std::nullopt;
    if (base.isOne())
      return base;
    if (base.isAllOnes())
      return exponent[0] ? base : APInt(width, 1);
    return APInt(width, 0);
  }
  APInt result(width, 1), factor = base, remaining = exponent;
  while (!remaining.isZero()) {
    if (remaining[0])
      result *= factor;
    factor *= factor;
    remaining.lshrInPlace(1);
  }
  return result;
}

static std::optional<APInt> evaluateIntBinary(BinaryKind kind, const APInt &a,
                                              const APInt &b) {
  bool isBool = a.getBitWidth() == 1;
  switch (kind) {
  case BinaryKind::And:
    return isBool ? std::optional(a & b) : std::nullopt;
  case BinaryKind::Or:
    return isBool ? std::optional(a | b) : std::nullopt;
  case BinaryKind::Xor:
    return isBool ? std::optional(a ^ b) : std::nullopt;
  default:
    break;
  }
  if (isBool)
    return std::nullopt;
  switch (kind) {
  case BinaryKind::Add:
    return a + b;
  case BinaryKind::Sub:
    return a - b;
  case BinaryKind::Mul:
    return a * b;
  case BinaryKind::Div: {
    // Truncates toward zero, as C++ and ONNX do; INT_MIN / -1 overflows.
    if (b.isZero())
      return std::nullopt;
    bool overflow = false;
    APInt quotient = a.sdiv_ov(b, overflow);
    return overflow ? std::nullopt : std::optional(quotient);
  }
  case BinaryKind::Pow:
    return powInt(a, b);
  case BinaryKind::Mod:
  case BinaryKind::FMod: {
    // Undefined for 0; INT_MIN % -1 overflows in the kernel's C++.
    if (b.isZero() || b.isAllOnes())
      return std::nullopt;
    APInt r = a.srem(b);
    if (kind == BinaryKind::Mod && !r.isZero() &&
        r.isNegative() != b.isNegative())
      r += b;
    return r;
  }
  case BinaryKind::Max:
    return a.sge(b) ? a : b;
  case BinaryKind::Min:
    return a.sle(b) ? a : b;
  default:
    return std::nullopt;
  }
}

static std::optional<double> evaluateFloatBinary(BinaryKind kind, double a,
                                                 double b) {
  switch (kind) {
  case BinaryKind::Add:
    return a + b;
  case BinaryKind::Sub:
    return a - b;
  case BinaryKind::Mul:
    return a * b;
  case BinaryKind::Div:
    return a / b;
  case BinaryKind::Pow:
    return std::pow(a, b);
  case BinaryKind::FMod:
    return std::fmod(a, b);
  case BinaryKind::Mod: {
    double r = std::fmod(a, b);
    return r != 0 && (r < 0) != (b < 0) ? r + b : r;
  }
  // NaN propagates, as in NumPy and ONNX Max / Min.
  case BinaryKind::Max:
    return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
  case BinaryKind::Min:
    return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
  default:
    return std::nullopt;
  }
}

/// `x + 0`, `0 + x`, `x - 0`, `x * 1`, `1 * x` and `x / 1` are `x` when `x`
/// already has the result type (the constant does not broadcast it). For
/// floats this ignores the sign of zero (`-0.0 + 0.0` is `+0.0`), as ML
/// compilers do.
static Value foldBinaryIdentity(BinaryOp op, Attribute lhsAttr,
                                Attribute rhsAttr) {
  Value lhs = op.getLhs(), rhs = op.getRhs();
  Type type = op.getType();
  auto keep = [&](Value v, Attribute other, int64_t neutral) -> Value {
    return v.getType() == type && isSplatOf(other, neutral) ? v : Value();
  };
  switch (op.getKind()) {
  case BinaryKind::Add:
    if (Value v = keep(lhs, rhsAttr, 0))
      return v;
    return keep(rhs, lhsAttr, 0);
  case BinaryKind::Sub:
    return keep(lhs, rhsAttr, 0);
  case BinaryKind::Mul:
    if (Value v = keep(lhs, rhsAttr, 1))
      return v;
    return keep(rhs, lhsAttr, 1);
  case BinaryKind::Div:
    return keep(lhs, rhsAttr, 1);
  default:
    return {};
  }
}

OpFoldResult BinaryOp::fold(FoldAdaptor adaptor) {
  if (Value identity =
          foldBinaryIdentity(*this, adaptor.getLhs(), adaptor.getRhs()))
    return identity;
  DenseElementsAttr lhs = getDense(adaptor.getLhs());
  DenseElementsAttr rhs = getDense(adaptor.getRhs());
  if (!lhs || !rhs)
    return {};
  RankedTensorType type = getType();
  BinaryKind kind = getKind();
  if (auto floatType = dyn_cast<FloatType>(type.getElementType())) {
    const llvm::fltSemantics &semantics = floatType.getFloatSemantics();
    auto l = lhs.getValues<APFloat>();
    auto r = rhs.getValues<APFloat>();
    return foldElementwise<APFloat>(
        type, {lhs, rhs}, [&](ArrayRef<int64_t> i) -> std::optional<APFloat> {
          std::optional<double> value =
              evaluateFloatBinary(kind, toDouble(l[i[0]]), toDouble(r[i[1]]));
          if (!value)
            return std::nullopt;
          return fromDouble(*value, semantics);
        });
  }
  auto l = lhs.getValues<APInt>();
  auto r = rhs.getValues<APInt>();
  return foldElementwise<APInt>(type, {lhs, rhs}, [&](ArrayRef<int64_t> i) {
    return evaluateIntBinary(kind, l[i[0]], r[i[1]]);
  });
}

//===----------------------------------------------------------------------===//
// CompareOp
//===----------------------------------------------------------------------===//

/// Compares integers as signed (i1 as a boolean, false < true).
static bool compareInts(CompareKind kind, const APInt &a, const APInt &b) {
  bool isSigned = a.getBitWidth() > 1;
  bool lt = isSigned ? a.slt(b) : a.ult(b);
  bool gt = isSigned ? a.sgt(b) : a.ugt(b);
  switch (kind) {
  case CompareKind::Eq:
    return a == b;
  case CompareKind::Ne:
    return a != b;
  case CompareKind::Lt:
    return lt;
  case CompareKind::Le:
    return !gt;
  case CompareKind::Gt:
    return gt;
  case CompareKind::Ge:
    return !lt;
  }
  llvm_unreachable("unknown compare kind");
}

/// Compares floats by IEEE rules: a NaN is unequal to everything.
static bool compareFloats(CompareKind kind, const APFloat &a,
                          const APFloat &b) {
  APFloat::cmpResult order = a.compare(b);
  switch (kind) {
  case CompareKind::Eq:
    return order == APFloat::cmpEqual;
  case CompareKind::Ne:
    return order != APFloat::cmpEqual;
  case CompareKind::Lt:
    return order == APFloat::cmpLessThan;
  case CompareKind::Le:
    return order == APFloat::cmpLessThan || order == APFloat::cmpEqual;
  case CompareKind::Gt:
    return order == APFloat::cmpGreaterThan;
  case CompareKind::Ge:
    return order == APFloat::cmpGreaterThan || order == APFloat::cmpEqual;
  }
  llvm_unreachable("unknown compare kind");
}

OpFoldResult CompareOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr lhs = getDense(adaptor.getLhs());
  DenseElementsAttr rhs = getDense(adaptor.getRhs());
  if (!lhs || !rhs)
    return {};
  CompareKind kind = getKind();
  auto toBit = [](bool b) { return APInt(1, b ? 1 : 0); };
  if (isa<FloatType>(lhs.getElementType())) {
    auto l = lhs.getValues<APFloat>();
    auto r = rhs.getValues<APFloat>();
    return foldElementwise<APInt>(
        getType(), {lhs, rhs}, [&](ArrayRef<int64_t> i) {
          return std::optional(toBit(compareFloats(kind, l[i[0]], r[i[1]])));
        });
  }
  auto l = lhs.getValues<APInt>();
  auto r = rhs.getValues<APInt>();
  return foldElementwise<APInt>(
      getType(), {lhs, rhs}, [&](ArrayRef<int64_t> i) {
        return std::optional(toBit(compareInts(kind, l[i[0]], r[i[1]])));
      });
}

//===----------------------------------------------------------------------===//
// SelectOp
//===----------------------------------------------------------------------===//

template <typename ElementT>
static DenseElementsAttr
foldSelectAs(RankedTensorType type, DenseElementsAttr condition,
             DenseElementsAttr onTrue, DenseElementsAttr onFalse) {
  auto c = condition.getValues<APInt>();
  auto t = onTrue.getValues<ElementT>();
  auto f = onFalse.getValues<ElementT>();
  return foldElementwise<ElementT>(
      type, {condition, onTrue, onFalse}, [&](ArrayRef<int64_t> i) {
        return std::optional<ElementT>(c[i[0]].isZero() ? f[i[2]] : t[i[1]]);
      });
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = getType();
  // Both branches the same value, or a condition that is a splat constant:
  // one branch, when it already has the result type.
  if (getOnTrue() == getOnFalse() && getOnTrue().getType() == type)
    return getOnTrue();
  DenseElementsAttr condition = getDense(adaptor.getCondition());
  if (condition && isNonEmptySplat(condition)) {
    Value chosen =
        condition.getSplatValue<APInt>().isZero() ? getOnFalse() : getOnTrue();
    if (chosen.getType() == type)
      return chosen;
  }
  DenseElementsAttr onTrue = getDense(adaptor.getOnTrue());
  DenseElementsAttr onFalse = getDense(adaptor.getOnFalse());
  if (!condition || !onTrue || !onFalse)
    return {};
  if (isa<FloatType>(type.getElementType()))
    return foldSelectAs<APFloat>(type, condition, onTrue, onFalse);
  return foldSelectAs<APInt>(type, condition, onTrue, onFalse);
}

//===----------------------------------------------------------------------===//
// CastOp
//===----------------------------------------------------------------------===//

/// Converts an integer (signed; i1 as 0 / 1) to an integer of `width` bits:
/// sign extension or truncation, `!= 0` for i1.
static APInt castIntToInt(const APInt &value, unsigned width) {
  if (width == 1)
    return APInt(1, value.isZero() ? 0 : 1);
  if (value.getBitWidth() == 1)
    return value.zext(width);
  return value.sextOrTrunc(width);
}

/// Converts a float to an integer of `width` bits: truncation toward zero,
/// `!= 0` for i1 (a NaN is true). A NaN or a value out of range has no
/// defined result.
static std::optional<APInt> castFloatToInt(const APFloat &value,
                                           unsigned width) {
  if (width == 1)
    return APInt(1, value.isZero() ? 0 : 1);
  APSInt result(width, /*isUnsigned=*/false);
  bool isExact = false;
  APFloat::opStatus status =
      value.convertToInteger(result, APFloat::rmTowardZero, &isExact);
  if (status & APFloat::opInvalidOp)
    return std::nullopt;
  return APInt(result);
}

/// Converts an integer (signed; i1 as 0 / 1) to the nearest float.
static APFloat castIntToFloat(const APInt &value,
                              const llvm::fltSemantics &semantics) {
  APFloat result(semantics);
  result.convertFromAPInt(value, /*IsSigned=*/value.getBitWidth() > 1,
                          APFloat::rmNearestTiesToEven);
  return result;
}

static APFloat castFloatToFloat(APFloat value,
                                const llvm::fltSemantics &semantics) {
  bool losesInfo = false;
  value.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
  return value;
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  DenseElementsAttr input = getDense(adaptor.getInput());
  if (!input)
    return {};
  RankedTensorType type = getType();
  Type to = type.getElementType();
  if (isa<FloatType>(input.getElementType())) {
    auto values = input.getValues<APFloat>();
    if (auto toFloat = dyn_cast<FloatType>(to)) {
      const llvm::fltSemantics &semantics = toFloat.getFloatSemantics();
      return foldElementwise<APFloat>(type, {input}, [&](ArrayRef<int64_t> i) {
        return std::optional(castFloatToFloat(values[i[0]], semantics));
      });
    }
    unsigned width = to.getIntOrFloatBitWidth();
    return foldElementwise<APInt>(type, {input}, [&](ArrayRef<int64_t> i) {
      return castFloatToInt(values[i[0]], width);
    });
  }
  auto values = input.getValues<APInt>();
  if (auto toFloat = dyn_cast<FloatType>(to)) {
    const llvm::fltSemantics &semantics = toFloat.getFloatSemantics();
    return foldElementwise<APFloat>(type, {input}, [&](ArrayRef<int64_t> i) {
      return std::optional(castIntToFloat(values[i[0]], semantics));
    });
  }
  unsigned width = to.getIntOrFloatBitWidth();
  return foldElementwise<APInt>(type, {input}, [&](ArrayRef<int64_t> i) {
    return std::optional(castIntToInt(values[i[0]], width));
  });
}

//===----------------------------------------------------------------------===//
// UnaryOp
//===----------------------------------------------------------------------===//

static std::optional<APInt> evaluateIntUnary(UnaryKind kind, const APInt &x) {
  if (x.getBitWidth() == 1)
    return kind == UnaryKind::Not ? std::optional(~x) : std::nullopt;
  switch (kind) {
  case UnaryKind::Neg:
    return -x;
  case UnaryKind::Abs:
    return x.abs();
  case UnaryKind::Relu:
    return x.isNegative() ? APInt(x.getBitWidth(), 0) : x;
  default:
    return std::nullopt;
  }
}

/// `kind` at `x`, with the parameters `alpha` and `beta` of the kinds that
/// take them (dist.unary's description gives each formula).
static std::optional<double> evaluateFloatUnary(UnaryKind kind, double x,
                                                double alpha, double beta) {
  auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  // log(1 + exp(v)) without overflow.
  auto softplus = [](double v) {
    return std::max(v, 0.0) + std::log1p(std::exp(-std::fabs(v)));
  };
  auto hardSigmoid = [](double v, double a, double b) {
    return std::max(0.0, std::min(1.0, a * v + b));
  };
  switch (kind) {
  case UnaryKind::Relu:
    return x < 0.0 ? 0.0 : x;
  case UnaryKind::GeluErf:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case UnaryKind::GeluTanh:
    return 0.5 * x *
           (1.0 + std::tanh(std::sqrt(2.0 / llvm::numbers::pi) *
                            (x + 0.044715 * x * x * x)));
  case UnaryKind::Tanh:
    return std::tanh(x);
  case UnaryKind::Exp:
    return std::exp(x);
  case UnaryKind::Log:
    return std::log(x);
  case UnaryKind::Sqrt:
    return std::sqrt(x);
  case UnaryKind::Rsqrt:
    return 1.0 / std::sqrt(x);
  case UnaryKind::Erf:
    return std::erf(x);
  case UnaryKind::Neg:
    return -x;
  case UnaryKind::Reciprocal:
    return 1.0 / x;
  case UnaryKind::Sigmoid:
    return sigmoid(x);
  case UnaryKind::Abs:
    return std::fabs(x);
  case UnaryKind::Floor:
    return std::floor(x);
  case UnaryKind::Ceil:
    return std::ceil(x);
  case UnaryKind::Sin:
    return std::sin(x);
  case UnaryKind::Cos:
    return std::cos(x);
  case UnaryKind::Silu:
    return x * sigmoid(x);
  case UnaryKind::LeakyRelu:
    return x < 0.0 ? alpha * x : x;
  case UnaryKind::Elu:
    return x < 0.0 ? alpha * std::expm1(x) : x;
  case UnaryKind::Selu:
    return beta * (x <= 0.0 ? alpha * std::expm1(x) : x);
  case UnaryKind::Celu:
    return std::max(0.0, x) + std::min(0.0, alpha * std::expm1(x / alpha));
  case UnaryKind::Softplus:
    return softplus(x);
  case UnaryKind::Softsign:
    return x / (1.0 + std::fabs(x));
  case UnaryKind::HardSigmoid:
    return hardSigmoid(x, alpha, beta);
  case UnaryKind::HardSwish:
    return x * hardSigmoid(x, 1.0 / 6.0, 0.5);
  case UnaryKind::Mish:
    return x * std::tanh(softplus(x));
  case UnaryKind::ThresholdedRelu:
    return x > alpha ? x : 0.0;
  case UnaryKind::Tan:
    return std::tan(x);
  case UnaryKind::Asin:
    return std::asin(x);
  case UnaryKind::Acos:
    return std::acos(x);
  case UnaryKind::Atan:
    return std::atan(x);
  case UnaryKind::Sinh:
    return std::sinh(x);
  case UnaryKind::Cosh:
    return std::cosh(x);
  case UnaryKind::Asinh:
    return std::asinh(x);
  case UnaryKind::Acosh:
    return std::acosh(x);
  case UnaryKind::Atanh:
    return std::atanh(x);
  case UnaryKind::Round:
    return std::nearbyint(x);
  case UnaryKind::Not:
    return std::nullopt;
  }
  return std::nullopt;
}

OpFoldResult UnaryOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr input = getDense(adaptor.getInput());
  if (!input)
    return {};
  RankedTensorType type = getType();
  UnaryKind kind = getKind();
  if (auto floatType = dyn_cast<FloatType>(type.getElementType())) {
    const llvm::fltSemantics &semantics = floatType.getFloatSemantics();
    auto values = input.getValues<APFloat>();
    double alpha = getAlpha() ? getAlpha()->convertToDouble() : 0.0;
    double beta = getBeta() ? getBeta()->convertToDouble() : 0.0;
    return foldElementwise<APFloat>(
        type, {input}, [&](ArrayRef<int64_t> i) -> std::optional<APFloat> {
          std::optional<double> value =
              evaluateFloatUnary(kind, toDouble(values[i[0]]), alpha, beta);
          if (!value)
            return std::nullopt;
          return fromDouble(*value, semantics);
        });
  }
  auto values = input.getValues<APInt>();
  return foldElementwise<APInt>(type, {input}, [&](ArrayRef<int64_t> i) {
    return evaluateIntUnary(kind, values[i[0]]);
  });
}

//===----------------------------------------------------------------------===//
// ReduceOp
//===----------------------------------------------------------------------===//

OpFoldResult ReduceOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr input = getDense(adaptor.getInput());
  if (!input)
    return {};
  RankedTensorType inType = getInput().getType(), type = getType();
  ArrayRef<int64_t> axes = getAxes();
  ReduceKind kind = getKind();
  int64_t reduced = 1;
  for (int64_t axis : axes)
    reduced *= inType.getDimSize(axis);
  // The sum of nothing is 0 and its product 1; its max, min or mean is
  // undefined.
  if (reduced == 0) {
    if (kind != ReduceKind::Sum && kind != ReduceKind::Prod)
      return {};
    if (type.getNumElements() == 0)
      return emptyElements(type);
    int64_t identity = kind == ReduceKind::Prod ? 1 : 0;
    if (auto floatType = dyn_cast<FloatType>(type.getElementType()))
      return DenseElementsAttr::get(
          type, fromDouble(identity, floatType.getFloatSemantics()));
    return DenseElementsAttr::get(
        type, APInt(type.getElementTypeBitWidth(), identity));
  }
  // The max, min or mean of copies of one value is that value.
  if (isNonEmptySplat(input) && kind != ReduceKind::Sum &&
      kind != ReduceKind::Prod)
    return input.resizeSplat(type);
  // The work is one step per input element: bound the input, not only the
  // (smaller) result.
  if (!withinFoldLimit(inType))
    return {};

  // For every input element, the result element it accumulates into.
  ArrayRef<int64_t> inShape = inType.getShape();
  SmallVector<int64_t> resultStrides = rowMajorStrides(type.getShape());
  SmallVector<int64_t> accumulateStrides(inShape.size(), 0);
  for (int64_t d = 0, r = 0; d < inType.getRank(); ++d) {
    bool isReduced = llvm::is_contained(axes, d);
    if (!isReduced)
      accumulateStrides[d] = resultStrides[r];
    if (!isReduced || getKeepDims())
      ++r;
  }
  SmallVector<int64_t> targets =
      stridedSourceIndices(inShape, 0, accumulateStrides);
  int64_t count = type.getNumElements();

  if (auto floatType = dyn_cast<FloatType>(type.getElementType())) {
    double init = kind == ReduceKind::Prod  ? 1.0
                  : kind == ReduceKind::Max ? -INFINITY
                  : kind == ReduceKind::Min ? INFINITY
                                            : 0.0;
    SmallVector<double> acc(count, init);
    for (auto [x, target] : llvm::zip(input.getValues<APFloat>(), targets)) {
      double v = toDouble(x);
      double &a = acc[target];
      switch (kind) {
      case ReduceKind::Sum:
      case ReduceKind::Mean:
        a += v;
        break;
      case ReduceKind::Prod:
        a *= v;
        break;
      // A NaN wins, as in NumPy.
      case ReduceKind::Max:
        a = std::isnan(v) || v > a ? v : a;
        break;
      case ReduceKind::Min:
        a = std::isnan(v) || v < a ? v : a;
        break;
      }
    }
    SmallVector<APFloat> values;
    for (double a : acc)
      values.push_back(fromDouble(kind == ReduceKind::Mean ? a / reduced : a,
                                  floatType.getFloatSemantics()));
    return DenseElementsAttr::get(type, values);
  }

  // Integers: sum and product wrap in the element type; the mean is the
  // exact sum divided by the count, truncated toward zero.
  unsigned width = type.getElementTypeBitWidth();
  unsigned accWidth = kind == ReduceKind::Mean ? 128 : width;
  APInt init(accWidth, kind == ReduceKind::Prod ? 1 : 0);
  if (kind == ReduceKind::Max)
    init = APInt::getSignedMinValue(accWidth);
  if (kind == ReduceKind::Min)
    init = APInt::getSignedMaxValue(accWidth);
  SmallVector<APInt> acc(count, init);
  for (auto [x, target] : llvm::zip(input.getValues<APInt>(), targets)) {
    APInt v = x.sext(accWidth);
    APInt &a = acc[target];
    switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Mean:
      a += v;
      break;
    case ReduceKind::Prod:
      a *= v;
      break;
    case ReduceKind::Max:
      a = a.sge(v) ? a : v;
      break;
    case ReduceKind::Min:
      a = a.sle(v) ? a : v;
      break;
    }
  }
  for (APInt &a : acc) {
    if (kind == ReduceKind::Mean)
      a = a.sdiv(APInt(accWidth, reduced));
    a = a.trunc(width);
  }
  return DenseElementsAttr::get(type, acc);
}

//===----------------------------------------------------------------------===//
// Data movement ops
//===----------------------------------------------------------------------===//

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  // A local form's result depends on the device that runs it.
  if (getRowAxes())
    return {};
  DenseElementsAttr data = getDense(adaptor.getData());
  DenseElementsAttr indices = getDense(adaptor.getIndices());
  if (!data || !indices)
    return {};
  RankedTensorType dataType = getData().getType(), type = getType();
  int64_t axis = getAxis();
  int64_t axisSize = dataType.getDimSize(axis);

  // A negative index counts from the end of the axis (ONNX Gather). An index
  // outside [-axisSize, axisSize) has no defined result: leave the op. A
  // splat of indices is checked once (it may stand for any number of them).
  SmallVector<int64_t> selected;
  if (isNonEmptySplat(indices) && !withinFoldLimit(indices.getType()))
    indices = indices.resizeSplat(
        RankedTensorType::get({1}, indices.getElementType()));
  for (const APInt &value : indices.getValues<APInt>()) {
    int64_t index = value.getSExtValue();
    if (index < -axisSize || index >= axisSize) {
      LLVM_DEBUG(llvm::dbgs()
                 << "dist-fold: gather index " << index
                 << " out of range for axis of size " << axisSize << "\n");
      return {};
    }
    selected.push_back(index < 0 ? index + axisSize : index);
  }

  if (type.getNumElements() == 0)
    return emptyElements(type);
  if (isNonEmptySplat(data))
    return data.resizeSplat(type);
  if (!withinFoldLimit(type))
    return {};
  int64_t outer = product(dataType.getShape().take_front(axis));
  int64_t inner = product(dataType.getShape().drop_front(axis + 1));
  SmallVector<int64_t> sources;
  sources.reserve(type.getNumElements());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t index : selected)
      for (int64_t k = 0; k < inner; ++k)
        sources.push_back((o * axisSize + index) * inner + k);
  return copyElements(type, data, sources);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  RankedTensorType type = getType();
  int64_t axis = getAxis();
  // Inputs without elements contribute nothing.
  SmallVector<DenseElementsAttr> inputs;
  for (auto [value, attr] : llvm::zip(getInputs(), adaptor.getInputs())) {
    DenseElementsAttr dense = getDense(attr);
    if (!dense)
      return {};
    if (cast<RankedTensorType>(value.getType()).getNumElements() > 0)
      inputs.push_back(dense);
  }
  if (inputs.empty())
    return emptyElements(type);
  // Copies of one splat value.
  if (llvm::all_of(inputs, isNonEmptySplat) &&
      llvm::all_equal(llvm::map_range(inputs, [](DenseElementsAttr d) {
        return d.getSplatValue<Attribute>();
      })))
    return inputs.front().resizeSplat(type);
  if (!withinFoldLimit(type))
    return {};
  int64_t outer = product(type.getShape().take_front(axis));
  SmallVector<ElementSource> sources;
  sources.reserve(type.getNumElements());
  for (int64_t o = 0; o < outer; ++o) {
    for (auto [k, input] : llvm::enumerate(inputs)) {
      // One input's block of a row: its size along the axis times the
      // trailing dimensions.
      int64_t block = input.getNumElements() / outer;
      for (int64_t j = 0; j < block; ++j)
        sources.push_back({static_cast<unsigned>(k), o * block + j});
    }
  }
  return copyElements(type, inputs, sources);
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  RankedTensorType inType = getInput().getType(), type = getType();
  ArrayRef<int64_t> offsets = getOffsets(), strides = getStrides();
  if (inType == type &&
      llvm::all_of(offsets, [](int64_t o) { return o == 0; }) &&
      llvm::all_of(strides, [](int64_t s) { return s == 1; }))
    return getInput();
  SmallVector<int64_t> inStrides = rowMajorStrides(inType.getShape());
  int64_t base = 0;
  SmallVector<int64_t> sourceStrides;
  for (int64_t d = 0; d < inType.getRank(); ++d) {
    base += offsets[d] * inStrides[d];
    sourceStrides.push_back(strides[d] * inStrides[d]);
  }
  return foldStridedCopy(adaptor.getInput(), type, base, sourceStrides);
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  bool identity = llvm::all_of(llvm::enumerate(perm), [](auto pair) {
    return static_cast<int64_t>(pair.index()) == pair.value();
  });
  if (identity)
    return getInput();
  SmallVector<int64_t> inStrides =
      rowMajorStrides(getInput().getType().getShape());
  SmallVector<int64_t> sourceStrides;
  for (int64_t p : perm)
    sourceStrides.push_back(inStrides[p]);
  return foldStridedCopy(adaptor.getInput(), getType(), 0, sourceStrides);
}

OpFoldResult BroadcastOp::fold(FoldAdaptor adaptor) {
  RankedTensorType inType = getInput().getType(), type = getType();
  if (inType == type)
    return getInput();
  return foldStridedCopy(adaptor.getInput(), type, 0,
                         broadcastStrides(inType.getShape(), type.getShape()));
}

LogicalResult SplitOp::fold(FoldAdaptor adaptor,
                            SmallVectorImpl<OpFoldResult> &results) {
  RankedTensorType inType = getInput().getType();
  if (getNumResults() == 1 && getResult(0).getType() == inType) {
    results.push_back(getInput());
    return success();
  }
  if (!getDense(adaptor.getInput()))
    return failure();
  int64_t axis = getAxis();
  SmallVector<int64_t> inStrides = rowMajorStrides(inType.getShape());
  SmallVector<OpFoldResult> pieces;
  int64_t offset = 0;
  for (Value result : getResults()) {
    auto type = cast<RankedTensorType>(result.getType());
    OpFoldResult piece = foldStridedCopy(adaptor.getInput(), type,
                                         offset * inStrides[axis], inStrides);
    // All results fold or none.
    if (!piece)
      return failure();
    pieces.push_back(piece);
    offset += type.getDimSize(axis);
  }
  results.append(pieces.begin(), pieces.end());
  return success();
}

//===----------------------------------------------------------------------===//
// ConstantOp and ReshapeOp
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) is one reshape of x.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  // Same elements in the same order: no new data, so no size limit.
  if (DenseElementsAttr dense = getDense(adaptor.getInput()))
    return dense.reshape(getType());
  return {};
}
