//===- Composer.h - building a node's lowering from several dist ops -*- C++
//-*-===//
//
// The converters of ONNX operators lowered to several dist ops
// (Composites.cpp, Resampling.cpp, Recurrent.cpp) build them with a
// Composer: each step takes the results of earlier steps as they came, so a
// lowering reads as a formula and checks for failure once, at the end.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_LIB_IMPORT_ONNX_COMPOSER_H
#define DISTOPT_LIB_IMPORT_ONNX_COMPOSER_H

#include "ImportContext.h"

#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace distopt::onnx_import {

/// A step's result: a value, or a failure already reported at the node.
using V = mlir::FailureOr<mlir::Value>;

/// Builds the dist ops of one node. Every step takes the results of earlier
/// steps as they came: a step whose operand failed (its error is already
/// reported at the node) fails too, so a lowering reads as a formula and
/// checks once, at the end.
class Composer {
public:
  Composer(ImportContext &ic, const onnx::NodeProto &node)
      : ic(ic), node(node) {}

  ImportContext &ic;
  const onnx::NodeProto &node;

  V unary(dist::UnaryKind kind, V x) {
    if (mlir::failed(x))
      return mlir::failure();
    return ic.create<dist::UnaryOp>(node, kind, *x, mlir::FloatAttr(),
                                    mlir::FloatAttr());
  }
  V binary(dist::BinaryKind kind, V a, V b) {
    if (mlir::failed(a) || mlir::failed(b))
      return mlir::failure();
    return ic.create<dist::BinaryOp>(node, kind, *a, *b);
  }
  V add(V a, V b) { return binary(dist::BinaryKind::Add, a, b); }
  V sub(V a, V b) { return binary(dist::BinaryKind::Sub, a, b); }
  V mul(V a, V b) { return binary(dist::BinaryKind::Mul, a, b); }
  V div(V a, V b) { return binary(dist::BinaryKind::Div, a, b); }
  V compare(dist::CompareKind kind, V a, V b) {
    if (mlir::failed(a) || mlir::failed(b))
      return mlir::failure();
    return ic.create<dist::CompareOp>(node, kind, *a, *b);
  }
  V select(V condition, V onTrue, V onFalse) {
    if (mlir::failed(condition) || mlir::failed(onTrue) ||
        mlir::failed(onFalse))
      return mlir::failure();
    return ic.create<dist::SelectOp>(node, *condition, *onTrue, *onFalse);
  }
  V reduce(dist::ReduceKind kind, V x, llvm::ArrayRef<int64_t> axes,
           bool keepDims) {
    if (mlir::failed(x))
      return mlir::failure();
    if (axes.empty())
      return x;
    return ic.create<dist::ReduceOp>(node, kind, *x, axes, keepDims);
  }
  V reshape(V x, llvm::ArrayRef<int64_t> shape) {
    if (mlir::failed(x))
      return mlir::failure();
    if (typeOf(*x).getShape() == shape)
      return x;
    auto type = mlir::RankedTensorType::get(shape, typeOf(*x).getElementType());
    return ic.create<dist::ReshapeOp>(node, type, *x);
  }
  V transpose(V x, llvm::ArrayRef<int64_t> perm) {
    if (mlir::failed(x))
      return mlir::failure();
    return ic.create<dist::TransposeOp>(node, *x,
                                        ic.builder.getDenseI64ArrayAttr(perm));
  }
  V broadcast(V x, llvm::ArrayRef<int64_t> shape) {
    if (mlir::failed(x))
      return mlir::failure();
    if (typeOf(*x).getShape() == shape)
      return x;
    auto type = mlir::RankedTensorType::get(shape, typeOf(*x).getElementType());
    return ic.create<dist::BroadcastOp>(node, type, *x);
  }
  V cast(V x, mlir::Type element) {
    if (mlir::failed(x))
      return mlir::failure();
    if (typeOf(*x).getElementType() == element)
      return x;
    auto type = mlir::RankedTensorType::get(typeOf(*x).getShape(), element);
    return ic.create<dist::CastOp>(node, type, *x);
  }
  V gatherElements(V data, V indices, int64_t axis) {
    if (mlir::failed(data) || mlir::failed(indices))
      return mlir::failure();
    return ic.create<dist::GatherElementsOp>(
        node, *data, *indices, ic.builder.getI64IntegerAttr(axis));
  }
  V gather(V data, V indices, int64_t axis) {
    if (mlir::failed(data) || mlir::failed(indices))
      return mlir::failure();
    return ic.create<dist::GatherOp>(node, *data, *indices,
                                     ic.builder.getI64IntegerAttr(axis));
  }
  V concat(llvm::ArrayRef<V> parts, int64_t axis) {
    llvm::SmallVector<mlir::Value> values;
    for (const V &part : parts) {
      if (mlir::failed(part))
        return mlir::failure();
      values.push_back(*part);
    }
    return ic.create<dist::ConcatOp>(node, mlir::ValueRange(values),
                                     ic.builder.getI64IntegerAttr(axis));
  }
  /// The block of `x` of `sizes` at `offsets`, every `strides`-th element
  /// along each dim (all 1 when empty).
  V slice(V x, llvm::ArrayRef<int64_t> offsets, llvm::ArrayRef<int64_t> sizes,
          llvm::ArrayRef<int64_t> strides = {}) {
    if (mlir::failed(x))
      return mlir::failure();
    llvm::SmallVector<int64_t> steps(strides);
    if (steps.empty())
      steps.assign(sizes.size(), 1);
    if (typeOf(*x).getShape() == sizes)
      return x;
    auto type = mlir::RankedTensorType::get(sizes, typeOf(*x).getElementType());
    return ic.create<dist::SliceOp>(node, type, *x,
                                    ic.builder.getDenseI64ArrayAttr(offsets),
                                    ic.builder.getDenseI64ArrayAttr(steps));
  }
  /// Element `i` of a 1-D tensor, as a rank-0 tensor.
  V element(V x, int64_t i) {
    if (mlir::failed(x))
      return mlir::failure();
    auto type = mlir::RankedTensorType::get({1}, typeOf(*x).getElementType());
    V one = ic.create<dist::SliceOp>(node, type, *x,
                                     ic.builder.getDenseI64ArrayAttr({i}),
                                     ic.builder.getDenseI64ArrayAttr({1}));
    return reshape(one, {});
  }

