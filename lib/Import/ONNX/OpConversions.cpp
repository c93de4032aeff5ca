//===- OpConversions.cpp - one converter per ONNX operator ----------------===//
//
// Each converter turns one ONNX node into dist ops. Ops are created with
// ImportContext::create, which checks them first (an op whose shapes do not
// fit together is an error at the node) and folds them, so that shape
// computations on known shapes fold into constants while the graph is
// imported. Converters are keyed by the opset in
// which the operator took the form they handle (inputs that used to be
// attributes, changed defaults), as in torch-mlir's ONNX importer.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include "distopt/Dialect/Dist/FoldLimits.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;
using namespace distopt::onnx_import;
using Node = onnx::NodeProto;

namespace {

/// The product of the dims of a type that exists (it cannot overflow).
int64_t product(ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

/// The product of dims that a model gives; nothing when it overflows.
std::optional<int64_t> checkedProduct(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n))
      return std::nullopt;
  return n;
}

FailureOr<Value> reshape(ImportContext &ic, const Node &node, Value v,
                         ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(v).getElementType());
  return ic.create<ReshapeOp>(node, type, v);
}

/// Binds output `index` of `node` to `value` when it was created.
LogicalResult bind(ImportContext &ic, const Node &node, int index,
                   FailureOr<Value> value) {
  if (failed(value))
    return failure();
  ic.setOutput(node, index, *value);
  return success();
}

/// Converter of an elementwise unary op.
ConvertFn unary(UnaryKind kind) {
  return [kind](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    return bind(ic, node, 0,
                ic.create<UnaryOp>(node, kind, *x, FloatAttr(), FloatAttr()));
  };
}

/// A float attribute of an activation: its ONNX name and default.
struct ActivationParam {
  const char *name;
  float defaultValue;
};

/// Converter of an activation with parameters: ONNX's float attributes
/// `alpha` and `beta` (defaults as the ONNX spec gives them) become
/// dist.unary's alpha and beta.
ConvertFn activation(UnaryKind kind, ActivationParam alpha,
                     std::optional<ActivationParam> beta = std::nullopt) {
  return [=](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    Builder &b = ic.builder;
    FloatAttr alphaAttr = b.getF32FloatAttr(
        ic.getFloatAttr(node, alpha.name, alpha.defaultValue));
    FloatAttr betaAttr = beta ? b.getF32FloatAttr(ic.getFloatAttr(
                                    node, beta->name, beta->defaultValue))
                              : FloatAttr();
    return bind(ic, node, 0,
                ic.create<UnaryOp>(node, kind, *x, alphaAttr, betaAttr));
  };
}

/// A rank-0 constant 0 of `element`.
Value zeroScalar(ImportContext &ic, const Node &node, Type element) {
  auto type = RankedTensorType::get({}, element);
  return ic.createConstant(
      ic.getLoc(node),
      DenseElementsAttr::get(type, ic.builder.getZeroAttr(element)));
}

/// PRelu as `x > 0 ? x : slope * x`, with `slope` broadcast to `x`: three
/// elementwise ops whose sharding and gradient rules exist (the slope's
/// gradient sums over the dims it is broadcast along).
LogicalResult convertPRelu(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0), slope = ic.getInput(node, 1);
  if (failed(x) || failed(slope))
    return failure();
  FailureOr<Value> scaled =
      ic.create<BinaryOp>(node, BinaryKind::Mul, *x, *slope);
  if (failed(scaled))
    return failure();
  if (typeOf(*scaled) != typeOf(*x))
    return ic.emitError(node)
           << "slope " << typeOf(*slope) << " does not broadcast to the input "
           << typeOf(*x);
  FailureOr<Value> positive =
      ic.create<CompareOp>(node, CompareKind::Gt, *x,
                           zeroScalar(ic, node, typeOf(*x).getElementType()));
  if (failed(positive))
    return failure();
  return bind(ic, node, 0, ic.create<SelectOp>(node, *positive, *x, *scaled));
}

/// Trilu's diagonal offset `k` (input #1, 0 when absent), which must be known
/// at compile time.
FailureOr<int64_t> triluOffset(ImportContext &ic, const Node &node) {
  if (ic.numInputs(node) < 2 || node.input(1).empty())
    return 0;
  FailureOr<DenseElementsAttr> k =
      ic.requireConstantInput(node, 1, "the diagonal offset k");
  if (failed(k))
    return failure();
  if (!k->getElementType().isInteger(64) || k->getNumElements() != 1)
    return ic.emitError(node)
           << "expects k to be one int64, found " << k->getType();
  return k->getSplatValue<APInt>().getSExtValue();
}

/// Trilu: the elements of the last two dims (N x M) on and above (`upper`)
/// or on and below diagonal `k` are kept, the others zeroed, by
/// `select(mask, x, 0)`. The N x M mask is not a constant: it is the
/// comparison of a column of row indices (N x 1, each plus k) with a row of
/// column indices (1 x M), which the runtime evaluates, so that a 2048 x
/// 2048 causal mask costs two constants of 2048 indices. The mask broadcasts
/// over the batch dims, which stay free to split.
LogicalResult convertTrilu(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  FailureOr<int64_t> k = triluOffset(ic, node);
  if (failed(x) || failed(k))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (type.getRank() < 2)
    return ic.emitError(node)
           << "expects an input of rank >= 2, found rank " << type.getRank();
  int64_t rows = type.getDimSize(type.getRank() - 2);
  int64_t cols = type.getDimSize(type.getRank() - 1);
  // Beyond [-rows, cols] every k keeps all or nothing; clamping keeps
  // i + k within int64.
  int64_t offset = std::clamp(*k, -rows, cols);
  // The index constants count against the import's memory limit, as the
  // tensors it reads do.
  uint64_t bytes;
  if (__builtin_mul_overflow(uint64_t(rows) + uint64_t(cols), sizeof(int64_t),
                             &bytes) ||
      bytes > ic.maxBytes - std::min(ic.bytesRead, ic.maxBytes))
    return ic.emitError(node)
           << "needs " << rows << " + " << cols
           << " indices for its mask, which with the " << ic.bytesRead
           << " bytes of tensors read before is more than the limit of "
           << ic.maxBytes << " bytes (--max-memory)";
  ic.bytesRead += bytes;
  Type i64 = ic.builder.getI64Type();
  SmallVector<int64_t> rowIndex(rows), colIndex(cols);
  for (int64_t i = 0; i < rows; ++i)
    rowIndex[i] = i + offset;
  std::iota(colIndex.begin(), colIndex.end(), int64_t{0});
  Location loc = ic.getLoc(node);
  Value rowValues = ic.createConstant(
      loc, DenseElementsAttr::get(RankedTensorType::get({rows, 1}, i64),
                                  ArrayRef<int64_t>(rowIndex)));
  Value colValues = ic.createConstant(
      loc, DenseElementsAttr::get(RankedTensorType::get({1, cols}, i64),
                                  ArrayRef<int64_t>(colIndex)));
  // upper keeps j >= i + k, lower keeps j <= i + k.
  bool upper = ic.getIntAttr(node, "upper", 1) != 0;
  FailureOr<Value> mask = ic.create<CompareOp>(
      node, upper ? CompareKind::Ge : CompareKind::Le, colValues, rowValues);
  if (failed(mask))
    return failure();
  return bind(ic, node, 0,
              ic.create<SelectOp>(node, *mask, *x,
                                  zeroScalar(ic, node, type.getElementType())));
}

/// Converter of an elementwise binary op; variadic ops (Max, Min, Sum) fold
/// their inputs from the left.
ConvertFn binary(BinaryKind kind) {
  return [kind](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> acc = ic.getInput(node, 0);
    if (failed(acc))
      return failure();
    for (int i = 1, e = ic.numInputs(node); i < e; ++i) {
      FailureOr<Value> rhs = ic.getInput(node, i);
      if (failed(rhs))
        return failure();
      // Pow may take an exponent of another type: bring it to the base's.
      Type element = typeOf(*acc).getElementType();
      if (kind == BinaryKind::Pow && typeOf(*rhs).getElementType() != element)
        rhs = ic.create<CastOp>(
            node, RankedTensorType::get(typeOf(*rhs).getShape(), element),
            *rhs);
      if (failed(rhs))
        return failure();
      acc = ic.create<BinaryOp>(node, kind, *acc, *rhs);
      if (failed(acc))
        return failure();
    }
    ic.setOutput(node, 0, *acc);
    return success();
  };
}

ConvertFn compare(CompareKind kind) {
  return [kind](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> lhs = ic.getInput(node, 0), rhs = ic.getInput(node, 1);
    if (failed(lhs) || failed(rhs))
      return failure();
    return bind(ic, node, 0, ic.create<CompareOp>(node, kind, *lhs, *rhs));
  };
}

LogicalResult convertIdentity(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  ic.setOutput(node, 0, *x);
  return success();
}

