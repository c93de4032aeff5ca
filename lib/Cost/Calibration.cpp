//===- Calibration.cpp - Fitting device and link figures to timings -------===//
//
// Closed-form relative least squares (a 2x2 system needs no numerics
// library) and the fits of docs/cluster.md, "Calibration".
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/Calibration.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace distopt::cost;

//===----------------------------------------------------------------------===//
// Least squares
//===----------------------------------------------------------------------===//

std::optional<std::array<double, 2>>
distopt::cost::fitRelativeLeastSquares(llvm::ArrayRef<std::array<double, 2>> x,
                                       llvm::ArrayRef<double> t) {
  double a00 = 0, a01 = 0, a11 = 0, b0 = 0, b1 = 0;
  for (auto [xi, ti] : llvm::zip(x, t)) {
    double w = 1.0 / (ti * ti);
    a00 += w * xi[0] * xi[0];
    a01 += w * xi[0] * xi[1];
    a11 += w * xi[1] * xi[1];
    b0 += w * xi[0] * ti;
    b1 += w * xi[1] * ti;
  }
  double det = a00 * a11 - a01 * a01;
  // Singular, or so close to it that the solution is noise.
  if (!(std::fabs(det) > 1e-12 * std::fabs(a00 * a11)) ||
      !(std::fabs(det) > 1e-300))
    return std::nullopt;
  return std::array<double, 2>{(a11 * b0 - a01 * b1) / det,
                               (a00 * b1 - a01 * b0) / det};
}

double distopt::cost::fitRelativeScale(llvm::ArrayRef<double> x,
                                       llvm::ArrayRef<double> t,
                                       double offset) {
  double num = 0, den = 0;
  for (auto [xi, ti] : llvm::zip(x, t)) {
    double w = 1.0 / (ti * ti);
    num += w * xi * (ti - offset);
    den += w * xi * xi;
  }
  return den > 0 ? num / den : 0;
}

//===----------------------------------------------------------------------===//
// Device figures
//===----------------------------------------------------------------------===//

/// The bandwidth curve of the streaming kernels: one point each, leaving
/// out those within the overhead's own noise (the curve's first point then
/// holds for smaller sizes).
static llvm::SmallVector<BandwidthPoint, 0>
fitBandwidthCurve(llvm::ArrayRef<KernelTiming> streaming, double overhead) {
  llvm::SmallVector<BandwidthPoint, 0> curve;
  for (const KernelTiming &m : streaming) {
    double seconds = m.seconds - overhead;
    if (!(seconds > 0.5 * m.seconds))
      continue;
    if (curve.empty() || m.work.bytes > curve.back().bytes)
      curve.push_back({m.work.bytes, m.work.bytes / seconds});
  }
  return curve;
}

