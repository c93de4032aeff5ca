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

#include "distopt/Cost/CollectiveCost.h"
#include "distopt/Cost/MemoryModel.h"
#include "distopt/Cost/OpCost.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/FactorAxes.h"
#include "distopt/Dialect/Dist/ShardingRule.h"
#include "distopt/Plan/LayerDetection.h"
#include "distopt/Plan/StrategyProblem.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>
#include <map>

using namespace mlir;
using namespace distopt;
using namespace distopt::plan;
using cost::CollectiveKind;
using llvm::formatv;

namespace {

using AxisList = SmallVector<int16_t, 2>;

/// The distributed state of a tensor: per dim the grid axes that split it,
/// and the axes over which it holds partial results.
struct Sharding {
  SmallVector<AxisList, 4> dims;
  AxisList partial;
  dist::ReduceKind partialKind = dist::ReduceKind::Sum;

  /// Whole on every device.
  static Sharding replicated(RankedTensorType type) {
    Sharding s;
    s.dims.resize(type.getRank());
    return s;
  }

  std::string key() const {
    std::string s;
    llvm::raw_string_ostream os(s);
    for (const AxisList &d : dims) {
      os << '[';
      llvm::interleave(d, os, ",");
      os << ']';
    }
    if (!partial.empty()) {
      os << "p" << static_cast<int>(partialKind) << ':';
      llvm::interleave(partial, os, ",");
    }
    return s;
  }
};

struct Strategy {
  FactorAxes factorAxes;
  SmallVector<Sharding> operands, results;
  cost::OpWork work;
  double forwardSeconds = 0, backwardSeconds = 0;
};

/// One collective of a resharding.
struct CommStep {
  CollectiveKind kind;
  double bytes;
  AxisList axes;
  double seconds;
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
};

int64_t elementBytes(Type t) {
  Type e = cast<ShapedType>(t).getElementType();
  return std::max<int64_t>(1, e.getIntOrFloatBitWidth() / 8);
}

/// The grid the planner shards over, the cluster, and cost helpers.
class GridContext {
public:
  GridContext(const PlannerOptions &options, unsigned dp, unsigned tp)
      : options(options), shape{dp, tp} {}

  const PlannerOptions &options;
  /// Axis 0 = dp, axis 1 = tp.
  SmallVector<int64_t, 2> shape;
  /// Axes per-op strategies may use.
  AxisList usable;

  int64_t size(ArrayRef<int16_t> axes) const {
    int64_t n = 1;
    for (int16_t a : axes)
      n *= shape[a];
    return n;
  }

  /// Elements and bytes one device holds of a tensor of `type` in state
  /// `sharding` (partial results are full-sized).
  double localElements(RankedTensorType type, const Sharding &sharding) const {
    double elems = type.getNumElements();
    for (const AxisList &d : sharding.dims)
      elems /= size(d);
    return elems;
  }
  double localBytes(RankedTensorType type, const Sharding &sharding) const {
    return localElements(type, sharding) * elementBytes(type);
  }

  /// Ranks of the group along `axes` that contains rank 0 (tp innermost).
  SmallVector<unsigned> group(ArrayRef<int16_t> axes) const {
    SmallVector<unsigned> ranks{0};
    for (int16_t a : axes) {
      unsigned stride = a == 0 ? shape[1] : 1;
      SmallVector<unsigned> next;
      for (unsigned r : ranks)
        for (int64_t i = 0; i < shape[a]; ++i)
          next.push_back(r + i * stride);
      ranks = std::move(next);
    }
    return ranks;
  }

  double collective(CollectiveKind kind, double bytes,
                    ArrayRef<int16_t> axes) {
    if (size(axes) <= 1 || bytes <= 0)
      return 0;
    auto key = std::make_tuple(static_cast<int>(kind), bytes,
                               std::vector<int16_t>(axes.begin(), axes.end()));
    auto it = cache.find(key);
    if (it != cache.end())
      return it->second;
    // Each collective is also one kernel launch on the device.
    double t = cost::getCollectiveTime(options.cluster, kind,
                                       cost::CollectiveAlgorithm::Ring, bytes,
                                       group(axes)) +
               options.cluster.getDeviceType(0).efficiency.opOverhead;
    cache[key] = t;
    return t;
  }