LogicalResult convertDropout(ImportContext &ic, const Node &node) {
  // Inference: the identity, and a mask that keeps everything. Training
  // mode (opset 12's third input) drops at random and is not supported.
  if (ic.numInputs(node) > 2) {
    std::optional<DenseElementsAttr> training = ic.getConstantInput(node, 2);
    if (!training || !training->getElementType().isInteger(1) ||
        training->getNumElements() != 1 || training->getSplatValue<bool>())
      return ic.emitError(node) << "training mode is not supported";
  }
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  ic.setOutput(node, 0, *x);
  if (node.output_size() > 1 && !node.output(1).empty()) {
    auto maskType =
        RankedTensorType::get(typeOf(*x).getShape(), ic.builder.getI1Type());
    ic.setOutput(node, 1,
                 ic.createConstant(ic.getLoc(node),
                                   DenseElementsAttr::get(maskType, true)));
  }
  return success();
}

LogicalResult convertCast(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  int64_t to = ic.getIntAttr(node, "to", 0);
  Type element = convertElementType(ic.builder.getContext(), to);
  if (!element)
    return ic.emitError(node) << "cast to unsupported element type "
                              << onnxElementTypeName(to);
  auto type = RankedTensorType::get(typeOf(*x).getShape(), element);
  return bind(ic, node, 0, ic.create<CastOp>(node, type, *x));
}

LogicalResult convertWhere(ImportContext &ic, const Node &node) {
  FailureOr<Value> c = ic.getInput(node, 0), t = ic.getInput(node, 1),
                   f = ic.getInput(node, 2);
  if (failed(c) || failed(t) || failed(f))
    return failure();
  return bind(ic, node, 0, ic.create<SelectOp>(node, *c, *t, *f));
}

LogicalResult convertMatMul(ImportContext &ic, const Node &node) {
  FailureOr<Value> a = ic.getInput(node, 0), b = ic.getInput(node, 1);
  if (failed(a) || failed(b))
    return failure();
  // 1-D operands are promoted to matrices, and the added dim removed again.
  FailureOr<Value> lhs = *a, rhs = *b;
  bool lhsVector = typeOf(*lhs).getRank() == 1;
  bool rhsVector = typeOf(*rhs).getRank() == 1;
  if (lhsVector)
    lhs = reshape(ic, node, *lhs, {1, typeOf(*lhs).getDimSize(0)});
  if (rhsVector)
    rhs = reshape(ic, node, *rhs, {typeOf(*rhs).getDimSize(0), 1});
  if (failed(lhs) || failed(rhs))
    return failure();
  FailureOr<Value> result = ic.create<MatMulOp>(node, *lhs, *rhs, Value());
  if (failed(result))
    return failure();
  SmallVector<int64_t> shape(typeOf(*result).getShape());
  if (lhsVector)
    shape.erase(shape.end() - 2);
  if (rhsVector)
    shape.pop_back();
  if (lhsVector || rhsVector)
    result = reshape(ic, node, *result, shape);
  return bind(ic, node, 0, result);
}

LogicalResult convertGemm(ImportContext &ic, const Node &node) {
  FailureOr<Value> a = ic.getInput(node, 0), b = ic.getInput(node, 1);
  if (failed(a) || failed(b))
    return failure();
  Value c = ic.getOptionalInput(node, 2);
  return bind(ic, node, 0,
              ic.create<GemmOp>(node, *a, *b, c,
                                ic.getIntAttr(node, "transA", 0) != 0,
                                ic.getIntAttr(node, "transB", 0) != 0,
                                APFloat(ic.getFloatAttr(node, "alpha", 1.0f)),
                                APFloat(ic.getFloatAttr(node, "beta", 1.0f))));
}

/// Pads of a 2-D window from ONNX's `pads` or `auto_pad`.
FailureOr<SmallVector<int64_t>>
windowPads(ImportContext &ic, const Node &node, ArrayRef<int64_t> inputHW,
           ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
           ArrayRef<int64_t> dilations) {
  // The window's own attributes first: they size and divide what follows.
  auto isPositive = [](int64_t v) { return v > 0; };
  for (auto [what, values] :
       {std::pair<const char *, ArrayRef<int64_t>>{"kernel_shape", kernel},
        {"strides", strides},
        {"dilations", dilations}})
    if (values.size() != 2 || !llvm::all_of(values, isPositive))
      return ic.emitError(node) << "expects 2 positive " << what << ", found "
                                << values.size() << " values";
  std::string autoPad = ic.getStringAttr(node, "auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    SmallVector<int64_t> pads =
        ic.getIntsAttr(node, "pads").value_or(SmallVector<int64_t>{0, 0, 0, 0});
    if (pads.size() != 4)
      return ic.emitError(node) << "expects 4 pads, found " << pads.size();
    return pads;
  }
  if (autoPad == "VALID")
    return SmallVector<int64_t>{0, 0, 0, 0};
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return ic.emitError(node) << "unknown auto_pad '" << autoPad << "'";
  SmallVector<int64_t> pads(4, 0);
  for (int d = 0; d < 2; ++d) {
    int64_t out = (inputHW[d] + strides[d] - 1) / strides[d];
    int64_t span = (kernel[d] - 1) * dilations[d] + 1;
    int64_t total =
        std::max<int64_t>(0, (out - 1) * strides[d] + span - inputHW[d]);
    int64_t small = total / 2, large = total - small;
    pads[d] = autoPad == "SAME_UPPER" ? small : large;
    pads[d + 2] = autoPad == "SAME_UPPER" ? large : small;
  }
  return pads;
}

LogicalResult convertConv(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0), w = ic.getInput(node, 1);
  if (failed(x) || failed(w))
    return failure();
  Value bias = ic.getOptionalInput(node, 2);
  if (typeOf(*x).getRank() != 4)
    return ic.emitError(node)
           << "only 1-D, 2-D and 3-D convolutions (3-D to 5-D input) are "
              "supported, found rank "
           << typeOf(*x).getRank();
  if (typeOf(*w).getRank() != 4)
    return ic.emitError(node)
           << "expects a 4-D weight, found rank " << typeOf(*w).getRank();
  ArrayRef<int64_t> wShape = typeOf(*w).getShape();
  SmallVector<int64_t> kernel =
      ic.getIntsAttr(node, "kernel_shape")
          .value_or(SmallVector<int64_t>{wShape[2], wShape[3]});
  SmallVector<int64_t> strides =
      ic.getIntsAttr(node, "strides").value_or(SmallVector<int64_t>{1, 1});
  SmallVector<int64_t> dilations =
      ic.getIntsAttr(node, "dilations").value_or(SmallVector<int64_t>{1, 1});
  FailureOr<SmallVector<int64_t>> pads =
      windowPads(ic, node, typeOf(*x).getShape().drop_front(2), kernel,
                 strides, dilations);
  if (failed(pads))
    return failure();
  Builder &b = ic.builder;
  return bind(ic, node, 0,
              ic.create<Conv2DOp>(
                  node, *x, *w, bias, b.getDenseI64ArrayAttr(strides),
                  b.getDenseI64ArrayAttr(*pads),
                  b.getDenseI64ArrayAttr(dilations),
                  b.getI64IntegerAttr(ic.getIntAttr(node, "group", 1))));
}

ConvertFn pool(PoolKind kind) {
  return [kind](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    if (typeOf(*x).getRank() != 4)
      return ic.emitError(node) << "only 1-D, 2-D and 3-D pooling (3-D to "
                                   "5-D input) is supported, found rank "
                                << typeOf(*x).getRank();
    if (node.output_size() > 1 && !node.output(1).empty())
      return ic.emitError(node) << "the Indices output is not supported";
    std::optional<SmallVector<int64_t>> kernel =
        ic.getIntsAttr(node, "kernel_shape");
    if (!kernel || kernel->size() != 2)
      return ic.emitError(node) << "expects a 2-D kernel_shape";
    SmallVector<int64_t> strides =
        ic.getIntsAttr(node, "strides").value_or(SmallVector<int64_t>{1, 1});
    SmallVector<int64_t> dilations =
        ic.getIntsAttr(node, "dilations").value_or(SmallVector<int64_t>{1, 1});
    FailureOr<SmallVector<int64_t>> pads =
        windowPads(ic, node, typeOf(*x).getShape().drop_front(2), *kernel,
                   strides, dilations);
    if (failed(pads))
      return failure();
    Builder &b = ic.builder;
    return bind(
        ic, node, 0,
        ic.create<Pool2DOp>(node, kind, *x, b.getDenseI64ArrayAttr(*kernel),
                            b.getDenseI64ArrayAttr(strides),
                            b.getDenseI64ArrayAttr(*pads),
                            b.getDenseI64ArrayAttr(dilations),
                            ic.getIntAttr(node, "ceil_mode", 0) != 0,
                            ic.getIntAttr(node, "count_include_pad", 0) != 0));
  };
}

