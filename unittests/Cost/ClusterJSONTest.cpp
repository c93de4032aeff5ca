//===- ClusterJSONTest.cpp - unit tests of JSON cluster files and profiles
//-===//
//
// JSON cluster files (the YAML format's keys and messages, strict JSON
// syntax), the efficiency keys of device types and links in both formats,
// and how the `cpu` preset finds its calibration profile.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/CollectiveCost.h"

#include "ErrorHelpers.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

/// A small valid JSON cluster; tests break one line of it.
const char *const kSmallJSON = R"({
  "name": "json-example",
  "device_types": [
    {"name": "A100", "peak_tflops": 312, "memory_gib": 80,
     "memory_bandwidth": 2039, "gemm_efficiency": 0.6,
     "gemm_half_gflop": 2.5, "memory_efficiency": 0.75,
     "vector_tflops": 19.5, "op_overhead_us": 4,
     "bandwidth_curve": [[1, 900], [100, 1500]]}
  ],
  "sites": [
    {"name": "here", "nodes": [
      {"device": "A100", "count": 2, "devices_per_node": 8,
       "intra_node": {"bandwidth": 300, "latency": 2},
       "inter_node": {"bandwidth": 25, "latency": 5,
                      "reduce_scatter_efficiency": 0.5}}
    ]}
  ]
}
)";

TEST(CostClusterJSONTest, ParsesEveryKey) {
  auto spec = parseClusterJSON(kSmallJSON, "c.json");
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->name, "json-example");
  EXPECT_EQ(spec->getNumDevices(), 16u);
  EXPECT_EQ(spec->nodes[1].name, "here-node1");
  const DeviceType &d = spec->deviceTypes[0];
  EXPECT_DOUBLE_EQ(d.peakFlops, 312e12);
  EXPECT_DOUBLE_EQ(d.memoryBandwidth, 2039e9);
  EXPECT_DOUBLE_EQ(d.efficiency.gemmEfficiency, 0.6);
  EXPECT_DOUBLE_EQ(d.efficiency.gemmHalfFlops, 2.5e9);
  EXPECT_DOUBLE_EQ(d.efficiency.memoryEfficiency, 0.75);
  EXPECT_DOUBLE_EQ(d.efficiency.vectorFlops, 19.5e12);
  EXPECT_DOUBLE_EQ(d.efficiency.opOverhead, 4e-6);
  ASSERT_EQ(d.efficiency.bandwidthCurve.size(), 2u);
  EXPECT_DOUBLE_EQ(d.efficiency.bandwidthCurve[1].bytes, 100e6);
  EXPECT_DOUBLE_EQ(d.efficiency.bandwidthCurve[1].bandwidth, 1500e9);
  const LinkSpec &ib = spec->nodes[0].interNode;
  EXPECT_DOUBLE_EQ(ib.bandwidth, 25e9);
  EXPECT_DOUBLE_EQ(ib.latency, 5e-6);
  EXPECT_DOUBLE_EQ(ib.reduceScatterEfficiency, 0.5);
  EXPECT_DOUBLE_EQ(ib.allGatherEfficiency, 1);
  EXPECT_TRUE(ib.bandwidthCurve.empty());
}

TEST(CostClusterJSONTest, AbsentEfficiencyKeysKeepTheDefaults) {
  std::string text = kSmallJSON;
  size_t from = text.find(", \"gemm_efficiency\"");
  size_t to = text.find("}", from);
  text.erase(from, to - from);
  auto spec = parseClusterJSON(text, "c.json");
  ASSERT_EQ(succeeded(spec), "");
  ComputeEfficiency defaults;
  const ComputeEfficiency &eff = spec->deviceTypes[0].efficiency;
  EXPECT_EQ(eff.gemmEfficiency, defaults.gemmEfficiency);
  EXPECT_EQ(eff.opOverhead, defaults.opOverhead);
  EXPECT_TRUE(eff.bandwidthCurve.empty());
}

TEST(CostClusterJSONTest, TypoNamesKeyPositionAndSuggestion) {
  std::string text = kSmallJSON;
  text.replace(text.find("\"peak_tflops\""), 13, "\"peak_tflop\"");
  // Line 4, column 22: the quoted key.
  EXPECT_EQ(getErrorMessage(parseClusterJSON(text, "c.json")),
            "c.json:4:22: unknown key 'peak_tflop' in device type (did you "
            "mean 'peak_tflops'?)");
}

TEST(CostClusterJSONTest, MissingKeyNamesTheMapThatLacksIt) {
  std::string text = kSmallJSON;
  text.replace(text.find("\"devices_per_node\": 8,"), 22, "");
  // The node's map opens at line 12, column 7.
  EXPECT_EQ(getErrorMessage(parseClusterJSON(text, "c.json")),
            "c.json:12:7: missing required key 'devices_per_node' in node");
}

