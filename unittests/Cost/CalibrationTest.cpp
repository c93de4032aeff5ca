//===- CalibrationTest.cpp - unit tests of the calibration fits -----------===//
//
// The least-squares fits of Calibration.h on synthetic timings whose
// figures are known: the fits must give them back.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/Calibration.h"

#include "ErrorHelpers.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

TEST(CostCalibrationTest, TwoParameterFitRecoversAnExactLine) {
  // t = 3e-6 * x0 + 2e-9 * x1, times spanning six orders of magnitude.
  llvm::SmallVector<std::array<double, 2>> x;
  llvm::SmallVector<double> t;
  for (double bytes = 1e3; bytes <= 1e9; bytes *= 10) {
    x.push_back({1.0, bytes});
    t.push_back(3e-6 + 2e-9 * bytes);
  }
  auto p = fitRelativeLeastSquares(x, t);
  ASSERT_TRUE(p.has_value());
  EXPECT_NEAR((*p)[0], 3e-6, 3e-6 * 1e-9);
  EXPECT_NEAR((*p)[1], 2e-9, 2e-9 * 1e-9);
}

TEST(CostCalibrationTest, TwoParameterFitWeighsRelativeErrors) {
  // Two points off by +10% and -10% of their own size: a fit by relative
  // error keeps the small point's intercept near its truth, which an
  // absolute fit would sacrifice to the large point.
  llvm::SmallVector<std::array<double, 2>> x = {
      {1, 0}, {1, 1e3}, {1, 1e6}, {1, 1e9}};
  llvm::SmallVector<double> t;
  for (auto [i, xi] : llvm::enumerate(x)) {
    double exact = 1e-5 + 1e-9 * xi[1];
    t.push_back(exact * (i % 2 ? 1.1 : 0.9));
  }
  auto p = fitRelativeLeastSquares(x, t);
  ASSERT_TRUE(p.has_value());
  EXPECT_NEAR((*p)[0], 1e-5, 0.15e-5);
  EXPECT_NEAR((*p)[1], 1e-9, 0.15e-9);
}

TEST(CostCalibrationTest, SingularSystemsHaveNoFit) {
  // Both columns proportional: no unique solution.
  llvm::SmallVector<std::array<double, 2>> x = {{1, 2}, {2, 4}, {3, 6}};
  llvm::SmallVector<double> t = {1, 2, 3};
  EXPECT_FALSE(fitRelativeLeastSquares(x, t).has_value());
  EXPECT_FALSE(fitRelativeLeastSquares({}, {}).has_value());
}

TEST(CostCalibrationTest, OneParameterFitSubtractsTheOffset) {
  // t = 5e-6 + x / 4e9.
  llvm::SmallVector<double> x = {1e4, 1e6, 1e8}, t;
  for (double xi : x)
    t.push_back(5e-6 + xi / 4e9);
  EXPECT_NEAR(fitRelativeScale(x, t, 5e-6), 1 / 4e9, 1e-9 / 4e9);
  EXPECT_EQ(fitRelativeScale({}, {}, 0), 0);
}

/// A kernel timing of `flops` and `bytes` that takes `seconds`.
KernelTiming timing(double flops, double bytes, double seconds) {
  KernelTiming m;
  m.work.flops = flops;
  m.work.bytes = bytes;
  m.seconds = seconds;
  return m;
}

