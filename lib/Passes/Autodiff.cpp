//===- Autodiff.cpp - reverse-mode differentiation of dist functions ------===//
//
// dist-autodiff: finds the ops between the trainable weights and the loss
// (forward: values computed from a trainable weight through float values;
// backward: values the loss depends on), asks each such op, last first, for
// its operands' gradients through GradientOpInterface, sums the gradients of
// values used several times, and returns each trainable weight's gradient.
// With recompute=full, the gradient rules of each repeated layer copy are
// built on a clone of the copy's forward ops, emitted right before the
// copy's gradient ops, so that the copy's activations die after the forward.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"
#include "distopt/Plan/LayerDetection.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/GlobPattern.h"

#include <optional>

namespace distopt {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

namespace {

/// Parses comma-separated globs; an error at `func` names the bad one.
static FailureOr<SmallVector<llvm::GlobPattern>>
parseGlobs(func::FuncOp func, StringRef option, StringRef text) {
  SmallVector<llvm::GlobPattern> globs;
  SmallVector<StringRef> parts;
  text.split(parts, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef part : parts) {
    auto glob = llvm::GlobPattern::create(part.trim());
    if (!glob) {
      func.emitError("dist-autodiff: bad glob '")
          << part.trim() << "' in option '" << option
          << "': " << llvm::toString(glob.takeError());
      return failure();
    }
    globs.push_back(std::move(*glob));
  }
  return globs;
}

static bool matchesAny(ArrayRef<llvm::GlobPattern> globs, StringRef name) {
  return llvm::any_of(
      globs, [&](const llvm::GlobPattern &g) { return g.match(name); });
}

static bool isFloatValue(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && isa<FloatType>(t.getElementType());
}

/// The index of the function's one `dist.loss` result, with an error at the
/// function when there is none, several, or it is not a rank-0 float.
static FailureOr<unsigned> findLossResult(func::FuncOp func) {
  StringRef lossAttr = DistDialect::LossAttrHelper::getNameStr();
  SmallVector<unsigned> found;
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    if (func.getResultAttr(i, lossAttr))
      found.push_back(i);
  if (found.size() != 1) {
    func.emitError("dist-autodiff expects exactly one result marked '")
        << lossAttr << "', found " << found.size();
    return failure();
  }
  auto type = dyn_cast<RankedTensorType>(func.getResultTypes()[found[0]]);
  if (!type || type.getRank() != 0 || !isa<FloatType>(type.getElementType())) {
    func.emitError("dist-autodiff expects the loss (result #")
        << found[0] << ") to be a rank-0 float tensor, found "
        << func.getResultTypes()[found[0]];
    return failure();
  }
  return found[0];
}

/// The ops on a path from a candidate weight to the loss, and the trainable
/// weights (candidates whose result the loss depends on).
struct ActiveSet {
  SmallVector<Operation *> ops; // in program order
  SmallVector<WeightOp> weights;
};

static ActiveSet findActive(Block &body, ArrayRef<WeightOp> candidates,
                            Value loss) {
  llvm::DenseSet<Value> forward, backward;
  for (WeightOp w : candidates)
    forward.insert(w.getResult());
  for (Operation &op : body) {
    if (isa<WeightOp>(op) || llvm::none_of(op.getOperands(), [&](Value v) {
          return forward.contains(v);
        }))
      continue;
    for (Value r : op.getResults())
      if (isFloatValue(r))
        forward.insert(r);
  }
  ActiveSet active;
  if (forward.contains(loss))
    backward.insert(loss);
  for (Operation &op : llvm::reverse(body)) {
    if (isa<WeightOp, func::ReturnOp>(op))
      continue;
    if (llvm::none_of(op.getResults(), [&](Value r) {
          return backward.contains(r) && forward.contains(r);
        }))
      continue;
    active.ops.push_back(&op);
    for (Value v : op.getOperands())
      if (forward.contains(v))
        backward.insert(v);
  }
  std::reverse(active.ops.begin(), active.ops.end());
  for (WeightOp w : candidates)
    if (backward.contains(w.getResult()))
      active.weights.push_back(w);
  return active;
}

/// Full activation recompute: the repeated layer copies of the function and
/// the clones of the copy whose gradients are being built.
class LayerRecompute {
public:
  explicit LayerRecompute(func::FuncOp func)
      : layers(plan::findRepeatedLayers(func)) {
    for (auto [index, op] : llvm::enumerate(layers.ops))
      if (int layer = layers.getLayer(index); layer >= 0)
        layerOf[op] = layer;
  }

