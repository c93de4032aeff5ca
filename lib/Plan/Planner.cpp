//===- Planner.cpp - Choose a device grid and a sharding per op -----------===//
//
// For each candidate grid: enumerate every op's strategies from its sharding
// rule (which grid axis splits which factor), price compute with the op cost
// model and resharding with the collective model, tie the copies of a
// repeated layer to one set of choices, and solve the choice exactly
// (StrategyProblem, CBC). Then compose the step (StepModel) for the report.
//
//===----------------------------------------------------------------------===//

#include "distopt/Plan/Planner.h"

#include "PlanGrid.h"
#include "ReportFormat.h"

#include "distopt/Cost/CollectiveCost.h"
#include "distopt/Cost/MemoryEstimate.h"
#include "distopt/Cost/MemoryModel.h"
#include "distopt/Cost/OpCost.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/FactorAxes.h"
#include "distopt/Dialect/Dist/Partition.h"
#include "distopt/Dialect/Dist/PipelinePhase.h"
#include "distopt/Dialect/Dist/PipelineSplit.h"
#include "distopt/Dialect/Dist/Reshard.h"
#include "distopt/Dialect/Dist/ShardingRule.h"
#include "distopt/Plan/LayerDetection.h"
#include "distopt/Plan/StrategyProblem.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

using namespace mlir;
using namespace distopt;
using namespace distopt::plan;
using cost::CollectiveKind;
using llvm::formatv;

namespace {

using dist::DistState;
using dist::GridAxes;

struct Strategy {
  FactorAxes factorAxes;
  SmallVector<DistState> operands, results;
  cost::OpWork work;
  double forwardSeconds = 0, backwardSeconds = 0;
  /// The all-reduces of the op's split form (a split collective factor).
  SmallVector<std::pair<plan::CommStep, std::string>> innerCollectives;
};

struct OpNode {
  Operation *op = nullptr;
  dist::ShardingRule rule;
  std::vector<Strategy> strategies;
  /// The node of the ILP this op is tied to, and the op's segment
  /// (0 before the layers, 1 in a layer, 2 after).
  int rep = -1;
  int segment = 0;
  int layer = -1;
  /// In the attention core (Planner::markAttentionCore), which selective
  /// recompute runs again; `coreDropped`: a value only the core reads,
  /// which selective recompute does not keep.
  bool attentionCore = false;
  bool coreDropped = false;
};

/// True when, in every tensor of `rule`, each dim has at most one split
/// factor and no split factor after a factor larger than 1 (a device holds
/// one contiguous block of the dim).
bool isContiguousAssignment(const dist::ShardingRule &rule,
                            const FactorAxes &current) {
  auto checkTensors = [&](ArrayRef<dist::TensorFactors> tensors) {
    for (const dist::TensorFactors &dims : tensors)
      for (const dist::DimFactors &d : dims) {
        bool seenBig = false;
        int split = 0;
        for (int64_t f : d) {
          bool isSplit = !current[f].empty();
          if (isSplit && (seenBig || ++split > 1))
            return false;
          if (rule.factors[f].size > 1)
            seenBig = true;
        }
      }
    return true;
  };
  return checkTensors(rule.operands) && checkTensors(rule.results);
}

/// Enumerates the valid assignments of `usable` axes to factors of `rule`.
void enumerateAssignments(const dist::ShardingRule &rule,
                          const GridContext &grid,
                          SmallVectorImpl<FactorAxes> &out) {
  unsigned numFactors = rule.factors.size();
  FactorAxes current(numFactors);
  std::function<void(unsigned)> recurse = [&](unsigned k) {
    if (k == grid.usable.size()) {
      if (isContiguousAssignment(rule, current))
        out.push_back(current);
      return;
    }
    int16_t axis = grid.usable[k];
    recurse(k + 1);
    for (unsigned f = 0; f < numFactors; ++f) {
      const dist::ShardingFactor &factor = rule.factors[f];
      if (factor.kind == dist::FactorKind::Whole)
        continue;
      int64_t pieces = grid.size(current[f]) * grid.shape[axis];
      if (factor.size % pieces != 0)
        continue;
      current[f].push_back(axis);
      recurse(k + 1);
      current[f].pop_back();
    }
  };
  recurse(0);
}

/// The ops of the function to plan, their rules and layer structure; the
/// same for every candidate grid.
class Planner {
public:
  Planner(func::FuncOp func, const cost::ClusterSpec &cluster,
          const cost::PlanOptions &options)
      : func(func), cluster(cluster), options(options) {}

  /// Collects the ops with their rules, segments and representatives.
  llvm::Error collectOps();
  /// Marks the attention core of the layers (OpNode::attentionCore).
  void markAttentionCore();

  func::FuncOp func;
  const cost::ClusterSpec &cluster;
  const cost::PlanOptions &options;
  LayerStructure layers;
  std::vector<OpNode> nodes;
  DenseMap<Operation *, unsigned> nodeOf;
  int64_t graphBatch = 1;
  /// Some layer has an attention core (selective recompute applies).
  bool hasAttentionCore = false;
  /// For a representative node, the copies it stands for (itself
  /// included); 0 for the other nodes.
  SmallVector<unsigned> copies;

private:
  llvm::Error collectRules();
  void placeWeights();
  void tieLayerCopies();
};

/// The planning of one candidate grid: strategies, the ILP, its solution,
/// and the plan read back from it.
class GridPlanner {
public:
  /// The planning of `candidate` with `knobs` (planner.options with the
  /// recompute, ZeRO stage, schedule and chunks of one setting).
  GridPlanner(Planner &planner, const CandidateGrid &candidate,
              const cost::PlanOptions &knobs)
      : planner(planner), nodes(planner.nodes), cluster(planner.cluster),
        options(knobs), candidate(candidate),
        training(options.mode == cost::StepMode::Training),
        grid(cluster, candidate, training) {}

  /// Plans for the grid. `minMemory` is set to the memory the smallest plan
  /// on this grid needs once the ILP is built; `noFit` when only memory is
  /// the problem.
  llvm::Expected<Plan> plan(std::optional<double> &minMemory, bool &noFit);
  /// Plans again with other `knobs` (the strategies and their costs stay:
  /// the knobs change the memory row only), and the device memory scaled
  /// by `memoryScale` as the limit.
  llvm::Expected<Plan> replan(const cost::PlanOptions &knobs,
                              std::optional<double> &minMemory, bool &noFit,
                              double memoryScale = 1);
  /// The strategies the last solution chose for the ILP nodes: `main`
  /// for every node; where the copies of the layers mix two choices
  /// (mixLayerCopies), the first `mixedCopies` copies take `fitting`'s.
  struct Choice {
    SmallVector<unsigned> main, fitting;
    unsigned mixedCopies = 0;
  };
  Choice getChoice() const { return choice; }
  /// Whether `choice` fits the ILP's memory limit under `knobs`.
  bool fitsUnder(const Choice &choice, const cost::PlanOptions &knobs);
  /// Micro-batches in flight that the ILP's memory row counts for `knobs`.
  unsigned getInFlight(const cost::PlanOptions &knobs) const;

  /// Set by a search over grids before plan(): a grid whose relaxation is
  /// fractional is set aside (plan() fails with isDeferred() set) until
  /// resume(), so that the grids that need branch and bound run last, in
  /// the order of their bounds, with the best step found as their cutoff.
  bool deferFractional = false;
  /// No plan whose objective exceeds this is wanted (isAboveCutoff() when
  /// every plan of the grid does).
  double cutoff = std::numeric_limits<double>::infinity();
  bool isDeferred() const { return deferred; }
  bool isAboveCutoff() const { return aboveCutoff; }
  /// The relaxation's bound on the objective of the last program built.
  double getBound() const { return solver ? solver->getBound() : 0; }
  /// Finishes the deferred solve, with `cutoff`.
  llvm::Expected<Plan> resume(bool &noFit);

private:
  llvm::Error setMicroBatches();
  llvm::Expected<Plan> solve(std::optional<double> &minMemory, bool &noFit);
  llvm::Expected<Plan> finishSolve(bool &noFit);
  std::optional<StrategySolution> mixLayerCopies();
  /// The memory of one copy of `node` in strategy `s` under `knobs`, with
  /// `inFlight` micro-batches in flight (the ILP's memory row).
  double getStrategyMemory(const OpNode &node, const Strategy &s, double count,
                           const cost::PlanOptions &knobs,
                           unsigned inFlight) const;
  /// The ILP's memory row under `knobs`, one vector per ILP node.
  std::vector<SmallVector<double>>
  getMemoryRow(const cost::PlanOptions &knobs) const;
  std::vector<double> getStageShares(ArrayRef<unsigned> compute);
  /// Seconds of `work` on the grid's devices: on the slowest of them (an
  /// op's time before it has a stage).
  double computeSeconds(const cost::OpWork &work) const {
    return cost::getSlowestComputeTime(grid.devices, work);
  }
  /// The device types of the ranks of pipeline position `k` (stage k, or
  /// every stage c with c mod pp = k).
  SmallVector<const cost::DeviceType *> getPositionDevices(unsigned k) const {
    unsigned size = grid.numRanks / candidate.pipelineStages;
    return grid.locator.getDeviceTypes(k * size, (k + 1) * size);
  }
  /// The stages the program is cut into: pp, times the chunks of an
  /// interleaved schedule.
  unsigned getStageCount() const {
    unsigned pp = candidate.pipelineStages;
    return pp > 1 ? pp * options.chunks : 1;
  }
  llvm::Error buildStrategies();
  /// The (value, state) pairs whose resharding buildSegments recorded.
  std::set<std::pair<const void *, std::string>> resharded;
  void keepDataParallelWeights(dist::WeightOp weight,
                               SmallVectorImpl<FactorAxes> &assignments);
  Strategy buildStrategy(const OpNode &node, const FactorAxes &axes);
  void addNodes(StrategyProblem &problem);
  double getWeightCost(const OpNode &node, const Strategy &s);
  double getOpCost(const OpNode &node, const Strategy &s);
  void addEdges(StrategyProblem &problem);
  double getEdgeCost(const DistState &from, const DistState &to,
                     RankedTensorType type, Operation *user, unsigned operand,
                     double count);
  /// The strategy (of its representative) that `c` gives op node `i`.
  unsigned strategyIndex(const Choice &c, unsigned i) const {
    const OpNode &node = nodes[i];
    unsigned n = ilpOf.lookup(node.rep);
    bool fitting = node.segment == 1 && node.layer >= 0 &&
                   unsigned(node.layer) < c.mixedCopies;
    return fitting ? c.fitting[n] : c.main[n];
  }
  const Strategy &strategyOf(unsigned i) const {
    return nodes[nodes[i].rep].strategies[strategyIndex(choice, i)];
  }
  double evaluateChoice(const Choice &c);
  void buildSegments(Plan &plan);
  void describeZero(Plan &plan);
  /// The data axes among those that `axes` assigns to factors.
  unsigned countDataAxes(const FactorAxes &axes) const {
    unsigned used = 0;
    for (const GridAxes &factorAxes : axes)
      for (int16_t a : factorAxes)
        used += llvm::is_contained(grid.dataAxes, a);
    return used;
  }
  void addReturnedResults(unsigned i, cost::SegmentCost &seg, Plan &plan);
  void addReshard(const DistState &from, const DistState &to,
                  RankedTensorType type, const std::string &what,
                  unsigned count, cost::SegmentCost &seg, Plan &plan);
  void buildReplicaGroups(Plan &plan);
  llvm::Error assignStages(Plan &plan);
  llvm::Error assignTrainingStages(Plan &plan);
  llvm::Error cutBetweenOps(ArrayRef<unsigned> compute,
                            ArrayRef<double> seconds, Plan &plan);
  void buildStageSegments(Plan &plan);
  void addOpToSegment(unsigned i, cost::SegmentCost &seg, Plan &plan);
  void summarize(Plan &plan);

  Planner &planner;
  std::vector<OpNode> &nodes;
  const cost::ClusterSpec &cluster;
  std::optional<StrategySolver> solver;
  bool deferred = false, aboveCutoff = false;
  cost::PlanOptions options;
  const CandidateGrid &candidate;
  bool training;
  GridContext grid;
  int64_t microBatches = 1;
  unsigned inFlight = 1;
  double layerShare = 1;
  /// The stages cut the program between ops (assignStages).
  bool opStages = false;
  /// The device types of each pipeline position (assignStages); stage c
  /// runs on position c mod pp.
  std::vector<SmallVector<const cost::DeviceType *>> positionDevices;
  /// Set while the segments of one kind of data-parallel replica are built
  /// (buildReplicaGroups): its devices, on which its ops are timed.
  SmallVector<const cost::DeviceType *> replicaDevices;
  DenseMap<unsigned, unsigned> ilpOf; // op node -> ILP node
  /// Per ILP node: it stands for one op of every copy of the layers.
  SmallVector<bool> ilpLayer;
  StrategyProblem problem;
  StrategySolution solution;
  Choice choice;
};

} // namespace

//===----------------------------------------------------------------------===//
// The ops to plan
//===----------------------------------------------------------------------===//

llvm::Error Planner::collectOps() {
  layers = findRepeatedLayers(func);
  if (llvm::Error error = collectRules())
    return error;
  placeWeights();
  tieLayerCopies();
  copies.assign(nodes.size(), 0);
  for (const OpNode &node : nodes)
    ++copies[node.rep];
  markAttentionCore();
  // The batch of one micro-batch: dim 0 of the first argument.
  if (func.getNumArguments() > 0)
    if (auto t = dyn_cast<RankedTensorType>(func.getArgument(0).getType()))
      if (t.getRank() > 0)
        graphBatch = t.getDimSize(0);
  return llvm::Error::success();
}