TEST(CostCalibrationTest, DeviceFiguresFromSyntheticKernels) {
  // A device with overhead 0.2 us, streaming bandwidth 100 GB/s up to 1 MB
  // and 20 GB/s above, GEMMs at 200 GFLOP/s with 50 MFLOP to half rate,
  // and vector kernels at 10 GFLOP/s.
  const double overhead = 2e-7, peak = 200e9, half = 50e6, vector = 10e9;
  KernelTimings timings;
  timings.tiny = timing(64, 768, overhead);
  // A kernel too small to say anything about bandwidth is left out.
  timings.streaming.push_back(timing(0, 3e3, overhead * 1.2));
  for (double bytes : {1e5, 1e6, 1e7, 1e8})
    timings.streaming.push_back(
        timing(0, bytes, overhead + bytes / (bytes < 2e6 ? 100e9 : 20e9)));
  for (double n : {64.0, 256.0, 1024.0, 2048.0}) {
    double flops = 2 * n * n * n;
    timings.gemms.push_back(timing(flops, 0, overhead + (flops + half) / peak));
  }
  for (double flops : {1e7, 1e8})
    timings.vector.push_back(timing(flops, 0, overhead + flops / vector));

  DeviceType device;
  device.name = "synthetic";
  device.memoryBytes = 123;
  ASSERT_FALSE(bool(fitDeviceType(timings, device)));
  const ComputeEfficiency &e = device.efficiency;
  EXPECT_EQ(device.name, "synthetic");
  EXPECT_EQ(device.memoryBytes, 123u);
  EXPECT_DOUBLE_EQ(e.opOverhead, overhead);
  ASSERT_EQ(e.bandwidthCurve.size(), 4u);
  EXPECT_NEAR(e.bandwidthCurve[0].bandwidth, 100e9, 1e3);
  EXPECT_NEAR(e.bandwidthCurve[1].bandwidth, 100e9, 1e3);
  EXPECT_NEAR(e.bandwidthCurve[3].bandwidth, 20e9, 1e3);
  EXPECT_DOUBLE_EQ(e.bandwidthCurve[3].bytes, 1e8);
  EXPECT_DOUBLE_EQ(device.memoryBandwidth, e.bandwidthCurve.back().bandwidth);
  EXPECT_EQ(e.memoryEfficiency, 1.0);
  EXPECT_NEAR(device.peakFlops, peak, peak * 1e-6);
  EXPECT_EQ(e.gemmEfficiency, 1.0);
  EXPECT_NEAR(e.gemmHalfFlops, half, half * 1e-4);
  EXPECT_NEAR(e.vectorFlops, vector, vector * 1e-6);
}

// GEMMs whose half-performance point is below 1 kFLOP (here 500 FLOP) fit
// to 0, a value a cluster file accepts (it takes 1e-6 GFLOP and up, or 0);
// one measured run had fitted 9e-7 GFLOP and written a file that did not
// read back.
TEST(CostCalibrationTest, TinyGemmHalfPointIsZero) {
  const double overhead = 2e-7, peak = 200e9;
  KernelTimings timings;
  timings.tiny = timing(64, 768, overhead);
  for (double bytes : {1e5, 1e6, 1e7})
    timings.streaming.push_back(timing(0, bytes, overhead + bytes / 100e9));
  for (double n : {64.0, 256.0, 1024.0}) {
    double flops = 2 * n * n * n;
    timings.gemms.push_back(timing(flops, 0, overhead + (flops + 500) / peak));
  }
  for (double flops : {1e7, 1e8})
    timings.vector.push_back(timing(flops, 0, overhead + flops / 10e9));
  DeviceType device;
  device.name = "synthetic";
  ASSERT_FALSE(bool(fitDeviceType(timings, device)));
  EXPECT_EQ(device.efficiency.gemmHalfFlops, 0.0);
  EXPECT_NEAR(device.peakFlops, peak, peak * 1e-6);
}

TEST(CostCalibrationTest, DeviceFitFailsWithoutUsableTimings) {
  KernelTimings timings;
  timings.tiny = timing(64, 768, 1e-5);
  timings.streaming.push_back(timing(0, 1e3, 1.1e-5));
  DeviceType device;
  EXPECT_EQ(llvm::toString(fitDeviceType(timings, device)),
            "no streaming kernel took clearly longer than the overhead");
  timings.streaming.push_back(timing(0, 1e8, 1e-2));
  timings.gemms.push_back(timing(1e6, 0, 1e-4));
  EXPECT_EQ(llvm::toString(fitDeviceType(timings, device)),
            "cannot fit the GEMM rate to the GEMM timings");
}

