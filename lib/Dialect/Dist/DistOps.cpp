//===- DistOps.cpp - dist dialect operations ------------------------------===//
//
// Verifiers and result-type inference of the dist ops. Every error names
// what was expected and what was found. The folders are in Folders.cpp.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "WindowShape.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace distopt::dist;
using distopt::dist::detail::checkWindowAttrs;
using distopt::dist::detail::windowOutputSize;

#include "distopt/Dialect/Dist/DistInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "distopt/Dialect/Dist/DistOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Formats a shape as `2x3x4` (or `scalar` for rank 0) for messages.
static std::string shapeStr(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, "x");
  return s;
}

static RankedTensorType getRanked(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// Broadcasts two shapes by NumPy rules; fails when a pair of dimensions is
/// neither equal nor 1.
static FailureOr<SmallVector<int64_t>>
broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return failure();
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// True when `from` broadcasts to exactly `to` (unidirectional broadcast).
static bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i])
      return false;
  return true;
}

static bool isFloat(Type t) { return isa<FloatType>(t); }
static bool isBool(Type t) { return t.isInteger(1); }

/// Checks that an axis attribute lies in [0, rank).
static LogicalResult checkAxis(std::optional<Location> loc, StringRef what,
                               int64_t axis, int64_t rank) {
  if (axis < 0 || axis >= rank)
    return emitOptionalError(loc, "expects ", what, " in [0, ", rank,
                             "), found ", axis);
  return success();
}