  /// A rank-0 constant of `element` holding `attr`.
  mlir::Value constant(mlir::Type element, mlir::Attribute attr) {
    auto type = mlir::RankedTensorType::get({}, element);
    return ic.createConstant(ic.getLoc(node),
                             mlir::DenseElementsAttr::get(type, attr));
  }
  /// A rank-0 constant of `element` (a float or an integer type); for an
  /// integer type, `value` rounded toward zero and clamped to its range
  /// (NaN is 0).
  mlir::Value scalar(mlir::Type element, double value) {
    if (mlir::isa<mlir::FloatType>(element))
      return constant(element, ic.builder.getFloatAttr(element, value));
    unsigned width = element.getIntOrFloatBitWidth();
    double lo = width >= 64 ? -9223372036854775808.0
                            : -std::ldexp(1.0, static_cast<int>(width) - 1);
    double hi = -lo - 1;
    int64_t v = std::isnan(value) ? 0
                : value <= lo     ? static_cast<int64_t>(lo)
                : value >= hi
                    ? (width >= 64 ? INT64_MAX : static_cast<int64_t>(hi))
                    : static_cast<int64_t>(value);
    return intScalar(element, v);
  }
  /// A rank-0 integer constant of `element`, `value` clamped to its range.
  mlir::Value intScalar(mlir::Type element, int64_t value) {
    unsigned width = element.getIntOrFloatBitWidth();
    if (width < 64) {
      int64_t hi = (int64_t{1} << (width - 1)) - 1;
      value = std::clamp<int64_t>(value, -hi - 1, hi);
    }
    return constant(
        element, ic.builder.getIntegerAttr(
                     element, llvm::APInt(width, static_cast<uint64_t>(value),
                                          /*isSigned=*/true)));
  }
  /// Whether `value` is a value of the integer type `element`.
  static bool fits(mlir::Type element, int64_t value) {
    unsigned width = element.getIntOrFloatBitWidth();
    return width >= 64 || (value >= -(int64_t{1} << (width - 1)) &&
                           value < (int64_t{1} << (width - 1)));
  }
  /// The i64 constant 0, 1, ..., n-1 along `axis` of a tensor of `rank`
  /// whose other dims are 1 (at most kMaxIndexRange values: it is a
  /// constant of the program).
  V iota(int64_t n, int64_t axis, int64_t rank) {
    if (n > kMaxIndexRange)
      return ic.emitError(node)
             << "needs a range of " << n << " indices; at most "
             << kMaxIndexRange << " are supported";
    llvm::SmallVector<int64_t> shape(rank, 1);
    shape[axis] = n;
    llvm::SmallVector<int64_t> values(n);
    std::iota(values.begin(), values.end(), 0);
    auto type = mlir::RankedTensorType::get(shape, ic.builder.getI64Type());
    return ic.createConstant(
        ic.getLoc(node),
        mlir::DenseElementsAttr::get(type, llvm::ArrayRef(values)));
  }

