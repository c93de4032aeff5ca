//===- Composites.cpp - ONNX operators lowered to several dist ops --------===//
//
// Operators that are compositions of ops the planner, the partitioner, the
// runtime and autodiff already know, lowered while importing (as Einsum is,
// Einsum.cpp): each gets the sharding rules, costs, kernels and gradient
// rules of its parts.
//
//   NegativeLogLikelihoodLoss   gather_elements of the target class, times
//                               the gathered class weight; ignore_index a
//                               select; mean = sum / sum of weights
//   SoftmaxCrossEntropyLoss     log-softmax, then the above
//   ReduceL1, ReduceL2,         reduce sum of abs / of squares (then sqrt);
//   ReduceSumSquare,            log of a sum; log-sum-exp with the max
//   ReduceLogSum(Exp)           subtracted first
//   ArgMax, ArgMin, Hardmax     reduce max/min, compare, then the least (or
//                               greatest) index that attains it
//   OneHot, EyeLike             compares of index ranges, selects
//   Hann/Hamming/BlackmanWindow constants
//   Mean, Mod, CastLike, IsNaN, elementwise
//   IsInf, Sign, Shrink
//   DepthToSpace, SpaceToDepth, reshapes, transposes, broadcasts
//   Tile, CumSum (a parallel prefix sum of shifted slices), GatherND (a
//   gather of the flattened leading dims), LRN (shifted slices)
//   ConvTranspose               the convolution of the input spread with
//                               zeros by the stride, with the flipped filter
//   InstanceNormalization,      means and variances by reduce
//   MeanVarianceNormalization
//
// The models are untrusted: every attribute and shape is checked and a bad
// one is an error at the node.
//
//===----------------------------------------------------------------------===//

#include "Composer.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

#include <limits>
#include <numeric>

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;
using namespace distopt::onnx_import;
using Node = onnx::NodeProto;

