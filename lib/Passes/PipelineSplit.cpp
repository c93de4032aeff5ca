//===- PipelineSplit.cpp - one function per pipeline stage ----------------===//
//
// `dist-pipeline-split` cuts a function whose ops carry `dist.stage` (the
// planner's stage of each op) into stage functions with explicit boundary
// values (docs/pipeline.md):
//
//  1. every op gets its stage (weights and constants none: they are copied
//     into each stage that reads them), and every value read across stages
//     is checked to flow forward;
//  2. each stage's interface is collected in program order: the model
//     inputs it reads, the boundary values it reads and the ones it
//     computes for later stages, and the model outputs it computes;
//  3. each stage function is built by cloning its ops in program order.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace distopt {
#define GEN_PASS_DEF_PIPELINESPLITPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

namespace {

using StageAttr = DistDialect::StageAttrHelper;
using BoundaryAttr = DistDialect::BoundaryAttrHelper;

/// What one stage function takes and returns, in order.
struct StageInterface {
  /// Model inputs: arguments of the original function.
  llvm::SetVector<BlockArgument> inputs;
  /// Boundary values it reads, computed by earlier stages.
  llvm::SetVector<Value> received;
  /// Boundary values it computes for later stages.
  llvm::SetVector<Value> sent;
  /// The original function's results it computes: (result index, value).
  SmallVector<std::pair<unsigned, Value>> outputs;
  SmallVector<Operation *> ops;
};

class PipelineSplitter {
public:
  explicit PipelineSplitter(func::FuncOp func) : func(func) {}

  LogicalResult run();

private:
  LogicalResult assignStages();
  LogicalResult collectInterfaces();
  void buildStage(unsigned k, OpBuilder &b);

  /// The stage of the op computing `v`; none for an argument, a weight or
  /// a constant (available to every stage).
  std::optional<unsigned> stageOfValue(Value v) const {
    Operation *def = v.getDefiningOp();
    if (!def)
      return std::nullopt;
    auto it = stageOf.find(def);
    if (it == stageOf.end())
      return std::nullopt;
    return it->second;
  }

  func::FuncOp func;
  unsigned numStages = 0;
  DenseMap<Operation *, unsigned> stageOf;
  std::vector<StageInterface> stages;
  /// The id of each boundary value, in the order they are computed.
  llvm::MapVector<Value, int64_t> boundaryId;
};

} // namespace

/// Reads every op's stage; weights and constants have none.
LogicalResult PipelineSplitter::assignStages() {
  if (DistDialect::TrainAttrHelper(func.getContext()).isAttrPresent(func))
    return func.emitOpError(
        "is a training step; pipeline stages of training steps are not "
        "supported yet (plan without pp)");
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator()) {
    IntegerAttr stage = StageAttr(op.getContext()).getAttr(&op);
    if (isa<WeightOp, ConstantOp>(op)) {
      if (stage)
        StageAttr(op.getContext()).removeAttr(&op);
      continue;
    }
    if (!stage)
      return op.emitOpError("has no '")
             << StageAttr::getNameStr()
             << "' in a function whose ops are split into pipeline stages";
    unsigned k = unsigned(stage.getInt());
    stageOf[&op] = k;
    numStages = std::max(numStages, k + 1);
  }
  stages.resize(numStages);
  for (Operation &op : body.without_terminator())
    if (auto it = stageOf.find(&op); it != stageOf.end())
      stages[it->second].ops.push_back(&op);
  for (auto [k, stage] : llvm::enumerate(stages))
    if (stage.ops.empty())
      return func.emitOpError("has no op in pipeline stage ")
             << k << " of " << numStages;
  return success();
}

/// Collects each stage's inputs, boundary values and outputs, and checks
/// that every value flows from an earlier stage to a later one.
LogicalResult PipelineSplitter::collectInterfaces() {
  for (auto [k, stage] : llvm::enumerate(stages)) {
    for (Operation *op : stage.ops) {
      for (Value operand : op->getOperands()) {
        if (auto arg = dyn_cast<BlockArgument>(operand)) {
          stage.inputs.insert(arg);
          continue;
        }
        std::optional<unsigned> from = stageOfValue(operand);
        if (!from || *from == k)
          continue;
        if (*from > k)
          return op->emitOpError("in pipeline stage ")
                 << k << " reads a value that stage " << *from
                 << " computes; stages must follow the program's order";
        stage.received.insert(operand);
        stages[*from].sent.insert(operand);
      }
    }
  }
  // Boundary ids in program order of the values.
  for (Operation &op : func.getBody().front().without_terminator())
    for (Value result : op.getResults())
      if (std::optional<unsigned> k = stageOfValue(result);
          k && stages[*k].sent.contains(result))
        boundaryId.insert({result, int64_t(boundaryId.size())});
  // Results: by the stage that computes them; an argument or a weight
  // returned as it is goes out of the last stage.
  Operation *ret = func.getBody().front().getTerminator();
  for (OpOperand &operand : ret->getOpOperands()) {
    Value v = operand.get();
    unsigned k = stageOfValue(v).value_or(numStages - 1);
    stages[k].outputs.push_back({operand.getOperandNumber(), v});
    if (auto arg = dyn_cast<BlockArgument>(v))
      stages[k].inputs.insert(arg);
  }
  return success();
}

