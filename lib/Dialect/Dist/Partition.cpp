//===- Partition.cpp - SPMD partitioning from per-op factor assignments ---===//
//
// `partitionModule` (the `dist-partition` pass, and the planner when it
// measures the memory of a generated training step) turns a function over
// whole tensors into the program that every device of the grid runs. The
// planner says, per op, which grid axes split which factors of the op's
// sharding rule (`dist.factor_axes`); this pass follows those choices:
//
//  1. every op's rule and assignment are read and checked while the types
//     are still the global ones (a rule depends on its op's types);
//  2. in program order, each operand is resharded from the state its
//     producer left it in to the state the op needs (the steps of
//     planReshard, the same the planner priced, emitted as shard-dialect
//     collectives and cached per value and state), and the op gets its local
//     types; split mean reductions, biases after split contractions,
//     split weights and ops that must know their block of a split factor
//     (a gather from a table split by rows: ShardingRule::blockAxes) get
//     their local forms (LocalForms.h);
//  3. function results are resharded to whole.
//
// docs/partition.md has the contract and the resharding table.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/FactorAxes.h"
#include "distopt/Dialect/Dist/LocalForms.h"
#include "distopt/Dialect/Dist/Partition.h"
#include "distopt/Dialect/Dist/Reshard.h"
#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Debug.h"

#include <map>
#include <vector>

#define DEBUG_TYPE "dist-partition"

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

/// The discardable attribute that carries the planner's choice for one op.
static constexpr StringLiteral kFactorAxesAttr =
    DistDialect::FactorAxesAttrHelper::getNameStr();

namespace {

using AxisList = SmallVector<int16_t>;

/// The bias of a split contraction, added once when the partial results
/// are combined (after the all-reduce or the reduce-scatter, on the
/// combined piece).
struct PendingBias {
  /// The bias operand, in the state the op's assignment gave it.
  Value bias;
  BiasAfterReduction info;
};

/// What the pass knows of a value: its whole type and its state.
struct ValueInfo {
  RankedTensorType global;
  DistState state;
  /// Set on partial results whose bias is still to be added.
  std::optional<PendingBias> bias;
};

/// An op's rule and assignment, read before any type changes.
struct OpPlan {
  Operation *op = nullptr;
  /// Null for ops without a rule (constants, func.return).
  std::optional<ShardingRule> rule;
  /// Per factor of the rule, the grid axes that split it.
  SmallVector<AxisList> factorAxes;
  SmallVector<RankedTensorType> operandTypes;
  SmallVector<RankedTensorType> resultTypes;
};

class Partitioner {
public:
  Partitioner(shard::GridOp grid) : grid(grid), gridShape(grid.getShape()) {}

  LogicalResult partition(func::FuncOp func);

private:
  FailureOr<OpPlan> readPlan(Operation *op);
  LogicalResult rewrite(OpPlan &plan);
  FailureOr<Value> reshard(OpBuilder &b, Location loc, Value value,
                           const DistState &target, Operation *user);
  FailureOr<Value> emitStep(OpBuilder &b, Location loc, Value value,
                            RankedTensorType global, const ReshardStep &step,
                            const ValueInfo &source, Operation *user);
  FailureOr<Value> addPendingBias(OpBuilder &b, Location loc, Value combined,
                                  const PendingBias &pending,
                                  const DistState &state, Operation *user);
  LogicalResult rewriteSplitReduction(OpBuilder &b, OpPlan &plan,
                                      const DistState &state);
  LogicalResult rewriteSplitForm(OpBuilder &b, OpPlan &plan);

  /// Grid axes of the factors indexing each dim of `tensor`.
  DistState stateOf(const TensorFactors &tensor, const OpPlan &plan) const {
    return getTensorState(tensor, plan.factorAxes);
  }
  int64_t groupSize(ArrayRef<int16_t> axes) const {
    return getGroupSize(axes, gridShape);
  }
  RankedTensorType localType(RankedTensorType global,
                             const DistState &state) const {
    return global.clone(getLocalShape(global.getShape(), state, gridShape));
  }
  Value record(Value v, RankedTensorType global, const DistState &state) {
    info[v] = {global, state};
    return v;
  }

  shard::GridOp grid;
  ArrayRef<int64_t> gridShape;
  DenseMap<Value, ValueInfo> info;
  /// (value, target state) -> the value in that state.
  std::map<std::pair<const void *, std::string>, Value> cache;
};

} // namespace

//===----------------------------------------------------------------------===//
// Reading and checking assignments
//===----------------------------------------------------------------------===//