TEST(CostClusterJSONTest, WrongValuesAreReportedWhereTheyAre) {
  std::string text = kSmallJSON;
  text.replace(text.find("\"gemm_efficiency\": 0.6"), 22,
               "\"gemm_efficiency\": \"x\"");
  EXPECT_EQ(getErrorMessage(parseClusterJSON(text, "c.json")),
            "c.json:5:51: 'gemm_efficiency' must be a number, not a string");
  text = kSmallJSON;
  text.replace(text.find("[[1, 900], [100, 1500]]"), 23,
               "[[100, 900], [1, 1]]");
  EXPECT_EQ(getErrorMessage(parseClusterJSON(text, "c.json")),
            "c.json:8:38: 'bandwidth_curve' must ascend in MB");
}

TEST(CostClusterJSONTest, SyntaxErrorsHaveLineAndColumn) {
  std::string text = kSmallJSON;
  // A trailing comma after the last key of the top-level object.
  text.replace(text.rfind("]\n}"), 3, "],\n}");
  std::string message = getErrorMessage(parseClusterJSON(text, "c.json"));
  EXPECT_EQ(message.rfind("c.json:18:1: syntax error while parsing object "
                          "key",
                          0),
            0u)
      << message;
  // YAML that is not JSON is refused in a JSON file.
  message = getErrorMessage(
      parseClusterJSON("# a comment\n{\"sites\": []}\n", "c.json"));
  EXPECT_EQ(message.rfind("c.json:1:1: syntax error", 0), 0u) << message;
  EXPECT_EQ(
      getErrorMessage(parseClusterJSON("", "c.json")).rfind("c.json:1:1: ", 0),
      0u);
}

TEST(CostClusterJSONTest, DuplicateKeyIsAnError) {
  std::string text = kSmallJSON;
  text.replace(text.find("\"name\": \"json-example\","), 23,
               "\"name\": \"a\", \"name\": \"b\",");
  EXPECT_EQ(getErrorMessage(parseClusterJSON(text, "c.json")),
            "c.json:2:16: duplicate key 'name'");
}

TEST(CostClusterJSONTest, TabsAndCompactJSONReadLikeYAML) {
  const char *compact =
      "{\"device_types\":[{\"name\":\"c\",\"peak_tflops\":1,\"memory_gib\":"
      "1,\"memory_bandwidth\":10}],\"sites\":[{\"name\":\"s\",\"nodes\":[{"
      "\"device\":\"c\",\"devices_per_node\":2,\"intra_node\":{\"bandwidth\":"
      "5,\"latency\":1},\"inter_node\":{\"bandwidth\":5,\"latency\":1}}]}]}";
  auto spec = parseClusterJSON(compact, "c.json");
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->getNumDevices(), 2u);
  std::string tabbed = kSmallJSON;
  for (size_t at = tabbed.find("\n  "); at != std::string::npos;
       at = tabbed.find("\n  ", at + 1))
    tabbed.replace(at + 1, 2, "\t");
  auto tabs = parseClusterJSON(tabbed, "c.json");
  EXPECT_EQ(succeeded(tabs), "");
}

TEST(CostClusterJSONTest, FilesAreReadByTheirSuffix) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("cluster", "json", path));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << kSmallJSON;
  }
  auto spec = getClusterSpec(path, 8);
  EXPECT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->getNumDevices(), 8u);
  llvm::sys::fs::remove(path);
}

TEST(CostClusterJSONTest, LinkCurveAndEfficienciesReachTheCollectiveCost) {
  std::string text = kSmallJSON;
  text.replace(
      text.find("\"intra_node\": {\"bandwidth\": 300, \"latency\": 2}"), 46,
      "\"intra_node\": {\"bandwidth\": 300, \"latency\": 0, "
      "\"all_gather_efficiency\": 0.5, \"bandwidth_curve\": [[1, 100], "
      "[100, 200]]}");
  auto spec = parseClusterJSON(text, "c.json");
  ASSERT_EQ(succeeded(spec), "");
  const LinkSpec &link = spec->nodes[0].intraNode;
  EXPECT_DOUBLE_EQ(link.getBandwidth(1e3), 100e9);
  EXPECT_DOUBLE_EQ(link.getBandwidth(1e9), 200e9);
  // Two ranks, 1 GB: all-reduce moves 1 GB at 200 GB/s, all-gather half of
  // it at half the bandwidth.
  double allReduce = getCollectiveTime(*spec, CollectiveKind::AllReduce,
                                       CollectiveAlgorithm::Ring, 1e9, {0, 1});
  double allGather = getCollectiveTime(*spec, CollectiveKind::AllGather,
                                       CollectiveAlgorithm::Ring, 1e9, {0, 1});
  EXPECT_DOUBLE_EQ(allReduce, 1e9 / 200e9);
  EXPECT_DOUBLE_EQ(allGather, 0.5e9 / 100e9);

  // A measured curve of its own replaces the efficiency.
  text.replace(text.find("\"bandwidth_curve\": [[1, 100]"), 0,
               "\"all_gather_curve\": [[1, 10], [1000, 20]], ");
  auto curves = parseClusterJSON(text, "c.json");
  ASSERT_EQ(succeeded(curves), "");
  ASSERT_EQ(curves->nodes[0].intraNode.allGatherCurve.size(), 2u);
  allGather = getCollectiveTime(*curves, CollectiveKind::AllGather,
                                CollectiveAlgorithm::Ring, 1e9, {0, 1});
  EXPECT_DOUBLE_EQ(allGather, 0.5e9 / 20e9);
  // Its points are checked like the others.
  text.replace(text.find("[1000, 20]"), 10, "[1000, -2]");
  EXPECT_EQ(
      getErrorMessage(parseClusterJSON(text, "c.json")),
      "c.json:13:115: each point of 'all_gather_curve' must be [MB, GB/s], "
      "two positive numbers");
}