namespace {

/// The largest window (HannWindow, ...) made at compile time: its values are
/// a constant of the program.
constexpr int64_t kMaxWindowSize = int64_t{1} << 20;

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// The loss of NegativeLogLikelihoodLoss on `logProb` (N x C x d1...) and
/// `target` (N x d1...), each element `-logProb[n, target, d...]` times
/// `weight[target]` (1 without a weight; 0 where the target is
/// `ignoreIndex`), reduced by `reduction`: none, sum, or mean (the sum
/// divided by the sum of the weights that multiplied it).
V negativeLogLikelihood(Composer &c, Value logProb, Value target, Value weight,
                        StringRef reduction,
                        std::optional<int64_t> ignoreIndex) {
  ImportContext &ic = c.ic;
  const Node &node = c.node;
  RankedTensorType type = typeOf(logProb), targetType = typeOf(target);
  if (type.getRank() < 2)
    return ic.emitError(node)
           << "expects an input of shape N x C x ..., found " << type;
  if (!isa<FloatType>(type.getElementType()))
    return ic.emitError(node)
           << "expects float elements in the input, found " << type;
  SmallVector<int64_t> targetShape(type.getShape());
  targetShape.erase(targetShape.begin() + 1);
  if (targetType.getShape() != ArrayRef(targetShape) ||
      !targetType.getElementType().isInteger() ||
      targetType.getElementType().isInteger(1))
    return ic.emitError(node)
           << "expects integer targets of shape " << targetShape
           << " (the input's without its class dim), found " << targetType;
  int64_t classes = type.getDimSize(1);
  if (weight) {
    RankedTensorType w = typeOf(weight);
    if (w.getShape() != ArrayRef<int64_t>{classes} ||
        w.getElementType() != type.getElementType())
      return ic.emitError(node)
             << "expects a weight of " << classes << " "
             << type.getElementType() << " (one per class), found " << w;
  }
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return ic.emitError(node) << "unknown reduction '" << reduction
                              << "' (expected none, sum or mean)";

  Type element = type.getElementType(), index = targetType.getElementType();
  // An ignored index that the targets' type cannot hold ignores nothing.
  if (ignoreIndex && !Composer::fits(index, *ignoreIndex))
    ignoreIndex.reset();
  V t = target, ignored;
  if (ignoreIndex) {
    // An ignored target selects class 0, whose term is then weighted 0.
    ignored = c.compare(CompareKind::Eq, t, c.intScalar(index, *ignoreIndex));
    t = c.select(ignored, c.intScalar(index, 0), t);
  }
  SmallVector<int64_t> pickShape = targetShape;
  pickShape.insert(pickShape.begin() + 1, 1);
  // gather_elements reports a target outside [-C, C) on every rank.
  V loss =
      c.unary(UnaryKind::Neg,
              c.reshape(c.gatherElements(logProb, c.reshape(t, pickShape), 1),
                        targetShape));
  V w = Value();
  if (weight)
    w = c.gather(weight, t, 0);
  if (ignoreIndex)
    w = c.select(ignored, c.scalar(element, 0),
                 weight ? w : V(c.scalar(element, 1)));
  if (failed(w))
    return failure();
  if (*w)
    loss = c.mul(loss, w);
  if (reduction == "none")
    return loss;
  SmallVector<int64_t> all(targetShape.size());
  std::iota(all.begin(), all.end(), 0);
  if (reduction == "sum" || (reduction == "mean" && !*w))
    return c.reduce(reduction == "sum" ? ReduceKind::Sum : ReduceKind::Mean,
                    loss, all, false);
  return c.div(c.reduce(ReduceKind::Sum, loss, all, false),
               c.reduce(ReduceKind::Sum, w, all, false));
}

std::optional<int64_t> ignoreIndex(ImportContext &ic, const Node &node) {
  if (!ic.findAttr(node, "ignore_index"))
    return std::nullopt;
  return ic.getIntAttr(node, "ignore_index", 0);
}

LogicalResult convertNegativeLogLikelihoodLoss(ImportContext &ic,
                                               const Node &node) {
  FailureOr<Value> input = ic.getInput(node, 0), target = ic.getInput(node, 1);
  if (failed(input) || failed(target))
    return failure();
  Composer c(ic, node);
  return c.bind(
      0, negativeLogLikelihood(c, *input, *target, ic.getOptionalInput(node, 2),
                               ic.getStringAttr(node, "reduction", "mean"),
                               ignoreIndex(ic, node)));
}

LogicalResult convertSoftmaxCrossEntropyLoss(ImportContext &ic,
                                             const Node &node) {
  FailureOr<Value> scores = ic.getInput(node, 0), labels = ic.getInput(node, 1);
  if (failed(scores) || failed(labels))
    return failure();
  if (typeOf(*scores).getRank() < 2)
    return ic.emitError(node)
           << "expects scores of shape N x C x ..., found " << typeOf(*scores);
  if (failed(requireFloat(ic, node, *scores, "the scores")))
    return failure();
  Composer c(ic, node);
  V logProb = ic.create<SoftmaxOp>(node, *scores, 1, /*log=*/true);
  if (failed(logProb))
    return failure();
  if (wantsOutput(node, 1))
    ic.setOutput(node, 1, *logProb);
  return c.bind(0, negativeLogLikelihood(
                       c, *logProb, *labels, ic.getOptionalInput(node, 2),
                       ic.getStringAttr(node, "reduction", "mean"),
                       ignoreIndex(ic, node)));
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

enum class NormReduction { L1, L2, SumSquare, LogSum, LogSumExp };

ConvertFn normReduction(NormReduction kind, bool axesFromInput) {
  return [=](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    bool noop = false;
    FailureOr<SmallVector<int64_t>> axes =
        getReduceAxes(ic, node, *x, axesFromInput, noop);
    if (failed(axes))
      return failure();
    if (noop) {
      ic.setOutput(node, 0, *x);
      return success();
    }
    bool keep = ic.getIntAttr(node, "keepdims", 1) != 0;
    if (kind != NormReduction::L1 && kind != NormReduction::SumSquare &&
        failed(requireFloat(ic, node, *x)))
      return failure();
    Composer c(ic, node);
    switch (kind) {
    case NormReduction::L1:
      return c.bind(0, c.reduce(ReduceKind::Sum, c.unary(UnaryKind::Abs, *x),
                                *axes, keep));
    case NormReduction::SumSquare:
      return c.bind(0, c.reduce(ReduceKind::Sum, c.mul(*x, *x), *axes, keep));
    case NormReduction::L2:
      return c.bind(
          0, c.unary(UnaryKind::Sqrt,
                     c.reduce(ReduceKind::Sum, c.mul(*x, *x), *axes, keep)));
    case NormReduction::LogSum:
      return c.bind(0, c.unary(UnaryKind::Log,
                               c.reduce(ReduceKind::Sum, *x, *axes, keep)));
    case NormReduction::LogSumExp: {
      // log(sum(exp(x - m))) + m with m the max: no overflow in exp.
      V m = c.reduce(ReduceKind::Max, *x, *axes, /*keepDims=*/true);
      V sum = c.reduce(ReduceKind::Sum, c.unary(UnaryKind::Exp, c.sub(*x, m)),
                       *axes, keep);
      if (failed(sum))
        return failure();
      return c.bind(0, c.add(c.unary(UnaryKind::Log, sum),
                             c.reshape(m, typeOf(*sum).getShape())));
    }
    }
    llvm_unreachable("unknown reduction");
  };
}

//===----------------------------------------------------------------------===//
// Arg reductions
//===----------------------------------------------------------------------===//

/// The index along `axis` of the greatest (`max`) or least element of `x`:
/// the first one that attains it, or with `last` the last one; kept as a
/// dim of size 1 with `keepDims`. i64.
V argReduce(Composer &c, Value x, int64_t axis, bool max, bool last,
            bool keepDims) {
  int64_t n = typeOf(x).getDimSize(axis), rank = typeOf(x).getRank();
  V extreme = c.reduce(max ? ReduceKind::Max : ReduceKind::Min, x, {axis},
                       /*keepDims=*/true);
  V attains = c.compare(CompareKind::Eq, x, extreme);
  Type i64 = c.ic.builder.getI64Type();
  V candidates =
      c.select(attains, c.iota(n, axis, rank), c.scalar(i64, last ? -1 : n));
  return c.reduce(last ? ReduceKind::Max : ReduceKind::Min, candidates, {axis},
                  keepDims);
}

ConvertFn convertArgReduce(bool max) {
  return [max](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    int64_t rank = typeOf(*x).getRank();
    if (rank == 0)
      return ic.emitError(node) << "expects an input of rank at least 1";
    FailureOr<int64_t> axis =
        ic.normalizeAxis(node, ic.getIntAttr(node, "axis", 0), rank);
    if (failed(axis))
      return failure();
    if (typeOf(*x).getDimSize(*axis) == 0)
      return ic.emitError(node) << "has no element along axis " << *axis;
    Composer c(ic, node);
    return c.bind(0, argReduce(c, *x, *axis, max,
                               ic.getIntAttr(node, "select_last_index", 0) != 0,
                               ic.getIntAttr(node, "keepdims", 1) != 0));
  };
}

/// Hardmax: 1 at the first greatest element along the axis, 0 elsewhere.
/// Before opset 13 the input is seen as 2-D, [dims before axis] x [the
/// rest], and the axis is that second dim.
ConvertFn hardmax(bool singleAxis) {
  return [singleAxis](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    int64_t rank = type.getRank();
    if (rank == 0)
      return ic.emitError(node) << "expects an input of rank at least 1";
    FailureOr<int64_t> axis = ic.normalizeAxis(
        node, ic.getIntAttr(node, "axis", singleAxis ? -1 : 1), rank);
    if (failed(axis))
      return failure();
    Composer c(ic, node);
    V in = *x;
    int64_t along = *axis;
    if (!singleAxis) {
      ArrayRef<int64_t> shape = type.getShape();
      auto count = [](ArrayRef<int64_t> dims) {
        return std::accumulate(dims.begin(), dims.end(), int64_t{1},
                               std::multiplies<int64_t>());
      };
      in = c.reshape(
          *x, {count(shape.take_front(*axis)), count(shape.drop_front(*axis))});
      along = 1;
    }
    if (failed(in))
      return failure();
    RankedTensorType inType = typeOf(*in);
    if (inType.getDimSize(along) == 0)
      return c.bind(0, *x);
    V first = argReduce(c, *in, along, /*max=*/true, /*last=*/false,
                        /*keepDims=*/true);
    Type element = type.getElementType();
    V onehot = c.select(
        c.compare(CompareKind::Eq,
                  c.iota(inType.getDimSize(along), along, inType.getRank()),
                  first),
        c.scalar(element, 1), c.scalar(element, 0));
    return c.bind(0, c.reshape(onehot, type.getShape()));
  };
}

//===----------------------------------------------------------------------===//
// One-hot and identity matrices
//===----------------------------------------------------------------------===//

/// OneHot: `values[1]` where the index (counted from the end when negative,
/// since opset 11) equals the position along the new axis, else
/// `values[0]`; an index outside [-depth, depth) gives `values[0]`
/// everywhere.
LogicalResult convertOneHot(ImportContext &ic, const Node &node) {
  FailureOr<Value> indices = ic.getInput(node, 0),
                   values = ic.getInput(node, 2);
  if (failed(indices) || failed(values))
    return failure();
  FailureOr<int64_t> depth = requireScalarInput(ic, node, 1, "the depth");
  if (failed(depth))
    return failure();
  if (*depth <= 0)
    return ic.emitError(node) << "expects a positive depth, found " << *depth;
  if (typeOf(*values).getShape() != ArrayRef<int64_t>{2})
    return ic.emitError(node)
           << "expects values of shape 2 (off, on), found " << typeOf(*values);
  int64_t rank = typeOf(*indices).getRank() + 1;
  FailureOr<int64_t> axis =
      ic.normalizeAxis(node, ic.getIntAttr(node, "axis", -1), rank);
  if (failed(axis))
    return failure();
  Composer c(ic, node);
  Type i64 = ic.builder.getI64Type();
  // Float indices are truncated to integers, as ONNX Runtime does.
  V index = c.cast(*indices, i64);
  if (ic.opset >= 11)
    index = c.select(c.compare(CompareKind::Lt, index, c.intScalar(i64, 0)),
                     c.add(index, c.intScalar(i64, *depth)), index);
  SmallVector<int64_t> shape(typeOf(*indices).getShape());
  shape.insert(shape.begin() + *axis, 1);
  V hot = c.compare(CompareKind::Eq, c.reshape(index, shape),
                    c.iota(*depth, *axis, rank));
  return c.bind(0, c.select(hot, c.element(*values, 1), c.element(*values, 0)));
}

/// EyeLike: ones on the `k`-th diagonal of a 2-D tensor of the input's
/// shape, zeros elsewhere, as `column == row + k` of two index ranges.
LogicalResult convertEyeLike(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (type.getRank() != 2)
    return ic.emitError(node) << "expects a 2-D input, found " << type;
  Type element = type.getElementType();
  if (const onnx::AttributeProto *dtype = ic.findAttr(node, "dtype")) {
    element = convertElementType(ic.builder.getContext(), dtype->i());
    if (!element)
      return ic.emitError(node)
             << "unsupported element type " << onnxElementTypeName(dtype->i());
  }
  if (element.isInteger(1))
    return ic.emitError(node) << "expects a number element type, found bool";
  int64_t k = ic.getIntAttr(node, "k", 0);
  Composer c(ic, node);
  Type i64 = ic.builder.getI64Type();
  V rows = c.iota(type.getDimSize(0), 0, 2);
  V diagonal = c.compare(CompareKind::Eq, c.iota(type.getDimSize(1), 1, 2),
                         c.add(rows, c.intScalar(i64, k)));
  return c.bind(0, c.broadcast(c.select(diagonal, c.scalar(element, 1),
                                        c.scalar(element, 0)),
                               type.getShape()));
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Mean of its inputs (broadcast together): their sum over their count.
LogicalResult convertMean(ImportContext &ic, const Node &node) {
  int n = ic.numInputs(node);
  if (n == 0)
    return ic.emitError(node) << "expects at least one input";
  Composer c(ic, node);
  V sum = ic.getInput(node, 0);
  if (failed(sum) || failed(requireFloat(ic, node, *sum)))
    return failure();
  for (int i = 1; i < n; ++i)
    sum = c.add(sum, ic.getInput(node, i));
  if (failed(sum) || n == 1)
    return c.bind(0, sum);
  return c.bind(0, c.div(sum, c.scalar(typeOf(*sum).getElementType(), n)));
}

/// Mod: the remainder with the divisor's sign (fmod = 0, Python's %) or
/// the dividend's (fmod = 1, C's fmod).
LogicalResult convertMod(ImportContext &ic, const Node &node) {
  FailureOr<Value> a = ic.getInput(node, 0), b = ic.getInput(node, 1);
  if (failed(a) || failed(b))
    return failure();
  Composer c(ic, node);
  return c.bind(0,
                c.binary(ic.getIntAttr(node, "fmod", 0) != 0 ? BinaryKind::FMod
                                                             : BinaryKind::Mod,
                         *a, *b));
}

LogicalResult convertCastLike(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0), like = ic.getInput(node, 1);
  if (failed(x) || failed(like))
    return failure();
  Composer c(ic, node);
  return c.bind(0, c.cast(*x, typeOf(*like).getElementType()));
}

LogicalResult convertIsNaN(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x) || failed(requireFloat(ic, node, *x)))
    return failure();
  Composer c(ic, node);
  return c.bind(0, c.compare(CompareKind::Ne, *x, *x));
}