/// One node per op with a sharding rule, in program order, with its layer
/// and segment; every op but constants needs a rule.
llvm::Error Planner::collectRules() {
  DenseMap<Operation *, unsigned> position;
  for (auto [i, op] : llvm::enumerate(layers.ops))
    position[op] = i;
  SmallVector<std::string> missing;
  unsigned firstLayerOp = layers.count ? layers.begin : layers.ops.size();
  for (Operation &op : func.getBody().front()) {
    if (op.hasTrait<OpTrait::IsTerminator>() || isa<dist::ConstantOp>(op))
      continue;
    auto ruleOp = dyn_cast<dist::ShardingRuleOpInterface>(&op);
    if (!ruleOp) {
      std::string loc;
      llvm::raw_string_ostream os(loc);
      op.getLoc().print(os);
      missing.push_back(op.getName().getStringRef().str() + " at " + loc);
      continue;
    }
    OpNode node;
    node.op = &op;
    node.rule = ruleOp.getShardingRule();
    auto it = position.find(&op);
    if (it != position.end()) {
      node.layer = layers.getLayer(it->second);
      node.segment = node.layer >= 0 ? 1 : (it->second < firstLayerOp ? 0 : 2);
    }
    nodeOf[&op] = nodes.size();
    nodes.push_back(std::move(node));
  }
  if (!missing.empty())
    return llvm::createStringError(
        "the planner needs a sharding rule for every op; these have none: " +
        llvm::join(missing, ", "));
  return llvm::Error::success();
}

/// Weights go with the segment of their first user.
void Planner::placeWeights() {
  for (OpNode &node : nodes) {
    if (!isa<dist::WeightOp>(node.op))
      continue;
    node.segment = 0;
    for (Operation *user : node.op->getUsers())
      if (nodeOf.count(user)) {
        const OpNode &u = nodes[nodeOf[user]];
        node.segment = u.segment;
        node.layer = u.layer;
        break;
      }
  }
}

/// True when `v` is a weight or constant, seen through views and casts.
static bool isParameterValue(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<dist::WeightOp, dist::ConstantOp>(def))
      return true;
    if (!isa<dist::ReshapeOp, dist::TransposeOp, dist::BroadcastOp,
             dist::CastOp>(def))
      return false;
    v = def->getOperand(0);
  }
  return false;
}

/// A product of two activations (attention's scores and its weighted sum
/// of values), not of an activation and a weight.
static bool isActivationProduct(Operation *op) {
  return isa<dist::MatMulOp>(op) && !isParameterValue(op->getOperand(0)) &&
         !isParameterValue(op->getOperand(1));
}

/// A contraction with a weight (a linear layer, a convolution): where the
/// attention core ends.
static bool isWeightContraction(Operation *op) {
  return isa<dist::MatMulOp, dist::GemmOp, dist::Conv2DOp>(op) &&
         !isActivationProduct(op);
}

