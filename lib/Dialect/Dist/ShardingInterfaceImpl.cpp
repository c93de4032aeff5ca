//===- ShardingInterfaceImpl.cpp - dist ops in upstream partitioning ------===//
//
// Attaches upstream MLIR's shard::ShardingInterface to dist ops. Loops and
// indexing maps are derived from each op's sharding rule, so upstream's
// `sharding-propagation` and `shard-partition` treat dist ops exactly as the
// planner does:
//
//  * every rule factor is one loop; a size-1 dimension without a factor gets
//    a loop of its own (upstream's maps admit no constants), never split;
//  * factors that must stay whole are never proposed by propagation, and
//    partitioning refuses IR that splits them;
//  * a split reduction factor becomes one shard.all_reduce after the local
//    op; a mean is rescaled, and a bias (gemm, conv2d, matmul) is added
//    once, after the reduction.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/LocalForms.h"
#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterfaceImpl.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/STLExtras.h"

#define DEBUG_TYPE "dist-sharding-interface"

using namespace mlir;
using namespace distopt::dist;
using shard::GridAxis;
using shard::Sharding;
using shard::ShardingArray;

namespace {

/// The loop space that upstream's interface sees for one op.
struct LoopSpace {
  SmallVector<utils::IteratorType> types;
  /// Whether propagation and partitioning may split each loop.
  SmallVector<bool> splittable;
  /// One map per operand, then one per result.
  SmallVector<AffineMap> maps;
  /// Combiner of the reduction loops (all share one, see ShardingRule).
  ReduceKind combiner = ReduceKind::Sum;
  /// The bias added after the reduction, if the op has one.
  std::optional<BiasAfterReduction> bias;
  /// The loop whose local form must know its block (ShardingRule::blockAxes).
  std::optional<int64_t> blockLoop;
  /// False when the rule cannot be expressed with projected permutations.
  bool valid = true;
};

LoopSpace buildLoopSpace(Operation *op) {
  LoopSpace space;
  ShardingRule rule = cast<ShardingRuleOpInterface>(op).getShardingRule();
  space.bias = rule.bias;
  if (rule.blockAxes)
    space.blockLoop = rule.blockAxes->factor;
  for (auto [i, f] : llvm::enumerate(rule.factors)) {
    space.types.push_back(f.kind == FactorKind::Reduction
                              ? utils::IteratorType::reduction
                              : utils::IteratorType::parallel);
    // Upstream partitioning knows no split forms: a collective factor, and
    // one whose local form must know its block (a table split by rows),
    // stay whole there.
    bool needsBlock =
        rule.blockAxes && rule.blockAxes->factor == static_cast<int64_t>(i);
    space.splittable.push_back(
        !needsBlock &&
        (f.kind == FactorKind::Parallel || f.kind == FactorKind::Reduction));
    if (f.kind == FactorKind::Reduction)
      space.combiner = f.combiner;
  }
  // Size-1 dims without a factor each get one unsplittable parallel loop.
  unsigned numLoops = rule.factors.size();
  auto countDummies = [&](ArrayRef<TensorFactors> tensors) {
    for (const TensorFactors &dims : tensors)
      for (const DimFactors &f : dims)
        if (f.empty())
          ++numLoops;
  };
  countDummies(rule.operands);
  countDummies(rule.results);
  space.types.resize(numLoops, utils::IteratorType::parallel);
  space.splittable.resize(numLoops, false);

  MLIRContext *ctx = op->getContext();
  unsigned nextDummy = rule.factors.size();
  auto makeMap = [&](const TensorFactors &dims) {
    SmallVector<AffineExpr> exprs;
    for (const DimFactors &f : dims) {
      if (f.size() > 1)
        space.valid = false;
      exprs.push_back(getAffineDimExpr(f.empty() ? nextDummy++ : f.front(), ctx));
    }
    return AffineMap::get(numLoops, 0, exprs, ctx);
  };
  for (const TensorFactors &dims : rule.operands)
    space.maps.push_back(makeMap(dims));
  for (const TensorFactors &dims : rule.results)
    space.maps.push_back(makeMap(dims));
  return space;
}

/// Returns the grid named by the first non-null sharding.
shard::GridOp getGrid(Operation *op, ArrayRef<Sharding> operandShardings,
                      ArrayRef<Sharding> resultShardings,
                      SymbolTableCollection &symbolTable) {
  for (ArrayRef<Sharding> list : {operandShardings, resultShardings})
    for (const Sharding &s : list)
      if (s)
        return shard::getGrid(op, s.getGridAttr(), symbolTable);
  return nullptr;
}

/// Records on a partitioned weight which slice of the whole weight it holds.
void annotatePartitionedWeight(WeightOp original, WeightOp local,
                               const Sharding &sharding) {
  if (!sharding || shard::isFullReplication(sharding))
    return;
  MLIRContext *ctx = original.getContext();
  local.setGlobalShapeAttr(
      DenseI64ArrayAttr::get(ctx, original.getType().getShape()));
  local.setGridAttr(sharding.getGridAttr());
  local.setSplitAxesAttr(
      shard::GridAxesArrayAttr::get(ctx, sharding.getSplitAxes()));
}

/// Partitions `op` when at least one reduction loop is split: the local op
/// runs on the local shards (without its bias), an all-reduce over the
/// reduction grid axes combines the partial results, a mean is rescaled by
/// the number of partial results, and the bias is added once.
LogicalResult partitionWithSplitReduction(
    Operation *op, const LoopSpace &space, const ShardingArray &assignment,
    ArrayRef<Value> partitionedOperands, ArrayRef<Sharding> operandShardings,
    ArrayRef<Sharding> resultShardings, IRMapping &partitionMap,
    SymbolTableCollection &symbolTable, OpBuilder &builder) {
  ImplicitLocOpBuilder b(op->getLoc(), builder);
  shard::GridOp grid =
      getGrid(op, operandShardings, resultShardings, symbolTable);
  SmallVector<GridAxis> axes =
      shard::getReductionGridAxes(space.types, assignment);

  IRMapping local;
  for (auto [orig, part] :
       llvm::zip_equal(op->getOperands(), partitionedOperands))
    local.map(orig, part);
  Operation *clone = b.clone(*op, local);
  if (space.bias)
    dropBias(clone, *space.bias);
  for (auto [result, sharding] :
       llvm::zip_equal(clone->getResults(), resultShardings))
    result.setType(shard::shardType(result.getType(), grid, sharding));

  int64_t partials = 1;
  for (GridAxis axis : axes)
    partials *= grid.getShape()[axis];

  for (auto [orig, part] : llvm::zip_equal(op->getResults(), clone->getResults())) {
    Value value = part;
    if (space.combiner == ReduceKind::Mean) {
      FailureOr<Value> partialSum = buildPartialMean(b, op, value, partials);
      if (failed(partialSum))
        return failure();
      value = *partialSum;
    }
    value = shard::AllReduceOp::create(b, value, grid.getSymName(), axes,
                                       getUpstreamReductionKind(space.combiner));
    if (space.bias)
      value = buildBiasAdd(b, b.getLoc(), value,
                           partitionedOperands[space.bias->operand], *space.bias);
    partitionMap.map(orig, value);
  }
  return success();
}

/// shard::ShardingInterface for any dist op with a sharding rule.
template <typename OpTy>
struct RuleShardingModel
    : public shard::ShardingInterface::ExternalModel<RuleShardingModel<OpTy>,
                                                     OpTy> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return buildLoopSpace(op).types;
  }

  SmallVector<shard::ReductionKind>
  getReductionLoopIteratorKinds(Operation *op) const {
    LoopSpace space = buildLoopSpace(op);
    size_t count = llvm::count(space.types, utils::IteratorType::reduction);
    return SmallVector<shard::ReductionKind>(count, getUpstreamReductionKind(space.combiner));
  }

  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    LoopSpace space = buildLoopSpace(op);
    // An empty list makes upstream report an invalid implementation rather
    // than misread a rule it cannot express.
    if (!space.valid)
      return {};
    return space.maps;
  }

  FailureOr<shard::ShardingOption>
  getShardingOption(Operation *op, ArrayRef<Sharding> operandShardings,
                    ArrayRef<Sharding> resultShardings) const {
    FailureOr<shard::ShardingOption> option =
        shard::detail::defaultGetShardingOption(op, operandShardings,
                                                resultShardings);
    if (failed(option) || option->empty)
      return option;
    // Never propose splitting a factor that must stay whole: its operands
    // and results are resharded to keep it whole instead.
    LoopSpace space = buildLoopSpace(op);
    for (auto [i, axes] : llvm::enumerate(option->shardingArray))
      if (i < space.splittable.size() && !space.splittable[i])
        axes.clear();
    shard::removeTrailingEmptySubArray(option->shardingArray);
    return option;
  }

  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    LoopSpace space = buildLoopSpace(op);
    if (!space.valid)
      return op->emitOpError("has a sharding rule with compound dimensions, "
                             "which upstream partitioning cannot express");
    ShardingArray assignment = shard::getGridAxisAssignmentForLoopIterators(
        operandShardings, resultShardings, space.types, space.maps);
    for (auto [i, axes] : llvm::enumerate(assignment))
      if (!axes.empty() && !space.splittable[i])
      {
        InFlightDiagnostic diag = op->emitOpError("cannot split loop d");
        diag << i << " over grid axes [";
        llvm::interleaveComma(axes, diag);
        if (space.blockLoop == static_cast<int64_t>(i))
          diag << "]: its local form needs the block it holds, which upstream "
                  "partitioning does not give (dist-partition does)";
        else
          diag << "]: its sharding rule keeps that factor whole";
        return diag;
      }

    if (shard::isAtLeastOneReductionIteratorSharded(space.types, assignment))
      return partitionWithSplitReduction(op, space, assignment,
                                         partitionedOperands, operandShardings,
                                         resultShardings, partitionMap,
                                         symbolTable, builder);

    shard::partitionTriviallyShardableOperation(
        *op, partitionedOperands, operandShardings, resultShardings,
        partitionMap, symbolTable, builder);
    if (auto weight = dyn_cast<WeightOp>(op))
      annotatePartitionedWeight(
          weight,
          cast<WeightOp>(partitionMap.lookup(weight.getResult()).getDefiningOp()),
          resultShardings.front());
    return success();
  }
};

template <typename... OpTys>
void attachAll(MLIRContext *ctx) {
  (OpTys::template attachInterface<RuleShardingModel<OpTys>>(*ctx), ...);
}

} // namespace

void distopt::dist::registerShardingInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, DistDialect *) {
    attachAll<WeightOp, MatMulOp, GemmOp, Conv2DOp, Pool2DOp, GlobalPoolOp,
              UnaryOp, BinaryOp, CompareOp, SelectOp, CastOp, ReduceOp,
              SoftmaxOp, LayerNormOp, GatherOp, ReshapeOp, BroadcastOp,
              TransposeOp, SliceOp, ConcatOp, SplitOp, AssignOp,
              CrossEntropyOp, CrossEntropyGradOp, CrossEntropyStatsOp, MseOp, AdamWOp, SgdOp>(ctx);
    attachAll<TopKOp, GatherElementsOp, ScatterElementsOp, ScatterNDOp>(ctx);
    // Backward ops (emitted by dist-autodiff's gradient rules).
    attachAll<GatherGradOp, Conv2DGradInputOp, Conv2DGradFilterOp,
              Pool2DGradOp>(ctx);
  });
}
