//===- GradientSupport.cpp - builder of the dist gradient rules -----------===//
//
// The dist ops that gradient rules are written with: constants, elementwise
// arithmetic, and the sums that undo a broadcast.
//
//===----------------------------------------------------------------------===//

#include "GradientSupport.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace distopt::dist;

Value GradBuilder::splat(RankedTensorType type, double value) {
  Attribute element = FloatAttr::get(type.getElementType(), value);
  auto attr = DenseElementsAttr::get(type, ArrayRef<Attribute>{element});
  return ConstantOp::create(builder, loc, type, attr);
}

Value GradBuilder::scalarLike(Value like, double value) {
  return splat(RankedTensorType::get({}, tensorTypeOf(like).getElementType()),
               value);
}

Value GradBuilder::zerosLike(Value like) {
  return splat(tensorTypeOf(like), 0.0);
}

Value GradBuilder::unary(UnaryKind kind, Value x) {
  return UnaryOp::create(builder, loc, kind, x);
}

Value GradBuilder::binary(BinaryKind kind, Value x, Value y) {
  return BinaryOp::create(builder, loc, kind, x, y);
}

Value GradBuilder::compare(CompareKind kind, Value x, Value y) {
  return CompareOp::create(builder, loc, kind, x, y);
}

Value GradBuilder::select(Value cond, Value onTrue, Value onFalse) {
  return SelectOp::create(builder, loc, cond, onTrue, onFalse);
}

Value GradBuilder::reshape(Value x, RankedTensorType type) {
  if (x.getType() == type)
    return x;
  return ReshapeOp::create(builder, loc, type, x);
}

Value GradBuilder::broadcast(Value x, RankedTensorType type) {
  if (x.getType() == type)
    return x;
  return BroadcastOp::create(builder, loc, type, x);
}

Value GradBuilder::reduce(ReduceKind kind, Value x, ArrayRef<int64_t> axes,
                          bool keepDims) {
  return ReduceOp::create(builder, loc, kind, x, axes, keepDims);
}

Value GradBuilder::transpose(Value x, ArrayRef<int64_t> perm) {
  return TransposeOp::create(builder, loc, x, perm);
}

Value GradBuilder::cast(Value x, Type elementType) {
  RankedTensorType type = tensorTypeOf(x);
  if (type.getElementType() == elementType)
    return x;
  return CastOp::create(builder, loc, type.clone(elementType), x);
}

Value GradBuilder::sumToType(Value grad, RankedTensorType target) {
  ArrayRef<int64_t> shape = tensorTypeOf(grad).getShape();
  ArrayRef<int64_t> want = target.getShape();
  int64_t lead = shape.size() - want.size();
  SmallVector<int64_t> axes;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    bool added = d < lead;
    bool stretched = !added && want[d - lead] == 1 && shape[d] != 1;
    if (added || stretched)
      axes.push_back(d);
  }
  // Summing over size-1 dims changes nothing; a reshape drops them.
  llvm::erase_if(axes, [&](int64_t d) { return shape[d] == 1; });
  Value summed = axes.empty() ? grad
                              : reduce(ReduceKind::Sum, grad, axes,
                                       /*keepDims=*/true);
  return reshape(summed, target);
}

RankedTensorType GradBuilder::keptType(RankedTensorType inputType,
                                       ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(inputType.getShape());
  for (int64_t a : axes)
    shape[a] = 1;
  return inputType.clone(shape);
}

Value GradBuilder::expandReduced(Value g, RankedTensorType inputType,
                                 ArrayRef<int64_t> axes) {
  RankedTensorType kept = keptType(inputType, axes);
  return broadcast(reshape(g, kept.clone(tensorTypeOf(g).getElementType())),
                   inputType.clone(tensorTypeOf(g).getElementType()));
}