/// The attention core of each layer, as Megatron-LM's selective recompute
/// takes it (Korthikanti et al. 2022): the products of two activations and
/// the ops between them (scale, mask, softmax, dropout): downstream of
/// such a product and upstream of another one, without passing a
/// contraction with a weight. A core value that only core ops read is
/// recomputed rather than kept.
void Planner::markAttentionCore() {
  SmallVector<unsigned> products;
  for (auto [i, node] : llvm::enumerate(nodes))
    if (node.segment == 1 && isActivationProduct(node.op))
      products.push_back(i);
  if (products.empty())
    return;
  auto inLayer = [&](Operation *op, int layer) {
    auto it = nodeOf.find(op);
    return it != nodeOf.end() && nodes[it->second].layer == layer;
  };
  DenseSet<Operation *> downstream, upstream;
  SmallVector<Operation *> work;
  for (unsigned i : products) {
    int layer = nodes[i].layer;
    // Forward from the product to the weight contractions.
    work.assign(1, nodes[i].op);
    while (!work.empty()) {
      Operation *op = work.pop_back_val();
      for (Operation *user : op->getUsers())
        if (inLayer(user, layer) && !isWeightContraction(user) &&
            !isActivationProduct(user) && downstream.insert(user).second)
          work.push_back(user);
    }
    // Backward from the product to contractions.
    for (Value operand : nodes[i].op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        work.push_back(def);
    while (!work.empty()) {
      Operation *op = work.pop_back_val();
      if (!inLayer(op, layer) ||
          isa<dist::MatMulOp, dist::GemmOp, dist::Conv2DOp, dist::WeightOp>(
              op) ||
          !upstream.insert(op).second)
        continue;
      for (Value operand : op->getOperands())
        if (Operation *def = operand.getDefiningOp())
          work.push_back(def);
    }
  }
  for (unsigned i : products)
    nodes[i].attentionCore = true;
  for (Operation *op : downstream)
    if (upstream.contains(op))
      nodes[nodeOf[op]].attentionCore = true;
  for (OpNode &node : nodes) {
    if (!node.attentionCore)
      continue;
    hasAttentionCore = true;
    node.coreDropped =
        !node.op->use_empty() &&
        llvm::all_of(node.op->getUsers(), [&](Operation *user) {
          auto it = nodeOf.find(user);
          return it != nodeOf.end() && nodes[it->second].attentionCore;
        });
  }
}

/// Representatives: a layer op is tied to the op at the same position of
/// layer 0; a weight used by one layer op is tied to the weight that the
/// representative of that op uses at the same operand.
void Planner::tieLayerCopies() {
  for (auto [i, node] : llvm::enumerate(nodes))
    node.rep = i;
  if (!layers.count)
    return;
  for (unsigned i = layers.begin + layers.period;
       i < layers.begin + layers.period * layers.count; ++i) {
    unsigned n = nodeOf[layers.ops[i]];
    unsigned r =
        nodeOf[layers.ops[layers.begin + (i - layers.begin) % layers.period]];
    nodes[n].rep = r;
  }
  for (OpNode &node : nodes) {
    auto weight = dyn_cast<dist::WeightOp>(node.op);
    if (!weight || !weight->hasOneUse())
      continue;
    OpOperand &use = *weight->getUses().begin();
    auto userIt = nodeOf.find(use.getOwner());
    if (userIt == nodeOf.end())
      continue;
    const OpNode &user = nodes[userIt->second];
    if (user.layer <= 0)
      continue;
    Operation *repUser = nodes[user.rep].op;
    Value repOperand = repUser->getOperand(use.getOperandNumber());
    auto repWeight = repOperand.getDefiningOp<dist::WeightOp>();
    if (repWeight && repWeight.getType() == weight.getType() &&
        repWeight->hasOneUse())
      node.rep = nodeOf[repWeight];
  }
}

/// The module path of the ONNX node an op was imported from, from the
/// node name in its location: torch.onnx names nodes after the module
/// that made them ("/blocks.0/attn/q/MatMul" gives "blocks.0.attn.q").
/// Empty when the name has no path.
static std::string getModulePath(Operation *op) {
  std::string path;
  op->getLoc()->walk([&](Location loc) {
    auto name = dyn_cast<NameLoc>(loc);
    if (!name || !path.empty())
      return WalkResult::advance();
    StringRef node = name.getName().getValue();
    if (!node.consume_front("/"))
      return WalkResult::advance();
    SmallVector<StringRef> parts;
    node.split(parts, '/');
    parts.pop_back(); // the node's own name (MatMul, Add, ...)
    path = llvm::join(parts, ".");
    return WalkResult::interrupt();
  });
  return path;
}

/// A weight's name for people: its initializer's name, or, for the names
/// torch.onnx makes up for transposed weights ("onnx::MatMul_304"), the
/// module path of the op that reads it ("blocks.0.attn.q.weight
/// (onnx::MatMul_304)").
static std::string getWeightLabel(dist::WeightOp weight) {
  StringRef name = weight.getName();
  if (!name.starts_with("onnx::"))
    return name.str();
  for (Operation *user : weight->getUsers())
    if (std::string path = getModulePath(user); !path.empty())
      return path + ".weight (" + name.str() + ")";
  return name.str();
}

/// The ONNX node name `op` was imported from (its NameLoc), or "".
static std::string getNodeName(Operation *op) {
  std::string name;
  op->getLoc()->walk([&](Location loc) {
    if (auto nameLoc = dyn_cast<NameLoc>(loc)) {
      name = nameLoc.getName().getValue().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

static std::string describeOp(Operation *op) {
  std::string s = op->getName().getStringRef().str();
  for (Value v : op->getOperands())
    if (auto w = v.getDefiningOp<dist::WeightOp>())
      return s + " (" + getWeightLabel(w) + ")";
  // Without a weight, the ONNX node it came from names it.
  if (std::string node = getNodeName(op); !node.empty())
    return s + " (node " + node + ")";
  return s;
}

//===----------------------------------------------------------------------===//
// Strategies and the ILP of one grid
//===----------------------------------------------------------------------===//

/// Micro-batches per step: the global batch over the replicas' batches.
llvm::Error GridPlanner::setMicroBatches() {
  unsigned dp = candidate.getDegree(AxisRole::Data);
  unsigned pp = candidate.pipelineStages;
  int64_t graphBatch = planner.graphBatch;
  if (training) {
    int64_t perStep = options.isFixed(cost::PlanKey::GlobalBatch)
                          ? options.globalBatch
                          : graphBatch * dp;
    if (perStep % (graphBatch * dp) != 0)
      return llvm::createStringError(
          formatv("the global batch {0} is not a multiple of data "
                  "parallelism {1} times the model's batch {2}",
                  perStep, dp, graphBatch)
              .str());
    microBatches = perStep / (graphBatch * dp);
    inFlight = getInFlight(options);
  }
  layerShare = planner.layers.count ? 1.0 / pp : 1.0;
  return llvm::Error::success();
}

unsigned GridPlanner::getInFlight(const cost::PlanOptions &knobs) const {
  unsigned pp = candidate.pipelineStages;
  unsigned m = unsigned(microBatches);
  if (pp == 1 || knobs.chunks == 1)
    return cost::getInFlightMicroBatches(knobs.schedule, pp, m);
  // Interleaved: the first position's chunks each hold 1 / v of its
  // layers, for the micro-batches in flight on each.
  unsigned sum = 0;
  for (unsigned c = 0; c < knobs.chunks; ++c)
    sum += cost::getInterleavedInFlight(pp, knobs.chunks, m, 0, c);
  return (sum + knobs.chunks - 1) / knobs.chunks;
}

/// A strategy of `node` for one assignment: operand and result states,
/// work and time. A split mean is rescaled into partial sums by one more
/// element-wise kernel (dist::buildPartialMean).
Strategy GridPlanner::buildStrategy(const OpNode &node,
                                    const FactorAxes &axes) {
  Strategy s;
  s.factorAxes = axes;
  for (const dist::TensorFactors &t : node.rule.operands)
    s.operands.push_back(dist::getTensorState(t, axes));
  for (unsigned r = 0; r < node.rule.results.size(); ++r)
    s.results.push_back(dist::getResultState(node.rule, r, axes));
  SmallVector<int64_t> splits;
  for (const GridAxes &factorAxes : axes)
    splits.push_back(grid.size(factorAxes));
  s.work = cost::getShardedOpWork(node.op, node.rule, splits);
  s.forwardSeconds = computeSeconds(s.work);
  // A split collective factor: the all-reduces of the op's split form, on
  // this device's share of each statistic.
  for (const dist::InnerAllReduce &inner : node.rule.innerAllReduces) {
    const GridAxes &over = axes[inner.factor];
    if (over.empty())
      continue;
    double elements = 1;
    for (const dist::DimFactors &dim : inner.dims)
      for (int64_t f : dim)
        elements *= double(node.rule.factors[f].size) / grid.size(axes[f]);
    double bytes =
        elements * getElementBytes(RankedTensorType::get({}, inner.elementType));
    CommStep step{CollectiveKind::AllReduce, bytes, over,
                  grid.collective(CollectiveKind::AllReduce, bytes, over)};
    s.forwardSeconds += step.seconds;
    s.innerCollectives.push_back({step, inner.what});
  }
  if (dist::splitsMean(node.rule, axes)) {
    auto type = cast<RankedTensorType>(node.op->getResult(0).getType());
    double bytes = grid.localBytes(type, s.results[0]);
    s.forwardSeconds +=
        computeSeconds(cost::OpWork{cost::OpClass::Memory, 0, 2 * bytes});
  }
  if (training)
    s.backwardSeconds = computeSeconds(cost::getBackwardWork(s.work));
  return s;
}

/// In a generated training step, data parallelism keeps a whole copy of
/// the model on every replica: a weight is not split over the data axes.
/// Under ZeRO (stage 1 and up) optimizer states (zero-storage weights) are
/// split over all of them where their shape allows, so that the update
/// runs on a shard (reduce-scatter of the gradient, all-gather of the new
/// weight); under ZeRO-3 parameters may be split over them too. Where the
/// plan does not fix the stage, the program chooses for each optimizer
/// state whether it is whole or split over all the data axes (ZeRO-0 and
/// ZeRO-1 at once, per tensor; GridPlanner::describeZero names the
/// outcome); parameters stay whole over them (ZeRO-3 when the plan asks,
/// or when nothing else fits, planModule: with the parameters' splits in
/// the same program, CBC took minutes on GPT-2's step on 4 devices).
void GridPlanner::keepDataParallelWeights(
    dist::WeightOp weight, SmallVectorImpl<FactorAxes> &assignments) {
  if (grid.dataAxes.empty())
    return;
  bool state = weight.getData().getStorage() == dist::DataStorage::Zero;
  unsigned zero = unsigned(options.zero);
  SmallVector<FactorAxes> kept;
  for (const FactorAxes &axes : assignments) {
    unsigned used = countDataAxes(axes);
    bool keep = state && zero >= 1 ? used == grid.dataAxes.size()
                                   : used == 0 || (!state && zero >= 3);
    if (state && !options.isFixed(cost::PlanKey::Zero))
      keep = used == 0 || used == grid.dataAxes.size();
    if (keep)
      kept.push_back(axes);
  }
  // A state that no split over the data axes fits stays whole over them.
  if (kept.empty() && state)
    for (const FactorAxes &axes : assignments)
      if (countDataAxes(axes) == 0)
        kept.push_back(axes);
  assignments = std::move(kept);
}

/// The strategies of the representatives.
llvm::Error GridPlanner::buildStrategies() {
  for (auto [i, node] : llvm::enumerate(nodes)) {
    node.strategies.clear();
    if (node.rep != static_cast<int>(i))
      continue;
    SmallVector<FactorAxes> assignments;
    enumerateAssignments(node.rule, grid, assignments);
    if (auto weight = dyn_cast<dist::WeightOp>(node.op);
        weight && options.explicitStep)
      keepDataParallelWeights(weight, assignments);
    for (const FactorAxes &axes : assignments)
      node.strategies.push_back(buildStrategy(node, axes));
    if (node.strategies.empty())
      return llvm::createStringError("no valid strategy for " +
                                     describeOp(node.op));
  }
  return llvm::Error::success();
}

/// The per-step cost of a weight in strategy `s`: gradient synchronization
/// over the replicas in training.
double GridPlanner::getWeightCost(const OpNode &node, const Strategy &s) {
  auto type = cast<RankedTensorType>(node.op->getResult(0).getType());
  double localElems = grid.localElements(type, s.results[0]);
  if (!training)
    return 0;
  // Gradients of replicated parameters are summed over dp once per step.
  return grid.collective(CollectiveKind::AllReduce,
                         localElems * getElementBytes(type), grid.dataAxes);
}

/// The memory of a weight (with Adam's states in training) or of the
/// activations an op keeps for its backward (training): once per
/// micro-batch in flight, or, when recompute runs it again, once for the
/// layer being differentiated (1 / `count` of its copies).
double GridPlanner::getStrategyMemory(const OpNode &node, const Strategy &s,
                                      double count,
                                      const cost::PlanOptions &knobs,
                                      unsigned inFlight) const {
  if (auto weight = dyn_cast<dist::WeightOp>(node.op)) {
    double localElems = grid.localElements(weight.getType(), s.results[0]);
    if (!training)
      return localElems * getElementBytes(weight.getType());
    return cost::getAdamModelStateMemory(localElems, knobs.zero,
                                         candidate.getDegree(AxisRole::Data),
                                         knobs.precision)
        .total();
  }
  if (!training)
    return 0;
  double kept = 0;
  for (OpResult r : node.op->getResults())
    kept += grid.localBytes(cast<RankedTensorType>(r.getType()),
                            s.results[r.getResultNumber()]);
  using cost::RecomputePolicy;
  bool recomputed =
      node.segment == 1 &&
      (knobs.recompute == RecomputePolicy::Full ||
       (knobs.recompute == RecomputePolicy::Selective && node.coreDropped));
  return kept * (recomputed ? 1.0 / count : inFlight);
}

/// The per-step cost of a compute op in strategy `s`: its kernels, the
/// all-reduce of the gradients of the weights it uses where its split
/// leaves them partial (training), and its results returned whole.
double GridPlanner::getOpCost(const OpNode &node, const Strategy &s) {
  double c =
      microBatches * (s.forwardSeconds + (training ? s.backwardSeconds : 0));
  if (training) {
    // Weight gradients are partial over the axes that split a factor the
    // weight does not have (e.g. the batch): all-reduce them.
    for (auto [o, operand] : llvm::enumerate(node.op->getOperands())) {
      if (!operand.getDefiningOp<dist::WeightOp>())
        continue;
      llvm::SmallDenseSet<int64_t> own;
      for (const dist::DimFactors &d : node.rule.operands[o])
        own.insert(d.begin(), d.end());
      GridAxes axes;
      for (auto [f, fa] : llvm::enumerate(s.factorAxes))
        if (!own.count(f))
          llvm::append_range(axes, fa);
      if (axes.empty())
        continue;
      c += grid.collective(
          CollectiveKind::AllReduce,
          grid.localBytes(cast<RankedTensorType>(operand.getType()),
                          s.operands[o]),
          axes);
    }
  }
  // Results the function returns end up whole on every device.
  for (OpOperand &use : node.op->getUses())
    if (isa<func::ReturnOp>(use.getOwner())) {
      auto r = cast<OpResult>(use.get());
      auto rt = cast<RankedTensorType>(r.getType());
      c += grid.reshardSeconds(s.results[r.getResultNumber()],
                               DistState::whole(rt.getRank()), rt);
    }
  return c;
}

/// One ILP node per representative, with the cost and memory of each of
/// its strategies summed over the copies it stands for.
void GridPlanner::addNodes(StrategyProblem &problem) {
  for (auto [i, node] : llvm::enumerate(nodes)) {
    if (node.rep != static_cast<int>(i))
      continue;
    ilpOf[i] = problem.nodes.size();
    StrategyProblem::Node n;
    double count = planner.copies[i];
    ilpLayer.push_back(node.segment == 1 && planner.layers.count > 1 &&
                       planner.copies[i] == planner.layers.count);
    double memShare = node.segment == 1 ? layerShare : 1.0;
    // Among plans of equal time, prefer the one that needs less memory
    // (1 GB weighs 1 us), memory without recompute or ZeRO, so that the
    // preference does not depend on them.
    cost::PlanOptions plain = options;
    plain.recompute = cost::RecomputePolicy::None;
    plain.zero = cost::ZeroStage::Zero0;
    for (const Strategy &s : node.strategies) {
      double c = isa<dist::WeightOp>(node.op) ? getWeightCost(node, s)
                                              : getOpCost(node, s);
      double mem = getStrategyMemory(node, s, count, plain, 1);
      n.cost.push_back(c * count + mem * count * memShare * 1e-15);
    }
    problem.nodes.push_back(std::move(n));
  }
  for (auto [n, memory] : llvm::zip_equal(problem.nodes, getMemoryRow(options)))
    n.memory = std::move(memory);
}

std::vector<SmallVector<double>>
GridPlanner::getMemoryRow(const cost::PlanOptions &knobs) const {
  unsigned knobInFlight = training ? getInFlight(knobs) : 1;
  // The row is the first stage's (the most micro-batches in flight) plus
  // the ops after the layers, which run on the last stage, with that
  // stage's micro-batches in flight (1 under 1F1B).
  unsigned pp = candidate.pipelineStages;
  unsigned lastInFlight = knobInFlight;
  if (training && pp > 1)
    lastInFlight = cost::getStageInFlightMicroBatches(
        knobs.schedule, pp, knobs.chunks, unsigned(microBatches),
        pp * knobs.chunks - 1);
  std::vector<SmallVector<double>> row;
  for (auto [i, node] : llvm::enumerate(nodes)) {
    if (node.rep != static_cast<int>(i))
      continue;
    double count = planner.copies[i];
    double share = count * (node.segment == 1 ? layerShare : 1.0);
    unsigned inFlight = node.segment == 2 ? lastInFlight : knobInFlight;
    SmallVector<double> &memory = row.emplace_back();
    for (const Strategy &s : node.strategies)
      memory.push_back(share *
                       getStrategyMemory(node, s, count, knobs, inFlight));
  }
  return row;
}

bool GridPlanner::fitsUnder(const Choice &choice,
                            const cost::PlanOptions &knobs) {
  double share = double(choice.mixedCopies) / planner.layers.count;
  double sum = 0;
  for (auto [n, memory] : llvm::enumerate(getMemoryRow(knobs))) {
    sum += memory[choice.main[n]];
    if (choice.mixedCopies && ilpLayer[n])
      sum += share * (memory[choice.fitting[n]] - memory[choice.main[n]]);
  }
  return sum <= grid.locator.getLeastDeviceMemory(0, grid.numRanks);
}

/// The cost of a pair of states that a plan must not have (seconds; no
/// real step comes near it).
static constexpr double kForbidden = 1e9;

/// The ILP's cost of `count` copies of a value leaving its producer in
/// state `from` and read as operand `operand` of `user` in state `to`: the
/// resharding, twice in training (its dual runs in the backward), per
/// micro-batch. A `dist.assign` writes its weight's buffer in place: it
/// must see the weight in the state the weight has, whatever a reshard
/// would cost.
double GridPlanner::getEdgeCost(const DistState &from, const DistState &to,
                                RankedTensorType type, Operation *user,
                                unsigned operand, double count) {
  if (operand == 0 && isa<dist::AssignOp>(user))
    return from.key() == to.key() ? 0 : kForbidden;
  return grid.reshardSeconds(from, to, type) * count * microBatches *
         (training ? 2.0 : 1.0);
}

/// One ILP edge per (producer result, consumer operand) pair of
/// representatives, priced by the resharding between their states and
/// summed over the copies it stands for.
void GridPlanner::addEdges(StrategyProblem &problem) {
  std::map<std::tuple<unsigned, unsigned, unsigned, unsigned>, unsigned>
      edgeCount;
  for (const OpNode &node : nodes)
    for (OpOperand &operand : node.op->getOpOperands()) {
      Operation *def = operand.get().getDefiningOp();
      if (!def || !planner.nodeOf.count(def))
        continue; // arguments and constants are whole everywhere: slicing
                  // them costs nothing
      unsigned src = nodes[planner.nodeOf[def]].rep;
      ++edgeCount[{src, cast<OpResult>(operand.get()).getResultNumber(),
                   static_cast<unsigned>(node.rep),
                   operand.getOperandNumber()}];
    }
  for (auto &[key, count] : edgeCount) {
    auto [src, result, dst, operandIndex] = key;
    StrategyProblem::Edge e;
    e.src = ilpOf[src];
    e.dst = ilpOf[dst];
    // Strategies that leave or need the same state share a class.
    auto classify = [](ArrayRef<const DistState *> states,
                       SmallVectorImpl<unsigned> &classOf) {
      llvm::StringMap<unsigned> classes;
      SmallVector<const DistState *> distinct;
      for (const DistState *state : states) {
        auto [it, inserted] = classes.try_emplace(state->key(), classes.size());
        if (inserted)
          distinct.push_back(state);
        classOf.push_back(it->second);
      }
      return distinct;
    };
    SmallVector<const DistState *> produced, consumed;
    for (const Strategy &s : nodes[src].strategies)
      produced.push_back(&s.results[result]);
    for (const Strategy &s : nodes[dst].strategies)
      consumed.push_back(&s.operands[operandIndex]);
    SmallVector<const DistState *> from = classify(produced, e.srcClass);
    SmallVector<const DistState *> to = classify(consumed, e.dstClass);
    e.numSrcClasses = from.size();
    e.numDstClasses = to.size();
    auto type =
        cast<RankedTensorType>(nodes[src].op->getResult(result).getType());
    for (const DistState *a : from)
      for (const DistState *b : to)
        e.cost.push_back(
            getEdgeCost(*a, *b, type, nodes[dst].op, operandIndex, count));
    problem.edges.push_back(std::move(e));
  }
}

llvm::Expected<Plan> GridPlanner::plan(std::optional<double> &minMemory,
                                       bool &noFit) {
  noFit = false;
  if (llvm::Error error = setMicroBatches())
    return std::move(error);
  if (llvm::Error error = buildStrategies())
    return std::move(error);
  ilpOf.clear();
  ilpLayer.clear();
  problem = StrategyProblem();
  addNodes(problem);
  addEdges(problem);
  problem.memoryLimit = grid.locator.getLeastDeviceMemory(0, grid.numRanks);
  return solve(minMemory, noFit);
}

llvm::Expected<Plan> GridPlanner::replan(const cost::PlanOptions &knobs,
                                         std::optional<double> &minMemory,
                                         bool &noFit, double memoryScale) {
  noFit = false;
  options = knobs;
  if (llvm::Error error = setMicroBatches())
    return std::move(error);
  // The costs stay; the memory row is the setting's.
  for (auto [n, memory] : llvm::zip_equal(problem.nodes, getMemoryRow(options)))
    n.memory = std::move(memory);
  problem.memoryLimit =
      memoryScale * grid.locator.getLeastDeviceMemory(0, grid.numRanks);
  return solve(minMemory, noFit);
}

llvm::Expected<Plan> GridPlanner::solve(std::optional<double> &minMemory,
                                        bool &noFit) {
  // The smallest memory any plan on this grid needs.
  minMemory = 0;
  for (const StrategyProblem::Node &n : problem.nodes)
    *minMemory += *llvm::min_element(n.memory);
  // No choice fits when the least memory of every node together does not.
  if (*minMemory > problem.memoryLimit) {
    noFit = true;
    return llvm::createStringError("no choice fits in memory");
  }
  solver.emplace(problem);
  return finishSolve(noFit);
}

llvm::Expected<Plan> GridPlanner::resume(bool &noFit) {
  deferFractional = false;
  // The strategies live in the planner's nodes, which the grids planned
  // meanwhile rebuilt for theirs.
  if (llvm::Error error = buildStrategies())
    return std::move(error);
  return finishSolve(noFit);
}

/// What a generated step's per-tensor choice of its optimizer states'
/// splits (keepDataParallelWeights) amounts to: ZeRO-1 when some state is
/// split over the data axes (the report's summary line gives how many),
/// else ZeRO-0.
void GridPlanner::describeZero(Plan &plan) {
  unsigned states = 0, split = 0;
  for (auto [i, node] : llvm::enumerate(nodes)) {
    auto weight = dyn_cast<dist::WeightOp>(node.op);
    if (!weight || weight.getData().getStorage() != dist::DataStorage::Zero)
      continue;
    ++states;
    split += countDataAxes(strategyOf(i).factorAxes) > 0;
  }
  if (!states)
    return;
  plan.zeroChosen = split ? cost::ZeroStage::Zero1 : cost::ZeroStage::Zero0;
  plan.summary.push_back(formatv("optimizer states (ZeRO chosen per tensor): "
                                 "{0} of {1} split over {2}",
                                 split, states,
                                 grid.describeAxes(grid.dataAxes))
                             .str());
}

/// A mix is taken without branch and bound when it costs at most this
/// much over the relaxation's bound, which no plan, mixed or not, beats.
static constexpr double kMixGap = 0.01;

/// The ILP's objective for `c` counted op by op: each op's share of its
/// node's cost, and every resharding between a producer and a consumer
/// as the strategies `c` gives them (copies of the layers may differ).
double GridPlanner::evaluateChoice(const Choice &c) {
  double total = 0;
  for (auto [i, node] : llvm::enumerate(nodes)) {
    unsigned n = ilpOf.lookup(node.rep);
    unsigned s = strategyIndex(c, i);
    total += problem.nodes[n].cost[s] / planner.copies[node.rep];
    const Strategy &to = nodes[node.rep].strategies[s];
    for (OpOperand &operand : node.op->getOpOperands()) {
      auto it = planner.nodeOf.find(operand.get().getDefiningOp());
      if (it == planner.nodeOf.end())
        continue;
      unsigned from = it->second;
      const DistState &produced =
          nodes[nodes[from].rep]
              .strategies[strategyIndex(c, from)]
              .results[cast<OpResult>(operand.get()).getResultNumber()];
      total += getEdgeCost(produced, to.operands[operand.getOperandNumber()],
                           cast<RankedTensorType>(operand.get().getType()),
                           node.op, operand.getOperandNumber(), 1);
    }
  }
  return total;
}

/// Where memory alone makes the relaxation fractional, its optimum takes
/// a share of a choice that fits (less memory, more time) and the rest of
/// one that does not. The plan can mix them as the relaxation does: the
/// first k copies of the repeated layers take the fitting choice and the
/// others the faster one, with the least k that fits, and the ops outside
/// the layers one of the two choices (the cheaper mix). With 96 layers,
/// memory then comes in steps of 1 / 96 of a layer's where a plan whose
/// copies agree must move whole layers (GPT-3 175B in fp32, inference at
/// batch 8 on 64 A100s: the MLPs of 11 layers split over all 64 devices
/// instead of those of every layer over 16, 3.6% faster). Taken when its
/// objective, counted op by op, is within kMixGap of the relaxation's
/// bound; else branch and bound decides. Inference without pipeline
/// stages only (where the memory row is the weights, linear in k).
std::optional<StrategySolution> GridPlanner::mixLayerCopies() {
  unsigned count = planner.layers.count;
  if (training || options.explicitStep || candidate.pipelineStages > 1 ||
      count < 2 || solver->getBound() > cutoff)
    return std::nullopt;
  std::optional<StrategySolver::Vertices> vertices =
      solver->getRelaxationVertices();
  if (!vertices)
    return std::nullopt;
  const StrategySolution &fitting = vertices->fitting;
  const StrategySolution &exceeding = vertices->exceeding;
  std::optional<Choice> best;
  double bestCost = std::numeric_limits<double>::infinity(), bestMemory = 0;
  for (const StrategySolution *outside : {&exceeding, &fitting}) {
    Choice c;
    c.main = exceeding.choice;
    c.fitting = fitting.choice;
    for (auto [n, layer] : llvm::enumerate(ilpLayer))
      if (!layer)
        c.main[n] = c.fitting[n] = outside->choice[n];
    if (outside == &fitting && c.main == exceeding.choice)
      break; // they agree outside the layers
    // Memory is linear in the number of copies that take the fitting
    // choice.
    double over = problem.evaluateMemory(c.main);
    double under = problem.evaluateMemory(c.fitting);
    if (under > problem.memoryLimit)
      continue;
    double k = over <= problem.memoryLimit
                   ? 0
                   : std::ceil(count * (over - problem.memoryLimit) /
                               (over - under) * (1 - 1e-12));
    c.mixedCopies = unsigned(std::min<double>(k, count));
    if (c.mixedCopies == count) {
      c.main = c.fitting;
      c.mixedCopies = 0;
    }
    double cost = evaluateChoice(c);
    if (cost < bestCost) {
      double share = double(c.mixedCopies) / count;
      bestCost = cost;
      bestMemory = share * under + (1 - share) * over;
      best = std::move(c);
    }
  }
  if (!best || bestCost > cutoff || bestMemory > problem.memoryLimit)
    return std::nullopt;
  double gap = bestCost > 0
                   ? std::max(0.0, (bestCost - solver->getBound()) / bestCost)
                   : 0;
  if (gap > kMixGap)
    return std::nullopt;
  StrategySolution mixed = exceeding;
  mixed.choice = best->main;
  mixed.cost = bestCost;
  mixed.memory = bestMemory;
  mixed.gap = gap;
  choice = std::move(*best);
  return mixed;
}

llvm::Expected<Plan> GridPlanner::finishSolve(bool &noFit) {
  deferred = aboveCutoff = false;
  if (deferFractional && !solver->isRelaxationIntegral() &&
      std::isfinite(solver->getBound())) {
    deferred = true;
    return llvm::createStringError("deferred: needs branch and bound");
  }
  choice = Choice();
  // Read from the relaxation (mixLayerCopies), or found by branch and bound.
  std::optional<StrategySolution> mixed = mixLayerCopies();
  if (mixed) {
    solution = std::move(*mixed);
  } else {
    StrategySolver::Status status;
    llvm::Expected<StrategySolution> solved = solver->solve(status, cutoff);
    if (!solved) {
      noFit = status == StrategySolver::Status::NoFit;
      aboveCutoff = status == StrategySolver::Status::AboveCutoff;
      return solved.takeError();
    }
    solution = std::move(*solved);
  }
  choice.main = solution.choice;

  Plan plan;
  plan.dataParallel = candidate.getDegree(AxisRole::Data);
  plan.tensorParallel = candidate.getDegree(AxisRole::Tensor);
  plan.pipelineParallel = candidate.pipelineStages;
  plan.chunks = candidate.pipelineStages > 1 ? options.chunks : 1;
  plan.objective = solution.cost;
  for (const StrategyProblem::Node &n : problem.nodes)
    plan.ilpStrategies += n.cost.size();
  plan.ilpDominated = solution.dominated;
  plan.ilpVariables = solution.variables;
  plan.ilpConstraints = solution.constraints;
  plan.ilpRelaxationIntegral = solution.relaxationIntegral;
  plan.ilpGap = solution.gap;
  plan.layerCount = planner.layers.count;
  plan.mixedLayerCopies = choice.mixedCopies;
  if (options.explicitStep && !grid.dataAxes.empty() &&
      !options.isFixed(cost::PlanKey::Zero))
    describeZero(plan);
  plan.ilpReadFromRelaxation = mixed.has_value();
  plan.layerOps = planner.layers.period;
  for (const GridAxisSpec &axis : candidate.axes) {
    plan.axisNames.push_back(axis.name);
    plan.gridShape.push_back(axis.size);
  }
  for (auto [i, node] : llvm::enumerate(nodes))
    plan.choices.push_back({node.op, strategyOf(i).factorAxes});
  if (candidate.pipelineStages > 1)
    if (llvm::Error error = assignStages(plan))
      return std::move(error);
  if (opStages)
    buildStageSegments(plan);
  else
    buildSegments(plan);
  buildReplicaGroups(plan);
  summarize(plan);
  return plan;
}

//===----------------------------------------------------------------------===//
// Reading the plan back: segments for the step model, and a summary
//===----------------------------------------------------------------------===//

/// The stage of every op of `planner` when `stages` stages cut its layers
/// evenly (the ops before the layers on the first, after on the last).
static void stageByLayers(const Planner &planner, unsigned stages,
                          SmallVectorImpl<unsigned> &out) {
  unsigned perStage = planner.layers.count / stages;
  out.clear();
  for (const OpNode &node : planner.nodes) {
    unsigned stage = 0;
    if (node.segment == 1)
      stage = std::min(unsigned(node.layer) / perStage, stages - 1);
    else if (node.segment == 2)
      stage = stages - 1;
    out.push_back(stage);
  }
}

/// The stage of every op. When pp divides the repeated layers, as the step
/// model assigns segments to stages (cost::composeStep): the ops before the
/// layers in the first stage, the layers in equal contiguous groups, the
/// ops after them in the last. Otherwise the program is cut between ops,
/// in program order (so every value flows to a later stage), into pp
/// ranges of about equal predicted time, each with at least one op;
/// `opStages` is set and buildSegments gives each stage a segment of its
/// own. A weight's entry does not matter: dist-pipeline-split copies each
/// weight into every stage that reads it.
llvm::Error GridPlanner::assignStages(Plan &plan) {
  unsigned pp = getStageCount();
  unsigned layers = planner.layers.count;
  positionDevices.clear();
  for (unsigned k = 0; k < candidate.pipelineStages; ++k)
    positionDevices.push_back(getPositionDevices(k));
  // Stages on devices of different speeds get uneven shares, cut between
  // ops.
  bool uniform = llvm::all_equal(positionDevices);
  opStages =
      layers == 0 || layers % pp != 0 || options.explicitStep || !uniform;
  if (options.explicitStep)
    return assignTrainingStages(plan);
  if (!opStages) {
    stageByLayers(planner, pp, plan.stages);
    return llvm::Error::success();
  }
  SmallVector<unsigned> compute;
  std::vector<double> seconds(nodes.size(), 0);
  for (auto [i, node] : llvm::enumerate(nodes))
    if (!isa<dist::WeightOp>(node.op)) {
      compute.push_back(i);
      seconds[i] = strategyOf(i).forwardSeconds;
    }
  plan.stages.assign(nodes.size(), 0);
  return cutBetweenOps(compute, seconds, plan);
}

/// The share of the program's time that stages 0..k run, for each k: equal
/// shares on equal devices; on devices of different speeds, shares as
/// their speed on the `compute` nodes' kernels.
std::vector<double> GridPlanner::getStageShares(ArrayRef<unsigned> compute) {
  unsigned pp = candidate.pipelineStages;
  // Each position's speed: the kernels' time on the slowest devices of
  // the grid over their time on its own.
  std::vector<double> speed(pp, 1.0);
  if (!llvm::all_equal(positionDevices)) {
    double reference = 0;
    std::vector<double> own(pp, 0);
    for (unsigned i : compute) {
      const cost::OpWork &work = strategyOf(i).work;
      reference += computeSeconds(work);
      for (unsigned k = 0; k < pp; ++k)
        own[k] += cost::getSlowestComputeTime(positionDevices[k], work);
    }
    for (unsigned k = 0; k < pp; ++k)
      speed[k] = own[k] > 0 ? reference / own[k] : 1.0;
  }
  unsigned stages = getStageCount();
  double sum = 0;
  for (unsigned k = 0; k < stages; ++k)
    sum += speed[k % pp];
  std::vector<double> upTo;
  double done = 0;
  for (unsigned k = 0; k < stages; ++k)
    upTo.push_back((done += speed[k % pp]) / sum);
  return upTo;
}

/// Cuts the `compute` nodes, in program order, into pp ranges of about
/// equal `seconds` (shares as their devices' speed, getStageShares), each
/// with at least one node, into `plan.stages`.
llvm::Error GridPlanner::cutBetweenOps(ArrayRef<unsigned> compute,
                                       ArrayRef<double> seconds, Plan &plan) {
  unsigned pp = getStageCount();
  if (compute.size() < pp)
    return llvm::createStringError(
        formatv("{0} stages need at least one op each, but the program has "
                "{1}",
                options.chunks > 1
                    ? formatv("pp = {0} x chunks = {1}: {2}",
                              candidate.pipelineStages, options.chunks, pp)
                          .str()
                    : formatv("pp = {0}", pp).str(),
                compute.size())
            .str());
  double total = 0;
  for (unsigned i : compute)
    total += seconds[i];
  // Each stage's share of the time: as its devices' speed.
  std::vector<double> upTo = getStageShares(compute);
  double done = 0;
  unsigned stage = 0;
  for (auto [k, i] : llvm::enumerate(compute)) {
    // Move on once this stage has an op and its share of the time, or when
    // the ops left are just enough for one per stage left.
    bool hasOp = k > 0 && plan.stages[compute[k - 1]] == stage;
    unsigned opsLeft = compute.size() - k, stagesLeft = pp - 1 - stage;
    if (hasOp && stagesLeft > 0 &&
        (opsLeft == stagesLeft || done >= total * upTo[stage]))
      ++stage;
    plan.stages[i] = stage;
    done += seconds[i];
  }
  return llvm::Error::success();
}

/// The stages of a generated training step. Its forward is cut between
/// ops into pp ranges of about equal predicted time, each op counting with
/// the backward that dist-autodiff built for it (`dist.adjoint_of`); each
/// backward op goes with its forward op, a weight with its first reader;
/// the update's ops get none (dist-pipeline-split runs each in the stage
/// whose values it reads).
llvm::Error GridPlanner::assignTrainingStages(Plan &plan) {
  MLIRContext *ctx = planner.func.getContext();
  dist::DistDialect::AdjointOfAttrHelper adjoint(ctx);
  dist::DistDialect::UpdateAttrHelper update(ctx);
  SmallVector<Operation *> ops;
  for (Operation &op : planner.func.getBody().front())
    ops.push_back(&op);
  std::vector<int> forwardOf(nodes.size(), -1);
  std::vector<double> seconds(nodes.size(), 0);
  SmallVector<unsigned> compute;
  for (auto [i, node] : llvm::enumerate(nodes)) {
    if (update.isAttrPresent(node.op))
      continue;
    IntegerAttr k = adjoint.getAttr(node.op);
    if (!k) {
      if (!isa<dist::WeightOp>(node.op))
        compute.push_back(i);
      continue;
    }
    Operation *forward =
        uint64_t(k.getInt()) < ops.size() ? ops[k.getInt()] : nullptr;
    if (!forward || adjoint.isAttrPresent(forward) ||
        update.isAttrPresent(forward) || !planner.nodeOf.count(forward))
      return llvm::createStringError(
          formatv("the backward op {0} names op #{1} as its forward "
                  "('dist.adjoint_of'), which is no forward op of the "
                  "function: was it changed after dist-autodiff?",
                  describeOp(node.op), k.getInt())
              .str());
    forwardOf[i] = int(planner.nodeOf.lookup(forward));
  }
  for (auto [i, node] : llvm::enumerate(nodes))
    if (forwardOf[i] >= 0)
      seconds[forwardOf[i]] += strategyOf(i).forwardSeconds;
    else if (!update.isAttrPresent(node.op))
      seconds[i] += strategyOf(i).forwardSeconds;
  plan.stages.assign(nodes.size(), Plan::kUnstaged);
  if (llvm::Error error = cutBetweenOps(compute, seconds, plan))
    return error;
  // A weight (and what its backward holds) goes with its first reader.
  for (auto [i, node] : llvm::enumerate(nodes)) {
    if (!isa<dist::WeightOp>(node.op) || update.isAttrPresent(node.op))
      continue;
    for (Operation *user : node.op->getUsers())
      if (auto it = planner.nodeOf.find(user);
          it != planner.nodeOf.end() &&
          plan.stages[it->second] != Plan::kUnstaged &&
          forwardOf[it->second] < 0)
        plan.stages[i] = std::min(plan.stages[i], plan.stages[it->second]);
    if (plan.stages[i] == Plan::kUnstaged)
      plan.stages[i] = 0;
  }
  for (auto [i, node] : llvm::enumerate(nodes))
    if (forwardOf[i] >= 0)
      plan.stages[i] = plan.stages[forwardOf[i]];
  return llvm::Error::success();
}

/// Segments of stages cut between ops: one per stage, with its ops, the
/// weights they read, and as input the values it receives from other
/// stages (each device's part, once each); and in a training step one more
/// per stage for its update, which runs once per step (`perStep`).
void GridPlanner::buildStageSegments(Plan &plan) {
  unsigned pp = getStageCount();
  std::vector<cost::SegmentCost> segs(pp), updates(pp);
  std::vector<llvm::SmallPtrSet<void *, 8>> counted(pp);
  resharded.clear();
  for (unsigned k = 0; k < pp; ++k) {
    segs[k].stage = updates[k].stage = int(k);
    updates[k].perStep = true;
  }
  std::vector<unsigned> updateStage(nodes.size(), 0);
  for (auto [i, node] : llvm::enumerate(nodes)) {
    if (plan.stages[i] == Plan::kUnstaged) {
      // The stage of the values it reads (dist-pipeline-split's rule).
      for (Value operand : node.op->getOperands())
        if (auto it = planner.nodeOf.find(operand.getDefiningOp());
            it != planner.nodeOf.end() && !isa<dist::WeightOp>(it->first)) {
          unsigned from = plan.stages[it->second];
          updateStage[i] =
              from == Plan::kUnstaged ? updateStage[it->second] : from;
          break;
        }
      addOpToSegment(i, updates[updateStage[i]], plan);
      continue;
    }
    if (isa<dist::WeightOp>(node.op))
      continue;
    unsigned k = plan.stages[i];
    addOpToSegment(i, segs[k], plan);
    for (Value operand : node.op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      auto it = def ? planner.nodeOf.find(def) : planner.nodeOf.end();
      if (it == planner.nodeOf.end())
        continue;
      // A value crosses as its producer leaves it on each device (the
      // split runs after partitioning); so does, in a training step, a
      // weight that lives in an earlier stage (dist-pipeline-split).
      auto type = cast<RankedTensorType>(operand.getType());
      const dist::DistState &state =
          strategyOf(it->second)
              .results[cast<OpResult>(operand).getResultNumber()];
      if (isa<dist::WeightOp>(def)) {
        if (!counted[k].insert(def).second)
          continue;
        bool trained = llvm::any_of(def->getUsers(), [](Operation *user) {
          return isa<dist::AssignOp>(user);
        });
        if (options.explicitStep && trained && plan.stages[it->second] != k)
          segs[k].inputBytes += grid.localBytes(type, state);
        else
          addOpToSegment(it->second, segs[k], plan);
        continue;
      }
      if (plan.stages[it->second] == k ||
          !counted[k].insert(operand.getAsOpaquePointer()).second)
        continue;
      segs[k].inputBytes += grid.localBytes(type, state);
    }
  }
  std::vector<unsigned> ops(pp, 0);
  for (auto [i, node] : llvm::enumerate(nodes))
    if (!isa<dist::WeightOp>(node.op) && plan.stages[i] != Plan::kUnstaged)
      ++ops[plan.stages[i]];
  for (auto [k, seg] : llvm::enumerate(segs)) {
    seg.name = formatv("{0} ops", ops[k]).str();
    plan.segments.push_back(std::move(seg));
  }
  for (auto [k, seg] : llvm::enumerate(updates))
    if (seg.forwardSeconds > 0 || seg.parameters > 0) {
      seg.name = "update";
      plan.segments.push_back(std::move(seg));
    }
}

/// Segments: before the layers, one layer (its second copy when there are
/// several: its inputs come from a layer, as for all but the first), after.
/// Where the layer copies mix two choices (mixLayerCopies), the layer is
/// three runs of copies: the k of the fitting choice (sampled where a copy
/// of the same choice precedes it, as above), the first of the other
/// choice (its input resharded from the fitting one), and the rest. A
/// layer copy no run samples adds only the results it returns, to the
/// segment after the layers.
void GridPlanner::buildSegments(Plan &plan) {
  unsigned count = planner.layers.count, k = choice.mixedCopies;
  struct Run {
    std::string name;
    int sample;
    unsigned repeat;
  };
  SmallVector<Run> runs;
  if (!k && count > 0)
    runs.push_back({"layer", count >= 2 ? 1 : 0, count});
  if (k) {
    auto copies = [](unsigned first, unsigned last) {
      return first == last ? formatv("layer copy {0}", first).str()
                           : formatv("layer copies {0}-{1}", first, last).str();
    };
    runs.push_back({copies(0, k - 1), k >= 2 ? 1 : 0, k});
    runs.push_back({copies(k, k), int(k), 1});
    if (k + 1 < count)
      runs.push_back({copies(k + 1, count - 1), int(k) + 1, count - k - 1});
  }
  cost::SegmentCost before, after;
  before.name = "before layers";
  after.name = "after layers";
  std::vector<cost::SegmentCost> layerSegs(runs.size());
  for (auto [seg, run] : llvm::zip_equal(layerSegs, runs)) {
    seg.name = run.name;
    seg.repeat = run.repeat;
    seg.isLayer = k > 0;
  }
  resharded.clear();
  for (auto [i, node] : llvm::enumerate(nodes)) {
    if (node.segment != 1) {
      addOpToSegment(i, node.segment == 0 ? before : after, plan);
      continue;
    }
    const Run *run = llvm::find_if(
        runs, [&](const Run &r) { return r.sample == node.layer; });
    if (run == runs.end())
      addReturnedResults(i, after, plan);
    else
      addOpToSegment(i, layerSegs[run - runs.begin()], plan);
  }
  plan.segments.push_back(std::move(before));
  for (cost::SegmentCost &seg : layerSegs)
    plan.segments.push_back(std::move(seg));
  plan.segments.push_back(std::move(after));
}

/// In training of a forward graph without pipeline stages, data-parallel
/// replicas on devices of different kinds are timed apart: one group per
/// kind (replica r holds ranks [r * tp, (r + 1) * tp), cost::StepModel's
/// layout), each with the segments of buildSegments timed on its devices.
/// Nothing when every replica has the same kinds of devices.
void GridPlanner::buildReplicaGroups(Plan &plan) {
  unsigned dp = candidate.getDegree(AxisRole::Data);
  unsigned tp = candidate.getDegree(AxisRole::Tensor);
  if (!training || options.explicitStep || candidate.pipelineStages != 1 ||
      dp < 2 || opStages)
    return;
  std::map<SmallVector<const cost::DeviceType *>, unsigned> groupOf;
  std::vector<SmallVector<const cost::DeviceType *>> kinds;
  std::vector<cost::ReplicaGroup> groups;
  for (unsigned r = 0; r < dp; ++r) {
    SmallVector<const cost::DeviceType *> types =
        grid.locator.getDeviceTypes(r * tp, (r + 1) * tp);
    llvm::sort(types);
    auto [it, inserted] = groupOf.try_emplace(types, groups.size());
    if (inserted) {
      groups.emplace_back();
      kinds.push_back(types);
    }
    groups[it->second].replicas.push_back(r);
  }
  if (groups.size() < 2)
    return;
  for (auto [group, types] : llvm::zip_equal(groups, kinds)) {
    // The collectives are the plan's already: a scratch plan takes them.
    Plan scratch;
    replicaDevices = types;
    buildSegments(scratch);
    group.segments = std::move(scratch.segments);
  }
  replicaDevices.clear();
  plan.replicaGroups = std::move(groups);
}

/// Adds op node `i` to `seg`: its parameters or its compute, activations,
/// and the collectives and slices of resharding its operands (and its
/// results returned whole); collectives also go to the plan's list.
void GridPlanner::addOpToSegment(unsigned i, cost::SegmentCost &seg,
                                 Plan &plan) {
  const OpNode &node = nodes[i];
  const Strategy &s = strategyOf(i);
  // A layer's op stands for its copies, unless stages cut between ops
  // (then every op is added).
  bool isLayer = node.segment == 1 && !opStages;
  unsigned dp = candidate.getDegree(AxisRole::Data);
  if (auto weight = dyn_cast<dist::WeightOp>(node.op)) {
    seg.parameters += grid.localElements(weight.getType(), s.results[0]);
    double bytes = grid.localBytes(weight.getType(), s.results[0]);
    seg.parameterBytes += bytes;
    if (training && dp > 1)
      seg.gradientCollectives.push_back(
          {CollectiveKind::AllReduce, bytes, dp,
           grid.collective(CollectiveKind::AllReduce, bytes, grid.dataAxes),
           "gradients of " + weight.getName().str()});
    return;
  }
  seg.forwardSeconds += s.forwardSeconds;
  seg.backwardSeconds += s.backwardSeconds;
  // A stage cut between ops runs its kernels on its own devices, and so
  // does a data-parallel replica whose devices differ from the others'.
  ArrayRef<const cost::DeviceType *> devices = replicaDevices;
  if (seg.stage >= 0)
    devices = positionDevices[seg.stage % candidate.pipelineStages];
  auto kernelSeconds = [&](const cost::OpWork &work) {
    return devices.empty() ? computeSeconds(work)
                           : cost::getSlowestComputeTime(devices, work);
  };
  if (!devices.empty()) {
    seg.forwardSeconds += kernelSeconds(s.work) - computeSeconds(s.work);
    if (training) {
      cost::OpWork backward = cost::getBackwardWork(s.work);
      seg.backwardSeconds +=
          kernelSeconds(backward) - computeSeconds(backward);
    }
  }
  seg.forwardFlops += s.work.flops;
  if (isLayer && node.attentionCore) {
    seg.selectiveSeconds += kernelSeconds(s.work);
    seg.selectiveFlops += s.work.flops;
  }
  for (const auto &[c, what] : s.innerCollectives) {
    cost::CollectiveUse use{c.kind, c.bytes,
                            static_cast<unsigned>(grid.size(c.axes)),
                            c.seconds, describeOp(node.op) + " " + what};
    // The step model times collectives apart from the kernels.
    seg.forwardSeconds -= c.seconds;
    seg.forwardCollectives.push_back(use);
    plan.collectives.push_back({cost::stringifyCollectiveKind(c.kind).str(),
                                use.what, c.bytes, use.groupSize, c.seconds,
                                isLayer ? seg.repeat : 1u});
  }
  for (OpResult result : node.op->getResults()) {
    double e = grid.localBytes(cast<RankedTensorType>(result.getType()),
                               s.results[result.getResultNumber()]);
    seg.activationBytes += e;
    if (isLayer && node.coreDropped)
      seg.selectiveBytes += e;
    seg.peakTemporaryBytes = std::max(seg.peakTemporaryBytes, e);
  }
  for (OpOperand &operand : node.op->getOpOperands()) {
    Operation *def = operand.get().getDefiningOp();
    if (!def || !planner.nodeOf.count(def))
      continue;
    unsigned di = planner.nodeOf[def];
    auto result = cast<OpResult>(operand.get());
    auto type = cast<RankedTensorType>(result.getType());
    // A value from the previous layer copy is an input of the layer: what
    // full recompute keeps and a pipeline stage receives, on each device
    // its shard as the producer leaves it (each device sends its own to
    // its peer in the next stage; sequence-parallel activations are a
    // 1 / tp piece).
    if (isLayer && nodes[di].segment == 1 && nodes[di].layer != node.layer &&
        !isa<dist::WeightOp>(def))
      seg.inputBytes +=
          grid.localBytes(type, strategyOf(di).results[result.getResultNumber()]);
    // dist-partition reshards a value into a state once, for all its users.
    const DistState &needed = s.operands[operand.getOperandNumber()];
    if (!resharded.insert({operand.get().getAsOpaquePointer(), needed.key()})
             .second)
      continue;
    addReshard(strategyOf(di).results[result.getResultNumber()],
               s.operands[operand.getOperandNumber()], type,
               describeOp(node.op) + " operand " +
                   std::to_string(operand.getOperandNumber()),
               isLayer ? seg.repeat : 1u, seg, plan);
  }
  addReturnedResults(i, seg, plan);
}

/// The collectives of a resharding from `from` to `to`, `count` times a
/// step, in `seg` and in the report; its local slices are copy kernels of
/// the forward pass.
void GridPlanner::addReshard(const DistState &from, const DistState &to,
                             RankedTensorType type, const std::string &what,
                             unsigned count, cost::SegmentCost &seg,
                             Plan &plan) {
  double sliceSeconds = 0;
  for (const CommStep &c : grid.reshard(from, to, type, &sliceSeconds)) {
    cost::CollectiveUse use{c.kind, c.bytes,
                            static_cast<unsigned>(grid.size(c.axes)), c.seconds,
                            what};
    seg.forwardCollectives.push_back(use);
    if (training)
      seg.backwardCollectives.push_back(use);
    plan.collectives.push_back({cost::stringifyCollectiveKind(c.kind).str(),
                                what, c.bytes, use.groupSize, c.seconds,
                                count});
  }
  seg.forwardSeconds += sliceSeconds;
}

/// The gathers of op node `i`'s results that the function returns: they
/// end up whole on every device. Layer copies other than the one a
/// segment samples add these alone, to the segment after the layers.
void GridPlanner::addReturnedResults(unsigned i, cost::SegmentCost &seg,
                                     Plan &plan) {
  const Strategy &s = strategyOf(i);
  for (OpOperand &use : nodes[i].op->getUses()) {
    if (!isa<func::ReturnOp>(use.getOwner()))
      continue;
    auto r = cast<OpResult>(use.get());
    auto type = cast<RankedTensorType>(r.getType());
    addReshard(s.results[r.getResultNumber()], DistState::whole(type.getRank()),
               type, "result " + std::to_string(use.getOperandNumber()), 1, seg,
               plan);
  }
}

/// A summary of the choices for people: one line per op of the (first)
/// layer, and of the ops around it, that splits anything.
void GridPlanner::summarize(Plan &plan) {
  // The layer copies that take the faster choice of a mix (the last), and
  // the ops of the others whose choice differs.
  unsigned k = choice.mixedCopies;
  int shown = k ? int(planner.layers.count) - 1 : 0;
  std::string mixedPrefix =
      k == 1 ? "layer copy 0: " : formatv("layer copies 0-{0}: ", k - 1).str();
  for (auto [i, node] : llvm::enumerate(nodes)) {
    // An op without results (dist.assign) follows its operands' splits.
    if (node.op->getNumResults() == 0)
      continue;
    if (node.segment == 1 && node.layer != shown) {
      if (!k || node.layer != 0 ||
          strategyIndex(choice, i) == choice.main[ilpOf.lookup(node.rep)])
        continue;
    }
    const Strategy &s = strategyOf(i);
    SmallVector<std::string> parts;
    std::string prefix = node.segment != 1     ? ""
                         : node.layer != shown ? mixedPrefix
                                               : "layer: ";
    if (auto weight = dyn_cast<dist::WeightOp>(node.op)) {
      auto shape = weight.getType().getShape();
      for (auto [d, axes] : llvm::enumerate(s.results[0].dims)) {
        if (axes.empty())
          continue;
        std::string how = shape.size() == 2 ? (d == 0 ? "rows" : "columns")
                                            : "dim " + std::to_string(d);
        parts.push_back(how + " over " + grid.describeAxes(axes));
      }
      if (!parts.empty())
        plan.summary.push_back(formatv("{0}weight {1}: {2}", prefix,
                                       getWeightLabel(weight),
                                       llvm::join(parts, ", "))
                                   .str());
      continue;
    }
    auto rt = dyn_cast<RankedTensorType>(node.op->getResult(0).getType());
    for (auto [d, axes] : llvm::enumerate(s.results[0].dims)) {
      if (axes.empty())
        continue;
      std::string what = "dim " + std::to_string(d);
      if (d == 0)
        what = "batch";
      else if (rt && rt.getRank() == 4 && d == 1)
        what = "heads";
      parts.push_back(what + " over " + grid.describeAxes(axes));
    }
    if (s.results[0].isPartial())
      parts.push_back("partial sums over " +
                      grid.describeAxes(s.results[0].partial));
    if (parts.empty() || !isa<dist::MatMulOp, dist::GemmOp, dist::SoftmaxOp,
                              dist::GatherOp, dist::Conv2DOp>(node.op))
      continue;
    plan.summary.push_back(formatv("{0}{1}: {2}", prefix, describeOp(node.op),
                                   llvm::join(parts, ", "))
                               .str());
  }
}

//===----------------------------------------------------------------------===//
// Choosing among grids
//===----------------------------------------------------------------------===//

/// Candidate grids: dp x tp x pp = devices, tp inside a node (unless
/// fixed), pp dividing the repeated layers; the parts the options fix.
static SmallVector<CandidateGrid>
enumerateGrids(const cost::ClusterSpec &cluster,
               const cost::PlanOptions &options, unsigned layerCount) {
  unsigned devices = cluster.getNumDevices();
  unsigned perNode =
      cluster.nodes.empty() ? devices : cluster.nodes.front().numDevices;
  SmallVector<CandidateGrid> grids;
  for (unsigned pp = 1; pp <= devices; ++pp) {
    if (devices % pp)
      continue;
    using cost::PlanKey;
    if (options.isFixed(PlanKey::PipelineParallel) &&
        pp != options.pipelineParallel)
      continue;
    // Stages split the repeated layers; a plan that fixes pp may also cut
    // a model whose layers it does not divide (or that has none) between
    // ops (GridPlanner::assignStages).
    if (pp > 1 && (layerCount == 0 || layerCount % pp != 0) &&
        !options.isFixed(PlanKey::PipelineParallel))
      continue;
    for (unsigned tp = 1; tp <= devices / pp; ++tp) {
      if ((devices / pp) % tp)
        continue;
      unsigned dp = devices / pp / tp;
      if (options.isFixed(PlanKey::TensorParallel) &&
          tp != options.tensorParallel)
        continue;
      if (options.isFixed(PlanKey::DataParallel) && dp != options.dataParallel)
        continue;
      if (!options.isFixed(PlanKey::TensorParallel) && tp > perNode)
        continue;
      // Data parallelism is the major axis, tensor parallelism the minor
      // one (neighbouring ranks, inside a node).
      CandidateGrid grid;
      grid.pipelineStages = pp;
      if (dp > 1)
        grid.axes.push_back({"dp", dp, AxisRole::Data});
      if (tp > 1)
        grid.axes.push_back({"tp", tp, AxisRole::Tensor});
      grids.push_back(std::move(grid));
    }
  }
  return grids;
}

/// The plan on `grid`, completed for the step model: `options` with the
/// grid's degrees and the batches.
static cost::PlanOptions completePlan(const cost::PlanOptions &options,
                                      const CandidateGrid &grid,
                                      int64_t graphBatch) {
  bool training = options.mode == cost::StepMode::Training;
  unsigned dp = grid.getDegree(AxisRole::Data);
  unsigned tp = grid.getDegree(AxisRole::Tensor);
  cost::PlanOptions plan = options;
  // In inference the segments already hold per-device costs of the whole
  // dp x tp group (dp splits the model's batch like any other axis), so
  // the step model sees one replica of dp * tp devices.
  plan.dataParallel = training ? dp : 1;
  plan.tensorParallel = training ? tp : dp * tp;
  plan.pipelineParallel = grid.pipelineStages;
  plan.microBatch = graphBatch;
  // An inference pipeline runs the batch --batch gives as micro-batches
  // of the model's batch (makePlanOptions allows it only with pp).
  if (!training && !options.isFixed(cost::PlanKey::GlobalBatch))
    plan.globalBatch = graphBatch;
  else if (!options.isFixed(cost::PlanKey::GlobalBatch))
    plan.globalBatch = graphBatch * dp;
  return plan;
}

namespace {
/// What the search over grids found so far.
struct GridSearch {
  std::optional<Plan> best;
  double bestTime = 0;
  /// A step time reached before this search began (the plan of another
  /// micro-batch size): like the best step of the search itself, it bounds
  /// which settings are worth planning.
  double incumbent = std::numeric_limits<double>::infinity();
  /// Whether some grid's settings were left unplanned for that reason.
  bool pruned = false;
  /// The best plan's grid, by its place in the order of enumerateGrids
  /// (of plans equally fast, the first grid's wins).
  unsigned bestGrid = 0;
  /// The smallest memory per device any evaluated grid needs, and where.
  std::optional<double> smallestMemory;
  std::string smallestGrid;
  SmallVector<Candidate> candidates;
  bool anyFitError = false;

  void noteMemory(double memory, const std::string &grid) {
    if (!smallestMemory || memory < *smallestMemory) {
      smallestMemory = memory;
      smallestGrid = grid;
    }
  }
};
} // namespace

/// The memory of the functions of one program (one stage's, or the whole
/// step's): weights (by name, once) and optimizer states, constants, and
/// each function's arena and input buffers.
static cost::StepMemory getFunctionsMemory(ArrayRef<func::FuncOp> funcs) {
  cost::StepMemory memory;
  llvm::StringSet<> weights;
  for (func::FuncOp f : funcs) {
    Block &body = f.getBody().front();
    for (auto weight : body.getOps<dist::WeightOp>()) {
      if (!weights.insert(weight.getName()).second)
        continue;
      RankedTensorType type = weight.getType();
      double bytes = double(type.getNumElements()) * getElementBytes(type);
      (weight.getData().getStorage() == dist::DataStorage::Zero
           ? memory.optimizerStates
           : memory.parameters) += bytes;
    }
    cost::ProgramMemory program = cost::estimateProgramMemory(body);
    memory.parameters += program.constantBytes;
    memory.inputs += program.inputBytes;
    memory.activations += program.arenaBytes;
  }
  return memory;
}

/// Bytes of the values a training pipeline's stage keeps from a
/// micro-batch's forward for its backward: the boundary values its
/// backward reads that its forward computes or receives.
static double getStashBytes(func::FuncOp forward, func::FuncOp backward) {
  StringRef boundary = dist::DistDialect::BoundaryAttrHelper::getNameStr();
  std::set<int64_t> seen;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i)
    if (auto id = forward.getArgAttrOfType<IntegerAttr>(i, boundary))
      seen.insert(id.getInt());
  for (unsigned i = 0; i < forward.getNumResults(); ++i)
    if (auto id = forward.getResultAttrOfType<IntegerAttr>(i, boundary))
      seen.insert(id.getInt());
  double bytes = 0;
  for (unsigned i = 0; i < backward.getNumArguments(); ++i)
    if (auto id = backward.getArgAttrOfType<IntegerAttr>(i, boundary);
        id && seen.count(id.getInt())) {
      auto type = cast<RankedTensorType>(backward.getArgumentTypes()[i]);
      bytes += double(type.getNumElements()) * getElementBytes(type);
    }
  return bytes;
}

/// The memory of each stage of a training pipeline (`module` split): its
/// functions' (getFunctionsMemory), plus what it keeps for its backward
/// once per micro-batch in flight (m under GPipe, min(K - s, m) under
/// 1F1B, for stage s of K; under interleaved 1F1B its chunk's share of its
/// position's warm-up), plus one buffer per accumulated value.
static std::vector<cost::StepMemory>
getStageMemories(ModuleOp module, unsigned stages,
                 const cost::PlanOptions &options, unsigned microBatches) {
  MLIRContext *ctx = module.getContext();
  dist::DistDialect::StageAttrHelper stageAttr(ctx);
  dist::DistDialect::PhaseAttrHelper phaseAttr(ctx);
  std::vector<SmallVector<func::FuncOp>> funcs(stages);
  // A training stage's functions by phase (forward, backward, update).
  std::vector<std::array<func::FuncOp, 3>> phases(stages);
  for (auto f : module.getOps<func::FuncOp>())
    if (IntegerAttr k = stageAttr.getAttr(f)) {
      funcs[k.getInt()].push_back(f);
      if (StringAttr name = phaseAttr.getAttr(f))
        if (auto phase = dist::parsePipelinePhase(name.getValue()))
          phases[k.getInt()][int(*phase)] = f;
    }
  std::vector<cost::StepMemory> out;
  for (unsigned s = 0; s < stages; ++s) {
    cost::StepMemory memory = getFunctionsMemory(funcs[s]);
    auto [forward, backward, update] = phases[s];
    if (forward && backward && update) {
      unsigned inFlight = cost::getStageInFlightMicroBatches(
          options.schedule, stages / options.chunks, options.chunks,
          microBatches, s);
      memory.activations += inFlight * getStashBytes(forward, backward);
      for (Type t : update.getArgumentTypes()) {
        auto type = cast<RankedTensorType>(t);
        memory.activations +=
            double(type.getNumElements()) * getElementBytes(type);
      }
    }
    out.push_back(memory);
  }
  return out;
}

/// The memory per device of the program a plan of a generated training
/// step compiles to: the planner partitions a copy of the module with the
/// plan (and cuts its pipeline stages) and lays out each function as the
/// runtime does. Parameters are the weights that do not start at zero,
/// optimizer states those that do; the arena holds every computed value,
/// gradients included. One memory per pipeline stage.
static llvm::Expected<std::vector<cost::StepMemory>>
getProgramMemory(func::FuncOp func, const Plan &plan,
                 const cost::PlanOptions &options, unsigned microBatches) {
  auto module = func->getParentOfType<ModuleOp>();
  OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone()));
  // The copy's ops in the same order as the original's.
  func::FuncOp copyFunc;
  for (auto [original, cloned] : llvm::zip_equal(
           module.getOps<func::FuncOp>(), copy->getOps<func::FuncOp>()))
    if (original == func)
      copyFunc = cloned;
  DenseMap<Operation *, Operation *> copyOf;
  for (auto [original, cloned] :
       llvm::zip_equal(func.getBody().front(), copyFunc.getBody().front()))
    copyOf[&original] = &cloned;
  Plan mapped;
  mapped.gridShape = plan.gridShape;
  mapped.stages = plan.stages;
  mapped.chunks = plan.chunks;
  for (const auto &[op, axes] : plan.choices)
    mapped.choices.push_back({copyOf.lookup(op), axes});
  annotateModule(*copy, mapped);

  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &d) {
      diagnostics += d.str() + "\n";
      return success();
    });
    if (failed(dist::partitionModule(*copy)) ||
        failed(dist::splitPipelineStages(*copy)))
      return llvm::createStringError(
          "cannot compile the plan to measure its memory: " + diagnostics);
  }
  if (plan.pipelineParallel > 1)
    return getStageMemories(*copy, plan.pipelineParallel * plan.chunks, options,
                            microBatches);
  return std::vector<cost::StepMemory>{getFunctionsMemory({copyFunc})};
}