/// The time of `kind` on the ring formula with ranks sharing `cores`.
double ringTime(CollectiveKind kind, unsigned ranks, double bytes,
                double latency, double bandwidth, unsigned cores) {
  double share = std::min(1.0, double(cores) / ranks);
  double steps =
      kind == CollectiveKind::AllReduce ? 2.0 * (ranks - 1) : ranks - 1.0;
  return steps * latency / share +
         bytes * getBusBandwidthFactor(kind, ranks) / (bandwidth * share);
}

TEST(CostCalibrationTest, LinkFiguresFromSyntheticCollectives) {
  // A link of 3 us and 8 GB/s for all-reduce, all-gather at 12 GB/s and
  // reduce-scatter at 4 GB/s, on 2 and 4 ranks of a 2-core machine (4
  // ranks share the cores: half speed).
  const double latency = 3e-6;
  const unsigned cores = 2;
  std::vector<CollectiveTiming> timings;
  for (unsigned ranks : {2u, 4u})
    for (double bytes = 1024; bytes <= (64 << 20); bytes *= 4)
      for (auto [kind, bandwidth] :
           {std::pair(CollectiveKind::AllReduce, 8e9),
            std::pair(CollectiveKind::AllGather, 12e9),
            std::pair(CollectiveKind::ReduceScatter, 4e9)})
        timings.push_back(
            {kind, ranks, bytes,
             ringTime(kind, ranks, bytes, latency, bandwidth, cores)});
  llvm::Expected<LinkSpec> link = fitLink(timings, cores);
  ASSERT_EQ(succeeded(link), "");
  EXPECT_NEAR(link->latency, latency, latency * 1e-6);
  EXPECT_NEAR(link->bandwidth, 8e9, 8e9 * 1e-6);
  // One point per size, pooled over the rank counts.
  ASSERT_EQ(link->bandwidthCurve.size(), 9u);
  ASSERT_EQ(link->allGatherCurve.size(), 9u);
  ASSERT_EQ(link->reduceScatterCurve.size(), 9u);
  EXPECT_DOUBLE_EQ(link->bandwidthCurve.front().bytes, 1024);
  EXPECT_DOUBLE_EQ(link->bandwidthCurve.back().bytes, double(64 << 20));
  for (const BandwidthPoint &point : link->bandwidthCurve)
    EXPECT_NEAR(point.bandwidth, 8e9, 8e9 * 1e-6);
  for (const BandwidthPoint &point : link->allGatherCurve)
    EXPECT_NEAR(point.bandwidth, 12e9, 12e9 * 1e-6);
  for (const BandwidthPoint &point : link->reduceScatterCurve)
    EXPECT_NEAR(point.bandwidth, 4e9, 4e9 * 1e-6);

  // Without all-reduce timings there is nothing to fit the latency to.
  llvm::erase_if(timings, [](const CollectiveTiming &m) {
    return m.kind == CollectiveKind::AllReduce;
  });
  EXPECT_EQ(getErrorMessage(fitLink(timings, cores)),
            "cannot fit the link's bandwidth to the all-reduce timings");
}

TEST(CostCalibrationTest, CalibrationClusterIsOneNodeWithOneLink) {
  DeviceType device;
  device.name = "cpu-rank";
  device.peakFlops = 1e11;
  LinkSpec link{6e9, 1e-6};
  ClusterSpec spec = makeCalibrationCluster("p", device, link, 4);
  EXPECT_EQ(spec.name, "p");
  ASSERT_EQ(spec.nodes.size(), 1u);
  EXPECT_EQ(spec.getNumDevices(), 4u);
  EXPECT_EQ(spec.getDeviceType(3).name, "cpu-rank");
  EXPECT_EQ(spec.nodes[0].intraNode.bandwidth, 6e9);
  EXPECT_EQ(spec.nodes[0].interNode.latency, 1e-6);
  EXPECT_EQ(spec.sites.front(), "localhost");
}

} // namespace