  /// The collectives that turn `from` into `to` for a tensor of `type`.
  /// Local slices are no collective, but each is a copy kernel on the
  /// device: its time is added to `*sliceSeconds` when given.
  SmallVector<CommStep> reshard(const Sharding &from, const Sharding &to,
                                RankedTensorType type,
                                double *sliceSeconds = nullptr) {
    SmallVector<CommStep> steps;
    double bytes = localBytes(type, from);
    // Where each axis sits in `to`.
    auto dimOf = [](const Sharding &s, int16_t a) {
      for (auto [d, axes] : llvm::enumerate(s.dims))
        if (llvm::is_contained(axes, a))
          return static_cast<int>(d);
      return -1;
    };
    // Partial results: reduce-scatter where `to` splits by the same axis a
    // dim `from` leaves whole, all-reduce otherwise.
    AxisList scatter, reduce;
    for (int16_t a : from.partial) {
      int dt = dimOf(to, a);
      if (dt >= 0 && dimOf(from, a) < 0)
        scatter.push_back(a);
      else
        reduce.push_back(a);
    }
    if (!scatter.empty()) {
      steps.push_back({CollectiveKind::ReduceScatter, bytes, scatter,
                       collective(CollectiveKind::ReduceScatter, bytes,
                                  scatter)});
      bytes /= size(scatter);
    }
    if (!reduce.empty())
      steps.push_back({CollectiveKind::AllReduce, bytes, reduce,
                       collective(CollectiveKind::AllReduce, bytes, reduce)});
    // Axis by axis: gather, move or slice.
    bool sliced = false;
    for (int16_t a = 0; a < static_cast<int16_t>(shape.size()); ++a) {
      if (shape[a] <= 1 || llvm::is_contained(scatter, a))
        continue;
      int df = dimOf(from, a), dt = dimOf(to, a);
      if (df == dt)
        continue;
      if (df >= 0 && dt < 0) {
        double out = bytes * shape[a];
        steps.push_back({CollectiveKind::AllGather, out, {a},
                         collective(CollectiveKind::AllGather, out, {a})});
        bytes = out;
      } else if (df >= 0 && dt >= 0) {
        steps.push_back({CollectiveKind::AllToAll, bytes, {a},
                         collective(CollectiveKind::AllToAll, bytes, {a})});
      } else {
        bytes /= shape[a]; // a local slice
        sliced = true;
      }
    }
    if (sliced && sliceSeconds) {
      // Reads and writes the piece it keeps.
      cost::OpWork copy{cost::OpClass::Memory, 0, 2 * bytes};
      *sliceSeconds +=
          cost::getComputeTime(options.cluster.getDeviceType(0), copy);
    }
    return steps;
  }

