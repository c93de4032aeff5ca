//===- ConvertPrecision.cpp - retype float32 values to bf16 or fp16 -------===//
//
// Mixed-precision planning: a model exported in float32 is trained (or
// served) in bf16 or fp16. The pass retypes every f32 tensor of the module
// to the target type, so that the planner prices bytes and compute in it;
// the training step's fp32 master weights and Adam states are the cost
// model's to count (getAdamModelStateMemory).
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace distopt {
#define GEN_PASS_DEF_CONVERTPRECISIONPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;

/// `type` with `target` elements when it is a ranked tensor of f32; else
/// `type` as it is.
static Type retype(Type type, FloatType target) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.getElementType().isF32())
    return type;
  return tensor.clone(target);
}

/// The types of `types`, retyped.
static SmallVector<Type> retype(TypeRange types, FloatType target) {
  SmallVector<Type> result;
  for (Type type : types)
    result.push_back(retype(type, target));
  return result;
}

/// The elements of an f32 constant rounded to `target` (to nearest, ties to
/// even); fails, at the op, for elements not held as a dense attribute.
static LogicalResult retypeConstant(dist::ConstantOp op, FloatType target) {
  auto dense = dyn_cast<DenseFPElementsAttr>(op.getValue());
  if (!dense) {
    if (cast<ShapedType>(op.getValue().getType()).getElementType().isF32())
      return op.emitOpError("holds f32 elements that are not a dense "
                            "attribute; dist-convert-precision cannot retype "
                            "them");
    return success();
  }
  if (!dense.getElementType().isF32())
    return success();
  const llvm::fltSemantics &semantics = target.getFloatSemantics();
  op.setValueAttr(dense.mapValues(target, [&](const APFloat &value) {
    APFloat rounded = value;
    bool losesInfo = false;
    rounded.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
    return rounded.bitcastToAPInt();
  }));
  return success();
}

/// A weight's byte range for its retyped type: the same start, the length
/// of the retyped elements (the verifier's rule).
static void retypeWeightData(dist::WeightOp op, FloatType target) {
  dist::DataLocationAttr data = op.getData();
  int64_t elements = 1;
  for (int64_t size : op.getFullShape())
    elements *= size;
  int64_t bytes = elements * int64_t(target.getWidth() / 8);
  op.setDataAttr(dist::DataLocationAttr::get(op.getContext(), data.getStorage(),
                                             data.getPath(), data.getOffset(),
                                             bytes));
}

/// Retypes the f32 values of `op` (its results, its regions' block
/// arguments, a function's type, a constant's elements, a weight's length).
static LogicalResult retypeOp(Operation *op, FloatType target) {
  if (auto weight = dyn_cast<dist::WeightOp>(op);
      weight && weight.getType().getElementType().isF32())
    retypeWeightData(weight, target);
  if (auto constant = dyn_cast<dist::ConstantOp>(op))
    if (failed(retypeConstant(constant, target)))
      return failure();
  for (OpResult result : op->getResults())
    result.setType(retype(result.getType(), target));
  for (Region &region : op->getRegions())
    for (Block &block : region)
      for (BlockArgument argument : block.getArguments())
        argument.setType(retype(argument.getType(), target));
  if (auto function = dyn_cast<FunctionOpInterface>(op))
    function.setType(FunctionType::get(
        op->getContext(), retype(function.getArgumentTypes(), target),
        retype(function.getResultTypes(), target)));
  return success();
}

namespace {
struct ConvertPrecisionPass
    : public distopt::impl::ConvertPrecisionPassBase<ConvertPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FloatType target;
    if (precision == "bf16")
      target = BFloat16Type::get(module.getContext());
    else if (precision == "fp16")
      target = Float16Type::get(module.getContext());
    else {
      module.emitError() << "dist-convert-precision: precision must be bf16 "
                            "or fp16, not '"
                         << precision << "'";
      return signalPassFailure();
    }
    WalkResult result = module.walk([&](Operation *op) {
      return failed(retypeOp(op, target)) ? WalkResult::interrupt()
                                          : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