/// Builds the function of stage `k` before the original function.
void PipelineSplitter::buildStage(unsigned k, OpBuilder &b) {
  StageInterface &stage = stages[k];
  MLIRContext *ctx = func.getContext();
  auto i64 = [&](int64_t v) {
    return IntegerAttr::get(IntegerType::get(ctx, 64), v);
  };
  // Arguments: model inputs in the original order, then boundary values.
  SmallVector<BlockArgument> inputs(stage.inputs.begin(), stage.inputs.end());
  llvm::sort(inputs, [](BlockArgument a, BlockArgument c) {
    return a.getArgNumber() < c.getArgNumber();
  });
  SmallVector<Value> received(stage.received.begin(), stage.received.end());
  llvm::sort(received, [&](Value a, Value c) {
    return boundaryId.lookup(a) < boundaryId.lookup(c);
  });
  SmallVector<Value> sent(stage.sent.begin(), stage.sent.end());
  llvm::sort(sent, [&](Value a, Value c) {
    return boundaryId.lookup(a) < boundaryId.lookup(c);
  });
  SmallVector<Type> argTypes, resultTypes;
  SmallVector<DictionaryAttr> argAttrs, resultAttrs;
  for (BlockArgument arg : inputs) {
    argTypes.push_back(arg.getType());
    argAttrs.push_back(func.getArgAttrDict(arg.getArgNumber()));
  }
  auto boundaryAttrs = [&](Value v) {
    NamedAttribute id(StringAttr::get(ctx, BoundaryAttr::getNameStr()),
                      i64(boundaryId.lookup(v)));
    return DictionaryAttr::get(ctx, {id});
  };
  for (Value v : received) {
    argTypes.push_back(v.getType());
    argAttrs.push_back(boundaryAttrs(v));
  }
  for (auto [index, v] : stage.outputs) {
    resultTypes.push_back(v.getType());
    resultAttrs.push_back(func.getResultAttrDict(index));
  }
  for (Value v : sent) {
    resultTypes.push_back(v.getType());
    resultAttrs.push_back(boundaryAttrs(v));
  }

  std::string name = (func.getSymName() + "_stage" + Twine(k)).str();
  auto stageFunc = func::FuncOp::create(b, func.getLoc(), name,
                                        b.getFunctionType(argTypes, resultTypes));
  stageFunc.setAllArgAttrs(argAttrs);
  stageFunc.setAllResultAttrs(resultAttrs);
  StageAttr(ctx).setAttr(stageFunc, i64(k));
  Block *entry = stageFunc.addEntryBlock();
  IRMapping map;
  for (auto [arg, original] : llvm::zip_equal(
           entry->getArguments().take_front(inputs.size()), inputs))
    map.map(original, arg);
  for (auto [arg, original] : llvm::zip_equal(
           entry->getArguments().drop_front(inputs.size()), received))
    map.map(original, arg);

  OpBuilder body = OpBuilder::atBlockEnd(entry);
  // Weights and constants are copied in before their first reader.
  auto cloneSources = [&](Operation *op) {
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (def && isa<WeightOp, ConstantOp>(def) && !map.contains(operand))
        body.clone(*def, map);
    }
  };
  for (Operation *op : stage.ops) {
    cloneSources(op);
    Operation *copy = body.clone(*op, map);
    StageAttr(ctx).removeAttr(copy);
  }
  SmallVector<Value> results;
  for (auto [index, v] : stage.outputs) {
    Operation *def = v.getDefiningOp();
    if (def && isa<WeightOp, ConstantOp>(def) && !map.contains(v))
      body.clone(*def, map);
    results.push_back(map.lookup(v));
  }
  for (Value v : sent)
    results.push_back(map.lookup(v));
  func::ReturnOp::create(body, func.getLoc(), results);
}

LogicalResult PipelineSplitter::run() {
  if (!func.getBody().hasOneBlock())
    return func.emitOpError("has ")
           << func.getBody().getBlocks().size()
           << " blocks; dist-pipeline-split splits single-block functions";
  if (failed(assignStages()) || failed(collectInterfaces()))
    return failure();
  OpBuilder b(func);
  for (unsigned k = 0; k < numStages; ++k)
    buildStage(k, b);
  func.erase();
  return success();
}

namespace {
struct PipelineSplitPass
    : public distopt::impl::PipelineSplitPassBase<PipelineSplitPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto hasStages = [](func::FuncOp f) {
      WalkResult r = f.walk([](Operation *op) {
        return StageAttr(op->getContext()).isAttrPresent(op)
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      });
      return r.wasInterrupted();
    };
    SmallVector<func::FuncOp> staged;
    for (auto f : module.getOps<func::FuncOp>())
      if (!StageAttr(f.getContext()).isAttrPresent(f) && hasStages(f))
        staged.push_back(f);
    if (staged.empty())
      return;
    if (staged.size() > 1) {
      staged[1].emitOpError("has pipeline stages, and so has @")
          << staged[0].getSymName()
          << "; dist-pipeline-split splits one function";
      return signalPassFailure();
    }
    if (failed(PipelineSplitter(staged.front()).run()))
      signalPassFailure();
  }
};
} // namespace