LogicalResult convertIsInf(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x) || failed(requireFloat(ic, node, *x)))
    return failure();
  Composer c(ic, node);
  Type element = typeOf(*x).getElementType();
  double inf = std::numeric_limits<double>::infinity();
  bool negative = ic.getIntAttr(node, "detect_negative", 1) != 0;
  bool positive = ic.getIntAttr(node, "detect_positive", 1) != 0;
  if (negative && positive)
    return c.bind(0, c.compare(CompareKind::Eq, c.unary(UnaryKind::Abs, *x),
                               c.scalar(element, inf)));
  if (negative || positive)
    return c.bind(0, c.compare(CompareKind::Eq, *x,
                               c.scalar(element, positive ? inf : -inf)));
  // Neither: false everywhere (a NaN too).
  return c.bind(0, c.compare(CompareKind::Lt, *x, *x));
}

/// Sign: -1, 0 or 1 (NaN stays NaN: x * 0 where x is neither above nor
/// below zero).
LogicalResult convertSign(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  Type element = typeOf(*x).getElementType();
  if (element.isInteger(1))
    return ic.emitError(node) << "expects number elements, found bool";
  Composer c(ic, node);
  Value zero = c.scalar(element, 0);
  V inner = c.select(c.compare(CompareKind::Gt, *x, zero), c.scalar(element, 1),
                     c.mul(*x, zero));
  return c.bind(0, c.select(c.compare(CompareKind::Lt, *x, zero),
                            c.scalar(element, -1), inner));
}

