//===- PlanGrid.h - A candidate device grid and its prices ------*- C++ -*-===//
//
// Private to the planner. A candidate grid is a list of named axes, each
// with a role (data or tensor parallelism today; sequence, expert or ZeRO
// axes are further roles), plus the number of pipeline stages. GridContext
// prices collectives over grid axes and reshardings between distributed
// states with the one resharding model (dist::planReshard), so that the
// planner prices exactly what dist-partition emits.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_LIB_PLAN_PLANGRID_H
#define DISTOPT_LIB_PLAN_PLANGRID_H

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/CollectiveCost.h"
#include "distopt/Dialect/Dist/Reshard.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"

#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace distopt::plan {

/// What a grid axis is for.
enum class AxisRole {
  /// Replicas that each run their own micro-batches (training); in
  /// inference it splits ops like any axis (the batch, typically).
  Data,
  /// Splits the factors of ops within one replica.
  Tensor,
};

/// One axis of a candidate grid.
struct GridAxisSpec {
  std::string name;
  int64_t size = 1;
  AxisRole role = AxisRole::Tensor;
};

/// A candidate: the sharding grid's axes (major to minor, sizes > 1 only)
/// and the number of pipeline stages.
struct CandidateGrid {
  llvm::SmallVector<GridAxisSpec> axes;
  unsigned pipelineStages = 1;

  /// The product of the sizes of the axes of `role`.
  unsigned getDegree(AxisRole role) const;
};

/// One collective of a resharding or of a gradient synchronization.
struct CommStep {
  cost::CollectiveKind kind;
  double bytes;
  dist::GridAxes axes;
  double seconds;
};

/// A grid being planned for: its shape, the cluster, and prices.
class GridContext {
public:
  GridContext(const cost::ClusterSpec &cluster, const CandidateGrid &grid,
              bool training);

  const cost::ClusterSpec &cluster;
  /// Finds the nodes of the ranks that collectives run on.
  cost::RankLocator locator;
  const CandidateGrid &grid;
  llvm::SmallVector<int64_t> shape;
  /// Axes that per-op strategies may split factors over.
  dist::GridAxes usable;
  /// Axes of data-parallel replicas (gradients are summed over them).
  dist::GridAxes dataAxes;
  /// The ranks the grid's plans use (its pipeline stages included), and
  /// their device types: a kernel takes as long as on the slowest of them.
  unsigned numRanks = 1;
  llvm::SmallVector<const cost::DeviceType *> devices;

  int64_t size(llvm::ArrayRef<int16_t> axes) const {
    return dist::getGroupSize(axes, shape);
  }
  /// Elements and bytes one device holds of a tensor of `type` in `state`
  /// (partial results are full-sized).
  double localElements(mlir::RankedTensorType type,
                       const dist::DistState &state) const;
  double localBytes(mlir::RankedTensorType type,
                    const dist::DistState &state) const;

  /// Seconds of a collective of `kind` on `bytes` over `axes` (with the
  /// launch overhead of one kernel); 0 over one device.
  double collective(cost::CollectiveKind kind, double bytes,
                    llvm::ArrayRef<int16_t> axes);

  /// The collectives that turn `from` into `to` for a tensor of `type`, as
  /// dist::planReshard gives them. Local slices are no collective, but each
  /// is a copy kernel on the device: its time is added to `*sliceSeconds`.
  llvm::SmallVector<CommStep> reshard(const dist::DistState &from,
                                      const dist::DistState &to,
                                      mlir::RankedTensorType type,
                                      double *sliceSeconds);
  /// The time of reshard's collectives and slices.
  double reshardSeconds(const dist::DistState &from, const dist::DistState &to,
                        mlir::RankedTensorType type);

  /// `dp`, `tp`, ... joined by `x`.
  std::string describeAxes(llvm::ArrayRef<int16_t> axes) const;

private:
  std::map<std::tuple<int, double, std::vector<int16_t>>, double> cache;
  /// The groups over each set of axes: rank 0's on a cluster of identical
  /// nodes, else every group of every pipeline stage (the slowest decides).
  std::map<std::vector<int16_t>, llvm::SmallVector<cost::CollectiveGroup, 1>>
      groups;
  const llvm::SmallVector<cost::CollectiveGroup, 1> &
  getGroups(llvm::ArrayRef<int16_t> axes);
};

/// Bytes of one element of a shaped type.
int64_t getElementBytes(mlir::Type type);

} // namespace distopt::plan

#endif // DISTOPT_LIB_PLAN_PLANGRID_H
