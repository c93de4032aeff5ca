//===- AddLoss.cpp - the loss of a training step --------------------------===//
//
// `dist-add-loss` turns a model's function into one that returns its
// training loss: the output the loss reads, a new labels (or target)
// argument, and `dist.cross_entropy` or `dist.mse`; or an output that is
// the loss already. It is the first of the passes that generate a training
// step (then `dist-autodiff`, then `dist-optimizer`).
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

namespace distopt {
#define GEN_PASS_DEF_ADDLOSSPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

/// The module's one function, or an error at the module.
FailureOr<func::FuncOp> distopt::getTrainingFunction(ModuleOp module,
                                                     StringRef pass) {
  auto funcs = module.getOps<func::FuncOp>();
  if (std::distance(funcs.begin(), funcs.end()) != 1)
    return module.emitError() << pass << " expects a module with exactly one "
                                         "function, the model";
  return *funcs.begin();
}

/// The `dist.name` of result `index` of `func`, or "#index".
static std::string getResultName(func::FuncOp func, unsigned index) {
  if (auto name = func.getResultAttrOfType<StringAttr>(
          index, DistDialect::NameAttrHelper::getNameStr()))
    return name.str();
  return "#" + std::to_string(index);
}

/// The result the loss reads: the one named `output`, else the only one.
static FailureOr<unsigned> findLossOutput(func::FuncOp func,
                                          StringRef output) {
  unsigned n = func.getNumResults();
  SmallVector<std::string> names;
  for (unsigned i = 0; i < n; ++i)
    names.push_back(getResultName(func, i));
  if (output.empty()) {
    if (n == 1)
      return 0u;
    InFlightDiagnostic diag = func.emitError()
                              << "the model has " << n << " outputs (";
    llvm::interleaveComma(names, diag);
    return diag << "); name the one the loss reads (--loss KIND:OUTPUT, "
                   "or the pass option output=NAME)";
  }
  for (unsigned i = 0; i < n; ++i)
    if (names[i] == output)
      return i;
  InFlightDiagnostic diag = func.emitError()
                            << "the model has no output named '" << output
                            << "'; its outputs are ";
  llvm::interleaveComma(names, diag);
  return diag;
}

/// Makes every `dist.weight` of one name one op (the first), so that a
/// weight the importer materialized twice is one trainable parameter.
static LogicalResult mergeWeightsByName(func::FuncOp func) {
  llvm::StringMap<WeightOp> first;
  SmallVector<WeightOp> duplicates;
  func.walk([&](WeightOp w) {
    auto [it, inserted] = first.try_emplace(w.getName(), w);
    if (!inserted)
      duplicates.push_back(w);
  });
  for (WeightOp w : duplicates) {
    WeightOp keep = first.lookup(w.getName());
    if (keep.getType() != w.getType() || keep.getData() != w.getData())
      return w.emitError() << "weight '" << w.getName()
                           << "' appears twice with different types or data";
    w.getResult().replaceAllUsesWith(keep.getResult());
    w.erase();
  }
  return success();
}

/// Erases the pure ops whose results nothing uses, last first.
static void eraseDeadOps(func::FuncOp func) {
  Block &body = func.getBody().front();
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (op.use_empty() && isPure(&op) && !op.hasTrait<OpTrait::IsTerminator>())
      op.erase();
}

namespace {
struct AddLossPass : public distopt::impl::AddLossPassBase<AddLossPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<func::FuncOp> func =
        getTrainingFunction(getOperation(), "dist-add-loss");
    if (failed(func) || failed(addLoss(*func)))
      return signalPassFailure();
    if (failed(mergeWeightsByName(*func)))
      return signalPassFailure();
    eraseDeadOps(*func);
  }

  /// A new argument of `type` named `name` (unless an input has it).
  FailureOr<Value> addLabelsArgument(func::FuncOp func, Type type,
                                     StringRef name);
  /// The loss value of kind `loss` reading `output`.
  FailureOr<Value> buildLoss(func::FuncOp func, Value output,
                             StringRef outputName);
  LogicalResult addLoss(func::FuncOp func);
};
} // namespace

