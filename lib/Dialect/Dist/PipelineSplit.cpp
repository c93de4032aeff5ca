//===- PipelineSplit.cpp - one function per pipeline stage ----------------===//
//
// The rewrite behind `dist-pipeline-split` (dist::splitPipelineStages) cuts
// a function whose ops carry `dist.stage` (the
// planner's stage of each op) into stage functions with explicit boundary
// values (docs/pipeline.md). It runs after `dist-partition`, so the values
// that cross are each device's local shards.
//
// A function of inference becomes one function per stage. A training step
// (`dist.train`) becomes three per stage: its forward, its backward (the
// ops dist-autodiff built, `dist.adjoint_of`) and its update (the ops
// dist-optimizer built, `dist.update`). The forward and backward of one
// micro-batch run in the order F0 .. F(K-1), B(K-1) .. B0: these are the
// *slots* that values may only flow forward through. The update of stage s
// runs once per step and reads the values of stage s's forward and
// backward as their mean over the micro-batches (`dist.accumulate`).
//
//  1. Every op gets its slot: a staged op from its stage and phase; an op
//     without a stage (a collective the partitioner inserted) the earliest
//     slot of its readers, or after its operands when nothing reads it; an
//     update op the stage of the values it reads, or every stage that
//     needs it when it reads none (AdamW's step counter). Weights and
//     constants are copied into each function that reads them, but a
//     weight that one stage's update assigns lives in that stage: another
//     stage that reads it (a tied embedding) receives it as a boundary.
//  2. Each function's interface is collected: model inputs, boundary values
//     received and sent, means taken and accumulated, model outputs.
//  3. Each function is built by cloning its ops in program order.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/PipelineSplit.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/PipelinePhase.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

namespace {

using StageAttr = DistDialect::StageAttrHelper;
using BoundaryAttr = DistDialect::BoundaryAttrHelper;
using AccumulateAttr = DistDialect::AccumulateAttrHelper;

using Phase = PipelinePhase;

/// What one stage function takes and returns, in order.
struct StageFunction {
  unsigned stage = 0;
  Phase phase = Phase::Forward;
  /// Model inputs: arguments of the original function.
  llvm::SetVector<BlockArgument> inputs;
  /// Boundary values it reads, computed by earlier functions.
  llvm::SetVector<Value> received;
  /// Boundary values it computes for later functions.
  llvm::SetVector<Value> sent;
  /// Means over the micro-batches it reads (update) or values it
  /// accumulates for its stage's update (forward, backward).
  llvm::SetVector<Value> meansIn, accumulated;
  /// The original function's results it computes: (result index, value).
  SmallVector<std::pair<unsigned, Value>> outputs;
  /// Its ops, in program order.
  SmallVector<Operation *> ops;
};

class PipelineSplitter {
public:
  explicit PipelineSplitter(func::FuncOp func) : func(func) {}

  LogicalResult run();

private:
  LogicalResult readStages();
  LogicalResult readChunks();
  LogicalResult placeUnstagedOps();
  LogicalResult placeUpdateOps();
  LogicalResult placeOwnedWeights();
  LogicalResult collectInterfaces();
  LogicalResult addOperand(unsigned f, Operation *op, Value operand);
  /// Whether `operand` of `op` is a term of a sum over the stages that
  /// another stage than `stage` adds (stage `stage` adds a zero for it).
  bool isForeignTerm(Operation *op, Value operand, unsigned stage) const {
    if (!partial.contains(op))
      return false;
    if (std::optional<unsigned> s = slotOfValue(operand))
      return stageOfSlot(*s) != stage;
    auto d = updateStages.find(operand.getDefiningOp());
    return d != updateStages.end() && !d->second.test(stage);
  }
  Value getStageSum(Value sum, IRMapping &map, OpBuilder &b,
                    DenseMap<Value, Value> &sums);
  void buildFunction(unsigned f, OpBuilder &b);
  void cloneBody(StageFunction &fn, IRMapping &map, OpBuilder body);

