//===- GradientSupport.h - helpers of the dist gradient rules ---*- C++ -*-===//
//
// Private to lib/Dialect/Dist: the builder that gradient rules emit dist ops
// with, and the per-op rule functions that the GradientOpInterface external
// models (GradientRules.cpp) dispatch to.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_LIB_DIALECT_DIST_GRADIENTSUPPORT_H
#define DISTOPT_LIB_DIALECT_DIST_GRADIENTSUPPORT_H

#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/IR/Builders.h"

namespace distopt::dist {

/// Emits dist ops at a builder's insertion point, all at one location (the
/// location of the op whose gradient is built). Every value it takes and
/// returns is a ranked tensor; element types follow the operands.
class GradBuilder {
public:
  GradBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : builder(builder), loc(loc) {}

  /// A splat constant of `type` holding `value`.
  mlir::Value splat(mlir::RankedTensorType type, double value);
  /// A rank-0 constant of the element type of `like` holding `value`.
  mlir::Value scalarLike(mlir::Value like, double value);
  mlir::Value zerosLike(mlir::Value like);

  mlir::Value unary(UnaryKind kind, mlir::Value x);
  mlir::Value binary(BinaryKind kind, mlir::Value x, mlir::Value y);
  mlir::Value add(mlir::Value x, mlir::Value y) {
    return binary(BinaryKind::Add, x, y);
  }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    return binary(BinaryKind::Sub, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return binary(BinaryKind::Mul, x, y);
  }
  mlir::Value div(mlir::Value x, mlir::Value y) {
    return binary(BinaryKind::Div, x, y);
  }
  /// `x * c` for a constant `c`.
  mlir::Value scale(mlir::Value x, double c) {
    return mul(x, scalarLike(x, c));
  }
  mlir::Value compare(CompareKind kind, mlir::Value x, mlir::Value y);
  mlir::Value select(mlir::Value cond, mlir::Value onTrue, mlir::Value onFalse);
  /// `x` with `type`'s shape (`x` itself when it has it already).
  mlir::Value reshape(mlir::Value x, mlir::RankedTensorType type);
  /// `x` broadcast (NumPy rules) to `type` (`x` itself when it is `type`).
  mlir::Value broadcast(mlir::Value x, mlir::RankedTensorType type);
  mlir::Value reduce(ReduceKind kind, mlir::Value x,
                     llvm::ArrayRef<int64_t> axes, bool keepDims);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> perm);
  mlir::Value cast(mlir::Value x, mlir::Type elementType);
  /// Undoes a NumPy broadcast of a `target`-typed value to `grad`'s shape:
  /// sums `grad` over the dims that the broadcast added or stretched, then
  /// reshapes to `target`.
  mlir::Value sumToType(mlir::Value grad, mlir::RankedTensorType target);
  /// `g`, reshaped to the input of a reduction over `axes` with those dims
  /// kept (size 1), broadcast to `inputType`.
  mlir::Value expandReduced(mlir::Value g, mlir::RankedTensorType inputType,
                            llvm::ArrayRef<int64_t> axes);
  /// The type of a reduction of `inputType` over `axes` with kept dims.
  static mlir::RankedTensorType keptType(mlir::RankedTensorType inputType,
                                         llvm::ArrayRef<int64_t> axes);

  mlir::OpBuilder &builder;
  mlir::Location loc;
};

/// The ranked tensor type of `v`.
inline mlir::RankedTensorType tensorTypeOf(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}

/// True when `v` is a tensor of floating-point elements.
inline bool isFloatTensor(mlir::Value v) {
  auto t = llvm::dyn_cast<mlir::RankedTensorType>(v.getType());
  return t && llvm::isa<mlir::FloatType>(t.getElementType());
}

/// The gradient of a max (min) reduction of `x` over `axes` to `y` (kept
/// dims or not), given `g` of `y`'s type: `g` is shared evenly by the
/// positions that hold the extremum (as PyTorch's amax / amin).
mlir::Value extremumReductionGrad(GradBuilder &gb, mlir::Value x, mlir::Value y,
                                  mlir::Value g, llvm::ArrayRef<int64_t> axes);

/// The rule functions, one per op (GradientRules*.cpp). Each sets
/// `operandGrads[i]` (preset to one null entry per operand) for the operands
/// that get a gradient; `resultGrads` as in GradientOpInterface.
#define DISTOPT_GRADIENT_RULE(OpT)                                             \
  mlir::LogicalResult buildOpGradients(                                        \
      OpT op, GradBuilder &gb, llvm::ArrayRef<mlir::Value> resultGrads,        \
      llvm::SmallVectorImpl<mlir::Value> &operandGrads);
DISTOPT_GRADIENT_RULE(MatMulOp)
DISTOPT_GRADIENT_RULE(GemmOp)
DISTOPT_GRADIENT_RULE(Conv2DOp)
DISTOPT_GRADIENT_RULE(Pool2DOp)
DISTOPT_GRADIENT_RULE(GlobalPoolOp)
DISTOPT_GRADIENT_RULE(UnaryOp)
DISTOPT_GRADIENT_RULE(BinaryOp)
DISTOPT_GRADIENT_RULE(SelectOp)
DISTOPT_GRADIENT_RULE(CastOp)
DISTOPT_GRADIENT_RULE(ReduceOp)
DISTOPT_GRADIENT_RULE(SoftmaxOp)
DISTOPT_GRADIENT_RULE(LayerNormOp)
DISTOPT_GRADIENT_RULE(GatherOp)
DISTOPT_GRADIENT_RULE(ReshapeOp)
DISTOPT_GRADIENT_RULE(BroadcastOp)
DISTOPT_GRADIENT_RULE(TransposeOp)
DISTOPT_GRADIENT_RULE(SliceOp)
DISTOPT_GRADIENT_RULE(ConcatOp)
DISTOPT_GRADIENT_RULE(SplitOp)
DISTOPT_GRADIENT_RULE(TopKOp)
DISTOPT_GRADIENT_RULE(GatherElementsOp)
DISTOPT_GRADIENT_RULE(ScatterElementsOp)
#undef DISTOPT_GRADIENT_RULE

} // namespace distopt::dist

#endif // DISTOPT_LIB_DIALECT_DIST_GRADIENTSUPPORT_H