static int64_t byteWidth(Type elementType) {
  return (elementType.getIntOrFloatBitWidth() + 7) / 8;
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

SmallVector<int64_t> WeightOp::getFullShape() {
  if (std::optional<ArrayRef<int64_t>> global = getGlobalShape())
    return llvm::to_vector(*global);
  return llvm::to_vector(getType().getShape());
}

LogicalResult WeightOp::verify() {
  RankedTensorType type = getType();
  if (getName().empty())
    return emitOpError("expects a non-empty weight name");

  bool hasGlobal = getGlobalShape().has_value();
  bool hasGrid = getGrid().has_value();
  bool hasSplit = getSplitAxes().has_value();
  if (hasGlobal != hasGrid || hasGlobal != hasSplit)
    return emitOpError("expects 'global_shape', 'grid' and 'split_axes' "
                       "together or not at all, found ")
           << (hasGlobal ? "" : "no ") << "global_shape, "
           << (hasGrid ? "" : "no ") << "grid, " << (hasSplit ? "" : "no ")
           << "split_axes";

  SmallVector<int64_t> full = getFullShape();
  if (hasGlobal) {
    if (full.size() != static_cast<size_t>(type.getRank()))
      return emitOpError("expects 'global_shape' of rank ")
             << type.getRank() << ", found rank " << full.size();
    for (auto [dim, pair] : llvm::enumerate(llvm::zip(type.getShape(), full))) {
      auto [local, global] = pair;
      if (local <= 0 || global % local != 0)
        return emitOpError("expects local dim ")
               << dim << " (" << local << ") to divide global dim ("
               << global << ")";
    }
  }

  int64_t elements = 1;
  for (int64_t d : full)
    elements *= d;
  int64_t expected = elements * byteWidth(type.getElementType());
  int64_t found = getData().getLength();
  if (found != expected)
    return emitOpError("expects data length of ")
           << expected << " bytes for "
           << RankedTensorType::get(full, type.getElementType()) << ", found "
           << found;
  return success();
}

LogicalResult WeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  if (!isPartitioned())
    return success();
  auto grid = symbolTable.lookupNearestSymbolFrom<shard::GridOp>(
      *this, getGridAttr());
  if (!grid)
    return emitOpError("expects 'grid' to name a shard.grid, found ")
           << getGridAttr();
  ArrayRef<int64_t> gridShape = grid.getShape();
  ArrayRef<shard::GridAxesAttr> splits = getSplitAxesAttr().getAxes();
  if (static_cast<int64_t>(splits.size()) > getType().getRank())
    return emitOpError("expects at most ")
           << getType().getRank() << " split_axes entries, found "
           << splits.size();
  SmallVector<int64_t> full = getFullShape();
  llvm::SmallSet<int16_t, 4> used;
  for (int64_t d = 0; d < getType().getRank(); ++d) {
    int64_t devices = 1;
    if (d < static_cast<int64_t>(splits.size())) {
      for (int16_t axis : splits[d].asArrayRef()) {
        if (axis < 0 || axis >= static_cast<int64_t>(gridShape.size()))
          return emitOpError("expects grid axes in [0, ")
                 << gridShape.size() << ") for grid " << getGridAttr()
                 << ", found " << axis;
        if (!used.insert(axis).second)
          return emitOpError("expects each grid axis to split at most one "
                             "dim, found axis ")
                 << axis << " twice";
        devices *= gridShape[axis];
      }
    }
    if (full[d] != getType().getDimSize(d) * devices)
      return emitOpError("expects dim ")
             << d << " split over " << devices << " devices to hold "
             << full[d] / devices << " of " << full[d]
             << " elements locally, found " << getType().getDimSize(d);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ConstantOp::Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getValue().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// MatMulOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         MatMulOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  RankedTensorType lhs = getRanked(adaptor.getLhs());
  RankedTensorType rhs = getRanked(adaptor.getRhs());
  if (!lhs || !rhs)
    return emitOptionalError(loc, "expects ranked tensor operands");
  if (lhs.getRank() < 2 || rhs.getRank() < 2)
    return emitOptionalError(loc, "expects operands of rank at least 2, found ",
                             lhs.getRank(), " and ", rhs.getRank());
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(loc, "expects operands of one element type, found ",
                             lhs.getElementType(), " and ",
                             rhs.getElementType());
  ArrayRef<int64_t> ls = lhs.getShape(), rs = rhs.getShape();
  int64_t k1 = ls.back(), k2 = rs[rs.size() - 2];
  if (k1 != k2)
    return emitOptionalError(loc, "expects contracted dims to match, found lhs ",
                             k1, " and rhs ", k2);
  FailureOr<SmallVector<int64_t>> batch =
      broadcastShapes(ls.drop_back(2), rs.drop_back(2));
  if (failed(batch))
    return emitOptionalError(loc, "expects broadcastable batch dims, found ",
                             shapeStr(ls.drop_back(2)), " and ",
                             shapeStr(rs.drop_back(2)));
  SmallVector<int64_t> shape = *batch;
  shape.push_back(ls[ls.size() - 2]);
  shape.push_back(rs.back());
  if (Value bias = adaptor.getBias()) {
    RankedTensorType bt = getRanked(bias);
    if (!bt || bt.getElementType() != lhs.getElementType() ||
        !broadcastsTo(bt.getShape(), shape))
      return emitOptionalError(loc, "expects a bias of element type ",
                               lhs.getElementType(), " broadcastable to ",
                               shapeStr(shape), ", found ", bias.getType());
  }
  inferred.push_back(RankedTensorType::get(shape, lhs.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       GemmOp::Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  RankedTensorType a = getRanked(adaptor.getA());
  RankedTensorType b = getRanked(adaptor.getB());
  if (!a || !b)
    return emitOptionalError(loc, "expects ranked tensor operands");
  if (a.getRank() != 2 || b.getRank() != 2)
    return emitOptionalError(loc, "expects 2-D 'a' and 'b', found ranks ",
                             a.getRank(), " and ", b.getRank());
  if (a.getElementType() != b.getElementType())
    return emitOptionalError(loc, "expects operands of one element type, found ",
                             a.getElementType(), " and ", b.getElementType());
  bool ta = adaptor.getTransA(), tb = adaptor.getTransB();
  int64_t m = ta ? a.getDimSize(1) : a.getDimSize(0);
  int64_t ka = ta ? a.getDimSize(0) : a.getDimSize(1);
  int64_t kb = tb ? b.getDimSize(1) : b.getDimSize(0);
  int64_t n = tb ? b.getDimSize(0) : b.getDimSize(1);
  if (ka != kb)
    return emitOptionalError(loc, "expects contracted dims to match, found a ",
                             ka, " and b ", kb);
  if (Value c = adaptor.getC()) {
    RankedTensorType ct = getRanked(c);
    if (!ct || ct.getElementType() != a.getElementType())
      return emitOptionalError(loc, "expects bias element type ",
                               a.getElementType());
    if (!broadcastsTo(ct.getShape(), {m, n}))
      return emitOptionalError(loc, "expects bias broadcastable to ", m, "x", n,
                               ", found ", shapeStr(ct.getShape()));
  }
  inferred.push_back(RankedTensorType::get({m, n}, a.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Conv2DOp and pooling
//===----------------------------------------------------------------------===//

/// Checks a window's strides, pads and dilations attributes.
LogicalResult distopt::dist::detail::checkWindowAttrs(
    std::optional<Location> loc, ArrayRef<int64_t> strides,
    ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations) {
  if (strides.size() != 2 ||
      llvm::any_of(strides, [](int64_t s) { return s <= 0; }))
    return emitOptionalError(loc, "expects 2 positive strides, found [",
                             shapeStr(strides), "]");
  if (pads.size() != 4 || llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "expects 4 non-negative pads, found [",
                             shapeStr(pads), "]");
  if (dilations.size() != 2 ||
      llvm::any_of(dilations, [](int64_t d) { return d <= 0; }))
    return emitOptionalError(loc, "expects 2 positive dilations, found [",
                             shapeStr(dilations), "]");
  return success();
}

/// Output size of a sliding window along one spatial dimension.
int64_t distopt::dist::detail::windowOutputSize(
    int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
    int64_t padEnd, int64_t dilation, bool ceilMode) {
  int64_t span = (kernel - 1) * dilation + 1;
  int64_t avail = in + padBegin + padEnd - span;
  if (avail < 0)
    return 0;
  int64_t out = ceilMode ? (avail + stride - 1) / stride + 1 : avail / stride + 1;
  // With ceil mode, the last window must start inside the input or the
  // leading padding (the rule of PyTorch and ONNX Runtime).
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Conv2DOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = getRanked(adaptor.getInput());
  RankedTensorType filter = getRanked(adaptor.getFilter());
  if (!input || !filter || input.getRank() != 4 || filter.getRank() != 4)
    return emitOptionalError(loc, "expects 4-D input and filter");
  if (input.getElementType() != filter.getElementType())
    return emitOptionalError(loc, "expects operands of one element type, found ",
                             input.getElementType(), " and ",
                             filter.getElementType());
  ArrayRef<int64_t> strides = adaptor.getStrides();
  ArrayRef<int64_t> pads = adaptor.getPads();
  ArrayRef<int64_t> dilations = adaptor.getDilations();
  if (failed(checkWindowAttrs(loc, strides, pads, dilations)))
    return failure();
  int64_t group = adaptor.getGroup();
  int64_t c = input.getDimSize(1), o = filter.getDimSize(0);
  if (group <= 0 || c % group != 0 || o % group != 0)
    return emitOptionalError(loc, "expects group ", group,
                             " to divide input channels ", c,
                             " and output channels ", o);
  if (filter.getDimSize(1) != c / group)
    return emitOptionalError(loc, "expects filter input channels ", c / group,
                             " (input channels / group), found ",
                             filter.getDimSize(1));
  if (Value bias = adaptor.getBias()) {
    RankedTensorType bt = getRanked(bias);
    if (!bt || bt.getRank() != 1 || bt.getDimSize(0) != o ||
        bt.getElementType() != input.getElementType())
      return emitOptionalError(
          loc, "expects bias of type ",
          RankedTensorType::get({o}, input.getElementType()), ", found ",
          bias.getType());
  }
  int64_t oh = windowOutputSize(input.getDimSize(2), filter.getDimSize(2),
                                strides[0], pads[0], pads[2], dilations[0],
                                /*ceilMode=*/false);
  int64_t ow = windowOutputSize(input.getDimSize(3), filter.getDimSize(3),
                                strides[1], pads[1], pads[3], dilations[1],
                                /*ceilMode=*/false);
  if (oh <= 0 || ow <= 0)
    return emitOptionalError(loc, "expects a positive output size, found ", oh,
                             "x", ow);
  inferred.push_back(RankedTensorType::get({input.getDimSize(0), o, oh, ow},
                                           input.getElementType()));
  return success();
}

LogicalResult Pool2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Pool2DOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = getRanked(adaptor.getInput());
  if (!input || input.getRank() != 4)
    return emitOptionalError(loc, "expects a 4-D input");
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  if (kernel.size() != 2 ||
      llvm::any_of(kernel, [](int64_t k) { return k <= 0; }))
    return emitOptionalError(loc, "expects 2 positive kernel sizes, found [",
                             shapeStr(kernel), "]");
  ArrayRef<int64_t> strides = adaptor.getStrides();
  ArrayRef<int64_t> pads = adaptor.getPads();
  ArrayRef<int64_t> dilations = adaptor.getDilations();
  if (failed(checkWindowAttrs(loc, strides, pads, dilations)))
    return failure();
  if (pads[0] >= kernel[0] || pads[2] >= kernel[0] || pads[1] >= kernel[1] ||
      pads[3] >= kernel[1])
    return emitOptionalError(loc, "expects pads smaller than the kernel, found "
                                  "pads [",
                             shapeStr(pads), "] for kernel ", shapeStr(kernel));
  bool ceil = adaptor.getCeilMode();
  int64_t oh = windowOutputSize(input.getDimSize(2), kernel[0], strides[0],
                                pads[0], pads[2], dilations[0], ceil);
  int64_t ow = windowOutputSize(input.getDimSize(3), kernel[1], strides[1],
                                pads[1], pads[3], dilations[1], ceil);
  if (oh <= 0 || ow <= 0)
    return emitOptionalError(loc, "expects a positive output size, found ", oh,
                             "x", ow);
  inferred.push_back(RankedTensorType::get(
      {input.getDimSize(0), input.getDimSize(1), oh, ow},
      input.getElementType()));
  return success();
}

LogicalResult GlobalPoolOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             GlobalPoolOp::Adaptor adaptor,
                                             SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = getRanked(adaptor.getInput());
  if (!input || input.getRank() != 4)
    return emitOptionalError(loc, "expects a 4-D input");
  inferred.push_back(RankedTensorType::get(
      {input.getDimSize(0), input.getDimSize(1), 1, 1},
      input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

bool UnaryOp::takesAlpha(UnaryKind kind) {
  switch (kind) {
  case UnaryKind::LeakyRelu:
  case UnaryKind::Elu:
  case UnaryKind::Selu:
  case UnaryKind::Celu:
  case UnaryKind::HardSigmoid:
  case UnaryKind::ThresholdedRelu:
    return true;
  default:
    return false;
  }
}

bool UnaryOp::takesBeta(UnaryKind kind) {
  return kind == UnaryKind::Selu || kind == UnaryKind::HardSigmoid;
}

/// Checks that `op` has the parameter `name` (`attr`) exactly when its kind
/// takes it (`takes`).
static LogicalResult verifyUnaryParameter(UnaryOp op, StringRef name,
                                          FloatAttr attr, bool takes) {
  if (takes && !attr)
    return op.emitOpError("expects '")
           << name << "' for '" << stringifyUnaryKind(op.getKind()) << "'";
  if (!takes && attr)
    return op.emitOpError("expects no '")
           << name << "' for '" << stringifyUnaryKind(op.getKind())
           << "', found " << attr;
  return success();
}

LogicalResult UnaryOp::verify() {
  if (failed(verifyUnaryParameter(*this, "alpha", getAlphaAttr(),
                                  takesAlpha(getKind()))) ||
      failed(verifyUnaryParameter(*this, "beta", getBetaAttr(),
                                  takesBeta(getKind()))))
    return failure();
  if (getKind() == UnaryKind::Celu && getAlphaAttr().getValue().isZero())
    return emitOpError("expects a non-zero 'alpha' for 'celu'");
  Type element = getType().getElementType();
  switch (getKind()) {
  case UnaryKind::Not:
    if (!isBool(element))
      return emitOpError("expects i1 elements for 'not', found ") << element;
    return success();
  case UnaryKind::Relu:
  case UnaryKind::Neg:
  case UnaryKind::Abs:
    if (isBool(element))
      return emitOpError("expects number elements for '")
             << stringifyUnaryKind(getKind()) << "', found " << element;
    return success();
  default:
    if (!isFloat(element))
      return emitOpError("expects float elements for '")
             << stringifyUnaryKind(getKind()) << "', found " << element;
    return success();
  }
}

/// Shared inference of the broadcasting elementwise ops.
static LogicalResult inferBroadcast(std::optional<Location> loc,
                                    ValueRange operands, Type resultElement,
                                    SmallVectorImpl<Type> &inferred) {
  SmallVector<int64_t> shape;
  for (Value v : operands) {
    RankedTensorType t = getRanked(v);
    if (!t)
      return emitOptionalError(loc, "expects ranked tensor operands");
    FailureOr<SmallVector<int64_t>> b = broadcastShapes(shape, t.getShape());
    if (failed(b))
      return emitOptionalError(loc, "expects broadcastable operand shapes, "
                                    "found ",
                               shapeStr(shape), " and ",
                               shapeStr(t.getShape()));
    shape = std::move(*b);
  }
  inferred.push_back(RankedTensorType::get(shape, resultElement));
  return success();
}

LogicalResult BinaryOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         BinaryOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  Type le = getElementTypeOrSelf(adaptor.getLhs().getType());
  Type re = getElementTypeOrSelf(adaptor.getRhs().getType());
  if (le != re)
    return emitOptionalError(loc, "expects operands of one element type, found ",
                             le, " and ", re);
  BinaryKind kind = adaptor.getKind();
  bool logical = kind == BinaryKind::And || kind == BinaryKind::Or ||
                 kind == BinaryKind::Xor;
  if (logical != isBool(le))
    return emitOptionalError(loc, "expects ", logical ? "i1" : "number",
                             " elements for '", stringifyBinaryKind(kind),
                             "', found ", le);
  return inferBroadcast(loc, {adaptor.getLhs(), adaptor.getRhs()}, le,
                        inferred);
}

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          CompareOp::Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  Type le = getElementTypeOrSelf(adaptor.getLhs().getType());
  Type re = getElementTypeOrSelf(adaptor.getRhs().getType());
  if (le != re)
    return emitOptionalError(loc, "expects operands of one element type, found ",
                             le, " and ", re);
  return inferBroadcast(loc, {adaptor.getLhs(), adaptor.getRhs()},
                        IntegerType::get(ctx, 1), inferred);
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         SelectOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  Type te = getElementTypeOrSelf(adaptor.getOnTrue().getType());
  Type fe = getElementTypeOrSelf(adaptor.getOnFalse().getType());
  if (te != fe)
    return emitOptionalError(loc, "expects branches of one element type, "
                                  "found ",
                             te, " and ", fe);
  return inferBroadcast(
      loc, {adaptor.getCondition(), adaptor.getOnTrue(), adaptor.getOnFalse()},
      te, inferred);
}

LogicalResult CastOp::verify() {
  if (getInput().getType().getShape() != getType().getShape())
    return emitOpError("expects result shape ")
           << shapeStr(getInput().getType().getShape()) << ", found "
           << shapeStr(getType().getShape());
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         ReduceOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = getRanked(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "expects a ranked tensor input");
  ArrayRef<int64_t> axes = adaptor.getAxes();
  if (axes.empty())
    return emitOptionalError(loc, "expects at least one axis");
  for (auto [i, axis] : llvm::enumerate(axes)) {
    if (failed(checkAxis(loc, "axis", axis, input.getRank())))
      return failure();
    if (i > 0 && axes[i - 1] >= axis)
      return emitOptionalError(loc, "expects sorted distinct axes, found [",
                               shapeStr(axes), "]");
  }
  if (isBool(input.getElementType()))
    return emitOptionalError(loc, "expects number elements, found i1");
  SmallVector<int64_t> shape;
  for (auto [d, size] : llvm::enumerate(input.getShape())) {
    bool reduced = llvm::is_contained(axes, static_cast<int64_t>(d));
    if (!reduced)
      shape.push_back(size);
    else if (adaptor.getKeepDims())
      shape.push_back(1);
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return checkAxis(getLoc(), "axis", getAxis(), getType().getRank());
}

LogicalResult LayerNormOp::verify() {
  RankedTensorType input = getInput().getType();
  if (failed(checkAxis(getLoc(), "axis", getAxis(), input.getRank())))
    return failure();
  ArrayRef<int64_t> normalized = input.getShape().drop_front(getAxis());
  auto check = [&](Value v, StringRef what) -> LogicalResult {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getShape() != normalized || t.getElementType() != input.getElementType())
      return emitOpError("expects ")
             << what << " of type "
             << RankedTensorType::get(normalized, input.getElementType())
             << " (the normalized dims), found " << t;
    return success();
  };
  if (failed(check(getScale(), "scale")))
    return failure();
  if (getBias() && failed(check(getBias(), "bias")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         GatherOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  RankedTensorType data = getRanked(adaptor.getData());
  RankedTensorType indices = getRanked(adaptor.getIndices());
  if (!data || !indices)
    return emitOptionalError(loc, "expects ranked tensor operands");
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(loc, "axis", axis, data.getRank())))
    return failure();
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  inferred.push_back(RankedTensorType::get(shape, data.getElementType()));
  return success();
}

LogicalResult
distopt::dist::detail::verifyRowAxes(Operation *op,
                                     std::optional<ArrayRef<int16_t>> rowAxes) {
  if (!rowAxes)
    return success();
  if (rowAxes->empty())
    return op->emitOpError("expects 'row_axes' to name the grid axes that "
                           "split the table's rows, found none");
  for (auto [i, axis] : llvm::enumerate(*rowAxes)) {
    if (axis < 0)
      return op->emitOpError("expects non-negative grid axes in 'row_axes', "
                             "found ")
             << axis;
    if (llvm::is_contained(rowAxes->take_front(i), axis))
      return op->emitOpError("expects distinct grid axes in 'row_axes', "
                             "found ")
             << axis << " twice";
  }
  return success();
}

LogicalResult GatherOp::verify() {
  if (getRowAxes() && !isFloat(getType().getElementType()))
    return emitOpError("splits the rows of a table of ")
           << getType().getElementType()
           << " ('row_axes'); only float tables are split by rows";
  return detail::verifyRowAxes(*this, getRowAxes());
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError("expects result element type ")
           << in.getElementType() << ", found " << out.getElementType();
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("expects result with ")
           << in.getNumElements() << " elements, found "
           << out.getNumElements();
  return success();
}

LogicalResult BroadcastOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError("expects result element type ")
           << in.getElementType() << ", found " << out.getElementType();
  if (!broadcastsTo(in.getShape(), out.getShape()))
    return emitOpError("expects input shape ")
           << shapeStr(in.getShape()) << " to broadcast to "
           << shapeStr(out.getShape());
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            TransposeOp::Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = getRanked(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "expects a ranked tensor input");
  ArrayRef<int64_t> perm = adaptor.getPerm();
  int64_t rank = input.getRank();
  SmallVector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    if (!valid || p < 0 || p >= rank || seen[p]) {
      valid = false;
      break;
    }
    seen[p] = true;
  }
  if (!valid)
    return emitOptionalError(loc, "expects a permutation of ", rank,
                             " dims, found [", shapeStr(perm), "]");
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(input.getDimSize(p));
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult SliceOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  int64_t rank = in.getRank();
  if (out.getRank() != rank || in.getElementType() != out.getElementType())
    return emitOpError("expects result of rank ")
           << rank << " and element type " << in.getElementType()
           << ", found " << out;
  ArrayRef<int64_t> offsets = getOffsets(), strides = getStrides();
  if (static_cast<int64_t>(offsets.size()) != rank ||
      static_cast<int64_t>(strides.size()) != rank)
    return emitOpError("expects ")
           << rank << " offsets and strides, found " << offsets.size()
           << " and " << strides.size();
  for (int64_t d = 0; d < rank; ++d) {
    if (offsets[d] < 0 || strides[d] <= 0)
      return emitOpError("expects a non-negative offset and a positive stride "
                         "in dim ")
             << d << ", found " << offsets[d] << " and " << strides[d];
    // The last index read, computed without overflow (offsets and strides
    // may be any 64-bit values in a program read from text).
    int64_t size = out.getDimSize(d), last = 0;
    if (size <= 0)
      continue;
    if (__builtin_mul_overflow(size - 1, strides[d], &last) ||
        __builtin_add_overflow(last, offsets[d], &last))
      return emitOpError("expects the slice to stay inside dim ")
             << d << " of size " << in.getDimSize(d)
             << ", found a last index past 2^63";
    if (last >= in.getDimSize(d))
      return emitOpError("expects the slice to stay inside dim ")
             << d << " of size " << in.getDimSize(d) << ", found last index "
             << last;
  }
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         ConcatOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return emitOptionalError(loc, "expects at least one input");
  RankedTensorType first = getRanked(inputs.front());
  if (!first)
    return emitOptionalError(loc, "expects ranked tensor inputs");
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(loc, "axis", axis, first.getRank())))
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  for (Value v : inputs.drop_front()) {
    RankedTensorType t = getRanked(v);
    if (!t || t.getRank() != first.getRank() ||
        t.getElementType() != first.getElementType())
      return emitOptionalError(loc, "expects inputs of rank ", first.getRank(),
                               " and element type ", first.getElementType(),
                               ", found ", v.getType());
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (d == axis)
        continue;
      if (t.getDimSize(d) != first.getDimSize(d))
        return emitOptionalError(loc, "expects inputs to match outside the "
                                      "axis, found ",
                                 shapeStr(first.getShape()), " and ",
                                 shapeStr(t.getShape()));
    }
    shape[axis] += t.getDimSize(axis);
  }
  inferred.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult SplitOp::verify() {
  RankedTensorType in = getInput().getType();
  if (getResults().empty())
    return emitOpError("expects at least one result");
  int64_t axis = getAxis();
  if (failed(checkAxis(getLoc(), "axis", axis, in.getRank())))
    return failure();
  int64_t total = 0;
  for (Value r : getResults()) {
    auto t = cast<RankedTensorType>(r.getType());
    bool matches = t.getRank() == in.getRank() &&
                   t.getElementType() == in.getElementType();
    for (int64_t d = 0; matches && d < in.getRank(); ++d)
      matches = d == axis || t.getDimSize(d) == in.getDimSize(d);
    if (!matches)
      return emitOpError("expects results to match the input ")
             << in << " outside axis " << axis << ", found " << t;
    total += t.getDimSize(axis);
  }
  if (total != in.getDimSize(axis))
    return emitOpError("expects result sizes along axis ")
           << axis << " to add up to " << in.getDimSize(axis) << ", found "
           << total;
  return success();
}

//===----------------------------------------------------------------------===//
// Indexing by element
//===----------------------------------------------------------------------===//

LogicalResult TopKOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       TopKOp::Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = getRanked(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "expects a ranked tensor input");
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(loc, "axis", axis, input.getRank())))
    return failure();
  int64_t k = adaptor.getK(), n = input.getDimSize(axis);
  if (k < 0 || k > n)
    return emitOptionalError(loc, "expects k in [0, ", n,
                             "] (the size of axis ", axis, "), found ", k);
  SmallVector<int64_t> shape(input.getShape());
  shape[axis] = k;
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  inferred.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult TopKOp::verify() {
  if (isBool(getInput().getType().getElementType()))
    return emitOpError("expects numbers to compare, found i1");
  return success();
}