  /// Slots: forward of stage s is s, backward 2K-1-s (K stages).
  unsigned slotOf(unsigned stage, Phase phase) const {
    return phase == Phase::Forward ? stage : 2 * numStages - 1 - stage;
  }
  unsigned stageOfSlot(unsigned slot) const {
    return slot < numStages ? slot : 2 * numStages - 1 - slot;
  }
  /// The function of a slot, or of stage s's update.
  unsigned functionOfSlot(unsigned slot) const {
    return training ? stageOfSlot(slot) * 3 + (slot < numStages ? 0 : 1) : slot;
  }
  unsigned updateFunction(unsigned stage) const { return stage * 3 + 2; }
  /// The slot of the op computing `v`, if it has one (not an argument, a
  /// weight, a constant or an update op).
  std::optional<unsigned> slotOfValue(Value v) const {
    Operation *def = v.getDefiningOp();
    if (!def)
      return std::nullopt;
    auto it = slot.find(def);
    if (it == slot.end())
      return std::nullopt;
    return it->second;
  }
  /// "pipeline stage 1", or "the backward of pipeline stage 1".
  std::string describeFunction(unsigned f) const {
    const StageFunction &fn = functions[f];
    std::string stage = ("pipeline stage " + Twine(fn.stage)).str();
    if (!training)
      return stage;
    return ("the " + getPipelinePhaseName(fn.phase) + " of " + stage).str();
  }

  func::FuncOp func;
  bool training = false;
  unsigned numStages = 0;
  /// The module's `dist.chunks` (interleaved 1F1B; 1 without).
  unsigned chunks = 1;
  DenseMap<Operation *, unsigned> slot;
  /// Update ops and the stages whose update runs them.
  llvm::MapVector<Operation *, llvm::SmallBitVector> updateStages;
  /// Update ops that add values of several stages (the gradients' squared
  /// norms): every stage computes the sum of its own terms, and a reader
  /// takes the sum over the stages (an all-reduce on the stages' grid).
  llvm::SmallPtrSet<Operation *, 8> partial;
  /// The grid of the stages, made when a sum needs it.
  shard::GridOp stagesGrid;
  /// Weights that one stage's update assigns: their stage.
  DenseMap<Operation *, unsigned> ownerOf;
  std::vector<StageFunction> functions;
  /// The id of each boundary value and of each accumulated value.
  llvm::MapVector<Value, int64_t> boundaryId, accumulateId;
};

} // namespace

/// Reads the module's `dist.chunks` (interleaved 1F1B): a training step
/// whose stages it divides.
LogicalResult PipelineSplitter::readChunks() {
  auto module = func->getParentOfType<ModuleOp>();
  IntegerAttr attr =
      module ? DistDialect::ChunksAttrHelper(func.getContext()).getAttr(module)
             : IntegerAttr();
  chunks = attr ? unsigned(attr.getInt()) : 1;
  if (chunks == 1)
    return success();
  if (!training)
    return module.emitOpError("has '")
           << DistDialect::ChunksAttrHelper::getNameStr() << "' = " << chunks
           << ", which interleaves the stages of a training step; @"
           << func.getSymName() << " is no training step (no 'dist.train')";
  if (numStages % chunks != 0 || numStages / chunks < 2)
    return module.emitOpError("has '")
           << DistDialect::ChunksAttrHelper::getNameStr() << "' = " << chunks
           << ", but @" << func.getSymName() << " has " << numStages
           << " pipeline stages: they must be at least 2 positions times the "
              "chunks";
  return success();
}

/// Reads the stage and phase of every staged op.
LogicalResult PipelineSplitter::readStages() {
  MLIRContext *ctx = func.getContext();
  training = DistDialect::TrainAttrHelper(ctx).isAttrPresent(func);
  DistDialect::UpdateAttrHelper update(ctx);
  DistDialect::AdjointOfAttrHelper adjoint(ctx);
  Block &body = func.getBody().front();
  DenseMap<Operation *, unsigned> stageOf;
  for (Operation &op : body.without_terminator()) {
    if (isa<WeightOp, ConstantOp>(op))
      continue;
    if (update.isAttrPresent(&op) || adjoint.isAttrPresent(&op))
      if (!training)
        return op.emitOpError("belongs to a training step's backward or ")
               << "update, in a function that is not a training step "
               << "(no 'dist.train')";
    if (update.isAttrPresent(&op)) {
      updateStages[&op] = {};
      continue;
    }
    if (IntegerAttr stage = StageAttr(ctx).getAttr(&op)) {
      stageOf[&op] = unsigned(stage.getInt());
      numStages = std::max(numStages, unsigned(stage.getInt()) + 1);
    }
  }
  llvm::SmallBitVector hasForward(numStages);
  for (auto [op, stage] : stageOf) {
    Phase phase = adjoint.isAttrPresent(op) ? Phase::Backward : Phase::Forward;
    slot[op] = slotOf(stage, phase);
    if (phase == Phase::Forward)
      hasForward.set(stage);
  }
  for (unsigned k = 0; k < numStages; ++k)
    if (!hasForward.test(k))
      return func.emitOpError("has no op in pipeline stage ")
             << k << " of " << numStages;
  if (failed(readChunks()))
    return failure();
  for (unsigned k = 0; k < numStages; ++k)
    for (Phase phase : {Phase::Forward, Phase::Backward, Phase::Update})
      if (training || phase == Phase::Forward) {
        functions.emplace_back();
        functions.back().stage = k;
        functions.back().phase = phase;
      }
  return success();
}

