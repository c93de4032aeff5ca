//===- Calibration.h - Device and link figures from timings --- -*- C++ -*-===//
//
// What dist-calibrate does with its measurements: relative least squares
// that turn kernel timings into a device type's figures and collective
// timings into a link's latency and bus bandwidth curves, and the cluster
// that a calibration profile describes. The measuring stays in the tool;
// the fits are here so that they can be tested on data with a known
// answer. docs/cluster.md, "Calibration", gives the formulas.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_CALIBRATION_H
#define DISTOPT_COST_CALIBRATION_H

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/CollectiveCost.h"
#include "distopt/Cost/OpCost.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <optional>
#include <string>

namespace distopt::cost {

//===----------------------------------------------------------------------===//
// Least squares
//===----------------------------------------------------------------------===//

/// Least squares of `t ~ x . p` with two parameters, each point weighted by
/// `1 / t^2` so that it counts by its relative error (calibration times
/// span six orders of magnitude). None when the system is singular.
std::optional<std::array<double, 2>>
fitRelativeLeastSquares(llvm::ArrayRef<std::array<double, 2>> x,
                        llvm::ArrayRef<double> t);

/// Relative least squares with one parameter: `t - offset ~ x * p`,
/// weighted by `1 / t^2`. 0 when no point has a non-zero `x`.
double fitRelativeScale(llvm::ArrayRef<double> x, llvm::ArrayRef<double> t,
                        double offset = 0);

//===----------------------------------------------------------------------===//
// Device figures from kernel timings
//===----------------------------------------------------------------------===//

/// One timed kernel: its work as the cost model counts it (getOpWork) and
/// its time per call.
struct KernelTiming {
  std::string label;
  OpWork work;
  double seconds = 0;
};

/// The kernel timings a device type is fitted to.
struct KernelTimings {
  /// A kernel of a few elements: the fixed cost of a kernel.
  KernelTiming tiny;
  /// Memory-bound kernels of growing size, from in-cache to past the
  /// caches: one bandwidth curve point each.
  llvm::SmallVector<KernelTiming, 0> streaming;
  /// GEMMs of growing size: the peak rate and the half-rate size.
  llvm::SmallVector<KernelTiming, 0> gemms;
  /// Arithmetic-bound kernels (exp, erf, ...): the vector rate.
  llvm::SmallVector<KernelTiming, 0> vector;
};

/// Fits `device`'s speed figures to `timings` (name and memory are left
/// as they are):
/// - opOverhead: the tiny kernel's time;
/// - bandwidthCurve: bytes / (time - overhead) of each streaming kernel
///   whose time is more than twice the overhead, ascending in bytes;
///   memoryBandwidth: the last point's; memoryEfficiency 1;
/// - peakFlops: P of time = (overhead + half / P) + flops / P over the
///   GEMMs (relative least squares), gemmEfficiency 1, gemmHalfFlops the
///   half from the intercept (at least 0);
/// - vectorFlops: 1 / s of time - overhead = flops * s over the vector
///   kernels (0 when s is not positive).
/// Fails when no streaming kernel takes clearly longer than the overhead or
/// the GEMM rate cannot be fitted.
llvm::Error fitDeviceType(const KernelTimings &timings, DeviceType &device);

//===----------------------------------------------------------------------===//
// Link figures from collective timings
//===----------------------------------------------------------------------===//

/// One timed collective on the first `ranks` ranks of one node: `bytes` is
/// the buffer size of CollectiveCost.h (the all-reduce buffer, the
/// all-gather output, the reduce-scatter input).
struct CollectiveTiming {
  CollectiveKind kind = CollectiveKind::AllReduce;
  unsigned ranks = 2;
  double bytes = 0;
  double seconds = 0;
};

/// Fits a link to `timings` with the ring formula of getFlatCollectiveTime,
/// ranks beyond `cores` sharing the cores as shareCores models it
/// (share = min(1, cores / ranks)):
///   t = steps * latency / share + bytes * f / (bandwidth * share).
/// First the latency and one bandwidth from all-reduce over every size and
/// rank count (relative least squares); then, with that latency, each
/// collective's bus bandwidth at each size pooled over the rank counts: the
/// all-reduce `bandwidthCurve`, `allGatherCurve` and `reduceScatterCurve`.
/// Fails when there is no all-reduce timing or the fit has no positive
/// bandwidth.
llvm::Expected<LinkSpec> fitLink(llvm::ArrayRef<CollectiveTiming> timings,
                                 unsigned cores);

//===----------------------------------------------------------------------===//
// The profile
//===----------------------------------------------------------------------===//

/// The cluster a calibration profile describes: one site and one node
/// named `localhost` with `ranks` devices of type `device`, joined by `link`
/// at both levels (MPI over shared memory).
ClusterSpec makeCalibrationCluster(llvm::StringRef name,
                                   const DeviceType &device,
                                   const LinkSpec &link, unsigned ranks);

} // namespace distopt::cost

#endif // DISTOPT_COST_CALIBRATION_H