  /// The op whose gradient rule differentiates `op`: its clone when `op`
  /// belongs to a layer copy, emitted at `builder`'s insertion point with
  /// the rest of the copy when the copy is reached; `op` itself otherwise.
  Operation *getOpToDifferentiate(Operation *op, OpBuilder &builder) {
    auto it = layerOf.find(op);
    if (it == layerOf.end())
      return op;
    if (it->second != clonedLayer)
      cloneLayer(it->second, builder);
    return clones.lookup(op) ? clones.lookup(op) : op;
  }

private:
  /// Clones the side-effect-free ops of layer copy `layer`, in program
  /// order; operands from outside the copy are used as they are.
  void cloneLayer(int layer, OpBuilder &builder) {
    clones.clear();
    IRMapping mapping;
    unsigned first = layers.begin + unsigned(layer) * layers.period;
    for (unsigned i = first; i < first + layers.period; ++i) {
      Operation *op = layers.ops[i];
      if (op->getNumRegions() == 0 && isMemoryEffectFree(op))
        clones[op] = builder.clone(*op, mapping);
    }
    clonedLayer = layer;
  }

  plan::LayerStructure layers;
  llvm::DenseMap<Operation *, int> layerOf;
  llvm::DenseMap<Operation *, Operation *> clones;
  int clonedLayer = -1;
};

struct AutodiffPass : public distopt::impl::AutodiffPassBase<AutodiffPass> {
  using AutodiffPassBase::AutodiffPassBase;
  void runOnOperation() override;

private:
  FailureOr<SmallVector<WeightOp>> candidateWeights(func::FuncOp func);
  LogicalResult backpropagate(ArrayRef<Operation *> ops, OpBuilder &builder,
                              llvm::DenseMap<Value, Value> &grads,
                              LayerRecompute *recompute);
};

} // namespace

FailureOr<SmallVector<WeightOp>>
AutodiffPass::candidateWeights(func::FuncOp func) {
  auto keep = parseGlobs(func, "trainable", trainable);
  auto drop = parseGlobs(func, "freeze", freeze);
  if (failed(keep) || failed(drop))
    return failure();
  SmallVector<WeightOp> out;
  func.walk([&](WeightOp w) {
    if (!isFloatValue(w.getResult()))
      return;
    if (!keep->empty() && !matchesAny(*keep, w.getName()))
      return;
    if (matchesAny(*drop, w.getName()))
      return;
    out.push_back(w);
  });
  return out;
}

/// Adds `g` to the gradient of `v` in `grads`.
static void accumulate(OpBuilder &builder, llvm::DenseMap<Value, Value> &grads,
                       Value v, Value g, Location loc) {
  Value &slot = grads[v];
  slot = slot ? Value(BinaryOp::create(builder, loc, BinaryKind::Add, slot, g))
              : g;
}

/// The index of `op` in its block.
static int64_t getIndexInBlock(Operation *op) {
  return std::distance(op->getBlock()->begin(), Block::iterator(op));
}

/// Marks the ops built after `before` up to the insertion point of
/// `builder` as the backward of `forward` (`dist.adjoint_of`): the
/// planner puts them on the pipeline stage of `forward`.
static void tagAdjoints(Operation *before, OpBuilder &builder,
                        Operation *forward) {
  auto index = IntegerAttr::get(IntegerType::get(forward->getContext(), 64),
                                getIndexInBlock(forward));
  DistDialect::AdjointOfAttrHelper adjoint(forward->getContext());
  for (Block::iterator it = std::next(Block::iterator(before));
       it != builder.getInsertionPoint(); ++it)
    adjoint.setAttr(&*it, index);
}

/// Builds the gradients of `ops`, last first, into `grads` (keyed by the
/// original values). With `recompute`, the rule of an op in a layer copy is
/// that of its clone, whose operands and results match the op's one by one.
LogicalResult AutodiffPass::backpropagate(ArrayRef<Operation *> ops,
                                          OpBuilder &builder,
                                          llvm::DenseMap<Value, Value> &grads,
                                          LayerRecompute *recompute) {
  for (Operation *op : llvm::reverse(ops)) {
    Operation *beforeRule = &*std::prev(builder.getInsertionPoint());
    auto tagRule =
        llvm::make_scope_exit([&] { tagAdjoints(beforeRule, builder, op); });
    SmallVector<Value> resultGrads;
    for (Value r : op->getResults())
      resultGrads.push_back(grads.lookup(r));
    if (llvm::all_of(resultGrads, [](Value g) { return !g; }))
      continue;
    Operation *differentiated =
        recompute ? recompute->getOpToDifferentiate(op, builder) : op;
    auto rule = dyn_cast<GradientOpInterface>(differentiated);
    if (!rule)
      return op->emitError("'") << op->getName() << "' has no gradient rule";
    SmallVector<Value> operandGrads;
    if (failed(rule.buildGradients(builder, resultGrads, operandGrads)))
      return failure();
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
      if (!g || !isFloatValue(operand))
        continue;
      if (g.getType() != operand.getType())
        return op->emitError("gradient rule of '")
               << op->getName() << "' built a gradient of type " << g.getType()
               << " for an operand of type " << operand.getType();
      accumulate(builder, grads, operand, g, op->getLoc());
    }
  }
  return success();
}

