//===- Partition.cpp - SPMD partitioning from per-op factor assignments ---===//
//
// `dist-partition` turns a function over whole tensors into the program that
// every device of the grid runs. The planner says, per op, which grid axes
// split which factors of the op's sharding rule (`dist.factor_axes`); this
// pass follows those choices:
//
//  1. every op's rule and assignment are read and checked while the types
//     are still the global ones (a rule depends on its op's types);
//  2. in program order, each operand is resharded from the state its
//     producer left it in to the state the op needs (collectives from the
//     shard dialect, cached per value and state), and the op gets its local
//     types; split mean reductions, biases after split contractions and
//     split weights get their local forms;
//  3. function results are resharded to whole.
//
// docs/partition.md has the contract and the resharding table.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/FactorAxes.h"
#include "distopt/Dialect/Dist/ShardingRule.h"
#include "distopt/Passes/Passes.h"

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

namespace distopt {
#define GEN_PASS_DEF_PARTITIONPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

/// The discardable attribute that carries the planner's choice for one op.
static constexpr StringLiteral kFactorAxesAttr =
    DistDialect::FactorAxesAttrHelper::getNameStr();

namespace {

using AxisList = SmallVector<int16_t>;

/// How one value is spread over the grid.
struct DistState {
  /// Per tensor dimension, the grid axes that split it, major to minor.
  SmallVector<AxisList> dims;
  /// Grid axes over which the value holds partial results, and how the
  /// partial results combine (never `mean`: see rescaleSplitMean).
  AxisList partial;
  ReduceKind partialKind = ReduceKind::Sum;

  static DistState whole(int64_t rank) {
    DistState s;
    s.dims.resize(rank);
    return s;
  }
  bool operator==(const DistState &other) const {
    return dims == other.dims && partial == other.partial &&
           (partial.empty() || partialKind == other.partialKind);
  }
  bool operator!=(const DistState &other) const { return !(*this == other); }
  /// A string that identifies the state, for the resharding cache.
  std::string key() const {
    std::string out;
    llvm::raw_string_ostream os(out);
    print(os);
    return out;
  }
  void print(raw_ostream &os) const {
    os << "[";
    llvm::interleaveComma(dims, os, [&](const AxisList &axes) {
      os << "{";
      llvm::interleaveComma(axes, os);
      os << "}";
    });
    os << "]";
    if (!partial.empty()) {
      os << " partial " << stringifyReduceKind(partialKind) << " {";
      llvm::interleaveComma(partial, os);
      os << "}";
    }
  }
};

/// The bias of a split contraction, added once when the partial results
/// are combined (after the all-reduce or the reduce-scatter, on the
/// combined piece).
struct PendingBias {
  /// The bias operand, in the state the op's assignment gave it.
  Value bias;
  /// Multiplies the bias (a gemm's beta).
  double scale = 1.0;
  /// Result dim of each bias dim (right-aligned broadcast; a convolution's
  /// bias of shape O indexes dim 1 of N x O x H x W).
  SmallVector<int64_t> resultDims;
  /// A convolution's bias is reshaped to O x 1 x 1 before the add.
  bool convolution = false;
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

AxisList concat(ArrayRef<int16_t> a, ArrayRef<int16_t> b) {
  AxisList out(a.begin(), a.end());
  out.append(b.begin(), b.end());
  return out;
}

bool isPrefix(ArrayRef<int16_t> prefix, ArrayRef<int16_t> list) {
  return prefix.size() <= list.size() &&
         prefix == list.take_front(prefix.size());
}

/// Upstream's reduction kind for a partial-result combiner.
std::optional<shard::ReductionKind> toUpstream(ReduceKind kind) {
  switch (kind) {
  case ReduceKind::Sum:
    return shard::ReductionKind::Sum;
  case ReduceKind::Max:
    return shard::ReductionKind::Max;
  case ReduceKind::Min:
    return shard::ReductionKind::Min;
  case ReduceKind::Prod:
    return shard::ReductionKind::Product;
  case ReduceKind::Mean:
    return std::nullopt;
  }
  return std::nullopt;
}

class Partitioner {
public:
  Partitioner(shard::GridOp grid) : grid(grid), gridShape(grid.getShape()) {}

  LogicalResult partition(func::FuncOp func);

private:
  FailureOr<OpPlan> readPlan(Operation *op);
  LogicalResult rewrite(OpPlan &plan);
  FailureOr<Value> reshard(OpBuilder &b, Location loc, Value value,
                           const DistState &target, Operation *user);
  FailureOr<Value> addPendingBias(OpBuilder &b, Location loc, Value combined,
                                  const PendingBias &pending,
                                  const DistState &state, Operation *user);

