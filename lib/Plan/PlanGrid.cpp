//===- PlanGrid.cpp - A candidate device grid and its prices --------------===//

#include "PlanGrid.h"

#include "distopt/Cost/OpCost.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace distopt;
using namespace distopt::plan;
using cost::CollectiveKind;
using dist::ReshardStepKind;

int64_t plan::getElementBytes(Type type) {
  Type e = cast<ShapedType>(type).getElementType();
  return std::max<int64_t>(1, e.getIntOrFloatBitWidth() / 8);
}

unsigned CandidateGrid::getDegree(AxisRole role) const {
  unsigned n = 1;
  for (const GridAxisSpec &axis : axes)
    if (axis.role == role)
      n *= axis.size;
  return n;
}

GridContext::GridContext(const cost::ClusterSpec &cluster,
                         const CandidateGrid &grid, bool training)
    : cluster(cluster), locator(cluster), grid(grid) {
  for (auto [a, axis] : llvm::enumerate(grid.axes)) {
    shape.push_back(axis.size);
    // In training, data parallelism replicates the whole layer sharding
    // (each replica runs its own micro-batches); in inference, any axis may
    // split any factor (the batch, typically, for dp).
    if (axis.role == AxisRole::Data)
      dataAxes.push_back(a);
    if (!training || axis.role != AxisRole::Data)
      usable.push_back(a);
  }
  numRanks = grid.pipelineStages;
  for (int64_t size : shape)
    numRanks *= unsigned(size);
  devices = locator.getDeviceTypes(0, numRanks);
}

double GridContext::localElements(RankedTensorType type,
                                  const dist::DistState &state) const {
  double elems = 1;
  for (int64_t d : dist::getLocalShape(type.getShape(), state, shape))
    elems *= d;
  return elems;
}

double GridContext::localBytes(RankedTensorType type,
                               const dist::DistState &state) const {
  return localElements(type, state) * getElementBytes(type);
}

/// Whether every node of `cluster` has the same devices and links, in one
/// site: then every group over the same axes costs the same (as rank 0's).
static bool hasIdenticalNodes(const cost::ClusterSpec &cluster) {
  const cost::NodeSpec &first = cluster.nodes.front();
  auto same = [](const cost::LinkSpec &a, const cost::LinkSpec &b) {
    return a.bandwidth == b.bandwidth && a.latency == b.latency &&
           a.bandwidthCurve.size() == b.bandwidthCurve.size();
  };
  return llvm::all_of(cluster.nodes, [&](const cost::NodeSpec &node) {
    return node.deviceType == first.deviceType &&
           node.numDevices == first.numDevices && node.site == first.site &&
           same(node.intraNode, first.intraNode) &&
           same(node.interNode, first.interNode);
  });
}

const SmallVector<cost::CollectiveGroup, 1> &
GridContext::getGroups(ArrayRef<int16_t> axes) {
  std::vector<int16_t> key(axes.begin(), axes.end());
  auto it = groups.find(key);
  if (it != groups.end())
    return it->second;
  SmallVector<unsigned> ranks = dist::getGroupRanks(axes, shape);
  SmallVector<cost::CollectiveGroup, 1> &out = groups[key];
  if (hasIdenticalNodes(cluster)) {
    out.push_back(cost::getCollectiveGroup(locator, ranks));
    return out;
  }
  // Every group: rank 0's shifted to each position of the other axes, in
  // each pipeline stage.
  dist::GridAxes others;
  for (int16_t a = 0; a < int16_t(shape.size()); ++a)
    if (!llvm::is_contained(axes, a))
      others.push_back(a);
  unsigned stageRanks = unsigned(size(others)) * unsigned(size(axes));
  SmallVector<unsigned> shifted(ranks.size());
  for (unsigned stage = 0; stage < grid.pipelineStages; ++stage)
    for (unsigned offset : dist::getGroupRanks(others, shape)) {
      for (auto [i, r] : llvm::enumerate(ranks))
        shifted[i] = r + offset + stage * stageRanks;
      out.push_back(cost::getCollectiveGroup(locator, shifted));
    }
  return out;
}

double GridContext::collective(CollectiveKind kind, double bytes,
                               ArrayRef<int16_t> axes) {
  if (size(axes) <= 1 || bytes <= 0)
    return 0;
  auto key = std::make_tuple(static_cast<int>(kind), bytes,
                             std::vector<int16_t>(axes.begin(), axes.end()));
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;
  double t = 0;
  for (const cost::CollectiveGroup &group : getGroups(axes))
    t = std::max(t, cost::getCollectiveTime(
                        group, kind, cost::CollectiveAlgorithm::Ring, bytes));
  // Each collective is also one kernel launch on the device.
  t += cost::getSlowestComputeTime(devices,
                                   cost::OpWork{cost::OpClass::Memory, 0, 0});
  cache[key] = t;
  return t;
}

static CollectiveKind toCollectiveKind(ReshardStepKind kind) {
  switch (kind) {
  case ReshardStepKind::AllReduce:
    return CollectiveKind::AllReduce;
  case ReshardStepKind::ReduceScatter:
    return CollectiveKind::ReduceScatter;
  case ReshardStepKind::AllGather:
    return CollectiveKind::AllGather;
  case ReshardStepKind::AllToAll:
    return CollectiveKind::AllToAll;
  case ReshardStepKind::Slice:
    break;
  }
  llvm_unreachable("a local slice is no collective");
}

SmallVector<CommStep> GridContext::reshard(const dist::DistState &from,
                                           const dist::DistState &to,
                                           RankedTensorType type,
                                           double *sliceSeconds) {
  SmallVector<CommStep> steps;
  int64_t elementBytes = getElementBytes(type);
  for (const dist::ReshardStep &step : dist::planReshard(from, to)) {
    double bytes = step.getElements(type.getShape(), shape) * elementBytes;
    if (!step.isCollective()) {
      // A copy kernel that reads and writes the piece it keeps.
      cost::OpWork copy{cost::OpClass::Memory, 0, 2 * bytes};
      if (sliceSeconds)
        *sliceSeconds += cost::getSlowestComputeTime(devices, copy);
      continue;
    }
    CollectiveKind kind = toCollectiveKind(step.kind);
    steps.push_back(
        {kind, bytes, step.axes, collective(kind, bytes, step.axes)});
  }
  return steps;
}

double GridContext::reshardSeconds(const dist::DistState &from,
                                   const dist::DistState &to,
                                   RankedTensorType type) {
  double t = 0;
  for (const CommStep &s : reshard(from, to, type, &t))
    t += s.seconds;
  return t;
}

std::string GridContext::describeAxes(ArrayRef<int16_t> axes) const {
  SmallVector<std::string> names;
  for (int16_t a : axes)
    names.push_back(grid.axes[a].name);
  return llvm::join(names, "x");
}