  /// The most values of an index range or a per-position table that a
  /// lowering makes a constant of the program (ArgMax's positions, Resize's
  /// taps).
  static constexpr int64_t kMaxIndexRange = int64_t{1} << 24;
  /// The most steps unrolled into the program: an RNN's sequence, a Loop's
  /// iterations, a Scan's positions.
  static constexpr int64_t kMaxUnrolledSteps = 16384;

  mlir::LogicalResult bind(int index, V value) {
    if (mlir::failed(value))
      return mlir::failure();
    ic.setOutput(node, index, *value);
    return mlir::success();
  }
};

/// Whether output `index` of `node` is asked for.
inline bool wantsOutput(const onnx::NodeProto &node, int index) {
  return node.output_size() > index && !node.output(index).empty();
}

inline mlir::FailureOr<mlir::Value>
requireFloat(ImportContext &ic, const onnx::NodeProto &node, mlir::Value x,
             llvm::StringRef what = "the input") {
  mlir::Type element = typeOf(x).getElementType();
  if (!mlir::isa<mlir::FloatType>(element))
    return ic.emitError(node)
           << "expects float elements in " << what << ", found " << element;
  return x;
}

/// The one number that input `index` holds at compile time, as a double
/// (finite, within +-1e18).
inline mlir::FailureOr<double> requireScalarNumber(ImportContext &ic,
                                                   const onnx::NodeProto &node,
                                                   int index,
                                                   llvm::StringRef what) {
  mlir::FailureOr<mlir::DenseElementsAttr> value =
      ic.requireConstantInput(node, index, what);
  if (mlir::failed(value))
    return mlir::failure();
  if (value->getNumElements() != 1)
    return ic.emitError(node) << "expects " << what << " to hold one value, "
                              << "found " << value->getNumElements();
  double d = value->getElementType().isInteger()
                 ? static_cast<double>(
                       (*value->value_begin<llvm::APInt>()).getSExtValue())
                 : (*value->value_begin<llvm::APFloat>()).convertToDouble();
  if (!std::isfinite(d) || std::fabs(d) > 1e18)
    return ic.emitError(node) << "expects " << what << " to be finite and "
                              << "within 1e18, found " << d;
  return d;
}

/// A scalar known at compile time (an integer or a float) as an integer.
inline mlir::FailureOr<int64_t> requireScalarInput(ImportContext &ic,
                                                   const onnx::NodeProto &node,
                                                   int index,
                                                   llvm::StringRef what) {
  std::optional<mlir::DenseElementsAttr> value =
      ic.getConstantInput(node, index);
  if (value && value->getNumElements() == 1 &&
      value->getElementType().isInteger())
    return (*value->value_begin<llvm::APInt>()).getSExtValue();
  mlir::FailureOr<double> number = requireScalarNumber(ic, node, index, what);
  if (mlir::failed(number))
    return mlir::failure();
  return static_cast<int64_t>(*number);
}

} // namespace distopt::onnx_import

#endif // DISTOPT_LIB_IMPORT_ONNX_COMPOSER_H