/// The settings of the choices besides the grid that a plan of `grid`
/// searches, each a copy of the options: in training (of a forward graph),
/// activation recompute (none, selective where layers have an attention
/// core, full), the ZeRO stage (0-3 with data parallelism) and, with
/// pipeline stages, 1F1B or interleaved 1F1B with v chunks (v dividing
/// the layers per stage); what the options fix stays. Otherwise only the
/// options themselves.
static SmallVector<cost::PlanOptions> getSettings(const Planner &planner,
                                                  const CandidateGrid &grid) {
  const cost::PlanOptions &options = planner.options;
  if (options.mode != cost::StepMode::Training || options.explicitStep)
    return {options};
  using cost::PlanKey;
  using cost::RecomputePolicy;
  SmallVector<RecomputePolicy> recomputes = {options.recompute};
  if (!options.isFixed(PlanKey::Recompute)) {
    recomputes = {RecomputePolicy::None, RecomputePolicy::Full};
    if (planner.hasAttentionCore)
      recomputes.insert(recomputes.begin() + 1, RecomputePolicy::Selective);
  }
  SmallVector<cost::ZeroStage> zeros = {options.zero};
  if (!options.isFixed(PlanKey::Zero) && grid.getDegree(AxisRole::Data) > 1)
    zeros = {cost::ZeroStage::Zero0, cost::ZeroStage::Zero1,
             cost::ZeroStage::Zero2, cost::ZeroStage::Zero3};
  SmallVector<std::pair<cost::PipelineScheduleKind, unsigned>> schedules = {
      {options.schedule, options.chunks}};
  unsigned pp = grid.pipelineStages, layers = planner.layers.count;
  if (pp > 1 && !options.isFixed(PlanKey::Schedule) &&
      !options.isFixed(PlanKey::Chunks)) {
    schedules = {{cost::PipelineScheduleKind::OneFOneB, 1}};
    for (unsigned v = 2; layers % pp == 0 && v <= layers / pp; ++v)
      if ((layers / pp) % v == 0)
        schedules.push_back({cost::PipelineScheduleKind::Interleaved1F1B, v});
  }
  SmallVector<cost::PlanOptions> settings;
  for (RecomputePolicy recompute : recomputes)
    for (cost::ZeroStage zero : zeros)
      for (auto [schedule, chunks] : schedules) {
        cost::PlanOptions setting = options;
        setting.recompute = recompute;
        setting.zero = zero;
        setting.schedule = schedule;
        setting.chunks = chunks;
        settings.push_back(setting);
      }
  return settings;
}