/// Pooling of a 3-D window as two 2-D poolings: over H x W with N x C*D as
/// the channels, then over D (a window of D x 1 on N x C x D x H'*W'). Max
/// and average (the divisor of a window, with or without the padding, is
/// the product of the per-axis counts) are separable, so this is exact.
ConvertFn pool3DAsTwo2D(ConvertFn pool2D) {
  return [pool2D](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    if (typeOf(*x).getRank() != 5)
      return pool2D(ic, node);
    if (node.output_size() > 1 && !node.output(1).empty())
      return ic.emitError(node) << "the Indices output is not supported";
    std::optional<SmallVector<int64_t>> kernel =
        ic.getIntsAttr(node, "kernel_shape");
    SmallVector<int64_t> strides =
        ic.getIntsAttr(node, "strides").value_or(SmallVector<int64_t>{1, 1, 1});
    SmallVector<int64_t> dilations =
        ic.getIntsAttr(node, "dilations")
            .value_or(SmallVector<int64_t>{1, 1, 1});
    SmallVector<int64_t> pads =
        ic.getIntsAttr(node, "pads").value_or(SmallVector<int64_t>(6, 0));
    if (!kernel || kernel->size() != 3 || strides.size() != 3 ||
        dilations.size() != 3 || pads.size() != 6)
      return ic.emitError(node) << "expects a 3-D kernel_shape with 3 strides, "
                                   "3 dilations and 6 pads";
    ArrayRef<int64_t> s = typeOf(*x).getShape();
    int64_t n = s[0], ch = s[1], d = s[2], h = s[3], w = s[4];
    FailureOr<Value> planes = reshape(ic, node, *x, {n, ch * d, h, w});
    if (failed(planes))
      return failure();
    FailureOr<Value> hw =
        convertAs(ic, node, pool2D, *planes,
                  {{"kernel_shape", {(*kernel)[1], (*kernel)[2]}},
                   {"strides", {strides[1], strides[2]}},
                   {"dilations", {dilations[1], dilations[2]}},
                   {"pads", {pads[1], pads[2], pads[4], pads[5]}}});
    if (failed(hw))
      return failure();
    int64_t h2 = typeOf(*hw).getDimSize(2), w2 = typeOf(*hw).getDimSize(3);
    FailureOr<Value> columns = reshape(ic, node, *hw, {n, ch, d, h2 * w2});
    if (failed(columns))
      return failure();
    FailureOr<Value> depth = convertAs(ic, node, pool2D, *columns,
                                       {{"kernel_shape", {(*kernel)[0], 1}},
                                        {"strides", {strides[0], 1}},
                                        {"dilations", {dilations[0], 1}},
                                        {"pads", {pads[0], 0, pads[3], 0}}});
    if (failed(depth))
      return failure();
    return bind(ic, node, 0,
                reshape(ic, node, *depth,
                        {n, ch, typeOf(*depth).getDimSize(2), h2, w2}));
  };
}

ConvertFn globalPool(PoolKind kind) {
  return [kind](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    FailureOr<SmallVector<int64_t>> spatial = spatialAxes(ic, node, *x);
    if (failed(spatial))
      return failure();
    if (typeOf(*x).getRank() == 4)
      return bind(ic, node, 0, ic.create<GlobalPoolOp>(node, kind, *x));
    // Other than 2-D: a mean or max over the spatial dims.
    return bind(ic, node, 0,
                ic.create<ReduceOp>(node,
                                    kind == PoolKind::Avg ? ReduceKind::Mean
                                                          : ReduceKind::Max,
                                    *x, *spatial, /*keepDims=*/true));
  };
}

LogicalResult convertBatchNorm(ImportContext &ic, const Node &node) {
  // Inference form: y = (x - mean) / sqrt(var + eps) * scale + bias, with the
  // per-channel vectors broadcast over N x C x ...
  if (ic.getIntAttr(node, "training_mode", 0) != 0)
    return ic.emitError(node) << "training mode is not supported";
  FailureOr<Value> x = ic.getInput(node, 0), scale = ic.getInput(node, 1),
                   bias = ic.getInput(node, 2), mean = ic.getInput(node, 3),
                   var = ic.getInput(node, 4);
  if (failed(x) || failed(scale) || failed(bias) || failed(mean) ||
      failed(var))
    return failure();
  Location loc = ic.getLoc(node);
  RankedTensorType xt = typeOf(*x);
  if (xt.getRank() < 2)
    return ic.emitError(node) << "expects an input of rank >= 2";
  Type element = xt.getElementType();
  if (!isa<FloatType>(element))
    return ic.emitError(node) << "expects float elements, found " << element;
  SmallVector<int64_t> channelShape(xt.getRank() - 1, 1);
  channelShape[0] = xt.getDimSize(1);
  SmallVector<Value> channel;
  for (Value v : {*scale, *bias, *mean, *var}) {
    FailureOr<Value> c = reshape(ic, node, v, channelShape);
    if (failed(c))
      return failure();
    channel.push_back(*c);
  }
  auto eps = DenseElementsAttr::get(
      RankedTensorType::get({}, element),
      ic.builder.getFloatAttr(element,
                              ic.getFloatAttr(node, "epsilon", 1e-5f)));
  FailureOr<Value> varEps = ic.create<BinaryOp>(
      node, BinaryKind::Add, channel[3], ic.createConstant(loc, eps));
  if (failed(varEps))
    return failure();
  FailureOr<Value> inv = ic.create<UnaryOp>(node, UnaryKind::Rsqrt, *varEps,
                                            FloatAttr(), FloatAttr());
  if (failed(inv))
    return failure();
  FailureOr<Value> factor =
      ic.create<BinaryOp>(node, BinaryKind::Mul, *inv, channel[0]);
  FailureOr<Value> centered =
      ic.create<BinaryOp>(node, BinaryKind::Sub, *x, channel[2]);
  if (failed(factor) || failed(centered))
    return failure();
  FailureOr<Value> scaled =
      ic.create<BinaryOp>(node, BinaryKind::Mul, *centered, *factor);
  if (failed(scaled))
    return failure();
  return bind(ic, node, 0,
              ic.create<BinaryOp>(node, BinaryKind::Add, *scaled, channel[1]));
}