FailureOr<OpPlan> Partitioner::readPlan(Operation *op) {
  OpPlan plan;
  plan.op = op;
  for (Type t : op->getOperandTypes())
    plan.operandTypes.push_back(dyn_cast<RankedTensorType>(t));
  for (Type t : op->getResultTypes())
    plan.resultTypes.push_back(dyn_cast<RankedTensorType>(t));

  // The dialect verifier rejects `dist.factor_axes` on ops without a rule.
  auto ruleOp = dyn_cast<ShardingRuleOpInterface>(op);
  if (!ruleOp)
    return plan;
  plan.rule = ruleOp.getShardingRule();
  if (failed(plan.rule->verify(op)))
    return failure();
  FailureOr<SmallVector<AxisList>> factorAxes =
      readFactorAxes(op, *plan.rule, gridShape);
  if (failed(factorAxes))
    return failure();
  plan.factorAxes = std::move(*factorAxes);
  return plan;
}

//===----------------------------------------------------------------------===//
// Resharding
//===----------------------------------------------------------------------===//

/// Returns `value` in state `target`, inserting before `user` the steps
/// that planReshard gives (the ones the planner priced). Each intermediate
/// state is cached, so that a value all-reduced once for one user is not
/// all-reduced again for another.
FailureOr<Value> Partitioner::reshard(OpBuilder &b, Location loc, Value value,
                                      const DistState &target,
                                      Operation *user) {
  ValueInfo src = info.lookup(value);
  // Targets are never partial (a rule's operands are whole or split), so a
  // value with a pending bias never passes through unchanged.
  if (src.state == target)
    return value;
  auto keyOf = [&](const DistState &s) {
    return std::make_pair(value.getAsOpaquePointer(), s.key());
  };
  LLVM_DEBUG(llvm::dbgs() << "reshard " << value << "\n  from " << src.state
                          << "\n  to   " << target << "\n");
  Value val = value;
  for (const ReshardStep &step : planReshard(src.state, target)) {
    if (auto it = cache.find(keyOf(step.after)); it != cache.end()) {
      val = it->second;
      continue;
    }
    FailureOr<Value> next = emitStep(b, loc, val, src.global, step, src, user);
    if (failed(next))
      return failure();
    record(*next, src.global, step.after);
    cache[keyOf(step.after)] = *next;
    val = *next;
  }
  return val;
}

/// Emits one resharding step on `value` (of whole type `global`) as a
/// shard-dialect collective; a slice of a splat constant becomes a smaller
/// splat. Combining the partial results of a contraction adds its pending
/// bias.
FailureOr<Value> Partitioner::emitStep(OpBuilder &b, Location loc, Value value,
                                       RankedTensorType global,
                                       const ReshardStep &step,
                                       const ValueInfo &source,
                                       Operation *user) {
  StringRef gridName = grid.getSymName();
  RankedTensorType type = localType(global, step.after);
  int64_t dim = step.dim;
  Value out;
  switch (step.kind) {
  case ReshardStepKind::AllReduce:
    out = shard::AllReduceOp::create(b, loc, value, gridName, step.axes,
                                     getUpstreamReductionKind(step.reduceKind));
    break;
  case ReshardStepKind::ReduceScatter:
    out = shard::ReduceScatterOp::create(b, loc, type, gridName, step.axes,
                                         value, shard::ReductionKind::Sum,
                                         APInt(64, dim));
    break;
  case ReshardStepKind::AllGather:
    return shard::AllGatherOp::create(b, loc, type, gridName, step.axes, value,
                                      APInt(64, dim))
        .getResult();
  case ReshardStepKind::AllToAll:
    return shard::AllToAllOp::create(b, loc, type, gridName, step.axes, value,
                                     APInt(64, step.toDim), APInt(64, dim))
        .getResult();
  case ReshardStepKind::Slice:
    if (auto constant = value.getDefiningOp<ConstantOp>())
      if (auto splat = dyn_cast<SplatElementsAttr>(constant.getValue()))
        return ConstantOp::create(b, loc, splat.resizeSplat(type)).getResult();
    return shard::AllSliceOp::create(b, loc, type, value, gridName, step.axes,
                                     dim)
        .getResult();
  }
  // The bias of a split contraction is added to the combined piece.
  if (source.bias)
    return addPendingBias(b, loc, out, *source.bias, step.after, user);
  return out;
}

//===----------------------------------------------------------------------===//
// Rewriting ops to their local form
//===----------------------------------------------------------------------===//