/// The setting of `settings` whose ILP memory row is the smallest for
/// every strategy: the most recompute, the highest ZeRO stage, the fewest
/// micro-batches in flight (1F1B).
static cost::PlanOptions getLeanest(ArrayRef<cost::PlanOptions> settings) {
  cost::PlanOptions lean = settings.front();
  for (const cost::PlanOptions &s : settings) {
    lean.recompute = std::max(lean.recompute, s.recompute);
    lean.zero = std::max(lean.zero, s.zero);
  }
  for (const cost::PlanOptions &s : settings)
    if (s.chunks == 1 && s.schedule != cost::PipelineScheduleKind::GPipe) {
      lean.schedule = s.schedule;
      lean.chunks = 1;
    }
  return lean;
}

/// Composes the step of `plan` under `setting`; a generated training step
/// gets the memory of the program the plan compiles to.
static llvm::Expected<cost::StepReport>
priceSetting(const Planner &planner, const CandidateGrid &grid,
             const Plan &plan, const cost::PlanOptions &setting) {
  llvm::Expected<cost::StepReport> step = cost::composeStep(
      plan.segments, completePlan(setting, grid, planner.graphBatch),
      planner.cluster, plan.replicaGroups);
  if (!step || !setting.explicitStep)
    return step;
  llvm::Expected<std::vector<cost::StepMemory>> memory =
      getProgramMemory(planner.func, plan, step->plan, step->microBatches);
  if (!memory)
    return memory.takeError();
  cost::setStepMemory(*step, *memory);
  return step;
}

