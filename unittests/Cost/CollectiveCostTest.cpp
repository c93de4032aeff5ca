//===- CollectiveCostTest.cpp - unit tests of collective costs ------------===//
//
// Alpha-beta collective times on presets and on the two-site example
// cluster, against numbers computed by hand.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/CollectiveCost.h"

#include "ErrorHelpers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Sequence.h"

#include <gtest/gtest.h>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

ClusterSpec getPreset(llvm::StringRef name, unsigned devices) {
  auto spec = getClusterPreset(name, devices);
  EXPECT_EQ(succeeded(spec), "");
  return spec ? std::move(*spec) : ClusterSpec();
}

llvm::SmallVector<unsigned> firstRanks(unsigned n) {
  return llvm::to_vector(llvm::seq<unsigned>(0, n));
}

TEST(CostCollectiveTest, BusBandwidthFactors) {
  EXPECT_DOUBLE_EQ(getBusBandwidthFactor(CollectiveKind::AllReduce, 8), 1.75);
  EXPECT_DOUBLE_EQ(getBusBandwidthFactor(CollectiveKind::AllGather, 8), 0.875);
  EXPECT_DOUBLE_EQ(getBusBandwidthFactor(CollectiveKind::ReduceScatter, 4),
                   0.75);
  EXPECT_DOUBLE_EQ(getBusBandwidthFactor(CollectiveKind::AllToAll, 2), 0.5);
  EXPECT_DOUBLE_EQ(getBusBandwidthFactor(CollectiveKind::Broadcast, 8), 1.0);
  EXPECT_DOUBLE_EQ(getBusBandwidthFactor(CollectiveKind::AllReduce, 1), 0.0);
}

TEST(CostCollectiveTest, RingAllReduceOneGiBOnEightA100) {
  ClusterSpec dgx = getPreset("dgx-a100-80g", 8);
  // 2(n-1) = 14 steps of 2 us, plus 2*7/8 * 2^30 B / 300e9 B/s:
  // 28e-6 + 1879048192 / 3e11 = 28e-6 + 0.00626349397333 = 0.00629149397333.
  double time =
      getCollectiveTime(dgx, CollectiveKind::AllReduce,
                        CollectiveAlgorithm::Ring, kGiB, firstRanks(8));
  EXPECT_NEAR(time, 0.00629149397333, 1e-12);
  // One rank moves nothing.
  EXPECT_EQ(getCollectiveTime(dgx, CollectiveKind::AllReduce,
                              CollectiveAlgorithm::Ring, kGiB, {3}),
            0.0);
}

TEST(CostCollectiveTest, HierarchicalAllReduceAcrossTwoNodes) {
  ClusterSpec dgx = getPreset("dgx-a100-80g", 16);
  ASSERT_EQ(dgx.nodes.size(), 2u);
  // Inside each node: reduce-scatter then all-gather of 1 GiB over 8 GPUs,
  //   each 7 * 2e-6 + 7/8 * 2^30 / 300e9 = 14e-6 + 0.00313174698667
  //   = 0.00314574698667, twice: 0.00629149397333.
  // Across nodes: ring all-reduce of 2^30/8 = 134217728 B over 2 nodes on
  //   25 GB/s InfiniBand: 2 * 5e-6 + 2*(1/2) * 134217728 / 25e9
  //   = 10e-6 + 0.00536870912 = 0.00537870912.
  // Total 0.01167020309333.
  double time =
      getCollectiveTime(dgx, CollectiveKind::AllReduce,
                        CollectiveAlgorithm::Ring, kGiB, firstRanks(16));
  EXPECT_NEAR(time, 0.01167020309333, 1e-12);

  // Two ranks on different nodes (0 and 8) go over InfiniBand only:
  // 2 * 5e-6 + 1 * 2^30 / 25e9 = 10e-6 + 0.04294967296 = 0.04295967296.
  double crossNode = getCollectiveTime(dgx, CollectiveKind::AllReduce,
                                       CollectiveAlgorithm::Ring, kGiB, {0, 8});
  EXPECT_NEAR(crossNode, 0.04295967296, 1e-12);
}

TEST(CostCollectiveTest, TreeAndBroadcastAndSendRecv) {
  ClusterSpec dgx = getPreset("dgx-h100", 16);
  // Tree all-reduce on 8 H100: 2 * log2(8) = 6 steps of 2 us, plus
  // 2 * 1e9 / 450e9 = 0.00444444444444; total 0.00445644444444.
  EXPECT_NEAR(getCollectiveTime(dgx, CollectiveKind::AllReduce,
                                CollectiveAlgorithm::Tree, 1e9, firstRanks(8)),
              0.00445644444444, 1e-12);
  // Send/recv between nodes on NDR: 5e-6 + 1e9 / 50e9 = 0.020005.
  EXPECT_NEAR(getCollectiveTime(dgx, CollectiveKind::SendRecv,
                                CollectiveAlgorithm::Ring, 1e9, {7, 8}),
              0.020005, 1e-12);
  // Ring all-gather of a 1e9 B output on 4 GPUs of one node:
  // 3 * 2e-6 + 3/4 * 1e9 / 450e9 = 6e-6 + 0.00166666666667.
  EXPECT_NEAR(getCollectiveTime(dgx, CollectiveKind::AllGather,
                                CollectiveAlgorithm::Ring, 1e9, firstRanks(4)),
              0.00167266666667, 1e-12);
}

TEST(CostCollectiveTest, SlowestLinkDecidesAcrossSites) {
  auto spec = parseClusterFile(DISTOPT_COST_TEST_INPUTS "/two-site.yaml");
  ASSERT_EQ(succeeded(spec), "");
  // Rank 0 (east, A100) and rank 16 (west, V100): one device per site, so
  // the all-reduce runs on the WAN link alone: 2 steps of 20 ms plus
  // 2*(1/2) * 1e9 / 1.25e9 = 0.04 + 0.8 = 0.84 s.
  EXPECT_NEAR(getCollectiveTime(*spec, CollectiveKind::AllReduce,
                                CollectiveAlgorithm::Ring, 1e9, {0, 16}),
              0.84, 1e-12);
  // A group spanning both sites is much slower than the same-size group in
  // one site, and slower than its WAN part alone.
  llvm::SmallVector<unsigned> bothSites = {0, 1, 16, 17};
  double wide = getCollectiveTime(*spec, CollectiveKind::AllReduce,
                                  CollectiveAlgorithm::Ring, 1e9, bothSites);
  double local =
      getCollectiveTime(*spec, CollectiveKind::AllReduce,
                        CollectiveAlgorithm::Ring, 1e9, firstRanks(4));
  // Inside nodes: 2 * (1 * 2e-6 + 1/2 * 1e9 / 150e9) (V100 NVLink is the
  // slower) = 0.00667066666667; across sites: all-reduce of 5e8 B by 2
  // sites with 2 devices sharing the WAN link:
  // 2 * 0.02 + 1 * 5e8 * 2 / 1.25e9 = 0.84. Total 0.84667066666667.
  EXPECT_NEAR(wide, 0.84667066666667, 1e-12);
  EXPECT_LT(local * 100, wide);
}

} // namespace