/// Shrink: x + bias below -lambd, x - bias above lambd, 0 between.
LogicalResult convertShrink(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  Type element = typeOf(*x).getElementType();
  if (element.isInteger(1))
    return ic.emitError(node) << "expects number elements, found bool";
  double lambd = ic.getFloatAttr(node, "lambd", 0.5f);
  double bias = ic.getFloatAttr(node, "bias", 0.0f);
  Composer c(ic, node);
  V above = c.select(c.compare(CompareKind::Gt, *x, c.scalar(element, lambd)),
                     c.sub(*x, c.scalar(element, bias)), c.scalar(element, 0));
  return c.bind(
      0, c.select(c.compare(CompareKind::Lt, *x, c.scalar(element, -lambd)),
                  c.add(*x, c.scalar(element, bias)), above));
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

/// DepthToSpace (`toSpace`) and SpaceToDepth on N x C x H x W, as a
/// reshape, a transpose and a reshape.
ConvertFn depthSpace(bool toSpace) {
  return [toSpace](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    if (type.getRank() != 4)
      return ic.emitError(node) << "expects a 4-D input (N x C x H x W), "
                                << "found " << type;
    int64_t b = ic.getIntAttr(node, "blocksize", 0);
    if (b <= 0 || b > (int64_t{1} << 20))
      return ic.emitError(node) << "expects a positive blocksize, found " << b;
    int64_t n = type.getDimSize(0), ch = type.getDimSize(1),
            h = type.getDimSize(2), w = type.getDimSize(3), hb, wb;
    if (__builtin_mul_overflow(h, b, &hb) || __builtin_mul_overflow(w, b, &wb))
      return ic.emitError(node) << "blocksize " << b << " overflows the "
                                << "spatial dims";
    Composer c(ic, node);
    if (toSpace) {
      if (ch % (b * b) != 0)
        return ic.emitError(node)
               << "expects channels (" << ch << ") divisible by blocksize^2 ("
               << b * b << ")";
      std::string mode = ic.getStringAttr(node, "mode", "DCR");
      if (mode != "DCR" && mode != "CRD")
        return ic.emitError(node)
               << "unknown mode '" << mode << "' (expected DCR or CRD)";
      int64_t cOut = ch / (b * b);
      bool dcr = mode == "DCR";
      V split = dcr ? c.reshape(*x, {n, b, b, cOut, h, w})
                    : c.reshape(*x, {n, cOut, b, b, h, w});
      V moved = dcr ? c.transpose(split, {0, 3, 4, 1, 5, 2})
                    : c.transpose(split, {0, 1, 4, 2, 5, 3});
      return c.bind(0, c.reshape(moved, {n, cOut, hb, wb}));
    }
    if (h % b != 0 || w % b != 0)
      return ic.emitError(node)
             << "expects height and width (" << h << ", " << w
             << ") divisible by the blocksize (" << b << ")";
    V split = c.reshape(*x, {n, ch, h / b, b, w / b, b});
    return c.bind(0, c.reshape(c.transpose(split, {0, 3, 5, 1, 2, 4}),
                               {n, ch * b * b, h / b, w / b}));
  };
}

/// Tile: each dim d repeated repeats[d] times, as a broadcast of the input
/// with a new dim of size repeats[d] before each d, merged with it.
LogicalResult convertTile(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  FailureOr<SmallVector<int64_t>> repeats =
      ic.requireIntsInput(node, 1, "the repeats");
  if (failed(x) || failed(repeats))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (static_cast<int64_t>(repeats->size()) != type.getRank())
    return ic.emitError(node)
           << "expects " << type.getRank() << " repeats (one per dim), found "
           << repeats->size();
  SmallVector<int64_t> spread, stretched, merged;
  for (auto [d, r] : llvm::zip(type.getShape(), *repeats)) {
    if (r < 1)
      return ic.emitError(node) << "expects repeats of at least 1, found " << r;
    spread.append({1, d});
    stretched.append({r, d});
    int64_t m;
    if (__builtin_mul_overflow(r, d, &m))
      return ic.emitError(node)
             << "repeats " << r << " of a dim of " << d << " overflow";
    merged.push_back(m);
  }
  Composer c(ic, node);
  return c.bind(
      0, c.reshape(c.broadcast(c.reshape(*x, spread), stretched), merged));
}

/// `x` moved by `by` positions along `axis`, towards the end (or, with
/// `backwards`, towards the start), zeros filling in.
V shifted(Composer &c, V x, int64_t axis, int64_t by, bool backwards) {
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  SmallVector<int64_t> zerosShape(shape), keptShape(shape),
      offsets(shape.size(), 0);
  zerosShape[axis] = by;
  keptShape[axis] = shape[axis] - by;
  if (backwards)
    offsets[axis] = by;
  V zeros = c.broadcast(c.scalar(typeOf(*x).getElementType(), 0), zerosShape);
  V kept = c.slice(x, offsets, keptShape);
  return backwards ? c.concat({kept, zeros}, axis)
                   : c.concat({zeros, kept}, axis);
}

/// CumSum: log2(n) steps of `y += y shifted by 2^k` along the axis (a
/// parallel prefix sum); reverse shifts the other way, exclusive shifts the
/// result by one.
LogicalResult convertCumSum(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  FailureOr<SmallVector<int64_t>> axes =
      ic.requireIntsInput(node, 1, "the axis");
  if (failed(x) || failed(axes))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (type.getElementType().isInteger(1))
    return ic.emitError(node) << "expects number elements, found bool";
  if (axes->size() != 1)
    return ic.emitError(node) << "expects one axis, found " << axes->size();
  FailureOr<int64_t> axis =
      ic.normalizeAxis(node, axes->front(), type.getRank());
  if (failed(axis))
    return failure();
  bool reverse = ic.getIntAttr(node, "reverse", 0) != 0;
  int64_t n = type.getDimSize(*axis);
  Composer c(ic, node);
  V y = *x;
  for (int64_t by = 1; by < n; by *= 2)
    y = c.add(y, shifted(c, y, *axis, by, reverse));
  if (ic.getIntAttr(node, "exclusive", 0) != 0 && n > 0)
    y = shifted(c, y, *axis, 1, reverse);
  return c.bind(0, y);
}

/// GatherND as a gather of the data's leading dims flattened: the linear
/// index of each index tuple (negative coordinates counted from the end;
/// a tuple with a coordinate outside its dim gets an index outside the
/// flattened dims, which the gather reports), plus the batch's offset.
LogicalResult convertGatherND(ImportContext &ic, const Node &node) {
  FailureOr<Value> data = ic.getInput(node, 0), indices = ic.getInput(node, 1);
  if (failed(data) || failed(indices))
    return failure();
  ArrayRef<int64_t> d = typeOf(*data).getShape(),
                    q = typeOf(*indices).getShape();
  int64_t b = ic.getIntAttr(node, "batch_dims", 0);
  int64_t r = d.size(), qr = q.size();
  if (qr < 1 || !typeOf(*indices).getElementType().isInteger() ||
      typeOf(*indices).getElementType().isInteger(1))
    return ic.emitError(node) << "expects integer indices of rank at least 1";
  int64_t k = q.back();
  if (b < 0 || b >= qr || b >= r || k < 1 || b + k > r ||
      d.take_front(b) != q.take_front(b))
    return ic.emitError(node)
           << "expects indices of tuples of 1 to " << r - b
           << " coordinates after " << b << " batch dims matching the data's";
  Composer c(ic, node);
  Type i64 = ic.builder.getI64Type();
  SmallVector<int64_t> dims(d.slice(b, k)), strides(k, 1);
  for (int64_t j = k - 2; j >= 0; --j)
    strides[j] = strides[j + 1] * dims[j + 1];
  auto vectorConstant = [&](ArrayRef<int64_t> values) -> Value {
    auto type =
        RankedTensorType::get({static_cast<int64_t>(values.size())}, i64);
    return ic.createConstant(ic.getLoc(node),
                             DenseElementsAttr::get(type, values));
  };
  Value dimsC = vectorConstant(dims);
  V idx = c.cast(*indices, i64);
  V negative = c.compare(CompareKind::Lt, idx, c.scalar(i64, 0));
  V outside =
      c.binary(BinaryKind::Or,
               c.compare(CompareKind::Lt, idx, c.unary(UnaryKind::Neg, dimsC)),
               c.compare(CompareKind::Ge, idx, dimsC));
  idx = c.select(negative, c.add(idx, dimsC), idx);
  V linear = c.reduce(ReduceKind::Sum, c.mul(idx, vectorConstant(strides)),
                      {qr - 1}, false);
  int64_t block = strides.front() * dims.front();
  if (b > 0) {
    int64_t batches = 1;
    for (int64_t v : q.take_front(b))
      batches *= v;
    if (batches > Composer::kMaxIndexRange)
      return ic.emitError(node) << "has " << batches << " batches; at most "
                                << Composer::kMaxIndexRange << " are supported";
    SmallVector<int64_t> offsets(batches);
    for (int64_t i = 0; i < batches; ++i)
      offsets[i] = i * block;
    SmallVector<int64_t> shape(q.take_front(b));
    shape.append(qr - 1 - b, 1);
    auto type = RankedTensorType::get(shape, i64);
    linear = c.add(linear, ic.createConstant(ic.getLoc(node),
                                             DenseElementsAttr::get(
                                                 type, ArrayRef(offsets))));
  }
  int64_t total = block;
  for (int64_t v : d.take_front(b))
    total *= v;
  V bad = c.compare(
      CompareKind::Gt,
      c.reduce(ReduceKind::Max, c.cast(outside, i64), {qr - 1}, false),
      c.scalar(i64, 0));
  linear = c.select(bad, c.intScalar(i64, total), linear);
  SmallVector<int64_t> flat{total};
  llvm::append_range(flat, d.drop_front(b + k));
  return c.bind(0, c.gather(c.reshape(*data, flat), linear, 0));
}

/// LRN: x / (bias + alpha / size * the sum of squares over the `size`
/// channels around each)^beta, the sum as shifted slices of the squares
/// padded with zeros.
LogicalResult convertLRN(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x) || failed(requireFloat(ic, node, *x)))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t size = ic.getIntAttr(node, "size", 0);
  if (type.getRank() < 3)
    return ic.emitError(node) << "expects an input of shape N x C x D1 ..., "
                              << "found " << type;
  if (size <= 0 || size > 4096)
    return ic.emitError(node)
           << "expects a size from 1 to 4096, found " << size;
  Type element = type.getElementType();
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  Composer c(ic, node);
  V squares = c.mul(*x, *x);
  SmallVector<int64_t> padShape(type.getShape());
  SmallVector<V> parts;
  for (int64_t count : {before, int64_t{-1}, after}) {
    if (count == 0)
      continue;
    if (count < 0) {
      parts.push_back(squares);
      continue;
    }
    padShape[1] = count;
    parts.push_back(c.broadcast(c.scalar(element, 0), padShape));
  }
  V padded = parts.size() == 1 ? parts[0] : c.concat(parts, 1);
  V sum;
  SmallVector<int64_t> offsets(type.getRank(), 0);
  for (int64_t j = 0; j < size; ++j) {
    offsets[1] = j;
    V window = c.slice(padded, offsets, type.getShape());
    sum = j == 0 ? window : c.add(sum, window);
  }
  double alpha = ic.getFloatAttr(node, "alpha", 1e-4f),
         beta = ic.getFloatAttr(node, "beta", 0.75f),
         bias = ic.getFloatAttr(node, "bias", 1.0f);
  V base = c.add(c.mul(sum, c.scalar(element, alpha / size)),
                 c.scalar(element, bias));
  return c.bind(
      0, c.div(*x, c.binary(BinaryKind::Pow, base, c.scalar(element, beta))));
}

/// HannWindow, HammingWindow, BlackmanWindow: a constant of `size` values
/// (known at compile time), `a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N)`
/// with N = size (periodic) or size - 1 (symmetric).
ConvertFn window(double a0, double a1, double a2) {
  return [=](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<int64_t> size = requireScalarInput(ic, node, 0, "the size");
    if (failed(size))
      return failure();
    if (*size < 0 || *size > kMaxWindowSize)
      return ic.emitError(node) << "expects a size from 0 to " << kMaxWindowSize
                                << ", found " << *size;
    Type element = convertElementType(
        ic.builder.getContext(), ic.getIntAttr(node, "output_datatype", 1));
    if (!element || element.isInteger(1))
      return ic.emitError(node) << "unsupported output_datatype";
    bool periodic = ic.getIntAttr(node, "periodic", 1) != 0;
    double n = static_cast<double>(periodic ? *size : *size - 1);
    SmallVector<Attribute> values;
    for (int64_t i = 0; i < *size; ++i) {
      double t = 2 * M_PI * static_cast<double>(i) / n;
      double v = a0 - a1 * std::cos(t) + a2 * std::cos(2 * t);
      values.push_back(isa<FloatType>(element)
                           ? Attribute(ic.builder.getFloatAttr(element, v))
                           : Attribute(ic.builder.getIntegerAttr(
                                 element, static_cast<int64_t>(v))));
    }
    auto type = RankedTensorType::get({*size}, element);
    ic.setOutput(node, 0,
                 ic.createConstant(ic.getLoc(node),
                                   DenseElementsAttr::get(type, values)));
    return success();
  };
}

//===----------------------------------------------------------------------===//
// Transposed convolution
//===----------------------------------------------------------------------===//

/// `x` with `stride - 1` zeros between its elements along `axis`.
V insertZeros(Composer &c, V x, int64_t axis, int64_t stride) {
  if (failed(x) || stride == 1)
    return x;
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  SmallVector<int64_t> split(shape.take_front(axis + 1)), gap;
  split.push_back(1);
  llvm::append_range(split, shape.drop_front(axis + 1));
  gap = split;
  gap[axis + 1] = stride - 1;
  Type element = typeOf(*x).getElementType();
  V spread = c.concat(
      {c.reshape(x, split), c.broadcast(c.scalar(element, 0), gap)}, axis + 1);
  SmallVector<int64_t> merged(shape), kept(shape);
  merged[axis] *= stride;
  kept[axis] = (shape[axis] - 1) * stride + 1;
  return c.slice(c.reshape(spread, merged),
                 SmallVector<int64_t>(shape.size(), 0), kept);
}