llvm::Error distopt::cost::fitDeviceType(const KernelTimings &timings,
                                         DeviceType &device) {
  ComputeEfficiency &eff = device.efficiency;
  eff.opOverhead = timings.tiny.seconds;

  // Streaming kernels: t = overhead + bytes / bandwidth(bytes).
  eff.memoryEfficiency = 1.0;
  eff.bandwidthCurve = fitBandwidthCurve(timings.streaming, eff.opOverhead);
  if (eff.bandwidthCurve.empty())
    return llvm::createStringError(
        "no streaming kernel took clearly longer than the overhead");
  device.memoryBandwidth = eff.bandwidthCurve.back().bandwidth;

  // GEMMs: t = overhead + (flops + half) / rate, i.e. intercept
  // overhead + half / rate and slope 1 / rate.
  llvm::SmallVector<std::array<double, 2>> x;
  llvm::SmallVector<double> t;
  for (const KernelTiming &m : timings.gemms) {
    x.push_back({1.0, m.work.flops});
    t.push_back(m.seconds);
  }
  std::optional<std::array<double, 2>> p = fitRelativeLeastSquares(x, t);
  if (!p || (*p)[1] <= 0)
    return llvm::createStringError(
        "cannot fit the GEMM rate to the GEMM timings");
  // On a CPU the peak is the fitted asymptotic rate of sgemm: efficiency 1.
  device.peakFlops = 1.0 / (*p)[1];
  eff.gemmEfficiency = 1.0;
  eff.gemmHalfFlops = std::max(0.0, ((*p)[0] - eff.opOverhead) / (*p)[1]);
  // A half-performance point under 1 kFLOP is the fit's noise around 0
  // (the GEMMs run at the fitted rate from the smallest size on), and below
  // what a cluster file accepts (gemm_half_gflop >= 1e-6 or 0): one run
  // fitted 8.997e-07 GFLOP and wrote a file that does not read back.
  if (eff.gemmHalfFlops < 1e3)
    eff.gemmHalfFlops = 0;

  // Arithmetic-bound kernels: t = overhead + flops / vectorFlops.
  llvm::SmallVector<double> flops, times;
  for (const KernelTiming &m : timings.vector) {
    flops.push_back(m.work.flops);
    times.push_back(m.seconds);
  }
  double inverse = fitRelativeScale(flops, times, eff.opOverhead);
  eff.vectorFlops = inverse > 0 ? 1.0 / inverse : 0;
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Link figures
//===----------------------------------------------------------------------===//

namespace {
/// The ring formula's terms of one timing, with ranks sharing the cores.
struct RingTerms {
  unsigned cores;

  double share(const CollectiveTiming &m) const {
    return std::min(1.0, double(cores) / m.ranks);
  }
  /// Latency steps, slowed down by the share.
  double steps(const CollectiveTiming &m) const {
    double steps = m.kind == CollectiveKind::AllReduce ? 2.0 * (m.ranks - 1)
                                                       : m.ranks - 1.0;
    return steps / share(m);
  }
  /// Bytes on the bus, slowed down by the share.
  double busBytes(const CollectiveTiming &m) const {
    return m.bytes * getBusBandwidthFactor(m.kind, m.ranks) / share(m);
  }
};
} // namespace

/// The bus bandwidth of `kind` at each size, pooled over the rank counts,
/// with the latency already fitted: relative least squares of
/// `t - steps * latency ~ busBytes / bandwidth`.
static llvm::SmallVector<BandwidthPoint, 0>
fitBusBandwidthCurve(llvm::ArrayRef<CollectiveTiming> timings,
                     CollectiveKind kind, const RingTerms &terms,
                     double latency) {
  std::map<double,
           std::pair<llvm::SmallVector<double>, llvm::SmallVector<double>>>
      bySize;
  for (const CollectiveTiming &m : timings)
    if (m.kind == kind) {
      auto &[xs, ts] = bySize[m.bytes];
      xs.push_back(terms.busBytes(m));
      ts.push_back(m.seconds - terms.steps(m) * latency);
    }
  llvm::SmallVector<BandwidthPoint, 0> curve;
  for (auto &[bytes, points] : bySize) {
    double inverse = fitRelativeScale(points.first, points.second);
    if (inverse > 0)
      curve.push_back({bytes, 1.0 / inverse});
  }
  return curve;
}

llvm::Expected<LinkSpec>
distopt::cost::fitLink(llvm::ArrayRef<CollectiveTiming> timings,
                       unsigned cores) {
  RingTerms terms{std::max(1u, cores)};
  // 1. Latency and one bandwidth for every size, from all-reduce.
  llvm::SmallVector<std::array<double, 2>> x;
  llvm::SmallVector<double> t;
  for (const CollectiveTiming &m : timings)
    if (m.kind == CollectiveKind::AllReduce) {
      x.push_back({terms.steps(m), terms.busBytes(m)});
      t.push_back(m.seconds);
    }
  std::optional<std::array<double, 2>> p = fitRelativeLeastSquares(x, t);
  if (!p || (*p)[1] <= 0)
    return llvm::createStringError(
        "cannot fit the link's bandwidth to the all-reduce timings");
  LinkSpec link;
  link.latency = std::max(0.0, (*p)[0]);
  // Under a picosecond (1e-6 us, the least a cluster file accepts above
  // 0) is the fit's noise around 0.
  if (link.latency < 1e-12)
    link.latency = 0;
  link.bandwidth = 1.0 / (*p)[1];
  // 2. Each collective's bus bandwidth at each size, with that latency.
  link.bandwidthCurve = fitBusBandwidthCurve(timings, CollectiveKind::AllReduce,
                                             terms, link.latency);
  link.allGatherCurve = fitBusBandwidthCurve(timings, CollectiveKind::AllGather,
                                             terms, link.latency);
  link.reduceScatterCurve = fitBusBandwidthCurve(
      timings, CollectiveKind::ReduceScatter, terms, link.latency);
  return link;
}

//===----------------------------------------------------------------------===//
// The profile
//===----------------------------------------------------------------------===//

ClusterSpec distopt::cost::makeCalibrationCluster(llvm::StringRef name,
                                                  const DeviceType &device,
                                                  const LinkSpec &link,
                                                  unsigned ranks) {
  ClusterSpec spec;
  spec.name = name.str();
  spec.deviceTypes.push_back(device);
  spec.sites.push_back("localhost");
  NodeSpec node;
  node.name = "localhost";
  node.numDevices = ranks;
  node.intraNode = link;
  node.interNode = link;
  spec.nodes.push_back(std::move(node));
  return spec;
}