/// An op without a stage (a collective of the partitioner) runs in the
/// earliest slot that reads it; one that only the update reads belongs to
/// the update; one that nothing reads (a result) right after its operands.
LogicalResult PipelineSplitter::placeUnstagedOps() {
  Block &body = func.getBody().front();
  SmallVector<Operation *> unread;
  for (Operation &op : llvm::reverse(body.without_terminator())) {
    if (isa<WeightOp, ConstantOp>(op) || slot.count(&op) ||
        updateStages.count(&op))
      continue;
    std::optional<unsigned> earliest;
    bool readByUpdate = false;
    for (Operation *user : op.getUsers()) {
      if (auto it = slot.find(user); it != slot.end())
        earliest = std::min(earliest.value_or(it->second), it->second);
      else if (updateStages.count(user))
        readByUpdate = true;
    }
    if (earliest)
      slot[&op] = *earliest;
    else if (readByUpdate)
      updateStages[&op] = {};
    else
      unread.push_back(&op);
  }
  for (Operation *op : llvm::reverse(unread)) {
    unsigned latest = 0;
    bool readsUpdate = false;
    for (Value v : op->getOperands()) {
      if (std::optional<unsigned> s = slotOfValue(v))
        latest = std::max(latest, *s);
      else if (Operation *def = v.getDefiningOp())
        readsUpdate |= updateStages.count(def) > 0;
    }
    if (readsUpdate)
      updateStages[op] = {};
    else
      slot[op] = latest;
  }
  return success();
}

/// The stages whose update runs each update op: the stage of the forward
/// and backward values it reads (one at most), or, for an op that reads
/// none (AdamW's step counter), every stage whose update needs it.
LogicalResult PipelineSplitter::placeUpdateOps() {
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator()) {
    auto it = updateStages.find(&op);
    if (it == updateStages.end())
      continue;
    llvm::SmallBitVector from(numStages);
    bool readsPartial = false, readsPure = false;
    for (Value v : op.getOperands()) {
      if (std::optional<unsigned> s = slotOfValue(v)) {
        from.set(stageOfSlot(*s));
        continue;
      }
      Operation *def = v.getDefiningOp();
      if (partial.contains(def)) {
        readsPartial = true;
        continue;
      }
      if (auto d = updateStages.find(def); d != updateStages.end()) {
        readsPure |= d->second.none();
        from |= d->second;
      }
    }
    auto add = dyn_cast<BinaryOp>(op);
    if (add && add.getKind() == BinaryKind::Add &&
        (readsPartial || from.count() > 1)) {
      if (readsPure)
        return op.emitOpError("in the optimizer update adds a value that "
                              "every pipeline stage computes to a sum over "
                              "the stages");
      partial.insert(&op);
      continue;
    }
    if (from.count() > 1) {
      InFlightDiagnostic diag =
          op.emitOpError("in the optimizer update reads values of pipeline "
                         "stages ");
      llvm::interleaveComma(from.set_bits(), diag);
      return diag << "; only sums may combine the values of several stages";
    }
    it->second = from;
  }
  // A sum over the stages runs in every stage, each adding its own terms.
  for (Operation *op : partial)
    updateStages[op] = llvm::SmallBitVector(numStages, true);
  SmallVector<Operation *> unread;
  for (Operation &op : llvm::reverse(body.without_terminator())) {
    auto it = updateStages.find(&op);
    if (it == updateStages.end() || it->second.any())
      continue;
    llvm::SmallBitVector need(numStages);
    for (Operation *user : op.getUsers())
      if (auto u = updateStages.find(user); u != updateStages.end())
        need |= u->second;
    if (need.none())
      unread.push_back(&op);
    it->second = need;
  }
  for (Operation *op : llvm::reverse(unread)) {
    llvm::SmallBitVector need(numStages);
    for (Value v : op->getOperands())
      if (auto def = updateStages.find(v.getDefiningOp());
          def != updateStages.end())
        need |= def->second;
    if (need.none())
      need.set();
    updateStages[op] = need;
  }
  return success();
}