/// Fills `candidate`'s figures from `step`.
static void describeCandidate(Candidate &candidate,
                              const cost::StepReport &step) {
  candidate.priced = true;
  candidate.setting = step.plan;
  candidate.microBatches = step.microBatches;
  candidate.replicaMicroBatches = step.replicaMicroBatches;
  candidate.stepSeconds = step.stepSeconds;
  candidate.memoryBytes = step.memory.total();
  candidate.deviceMemoryBytes = step.memory.deviceMemory;
  candidate.fits = step.fits;
}

/// Settings priced within this factor of the best step found on the base
/// plan are planned with their own ILP too (plans of equal objective can
/// differ in step time).
static constexpr double kNearTie = 1.02;

namespace {
/// The search over the settings of one grid (getSettings): every setting
/// is first priced on the plan of the leanest one (whose ILP admits every
/// plan the others admit). In order of that price, until it exceeds the
/// best step found by kNearTie, each setting is priced on that plan (where
/// its choice fits the setting's memory) and on the plan of its own ILP;
/// the fastest that fits wins.
class SettingSearch {
public:
  /// The search of `grid`, the `index`th of enumerateGrids.
  SettingSearch(Planner &planner, const CandidateGrid &grid, unsigned index)
      : planner(planner), grid(grid), index(index) {
    candidate.dataParallel = grid.getDegree(AxisRole::Data);
    candidate.tensorParallel = grid.getDegree(AxisRole::Tensor);
    candidate.pipelineParallel = grid.pipelineStages;
  }
  /// Plans the grid's base setting; false when the planning was deferred
  /// (`defer`: the relaxation is fractional), to be finished by resume().
  bool start(GridSearch &search, bool defer = false);
  /// Finishes a deferred planning; skips the grid when none of its plans
  /// can beat the best step `search` found.
  void resume(GridSearch &search);
  /// The bound of a deferred planning's objective.
  double getBound() const { return gridPlanning->getBound(); }

private:
  void finish(llvm::Expected<Plan> base, GridSearch &search);
  /// Puts the grid's candidate in its place of the report.
  void record(GridSearch &search) {
    search.candidates[index] = std::move(candidate);
  }
  void consider(const Plan &plan, const cost::PlanOptions &setting,
                cost::StepReport step, GridSearch &search);
  void tighten(GridPlanner &planning, const cost::PlanOptions &setting,
               cost::StepReport step, GridSearch &search);