/// The window of a ConvTranspose over `dims` spatial dims: the kernel (the
/// weight's), strides, dilations, output padding and the pads (given, or
/// from output_shape or auto_pad, floored as the ONNX reference floors a
/// negative total), each checked within bounds that keep the arithmetic in
/// 64 bits.
struct TransposedWindow {
  SmallVector<int64_t> kernel, strides, dilations, outputPadding, pads;
};
FailureOr<TransposedWindow>
getTransposedWindow(ImportContext &ic, const Node &node, RankedTensorType xType,
                    RankedTensorType wType, unsigned dims) {
  int64_t group = ic.getIntAttr(node, "group", 1);
  int64_t channels = xType.getDimSize(1);
  if (wType.getRank() != static_cast<int64_t>(dims) + 2 || group <= 0 ||
      channels % group != 0 || wType.getDimSize(0) != channels)
    return ic.emitError(node)
           << "expects a " << dims + 2 << "-D weight of " << channels
           << " input channels in " << group << " groups, found " << wType;
  TransposedWindow w;
  w.kernel.assign(wType.getShape().begin() + 2, wType.getShape().end());
  if (std::optional<SmallVector<int64_t>> k =
          ic.getIntsAttr(node, "kernel_shape");
      k && ArrayRef(*k) != ArrayRef(w.kernel))
    return ic.emitError(node)
           << "kernel_shape does not match the weight " << wType;
  auto ints = [&](StringRef name, size_t n, int64_t fill) {
    return ic.getIntsAttr(node, name).value_or(SmallVector<int64_t>(n, fill));
  };
  w.strides = ints("strides", dims, 1);
  w.dilations = ints("dilations", dims, 1);
  w.outputPadding = ints("output_padding", dims, 0);
  constexpr int64_t kLimit = int64_t{1} << 20;
  for (auto [name, values, least] :
       {std::tuple<const char *, ArrayRef<int64_t>, int64_t>{"strides",
                                                             w.strides, 1},
        {"dilations", w.dilations, 1},
        {"output_padding", w.outputPadding, 0}})
    if (values.size() != dims || llvm::any_of(values, [&](int64_t v) {
          return v < least || v > kLimit;
        }))
      return ic.emitError(node) << "expects " << dims << " " << name << " from "
                                << least << " to " << kLimit;
  for (unsigned d = 0; d < dims; ++d)
    if (w.kernel[d] > kLimit || xType.getDimSize(d + 2) > (int64_t{1} << 40))
      return ic.emitError(node) << "expects a kernel and input of at most "
                                << kLimit << " and 2^40 along each spatial dim";
  w.pads.assign(2 * dims, 0);
  std::string autoPad = ic.getStringAttr(node, "auto_pad", "NOTSET");
  std::optional<SmallVector<int64_t>> outputShape =
      ic.getIntsAttr(node, "output_shape");
  if (outputShape && outputShape->size() > dims)
    outputShape->erase(outputShape->begin(), outputShape->end() - dims);
  if (outputShape &&
      (outputShape->size() != dims || llvm::any_of(*outputShape, [](int64_t v) {
         return v < 1 || v > (int64_t{1} << 40);
       })))
    return ic.emitError(node)
           << "expects an output_shape of " << dims << " sizes from 1 to 2^40";
  if (outputShape || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (unsigned d = 0; d < dims; ++d) {
      int64_t in = xType.getDimSize(d + 2);
      int64_t out = outputShape ? (*outputShape)[d] : in * w.strides[d];
      int64_t total = w.strides[d] * (in - 1) + w.outputPadding[d] +
                      (w.kernel[d] - 1) * w.dilations[d] + 1 - out;
      // Floored (the ONNX reference's //): a negative total pads past the
      // end.
      int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2);
      w.pads[d] = autoPad == "SAME_UPPER" ? half : total - half;
      w.pads[d + dims] = total - w.pads[d];
    }
  } else if (autoPad == "NOTSET") {
    w.pads = ic.getIntsAttr(node, "pads").value_or(w.pads);
    if (w.pads.size() != 2 * dims || llvm::any_of(w.pads, [&](int64_t v) {
          return v < -(int64_t{1} << 40) || v > (int64_t{1} << 40);
        }))
      return ic.emitError(node)
             << "expects " << 2 * dims << " pads within +-2^40";
  } else if (autoPad != "VALID") {
    return ic.emitError(node) << "unknown auto_pad '" << autoPad << "'";
  }
  return w;
}

/// `x` with `before` and `after` zeros added along `axis`; a negative count
/// crops that many instead.
V padAlong(Composer &c, V x, int64_t axis, int64_t before, int64_t after) {
  if (failed(x))
    return failure();
  SmallVector<int64_t> shape(typeOf(*x).getShape()), offsets(shape.size(), 0);
  offsets[axis] = std::max<int64_t>(-before, 0);
  SmallVector<int64_t> kept(shape);
  kept[axis] -= offsets[axis] + std::max<int64_t>(-after, 0);
  Type element = typeOf(*x).getElementType();
  auto zeros = [&](int64_t count) {
    SmallVector<int64_t> zeroShape(shape);
    zeroShape[axis] = count;
    return c.broadcast(c.scalar(element, 0), zeroShape);
  };
  SmallVector<V> parts;
  if (before > 0)
    parts.push_back(zeros(before));
  parts.push_back(c.slice(x, offsets, kept));
  if (after > 0)
    parts.push_back(zeros(after));
  return parts.size() == 1 ? parts[0] : c.concat(parts, axis);
}

/// Of planes N x D x C x H x W, the depths first + i * step (i < count) as
/// a batch of N * count planes C x H x W.
V depthSlab(Composer &c, V planes, int64_t first, int64_t count,
            int64_t step) {
  if (failed(planes))
    return failure();
  ArrayRef<int64_t> s = typeOf(*planes).getShape();
  return c.reshape(c.slice(planes, {0, first, 0, 0, 0},
                           {s[0], count, s[2], s[3], s[4]}, {1, step, 1, 1, 1}),
                   {s[0] * count, s[2], s[3], s[4]});
}

/// N * D planes C x H x W back to N x C x D x H x W.
V fromDepthSlab(Composer &c, V planes, int64_t n, int64_t depth) {
  if (failed(planes))
    return failure();
  ArrayRef<int64_t> s = typeOf(*planes).getShape();
  return c.transpose(c.reshape(planes, {n, depth, s[1], s[2], s[3]}),
                     {0, 2, 1, 3, 4});
}