//===----------------------------------------------------------------------===//
// The cpu preset's profile
//===----------------------------------------------------------------------===//

/// Sets DISTOPT_CPU_PROFILE for the life of the object.
class ScopedProfile {
public:
  explicit ScopedProfile(const std::string &path) {
    setenv("DISTOPT_CPU_PROFILE", path.c_str(), 1);
  }
  ~ScopedProfile() { unsetenv("DISTOPT_CPU_PROFILE"); }
};

const char *const kProfile = R"(name: test-profile
device_types:
  - name: cpu-rank
    peak_tflops: 0.1
    memory_gib: 16
    memory_bandwidth: 12
    gemm_efficiency: 1
    vector_tflops: 0.005
sites:
  - name: localhost
    nodes:
      - device: cpu-rank
        devices_per_node: 2
        intra_node: &shm {bandwidth: 6, latency: 1, bandwidth_curve: [[1, 4], [64, 2]]}
        inter_node: *shm
)";

TEST(CostCpuProfileTest, BuiltInProfileParses) {
  // Whatever the environment says, the built-in profile is read.
  ScopedProfile none("");
  llvm::StringRef text = getBuiltinCpuProfile();
  ASSERT_FALSE(text.empty()) << "lib/Cost/profiles/cpu.yaml is empty";
  auto spec = parseClusterYAML(text, "cpu.yaml");
  ASSERT_EQ(succeeded(spec), "");
  auto cpu = getClusterSpec("cpu", 2);
  ASSERT_EQ(succeeded(cpu), "");
  EXPECT_FALSE(cpu->usesDefaultFigures);
  EXPECT_EQ(cpu->getDeviceType(0).peakFlops, spec->deviceTypes[0].peakFlops);
  EXPECT_FALSE(cpu->getDeviceType(0).efficiency.bandwidthCurve.empty());
}

TEST(CostCpuProfileTest, EnvironmentVariableNamesTheProfile) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("profile", "yaml", path));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << kProfile;
  }
  ScopedProfile scoped(path.str().str());
  auto cpu = getClusterSpec("cpu", 2);
  ASSERT_EQ(succeeded(cpu), "");
  EXPECT_FALSE(cpu->usesDefaultFigures);
  EXPECT_EQ(cpu->name, "cpu");
  EXPECT_EQ(cpu->getNumDevices(), 2u);
  const DeviceType &device = cpu->getDeviceType(0);
  EXPECT_DOUBLE_EQ(device.peakFlops, 0.1e12);
  EXPECT_DOUBLE_EQ(device.efficiency.vectorFlops, 0.005e12);
  // The memory of a rank is this machine's, shared by the ranks, not the
  // profile's 16 GiB.
  EXPECT_NE(device.memoryBytes, uint64_t(16) << 30);

  // More ranks than cores share them: the link slows down in proportion.
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  auto crowded = getClusterSpec("cpu", 4 * cores);
  ASSERT_EQ(succeeded(crowded), "");
  const LinkSpec &link = crowded->nodes[0].intraNode;
  EXPECT_DOUBLE_EQ(link.bandwidth, 6e9 / 4);
  EXPECT_DOUBLE_EQ(link.latency, 4e-6);
  EXPECT_DOUBLE_EQ(link.getBandwidth(1e9), 2e9 / 4);
  EXPECT_DOUBLE_EQ(crowded->nodes[0].interNode.bandwidth, 6e9 / 4);
  llvm::sys::fs::remove(path);
}

TEST(CostCpuProfileTest, ABrokenProfileIsAnError) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("profile", "yaml", path));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << "device_types: []\n";
  }
  ScopedProfile scoped(path.str().str());
  std::string message = getErrorMessage(getClusterSpec("cpu", 2));
  EXPECT_EQ(message, "DISTOPT_CPU_PROFILE: " + path.str().str() +
                         ":1:1: missing required key 'sites' in cluster");
  llvm::sys::fs::remove(path);
  ScopedProfile missing("/nonexistent/profile.yaml");
  EXPECT_EQ(getErrorMessage(getClusterSpec("cpu", 2))
                .rfind("DISTOPT_CPU_PROFILE: cannot read cluster file "
                       "'/nonexistent/profile.yaml'",
                       0),
            0u);
}

} // namespace