FailureOr<Value> AddLossPass::addLabelsArgument(func::FuncOp func, Type type,
                                                StringRef name) {
  StringRef attrName = DistDialect::NameAttrHelper::getNameStr();
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (auto n = func.getArgAttrOfType<StringAttr>(i, attrName);
        n && n.getValue() == name)
      return func.emitError()
             << "the model already has an input named '" << name
             << "'; name the loss's " << (loss == "mse" ? "target" : "labels")
             << " input otherwise (--labels NAME)";
  unsigned index = func.getNumArguments();
  if (failed(func.insertArgument(index, type, {}, func.getLoc())))
    return failure();
  func.setArgAttr(index, attrName, StringAttr::get(func.getContext(), name));
  return func.getArgument(index);
}

FailureOr<Value> AddLossPass::buildLoss(func::FuncOp func, Value output,
                                        StringRef outputName) {
  auto type = cast<RankedTensorType>(output.getType());
  Location loc = output.getLoc();
  OpBuilder b = OpBuilder::atBlockTerminator(&func.getBody().front());
  if (!isa<FloatType>(type.getElementType()))
    return func.emitError() << "the loss reads output '" << outputName
                            << "' of type " << type << ", which is not float";
  if (loss == "output") {
    if (type.getNumElements() != 1)
      return func.emitError()
             << "loss=output needs a scalar output; '" << outputName
             << "' has type " << type;
    if (type.getRank() == 0)
      return output;
    return ReshapeOp::create(b, loc,
                             RankedTensorType::get({}, type.getElementType()),
                             output)
        .getResult();
  }
  auto scalar = RankedTensorType::get({}, type.getElementType());
  if (loss == "cross-entropy") {
    if (type.getRank() < 1)
      return func.emitError() << "cross-entropy needs logits [..., classes]; '"
                              << outputName << "' is a scalar";
    auto labelsType = RankedTensorType::get(type.getShape().drop_back(),
                                            b.getIntegerType(64));
    std::string name = labels;
    FailureOr<Value> labelsArg =
        addLabelsArgument(func, labelsType, name.empty() ? "labels" : name);
    if (failed(labelsArg))
      return failure();
    return CrossEntropyOp::create(b, loc, scalar, output, *labelsArg)
        .getResult();
  }
  if (loss == "mse") {
    std::string name = labels;
    FailureOr<Value> target =
        addLabelsArgument(func, type, name.empty() ? "target" : name);
    if (failed(target))
      return failure();
    return MseOp::create(b, loc, scalar, output, *target).getResult();
  }
  return func.emitError() << "unknown loss '" << loss
                          << "'; expected cross-entropy, mse or output";
}

LogicalResult AddLossPass::addLoss(func::FuncOp func) {
  if (func.getNumResults() == 0)
    return func.emitError() << "the model has no output for a loss to read";
  FailureOr<unsigned> index = findLossOutput(func, output);
  if (failed(index))
    return failure();
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  Value out = ret.getOperand(*index);
  FailureOr<Value> lossValue = buildLoss(func, out, getResultName(func, *index));
  if (failed(lossValue))
    return failure();

  // One result: the loss.
  OpBuilder b(ret);
  func::ReturnOp::create(b, ret.getLoc(), ValueRange{*lossValue});
  ret.erase();
  MLIRContext *ctx = func.getContext();
  func.setType(FunctionType::get(ctx, func.getArgumentTypes(),
                                 {lossValue->getType()}));
  NamedAttribute attrs[] = {
      NamedAttribute(DistDialect::LossAttrHelper::getNameStr(),
                     UnitAttr::get(ctx)),
      NamedAttribute(DistDialect::NameAttrHelper::getNameStr(),
                     StringAttr::get(ctx, "loss"))};
  func.setAllResultAttrs(ArrayRef<DictionaryAttr>{DictionaryAttr::get(ctx, attrs)});
  return success();
}