  /// Grid axes of the factors indexing each dim of `tensor`.
  DistState stateOf(const TensorFactors &tensor, const OpPlan &plan) const {
    DistState s;
    for (const DimFactors &factors : tensor) {
      AxisList axes;
      for (int64_t f : factors)
        axes.append(plan.factorAxes[f]);
      s.dims.push_back(axes);
    }
    return s;
  }
  int64_t groupSize(ArrayRef<int16_t> axes) const {
    int64_t n = 1;
    for (int16_t a : axes)
      n *= gridShape[a];
    return n;
  }
  RankedTensorType localType(RankedTensorType global,
                             const DistState &state) const {
    SmallVector<int64_t> shape(global.getShape());
    for (auto [d, axes] : llvm::enumerate(state.dims))
      shape[d] /= groupSize(axes);
    return global.clone(shape);
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

/// Returns `value` in state `target`, inserting collectives before `user`:
///  1. partial results are combined: a reduce_scatter when the target splits
///     a dim over exactly the partial axes (appended to its current axes),
///     otherwise an all_reduce;
///  2. per dim, the axes past the common prefix with the target are undone:
///     an all_to_all when another dim needs exactly those axes appended,
///     otherwise an all_gather;
///  3. per dim, the missing axes are added with an all_slice (a splat
///     constant becomes one smaller splat instead).
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
  if (auto it = cache.find(keyOf(target)); it != cache.end())
    return it->second;

  LLVM_DEBUG({
    llvm::dbgs() << "reshard " << value << "\n  from ";
    src.state.print(llvm::dbgs());
    llvm::dbgs() << "\n  to   ";
    target.print(llvm::dbgs());
    llvm::dbgs() << "\n";
  });

  RankedTensorType global = src.global;
  DistState cur = src.state;
  Value val = value;
  StringRef gridName = grid.getSymName();
  auto step = [&](Value next, const DistState &state) {
    record(next, global, state);
    cache[keyOf(state)] = next;
    val = next;
    cur = state;
  };

  // 1. Partial results.
  if (!cur.partial.empty()) {
    std::optional<shard::ReductionKind> kind = toUpstream(cur.partialKind);
    if (!kind)
      return user->emitOpError("cannot combine partial results of kind '")
             << stringifyReduceKind(cur.partialKind) << "'";
    DistState next = cur;
    next.partial.clear();
    std::optional<size_t> scatterDim;
    if (cur.partialKind == ReduceKind::Sum)
      for (auto [d, axes] : llvm::enumerate(cur.dims))
        if (target.dims[d] == concat(axes, cur.partial)) {
          scatterDim = d;
          break;
        }
    Value combined;
    if (scatterDim) {
      next.dims[*scatterDim] = target.dims[*scatterDim];
      combined = shard::ReduceScatterOp::create(
          b, loc, localType(global, next), gridName, cur.partial, val,
          shard::ReductionKind::Sum, APInt(64, *scatterDim));
    } else if (auto it = cache.find(keyOf(next)); it != cache.end()) {
      val = it->second;
      cur = next;
    } else {
      combined =
          shard::AllReduceOp::create(b, loc, val, gridName, cur.partial, *kind);
    }
    if (combined) {
      // The bias of a split contraction is added to the combined piece.
      if (src.bias) {
        FailureOr<Value> biased =
            addPendingBias(b, loc, combined, *src.bias, next, user);
        if (failed(biased))
          return failure();
        combined = *biased;
      }
      step(combined, next);
    }
  }

  // 2. Undo splits the target does not keep.
  for (size_t d = 0; d < cur.dims.size(); ++d) {
    size_t common = 0;
    while (common < cur.dims[d].size() && common < target.dims[d].size() &&
           cur.dims[d][common] == target.dims[d][common])
      ++common;
    if (common == cur.dims[d].size())
      continue;
    AxisList moved(cur.dims[d].begin() + common, cur.dims[d].end());
    DistState next = cur;
    next.dims[d].resize(common);
    std::optional<size_t> to;
    for (size_t e = 0; e < cur.dims.size(); ++e)
      if (e != d && isPrefix(cur.dims[e], target.dims[e]) &&
          target.dims[e] == concat(cur.dims[e], moved)) {
        to = e;
        break;
      }
    Value out;
    if (to) {
      next.dims[*to] = target.dims[*to];
      out = shard::AllToAllOp::create(b, loc, localType(global, next), gridName,
                                      moved, val, APInt(64, *to), APInt(64, d));
    } else {
      out = shard::AllGatherOp::create(b, loc, localType(global, next),
                                       gridName, moved, val, APInt(64, d));
    }
    step(out, next);
  }

  // 3. Add the splits the target has and the value lacks. A splat constant
  // becomes one smaller splat.
  if (auto constant = val.getDefiningOp<ConstantOp>()) {
    if (auto splat = dyn_cast<SplatElementsAttr>(constant.getValue())) {
      Value out = ConstantOp::create(
          b, loc, splat.resizeSplat(localType(global, target)));
      step(out, target);
    }
  }
  for (size_t d = 0; d < cur.dims.size(); ++d) {
    if (cur.dims[d].size() == target.dims[d].size())
      continue;
    AxisList extra(target.dims[d].begin() + cur.dims[d].size(),
                   target.dims[d].end());
    DistState next = cur;
    next.dims[d] = target.dims[d];
    Value out = shard::AllSliceOp::create(b, loc, localType(global, next), val,
                                          gridName, extra, d);
    step(out, next);
  }

  if (cur != target)
    return user->emitOpError("cannot reshard an operand to the state its "
                             "assignment needs (internal error)");
  return val;
}

//===----------------------------------------------------------------------===//
// Rewriting ops to their local form
//===----------------------------------------------------------------------===//

/// A rank-0 constant of `elementType` holding `value`.
static Value scalar(OpBuilder &b, Location loc, Type elementType,
                    double value) {
  auto type = RankedTensorType::get({}, elementType);
  return ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getFloatAttr(elementType, value)));
}

/// Adds `pending`'s bias to `combined`, the combined results in `state`:
/// the bias is brought to the matching pieces, scaled and added.
FailureOr<Value> Partitioner::addPendingBias(OpBuilder &b, Location loc,
                                             Value combined,
                                             const PendingBias &pending,
                                             const DistState &state,
                                             Operation *user) {
  ValueInfo biasInfo = info.lookup(pending.bias);
  DistState biasState = DistState::whole(biasInfo.global.getRank());
  for (auto [d, resultDim] : llvm::enumerate(pending.resultDims))
    if (biasInfo.global.getDimSize(d) != 1)
      biasState.dims[d] = state.dims[resultDim];
  FailureOr<Value> bias = reshard(b, loc, pending.bias, biasState, user);
  if (failed(bias))
    return failure();
  Value local = *bias;
  Type element = biasInfo.global.getElementType();
  if (pending.scale != 1.0)
    local = BinaryOp::create(b, loc, BinaryKind::Mul, local,
                             scalar(b, loc, element, pending.scale));
  if (pending.convolution) {
    // Bias of shape O becomes O x 1 x 1 to broadcast over N x O x H x W.
    auto type = cast<RankedTensorType>(local.getType());
    local = ReshapeOp::create(
        b, loc, RankedTensorType::get({type.getDimSize(0), 1, 1}, element),
        local);
  }
  return BinaryOp::create(b, loc, BinaryKind::Add, combined, local)
      .getResult();
}

/// The index of the bias operand that is added after the reduction of a
/// split contraction, with the factor it is scaled by.
static std::optional<std::pair<unsigned, double>>
biasAfterReduction(Operation *op) {
  if (auto gemm = dyn_cast<GemmOp>(op); gemm && gemm.getC())
    return std::make_pair(2u, gemm.getBeta().convertToDouble());
  if (auto conv = dyn_cast<Conv2DOp>(op); conv && conv.getBias())
    return std::make_pair(2u, 1.0);
  if (auto matmul = dyn_cast<MatMulOp>(op); matmul && matmul.getBias())
    return std::make_pair(2u, 1.0);
  return std::nullopt;
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
  AxisList partial;
  std::optional<ReduceKind> combiner;
  for (auto [f, factor] : llvm::enumerate(rule.factors))
    if (factor.kind == FactorKind::Reduction && !plan.factorAxes[f].empty()) {
      partial.append(plan.factorAxes[f]);
      combiner = factor.combiner;
    }
  std::vector<DistState> resultStates;
  for (const TensorFactors &tensor : rule.results) {
    DistState s = stateOf(tensor, plan);
    s.partial = partial;
    if (combiner)
      s.partialKind = *combiner;
    resultStates.push_back(s);
  }
  for (auto [r, type, state] :
       llvm::zip_equal(op->getResults(), plan.resultTypes, resultStates)) {
    r.setType(localType(type, state));
    record(r, type, state);
  }

  if (auto weight = dyn_cast<WeightOp>(op)) {
    const DistState &state = resultStates.front();
    if (llvm::all_of(state.dims, [](const AxisList &a) { return a.empty(); }))
      return success();
    MLIRContext *ctx = op->getContext();
    SmallVector<shard::GridAxesAttr> split;
    for (const AxisList &axes : state.dims)
      split.push_back(DenseI16ArrayAttr::get(ctx, axes));
    weight.setGlobalShapeAttr(
        DenseI64ArrayAttr::get(ctx, plan.resultTypes.front().getShape()));
    weight.setGridAttr(FlatSymbolRefAttr::get(grid.getSymNameAttr()));
    weight.setSplitAxesAttr(shard::GridAxesArrayAttr::get(ctx, split));
    return success();
  }
  if (partial.empty())
    return success();

  // A split reduction. Mean: partial sums of x / N, with N the global count.
  Value result = op->getResult(0);
  RankedTensorType globalResult = plan.resultTypes.front();
  DistState state = resultStates.front();
  if (*combiner == ReduceKind::Mean) {
    Type element = globalResult.getElementType();
    if (!isa<FloatType>(element))
      return op->emitOpError("cannot split the mean of integers: the "
                             "truncated mean of the whole is not a sum of "
                             "partial results");
    int64_t count = 1;
    if (auto reduce = dyn_cast<ReduceOp>(op)) {
      for (int64_t axis : reduce.getAxes())
        count *= plan.operandTypes.front().getDimSize(axis);
      reduce.setKind(ReduceKind::Sum);
      b.setInsertionPointAfter(op);
    } else if (auto pool = dyn_cast<GlobalPoolOp>(op)) {
      // The average of the local window divides by the local count; sum
      // instead, as dist.reduce does.
      ArrayRef<int64_t> in = plan.operandTypes.front().getShape();
      count = in[2] * in[3];
      b.setInsertionPoint(op);
      Value sum = ReduceOp::create(b, loc, result.getType(), ReduceKind::Sum,
                                   pool.getInput(), ArrayRef<int64_t>{2, 3},
                                   /*keep_dims=*/true);
      result.replaceAllUsesWith(sum);
      info.erase(result);
      op->erase();
      op = sum.getDefiningOp();
      result = sum;
      record(result, globalResult, state);
      b.setInsertionPointAfter(op);
    } else {
      return op->emitOpError("has a split mean reduction that dist-partition "
                             "does not know how to rescale");
    }
    auto div = BinaryOp::create(b, loc, BinaryKind::Div, result,
                                scalar(b, loc, element, double(count)));
    state.partialKind = ReduceKind::Sum;
    result.replaceAllUsesExcept(div, div);
    record(div, globalResult, state);
    return success();
  }

  // A bias after a split contraction is added once, after the reduction.
  std::optional<std::pair<unsigned, double>> bias = biasAfterReduction(op);
  if (!bias)
    return success();
  auto [biasIndex, biasScale] = *bias;
  Value localBias = op->getOperand(biasIndex);
  op->eraseOperand(biasIndex);
  if (auto gemm = dyn_cast<GemmOp>(op))
    gemm.setBetaAttr(b.getF32FloatAttr(1.0f));
  // The result stays partial and the bias is added where the partial
  // results are combined (reshard), so that a consumer that wants the
  // result split gets one reduce-scatter, as the planner priced it.
  PendingBias pending;
  pending.bias = localBias;
  pending.scale = biasScale;
  pending.convolution = isa<Conv2DOp>(op);
  int64_t biasRank = cast<RankedTensorType>(localBias.getType()).getRank();
  for (int64_t d = 0; d < biasRank; ++d)
    pending.resultDims.push_back(
        pending.convolution ? 1 : globalResult.getRank() - biasRank + d);
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

namespace {
struct PartitionPass : public distopt::impl::PartitionPassBase<PartitionPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto grids = llvm::to_vector(module.getOps<shard::GridOp>());
    if (grids.size() > 1) {
      module.emitError("dist-partition expects one shard.grid, found ")
          << grids.size();
      return signalPassFailure();
    }
    if (grids.empty()) {
      // Nothing may be split without a grid.
      WalkResult result = module.walk([](Operation *op) {
        if (!op->hasAttr(kFactorAxesAttr))
          return WalkResult::advance();
        op->emitOpError("carries '")
            << kFactorAxesAttr << "' but the module has no shard.grid";
        return WalkResult::interrupt();
      });
      if (result.wasInterrupted())
        signalPassFailure();
      return;
    }
    Partitioner partitioner(grids.front());
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (failed(partitioner.partition(func)))
        return signalPassFailure();
  }
};
} // namespace