/// A weight that the update of one stage assigns lives in that stage.
LogicalResult PipelineSplitter::placeOwnedWeights() {
  for (auto &[op, stages] : updateStages) {
    auto assign = dyn_cast<AssignOp>(op);
    if (!assign || stages.count() != 1)
      continue;
    Operation *weight = assign->getOperand(0).getDefiningOp();
    if (!weight)
      continue;
    unsigned stage = *stages.set_bits_begin();
    auto [it, inserted] = ownerOf.try_emplace(weight, stage);
    if (!inserted && it->second != stage)
      return assign.emitOpError("assigns a weight that the update of stage ")
             << it->second << " assigns too";
  }
  return success();
}

/// Records that function `f` reads `operand` in `op`: a model input, a
/// boundary value (received from an earlier function), a mean (an update
/// reading its stage's forward or backward), or a value it computes.
LogicalResult PipelineSplitter::addOperand(unsigned f, Operation *op,
                                           Value operand) {
  StageFunction &fn = functions[f];
  if (auto arg = dyn_cast<BlockArgument>(operand)) {
    if (fn.phase == Phase::Update)
      return op->emitOpError("in the optimizer update reads a model input");
    fn.inputs.insert(arg);
    return success();
  }
  Operation *def = operand.getDefiningOp();
  unsigned to = fn.phase == Phase::Update ? ~0u : slotOf(fn.stage, fn.phase);
  std::optional<unsigned> from = slotOfValue(operand);
  if (isa<WeightOp>(def)) {
    auto owner = ownerOf.find(def);
    if (owner == ownerOf.end() || owner->second == fn.stage)
      return success(); // copied into the function
    from = slotOf(owner->second, Phase::Forward);
  } else if (isa<ConstantOp>(def)) {
    return success();
  } else if (auto u = updateStages.find(def); u != updateStages.end()) {
    if (fn.phase == Phase::Update && u->second.test(fn.stage))
      return success();
    return op->emitOpError("in ")
           << describeFunction(f) << " reads a value of the optimizer update";
  }
  unsigned fromFn = functionOfSlot(*from);
  if (fromFn == f)
    return success();
  if (fn.phase == Phase::Update) {
    if (stageOfSlot(*from) != fn.stage)
      return op->emitOpError("in the update of pipeline stage ")
             << fn.stage << " reads a value of " << describeFunction(fromFn);
    fn.meansIn.insert(operand);
    functions[fromFn].accumulated.insert(operand);
    return success();
  }
  if (*from > to)
    return op->emitOpError("in ")
           << describeFunction(f) << " reads a value that "
           << describeFunction(fromFn)
           << " computes; stages must follow the program's order";
  fn.received.insert(operand);
  functions[fromFn].sent.insert(operand);
  return success();
}

/// Collects each function's ops and interface, and the ids of the values
/// that cross.
LogicalResult PipelineSplitter::collectInterfaces() {
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator()) {
    if (auto it = slot.find(&op); it != slot.end())
      functions[functionOfSlot(it->second)].ops.push_back(&op);
    else if (auto u = updateStages.find(&op); u != updateStages.end())
      for (unsigned stage : u->second.set_bits())
        functions[updateFunction(stage)].ops.push_back(&op);
  }
  for (unsigned f = 0; f < functions.size(); ++f)
    for (Operation *op : functions[f].ops)
      for (Value operand : op->getOperands())
        if (!isForeignTerm(op, operand, functions[f].stage) &&
            failed(addOperand(f, op, operand)))
          return failure();
  // Results: by the function that computes them; an argument, a weight or
  // a constant returned as it is goes out of the last stage's forward.
  Operation *ret = body.getTerminator();
  for (OpOperand &operand : ret->getOpOperands()) {
    Value v = operand.get();
    if (Operation *def = v.getDefiningOp(); def && updateStages.count(def))
      return func.emitOpError("returns a value of the optimizer update");
    unsigned f = functionOfSlot(
        slotOfValue(v).value_or(slotOf(numStages - 1, Phase::Forward)));
    functions[f].outputs.push_back({operand.getOperandNumber(), v});
    if (auto arg = dyn_cast<BlockArgument>(v))
      functions[f].inputs.insert(arg);
  }
  // Ids in program order of the values.
  for (Operation &op : body.without_terminator())
    for (Value result : op.getResults())
      for (const StageFunction &fn : functions) {
        if (fn.sent.contains(result))
          boundaryId.insert({result, int64_t(boundaryId.size())});
        if (fn.accumulated.contains(result))
          accumulateId.insert({result, int64_t(accumulateId.size())});
      }
  return success();
}

