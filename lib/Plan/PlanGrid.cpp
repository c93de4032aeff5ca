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

std::string CandidateGrid::getName() const {
  return llvm::formatv("dp={0},tp={1},pp={2}", getDegree(AxisRole::Data),
                       getDegree(AxisRole::Tensor), pipelineStages)
      .str();
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

double GridContext::collective(CollectiveKind kind, double bytes,
                               ArrayRef<int16_t> axes) {
  if (size(axes) <= 1 || bytes <= 0)
    return 0;
  auto key = std::make_tuple(static_cast<int>(kind), bytes,
                             std::vector<int16_t>(axes.begin(), axes.end()));
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;
  auto group = groups.find(std::get<2>(key));
  if (group == groups.end())
    group = groups
                .try_emplace(std::get<2>(key),
                             cost::getCollectiveGroup(
                                 locator, dist::getGroupRanks(axes, shape)))
                .first;
  // Each collective is also one kernel launch on the device.
  double t = cost::getCollectiveTime(group->second, kind,
                                     cost::CollectiveAlgorithm::Ring, bytes) +
             locator.getDeviceType(0).efficiency.opOverhead;
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
        *sliceSeconds += cost::getComputeTime(locator.getDeviceType(0), copy);
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
