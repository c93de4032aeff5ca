//===- GradientRulesMovement.cpp - rules of the data movement ops ---------===//
//
// Reverse-mode rules of reshape, broadcast, transpose, slice, concat, split
// and gather. A slice's gradient is its result's gradient spread back to its
// positions (interleaved with zeros for strides) and padded with zero
// constants by concats; a gather's gradient is the backward op gather_grad
// (a scatter-add into zeros of the table's type). The gradients of the
// element gathers (gather_elements, top_k) are scatter-adds into zeros, and
// a scatter's is a gather of its result's gradient.
//
//===----------------------------------------------------------------------===//

#include "GradientSupport.h"

using namespace mlir;
using namespace distopt::dist;

LogicalResult distopt::dist::buildOpGradients(ReshapeOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  if (isFloatTensor(op.getInput()))
    grads[0] = gb.reshape(resultGrads[0], tensorTypeOf(op.getInput()));
  return success();
}

LogicalResult distopt::dist::buildOpGradients(BroadcastOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  if (isFloatTensor(op.getInput()))
    grads[0] = gb.sumToType(resultGrads[0], tensorTypeOf(op.getInput()));
  return success();
}

LogicalResult distopt::dist::buildOpGradients(TransposeOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(op.getInput()))
    return success();
  ArrayRef<int64_t> perm = op.getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  grads[0] = gb.transpose(resultGrads[0], inverse);
  return success();
}

/// `g` with zeros of its type but `size` along `axis`.
static Value zerosAlong(GradBuilder &gb, Value g, int64_t axis, int64_t size) {
  SmallVector<int64_t> shape(tensorTypeOf(g).getShape());
  shape[axis] = size;
  return gb.splat(tensorTypeOf(g).clone(shape), 0.0);
}

/// Concatenates the non-empty pieces along `axis`.
static Value concatPieces(GradBuilder &gb, ArrayRef<Value> pieces,
                          int64_t axis) {
  SmallVector<Value> nonEmpty;
  for (Value p : pieces)
    if (tensorTypeOf(p).getDimSize(axis) > 0)
      nonEmpty.push_back(p);
  if (nonEmpty.size() == 1)
    return nonEmpty.front();
  return ConcatOp::create(gb.builder, gb.loc, nonEmpty, axis);
}

/// Spreads `g` along `axis` to positions `offset + i * stride` of `size`,
/// zeros elsewhere.
static Value spreadAlong(GradBuilder &gb, Value g, int64_t axis, int64_t offset,
                         int64_t stride, int64_t size) {
  RankedTensorType type = tensorTypeOf(g);
  int64_t n = type.getDimSize(axis);
  if (stride > 1 && n > 1) {
    // [.., n, ..] -> [.., n, 1, ..] ++ zeros [.., n, stride - 1, ..] ->
    // [.., n * stride, ..], then the first (n - 1) * stride + 1.
    SmallVector<int64_t> split(type.getShape());
    split.insert(split.begin() + axis + 1, 1);
    Value column = gb.reshape(g, type.clone(split));
    Value rows = concatPieces(
        gb, {column, zerosAlong(gb, column, axis + 1, stride - 1)}, axis + 1);
    SmallVector<int64_t> merged(type.getShape());
    merged[axis] = n * stride;
    Value interleaved = gb.reshape(rows, type.clone(merged));
    SmallVector<int64_t> taken(merged);
    taken[axis] = (n - 1) * stride + 1;
    g = SliceOp::create(gb.builder, gb.loc, type.clone(taken), interleaved,
                        SmallVector<int64_t>(merged.size(), 0),
                        SmallVector<int64_t>(merged.size(), 1));
  }
  int64_t length = tensorTypeOf(g).getDimSize(axis);
  return concatPieces(gb,
                      {zerosAlong(gb, g, axis, offset), g,
                       zerosAlong(gb, g, axis, size - offset - length)},
                      axis);
}