/// ConvTranspose (2-D; 1-D lifted to it) as the convolution of the input,
/// with stride - 1 zeros between its elements and padded by
/// dilation * (kernel - 1) less the pads, with the flipped filter whose
/// input and output channels are swapped per group.
LogicalResult convertConvTranspose(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0), w = ic.getInput(node, 1);
  if (failed(x) || failed(w))
    return failure();
  Value bias = ic.getOptionalInput(node, 2);
  RankedTensorType xType = typeOf(*x), wType = typeOf(*w);
  if (xType.getRank() != 4)
    return ic.emitError(node)
           << "only 1-D, 2-D and 3-D transposed convolutions "
              "(3-D to 5-D input) are supported, found rank "
           << xType.getRank();
  if (wType.getRank() != 4)
    return ic.emitError(node) << "expects a 4-D weight, found " << wType;
  FailureOr<TransposedWindow> window =
      getTransposedWindow(ic, node, xType, wType, 2);
  if (failed(window))
    return failure();
  int64_t group = ic.getIntAttr(node, "group", 1);
  int64_t channels = xType.getDimSize(1);
  const SmallVector<int64_t> &kernel = window->kernel,
                             &strides = window->strides,
                             &dilations = window->dilations,
                             &outputPadding = window->outputPadding,
                             &pads = window->pads;
  Composer c(ic, node);
  V spread = insertZeros(c, insertZeros(c, *x, 2, strides[0]), 3, strides[1]);
  if (failed(spread))
    return failure();
  // Pads of the convolution: negative ones crop the spread input.
  SmallVector<int64_t> convPads(4), offsets(4, 0),
      sizes(typeOf(*spread).getShape());
  for (int d = 0; d < 2; ++d) {
    int64_t reach = dilations[d] * (kernel[d] - 1);
    int64_t before = reach - pads[d];
    int64_t after = reach - pads[d + 2] + outputPadding[d];
    convPads[d] = std::max<int64_t>(before, 0);
    convPads[d + 2] = std::max<int64_t>(after, 0);
    offsets[d + 2] = std::max<int64_t>(-before, 0);
    sizes[d + 2] -= offsets[d + 2] + std::max<int64_t>(-after, 0);
    if (sizes[d + 2] <= 0)
      return ic.emitError(node)
             << "pads leave no output along spatial dim " << d;
  }
  V input = c.slice(spread, offsets, sizes);
  // The filter: C x M/g x kh x kw to M x C/g x kh x kw, flipped.
  int64_t outPerGroup = wType.getDimSize(1);
  V filter =
      c.reshape(c.transpose(c.reshape(*w, {group, channels / group, outPerGroup,
                                           kernel[0], kernel[1]}),
                            {0, 2, 1, 3, 4}),
                {group * outPerGroup, channels / group, kernel[0], kernel[1]});
  for (int d = 0; d < 2; ++d) {
    if (kernel[d] == 1)
      continue;
    SmallVector<int64_t> reversed(kernel[d]);
    for (int64_t i = 0; i < kernel[d]; ++i)
      reversed[i] = kernel[d] - 1 - i;
    auto indexType =
        RankedTensorType::get({kernel[d]}, ic.builder.getI64Type());
    filter = c.gather(
        filter,
        ic.createConstant(ic.getLoc(node), DenseElementsAttr::get(
                                               indexType, ArrayRef(reversed))),
        d + 2);
  }
  if (failed(input) || failed(filter))
    return failure();
  Builder &b = ic.builder;
  return c.bind(0, ic.create<Conv2DOp>(node, *input, *filter, bias,
                                       b.getDenseI64ArrayAttr({1, 1}),
                                       b.getDenseI64ArrayAttr(convPads),
                                       b.getDenseI64ArrayAttr(dilations),
                                       b.getI64IntegerAttr(group)));
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// |x|^p, with p = 1 and 2 as an abs and a square.
V absPower(Composer &c, V x, int64_t p) {
  if (failed(x))
    return failure();
  Type element = typeOf(*x).getElementType();
  if (p == 1)
    return c.unary(UnaryKind::Abs, x);
  if (p == 2)
    return c.mul(x, x);
  return c.binary(BinaryKind::Pow, c.unary(UnaryKind::Abs, x),
                  c.scalar(element, static_cast<double>(p)));
}

/// y^(1/p), with p = 1 and 2 as nothing and a square root.
V root(Composer &c, V y, int64_t p) {
  if (failed(y) || p == 1)
    return y;
  if (p == 2)
    return c.unary(UnaryKind::Sqrt, y);
  return c.binary(BinaryKind::Pow, y,
                  c.scalar(typeOf(*y).getElementType(), 1.0 / p));
}

/// The float input and the exponent `p` (1 to 64) of LpPool and
/// GlobalLpPool.
FailureOr<std::pair<Value, int64_t>> lpPoolInput(ImportContext &ic,
                                                 const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x) || failed(requireFloat(ic, node, *x)))
    return failure();
  int64_t p = ic.getIntAttr(node, "p", 2);
  if (p < 1 || p > 64)
    return ic.emitError(node) << "expects p from 1 to 64, found " << p;
  return std::make_pair(*x, p);
}

/// LpNormalization: x divided by its Lp norm along the axis (p is 1 or 2).
LogicalResult convertLpNormalization(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x) || failed(requireFloat(ic, node, *x)))
    return failure();
  int64_t p = ic.getIntAttr(node, "p", 2);
  if (p != 1 && p != 2)
    return ic.emitError(node) << "expects p 1 or 2, found " << p;
  FailureOr<int64_t> axis = ic.normalizeAxis(
      node, ic.getIntAttr(node, "axis", -1), typeOf(*x).getRank());
  if (failed(axis))
    return failure();
  Composer c(ic, node);
  V norm =
      root(c, c.reduce(ReduceKind::Sum, absPower(c, *x, p), {*axis}, true), p);
  return c.bind(0, c.div(*x, norm));
}

/// LpPool: (the sum of |x|^p over each window)^(1/p), the sum an average
/// pooling that counts the (zero) padding, times the window's size.
LogicalResult convertLpPool(ImportContext &ic, const Node &node) {
  FailureOr<std::pair<Value, int64_t>> in = lpPoolInput(ic, node);
  if (failed(in))
    return failure();
  auto [x, p] = *in;
  std::optional<SmallVector<int64_t>> kernel =
      ic.getIntsAttr(node, "kernel_shape");
  if (!kernel || kernel->empty())
    return ic.emitError(node) << "expects a kernel_shape";
  int64_t size = 1;
  for (int64_t k : *kernel) {
    if (k < 1 || k > (int64_t{1} << 20))
      return ic.emitError(node) << "expects kernel sizes from 1 to 2^20";
    size *= k;
  }
  Composer c(ic, node);
  V powered = absPower(c, x, p);
  if (failed(powered))
    return failure();
  const OpConverter *average = ic.lookupConverter("AveragePool");
  if (!average)
    return ic.emitError(node) << "needs AveragePool, which this opset lacks";
  Node pool = node;
  pool.set_op_type("AveragePool");
  pool.clear_attribute();
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() != "p" && a.name() != "count_include_pad")
      *pool.add_attribute() = a;
  onnx::AttributeProto &countPads = *pool.add_attribute();
  countPads.set_name("count_include_pad");
  countPads.set_type(onnx::AttributeProto::INT);
  countPads.set_i(1);
  FailureOr<Value> sum = convertAs(ic, pool, average->convert, *powered, {});
  if (failed(sum))
    return failure();
  Type element = typeOf(x).getElementType();
  return c.bind(
      0, root(c, c.mul(*sum, c.scalar(element, static_cast<double>(size))), p));
}

/// GlobalLpPool: (the sum of |x|^p over the spatial dims)^(1/p).
LogicalResult convertGlobalLpPool(ImportContext &ic, const Node &node) {
  FailureOr<std::pair<Value, int64_t>> in = lpPoolInput(ic, node);
  if (failed(in))
    return failure();
  auto [x, p] = *in;
  FailureOr<SmallVector<int64_t>> spatial = spatialAxes(ic, node, x);
  if (failed(spatial))
    return failure();
  Composer c(ic, node);
  return c.bind(
      0,
      root(c, c.reduce(ReduceKind::Sum, absPower(c, x, p), *spatial, true), p));
}

/// ReverseSequence: along the time axis, the first sequence_lens[b]
/// elements of batch b reversed, the rest kept; a GatherElements at
/// len - 1 - t for t < len (lengths are clamped to [0, T]).
LogicalResult convertReverseSequence(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0), lens = ic.getInput(node, 1);
  if (failed(x) || failed(lens))
    return failure();
  RankedTensorType xType = typeOf(*x);
  int64_t timeAxis = ic.getIntAttr(node, "time_axis", 0),
          batchAxis = ic.getIntAttr(node, "batch_axis", 1);
  if (xType.getRank() < 2 ||
      !((timeAxis == 0 && batchAxis == 1) || (timeAxis == 1 && batchAxis == 0)))
    return ic.emitError(node) << "expects time and batch axes 0 and 1 of an "
                                 "input of rank >= 2";
  int64_t steps = xType.getDimSize(timeAxis),
          batch = xType.getDimSize(batchAxis);
  RankedTensorType lensType = typeOf(*lens);
  if (lensType.getShape() != ArrayRef<int64_t>{batch} ||
      !isa<IntegerType>(lensType.getElementType()))
    return ic.emitError(node) << "expects " << batch
                              << " integer sequence_lens, found " << lensType;
  Composer c(ic, node);
  Type i64 = ic.builder.getI64Type();
  // [T, B] (or [B, T]) positions and lengths, then the source positions.
  SmallVector<int64_t> lensShape(2, 1);
  lensShape[batchAxis] = batch;
  V t = c.iota(steps, timeAxis, 2);
  V len = c.reshape(c.cast(*lens, i64), lensShape);
  len = c.select(c.compare(CompareKind::Lt, len, c.intScalar(i64, 0)),
                 c.intScalar(i64, 0), len);
  len = c.select(c.compare(CompareKind::Gt, len, c.intScalar(i64, steps)),
                 c.intScalar(i64, steps), len);
  V source = c.select(c.compare(CompareKind::Lt, t, len),
                      c.sub(c.sub(len, c.intScalar(i64, 1)), t), t);
  SmallVector<int64_t> indexShape(xType.getRank(), 1);
  indexShape[timeAxis] = steps;
  indexShape[batchAxis] = batch;
  V index = c.broadcast(c.reshape(source, indexShape), xType.getShape());
  return c.bind(0, c.gatherElements(*x, index, timeAxis));
}

