//===- Reshard.h - The one resharding model ---------------------*- C++ -*-===//
//
// The one resharding model of dist-opt. A value's distributed state says
// which grid axes split each of its dimensions and over which axes it holds
// partial results. `planReshard` turns a state into another as a list of
// steps (all-reduce, reduce-scatter, all-gather, all-to-all, local slice);
// the planner prices exactly these steps and `dist-partition` emits exactly
// these steps as shard-dialect collectives. Nothing here depends on IR.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_RESHARD_H
#define DISTOPT_DIALECT_DIST_RESHARD_H

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace distopt::dist {

/// Grid axes, major to minor.
using GridAxes = llvm::SmallVector<int16_t, 2>;

/// How one value is spread over a device grid.
struct DistState {
  /// Per tensor dimension, the grid axes that split it, major to minor.
  llvm::SmallVector<GridAxes, 4> dims;
  /// Grid axes over which the value holds partial results, and how
  /// they combine. Never `mean`: a split mean is rescaled into partial sums
  /// by the op that produces it (see getPartialKind).
  GridAxes partial;
  ReduceKind partialKind = ReduceKind::Sum;

  /// Whole on every device.
  static DistState whole(int64_t rank) {
    DistState s;
    s.dims.resize(rank);
    return s;
  }
  bool isPartial() const { return !partial.empty(); }
  bool operator==(const DistState &other) const {
    return dims == other.dims && partial == other.partial &&
           (partial.empty() || partialKind == other.partialKind);
  }
  bool operator!=(const DistState &other) const { return !(*this == other); }

  /// Prints e.g. `[{0}, {}] partial sum {1}`.
  void print(llvm::raw_ostream &os) const;
  /// The printed form: a key that identifies the state.
  std::string key() const;
};

inline llvm::raw_ostream &operator<<(llvm::raw_ostream &os,
                                     const DistState &state) {
  state.print(os);
  return os;
}

/// The combiner of a value's partial results after a reduction with
/// `combiner` was split: a split mean is computed as partial sums of the
/// local means times local/global count, so its partial results are sums.
inline ReduceKind getPartialKind(ReduceKind combiner) {
  return combiner == ReduceKind::Mean ? ReduceKind::Sum : combiner;
}

/// The state of a tensor whose dimensions are indexed by `tensor`'s factors
/// when factor f is split over the grid axes `factorAxes[f]` (any range of
/// integer lists, one per factor of the rule).
template <typename FactorAxesList>
DistState getTensorState(const TensorFactors &tensor,
                         const FactorAxesList &factorAxes) {
  DistState s;
  for (const DimFactors &factors : tensor) {
    GridAxes axes;
    for (int64_t f : factors)
      axes.append(factorAxes[f].begin(), factorAxes[f].end());
    s.dims.push_back(axes);
  }
  return s;
}

/// The state of result #`result` of an op with `rule` under `factorAxes`:
/// its dimensions as getTensorState says, partial over the axes of split
/// reduction factors (in factor order), combined as getPartialKind says.
template <typename FactorAxesList>
DistState getResultState(const ShardingRule &rule, unsigned result,
                         const FactorAxesList &factorAxes) {
  DistState s = getTensorState(rule.results[result], factorAxes);
  for (auto [f, factor] : llvm::enumerate(rule.factors))
    if (factor.kind == FactorKind::Reduction && !factorAxes[f].empty()) {
      s.partial.append(factorAxes[f].begin(), factorAxes[f].end());
      s.partialKind = getPartialKind(factor.combiner);
    }
  return s;
}

/// Whether `factorAxes` splits a reduction factor of `rule` whose combiner
/// is `mean`: the op's local mean is then rescaled into partial sums
/// (buildPartialMean in LocalForms.h), one more element-wise kernel that the
/// planner prices and dist-partition emits.
template <typename FactorAxesList>
bool splitsMean(const ShardingRule &rule, const FactorAxesList &factorAxes) {
  for (auto [f, factor] : llvm::enumerate(rule.factors))
    if (factor.kind == FactorKind::Reduction &&
        factor.combiner == ReduceKind::Mean && !factorAxes[f].empty())
      return true;
  return false;
}

/// Devices along `axes` of a grid of `gridShape`.
int64_t getGroupSize(llvm::ArrayRef<int16_t> axes,
                     llvm::ArrayRef<int64_t> gridShape);

/// The shape one device holds of a value of `globalShape` in `state`.
llvm::SmallVector<int64_t> getLocalShape(llvm::ArrayRef<int64_t> globalShape,
                                         const DistState &state,
                                         llvm::ArrayRef<int64_t> gridShape);

/// The ranks of the group along `axes` that contains rank 0, for a grid
/// whose ranks are numbered row-major (axis 0 major).
llvm::SmallVector<unsigned> getGroupRanks(llvm::ArrayRef<int16_t> axes,
                                          llvm::ArrayRef<int64_t> gridShape);

enum class ReshardStepKind {
  /// Combines partial results over `axes`; every device keeps the whole.
  AllReduce,
  /// Combines partial sums over `axes` and keeps this device's piece of
  /// dimension `dim`.
  ReduceScatter,
  /// Concatenates the pieces of dimension `dim` along `axes`.
  AllGather,
  /// Moves the split of `axes` from dimension `dim` to dimension `toDim`.
  AllToAll,
  /// Keeps this device's piece of dimension `dim` along `axes`: a local
  /// copy, no communication.
  Slice,
};

llvm::StringRef stringifyReshardStepKind(ReshardStepKind kind);

/// One step of a resharding, with the states before and after it.
struct ReshardStep {
  ReshardStepKind kind;
  GridAxes axes;
  int64_t dim = -1;
  /// The receiving dimension of an all-to-all.
  int64_t toDim = -1;
  /// The combiner of an all-reduce or reduce-scatter.
  ReduceKind reduceKind = ReduceKind::Sum;
  DistState before, after;

  /// Elements of the larger of the step's local input and output: the
  /// buffer size a collective's cost is given by (all-reduce: the value;
  /// reduce-scatter: its input; all-gather: its output; all-to-all: either).
  /// For a slice, the elements of the piece kept.
  double getElements(llvm::ArrayRef<int64_t> globalShape,
                     llvm::ArrayRef<int64_t> gridShape) const;
  /// True for the steps that communicate (all but Slice).
  bool isCollective() const { return kind != ReshardStepKind::Slice; }
};

/// The steps that turn a value in state `from` into state `to`:
///  1. partial results are combined: a reduce-scatter when they are sums
///     and `to` splits a dimension over its current axes followed by the
///     partial axes, otherwise an all-reduce;
///  2. per dimension, the axes past the common prefix with `to` are undone:
///     an all-to-all when another dimension needs exactly those axes next,
///     otherwise an all-gather;
///  3. per dimension, the missing axes are added by a local slice.
/// `to` must not be partial (an op's operands are whole or split) and
/// neither state may be a mean. Returns no steps when the states are equal.
std::vector<ReshardStep> planReshard(const DistState &from,
                                     const DistState &to);

} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_RESHARD_H
