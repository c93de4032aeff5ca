//===- Optimizer.cpp - the optimizer step of a training step --------------===//
//
// `dist-optimizer` ends the generation of a training step: the gradients
// that `dist-autodiff` returned (results marked `dist.gradient_of`) are
// optionally clipped by their global norm, then update their weights
// through `dist.adamw` or `dist.sgd`; new weights and optimizer states are
// written back with `dist.assign`. Optimizer states are weights that start
// at zero (`storage = zero`), so that the planner, the partitioner and the
// runtime treat them as they treat weights: ZeRO is a sharding of them.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace distopt {
#define GEN_PASS_DEF_OPTIMIZERPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

namespace {

/// One gradient result: the weight it updates and its value.
struct Update {
  WeightOp weight;
  Value gradient;
};

struct OptimizerPass : public distopt::impl::OptimizerPassBase<OptimizerPass> {
  using Base::Base;

  void runOnOperation() override;

  /// The gradient results of `func`, with their weights.
  FailureOr<SmallVector<Update>> collectUpdates(func::FuncOp func);
  /// A scalar constant of `type`'s element type.
  Value scalar(OpBuilder &b, Location loc, Type element, double v);
  /// Scales every gradient by min(1, clipNorm / (norm + 1e-6)).
  void clipGradients(OpBuilder &b, Location loc,
                     MutableArrayRef<Update> updates);
  /// A zero-initialised state weight named `name` of `type`.
  FailureOr<Value> createState(OpBuilder &b, Location loc, StringRef name,
                               RankedTensorType type);
  LogicalResult buildAdamW(OpBuilder &b, Location loc,
                           ArrayRef<Update> updates);
  LogicalResult buildSgd(OpBuilder &b, Location loc, ArrayRef<Update> updates);

  /// Names of the function's weights, for unique state names.
  llvm::StringSet<> weightNames;
};

} // namespace

FailureOr<SmallVector<Update>>
OptimizerPass::collectUpdates(func::FuncOp func) {
  llvm::StringMap<WeightOp> weights;
  func.walk([&](WeightOp w) {
    weights.try_emplace(w.getName(), w);
    weightNames.insert(w.getName());
  });
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  SmallVector<Update> updates;
  StringRef gradientOf = DistDialect::GradientOfAttrHelper::getNameStr();
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto name = func.getResultAttrOfType<StringAttr>(i, gradientOf);
    if (!name)
      continue;
    WeightOp w = weights.lookup(name.getValue());
    if (!w)
      return func.emitError() << "result #" << i << " is the gradient of '"
                              << name.getValue() << "', which is no weight";
    if (w.getType() != ret.getOperand(i).getType())
      return func.emitError()
             << "result #" << i << " is the gradient of '" << name.getValue()
             << "' but has type " << ret.getOperand(i).getType()
             << ", not the weight's " << w.getType();
    updates.push_back({w, ret.getOperand(i)});
  }
  if (updates.empty())
    return func.emitError() << "dist-optimizer found no gradients (results "
                               "marked dist.gradient_of); run dist-autodiff "
                               "first";
  return updates;
}

Value OptimizerPass::scalar(OpBuilder &b, Location loc, Type element,
                            double v) {
  auto type = RankedTensorType::get({}, element);
  return ConstantOp::create(
             b, loc,
             DenseElementsAttr::get(type, FloatAttr::get(element, v)))
      .getResult();
}

void OptimizerPass::clipGradients(OpBuilder &b, Location loc,
                                  MutableArrayRef<Update> updates) {
  Type f32 = b.getF32Type();
  Value total;
  for (Update u : updates) {
    auto type = cast<RankedTensorType>(u.gradient.getType());
    Value g = u.gradient;
    if (type.getElementType() != f32)
      g = CastOp::create(b, loc, RankedTensorType::get(type.getShape(), f32),
                         g)
              .getResult();
    Value sq = BinaryOp::create(b, loc, BinaryKind::Mul, g, g).getResult();
    SmallVector<int64_t> axes = llvm::to_vector(
        llvm::seq<int64_t>(0, type.getRank()));
    Value sum = sq;
    if (!axes.empty())
      sum = ReduceOp::create(b, loc, ReduceKind::Sum, sq, axes,
                             /*keep_dims=*/false)
                .getResult();
    total = total ? BinaryOp::create(b, loc, BinaryKind::Add, total, sum)
                        .getResult()
                  : sum;
  }
  Value norm = UnaryOp::create(b, loc, UnaryKind::Sqrt, total).getResult();
  Value denom = BinaryOp::create(b, loc, BinaryKind::Add, norm,
                                 scalar(b, loc, f32, 1e-6))
                    .getResult();
  Value coef = BinaryOp::create(b, loc, BinaryKind::Div,
                                scalar(b, loc, f32, clipNorm), denom)
                   .getResult();
  coef = BinaryOp::create(b, loc, BinaryKind::Min, coef,
                          scalar(b, loc, f32, 1.0))
             .getResult();
  for (Update &u : updates) {
    Type element = cast<RankedTensorType>(u.gradient.getType()).getElementType();
    Value c = coef;
    if (element != f32)
      c = CastOp::create(b, loc, RankedTensorType::get({}, element), coef)
              .getResult();
    u.gradient =
        BinaryOp::create(b, loc, BinaryKind::Mul, u.gradient, c).getResult();
  }
}