  Planner &planner;
  const CandidateGrid &grid;
  unsigned index;
  Candidate candidate;
  SmallVector<cost::PlanOptions> settings;
  cost::PlanOptions lean;
  std::unique_ptr<GridPlanner> gridPlanning;
  std::optional<double> minMemory;
  bool noFit = false;
  std::optional<Plan> best;
  cost::StepReport bestStep;
  std::optional<cost::StepReport> leanest; // the least memory that failed
};
} // namespace

void SettingSearch::consider(const Plan &plan, const cost::PlanOptions &setting,
                             cost::StepReport step, GridSearch &search) {
  candidate.considered.push_back(
      {setting, step.stepSeconds, step.memory.total(), step.fits});
  if (!step.fits) {
    search.anyFitError = true;
    search.noteMemory(step.memory.total(), candidate.getGridName());
    if (!leanest || step.memory.total() < leanest->memory.total())
      leanest = step;
    return;
  }
  if (best && step.stepSeconds >= bestStep.stepSeconds)
    return;
  best = plan;
  best->chunks = grid.pipelineStages > 1 ? setting.chunks : 1;
  bestStep = std::move(step);
}

/// Plans whose step needs at most this factor of the device memory are
/// planned again with a tighter limit (SettingSearch::tighten).
static constexpr double kTightenRange = 1.5;

/// The integer program's memory row counts less than the step model does
/// (the step model adds working sets, buffers, the fullest pipeline
/// stage), so a plan the program admits may not fit. Plans `setting`
/// again with the program's limit scaled by what the device has over what
/// `step` needs, twice at most, while the step is within kTightenRange of
/// fitting.
void SettingSearch::tighten(GridPlanner &planning,
                            const cost::PlanOptions &setting,
                            cost::StepReport step, GridSearch &search) {
  double scale = 1;
  std::optional<double> minMemory;
  bool noFit = false;
  for (unsigned tries = 0;
       tries < 2 && !step.fits &&
       step.memory.total() < kTightenRange * step.memory.deviceMemory;
       ++tries) {
    scale *= 0.99 * step.memory.deviceMemory / step.memory.total();
    llvm::Expected<Plan> plan =
        planning.replan(setting, minMemory, noFit, scale);
    if (!plan) {
      llvm::consumeError(plan.takeError());
      return;
    }
    llvm::Expected<cost::StepReport> next =
        priceSetting(planner, grid, *plan, setting);
    if (!next) {
      llvm::consumeError(next.takeError());
      return;
    }
    step = std::move(*next);
    consider(*plan, setting, step, search);
  }
}

bool SettingSearch::start(GridSearch &search, bool defer) {
  settings = getSettings(planner, grid);
  lean = getLeanest(settings);
  gridPlanning = std::make_unique<GridPlanner>(planner, grid, lean);
  gridPlanning->deferFractional = defer;
  llvm::Expected<Plan> base = gridPlanning->plan(minMemory, noFit);
  if (!base && gridPlanning->isDeferred()) {
    llvm::consumeError(base.takeError());
    return false;
  }
  gridPlanning->deferFractional = false;
  finish(std::move(base), search);
  return true;
}

/// The slack of the cutoff a deferred grid is solved with, over the best
/// step found. In inference a plan's step time is its ILP objective plus
/// what the ILP does not price (stage-to-stage transfers), less what the
/// ILP counts twice: a value resharded to the same state for several
/// consumers is one collective in the step and one per edge in the ILP.
/// That difference was at most 0.14% of the step on the test suite's
/// models (test/Plan/megatron.test's tensor-parallel GPT layers); the
/// slack leaves room for more, so a grid is set aside only when its bound
/// exceeds the best step by over 5%.
static constexpr double kCutoffSlack = 1.05;

void SettingSearch::resume(GridSearch &search) {
  if (search.best)
    gridPlanning->cutoff = search.bestTime * kCutoffSlack;
  llvm::Expected<Plan> base = gridPlanning->resume(noFit);
  if (!base && gridPlanning->isAboveCutoff()) {
    llvm::consumeError(base.takeError());
    candidate.reason = formatv("not solved: no plan of this grid beats "
                               "{0:f3} ms (its bound: {1:f3} ms)",
                               search.bestTime * 1e3, getBound() * 1e3)
                           .str();
    record(search);
    return;
  }
  finish(std::move(base), search);
}

void SettingSearch::finish(llvm::Expected<Plan> base, GridSearch &search) {
  GridPlanner &planning = *gridPlanning;
  std::string name = candidate.getGridName();
  if (!base) {
    std::string error = llvm::toString(base.takeError());
    candidate.reason = noFit ? "does not fit" : error;
    // The solver's bound is what this grid needs at least; a grid that
    // failed for another reason tells nothing about memory.
    if (noFit && minMemory) {
      search.anyFitError = true;
      search.noteMemory(*minMemory, name);
    }
    record(search);
    return;
  }
  GridPlanner::Choice baseChoice = planning.getChoice();
  // A generated step's program chose its optimizer states' splits: the
  // step is described as the ZeRO stage they amount to (the lean setting
  // too, so that the base plan stays the plan of every setting).
  if (base->zeroChosen) {
    lean.zero = *base->zeroChosen;
    for (cost::PlanOptions &setting : settings)
      setting.zero = *base->zeroChosen;
  }
  // Segments cut by layers serve every number of chunks; cut between ops
  // they hold their stages.
  bool byLayers = llvm::none_of(
      base->segments, [](const cost::SegmentCost &s) { return s.stage >= 0; });
  std::string firstError;
  SmallVector<std::pair<double, unsigned>> order;
  std::vector<std::optional<cost::StepReport>> steps(settings.size());
  for (auto [i, setting] : llvm::enumerate(settings)) {
    if (setting.chunks != lean.chunks && !byLayers)
      continue;
    llvm::Expected<cost::StepReport> step =
        priceSetting(planner, grid, *base, setting);
    if (!step) {
      std::string error = llvm::toString(step.takeError());
      if (firstError.empty())
        firstError = error;
      continue;
    }
    order.push_back({step->stepSeconds, i});
    steps[i] = std::move(*step);
  }
  llvm::stable_sort(order, [](auto &a, auto &b) { return a.first < b.first; });
  // Each setting's own plan, by what its ILP's memory row depends on.
  using Key = std::tuple<int, int, unsigned>;
  auto keyOf = [&](const cost::PlanOptions &setting) {
    return Key{int(setting.recompute), int(setting.zero),
               planning.getInFlight(setting)};
  };
  std::map<Key, std::optional<Plan>> replanned;
  replanned[keyOf(lean)] = std::nullopt; // the base plan
  // The best step found on any grid so far, or before the search: a
  // setting priced above it (by kNearTie) on the base plan gets no program
  // of its own, by the same reasoning as within the grid; it is priced on
  // the base plan only.
  double bar = std::min(search.best ? search.bestTime
                                    : std::numeric_limits<double>::infinity(),
                        search.incumbent);
  std::optional<double> prunedAt;
  for (auto [price, i] : order) {
    if (best && price >= bestStep.stepSeconds * kNearTie)
      break;
    const cost::PlanOptions &setting = settings[i];
    if (price >= bar * kNearTie) {
      if (!prunedAt)
        prunedAt = price;
      if (planning.fitsUnder(baseChoice, setting))
        consider(*base, setting, *steps[i], search);
      continue;
    }
    // The setting's own ILP: its optimum may be another plan of the same
    // objective, or, where the base choice breaks its memory limit, a
    // plan that needs less memory. Where the base choice fits that limit
    // but not the step's memory, the ILP's optimum needs about as much:
    // a tighter limit is tried instead.
    if (planning.fitsUnder(baseChoice, setting)) {
      consider(*base, setting, *steps[i], search);
      if (!steps[i]->fits) {
        tighten(planning, setting, *steps[i], search);
        continue;
      }
    }
    auto [it, inserted] = replanned.try_emplace(keyOf(setting));
    if (inserted) {
      llvm::Expected<Plan> plan = planning.replan(setting, minMemory, noFit);
      if (plan)
        it->second = std::move(*plan);
      else
        llvm::consumeError(plan.takeError());
    }
    if (!it->second)
      continue; // the base plan, or no plan of this grid fits
    llvm::Expected<cost::StepReport> step =
        priceSetting(planner, grid, *it->second, setting);
    if (!step) {
      llvm::consumeError(step.takeError());
      continue;
    }
    bool fits = step->fits;
    consider(*it->second, setting, *step, search);
    if (!fits)
      tighten(planning, setting, std::move(*step), search);
  }

  candidate.settingsPriced = order.size();
  if (best) {
    describeCandidate(candidate, bestStep);
  } else if (prunedAt) {
    search.pruned = true;
    if (leanest)
      describeCandidate(candidate, *leanest);
    candidate.reason =
        formatv("no plan that fits: its settings take at least {0} on its "
                "base plan, over the best step found ({1}), and were not "
                "planned further",
                formatSeconds(*prunedAt), formatSeconds(bar))
            .str();
  } else if (leanest) {
    describeCandidate(candidate, *leanest);
    candidate.reason = "does not fit";
  } else {
    candidate.reason = firstError.empty() ? "does not fit" : firstError;
  }
  record(search);
  if (!best || (search.best && (bestStep.stepSeconds > search.bestTime ||
                                (bestStep.stepSeconds == search.bestTime &&
                                 index > search.bestGrid))))
    return;
  // The stages of the chosen chunks.
  if (best->pipelineParallel > 1 && byLayers && !lean.explicitStep &&
      best->chunks != lean.chunks)
    stageByLayers(planner, best->pipelineParallel * best->chunks, best->stages);
  best->step = bestStep;
  search.best = std::move(*best);
  search.bestTime = bestStep.stepSeconds;
  search.bestGrid = index;
}