/// Clones `op` without the attributes that placed it.
static Operation *cloneUnplaced(OpBuilder &b, Operation &op, IRMapping &map) {
  MLIRContext *ctx = op.getContext();
  Operation *copy = b.clone(op, map);
  StageAttr(ctx).removeAttr(copy);
  DistDialect::AdjointOfAttrHelper(ctx).removeAttr(copy);
  DistDialect::UpdateAttrHelper(ctx).removeAttr(copy);
  return copy;
}

/// Clones `v`'s weight or constant unless the function has it already.
static void cloneSource(OpBuilder &b, Value v, IRMapping &map) {
  Operation *def = v.getDefiningOp();
  if (def && isa<WeightOp, ConstantOp>(def) && !map.contains(v))
    cloneUnplaced(b, *def, map);
}

/// Sorts `values` by their id in `ids`.
static SmallVector<Value>
sortedById(const llvm::SetVector<Value> &values,
           const llvm::MapVector<Value, int64_t> &ids) {
  SmallVector<Value> out(values.begin(), values.end());
  llvm::sort(out,
             [&](Value a, Value c) { return ids.lookup(a) < ids.lookup(c); });
  return out;
}

/// Builds function `f` before the original function.
void PipelineSplitter::buildFunction(unsigned f, OpBuilder &b) {
  StageFunction &fn = functions[f];
  MLIRContext *ctx = func.getContext();
  auto i64 = [&](int64_t v) {
    return IntegerAttr::get(IntegerType::get(ctx, 64), v);
  };
  auto idAttrs = [&](StringRef name, int64_t id) {
    return DictionaryAttr::get(
        ctx, {NamedAttribute(StringAttr::get(ctx, name), i64(id))});
  };
  SmallVector<BlockArgument> inputs(fn.inputs.begin(), fn.inputs.end());
  llvm::sort(inputs, [](BlockArgument a, BlockArgument c) {
    return a.getArgNumber() < c.getArgNumber();
  });
  // One side of the interface: `values` in the order of their ids, each
  // marked with its id under `attr`.
  struct Side {
    SmallVector<Value> values;
    SmallVector<Type> types;
    SmallVector<DictionaryAttr> attrs;
    void add(Value v, DictionaryAttr attr) {
      values.push_back(v);
      types.push_back(v.getType());
      attrs.push_back(attr);
    }
  } args, results;
  auto addById = [&](Side &side, const llvm::SetVector<Value> &values,
                     const llvm::MapVector<Value, int64_t> &ids,
                     StringRef attr) {
    for (Value v : sortedById(values, ids))
      side.add(v, idAttrs(attr, ids.lookup(v)));
  };
  for (BlockArgument arg : inputs)
    args.add(arg, func.getArgAttrDict(arg.getArgNumber()));
  addById(args, fn.received, boundaryId, BoundaryAttr::getNameStr());
  addById(args, fn.meansIn, accumulateId, AccumulateAttr::getNameStr());
  for (auto [index, v] : fn.outputs)
    results.add(v, func.getResultAttrDict(index));
  addById(results, fn.sent, boundaryId, BoundaryAttr::getNameStr());
  addById(results, fn.accumulated, accumulateId, AccumulateAttr::getNameStr());

  StringRef phaseName = getPipelinePhaseName(fn.phase);
  std::string name = (func.getSymName() + "_stage" + Twine(fn.stage)).str();
  if (training)
    name += ("_" + phaseName).str();
  auto stageFunc = func::FuncOp::create(
      b, func.getLoc(), name, b.getFunctionType(args.types, results.types));
  stageFunc.setAllArgAttrs(args.attrs);
  stageFunc.setAllResultAttrs(results.attrs);
  StageAttr(ctx).setAttr(stageFunc, i64(fn.stage));
  if (training)
    DistDialect::PhaseAttrHelper(ctx).setAttr(stageFunc,
                                              StringAttr::get(ctx, phaseName));
  Block *entry = stageFunc.addEntryBlock();
  IRMapping map;
  for (auto [arg, original] :
       llvm::zip_equal(entry->getArguments(), args.values))
    map.map(original, arg);
  cloneBody(fn, map, OpBuilder::atBlockEnd(entry));
  OpBuilder body = OpBuilder::atBlockEnd(entry);
  SmallVector<Value> returned;
  for (Value v : results.values) {
    cloneSource(body, v, map);
    returned.push_back(map.lookup(v));
  }
  func::ReturnOp::create(body, func.getLoc(), returned);
}