  double reshardSeconds(const Sharding &from, const Sharding &to,
                        RankedTensorType type) {
    double t = 0;
    for (const CommStep &s : reshard(from, to, type, &t))
      t += s.seconds;
    return t;
  }

private:
  std::map<std::tuple<int, double, std::vector<int16_t>>, double> cache;
};

/// The sharding of a tensor whose dims are indexed by `dims`.
Sharding shardingOf(const dist::TensorFactors &dims, const FactorAxes &axes) {
  Sharding s;
  for (const dist::DimFactors &d : dims) {
    AxisList list;
    for (int64_t f : d)
      llvm::append_range(list, axes[f]);
    s.dims.push_back(list);
  }
  return s;
}

/// Enumerates the valid assignments of `usable` axes to factors of `rule`.
void enumerateAssignments(const dist::ShardingRule &rule,
                          const GridContext &grid,
                          SmallVectorImpl<FactorAxes> &out) {
  unsigned numFactors = rule.factors.size();
  FactorAxes current(numFactors);
  auto valid = [&]() {
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
  };
  std::function<void(unsigned)> recurse = [&](unsigned k) {
    if (k == grid.usable.size()) {
      if (valid())
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

class Planner {
public:
  Planner(ModuleOp module, func::FuncOp func, const PlannerOptions &options)
      : module(module), func(func), options(options) {}

  LogicalResult collectOps(std::string &error);
  /// Plans for one grid; fails with `error` (and `noFit` when only memory
  /// is the problem).
  llvm::Expected<Plan> planForGrid(unsigned dp, unsigned tp, unsigned pp,
                                   double &minMemory, bool &noFit);

  ModuleOp module;
  func::FuncOp func;
  const PlannerOptions &options;
  LayerStructure layers;
  std::vector<OpNode> nodes;
  DenseMap<Operation *, unsigned> nodeOf;
  int64_t graphBatch = 1;
};


LogicalResult Planner::collectOps(std::string &error) {
  layers = findRepeatedLayers(func);
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
      node.segment =
          node.layer >= 0 ? 1 : (it->second < firstLayerOp ? 0 : 2);
    }
    nodeOf[&op] = nodes.size();
    nodes.push_back(std::move(node));
  }
  if (!missing.empty()) {
    error = "the planner needs a sharding rule for every op; these have "
            "none: " +
            llvm::join(missing, ", ");
    return failure();
  }
  // Weights go with the segment of their first user.
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
  // Representatives: a layer op is tied to the op at the same position of
  // layer 0; a weight used by one layer op is tied to the weight that the
  // representative of that op uses at the same operand.
  for (auto [i, node] : llvm::enumerate(nodes))
    node.rep = i;
  if (layers.count) {
    for (unsigned i = layers.begin + layers.period;
         i < layers.begin + layers.period * layers.count; ++i) {
      unsigned n = nodeOf[layers.ops[i]];
      unsigned r = nodeOf[layers.ops[layers.begin + (i - layers.begin) %
                                                        layers.period]];
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
  // The batch of one micro-batch: dim 0 of the first argument.
  if (func.getNumArguments() > 0)
    if (auto t = dyn_cast<RankedTensorType>(func.getArgument(0).getType()))
      if (t.getRank() > 0)
        graphBatch = t.getDimSize(0);
  return success();
}

std::string formatBytes(double bytes) {
  if (bytes >= (1ull << 30))
    return formatv("{0:f2} GiB", bytes / (1ull << 30)).str();
  if (bytes >= (1ull << 20))
    return formatv("{0:f2} MiB", bytes / (1ull << 20)).str();
  return formatv("{0:f1} KiB", bytes / 1024).str();
}

std::string axisName(int16_t a) { return a == 0 ? "dp" : "tp"; }

std::string describeAxes(const AxisList &axes) {
  SmallVector<std::string> names;
  for (int16_t a : axes)
    names.push_back(axisName(a));
  return llvm::join(names, "x");
}

std::string describeOp(Operation *op) {
  std::string s = op->getName().getStringRef().str();
  for (Value v : op->getOperands())
    if (auto w = v.getDefiningOp<dist::WeightOp>())
      return s + " (" + w.getName().str() + ")";
  return s;
}

llvm::Expected<Plan> Planner::planForGrid(unsigned dp, unsigned tp,
                                          unsigned pp, double &minMemory,
                                          bool &noFit) {
  noFit = false;
  bool training = options.mode == cost::StepMode::Training;
  GridContext grid(options, dp, tp);
  // In training, data parallelism replicates the whole layer sharding (each
  // replica runs its own micro-batches); in inference, any axis may split
  // any factor (the batch, typically, for dp).
  if (!training && dp > 1)
    grid.usable.push_back(0);
  if (tp > 1)
    grid.usable.push_back(1);
  const cost::DeviceType &device = options.cluster.getDeviceType(0);

  // Micro-batches per step.
  int64_t microBatches = 1;
  if (training) {
    int64_t perStep = options.globalBatch.value_or(graphBatch * dp);
    if (perStep % (graphBatch * dp) != 0)
      return llvm::createStringError(
          formatv("the global batch {0} is not a multiple of data "
                  "parallelism {1} times the model's batch {2}",
                  perStep, dp, graphBatch)
              .str());
    microBatches = perStep / (graphBatch * dp);
  }
  unsigned inFlight =
      training ? cost::getInFlightMicroBatches(options.schedule, pp,
                                               microBatches)
               : 1;
  double layerShare = layers.count ? 1.0 / pp : 1.0;

  // Strategies of the representatives.
  for (OpNode &node : nodes) {
    node.strategies.clear();
    if (node.rep != static_cast<int>(&node - nodes.data()))
      continue;
    SmallVector<FactorAxes> assignments;
    enumerateAssignments(node.rule, grid, assignments);
    for (FactorAxes &fa : assignments) {
      Strategy s;
      s.factorAxes = fa;
      for (const dist::TensorFactors &t : node.rule.operands)
        s.operands.push_back(shardingOf(t, fa));
      AxisList partial;
      dist::ReduceKind kind = dist::ReduceKind::Sum;
      for (auto [f, factor] : llvm::enumerate(node.rule.factors))
        if (factor.kind == dist::FactorKind::Reduction) {
          llvm::append_range(partial, fa[f]);
          kind = factor.combiner;
        }
      llvm::sort(partial);
      for (const dist::TensorFactors &t : node.rule.results) {
        Sharding r = shardingOf(t, fa);
        r.partial = partial;
        r.partialKind = kind;
        s.results.push_back(r);
      }
      SmallVector<int64_t> splits;
      for (const AxisList &axes : fa)
        splits.push_back(grid.size(axes));
      s.work = cost::getShardedOpWork(node.op, node.rule, splits);
      s.forwardSeconds = cost::getComputeTime(device, s.work);
      if (training)
        s.backwardSeconds =
            cost::getComputeTime(device, cost::getBackwardWork(s.work));
      node.strategies.push_back(std::move(s));
    }
    if (node.strategies.empty())
      return llvm::createStringError("no valid strategy for an op");
  }

  // The ILP: one node per representative.
  StrategyProblem problem;
  DenseMap<unsigned, unsigned> ilpOf; // op node -> ILP node
  SmallVector<unsigned> multiplicity(nodes.size(), 0);
  for (const OpNode &node : nodes)
    ++multiplicity[node.rep];
  for (auto [i, node] : llvm::enumerate(nodes)) {
    if (node.rep != static_cast<int>(i))
      continue;
    ilpOf[i] = problem.nodes.size();
    StrategyProblem::Node n;
    double count = multiplicity[i];
    double memShare = node.segment == 1 ? layerShare : 1.0;
    auto weight = dyn_cast<dist::WeightOp>(node.op);
    for (const Strategy &s : node.strategies) {
      auto type = cast<RankedTensorType>(node.op->getResult(0).getType());
      double localElems = grid.localElements(type, s.results[0]);
      double c = 0, mem = 0;
      if (weight) {
        if (training) {
          cost::ModelStateMemory states = cost::getAdamModelStateMemory(
              localElems, options.zero, dp);
          mem = states.total();
          // Gradients of replicated parameters are summed over dp once
          // per step.
          c += grid.collective(CollectiveKind::AllReduce,
                               localElems * elementBytes(type), {0});
        } else {
          mem = localElems * elementBytes(type);
        }
      } else {
        c = microBatches *
            (s.forwardSeconds + (training ? s.backwardSeconds : 0));
        if (training) {
          double kept = 0;
          for (OpResult r : node.op->getResults())
            kept += grid.localBytes(cast<RankedTensorType>(r.getType()),
                                    s.results[r.getResultNumber()]);
          bool recomputed = node.segment == 1 &&
                            options.recompute == cost::RecomputePolicy::Full;
          mem = kept * (recomputed ? 1.0 / count : inFlight);
        }
        // Weight gradients are partial over the axes that split a factor
        // the weight does not have (e.g. the batch): all-reduce them.
        if (training)
          for (auto [o, operand] : llvm::enumerate(node.op->getOperands())) {
            if (!operand.getDefiningOp<dist::WeightOp>())
              continue;
            llvm::SmallDenseSet<int64_t> own;
            for (const dist::DimFactors &d : node.rule.operands[o])
              own.insert(d.begin(), d.end());
            AxisList axes;
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
        // Results the function returns end up whole on every device.
        for (OpOperand &use : node.op->getUses())
          if (isa<func::ReturnOp>(use.getOwner())) {
            auto r = cast<OpResult>(use.get());
            auto rt = cast<RankedTensorType>(r.getType());
            c += grid.reshardSeconds(s.results[r.getResultNumber()],
                                     Sharding::replicated(rt), rt);
          }
      }
      // Among plans of equal time, prefer the one that needs less memory
      // (1 GB weighs 1 us).
      n.cost.push_back(c * count + mem * count * memShare * 1e-15);
      n.memory.push_back(mem * count * memShare);
    }
    problem.nodes.push_back(std::move(n));
  }

  // Edges, summed over the copies they stand for.
  std::map<std::tuple<unsigned, unsigned, unsigned, unsigned>, unsigned>
      edgeCount;
  for (auto [i, node] : llvm::enumerate(nodes))
    for (OpOperand &operand : node.op->getOpOperands()) {
      Operation *def = operand.get().getDefiningOp();
      if (!def || !nodeOf.count(def))
        continue; // arguments and constants are whole everywhere: slicing
                  // them costs nothing
      unsigned src = nodes[nodeOf[def]].rep;
      ++edgeCount[{src, cast<OpResult>(operand.get()).getResultNumber(),
                   static_cast<unsigned>(node.rep),
                   operand.getOperandNumber()}];
    }
  double commScale = microBatches * (training ? 2.0 : 1.0);
  for (auto &[key, count] : edgeCount) {
    auto [src, result, dst, operandIndex] = key;
    StrategyProblem::Edge e;
    e.src = ilpOf[src];
    e.dst = ilpOf[dst];
    llvm::StringMap<unsigned> srcClasses, dstClasses;
    SmallVector<const Sharding *> srcShardings, dstShardings;
    for (const Strategy &s : nodes[src].strategies) {
      auto [it, inserted] = srcClasses.try_emplace(s.results[result].key(),
                                                   srcClasses.size());
      if (inserted)
        srcShardings.push_back(&s.results[result]);
      e.srcClass.push_back(it->second);
    }
    for (const Strategy &s : nodes[dst].strategies) {
      auto [it, inserted] = dstClasses.try_emplace(
          s.operands[operandIndex].key(), dstClasses.size());
      if (inserted)
        dstShardings.push_back(&s.operands[operandIndex]);
      e.dstClass.push_back(it->second);
    }
    e.numSrcClasses = srcShardings.size();
    e.numDstClasses = dstShardings.size();
    auto type =
        cast<RankedTensorType>(nodes[src].op->getResult(result).getType());
    for (const Sharding *a : srcShardings)
      for (const Sharding *b : dstShardings)
        e.cost.push_back(grid.reshardSeconds(*a, *b, type) * count *
                         commScale);
    problem.edges.push_back(std::move(e));
  }

  // Memory: the device's, and the smallest any plan on this grid needs.
  problem.memoryLimit = options.cluster.getDeviceMemory(0);
  minMemory = 0;
  for (const StrategyProblem::Node &n : problem.nodes)
    minMemory += *llvm::min_element(n.memory);
  bool infeasible = false;
  llvm::Expected<StrategySolution> solved =
      solveStrategyProblem(problem, &infeasible);
  if (!solved) {
    noFit = infeasible;
    return solved.takeError();
  }

  // Read the plan back.
  Plan plan;
  plan.dataParallel = dp;
  plan.tensorParallel = tp;
  plan.pipelineParallel = pp;
  plan.objective = solved->cost;
  plan.layerCount = layers.count;
  plan.layerOps = layers.period;
  for (auto [a, name] : llvm::enumerate(SmallVector<std::string>{"dp", "tp"}))
    if (grid.shape[a] > 1) {
      plan.axisNames.push_back(name);
      plan.gridShape.push_back(grid.shape[a]);
    }
  auto strategyOf = [&](unsigned i) -> const Strategy & {
    const OpNode &node = nodes[i];
    return nodes[node.rep].strategies[solved->choice[ilpOf[node.rep]]];
  };
  for (auto [i, node] : llvm::enumerate(nodes))
    plan.choices.push_back({node.op, strategyOf(i).factorAxes});

  // Segments: before the layers, one layer (its second copy when there
  // are several: its inputs come from a layer, as for all but the first),
  // after.
  int sampleLayer = layers.count >= 2 ? 1 : 0;
  cost::SegmentCost segs[3];
  segs[0].name = "before layers";
  segs[1].name = "layer";
  segs[1].repeat = layers.count;
  segs[2].name = "after layers";
  for (auto [i, node] : llvm::enumerate(nodes)) {
    const Strategy &s = strategyOf(i);
    bool isLayer = node.segment == 1;
    if (isLayer && node.layer != sampleLayer)
      continue;
    cost::SegmentCost &seg = segs[node.segment];
    if (auto weight = dyn_cast<dist::WeightOp>(node.op)) {
      seg.parameters += grid.localElements(weight.getType(), s.results[0]);
      double bytes = grid.localBytes(weight.getType(), s.results[0]);
      seg.parameterBytes += bytes;
      if (training && dp > 1) {
        seg.gradientCollectives.push_back(
            {CollectiveKind::AllReduce, bytes, dp,
             grid.collective(CollectiveKind::AllReduce, bytes, {0}),
             "gradients of " + weight.getName().str()});
      }
      continue;
    }
    seg.forwardSeconds += s.forwardSeconds;
    seg.backwardSeconds += s.backwardSeconds;
    seg.forwardFlops += s.work.flops;
    for (OpResult result : node.op->getResults()) {
      double e = grid.localBytes(cast<RankedTensorType>(result.getType()),
                                 s.results[result.getResultNumber()]);
      seg.activationBytes += e;
      seg.peakTemporaryBytes = std::max(seg.peakTemporaryBytes, e);
    }
    // The collectives of a resharding, in the segment and in the report.
    auto record = [&](const CommStep &c, const std::string &what,
                      unsigned count) {
      cost::CollectiveUse use{c.kind, c.bytes,
                              static_cast<unsigned>(grid.size(c.axes)),
                              c.seconds, what};
      seg.forwardCollectives.push_back(use);
      if (training)
        seg.backwardCollectives.push_back(use);
      plan.collectives.push_back({cost::stringifyCollectiveKind(c.kind).str(),
                                  what, c.bytes, use.groupSize, c.seconds,
                                  count});
    };
    // Resharding of the operands.
    for (OpOperand &operand : node.op->getOpOperands()) {
      Operation *def = operand.get().getDefiningOp();
      if (!def || !nodeOf.count(def))
        continue;
      unsigned di = nodeOf[def];
      auto result = cast<OpResult>(operand.get());
      // A value from the previous layer copy is an input of the layer
      // (counted whole).
      if (isLayer && nodes[di].segment == 1 && nodes[di].layer != node.layer &&
          !isa<dist::WeightOp>(def)) {
        auto rt = cast<RankedTensorType>(result.getType());
        seg.inputBytes += rt.getNumElements() * elementBytes(rt);
      }
      SmallVector<CommStep> steps = grid.reshard(
          strategyOf(di).results[result.getResultNumber()],
          s.operands[operand.getOperandNumber()],
          cast<RankedTensorType>(result.getType()));
      for (const CommStep &c : steps)
        record(c,
               describeOp(node.op) + " operand " +
                   std::to_string(operand.getOperandNumber()),
               isLayer ? layers.count : 1u);
    }
    for (OpOperand &use : node.op->getUses())
      if (isa<func::ReturnOp>(use.getOwner())) {
        auto r = cast<OpResult>(use.get());
        auto rt = cast<RankedTensorType>(r.getType());
        for (const CommStep &c : grid.reshard(s.results[r.getResultNumber()],
                                              Sharding::replicated(rt), rt))
          record(c, "result " + std::to_string(use.getOperandNumber()), 1);
      }
  }
  for (cost::SegmentCost &seg : segs)
    if (seg.repeat > 0 && (&seg != &segs[1] || layers.count > 0))
      plan.segments.push_back(seg);

  // A summary of the choices for people: one line per op of the (first)
  // layer, and of the ops around it, that splits anything.
  for (auto [i, node] : llvm::enumerate(nodes)) {
    if (node.segment == 1 && node.layer != 0)
      continue;
    const Strategy &s = strategyOf(i);
    SmallVector<std::string> parts;
    if (auto weight = dyn_cast<dist::WeightOp>(node.op)) {
      auto shape = weight.getType().getShape();
      for (auto [d, axes] : llvm::enumerate(s.results[0].dims)) {
        if (axes.empty())
          continue;
        std::string how = shape.size() == 2
                              ? (d == 0 ? "rows" : "columns")
                              : "dim " + std::to_string(d);
        parts.push_back(how + " over " + describeAxes(axes));
      }
      if (parts.empty())
        continue;
      plan.summary.push_back(
          formatv("{0}weight {1}: {2}", node.segment == 1 ? "layer: " : "",
                  weight.getName(), llvm::join(parts, ", "))
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
      parts.push_back(what + " over " + describeAxes(axes));
    }
    if (!s.results[0].partial.empty())
      parts.push_back("partial sums over " +
                      describeAxes(s.results[0].partial));
    if (parts.empty() || !isa<dist::MatMulOp, dist::GemmOp, dist::SoftmaxOp,
                              dist::GatherOp, dist::Conv2DOp>(node.op))
      continue;
    plan.summary.push_back(formatv("{0}{1}: {2}",
                                   node.segment == 1 ? "layer: " : "",
                                   describeOp(node.op),
                                   llvm::join(parts, ", "))
                               .str());
  }
  return plan;
}

} // namespace

llvm::Expected<Plan> distopt::plan::planModule(ModuleOp module,
                                               const PlannerOptions &options) {
  auto start = std::chrono::steady_clock::now();
  func::FuncOp func;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal() && !func)
      func = f;
  if (!func)
    return llvm::createStringError("the module has no function to plan");
  Planner planner(module, func, options);
  std::string error;
  if (failed(planner.collectOps(error)))
    return llvm::createStringError(error);
  if (options.microBatch && *options.microBatch != planner.graphBatch)
    return llvm::createStringError(
        formatv("--plan microbatch={0}, but the model's batch dimension (the "
                "micro-batch it is planned for) is {1}; import it with "
                "--shape NAME={0}x...",
                *options.microBatch, planner.graphBatch)
            .str());

  unsigned devices = options.cluster.getNumDevices();
  unsigned perNode = options.cluster.nodes.empty()
                         ? devices
                         : options.cluster.nodes.front().numDevices;
  bool training = options.mode == cost::StepMode::Training;
  // Candidate grids: dp x tp x pp = devices, tp inside a node.
  SmallVector<std::tuple<unsigned, unsigned, unsigned>> grids;
  for (unsigned pp = 1; pp <= devices; ++pp) {
    if (devices % pp)
      continue;
    if (options.pipelineParallel ? pp != *options.pipelineParallel
                                 : (pp > 1 && !options.searchPipeline))
      continue;
    if (pp > 1 && planner.layers.count % pp != 0)
      continue;
    for (unsigned tp = 1; tp <= devices / pp; ++tp) {
      if ((devices / pp) % tp)
        continue;
      unsigned dp = devices / pp / tp;
      if (options.tensorParallel && tp != *options.tensorParallel)
        continue;
      if (options.dataParallel && dp != *options.dataParallel)
        continue;
      if (!options.tensorParallel && tp > perNode)
        continue;
      grids.push_back({dp, tp, pp});
    }
  }
  if (grids.empty())
    return llvm::createStringError(
        formatv("no grid dp x tp x pp of {0} devices matches the plan "
                "(dp, tp and pp must multiply to the device count, pp must "
                "divide the {1} repeated layers)",
                devices, planner.layers.count)
            .str());

  std::optional<Plan> best;
  double bestTime = 0;
  double smallestMemory = std::numeric_limits<double>::infinity();
  std::string smallestGrid;
  SmallVector<std::pair<std::string, std::string>> candidates;
  std::string lastError;
  bool anyFitError = false;
  for (auto [dp, tp, pp] : grids) {
    std::string name = formatv("dp={0},tp={1},pp={2}", dp, tp, pp).str();
    double minMemory = 0;
    bool noFit = false;
    llvm::Expected<Plan> plan =
        planner.planForGrid(dp, tp, pp, minMemory, noFit);
    if (minMemory < smallestMemory) {
      smallestMemory = minMemory;
      smallestGrid = name;
    }
    if (!plan) {
      lastError = llvm::toString(plan.takeError());
      candidates.push_back({name, noFit ? "does not fit" : lastError});
      anyFitError |= noFit;
      continue;
    }
    cost::StepPlan stepPlan;
    stepPlan.mode = options.mode;
    // In inference the segments already hold per-device costs of the whole
    // dp x tp group (dp splits the model's batch like any other axis), so
    // the step model sees one replica of dp * tp devices.
    stepPlan.dataParallel = training ? dp : 1;
    stepPlan.tensorParallel = training ? tp : dp * tp;
    stepPlan.pipelineParallel = pp;
    stepPlan.microBatch = planner.graphBatch;
    stepPlan.globalBatch =
        training ? options.globalBatch.value_or(planner.graphBatch * dp)
                 : planner.graphBatch;
    stepPlan.recompute = options.recompute;
    stepPlan.zero = options.zero;
    stepPlan.schedule = options.schedule;
    llvm::Expected<cost::StepReport> step =
        cost::composeStep(plan->segments, stepPlan, options.cluster);
    if (!step) {
      candidates.push_back({name, llvm::toString(step.takeError())});
      continue;
    }
    plan->step = *step;
    double time = step->stepSeconds;
    candidates.push_back({name, formatv("{0:f3} ms", time * 1e3).str()});
    if (!step->fits) {
      candidates.back().second += formatv(" (does not fit: needs {0} per "
                                          "device)",
                                          formatBytes(step->memory.total()))
                                      .str();
      anyFitError = true;
      // The step model counts more than the solver's constraint did
      // (temporaries, communication buffers).
      if (step->memory.total() < smallestMemory || smallestGrid == name) {
        smallestMemory = step->memory.total();
        smallestGrid = name;
      }
      continue;
    }
    if (!best || time < bestTime) {
      best = std::move(*plan);
      bestTime = time;
    }
  }
  if (!best && !anyFitError &&
      llvm::none_of(candidates, [](const auto &c) {
        return StringRef(c.second).contains("does not fit");
      })) {
    std::string reasons;
    for (const auto &[grid, outcome] : candidates)
      reasons += "\n  " + grid + ": " + outcome;
    return llvm::createStringError("no candidate grid can run this model:" +
                                   reasons);
  }
  if (!best) {
    uint64_t limit = options.cluster.getDeviceMemory(0);
    std::string advice;
    unsigned needDevices = std::max<unsigned>(
        devices + 1, static_cast<unsigned>(
                         std::ceil(devices * smallestMemory / double(limit))));
    advice += formatv("use more devices (at least about {0})", needDevices);
    if (training) {
      if (!options.searchPipeline && !options.pipelineParallel)
        advice += ", pipeline stages (--plan pp=N)";
      if (options.recompute == cost::RecomputePolicy::None)
        advice += ", activation recompute (--plan recompute=full)";
    }
    return llvm::createStringError(
        formatv("no plan fits in memory: the best plan needs {0} per "
                "device ({1}) and a device has {2}; {3}",
                formatBytes(smallestMemory), smallestGrid,
                formatBytes(double(limit)), advice)
            .str());
  }
  best->candidates = candidates;
  best->planningSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - start)
                              .count();
  return std::move(*best);
}

void distopt::plan::annotateModule(ModuleOp module, const Plan &plan) {
  MLIRContext *ctx = module.getContext();
  if (plan.gridShape.empty())
    return;
  OpBuilder b(ctx);
  b.setInsertionPointToStart(module.getBody());
  shard::GridOp::create(b, module.getLoc(), "grid", plan.gridShape);
  // Grid axes of the plan (dp = 0, tp = 1) to the axes of the grid written,
  // which has only the axes of size > 1.
  SmallVector<int16_t> remap(2, -1);
  int16_t next = 0;
  for (auto [a, name] : llvm::enumerate(SmallVector<StringRef>{"dp", "tp"}))
    if (llvm::is_contained(plan.axisNames, name))
      remap[a] = next++;
  for (const auto &[op, factorAxes] : plan.choices) {
    bool any = llvm::any_of(factorAxes, [](auto &a) { return !a.empty(); });
    if (!any)
      continue;
    FactorAxes mapped;
    for (const auto &axes : factorAxes) {
      SmallVector<int16_t, 2> &m = mapped.emplace_back();
      for (int16_t a : axes)
        m.push_back(remap[a]);
    }
    dist::writeFactorAxes(
        op, cast<dist::ShardingRuleOpInterface>(op).getShardingRule(), mapped);
  }
}