/// Erases the ops from `firstNew` up to the terminator that nothing uses,
/// last first: gradients that no operand needed.
static void eraseDeadGradientOps(Block &body, Operation *firstNew) {
  if (!firstNew)
    return;
  SmallVector<Operation *> created;
  for (Operation *op = firstNew; op && !isa<func::ReturnOp>(op);
       op = op->getNextNode())
    created.push_back(op);
  for (Operation *op : llvm::reverse(created))
    if (op->use_empty() && isMemoryEffectFree(op))
      op->erase();
}

void AutodiffPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (func.isExternal())
    return;
  FailureOr<unsigned> lossIndex = findLossResult(func);
  FailureOr<SmallVector<WeightOp>> candidates = candidateWeights(func);
  if (failed(lossIndex) || failed(candidates))
    return signalPassFailure();
  if (recompute == "selective") {
    // The planner prices it for forward graphs; the generated step does
    // not build it yet.
    func.emitError("dist-autodiff: selective recompute is priced by the "
                   "planner but not generated in a training step; use "
                   "recompute=none or recompute=full");
    return signalPassFailure();
  }
  if (recompute != "none" && recompute != "full") {
    func.emitError("dist-autodiff: option 'recompute' must be 'none' or ")
        << "'full', got '" << recompute << "'";
    return signalPassFailure();
  }
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  Value loss = ret.getOperand(*lossIndex);
  ActiveSet active = findActive(body, *candidates, loss);
  if (active.weights.empty()) {
    func.emitError("dist-autodiff: no trainable weight: the loss depends on ")
        << "no float dist.weight"
        << (trainable.empty() && freeze.empty()
                ? ""
                : " left by the 'trainable' and 'freeze' options");
    return signalPassFailure();
  }

  OpBuilder builder(ret);
  Operation *beforeNew = ret->getPrevNode();
  llvm::DenseMap<Value, Value> grads;
  grads[loss] = ConstantOp::create(
      builder, loss.getLoc(), loss.getType(),
      DenseElementsAttr::get(cast<RankedTensorType>(loss.getType()),
                             ArrayRef<Attribute>{FloatAttr::get(
                                 getElementTypeOrSelf(loss.getType()), 1.0)}));
  if (Operation *lossOp = loss.getDefiningOp())
    tagAdjoints(beforeNew, builder, lossOp);
  std::optional<LayerRecompute> layers;
  if (recompute == "full")
    layers.emplace(func);
  if (failed(backpropagate(active.ops, builder, grads,
                           layers ? &*layers : nullptr)))
    return signalPassFailure();

  SmallVector<Value> results(ret.getOperands());
  SmallVector<DictionaryAttr> resultAttrs;
  func.getAllResultAttrs(resultAttrs);
  for (WeightOp w : active.weights) {
    auto type = cast<RankedTensorType>(w.getType());
    Value g = grads.lookup(w.getResult());
    if (!g) { // every path went through ops without a gradient (floor, ...)
      Operation *before = ret->getPrevNode();
      g = ConstantOp::create(
          builder, w.getLoc(), type,
          DenseElementsAttr::get(type, ArrayRef<Attribute>{FloatAttr::get(
                                           type.getElementType(), 0.0)}));
      tagAdjoints(before, builder, w);
    }
    results.push_back(g);
    NamedAttribute gradientOf(
        StringAttr::get(&getContext(),
                        DistDialect::GradientOfAttrHelper::getNameStr()),
        StringAttr::get(&getContext(), w.getName()));
    resultAttrs.push_back(DictionaryAttr::get(&getContext(), {gradientOf}));
  }
  ret->setOperands(results);
  func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                 ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
  eraseDeadGradientOps(body,
                       beforeNew ? beforeNew->getNextNode() : &body.front());
}