/// Clones the ops of `fn` in program order, each weight and constant
/// before its first reader.
void PipelineSplitter::cloneBody(StageFunction &fn, IRMapping &map,
                                 OpBuilder body) {
  DenseMap<Value, Value> sums;
  for (Operation *op : fn.ops) {
    for (Value operand : op->getOperands()) {
      cloneSource(body, operand, map);
      if (isForeignTerm(op, operand, fn.stage) && !map.contains(operand)) {
        auto type = cast<RankedTensorType>(operand.getType());
        map.map(operand, ConstantOp::create(
                             body, op->getLoc(), type,
                             cast<DenseElementsAttr>(body.getZeroAttr(type))));
      }
    }
    SmallVector<std::pair<unsigned, Value>> totals;
    if (!partial.contains(op))
      for (OpOperand &use : op->getOpOperands())
        if (partial.contains(use.get().getDefiningOp()))
          totals.push_back({use.getOperandNumber(),
                            getStageSum(use.get(), map, body, sums)});
    Operation *copy = cloneUnplaced(body, *op, map);
    for (auto [index, total] : totals)
      copy->setOperand(index, total);
    // Every stage takes part in the sum over the stages, right after its
    // own part, whether or not its update reads the total.
    if (partial.contains(op) && llvm::any_of(op->getUsers(), [&](Operation *u) {
          return !partial.contains(u);
        }))
      getStageSum(op->getResult(0), map, body, sums);
  }
}

/// The sum over the stages of `sum`, whose part this stage's function
/// computes (`map`): an all-reduce on the stages' grid, once per value.
Value PipelineSplitter::getStageSum(Value sum, IRMapping &map, OpBuilder &b,
                                    DenseMap<Value, Value> &sums) {
  Value &total = sums[sum];
  if (total)
    return total;
  if (!stagesGrid) {
    OpBuilder atModule(func);
    MLIRContext *ctx = func.getContext();
    stagesGrid = shard::GridOp::create(atModule, func.getLoc(), "stages",
                                       ArrayRef<int64_t>{numStages});
    SymbolTable(func->getParentOp()).insert(stagesGrid);
    DistDialect::StagesAttrHelper(ctx).setAttr(stagesGrid, UnitAttr::get(ctx));
  }
  total = shard::AllReduceOp::create(
      b, sum.getLoc(), map.lookup(sum), stagesGrid.getSymName(),
      ArrayRef<int16_t>{0}, shard::ReductionKind::Sum);
  return total;
}

LogicalResult PipelineSplitter::run() {
  if (!func.getBody().hasOneBlock())
    return func.emitOpError("has ")
           << func.getBody().getBlocks().size()
           << " blocks; dist-pipeline-split splits single-block functions";
  if (failed(readStages()) || failed(placeUnstagedOps()) ||
      failed(placeUpdateOps()) || failed(placeOwnedWeights()) ||
      failed(collectInterfaces()))
    return failure();
  OpBuilder b(func);
  for (unsigned f = 0; f < functions.size(); ++f)
    buildFunction(f, b);
  func.erase();
  return success();
}

/// Whether an op of `f` carries a stage.
static bool hasStagedOps(func::FuncOp f) {
  WalkResult r = f.walk([](Operation *op) {
    return StageAttr(op->getContext()).isAttrPresent(op)
               ? WalkResult::interrupt()
               : WalkResult::advance();
  });
  return r.wasInterrupted();
}

LogicalResult distopt::dist::splitPipelineStages(ModuleOp module) {
  SmallVector<func::FuncOp> staged;
  for (auto f : module.getOps<func::FuncOp>())
    if (!StageAttr(f.getContext()).isAttrPresent(f) && hasStagedOps(f))
      staged.push_back(f);
  if (staged.empty())
    return success();
  if (staged.size() > 1)
    return staged[1].emitOpError("has pipeline stages, and so has @")
           << staged[0].getSymName()
           << "; dist-pipeline-split splits one function";
  return PipelineSplitter(staged.front()).run();
}