/// InstanceNormalization: each (n, c) normalized over the spatial dims, then
/// scaled and shifted per channel.
LogicalResult convertInstanceNorm(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0), scale = ic.getInput(node, 1),
                   bias = ic.getInput(node, 2);
  if (failed(x) || failed(scale) || failed(bias) ||
      failed(requireFloat(ic, node, *x)))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t rank = type.getRank();
  if (rank < 3)
    return ic.emitError(node) << "expects an input of shape N x C x D1 ..., "
                              << "found " << type;
  int64_t ch = type.getDimSize(1);
  for (Value v : {*scale, *bias})
    if (typeOf(v).getShape() != ArrayRef<int64_t>{ch} ||
        typeOf(v).getElementType() != type.getElementType())
      return ic.emitError(node)
             << "expects scale and bias of " << ch << " "
             << type.getElementType() << ", found " << typeOf(v);
  SmallVector<int64_t> spatial, perChannel(rank, 1);
  for (int64_t d = 2; d < rank; ++d)
    spatial.push_back(d);
  perChannel[1] = ch;
  Type element = type.getElementType();
  Composer c(ic, node);
  V centered = c.sub(*x, c.reduce(ReduceKind::Mean, *x, spatial, true));
  V variance =
      c.reduce(ReduceKind::Mean, c.mul(centered, centered), spatial, true);
  V inverse = c.unary(
      UnaryKind::Rsqrt,
      c.add(variance,
            c.scalar(element, ic.getFloatAttr(node, "epsilon", 1e-5f))));
  return c.bind(
      0, c.add(c.mul(c.mul(centered, inverse), c.reshape(*scale, perChannel)),
               c.reshape(*bias, perChannel)));
}

/// MeanVarianceNormalization: (x - mean) / (standard deviation + 1e-9) over
/// `axes` (default 0, 2, 3), as ONNX's function body computes it.
LogicalResult convertMeanVarianceNorm(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x) || failed(requireFloat(ic, node, *x)))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  SmallVector<int64_t> axes =
      ic.getIntsAttr(node, "axes").value_or(SmallVector<int64_t>{0, 2, 3});
  for (int64_t &a : axes) {
    FailureOr<int64_t> n = ic.normalizeAxis(node, a, rank);
    if (failed(n))
      return failure();
    a = *n;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Type element = typeOf(*x).getElementType();
  Composer c(ic, node);
  V mean = c.reduce(ReduceKind::Mean, *x, axes, true);
  V variance = c.sub(c.reduce(ReduceKind::Mean, c.mul(*x, *x), axes, true),
                     c.mul(mean, mean));
  return c.bind(0,
                c.div(c.sub(*x, mean), c.add(c.unary(UnaryKind::Sqrt, variance),
                                             c.scalar(element, 1e-9))));
}

} // namespace

/// A 3-D convolution as a sum of 2-D ones, one per depth kd of the filter:
/// the input's depth slices kd * dilation + od * stride (od < D'), as a batch
/// of N * D' planes, convolved over H x W with the filter's plane kd.
/// Exact: each output is the same sum of products, added in a different
/// order. Other ranks go to `conv2D`.
ConvertFn onnx_import::conv3DAsSumOf2D(ConvertFn conv2D) {
  return [conv2D](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    if (typeOf(*x).getRank() != 5)
      return conv2D(ic, node);
    FailureOr<Value> w = ic.getInput(node, 1);
    if (failed(w))
      return failure();
    Value bias = ic.getOptionalInput(node, 2);
    RankedTensorType xType = typeOf(*x), wType = typeOf(*w);
    int64_t group = ic.getIntAttr(node, "group", 1);
    int64_t channels = xType.getDimSize(1);
    if (wType.getRank() != 5 || group <= 0 || channels % group != 0 ||
        wType.getDimSize(1) * group != channels)
      return ic.emitError(node) << "expects a 5-D weight of "
                                << channels / std::max<int64_t>(group, 1)
                                << " input channels per group (" << group
                                << " groups), found " << wType;
    SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
    if (std::optional<SmallVector<int64_t>> k =
            ic.getIntsAttr(node, "kernel_shape");
        k && ArrayRef(*k) != ArrayRef(kernel))
      return ic.emitError(node)
             << "kernel_shape does not match the weight " << wType;
    auto ints = [&](StringRef name, size_t n, int64_t fill) {
      return ic.getIntsAttr(node, name).value_or(SmallVector<int64_t>(n, fill));
    };
    SmallVector<int64_t> strides = ints("strides", 3, 1),
                         dilations = ints("dilations", 3, 1);
    constexpr int64_t kLimit = int64_t{1} << 20;
    for (auto [name, values] :
         {std::pair<const char *, ArrayRef<int64_t>>{"strides", strides},
          {"dilations", dilations}})
      if (values.size() != 3 ||
          llvm::any_of(values, [&](int64_t v) { return v < 1 || v > kLimit; }))
        return ic.emitError(node)
               << "expects 3 " << name << " from 1 to " << kLimit;
    for (int d = 0; d < 3; ++d)
      if (kernel[d] < 1 || kernel[d] > kLimit)
        return ic.emitError(node)
               << "expects a kernel of 1 to " << kLimit << " along each dim";
    // Pads: given, or from auto_pad as for a 2-D window.
    SmallVector<int64_t> pads(6, 0);
    std::string autoPad = ic.getStringAttr(node, "auto_pad", "NOTSET");
    if (autoPad == "NOTSET") {
      pads = ints("pads", 6, 0);
      if (pads.size() != 6 ||
          llvm::any_of(pads, [&](int64_t v) { return v < 0 || v > kLimit; }))
        return ic.emitError(node) << "expects 6 pads from 0 to " << kLimit;
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      for (int d = 0; d < 3; ++d) {
        int64_t in = xType.getDimSize(d + 2);
        int64_t out = (in + strides[d] - 1) / strides[d];
        int64_t span = (kernel[d] - 1) * dilations[d] + 1;
        int64_t total =
            std::max<int64_t>(0, (out - 1) * strides[d] + span - in);
        int64_t small = total / 2, large = total - small;
        pads[d] = autoPad == "SAME_UPPER" ? small : large;
        pads[d + 3] = total - pads[d];
      }
    } else if (autoPad != "VALID") {
      return ic.emitError(node) << "unknown auto_pad '" << autoPad << "'";
    }
    int64_t n = xType.getDimSize(0), depth = xType.getDimSize(2);
    int64_t padded = depth + pads[0] + pads[3];
    int64_t span = (kernel[0] - 1) * dilations[0] + 1;
    if (padded < span)
      return ic.emitError(node)
             << "the filter spans " << span << " of the depth but the padded "
             << "input has " << padded;
    int64_t outDepth = (padded - span) / strides[0] + 1;
    if (kernel[0] > Composer::kMaxIndexRange / outDepth)
      return ic.emitError(node) << "needs " << kernel[0] << " x " << outDepth
                                << " depth slices; at most "
                                << Composer::kMaxIndexRange << " are supported";
    Composer c(ic, node);
    // N x D x C x H x W, zero-padded along D.
    V planes = padAlong(c, c.transpose(*x, {0, 2, 1, 3, 4}), 1, pads[0],
                        pads[3]);
    int64_t outChannels = wType.getDimSize(0);
    Builder &b = ic.builder;
    V sum = failure();
    for (int64_t kd = 0; kd < kernel[0]; ++kd) {
      V slab = depthSlab(c, planes, kd * dilations[0], outDepth, strides[0]);
      V filter = c.reshape(
          c.slice(*w, {0, 0, kd, 0, 0},
                  {outChannels, channels / group, 1, kernel[1], kernel[2]}),
          {outChannels, channels / group, kernel[1], kernel[2]});
      if (failed(slab) || failed(filter))
        return failure();
      V part = ic.create<Conv2DOp>(
          node, *slab, *filter, kd == 0 ? bias : Value(),
          b.getDenseI64ArrayAttr({strides[1], strides[2]}),
          b.getDenseI64ArrayAttr({pads[1], pads[2], pads[4], pads[5]}),
          b.getDenseI64ArrayAttr({dilations[1], dilations[2]}),
          b.getI64IntegerAttr(group));
      sum = kd == 0 ? part : c.add(sum, part);
      if (failed(sum))
        return failure();
    }
    return c.bind(0, fromDepthSlab(c, sum, n, outDepth));
  };
}