LogicalResult distopt::dist::buildOpGradients(SliceOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(op.getInput()))
    return success();
  Value g = resultGrads[0];
  ArrayRef<int64_t> in = tensorTypeOf(op.getInput()).getShape();
  for (auto [d, size] : llvm::enumerate(in)) {
    int64_t offset = op.getOffsets()[d], stride = op.getStrides()[d];
    if (tensorTypeOf(g).getDimSize(d) == size)
      continue; // untouched (or every element taken)
    g = spreadAlong(gb, g, d, offset, stride, size);
  }
  grads[0] = g;
  return success();
}

LogicalResult distopt::dist::buildOpGradients(ConcatOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(op.getResult()))
    return success();
  SmallVector<Type> types(op.getInputs().getTypes());
  auto split =
      SplitOp::create(gb.builder, gb.loc, types, resultGrads[0], op.getAxis());
  for (auto [i, piece] : llvm::enumerate(split.getResults()))
    grads[i] = piece;
  return success();
}

LogicalResult distopt::dist::buildOpGradients(SplitOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(op.getInput()))
    return success();
  SmallVector<Value> pieces;
  for (auto [g, result] : llvm::zip(resultGrads, op.getResults()))
    pieces.push_back(g ? g : gb.zerosLike(result));
  grads[0] =
      pieces.size() == 1
          ? pieces.front()
          : Value(ConcatOp::create(gb.builder, gb.loc, pieces, op.getAxis()));
  return success();
}

LogicalResult distopt::dist::buildOpGradients(GatherOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(op.getData()))
    return success();
  // The gradient of a local form (a table split by rows) scatters into the
  // same block of rows.
  grads[0] = GatherGradOp::create(gb.builder, gb.loc, op.getData().getType(),
                                  resultGrads[0], op.getIndices(), op.getAxis(),
                                  op.getRowAxesAttr());
  return success();
}

LogicalResult distopt::dist::buildOpGradients(GatherElementsOp op,
                                              GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(op.getData()))
    return success();
  // Scatter-add into zeros: an element read twice gets both gradients.
  grads[0] = ScatterElementsOp::create(
      gb.builder, gb.loc, ScatterReduction::Add, gb.zerosLike(op.getData()),
      op.getIndices(), resultGrads[0], op.getAxis());
  return success();
}

LogicalResult distopt::dist::buildOpGradients(TopKOp op, GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  // The selected positions get the gradient of their values, the others
  // zero; the indices carry no gradient.
  if (!isFloatTensor(op.getInput()) || !resultGrads[0])
    return success();
  grads[0] = ScatterElementsOp::create(
      gb.builder, gb.loc, ScatterReduction::Add, gb.zerosLike(op.getInput()),
      op.getIndices(), resultGrads[0], op.getAxis());
  return success();
}

LogicalResult distopt::dist::buildOpGradients(ScatterElementsOp op,
                                              GradBuilder &gb,
                                              ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &grads) {
  // Each update reaches the result unchanged (none, add): its gradient is
  // the result's gradient where it landed. The data's elements pass through
  // an add; with none, those that an update overwrote get no gradient.
  ScatterReduction reduction = op.getReduction();
  if (!isFloatTensor(op.getData()))
    return success();
  if (reduction != ScatterReduction::None && reduction != ScatterReduction::Add)
    return op.emitOpError("has no gradient rule for reduction '")
           << stringifyScatterReduction(reduction) << "'";
  Value g = resultGrads[0];
  grads[0] =
      reduction == ScatterReduction::Add
          ? g
          : Value(ScatterElementsOp::create(
                gb.builder, gb.loc, ScatterReduction::None, g, op.getIndices(),
                gb.zerosLike(op.getUpdates()), op.getAxis()));
  grads[2] = GatherElementsOp::create(gb.builder, gb.loc, g, op.getIndices(),
                                      op.getAxis());
  return success();
}
