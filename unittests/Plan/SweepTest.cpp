//===- SweepTest.cpp - unit tests of the device count search --------------===//
//
// The parts of lib/Plan/Sweep.cpp that need no model: the device count
// text, the candidate counts of a cluster, and the choice among planned
// counts (the 1% rule). test/Plan/sweep.test plans real models.
//
//===----------------------------------------------------------------------===//

#include "distopt/Plan/Sweep.h"

#include "llvm/ADT/StringExtras.h"

#include <gtest/gtest.h>

using namespace distopt::plan;

namespace {

const char *const kTwoSite = DISTOPT_COST_TEST_INPUTS "/two-site.yaml";

/// The counts `text` names on `cluster`, "1,2,4", or the error message.
std::string getCounts(llvm::StringRef cluster, llvm::StringRef text) {
  llvm::Expected<DeviceCountSpec> spec = parseDeviceCountSpec(text);
  if (!spec)
    return llvm::toString(spec.takeError());
  auto counts = getCandidateDeviceCounts(cluster, *spec);
  if (!counts)
    return llvm::toString(counts.takeError());
  return llvm::join(
      llvm::map_range(*counts, [](unsigned n) { return std::to_string(n); }),
      ",");
}

TEST(PlanSweepTest, DeviceCountText) {
  auto automatic = parseDeviceCountSpec("auto");
  ASSERT_TRUE(bool(automatic));
  EXPECT_TRUE(automatic->automatic);
  EXPECT_EQ(automatic->min, 1u);
  EXPECT_EQ(automatic->max, 0u);
  auto range = parseDeviceCountSpec("auto:2-16");
  ASSERT_TRUE(bool(range));
  EXPECT_EQ(range->min, 2u);
  EXPECT_EQ(range->max, 16u);
  auto list = parseDeviceCountSpec("8,2");
  ASSERT_TRUE(bool(list));
  EXPECT_FALSE(list->automatic);
  EXPECT_EQ(list->counts, (llvm::SmallVector<unsigned>{8, 2}));
  for (llvm::StringRef bad : {"0", "-1", "", "2,,4", "two", "1048577"}) {
    auto spec = parseDeviceCountSpec(bad);
    ASSERT_FALSE(bool(spec)) << bad.str();
    EXPECT_EQ(llvm::toString(spec.takeError()),
              "'" + bad.str() +
                  "' is not a device count: expected a count from 1 to "
                  "1048576, a list N,N,..., auto or auto:MIN-MAX");
  }
  EXPECT_EQ(getCounts(kTwoSite, "auto:8-2"),
            "'auto:8-2' is not a device count: the least count is above the "
            "most");
  EXPECT_EQ(getCounts(kTwoSite, "auto:1"),
            "'auto:1' is not a device count: expected auto:MIN-MAX, two "
            "counts from 1 to 1048576");
}

TEST(PlanSweepTest, CandidateCountsOfAClusterFile) {
  // 20 devices: two nodes of 8 A100, one of 4 V100. Powers of two,
  // multiples of 8 (the first node's devices) and 20 itself.
  EXPECT_EQ(getCounts(kTwoSite, "auto"), "1,2,4,8,16,20");
  EXPECT_EQ(getCounts(kTwoSite, "auto:3-12"), "4,8");
  EXPECT_EQ(getCounts(kTwoSite, "auto:9-15"),
            "cluster '" + std::string(kTwoSite) +
                "' has 20 devices: no device count from 9 to 15 to try");
  // A list is sorted, without repeats; a count beyond the file stays (its
  // row says why it has no plan).
  EXPECT_EQ(getCounts(kTwoSite, "8,2,8,32"), "2,8,32");
}

TEST(PlanSweepTest, CandidateCountsOfPresets) {
  // A preset has no device count of its own.
  EXPECT_EQ(getCounts("dgx-h100", "auto"),
            "the cluster preset 'dgx-h100' has no device count of its own: "
            "give the most devices to try (auto:MIN-MAX)");
  EXPECT_EQ(getCounts("dgx-h100", "auto:1-40"), "1,2,4,8,16,24,32,40");
  EXPECT_EQ(getCounts("dgx-h100", "auto:1-12"), "1,2,4,8,12");
  // The cpu preset is one node: powers of two and its own count.
  EXPECT_EQ(getCounts("cpu", "auto:1-6"), "1,2,4,6");
  EXPECT_EQ(getCounts("dgx-h10", "auto:1-8"),
            "'dgx-h10' is neither a cluster preset nor a file (did you mean "
            "'dgx-h100'?); presets are dgx-a100-80g, dgx-a100-40g, dgx-h100, "
            "cpu");
}

/// Rows of one cluster with these step times (0: no plan).
std::vector<SweepRow>
makeRows(llvm::ArrayRef<std::pair<unsigned, double>> points) {
  std::vector<SweepRow> rows;
  for (auto [devices, seconds] : points) {
    SweepRow row;
    row.devices = devices;
    row.stepSeconds = seconds;
    if (seconds == 0)
      row.error = "no plan fits in memory";
    rows.push_back(row);
  }
  return rows;
}

TEST(PlanSweepTest, FewerDevicesWithinOnePercentWin) {
  // 2 devices are within 1% of the fastest (4): they are chosen.
  EXPECT_EQ(chooseDeviceCount(makeRows({{1, 10}, {2, 5.04}, {4, 5}, {8, 6}})),
            std::optional<unsigned>(1));
  // Beyond 1%, the fastest.
  EXPECT_EQ(chooseDeviceCount(makeRows({{1, 10}, {2, 5.06}, {4, 5}, {8, 6}})),
            std::optional<unsigned>(2));
  // More devices slower: the fewer win outright.
  EXPECT_EQ(chooseDeviceCount(makeRows({{1, 3}, {2, 2}, {4, 2.5}, {8, 4}})),
            std::optional<unsigned>(1));
  // Counts without a plan are skipped, even the smallest.
  EXPECT_EQ(chooseDeviceCount(makeRows({{1, 0}, {2, 0}, {4, 7}, {8, 7.01}})),
            std::optional<unsigned>(2));
  EXPECT_EQ(chooseDeviceCount(makeRows({{1, 0}, {2, 0}})), std::nullopt);
}

} // namespace
