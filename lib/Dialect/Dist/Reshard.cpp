//===- Reshard.cpp - The one resharding model -----------------------------===//
//
// planReshard: the resharding steps that the planner prices and
// dist-partition emits.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/Reshard.h"

#include "llvm/ADT/STLExtras.h"

#include <cassert>
#include <optional>

using namespace distopt;
using namespace distopt::dist;

void DistState::print(llvm::raw_ostream &os) const {
  os << "[";
  llvm::interleaveComma(dims, os, [&](const GridAxes &axes) {
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

std::string DistState::key() const {
  std::string out;
  llvm::raw_string_ostream os(out);
  print(os);
  return out;
}

int64_t dist::getGroupSize(llvm::ArrayRef<int16_t> axes,
                           llvm::ArrayRef<int64_t> gridShape) {
  int64_t n = 1;
  for (int16_t a : axes)
    n *= gridShape[a];
  return n;
}

llvm::SmallVector<int64_t>
dist::getLocalShape(llvm::ArrayRef<int64_t> globalShape, const DistState &state,
                    llvm::ArrayRef<int64_t> gridShape) {
  llvm::SmallVector<int64_t> shape(globalShape);
  for (auto [d, axes] : llvm::enumerate(state.dims))
    shape[d] /= getGroupSize(axes, gridShape);
  return shape;
}

llvm::SmallVector<unsigned>
dist::getGroupRanks(llvm::ArrayRef<int16_t> axes,
                    llvm::ArrayRef<int64_t> gridShape) {
  llvm::SmallVector<unsigned> ranks{0};
  for (int16_t a : axes) {
    int64_t stride = 1;
    for (size_t b = a + 1; b < gridShape.size(); ++b)
      stride *= gridShape[b];
    llvm::SmallVector<unsigned> next;
    for (unsigned r : ranks)
      for (int64_t i = 0; i < gridShape[a]; ++i)
        next.push_back(r + i * stride);
    ranks = std::move(next);
  }
  return ranks;
}

llvm::StringRef dist::stringifyReshardStepKind(ReshardStepKind kind) {
  switch (kind) {
  case ReshardStepKind::AllReduce:
    return "all_reduce";
  case ReshardStepKind::ReduceScatter:
    return "reduce_scatter";
  case ReshardStepKind::AllGather:
    return "all_gather";
  case ReshardStepKind::AllToAll:
    return "all_to_all";
  case ReshardStepKind::Slice:
    return "slice";
  }
  return "unknown";
}

static double numElements(llvm::ArrayRef<int64_t> shape) {
  double n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

double ReshardStep::getElements(llvm::ArrayRef<int64_t> globalShape,
                                llvm::ArrayRef<int64_t> gridShape) const {
  double in = numElements(getLocalShape(globalShape, before, gridShape));
  double out = numElements(getLocalShape(globalShape, after, gridShape));
  return kind == ReshardStepKind::Slice ? out : std::max(in, out);
}

/// True when `list` starts with `prefix`.
static bool startsWith(llvm::ArrayRef<int16_t> list,
                       llvm::ArrayRef<int16_t> prefix) {
  return prefix.size() <= list.size() &&
         prefix == list.take_front(prefix.size());
}

static GridAxes concat(llvm::ArrayRef<int16_t> a, llvm::ArrayRef<int16_t> b) {
  GridAxes out(a.begin(), a.end());
  out.append(b.begin(), b.end());
  return out;
}

/// The first dimension e other than `except` whose axes in `to` continue
/// its axes in `cur` with `axes`: where a collective over `axes` can leave
/// its split.
static std::optional<size_t> findDimTaking(const DistState &cur,
                                           const DistState &to,
                                           llvm::ArrayRef<int16_t> axes,
                                           std::optional<size_t> except) {
  for (size_t e = 0; e < cur.dims.size(); ++e)
    if (e != except && startsWith(to.dims[e], concat(cur.dims[e], axes)))
      return e;
  return std::nullopt;
}

/// Step 1: combine partial results, scattering onto a dimension of `to`
/// when it can.
static void combinePartial(DistState &cur, const DistState &to,
                           std::vector<ReshardStep> &steps) {
  if (!cur.isPartial())
    return;
  ReshardStep step;
  step.axes = cur.partial;
  step.reduceKind = cur.partialKind;
  step.before = cur;
  DistState next = cur;
  next.partial.clear();
  next.partialKind = ReduceKind::Sum;
  step.kind = ReshardStepKind::AllReduce;
  std::optional<size_t> d;
  if (cur.partialKind == ReduceKind::Sum)
    d = findDimTaking(cur, to, cur.partial, std::nullopt);
  if (d) {
    step.kind = ReshardStepKind::ReduceScatter;
    step.dim = *d;
    next.dims[*d] = concat(cur.dims[*d], cur.partial);
  }
  step.after = next;
  steps.push_back(step);
  cur = next;
}

/// Step 2: per dimension, undo the axes past the common prefix with `to`.
static void undoSplits(DistState &cur, const DistState &to,
                       std::vector<ReshardStep> &steps) {
  for (size_t d = 0; d < cur.dims.size(); ++d) {
    size_t common = 0;
    while (common < cur.dims[d].size() && common < to.dims[d].size() &&
           cur.dims[d][common] == to.dims[d][common])
      ++common;
    if (common == cur.dims[d].size())
      continue;
    ReshardStep step;
    step.axes.assign(cur.dims[d].begin() + common, cur.dims[d].end());
    step.dim = d;
    step.before = cur;
    DistState next = cur;
    next.dims[d].resize(common);
    step.kind = ReshardStepKind::AllGather;
    if (std::optional<size_t> e = findDimTaking(cur, to, step.axes, d)) {
      step.kind = ReshardStepKind::AllToAll;
      step.toDim = *e;
      next.dims[*e] = concat(cur.dims[*e], step.axes);
    }
    step.after = next;
    steps.push_back(step);
    cur = next;
  }
}

/// Step 3: per dimension, slice locally by the axes `to` adds.
static void addSplits(DistState &cur, const DistState &to,
                      std::vector<ReshardStep> &steps) {
  for (size_t d = 0; d < cur.dims.size(); ++d) {
    if (cur.dims[d].size() == to.dims[d].size())
      continue;
    ReshardStep step;
    step.kind = ReshardStepKind::Slice;
    step.axes.assign(to.dims[d].begin() + cur.dims[d].size(), to.dims[d].end());
    step.dim = d;
    step.before = cur;
    cur.dims[d] = to.dims[d];
    step.after = cur;
    steps.push_back(step);
  }
}

std::vector<ReshardStep> dist::planReshard(const DistState &from,
                                           const DistState &to) {
  assert(!to.isPartial() && "a resharding target is never partial");
  assert(from.dims.size() == to.dims.size() && "states of different ranks");
  assert((!from.isPartial() || from.partialKind != ReduceKind::Mean) &&
         "a mean is combined as partial sums");
  std::vector<ReshardStep> steps;
  if (from == to)
    return steps;
  DistState cur = from;
  combinePartial(cur, to, steps);
  undoSplits(cur, to, steps);
  addSplits(cur, to, steps);
  assert(cur == to && "resharding did not reach its target");
  return steps;
}