/// ConvTranspose of a 5-D input: along D it is a convolution of the input
/// spread by the stride (stride - 1 zeros between depths) and padded by
/// dilation * (kernel - 1) less the pads, with the filter flipped; each
/// depth kd of that convolution is a 2-D transposed convolution over H x W
/// of N * D' planes with the filter's plane kernel - 1 - kd, and the planes
/// sum. Exact. Other ranks go to `convTranspose2D`.
ConvertFn onnx_import::convTranspose3DAsSumOf2D(ConvertFn convTranspose2D) {
  return [convTranspose2D](ImportContext &ic,
                           const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    if (typeOf(*x).getRank() != 5)
      return convTranspose2D(ic, node);
    FailureOr<Value> w = ic.getInput(node, 1);
    if (failed(w))
      return failure();
    RankedTensorType xType = typeOf(*x), wType = typeOf(*w);
    FailureOr<TransposedWindow> window =
        getTransposedWindow(ic, node, xType, wType, 3);
    if (failed(window))
      return failure();
    int64_t channels = xType.getDimSize(1);
    const SmallVector<int64_t> &kernel = window->kernel,
                               &strides = window->strides,
                               &dilations = window->dilations,
                               &outputPadding = window->outputPadding,
                               &pads = window->pads;
    int64_t n = xType.getDimSize(0), depth = xType.getDimSize(2);
    // Along D: the spread input padded by reach - pads (negative: cropped).
    int64_t reach = dilations[0] * (kernel[0] - 1);
    int64_t before = reach - pads[0],
            after = reach - pads[3] + outputPadding[0];
    int64_t spread = (depth - 1) * strides[0] + 1;
    int64_t padded = spread + before + after;
    int64_t outDepth = padded - reach;
    if (outDepth < 1)
      return ic.emitError(node) << "pads leave no output along the depth";
    if (kernel[0] > Composer::kMaxIndexRange / outDepth)
      return ic.emitError(node) << "needs " << kernel[0] << " x " << outDepth
                                << " depth slices; at most "
                                << Composer::kMaxIndexRange << " are supported";
    Composer c(ic, node);
    V planes = padAlong(
        c, insertZeros(c, c.transpose(*x, {0, 2, 1, 3, 4}), 1, strides[0]), 1,
        before, after);
    if (failed(planes))
      return failure();
    int64_t outPerGroup = wType.getDimSize(1);
    // The node without the attributes that the pads above replace.
    Node planar = node;
    planar.clear_attribute();
    for (const onnx::AttributeProto &a : node.attribute())
      if (a.name() != "auto_pad" && a.name() != "output_shape")
        *planar.add_attribute() = a;
    V sum = failure();
    for (int64_t kd = 0; kd < kernel[0]; ++kd) {
      V slab = depthSlab(c, planes, kd * dilations[0], outDepth, 1);
      V filter =
          c.reshape(c.slice(*w, {0, 0, kernel[0] - 1 - kd, 0, 0},
                            {channels, outPerGroup, 1, kernel[1], kernel[2]}),
                    {channels, outPerGroup, kernel[1], kernel[2]});
      if (failed(slab) || failed(filter))
        return failure();
      // The 2-D transposed convolution over H x W with the pads found
      // above; the bias once.
      SmallVector<std::pair<int, Value>> inputs = {{0, *slab}, {1, *filter}};
      if (kd > 0)
        inputs.push_back({2, Value()});
      FailureOr<Value> part =
          convertAs(ic, planar, convTranspose2D, inputs,
                    {{"strides", {strides[1], strides[2]}},
                     {"dilations", {dilations[1], dilations[2]}},
                     {"output_padding", {outputPadding[1], outputPadding[2]}},
                     {"pads", {pads[1], pads[2], pads[4], pads[5]}},
                     {"kernel_shape", {kernel[1], kernel[2]}}});
      if (failed(part))
        return failure();
      sum = kd == 0 ? V(*part) : c.add(sum, *part);
      if (failed(sum))
        return failure();
    }
    return c.bind(0, fromDepthSlab(c, sum, n, outDepth));
  };
}

ArrayRef<OpConverter> onnx_import::getCompositeConverters() {
  static const OpConverter converters[] = {
      {"NegativeLogLikelihoodLoss", 12, convertNegativeLogLikelihoodLoss},
      {"SoftmaxCrossEntropyLoss", 12, convertSoftmaxCrossEntropyLoss},
      {"ReduceL1", 1, normReduction(NormReduction::L1, false)},
      {"ReduceL1", 18, normReduction(NormReduction::L1, true),
       "axes not known at compile time"},
      {"ReduceL2", 1, normReduction(NormReduction::L2, false)},
      {"ReduceL2", 18, normReduction(NormReduction::L2, true),
       "axes not known at compile time"},
      {"ReduceSumSquare", 1, normReduction(NormReduction::SumSquare, false)},
      {"ReduceSumSquare", 18, normReduction(NormReduction::SumSquare, true),
       "axes not known at compile time"},
      {"ReduceLogSum", 1, normReduction(NormReduction::LogSum, false)},
      {"ReduceLogSum", 18, normReduction(NormReduction::LogSum, true),
       "axes not known at compile time"},
      {"ReduceLogSumExp", 1, normReduction(NormReduction::LogSumExp, false)},
      {"ReduceLogSumExp", 18, normReduction(NormReduction::LogSumExp, true),
       "axes not known at compile time"},
      {"ArgMax", 1, convertArgReduce(/*max=*/true)},
      {"ArgMin", 1, convertArgReduce(/*max=*/false)},
      {"Hardmax", 1, hardmax(/*singleAxis=*/false)},
      {"Hardmax", 13, hardmax(/*singleAxis=*/true)},
      {"OneHot", 9, convertOneHot, "a depth not known at compile time"},
      {"EyeLike", 9, convertEyeLike},
      {"Mean", 8, convertMean},
      {"Mod", 10, convertMod, "unsigned types"},
      {"CastLike", 15, convertCastLike, "strings and unsigned types"},
      {"IsNaN", 9, convertIsNaN},
      {"IsInf", 10, convertIsInf},
      {"Sign", 9, convertSign},
      {"Shrink", 9, convertShrink},
      {"DepthToSpace", 1, depthSpace(/*toSpace=*/true)},
      {"SpaceToDepth", 1, depthSpace(/*toSpace=*/false)},
      {"Tile", 6, convertTile, "repeats not known at compile time"},
      {"CumSum", 11, convertCumSum, "an axis not known at compile time"},
      {"GatherND", 11, convertGatherND},
      {"LRN", 1, convertLRN},
      {"HannWindow", 17, window(0.5, 0.5, 0.0),
       "a size not known at compile time"},
      {"HammingWindow", 17, window(25.0 / 46.0, 21.0 / 46.0, 0.0),
       "a size not known at compile time"},
      {"BlackmanWindow", 17, window(0.42, 0.5, 0.08),
       "a size not known at compile time"},
      {"ConvTranspose", 1,
       convTranspose3DAsSumOf2D(liftTo2D(convertConvTranspose, 1))},
      {"InstanceNormalization", 6, convertInstanceNorm},
      {"LpNormalization", 1, convertLpNormalization, "p other than 1 and 2"},
      {"LpPool", 2, convertLpPool},
      {"GlobalLpPool", 2, convertGlobalLpPool},
      {"ReverseSequence", 10, convertReverseSequence},
      {"MeanVarianceNormalization", 9, convertMeanVarianceNorm},
  };
  return converters;
}