/// Checks that `indices` has the rank of `data` and no dim but `axis` larger
/// than `data`'s (GatherElements, ScatterElements).
static LogicalResult checkElementIndices(std::optional<Location> loc,
                                         RankedTensorType data,
                                         RankedTensorType indices,
                                         int64_t axis) {
  if (failed(checkAxis(loc, "axis", axis, data.getRank())))
    return failure();
  if (indices.getRank() != data.getRank())
    return emitOptionalError(loc, "expects indices of the data's rank ",
                             data.getRank(), ", found rank ",
                             indices.getRank());
  for (int64_t d = 0; d < data.getRank(); ++d)
    if (d != axis && indices.getDimSize(d) > data.getDimSize(d))
      return emitOptionalError(loc, "expects indices dim ", d,
                               " of size at most ", data.getDimSize(d),
                               " (the data's), found ", indices.getDimSize(d));
  return success();
}

LogicalResult
GatherElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                   GatherElementsOp::Adaptor adaptor,
                                   SmallVectorImpl<Type> &inferred) {
  RankedTensorType data = getRanked(adaptor.getData());
  RankedTensorType indices = getRanked(adaptor.getIndices());
  if (!data || !indices)
    return emitOptionalError(loc, "expects ranked tensor operands");
  if (failed(checkElementIndices(loc, data, indices, adaptor.getAxis())))
    return failure();
  inferred.push_back(
      RankedTensorType::get(indices.getShape(), data.getElementType()));
  return success();
}