/// Plans every grid of `grids` into `search`. In inference a plan's step
/// time is about its ILP objective or more (kCutoffSlack), so the grids
/// whose relaxation is fractional (branch and bound, the slow part of
/// planning) run last, in the order of their relaxation's bound, and a
/// grid is not solved when its bound exceeds the best step found by more
/// than that slack: none of its plans would be faster. In training the
/// step hides part of the communication the objective counts, and every
/// grid is solved.
static void searchGrids(Planner &planner, ArrayRef<CandidateGrid> grids,
                        GridSearch &search) {
  const cost::PlanOptions &options = planner.options;
  bool inference =
      options.mode == cost::StepMode::Inference && !options.explicitStep;
  // Each grid's candidate goes to its place: the report lists the grids in
  // their order, whichever was planned first.
  search.candidates.resize(grids.size());
  std::vector<std::unique_ptr<SettingSearch>> deferred;
  for (auto [i, grid] : llvm::enumerate(grids)) {
    auto gridSearch = std::make_unique<SettingSearch>(planner, grid, i);
    if (!gridSearch->start(search, /*defer=*/inference))
      deferred.push_back(std::move(gridSearch));
  }
  llvm::stable_sort(deferred, [](const auto &a, const auto &b) {
    return a->getBound() < b->getBound();
  });
  for (std::unique_ptr<SettingSearch> &gridSearch : deferred)
    gridSearch->resume(search);
}

/// The error when no grid gave a plan: why each failed, or, when memory
/// was the problem, the smallest need and what would make it fit.
static llvm::Error noPlanError(const cost::ClusterSpec &cluster,
                               const cost::PlanOptions &options,
                               const GridSearch &search) {
  if (!search.anyFitError || !search.smallestMemory) {
    std::string reasons;
    for (const Candidate &candidate : search.candidates)
      reasons += "\n  " + candidate.getGridName() + ": " + candidate.reason;
    return llvm::createStringError("no candidate grid can run this model:" +
                                   reasons);
  }
  unsigned devices = cluster.getNumDevices();
  // The smallest device decides (the same whatever the nodes' order).
  uint64_t limit = cost::RankLocator(cluster).getLeastDeviceMemory(0, devices);
  unsigned needDevices = std::max<unsigned>(
      devices + 1, static_cast<unsigned>(std::ceil(
                       devices * *search.smallestMemory / double(limit))));
  std::string advice =
      formatv("use more devices (at least about {0})", needDevices).str();
  if (options.mode == cost::StepMode::Training) {
    // Stages are searched where they divide the layers.
    if (options.isFixed(cost::PlanKey::PipelineParallel))
      advice += ", more pipeline stages (plan key pp)";
    // The search tries full recompute unless the plan fixes another.
    if (options.isFixed(cost::PlanKey::Recompute) &&
        options.recompute != cost::RecomputePolicy::Full)
      advice += ", activation recompute (plan key recompute=full)";
    if (options.isFixed(cost::PlanKey::Zero) &&
        options.zero != cost::ZeroStage::Zero3)
      advice += ", sharded model states (plan key zero=3)";
  }
  return llvm::createStringError(
      formatv("no plan fits in memory: the best plan needs {0} per "
              "device ({1}) and a device has {2}; {3}",
              formatBytes(*search.smallestMemory), search.smallestGrid,
              formatBytes(double(limit)), advice)
          .str());
}

/// The weights that `func`'s `dist.assign`s update, but the optimizer
/// states (zero storage), in program order.
static SmallVector<std::pair<std::string, SmallVector<int64_t>>>
getTrainableWeights(func::FuncOp func) {
  llvm::SmallPtrSet<Operation *, 16> assigned;
  func.walk([&](dist::AssignOp assign) {
    assigned.insert(assign.getOperand(0).getDefiningOp());
  });
  SmallVector<std::pair<std::string, SmallVector<int64_t>>> trainable;
  func.walk([&](dist::WeightOp weight) {
    if (assigned.contains(weight) &&
        weight.getData().getStorage() != dist::DataStorage::Zero)
      trainable.push_back({weight.getName().str(), weight.getFullShape()});
  });
  return trainable;
}

/// The precision `func` computes in: that of the element type of its first
/// float weight, else of its first float argument; none without floats.
static std::optional<cost::Precision> getGraphPrecision(func::FuncOp func) {
  auto precisionOf = [](Type type) -> std::optional<cost::Precision> {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !isa<FloatType>(tensor.getElementType()))
      return std::nullopt;
    return cost::getPrecision(tensor.getElementType());
  };
  for (dist::WeightOp weight : func.getOps<dist::WeightOp>())
    if (std::optional<cost::Precision> precision =
            precisionOf(weight.getType()))
      return precision;
  for (Type type : func.getArgumentTypes())
    if (std::optional<cost::Precision> precision = precisionOf(type))
      return precision;
  return std::nullopt;
}

/// `options` with the precision `func` computes in. Fails when the plan
/// fixes another one: the graph must be retyped to it first.
static llvm::Expected<cost::PlanOptions>
setGraphPrecision(func::FuncOp func, cost::PlanOptions options) {
  std::optional<cost::Precision> graph = getGraphPrecision(func);
  if (!graph)
    return options;
  if (options.isFixed(cost::PlanKey::Precision) && options.precision != *graph)
    return llvm::createStringError(
        formatv("the plan fixes precision={0}, but the model computes in "
                "{1}: retype its float32 values first (pass "
                "dist-convert-precision, which dist-opt --precision runs)",
                cost::stringifyPrecision(options.precision),
                cost::stringifyPrecision(*graph))
            .str());
  options.precision = *graph;
  return options;
}

func::FuncOp distopt::plan::getPlannedFunction(ModuleOp module) {
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal())
      return f;
  return nullptr;
}

/// The best plan of `func` on `cluster` over every grid and setting;
/// `noFit` when memory is why there is none.
static llvm::Expected<Plan> searchPlans(func::FuncOp func,
                                        const cost::ClusterSpec &cluster,
                                        const cost::PlanOptions &options,
                                        double incumbentSeconds, bool &noFit) {
  noFit = false;
  Planner planner(func, cluster, options);
  if (llvm::Error error = planner.collectOps())
    return std::move(error);
  if (options.isFixed(cost::PlanKey::MicroBatch) &&
      options.microBatch != planner.graphBatch)
    return llvm::createStringError(
        formatv("the plan fixes microbatch={0}, but the model's batch "
                "dimension (the micro-batch it is planned for) is {1}; "
                "import the model with a batch dimension of {0}",
                options.microBatch, planner.graphBatch)
            .str());

  SmallVector<CandidateGrid> grids =
      enumerateGrids(cluster, options, planner.layers.count);
  if (grids.empty())
    return llvm::createStringError(
        formatv("no grid dp x tp x pp of {0} devices matches the plan "
                "(dp, tp and pp must multiply to the device count, pp must "
                "divide the {1} repeated layers)",
                cluster.getNumDevices(), planner.layers.count)
            .str());

  GridSearch search;
  search.incumbent = incumbentSeconds;
  searchGrids(planner, grids, search);
  if (!search.best && search.pruned)
    return llvm::createStringError(
        formatv("no plan is faster than {0} (the best step found before)",
                formatSeconds(incumbentSeconds))
            .str());
  if (!search.best) {
    noFit = search.anyFitError && search.smallestMemory;
    return noPlanError(cluster, options, search);
  }
  search.best->candidates = search.candidates;
  for (const OpNode &node : planner.nodes)
    if (node.attentionCore && node.layer == 0)
      search.best->attentionCore.push_back(describeOp(node.op));
  search.best->trainable = getTrainableWeights(func);
  return std::move(*search.best);
}

llvm::Expected<Plan>
distopt::plan::planModule(ModuleOp module, const cost::ClusterSpec &file,
                          const cost::PlanOptions &fixedOptions,
                          double incumbentSeconds) {
  auto start = std::chrono::steady_clock::now();
  // The plan is made for the nodes in an order of their own, not the
  // file's: a plan and its price do not depend on how the file lists them.
  SmallVector<unsigned> fileNode;
  cost::ClusterSpec cluster = cost::sortNodesBySpeed(file, fileNode);
  func::FuncOp func = getPlannedFunction(module);
  if (!func)
    return llvm::createStringError("the module has no function to plan");
  llvm::Expected<cost::PlanOptions> withPrecision =
      setGraphPrecision(func, fixedOptions);
  if (!withPrecision)
    return withPrecision.takeError();
  const cost::PlanOptions &options = *withPrecision;
  bool noFit = false;
  llvm::Expected<Plan> best =
      searchPlans(func, cluster, options, incumbentSeconds, noFit);
  // A generated step whose ZeRO stage the plan leaves open chooses per
  // optimizer state whether it is split over the data axes, parameters
  // whole (keepDataParallelWeights). The program's memory row counts the
  // weights only, so where no plan's program fits, every state split
  // (ZeRO-1) may still fit, and splits of the parameters too (ZeRO-3):
  // each is planned in turn; if nothing fits, ZeRO-3's error (the least
  // memory needed) stands.
  for (cost::ZeroStage stage :
       {cost::ZeroStage::Zero1, cost::ZeroStage::Zero3}) {
    if (best || !noFit || !options.explicitStep ||
        options.isFixed(cost::PlanKey::Zero))
      break;
    cost::PlanOptions fixedStage = options;
    fixedStage.zero = stage;
    fixedStage.fix(cost::PlanKey::Zero);
    llvm::Expected<Plan> retry =
        searchPlans(func, cluster, fixedStage, incumbentSeconds, noFit);
    llvm::consumeError(best.takeError());
    best = std::move(retry);
    if (best)
      best->zeroAfterNoFit = true;
  }
  if (!best)
    return best.takeError();
  if (!llvm::equal(fileNode, llvm::seq<unsigned>(0, fileNode.size())))
    for (unsigned from : fileNode)
      best->rankOrder.push_back(
          {file.nodes[from].name, file.nodes[from].numDevices});
  if (file.describedDevices) {
    best->describedDevices = file.describedDevices;
    for (const cost::NodeSpec &node : cluster.nodes)
      best->nodesUsed.push_back({node.name, node.numDevices});
  }
  best->planningSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return best;
}

void distopt::plan::annotateModule(ModuleOp module, const Plan &plan) {
  MLIRContext *ctx = module.getContext();
  auto i64 = IntegerType::get(ctx, 64);
  for (auto [op, stage] : llvm::zip(plan.choices, plan.stages))
    if (stage != Plan::kUnstaged)
      dist::DistDialect::StageAttrHelper(ctx).setAttr(
          op.first, IntegerAttr::get(i64, stage));
  if (plan.chunks > 1)
    dist::DistDialect::ChunksAttrHelper(ctx).setAttr(
        module, IntegerAttr::get(i64, plan.chunks));
  if (plan.gridShape.empty())
    return;
  OpBuilder b(ctx);
  b.setInsertionPointToStart(module.getBody());
  shard::GridOp::create(b, module.getLoc(), "grid", plan.gridShape);
  // The plan's axes are the grid's: the planner's grids have only axes of
  // size > 1.
  for (const auto &[op, factorAxes] : plan.choices) {
    bool any = llvm::any_of(factorAxes, [](auto &a) { return !a.empty(); });
    if (!any)
      continue;
    dist::writeFactorAxes(
        op, cast<dist::ShardingRuleOpInterface>(op).getShardingRule(),
        factorAxes);
  }
}