LogicalResult convertFlatten(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  int64_t rank = shape.size();
  int64_t axis = ic.getIntAttr(node, "axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return ic.emitError(node) << "axis " << axis << " out of range";
  return bind(ic, node, 0,
              reshape(ic, node, *x,
                      {product(shape.take_front(axis)),
                       product(shape.drop_front(axis))}));
}

LogicalResult convertReshape(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  FailureOr<SmallVector<int64_t>> target =
      ic.requireIntsInput(node, 1, "the target shape");
  if (failed(x) || failed(target))
    return failure();
  ArrayRef<int64_t> in = typeOf(*x).getShape();
  bool allowZero = ic.getIntAttr(node, "allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int inferred = -1;
  for (auto [i, d] : llvm::enumerate(*target)) {
    if (d == 0 && !allowZero) {
      if (i >= in.size())
        return ic.emitError(node) << "shape dim " << i
                                  << " copies a dim the input does not have";
      d = in[i];
    } else if (d == -1) {
      if (inferred >= 0)
        return ic.emitError(node) << "the target shape has two -1 dims";
      inferred = i;
      d = 1;
    } else if (d < 0) {
      return ic.emitError(node) << "invalid target dim " << d;
    }
    shape.push_back(d);
  }
  std::optional<int64_t> known = checkedProduct(shape);
  if (!known)
    return ic.emitError(node) << "the target shape has more elements than fit "
                                 "in 64 bits";
  int64_t total = product(in);
  if (inferred >= 0) {
    if (*known == 0 || total % *known != 0)
      return ic.emitError(node) << "cannot infer the -1 dim of the target "
                                   "shape for "
                                << total << " elements";
    shape[inferred] = total / *known;
  }
  if (product(shape) != total)
    return ic.emitError(node) << "the target shape holds " << product(shape)
                              << " elements, the input " << total;
  return bind(ic, node, 0, reshape(ic, node, *x, shape));
}

/// Squeeze and Unsqueeze: axes from the attribute (before opset 13) or from
/// the second input.
FailureOr<SmallVector<int64_t>> squeezeAxes(ImportContext &ic, const Node &node,
                                            bool fromInput) {
  if (fromInput) {
    if (ic.numInputs(node) < 2)
      return SmallVector<int64_t>{};
    return ic.requireIntsInput(node, 1, "the axes");
  }
  return ic.getIntsAttr(node, "axes").value_or(SmallVector<int64_t>{});
}

ConvertFn squeeze(bool axesFromInput) {
  return [axesFromInput](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    FailureOr<SmallVector<int64_t>> axes = squeezeAxes(ic, node, axesFromInput);
    if (failed(x) || failed(axes))
      return failure();
    ArrayRef<int64_t> in = typeOf(*x).getShape();
    SmallVector<bool> drop(in.size(), false);
    if (axes->empty()) {
      for (auto [i, d] : llvm::enumerate(in))
        drop[i] = d == 1;
    }
    for (int64_t axis : *axes) {
      FailureOr<int64_t> a = ic.normalizeAxis(node, axis, in.size());
      if (failed(a))
        return failure();
      if (in[*a] != 1)
        return ic.emitError(node) << "cannot squeeze dim " << *a << " of size "
                                  << in[*a];
      drop[*a] = true;
    }
    SmallVector<int64_t> shape;
    for (auto [i, d] : llvm::enumerate(in))
      if (!drop[i])
        shape.push_back(d);
    return bind(ic, node, 0, reshape(ic, node, *x, shape));
  };
}

ConvertFn unsqueeze(bool axesFromInput) {
  return [axesFromInput](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    FailureOr<SmallVector<int64_t>> axes = squeezeAxes(ic, node, axesFromInput);
    if (failed(x) || failed(axes))
      return failure();
    ArrayRef<int64_t> in = typeOf(*x).getShape();
    int64_t rank = in.size() + axes->size();
    SmallVector<bool> inserted(rank, false);
    for (int64_t axis : *axes) {
      FailureOr<int64_t> a = ic.normalizeAxis(node, axis, rank);
      if (failed(a))
        return failure();
      if (inserted[*a])
        return ic.emitError(node) << "axis " << axis << " given twice";
      inserted[*a] = true;
    }
    SmallVector<int64_t> shape;
    size_t next = 0;
    for (int64_t i = 0; i < rank; ++i)
      shape.push_back(inserted[i] ? 1 : in[next++]);
    return bind(ic, node, 0, reshape(ic, node, *x, shape));
  };
}

LogicalResult convertTranspose(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  SmallVector<int64_t> perm;
  if (std::optional<SmallVector<int64_t>> p = ic.getIntsAttr(node, "perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  return bind(
      ic, node, 0,
      ic.create<TransposeOp>(node, *x, ic.builder.getDenseI64ArrayAttr(perm)));
}

LogicalResult convertConcat(ImportContext &ic, const Node &node) {
  SmallVector<Value> inputs;
  for (int i = 0, e = ic.numInputs(node); i < e; ++i) {
    FailureOr<Value> v = ic.getInput(node, i);
    if (failed(v))
      return failure();
    // ONNX allows empty pieces; they contribute nothing.
    if (typeOf(*v).getNumElements() == 0 && e > 1)
      continue;
    inputs.push_back(*v);
  }
  if (inputs.empty())
    return ic.emitError(node) << "expects at least one input";
  FailureOr<int64_t> axis = ic.normalizeAxis(node, ic.getIntAttr(node, "axis", 0),
                                             typeOf(inputs[0]).getRank());
  if (failed(axis))
    return failure();
  return bind(ic, node, 0,
              ic.create<ConcatOp>(node, ValueRange(inputs),
                                  ic.builder.getI64IntegerAttr(*axis)));
}

/// Pads `x` on every axis by `pads` ([begin_0, ..., end_0, ...], none
/// negative) with `value`: a constant block concatenated before and after `x`
/// along each padded axis, so that the ops already there (and their gradient
/// rules) carry it.
FailureOr<Value> padWithConstant(ImportContext &ic, const Node &node, Value x,
                                 ArrayRef<int64_t> pads, Attribute value) {
  int64_t rank = typeOf(x).getRank();
  for (int64_t axis = 0; axis < rank; ++axis) {
    int64_t before = pads[axis], after = pads[rank + axis];
    if (before == 0 && after == 0)
      continue;
    RankedTensorType type = typeOf(x);
    SmallVector<Value> pieces;
    for (int64_t count : {before, int64_t{-1}, after}) {
      if (count < 0) {
        pieces.push_back(x);
        continue;
      }
      if (count == 0)
        continue;
      SmallVector<int64_t> shape(type.getShape());
      shape[axis] = count;
      FailureOr<RankedTensorType> blockType =
          ic.getTensorType(node, shape, type.getElementType());
      if (failed(blockType))
        return failure();
      pieces.push_back(ic.createConstant(
          ic.getLoc(node), DenseElementsAttr::get(*blockType, value)));
    }
    FailureOr<Value> padded = ic.create<ConcatOp>(
        node, ValueRange(pieces), ic.builder.getI64IntegerAttr(axis));
    if (failed(padded))
      return failure();
    x = *padded;
  }
  return x;
}

/// The pads of a Pad node for every axis of a rank-`rank` input: from the
/// attribute before opset 11, from input 1 after.
FailureOr<SmallVector<int64_t>> padAmounts(ImportContext &ic, const Node &node,
                                           int64_t rank) {
  SmallVector<int64_t> pads;
  if (ic.opset < 11) {
    std::optional<SmallVector<int64_t>> a = ic.getIntsAttr(node, "pads");
    if (!a)
      return ic.emitError(node) << "expects the 'pads' attribute";
    pads = *a;
  } else {
    FailureOr<SmallVector<int64_t>> p =
        ic.requireIntsInput(node, 1, "the pads");
    if (failed(p))
      return failure();
    pads = *p;
  }
  // Opset 18's axes input is not there: the ONNX checker linked in rejects
  // a Pad node with four inputs.
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return ic.emitError(node)
           << "expects " << 2 * rank
           << " pads (begin and end of each axis), found " << pads.size();
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return ic.emitError(node) << "negative pads (cropping) are not supported";
  return pads;
}

LogicalResult convertPad(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  std::string mode = ic.getStringAttr(node, "mode", "constant");
  if (mode != "constant")
    return ic.emitError(node)
           << "only mode 'constant' is supported, found '" << mode << "'";
  RankedTensorType type = typeOf(*x);
  FailureOr<SmallVector<int64_t>> pads = padAmounts(ic, node, type.getRank());
  if (failed(pads))
    return failure();
  Type element = type.getElementType();
  Attribute value = ic.builder.getZeroAttr(element);
  if (ic.opset < 11) {
    // Before opset 11 Pad takes float tensors only, and a float 'value'.
    if (auto floatType = dyn_cast<FloatType>(element))
      value = ic.builder.getFloatAttr(floatType,
                                      ic.getFloatAttr(node, "value", 0.0f));
  } else if (ic.numInputs(node) > 2 && !node.input(2).empty()) {
    FailureOr<DenseElementsAttr> v =
        ic.requireConstantInput(node, 2, "the constant value");
    if (failed(v))
      return failure();
    if (v->getNumElements() != 1 || v->getElementType() != element)
      return ic.emitError(node) << "expects one constant value of the input's "
                                   "element type "
                                << element;
    value = *v->value_begin<Attribute>();
  }
  return bind(ic, node, 0, padWithConstant(ic, node, *x, *pads, value));
}

LogicalResult convertSplit(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  FailureOr<int64_t> axis =
      ic.normalizeAxis(node, ic.getIntAttr(node, "axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  int64_t size = type.getDimSize(*axis);
  int outputs = node.output_size();
  if (outputs == 0)
    return ic.emitError(node) << "expects at least one output";
  SmallVector<int64_t> sizes;
  if (ic.opset >= 13 && ic.numInputs(node) > 1) {
    FailureOr<SmallVector<int64_t>> s =
        ic.requireIntsInput(node, 1, "the split sizes");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (std::optional<SmallVector<int64_t>> s =
                 ic.getIntsAttr(node, "split")) {
    sizes = *s;
  } else {
    // Equal pieces; with opset 18's num_outputs the last may be smaller.
    int64_t piece = (size + outputs - 1) / outputs;
    for (int i = 0; i < outputs; ++i)
      sizes.push_back(std::min(piece, size - piece * i));
  }
  if (static_cast<int>(sizes.size()) != outputs ||
      std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != size ||
      llvm::any_of(sizes, [](int64_t s) { return s < 0; }))
    return ic.emitError(node) << "the split sizes do not add up to dim "
                              << *axis << " of size " << size << " over "
                              << outputs << " outputs";
  SmallVector<Type> types;
  for (int64_t s : sizes) {
    SmallVector<int64_t> shape(type.getShape());
    shape[*axis] = s;
    types.push_back(RankedTensorType::get(shape, type.getElementType()));
  }
  SmallVector<Value> results;
  if (failed(ic.createMulti<SplitOp>(results, node, TypeRange(types), *x,
                                     ic.builder.getI64IntegerAttr(*axis))))
    return failure();
  for (auto [i, r] : llvm::enumerate(results))
    ic.setOutput(node, i, r);
  return success();
}

LogicalResult convertSlice(ImportContext &ic, const Node &node) {
  // Required inputs are checked one at a time: one error per node.
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  FailureOr<SmallVector<int64_t>> starts =
      ic.requireIntsInput(node, 1, "the starts");
  if (failed(starts))
    return failure();
  FailureOr<SmallVector<int64_t>> ends = ic.requireIntsInput(node, 2, "the ends");
  if (failed(ends))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes, steps;
  if (ic.numInputs(node) > 3) {
    FailureOr<SmallVector<int64_t>> a = ic.requireIntsInput(node, 3, "the axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  }
  if (ic.numInputs(node) > 4) {
    FailureOr<SmallVector<int64_t>> s = ic.requireIntsInput(node, 4, "the steps");
    if (failed(s))
      return failure();
    steps = *s;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return ic.emitError(node) << "starts, ends, axes and steps differ in "
                                 "length";
  SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
  SmallVector<int64_t> shape(type.getShape());
  for (size_t i = 0; i < axes.size(); ++i) {
    FailureOr<int64_t> axis = ic.normalizeAxis(node, axes[i], rank);
    if (failed(axis))
      return failure();
    int64_t dim = type.getDimSize(*axis), step = steps[i];
    if (step <= 0)
      return ic.emitError(node) << "only positive steps are supported, found "
                                << step;
    auto clamp = [&](int64_t v) {
      if (v < 0)
        v += dim;
      return std::clamp<int64_t>(v, 0, dim);
    };
    int64_t start = clamp((*starts)[i]), end = clamp((*ends)[i]);
    offsets[*axis] = start;
    strides[*axis] = step;
    shape[*axis] = end > start ? (end - start + step - 1) / step : 0;
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  // An empty range takes nothing; any offset inside the dim is valid then.
  for (int64_t d = 0; d < rank; ++d)
    if (shape[d] == 0)
      offsets[d] = 0;
  return bind(ic, node, 0,
              ic.create<SliceOp>(node, resultType, *x,
                                 ic.builder.getDenseI64ArrayAttr(offsets),
                                 ic.builder.getDenseI64ArrayAttr(strides)));
}

LogicalResult convertGather(ImportContext &ic, const Node &node) {
  FailureOr<Value> data = ic.getInput(node, 0), indices = ic.getInput(node, 1);
  if (failed(data) || failed(indices))
    return failure();
  FailureOr<int64_t> axis = ic.normalizeAxis(
      node, ic.getIntAttr(node, "axis", 0), typeOf(*data).getRank());
  if (failed(axis))
    return failure();
  // An index known now must select a slice: outside [-n, n) it has no value
  // (ONNX Runtime and PyTorch raise an error), so it is one here too.
  std::optional<DenseElementsAttr> known = ic.getConstantInput(node, 1);
  if (known && known->getElementType().isInteger()) {
    int64_t n = typeOf(*data).getDimSize(*axis);
    auto values = known->getValues<APInt>();
    int64_t count =
        known->isSplat() ? std::min<int64_t>(1, known->size()) : known->size();
    for (int64_t i = 0; i < count; ++i) {
      int64_t index = values[i].getSExtValue();
      if (index < -n || index >= n)
        return ic.emitError(node)
               << "index " << index << " is out of range for axis " << *axis
               << " of size " << n << " (valid: " << -n << " to " << n - 1
               << ")";
    }
  }
  return bind(ic, node, 0,
              ic.create<GatherOp>(node, *data, *indices,
                                  ic.builder.getI64IntegerAttr(*axis)));
}

/// Checks the indices of input `index` of `node` against a dim of `size`
/// when they are known now: outside [-n, n) they have no value (ONNX
/// Runtime and PyTorch raise an error), so they are an error here too.
LogicalResult checkKnownIndices(ImportContext &ic, const Node &node, int index,
                                int64_t size, int64_t axis) {
  std::optional<DenseElementsAttr> known = ic.getConstantInput(node, index);
  if (!known || !known->getElementType().isInteger())
    return success();
  auto values = known->getValues<APInt>();
  int64_t count =
      known->isSplat() ? std::min<int64_t>(1, known->size()) : known->size();
  for (int64_t i = 0; i < count; ++i) {
    int64_t value = values[i].getSExtValue();
    if (value < -size || value >= size)
      return ic.emitError(node)
             << "index " << value << " is out of range for axis " << axis
             << " of size " << size << " (valid: " << -size << " to "
             << size - 1 << ")";
  }
  return success();
}

/// TopK: k from the attribute (before opset 10) or from the second input,
/// which must be known at compile time.
LogicalResult convertTopK(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (type.getRank() == 0)
    return ic.emitError(node) << "expects an input of rank at least 1";
  FailureOr<int64_t> axis =
      ic.normalizeAxis(node, ic.getIntAttr(node, "axis", -1), type.getRank());
  if (failed(axis))
    return failure();
  int64_t k;
  if (ic.opset < 10) {
    if (!ic.findAttr(node, "k"))
      return ic.emitError(node) << "expects the 'k' attribute";
    k = ic.getIntAttr(node, "k", 0);
  } else {
    FailureOr<SmallVector<int64_t>> ks = ic.requireIntsInput(node, 1, "k");
    if (failed(ks))
      return failure();
    if (ks->size() != 1)
      return ic.emitError(node)
             << "expects one value of k, found " << ks->size();
    k = ks->front();
  }
  int64_t n = type.getDimSize(*axis);
  if (k < 0 || k > n)
    return ic.emitError(node) << "k = " << k << " is out of range for axis "
                              << *axis << " of size " << n;
  // Unsorted results may come in any order (ONNX): they come sorted.
  SmallVector<Value> results;
  if (failed(ic.createMulti<TopKOp>(
          results, node, *x, ic.builder.getI64IntegerAttr(*axis),
          ic.builder.getI64IntegerAttr(k),
          ic.getIntAttr(node, "largest", 1) == 0 ? ic.builder.getUnitAttr()
                                                 : UnitAttr())))
    return failure();
  ic.setOutput(node, 0, results[0]);
  ic.setOutput(node, 1, results[1]);
  return success();
}

LogicalResult convertGatherElements(ImportContext &ic, const Node &node) {
  FailureOr<Value> data = ic.getInput(node, 0), indices = ic.getInput(node, 1);
  if (failed(data) || failed(indices))
    return failure();
  RankedTensorType type = typeOf(*data);
  FailureOr<int64_t> axis =
      ic.normalizeAxis(node, ic.getIntAttr(node, "axis", 0), type.getRank());
  if (failed(axis) ||
      failed(checkKnownIndices(ic, node, 1, type.getDimSize(*axis), *axis)))
    return failure();
  return bind(ic, node, 0,
              ic.create<GatherElementsOp>(node, *data, *indices,
                                          ic.builder.getI64IntegerAttr(*axis)));
}

/// The `reduction` attribute of a scatter (opset 16 on; max and min from
/// opset 18).
FailureOr<ScatterReduction> scatterReduction(ImportContext &ic,
                                             const Node &node) {
  std::string name = ic.getStringAttr(node, "reduction", "none");
  std::optional<ScatterReduction> reduction = symbolizeScatterReduction(name);
  if (!reduction)
    return ic.emitError(node) << "unknown reduction '" << name
                              << "' (expected none, add, mul, max or min)";
  return *reduction;
}

LogicalResult convertScatterElements(ImportContext &ic, const Node &node) {
  FailureOr<Value> data = ic.getInput(node, 0), indices = ic.getInput(node, 1),
                   updates = ic.getInput(node, 2);
  if (failed(data) || failed(indices) || failed(updates))
    return failure();
  RankedTensorType type = typeOf(*data);
  FailureOr<int64_t> axis =
      ic.normalizeAxis(node, ic.getIntAttr(node, "axis", 0), type.getRank());
  FailureOr<ScatterReduction> reduction = scatterReduction(ic, node);
  if (failed(axis) || failed(reduction) ||
      failed(checkKnownIndices(ic, node, 1, type.getDimSize(*axis), *axis)))
    return failure();
  return bind(
      ic, node, 0,
      ic.create<ScatterElementsOp>(
          node, ScatterReductionAttr::get(ic.builder.getContext(), *reduction),
          *data, *indices, *updates, ic.builder.getI64IntegerAttr(*axis)));
}

LogicalResult convertScatterND(ImportContext &ic, const Node &node) {
  FailureOr<Value> data = ic.getInput(node, 0), indices = ic.getInput(node, 1),
                   updates = ic.getInput(node, 2);
  if (failed(data) || failed(indices) || failed(updates))
    return failure();
  FailureOr<ScatterReduction> reduction = scatterReduction(ic, node);
  if (failed(reduction))
    return failure();
  return bind(
      ic, node, 0,
      ic.create<ScatterNDOp>(node, *reduction, *data, *indices, *updates));
}

LogicalResult convertShape(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  int64_t rank = shape.size();
  int64_t start = ic.getIntAttr(node, "start", 0);
  int64_t end = ic.getIntAttr(node, "end", rank);
  auto clamp = [&](int64_t v) {
    return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank);
  };
  start = clamp(start);
  end = std::max(clamp(end), start);
  SmallVector<int64_t> dims(shape.slice(start, end - start));
  auto type = RankedTensorType::get({static_cast<int64_t>(dims.size())},
                                    ic.builder.getI64Type());
  ic.setOutput(node, 0,
               ic.createConstant(ic.getLoc(node),
                                 DenseElementsAttr::get(type, ArrayRef(dims))));
  return success();
}

LogicalResult convertSize(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  auto type = RankedTensorType::get({}, ic.builder.getI64Type());
  ic.setOutput(node, 0,
               ic.createConstant(ic.getLoc(node),
                                 DenseElementsAttr::get(
                                     type, typeOf(*x).getNumElements())));
  return success();
}

LogicalResult convertConstant(ImportContext &ic, const Node &node) {
  Location loc = ic.getLoc(node);
  OpBuilder &b = ic.builder;
  DenseElementsAttr value;
  if (const onnx::AttributeProto *a = ic.findAttr(node, "value")) {
    FailureOr<DenseElementsAttr> v = ic.readTensor(a->t(), loc);
    if (failed(v))
      return failure();
    value = *v;
  } else if (const onnx::AttributeProto *a = ic.findAttr(node, "value_float")) {
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                   a->f());
  } else if (const onnx::AttributeProto *a = ic.findAttr(node, "value_floats")) {
    SmallVector<float> v(a->floats().begin(), a->floats().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(v.size())}, b.getF32Type()),
        ArrayRef(v));
  } else if (const onnx::AttributeProto *a = ic.findAttr(node, "value_int")) {
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                   static_cast<int64_t>(a->i()));
  } else if (const onnx::AttributeProto *a = ic.findAttr(node, "value_ints")) {
    SmallVector<int64_t> v(a->ints().begin(), a->ints().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(v.size())}, b.getI64Type()),
        ArrayRef(v));
  } else {
    return ic.emitError(node) << "only tensor, float(s) and int(s) values "
                                 "are supported";
  }
  ic.setOutput(node, 0, ic.createConstant(loc, value));
  return success();
}

LogicalResult convertConstantOfShape(ImportContext &ic, const Node &node) {
  FailureOr<SmallVector<int64_t>> shape =
      ic.requireIntsInput(node, 0, "the shape");
  if (failed(shape))
    return failure();
  Location loc = ic.getLoc(node);
  Attribute element = ic.builder.getF32FloatAttr(0.0f);
  Type elementType = ic.builder.getF32Type();
  if (const onnx::AttributeProto *a = ic.findAttr(node, "value")) {
    FailureOr<DenseElementsAttr> v = ic.readTensor(a->t(), loc);
    if (failed(v))
      return failure();
    if (v->getNumElements() != 1)
      return ic.emitError(node) << "expects a one-element value";
    elementType = v->getElementType();
    element = *v->value_begin<Attribute>();
  }
  // A splat: one value whatever the shape, but the shape must be one.
  FailureOr<RankedTensorType> type =
      ic.getTensorType(node, *shape, elementType);
  if (failed(type))
    return failure();
  ic.setOutput(node, 0,
               ic.createConstant(loc, DenseElementsAttr::get(*type, element)));
  return success();
}

/// The number of elements of Range(start, limit, delta), or nothing when
/// it is not a finite number that fits in 64 bits.
std::optional<int64_t> rangeCount(double start, double limit, double delta) {
  double n = std::ceil((limit - start) / delta);
  if (std::isnan(n) || n >= 9.0e18)
    return std::nullopt;
  return std::max<int64_t>(0, static_cast<int64_t>(n));
}

std::optional<int64_t> rangeCount(int64_t start, int64_t limit, int64_t delta) {
  // ceil((limit - start) / delta) in 128 bits: no int64 overflow.
  __int128 span = static_cast<__int128>(limit) - start;
  __int128 n = span / delta + (span % delta != 0 && (span > 0) == (delta > 0));
  if (n > std::numeric_limits<int64_t>::max())
    return std::nullopt;
  return static_cast<int64_t>(std::max<__int128>(0, n));
}

/// Range is evaluated while importing (there is no dist op for it), up to
/// dist::kMaxFoldedElements elements, like every fold.
LogicalResult convertRange(ImportContext &ic, const Node &node) {
  SmallVector<DenseElementsAttr> args;
  const char *names[] = {"start", "limit", "delta"};
  for (auto [i, what] : llvm::enumerate(names)) {
    FailureOr<DenseElementsAttr> v = ic.requireConstantInput(node, i, what);
    if (failed(v))
      return failure();
    if (v->getNumElements() != 1 ||
        (!args.empty() && v->getElementType() != args.front().getElementType()))
      return ic.emitError(node)
             << what << " must be a scalar of the type of start, found "
             << v->getType();
    args.push_back(*v);
  }
  Type element = args[0].getElementType();
  bool isInt = element.isInteger();
  if (isInt ? args[2].getSplatValue<APInt>().isZero()
            : args[2].getSplatValue<APFloat>().isZero())
    return ic.emitError(node) << "delta is zero";
  auto asDouble = [](DenseElementsAttr a) {
    return a.getSplatValue<APFloat>().convertToDouble();
  };
  auto asInt = [](DenseElementsAttr a) {
    return a.getSplatValue<APInt>().getSExtValue();
  };
  std::optional<int64_t> n =
      isInt
          ? rangeCount(asInt(args[0]), asInt(args[1]), asInt(args[2]))
          : rangeCount(asDouble(args[0]), asDouble(args[1]), asDouble(args[2]));
  if (!n || *n > kMaxFoldedElements)
    return ic.emitError(node)
           << "would produce "
           << (n ? std::to_string(*n) : std::string("too many"))
           << " elements; Range is evaluated at compile time and only up to "
           << kMaxFoldedElements << " elements";
  auto type = RankedTensorType::get({*n}, element);
  SmallVector<Attribute> v;
  for (int64_t i = 0; i < *n; ++i) {
    if (isInt)
      v.push_back(ic.builder.getIntegerAttr(
          element, APInt(element.getIntOrFloatBitWidth(),
                         asInt(args[0]) + i * asInt(args[2]),
                         /*isSigned=*/true, /*implicitTrunc=*/true)));
    else
      v.push_back(ic.builder.getFloatAttr(element, asDouble(args[0]) +
                                                       i * asDouble(args[2])));
  }
  ic.setOutput(
      node, 0,
      ic.createConstant(ic.getLoc(node), DenseElementsAttr::get(type, v)));
  return success();
}

LogicalResult convertExpand(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  FailureOr<SmallVector<int64_t>> target =
      ic.requireIntsInput(node, 1, "the shape");
  if (failed(x) || failed(target))
    return failure();
  // Expand broadcasts both ways: the result is broadcast(input, shape).
  ArrayRef<int64_t> in = typeOf(*x).getShape();
  size_t rank = std::max(in.size(), target->size());
  SmallVector<int64_t> shape(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i < rank - in.size() ? 1 : in[i - (rank - in.size())];
    int64_t b = i < rank - target->size() ? 1
                                          : (*target)[i - (rank - target->size())];
    if (a != b && a != 1 && b != 1)
      return ic.emitError(node) << "shape does not broadcast with the input";
    shape[i] = a == 1 ? b : a;
  }
  auto type = RankedTensorType::get(shape, typeOf(*x).getElementType());
  return bind(ic, node, 0, ic.create<BroadcastOp>(node, type, *x));
}

ConvertFn softmax(bool log, bool singleAxis) {
  return [log, singleAxis](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    int64_t rank = type.getRank();
    FailureOr<int64_t> axis = ic.normalizeAxis(
        node, ic.getIntAttr(node, "axis", singleAxis ? -1 : 1), rank);
    if (failed(axis))
      return failure();
    if (singleAxis || *axis == rank - 1)
      return bind(ic, node, 0, ic.create<SoftmaxOp>(node, *x, *axis, log));
    // Before opset 13, softmax runs over the flattened dims axis..rank-1.
    ArrayRef<int64_t> shape = type.getShape();
    FailureOr<Value> flat = reshape(
        ic, node, *x,
        {product(shape.take_front(*axis)), product(shape.drop_front(*axis))});
    if (failed(flat))
      return failure();
    FailureOr<Value> sm = ic.create<SoftmaxOp>(node, *flat, 1, log);
    if (failed(sm))
      return failure();
    return bind(ic, node, 0, reshape(ic, node, *sm, shape));
  };
}

/// The optional Mean and InvStdDev outputs of LayerNormalization, over the
/// normalized dims `axis..rank-1`, kept as size-1 dims.
LogicalResult layerNormStats(ImportContext &ic, const Node &node, Value x,
                             int64_t axis, float epsilon) {
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> axes;
  for (int64_t d = axis; d < rank; ++d)
    axes.push_back(d);
  FailureOr<Value> mean = ic.create<ReduceOp>(
      node, ReduceKind::Mean, x, ArrayRef<int64_t>(axes), /*keep_dims=*/true);
  if (failed(mean))
    return failure();
  FailureOr<Value> centered =
      ic.create<BinaryOp>(node, BinaryKind::Sub, x, *mean);
  if (failed(centered))
    return failure();
  FailureOr<Value> squared =
      ic.create<BinaryOp>(node, BinaryKind::Mul, *centered, *centered);
  if (failed(squared))
    return failure();
  FailureOr<Value> var =
      ic.create<ReduceOp>(node, ReduceKind::Mean, *squared,
                          ArrayRef<int64_t>(axes), /*keep_dims=*/true);
  if (failed(var))
    return failure();
  Type element = typeOf(x).getElementType();
  if (!isa<FloatType>(element))
    return ic.emitError(node) << "expects float elements, found " << element;
  auto eps = DenseElementsAttr::get(RankedTensorType::get({}, element),
                                    ic.builder.getFloatAttr(element, epsilon));
  FailureOr<Value> varEps = ic.create<BinaryOp>(
      node, BinaryKind::Add, *var, ic.createConstant(ic.getLoc(node), eps));
  if (failed(varEps))
    return failure();
  ic.setOutput(node, 1, *mean);
  return bind(ic, node, 2,
              ic.create<UnaryOp>(node, UnaryKind::Rsqrt, *varEps, FloatAttr(),
                                 FloatAttr()));
}

LogicalResult convertLayerNorm(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0), scale = ic.getInput(node, 1);
  if (failed(x) || failed(scale))
    return failure();
  Value bias = ic.getOptionalInput(node, 2);
  FailureOr<int64_t> axis = ic.normalizeAxis(
      node, ic.getIntAttr(node, "axis", -1), typeOf(*x).getRank());
  if (failed(axis))
    return failure();
  float epsilon = ic.getFloatAttr(node, "epsilon", 1e-5f);
  bool wantsStats = (node.output_size() > 1 && !node.output(1).empty()) ||
                    (node.output_size() > 2 && !node.output(2).empty());
  if (wantsStats && failed(layerNormStats(ic, node, *x, *axis, epsilon)))
    return failure();
  // Scale and bias broadcast to the normalized dims; give them that shape.
  ArrayRef<int64_t> normalized = typeOf(*x).getShape().drop_front(*axis);
  auto fit = [&](Value v) -> FailureOr<Value> {
    if (typeOf(v).getShape() == normalized)
      return v;
    auto type = RankedTensorType::get(normalized, typeOf(v).getElementType());
    FailureOr<Value> in = v;
    if (typeOf(v).getRank() > static_cast<int64_t>(normalized.size()))
      in = reshape(ic, node, v, normalized);
    if (failed(in))
      return failure();
    return ic.create<BroadcastOp>(node, type, *in);
  };
  FailureOr<Value> fitScale = fit(*scale);
  FailureOr<Value> fitBias = bias ? fit(bias) : FailureOr<Value>(Value());
  if (failed(fitScale) || failed(fitBias))
    return failure();
  return bind(ic, node, 0,
              ic.create<LayerNormOp>(node, *x, *fitScale, *fitBias,
                                     ic.builder.getI64IntegerAttr(*axis),
                                     ic.builder.getF32FloatAttr(epsilon)));
}

/// Reductions: axes from the attribute, or (ReduceSum since 13, the others
/// since 18) from the second input.
ConvertFn reduce(ReduceKind kind, bool axesFromInput) {
  return [kind, axesFromInput](ImportContext &ic,
                               const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    bool noop = false;
    FailureOr<SmallVector<int64_t>> axes =
        getReduceAxes(ic, node, *x, axesFromInput, noop);
    if (failed(axes))
      return failure();
    if (noop || axes->empty()) {
      ic.setOutput(node, 0, *x);
      return success();
    }
    return bind(ic, node, 0,
                ic.create<ReduceOp>(node, kind, *x, ArrayRef<int64_t>(*axes),
                                    ic.getIntAttr(node, "keepdims", 1) != 0));
  };
}

LogicalResult convertClip(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = *x;
  if (Value lo = ic.getOptionalInput(node, 1))
    result = ic.create<BinaryOp>(node, BinaryKind::Max, *result, lo);
  if (failed(result))
    return failure();
  if (Value hi = ic.getOptionalInput(node, 2))
    result = ic.create<BinaryOp>(node, BinaryKind::Min, *result, hi);
  return bind(ic, node, 0, result);
}

} // namespace

FailureOr<SmallVector<int64_t>>
onnx_import::spatialAxes(ImportContext &ic, const Node &node, Value x) {
  int64_t rank = typeOf(x).getRank();
  if (rank < 3)
    return ic.emitError(node)
           << "expects an input N x C x spatial dims, found rank " << rank;
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  return axes;
}

FailureOr<Value> onnx_import::convertAs(
    ImportContext &ic, const Node &node, const ConvertFn &convert,
    ArrayRef<std::pair<int, Value>> inputs,
    ArrayRef<std::pair<const char *, SmallVector<int64_t>>> attrs) {
  Node copy = node;
  copy.clear_attribute();
  for (const onnx::AttributeProto &attr : node.attribute())
    if (!llvm::any_of(attrs, [&](auto &a) { return attr.name() == a.first; }))
      *copy.add_attribute() = attr;
  for (auto &[name, values] : attrs) {
    onnx::AttributeProto &a = *copy.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values)
      a.add_ints(v);
  }
  // The inputs swapped in under their names (a null value drops the
  // input) until the node is converted.
  {
    ScopedValues swapped(ic);
    for (auto [index, value] : inputs) {
      if (index >= copy.input_size() || copy.input(index).empty())
        continue;
      if (value)
        swapped.bind(copy.input(index), value);
      else
        copy.set_input(index, "");
    }
    if (failed(convert(ic, copy)))
      return failure();
  }
  return ic.values.lookup(node.output(0));
}