LogicalResult
ScatterElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                    ScatterElementsOp::Adaptor adaptor,
                                    SmallVectorImpl<Type> &inferred) {
  RankedTensorType data = getRanked(adaptor.getData());
  if (!data)
    return emitOptionalError(loc, "expects a ranked tensor data operand");
  inferred.push_back(data);
  return success();
}

/// Checks that `updates` has `data`'s element type and `shape`, and that the
/// reduction combines `data`'s elements (scatters).
static LogicalResult checkScatterUpdates(Operation *op, RankedTensorType data,
                                         RankedTensorType updates,
                                         ArrayRef<int64_t> shape,
                                         ScatterReduction reduction) {
  if (updates.getElementType() != data.getElementType() ||
      updates.getShape() != shape)
    return op->emitOpError("expects updates of type ")
           << RankedTensorType::get(shape, data.getElementType()) << ", found "
           << updates;
  if (reduction != ScatterReduction::None && isBool(data.getElementType()))
    return op->emitOpError("cannot combine i1 elements by '")
           << stringifyScatterReduction(reduction) << "'";
  return success();
}

LogicalResult ScatterElementsOp::verify() {
  RankedTensorType data = getData().getType(), indices = getIndices().getType();
  if (failed(checkElementIndices(getLoc(), data, indices, getAxis())))
    return failure();
  return checkScatterUpdates(*this, data, getUpdates().getType(),
                             indices.getShape(), getReduction());
}

LogicalResult ScatterNDOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            ScatterNDOp::Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  RankedTensorType data = getRanked(adaptor.getData());
  if (!data)
    return emitOptionalError(loc, "expects a ranked tensor data operand");
  inferred.push_back(data);
  return success();
}

LogicalResult ScatterNDOp::verify() {
  RankedTensorType data = getData().getType(), indices = getIndices().getType();
  if (indices.getRank() < 1)
    return emitOpError("expects indices of rank at least 1, found rank 0");
  int64_t k = indices.getShape().back();
  if (k < 1 || k > data.getRank())
    return emitOpError("expects the last dim of indices (coordinates per "
                       "row) in [1, ")
           << data.getRank() << "], found " << k;
  SmallVector<int64_t> shape(indices.getShape().drop_back());
  llvm::append_range(shape, data.getShape().drop_front(k));
  return checkScatterUpdates(*this, data, getUpdates().getType(), shape,
                             getReduction());
}