FailureOr<Value> OptimizerPass::createState(OpBuilder &b, Location loc,
                                            StringRef name,
                                            RankedTensorType type) {
  if (!weightNames.insert(name).second)
    return emitError(loc) << "the optimizer state '" << name
                          << "' has the name of a weight of the model";
  int64_t bits = type.getElementTypeBitWidth();
  int64_t bytes = type.getNumElements() * std::max<int64_t>(1, bits / 8);
  auto data = DataLocationAttr::get(b.getContext(), DataStorage::Zero, "",
                                    /*offset=*/0, bytes);
  return WeightOp::create(b, loc, type, b.getStringAttr(name), data,
                          /*global_shape=*/nullptr, /*grid=*/nullptr,
                          /*split_axes=*/nullptr)
      .getResult();
}

LogicalResult OptimizerPass::buildAdamW(OpBuilder &b, Location loc,
                                        ArrayRef<Update> updates) {
  double wd = weightDecay < 0 ? 0.01 : double(weightDecay);
  auto stepType = RankedTensorType::get({}, b.getF32Type());
  FailureOr<Value> step = createState(b, loc, "adamw.step", stepType);
  if (failed(step))
    return failure();
  Value t = BinaryOp::create(b, loc, BinaryKind::Add, *step,
                             scalar(b, loc, b.getF32Type(), 1.0))
                .getResult();
  AssignOp::create(b, loc, *step, t);
  for (Update u : updates) {
    auto type = cast<RankedTensorType>(u.weight.getType());
    FailureOr<Value> m =
        createState(b, loc, (u.weight.getName() + ".adamw.m").str(), type);
    FailureOr<Value> v =
        createState(b, loc, (u.weight.getName() + ".adamw.v").str(), type);
    if (failed(m) || failed(v))
      return failure();
    auto adam = AdamWOp::create(b, loc, u.weight.getResult(), u.gradient, *m,
                                *v, t, b.getF64FloatAttr(lr),
                                b.getF64FloatAttr(beta1),
                                b.getF64FloatAttr(beta2),
                                b.getF64FloatAttr(eps), b.getF64FloatAttr(wd));
    AssignOp::create(b, loc, u.weight.getResult(), adam->getResult(0));
    AssignOp::create(b, loc, *m, adam->getResult(1));
    AssignOp::create(b, loc, *v, adam->getResult(2));
  }
  return success();
}

LogicalResult OptimizerPass::buildSgd(OpBuilder &b, Location loc,
                                      ArrayRef<Update> updates) {
  double wd = weightDecay < 0 ? 0.0 : double(weightDecay);
  for (Update u : updates) {
    auto type = cast<RankedTensorType>(u.weight.getType());
    Value buffer;
    if (momentum > 0) {
      FailureOr<Value> state = createState(
          b, loc, (u.weight.getName() + ".sgd.momentum").str(), type);
      if (failed(state))
        return failure();
      buffer = *state;
    }
    auto sgd = SgdOp::create(b, loc, u.weight.getResult(), u.gradient, buffer,
                             b.getF64FloatAttr(lr),
                             b.getF64FloatAttr(momentum),
                             b.getF64FloatAttr(wd));
    AssignOp::create(b, loc, u.weight.getResult(), sgd->getResult(0));
    if (buffer)
      AssignOp::create(b, loc, buffer, sgd->getResult(1));
  }
  return success();
}

void OptimizerPass::runOnOperation() {
  FailureOr<func::FuncOp> func =
      getTrainingFunction(getOperation(), "dist-optimizer");
  if (failed(func))
    return signalPassFailure();
  if (optimizer != "adamw" && optimizer != "sgd") {
    func->emitError() << "unknown optimizer '" << optimizer
                      << "'; expected adamw or sgd";
    return signalPassFailure();
  }
  if (!(lr > 0) || clipNorm < 0 || momentum < 0 || !(beta1 >= 0 && beta1 < 1) ||
      !(beta2 >= 0 && beta2 < 1) || !(eps > 0)) {
    func->emitError() << "the optimizer's settings are out of range: lr and "
                         "eps must be positive, betas in [0, 1), momentum "
                         "and clip-norm not negative";
    return signalPassFailure();
  }
  FailureOr<SmallVector<Update>> updates = collectUpdates(*func);
  if (failed(updates))
    return signalPassFailure();

  auto ret = cast<func::ReturnOp>(func->getBody().front().getTerminator());
  OpBuilder b(ret);
  Location loc = func->getLoc();
  Operation *beforeNew = ret->getPrevNode();
  if (clipNorm > 0)
    clipGradients(b, loc, *updates);
  if (failed(optimizer == "adamw" ? buildAdamW(b, loc, *updates)
                                  : buildSgd(b, loc, *updates)))
    return signalPassFailure();
  // Every op built here runs once per step (a pipeline's update function).
  DistDialect::UpdateAttrHelper update(&getContext());
  for (Operation *op = beforeNew ? beforeNew->getNextNode()
                                 : &func->getBody().front().front();
       op != ret.getOperation(); op = op->getNextNode())
    update.setAttr(op, UnitAttr::get(&getContext()));

  // The function returns what it returned but the gradients.
  StringRef gradientOf = DistDialect::GradientOfAttrHelper::getNameStr();
  llvm::BitVector erase(func->getNumResults());
  for (unsigned i = 0; i < func->getNumResults(); ++i)
    if (func->getResultAttr(i, gradientOf))
      erase.set(i);
  ret->eraseOperands(erase);
  if (failed(func->eraseResults(erase)))
    return signalPassFailure();
  DistDialect::TrainAttrHelper(&getContext()).setAttr(*func,
                                                      UnitAttr::get(&getContext()));
}