/// Adds `pending`'s bias to `combined`, the combined results in `state`:
/// the bias is brought to the matching pieces, scaled and added.
FailureOr<Value> Partitioner::addPendingBias(OpBuilder &b, Location loc,
                                             Value combined,
                                             const PendingBias &pending,
                                             const DistState &state,
                                             Operation *user) {
  ValueInfo biasInfo = info.lookup(pending.bias);
  DistState biasState = DistState::whole(biasInfo.global.getRank());
  for (auto [d, resultDim] : llvm::enumerate(pending.info.resultDims))
    if (biasInfo.global.getDimSize(d) != 1)
      biasState.dims[d] = state.dims[resultDim];
  FailureOr<Value> bias = reshard(b, loc, pending.bias, biasState, user);
  if (failed(bias))
    return failure();
  return buildBiasAdd(b, loc, combined, *bias, pending.info);
}

LogicalResult Partitioner::rewrite(OpPlan &plan) {
  Operation *op = plan.op;
  Location loc = op->getLoc();
  OpBuilder b(op);

  if (auto ret = dyn_cast<func::ReturnOp>(op)) {
    for (OpOperand &operand : ret->getOpOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type)
        continue;
      FailureOr<Value> whole = reshard(
          b, loc, operand.get(),
          DistState::whole(info.lookup(operand.get()).global.getRank()), op);
      if (failed(whole))
        return failure();
      operand.set(*whole);
    }
    return success();
  }
  if (!plan.rule) {
    // A constant: whole on every device.
    for (auto [r, type] : llvm::zip_equal(op->getResults(), plan.resultTypes))
      record(r, type, DistState::whole(type.getRank()));
    return success();
  }
  const ShardingRule &rule = *plan.rule;
  op->removeAttr(kFactorAxesAttr);

  // Operands in the states the assignment needs.
  for (auto [i, tensor] : llvm::enumerate(rule.operands)) {
    FailureOr<Value> local =
        reshard(b, loc, op->getOperand(i), stateOf(tensor, plan), op);
    if (failed(local))
      return failure();
    op->setOperand(i, *local);
  }

  // Result states: dims from the rule, partial over split reduction factors.
  std::vector<DistState> resultStates;
  for (unsigned r = 0; r < rule.results.size(); ++r)
    resultStates.push_back(getResultState(rule, r, plan.factorAxes));
  for (auto [r, type, state] :
       llvm::zip_equal(op->getResults(), plan.resultTypes, resultStates)) {
    r.setType(localType(type, state));
    record(r, type, state);
  }

  // An op without results (dist.assign) only needed its operands resharded.
  if (resultStates.empty())
    return success();
  // A local form that needs its block's position gets the split's axes.
  if (rule.blockAxes && !plan.factorAxes[rule.blockAxes->factor].empty())
    op->setAttr(rule.blockAxes->attr,
                DenseI16ArrayAttr::get(
                    op->getContext(), plan.factorAxes[rule.blockAxes->factor]));
  if (failed(rewriteSplitForm(b, plan)))
    return failure();
  op = plan.op;
  if (auto weight = dyn_cast<WeightOp>(op)) {
    const DistState &state = resultStates.front();
    if (llvm::all_of(state.dims, [](const GridAxes &a) { return a.empty(); }))
      return success();
    MLIRContext *ctx = op->getContext();
    SmallVector<shard::GridAxesAttr> split;
    for (const GridAxes &axes : state.dims)
      split.push_back(DenseI16ArrayAttr::get(ctx, axes));
    weight.setGlobalShapeAttr(
        DenseI64ArrayAttr::get(ctx, plan.resultTypes.front().getShape()));
    weight.setGridAttr(FlatSymbolRefAttr::get(grid.getSymNameAttr()));
    weight.setSplitAxesAttr(shard::GridAxesArrayAttr::get(ctx, split));
    return success();
  }
  if (resultStates.empty() || !resultStates.front().isPartial())
    return success();
  return rewriteSplitReduction(b, plan, resultStates.front());
}