FailureOr<Value> onnx_import::convertAs(
    ImportContext &ic, const Node &node, const ConvertFn &convert, Value input,
    ArrayRef<std::pair<const char *, SmallVector<int64_t>>> attrs) {
  return convertAs(ic, node, convert, {{0, input}}, attrs);
}

FailureOr<SmallVector<int64_t>>
onnx_import::getReduceAxes(ImportContext &ic, const Node &node, Value x,
                           bool axesFromInput, bool &noop) {
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> axes;
  noop = false;
  if (axesFromInput) {
    if (ic.numInputs(node) > 1) {
      FailureOr<SmallVector<int64_t>> a =
          ic.requireIntsInput(node, 1, "the axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
  } else {
    axes = ic.getIntsAttr(node, "axes").value_or(SmallVector<int64_t>{});
  }
  if (axes.empty()) {
    if (ic.getIntAttr(node, "noop_with_empty_axes", 0)) {
      noop = true;
      return axes;
    }
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  for (int64_t &a : axes) {
    FailureOr<int64_t> n = ic.normalizeAxis(node, a, rank);
    if (failed(n))
      return failure();
    a = *n;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

ConvertFn onnx_import::liftTo2D(ConvertFn convert2D, int weightInput) {
  return [convert2D, weightInput](ImportContext &ic,
                                  const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    if (typeOf(*x).getRank() != 3)
      return convert2D(ic, node);
    // N x C x L is N x C x 1 x L, and the window 1 x k.
    SmallVector<std::pair<const char *, SmallVector<int64_t>>> attrs;
    for (const char *name : {"pads", "kernel_shape", "strides", "dilations",
                             "output_padding", "output_shape"}) {
      std::optional<SmallVector<int64_t>> v = ic.getIntsAttr(node, name);
      bool pads = StringRef(name) == "pads";
      if (v && pads && v->size() == 2)
        attrs.push_back({name, {0, (*v)[0], 0, (*v)[1]}});
      else if (v && !pads && v->size() == 1)
        attrs.push_back(
            {name, {StringRef(name) == "output_padding" ? 0 : 1, (*v)[0]}});
    }
    // The input and the weight seen in 4-D.
    SmallVector<std::pair<int, Value>> inputs;
    for (int index : {0, weightInput}) {
      if (index < 0 || index >= node.input_size() || node.input(index).empty())
        continue;
      FailureOr<Value> v = ic.getInput(node, index);
      if (failed(v))
        return failure();
      ArrayRef<int64_t> shape = typeOf(*v).getShape();
      if (shape.size() != 3)
        return ic.emitError(node) << "expects a 3-D weight for a 3-D input, "
                                  << "found " << typeOf(*v);
      FailureOr<Value> v4 =
          reshape(ic, node, *v, {shape[0], shape[1], 1, shape[2]});
      if (failed(v4))
        return failure();
      inputs.push_back({index, *v4});
    }
    FailureOr<Value> y = convertAs(ic, node, convert2D, inputs, attrs);
    if (failed(y))
      return failure();
    ArrayRef<int64_t> shape = typeOf(*y).getShape();
    return bind(ic, node, 0,
                reshape(ic, node, *y, {shape[0], shape[1], shape[3]}));
  };
}

// Range's limits text (docs/ONNXOperators.md) names the fold limit.
static_assert(kMaxFoldedElements == 16384, "update Range's limits text");

/// The converters of ops that each become one dist op or a few.
static const OpConverter kConverters[] = {
    // Elementwise.
    {"Relu", 6, unary(UnaryKind::Relu)},
    {"Tanh", 6, unary(UnaryKind::Tanh)},
    {"Exp", 6, unary(UnaryKind::Exp)},
    {"Log", 6, unary(UnaryKind::Log)},
    {"Sqrt", 6, unary(UnaryKind::Sqrt)},
    {"Erf", 9, unary(UnaryKind::Erf)},
    {"Neg", 6, unary(UnaryKind::Neg)},
    {"Reciprocal", 6, unary(UnaryKind::Reciprocal)},
    {"Sigmoid", 6, unary(UnaryKind::Sigmoid)},
    {"Abs", 6, unary(UnaryKind::Abs)},
    {"Floor", 6, unary(UnaryKind::Floor)},
    {"Ceil", 6, unary(UnaryKind::Ceil)},
    {"Sin", 7, unary(UnaryKind::Sin)},
    {"Cos", 7, unary(UnaryKind::Cos)},
    {"Tan", 7, unary(UnaryKind::Tan)},
    {"Asin", 7, unary(UnaryKind::Asin)},
    {"Acos", 7, unary(UnaryKind::Acos)},
    {"Atan", 7, unary(UnaryKind::Atan)},
    {"Sinh", 9, unary(UnaryKind::Sinh)},
    {"Cosh", 9, unary(UnaryKind::Cosh)},
    {"Asinh", 9, unary(UnaryKind::Asinh)},
    {"Acosh", 9, unary(UnaryKind::Acosh)},
    {"Atanh", 9, unary(UnaryKind::Atanh)},
    {"Round", 11, unary(UnaryKind::Round)},
    {"Not", 1, unary(UnaryKind::Not)},
    // Activations (ONNX's attribute defaults).
    {"LeakyRelu", 6, activation(UnaryKind::LeakyRelu, {"alpha", 0.01f})},
    {"Elu", 6, activation(UnaryKind::Elu, {"alpha", 1.0f})},
    {"Selu", 6,
     activation(UnaryKind::Selu, {"alpha", 1.67326319217681884765625f},
                ActivationParam{"gamma", 1.05070102214813232421875f})},
    {"Celu", 12, activation(UnaryKind::Celu, {"alpha", 1.0f})},
    {"HardSigmoid", 6,
     activation(UnaryKind::HardSigmoid, {"alpha", 0.2f},
                ActivationParam{"beta", 0.5f})},
    {"ThresholdedRelu", 10,
     activation(UnaryKind::ThresholdedRelu, {"alpha", 1.0f})},
    {"Softplus", 1, unary(UnaryKind::Softplus)},
    {"Softsign", 1, unary(UnaryKind::Softsign)},
    {"HardSwish", 14, unary(UnaryKind::HardSwish)},
    {"Mish", 18, unary(UnaryKind::Mish)},
    {"PRelu", 7, convertPRelu},
    {"Add", 7, binary(BinaryKind::Add)},
    {"Sub", 7, binary(BinaryKind::Sub)},
    {"Mul", 7, binary(BinaryKind::Mul)},
    {"Div", 7, binary(BinaryKind::Div)},
    {"Pow", 7, binary(BinaryKind::Pow)},
    {"Max", 8, binary(BinaryKind::Max)},
    {"Min", 8, binary(BinaryKind::Min)},
    {"Sum", 8, binary(BinaryKind::Add)},
    {"And", 7, binary(BinaryKind::And)},
    {"Or", 7, binary(BinaryKind::Or)},
    {"Xor", 7, binary(BinaryKind::Xor)},
    {"Equal", 7, compare(CompareKind::Eq)},
    {"Less", 9, compare(CompareKind::Lt)},
    {"LessOrEqual", 12, compare(CompareKind::Le)},
    {"Greater", 9, compare(CompareKind::Gt)},
    {"GreaterOrEqual", 12, compare(CompareKind::Ge)},
    {"Where", 9, convertWhere},
    {"Trilu", 14, convertTrilu, "k not known at compile time"},
    {"Cast", 6, convertCast, "strings and unsigned types"},
    {"Clip", 11, convertClip},
    {"Identity", 1, convertIdentity},
    {"Dropout", 7, convertDropout, "training mode"},
    // Contractions, convolution, pooling, normalization.
    {"MatMul", 1, convertMatMul},
    {"Gemm", 7, convertGemm},
    {"Conv", 1, conv3DAsSumOf2D(liftTo2D(convertConv, 1)),
     "other than 1-D, 2-D and 3-D"},
    {"MaxPool", 1, pool3DAsTwo2D(liftTo2D(pool(PoolKind::Max))),
     "other than 1-D, 2-D and 3-D; the Indices output"},
    {"AveragePool", 7, pool3DAsTwo2D(liftTo2D(pool(PoolKind::Avg))),
     "other than 1-D, 2-D and 3-D"},
    {"GlobalAveragePool", 1, globalPool(PoolKind::Avg)},
    {"GlobalMaxPool", 1, globalPool(PoolKind::Max)},
    {"BatchNormalization", 9, convertBatchNorm, "training mode"},
    {"Softmax", 1, softmax(/*log=*/false, /*singleAxis=*/false)},
    {"Softmax", 13, softmax(/*log=*/false, /*singleAxis=*/true)},
    {"LogSoftmax", 1, softmax(/*log=*/true, /*singleAxis=*/false)},
    {"LogSoftmax", 13, softmax(/*log=*/true, /*singleAxis=*/true)},
    {"LayerNormalization", 17, convertLayerNorm},
    {"ReduceMean", 1, reduce(ReduceKind::Mean, false)},
    {"ReduceMean", 18, reduce(ReduceKind::Mean, true),
     "axes not known at compile time"},
    {"ReduceSum", 1, reduce(ReduceKind::Sum, false)},
    {"ReduceSum", 13, reduce(ReduceKind::Sum, true),
     "axes not known at compile time"},
    {"ReduceMax", 1, reduce(ReduceKind::Max, false)},
    {"ReduceMax", 18, reduce(ReduceKind::Max, true),
     "axes not known at compile time"},
    {"ReduceMin", 1, reduce(ReduceKind::Min, false)},
    {"ReduceMin", 18, reduce(ReduceKind::Min, true),
     "axes not known at compile time"},
    {"ReduceProd", 1, reduce(ReduceKind::Prod, false)},
    {"ReduceProd", 18, reduce(ReduceKind::Prod, true),
     "axes not known at compile time"},
    // Data movement and shapes.
    {"Gather", 1, convertGather},
    {"GatherElements", 11, convertGatherElements},
    {"Scatter", 9, convertScatterElements},
    {"ScatterElements", 11, convertScatterElements},
    {"ScatterND", 11, convertScatterND},
    {"TopK", 1, convertTopK, "k not known at compile time"},
    {"Einsum", 12, convertEinsum,
     "an upper-case index in an equation without '->' (ONNX 1.12's shape "
     "inference)"},
    {"Reshape", 5, convertReshape, "a shape not known at compile time"},
    {"Flatten", 1, convertFlatten},
    {"Squeeze", 1, squeeze(/*axesFromInput=*/false)},
    {"Squeeze", 13, squeeze(/*axesFromInput=*/true),
     "axes not known at compile time"},
    {"Unsqueeze", 1, unsqueeze(/*axesFromInput=*/false)},
    {"Unsqueeze", 13, unsqueeze(/*axesFromInput=*/true),
     "axes not known at compile time"},
    {"Transpose", 1, convertTranspose},
    {"Concat", 4, convertConcat},
    {"Split", 2, convertSplit, "split sizes not known at compile time"},
    {"Pad", 2, convertPad,
     "modes other than constant; negative pads; pads or value not known at "
     "compile time"},
    {"Slice", 10, convertSlice,
     "negative steps; starts, ends, axes or steps not known at compile time"},
    {"Expand", 8, convertExpand, "a shape not known at compile time"},
    {"Shape", 1, convertShape},
    {"Size", 1, convertSize},
    {"Constant", 1, convertConstant, "sparse and string values"},
    {"ConstantOfShape", 9, convertConstantOfShape,
     "a shape not known at compile time"},
    {"Range", 11, convertRange,
     "inputs not known at compile time; more than 16384 elements"},
};

ArrayRef<std::pair<const char *, const char *>>
onnx_import::getUnconvertedReasons() {
  static constexpr const char *kRandom =
      "random numbers: the runtime has no random generator yet";
  static constexpr const char *kDataShape =
      "an output whose shape depends on the data: dist programs have static "
      "shapes";
  static constexpr const char *kQuantized =
      "8-bit quantized arithmetic (zero points, uint8): dist-opt plans float "
      "programs";
  static constexpr const char *kSequence =
      "sequence and optional values: only tensors are converted";
  static constexpr const char *kDataWindows =
      "windows at positions read from the data: not converted yet";
  static constexpr const char *kStrings = "string tensors";
  static const std::pair<const char *, const char *> reasons[] = {
      {"Bernoulli", kRandom},
      {"BitShift", "unsigned element types, which dist-opt does not have"},
      {"Compress", kDataShape},
      {"ConcatFromSequence", kSequence},
      {"ConvInteger", kQuantized},
      {"DequantizeLinear", kQuantized},
      {"Det", "a determinant, an LU factorization per matrix: not converted "
              "yet"},
      {"DynamicQuantizeLinear", kQuantized},
      {"GridSample", kDataWindows},
      {"MatMulInteger", kQuantized},
      {"MaxRoiPool", kDataWindows},
      {"MaxUnpool", "needs MaxPool's Indices output, which is not converted"},
      {"Multinomial", kRandom},
      {"NonMaxSuppression", kDataShape},
      {"NonZero", kDataShape},
      {"Optional", kSequence},
      {"OptionalGetElement", kSequence},
      {"OptionalHasElement", kSequence},
      {"QLinearConv", kQuantized},
      {"QLinearMatMul", kQuantized},
      {"QuantizeLinear", kQuantized},
      {"RandomNormal", kRandom},
      {"RandomNormalLike", kRandom},
      {"RandomUniform", kRandom},
      {"RandomUniformLike", kRandom},
      {"RoiAlign", kDataWindows},
      {"SequenceAt", kSequence},
      {"SequenceConstruct", kSequence},
      {"SequenceEmpty", kSequence},
      {"SequenceErase", kSequence},
      {"SequenceInsert", kSequence},
      {"SequenceLength", kSequence},
      {"SequenceMap", kSequence},
      {"SplitToSequence", kSequence},
      {"StringNormalizer", kStrings},
      {"TfIdfVectorizer", kStrings},
      {"Unique", kDataShape},
  };
  return reasons;
}

ArrayRef<OpConverter> onnx_import::getOpConverters() {
  static const std::vector<OpConverter> all = [] {
    std::vector<OpConverter> list(std::begin(kConverters),
                                  std::end(kConverters));
    llvm::append_range(list, getCompositeConverters());
    llvm::append_range(list, getResamplingConverters());
    llvm::append_range(list, getRecurrentConverters());
    llvm::append_range(list, getControlFlowConverters());
    llvm::append_range(list, getSpectralConverters());
    return list;
  }();
  return all;
}