/// An op whose `collective` factors are split is replaced by its own local
/// form (SplitFormOpInterface), which all-reduces the statistics its rule
/// lists; `plan.op` becomes the op that produces the first replacement, so
/// that a split mean of its batch is handled as for any op.
LogicalResult Partitioner::rewriteSplitForm(OpBuilder &b, OpPlan &plan) {
  const ShardingRule &rule = *plan.rule;
  bool split = llvm::any_of(llvm::enumerate(rule.factors), [&](auto f) {
    return f.value().kind == FactorKind::Collective &&
           !plan.factorAxes[f.index()].empty();
  });
  if (!split)
    return success();
  Operation *op = plan.op;
  auto splitForm = dyn_cast<SplitFormOpInterface>(op);
  if (!splitForm)
    return op->emitOpError("splits a collective factor but has no local "
                           "form for it (SplitFormOpInterface)");
  b.setInsertionPoint(op);
  FailureOr<SmallVector<Value>> replacements =
      splitForm.buildSplitForm(b, plan.factorAxes, grid.getSymName());
  if (failed(replacements))
    return failure();
  for (auto [old, replacement] :
       llvm::zip_equal(op->getResults(), *replacements)) {
    if (replacement.getType() != old.getType())
      return op->emitOpError("local form gives ")
             << replacement.getType() << " for a result of local type "
             << old.getType();
    ValueInfo known = info.lookup(old);
    info.erase(old);
    record(replacement, known.global, known.state);
    old.replaceAllUsesWith(replacement);
  }
  plan.op = replacements->empty() ? nullptr
                                  : replacements->front().getDefiningOp();
  op->erase();
  return success();
}

/// The local form of an op whose reduction factors are split, with its
/// result in the partial `state`: a mean becomes partial sums, and a bias
/// is left pending until the partial results are combined (reshard), so
/// that a consumer that wants the result split gets one reduce-scatter, as
/// the planner priced it.
LogicalResult Partitioner::rewriteSplitReduction(OpBuilder &b, OpPlan &plan,
                                                 const DistState &state) {
  Operation *op = plan.op;
  const ShardingRule &rule = *plan.rule;
  Value result = op->getResult(0);
  RankedTensorType globalResult = plan.resultTypes.front();
  if (splitsMean(rule, plan.factorAxes)) {
    b.setInsertionPointAfter(op);
    FailureOr<Value> partialSum =
        buildPartialMean(b, op, result, groupSize(state.partial));
    if (failed(partialSum))
      return failure();
    result.replaceAllUsesExcept(*partialSum, partialSum->getDefiningOp());
    record(*partialSum, globalResult, state);
    return success();
  }
  if (!rule.bias)
    return success();
  PendingBias pending{op->getOperand(rule.bias->operand), *rule.bias};
  dropBias(op, *rule.bias);
  info[result].bias = std::move(pending);
  return success();
}

LogicalResult Partitioner::partition(func::FuncOp func) {
  if (func.isExternal())
    return success();
  if (!func.getBody().hasOneBlock())
    return func.emitOpError("has ")
           << func.getBody().getBlocks().size()
           << " blocks; dist-partition partitions single-block functions";
  Block &body = func.getBody().front();
  for (BlockArgument arg : body.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type)
      return func.emitOpError("argument #")
             << arg.getArgNumber() << " is not a ranked tensor";
    record(arg, type, DistState::whole(type.getRank()));
  }

  // 1. Rules and assignments, on the global types.
  std::vector<OpPlan> plans;
  for (Operation &op : body) {
    if (op.getNumRegions() != 0)
      return op.emitOpError("has regions; dist-partition handles flat "
                            "programs of dist ops");
    if (!isa<ShardingRuleOpInterface, ConstantOp, func::ReturnOp>(op))
      return op.emitOpError("is not a dist op; dist-partition handles "
                            "programs of dist ops (run it instead of, not "
                            "after, shard annotations)");
    FailureOr<OpPlan> plan = readPlan(&op);
    if (failed(plan))
      return failure();
    plans.push_back(std::move(*plan));
  }

  // 2 and 3. Local forms, in program order.
  for (OpPlan &plan : plans)
    if (failed(rewrite(plan)))
      return failure();
  return success();
}

LogicalResult distopt::dist::partitionModule(ModuleOp module) {
  auto grids = llvm::to_vector(module.getOps<shard::GridOp>());
  if (grids.size() > 1)
    return module.emitError("dist-partition expects one shard.grid, found ")
           << grids.size();
  if (grids.empty()) {
    // Nothing may be split without a grid.
    WalkResult result = module.walk([](Operation *op) {
      if (!op->hasAttr(kFactorAxesAttr))
        return WalkResult::advance();
      op->emitOpError("carries '")
          << kFactorAxesAttr << "' but the module has no shard.grid";
      return WalkResult::interrupt();
    });
    return failure(result.wasInterrupted());
  }
  Partitioner partitioner(grids.front());
  for (auto func : llvm::to_vector(module.getOps<func::FuncOp>()))
    if (failed(partitioner.partition(func)))
      return failure();
  return success();
}
