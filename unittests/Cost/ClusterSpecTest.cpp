//===- ClusterSpecTest.cpp - unit tests of presets and cluster files ------===//
//
// Presets and their figures, the two-site example file, the messages for
// typos, missing keys and too many devices, and devices that share cores.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/OpCost.h"

#include "ErrorHelpers.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <thread>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
const char *const kExample = DISTOPT_COST_TEST_INPUTS "/two-site.yaml";

TEST(CostClusterSpecTest, DgxPresetsFillNodesInOrder) {
  auto h100 = getClusterSpec("dgx-h100", 20);
  ASSERT_EQ(succeeded(h100), "");
  // 20 devices: nodes of 8, 8 and 4.
  ASSERT_EQ(h100->nodes.size(), 3u);
  EXPECT_EQ(h100->nodes[2].numDevices, 4u);
  EXPECT_EQ(h100->getNumDevices(), 20u);
  EXPECT_EQ(h100->getLocation(17).node, 2u);
  EXPECT_EQ(h100->getLocation(17).localIndex, 1u);
  EXPECT_DOUBLE_EQ(h100->getDeviceType(0).peakFlops, 989e12);
  EXPECT_DOUBLE_EQ(h100->nodes[0].intraNode.bandwidth, 450e9);
  EXPECT_DOUBLE_EQ(h100->nodes[0].interNode.bandwidth, 50e9);
  EXPECT_FALSE(h100->usesDefaultFigures);

  auto a100 = getClusterSpec("dgx-a100-40g", 8);
  ASSERT_EQ(succeeded(a100), "");
  EXPECT_EQ(a100->getDeviceMemory(0), uint64_t(40 * kGiB));
  EXPECT_DOUBLE_EQ(a100->getDeviceType(0).memoryBandwidth, 1555e9);
  EXPECT_DOUBLE_EQ(a100->nodes[0].intraNode.bandwidth, 300e9);
  EXPECT_DOUBLE_EQ(a100->nodes[0].interNode.bandwidth, 25e9);

  // The cpu preset's figures come from its calibration profile
  // (lib/Cost/profiles/cpu.yaml; ClusterJSONTest.cpp tests the profile).
  auto cpu = getClusterSpec("cpu", 4);
  ASSERT_EQ(succeeded(cpu), "");
  EXPECT_FALSE(cpu->usesDefaultFigures);
  EXPECT_EQ(cpu->getNumDevices(), 4u);
}

TEST(CostClusterSpecTest, RankLocatorFindsEveryRanksNode) {
  // Nodes of 3, 0, 5 and 1 devices on two sites, the second with a lower
  // memory limit: every rank's node, local index, type, memory and the
  // ranks left in its node agree with a walk over the nodes.
  auto spec = getClusterSpec("dgx-h100", 8);
  ASSERT_EQ(succeeded(spec), "");
  DeviceType slow = spec->deviceTypes[0];
  slow.peakFlops /= 2;
  spec->deviceTypes.push_back(slow);
  NodeSpec base = spec->nodes[0];
  spec->nodes.clear();
  unsigned counts[] = {3, 0, 5, 1};
  for (auto [i, count] : llvm::enumerate(counts)) {
    NodeSpec node = base;
    node.numDevices = count;
    node.deviceType = i % 2;
    node.site = i / 2;
    if (i == 2)
      node.memoryLimitBytes = uint64_t(kGiB);
    spec->nodes.push_back(node);
  }
  RankLocator locator(*spec);
  unsigned rank = 0;
  for (auto [n, node] : llvm::enumerate(spec->nodes))
    for (unsigned local = 0; local < node.numDevices; ++local, ++rank) {
      DeviceLocation where = locator.getLocation(rank);
      EXPECT_EQ(where.node, n) << "rank " << rank;
      EXPECT_EQ(where.site, node.site) << "rank " << rank;
      EXPECT_EQ(where.localIndex, local) << "rank " << rank;
      EXPECT_EQ(locator.getRanksLeftInNode(rank), node.numDevices - local);
      EXPECT_EQ(&locator.getDeviceType(rank),
                &spec->deviceTypes[node.deviceType]);
      EXPECT_EQ(spec->getDeviceMemory(rank),
                n == 2 ? uint64_t(kGiB) : spec->deviceTypes[0].memoryBytes);
      EXPECT_EQ(spec->getLocation(rank).node, n);
    }
  EXPECT_EQ(rank, 9u);
}

TEST(CostClusterSpecTest, UnknownPresetOrFile) {
  EXPECT_EQ(getErrorMessage(getClusterPreset("dgx-a100", 8)),
            "unknown cluster preset 'dgx-a100' (known: "
            "dgx-a100-80g, dgx-a100-40g, dgx-h100, cpu)");
  EXPECT_NE(getErrorMessage(getClusterSpec("/nonexistent/cluster.yaml", 8)),
            "<success>");
}

TEST(CostClusterSpecTest, ExampleTwoSiteFile) {
  auto spec = parseClusterFile(kExample);
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->name, "two-site-example");
  ASSERT_EQ(spec->deviceTypes.size(), 2u);
  ASSERT_EQ(spec->sites.size(), 2u);
  EXPECT_EQ(spec->sites[1], "west");
  // count: 2 expands into dgx0 and dgx1.
  ASSERT_EQ(spec->nodes.size(), 3u);
  EXPECT_EQ(spec->nodes[0].name, "dgx0");
  EXPECT_EQ(spec->nodes[1].name, "dgx1");
  EXPECT_EQ(spec->nodes[2].name, "v100");
  EXPECT_EQ(spec->getNumDevices(), 20u);
  // Rank 17 is the second V100 at the west site.
  DeviceLocation loc = spec->getLocation(17);
  EXPECT_EQ(loc.node, 2u);
  EXPECT_EQ(loc.site, 1u);
  EXPECT_EQ(loc.localIndex, 1u);
  EXPECT_EQ(spec->getDeviceType(17).name, "V100-32GB");
  EXPECT_DOUBLE_EQ(spec->getDeviceType(17).peakFlops, 125e12);
  // The 30 GiB limit applies on the V100 node only.
  EXPECT_EQ(spec->getDeviceMemory(17), uint64_t(30 * kGiB));
  EXPECT_EQ(spec->getDeviceMemory(0), uint64_t(80 * kGiB));
  EXPECT_DOUBLE_EQ(spec->nodes[2].interNode.bandwidth, 12.5e9);
  EXPECT_DOUBLE_EQ(spec->nodes[0].intraNode.latency, 2e-6);
  const LinkSpec *wan = spec->getWanLink(1, 0);
  ASSERT_NE(wan, nullptr);
  EXPECT_DOUBLE_EQ(wan->bandwidth, 1.25e9);
  EXPECT_DOUBLE_EQ(wan->latency, 0.02);
}

TEST(CostClusterSpecTest, DocumentedExampleIsTheTestInput) {
  // docs/cluster.md shows the example file; keep the two identical.
  auto doc = llvm::MemoryBuffer::getFile(DISTOPT_COST_TEST_INPUTS
                                         "/../../../docs/cluster.md");
  auto input = llvm::MemoryBuffer::getFile(kExample);
  ASSERT_TRUE(doc && input);
  llvm::StringRef text = (*doc)->getBuffer();
  size_t begin = text.find("```yaml\n");
  ASSERT_NE(begin, llvm::StringRef::npos);
  begin += 8;
  size_t end = text.find("```", begin);
  ASSERT_NE(end, llvm::StringRef::npos);
  EXPECT_EQ(text.slice(begin, end).str(), (*input)->getBuffer().str());
}

TEST(CostClusterSpecTest, FileDevicesFillNodesInOrder) {
  auto ten = getClusterSpec(kExample, 10);
  ASSERT_EQ(succeeded(ten), "");
  ASSERT_EQ(ten->nodes.size(), 2u);
  EXPECT_EQ(ten->nodes[1].numDevices, 2u);
  EXPECT_EQ(getErrorMessage(getClusterSpec(kExample, 21)),
            "cluster 'two-site-example' describes 20 "
            "devices, but 21 were requested");
}

/// A small valid file; tests break one line of it.
const char *const kSmall = R"(device_types:
  - name: A100
    peak_tflops: 312
    memory_gib: 80
    memory_bandwidth: 2039
sites:
  - name: here
    nodes:
      - device: A100
        devices_per_node: 8
        intra_node:
          bandwidth: 300
          latency: 2
        inter_node: {bandwidth: 25, latency: 5}
)";

TEST(CostClusterSpecTest, TypoNamesKeyPositionAndSuggestion) {
  EXPECT_EQ(getErrorMessage(parseClusterYAML(kSmall, "cluster.yaml")),
            "<success>");
  std::string typo = kSmall;
  typo.replace(typo.find("bandwidth: 300"), 9, "bandwith");
  // Line 12, column 11: the key under intra_node.
  EXPECT_EQ(getErrorMessage(parseClusterYAML(typo, "cluster.yaml")),
            "cluster.yaml:12:11: unknown key 'bandwith' in "
            "link (did you mean 'bandwidth'?)");
  // A key far from every allowed one gets no suggestion.
  std::string unrelated = kSmall;
  unrelated.replace(unrelated.find("memory_gib"), 10, "colour");
  EXPECT_EQ(getErrorMessage(parseClusterYAML(unrelated, "cluster.yaml")),
            "cluster.yaml:4:5: unknown key 'colour' in device type");
}

TEST(CostClusterSpecTest, MissingAndMalformedFields) {
  std::string missing = kSmall;
  missing.erase(missing.find("        devices_per_node: 8\n"), 28);
  // The message points at the node's map (line 9, column 9).
  EXPECT_EQ(getErrorMessage(parseClusterYAML(missing, "cluster.yaml")),
            "cluster.yaml:9:9: missing required key "
            "'devices_per_node' in node");
  std::string notNumber = kSmall;
  notNumber.replace(notNumber.find("312"), 3, "fast");
  EXPECT_EQ(getErrorMessage(parseClusterYAML(notNumber, "cluster.yaml")),
            "cluster.yaml:3:18: 'peak_tflops' must be a "
            "number");
  std::string unknownDevice = kSmall;
  unknownDevice.replace(unknownDevice.find("device: A100"), 12, "device: H100");
  EXPECT_EQ(getErrorMessage(parseClusterYAML(unknownDevice, "cluster.yaml")),
            "cluster.yaml:9:17: unknown device type 'H100'");
  // Two sites with no WAN link between them.
  std::string twoSites = std::string(kSmall) + R"(  - name: there
    nodes:
      - device: A100
        devices_per_node: 4
        intra_node: {bandwidth: 300, latency: 2}
        inter_node: {bandwidth: 25, latency: 5}
)";
  EXPECT_EQ(getErrorMessage(parseClusterYAML(twoSites, "cluster.yaml")),
            "cluster.yaml:1:1: no entry in 'wan_links' joins "
            "sites 'here' and 'there'");
  EXPECT_NE(getErrorMessage(parseClusterYAML("sites: [", "cluster.yaml")),
            "<success>");
}

/// Four CPU ranks on a node of two cores, and a second group of nodes of
/// the same device type with a core per rank.
const char *const kSharedCores = R"(device_types:
  - name: cpu-rank
    peak_tflops: 0.1
    memory_gib: 4
    memory_bandwidth: 20
    vector_tflops: 0.01
    op_overhead_us: 1
    bandwidth_curve: [[1, 100], [100, 10]]
sites:
  - name: here
    nodes:
      - name: small
        device: cpu-rank
        devices_per_node: 4
        cores: 2
        intra_node: {bandwidth: 6, latency: 1, bandwidth_curve: [[1, 8]]}
        inter_node: {bandwidth: 1, latency: 10}
)";

const char *const kSecondGroup = R"(      - name: roomy
        device: cpu-rank
        devices_per_node: 4
        cores: 8
        intra_node: {bandwidth: 6, latency: 1}
        inter_node: {bandwidth: 1, latency: 10}
)";

/// A GEMM, a memory-bound kernel and one bound by its arithmetic.
const OpWork kWorks[] = {{OpClass::Gemm, 1e9, 1e6},
                         {OpClass::Memory, 0, 3e7},
                         {OpClass::Memory, 1e8, 1e6}};

/// `kSmall` with `from` replaced by `to`, parsed; the error message.
static std::string breakSmall(llvm::StringRef from, llvm::StringRef to) {
  std::string text = kSmall;
  size_t at = text.find(from.str());
  EXPECT_NE(at, std::string::npos) << from.str();
  text.replace(at, from.size(), to.str());
  return getErrorMessage(parseClusterYAML(text, "cluster.yaml"));
}

TEST(CostClusterSpecTest, FiguresNoMachineHasAreErrors) {
  // Each of these was accepted and then made the planner's ILP solver
  // assert, or ran out of memory.
  EXPECT_EQ(breakSmall("peak_tflops: 312", "peak_tflops: 1e-308"),
            "cluster.yaml:3:18: 'peak_tflops' = 1e-308 is outside the "
            "plausible range [1e-06, 1e+09]");
  EXPECT_EQ(breakSmall("bandwidth: 300", "bandwidth: 1e-308"),
            "cluster.yaml:12:22: 'bandwidth' = 1e-308 is outside the "
            "plausible range [1e-06, 1e+09]");
  EXPECT_EQ(breakSmall("latency: 2", "latency: 1e308"),
            "cluster.yaml:13:20: 'latency' = 1e308 is outside the "
            "plausible range [1e-06, 1e+09]");
  EXPECT_EQ(breakSmall("latency: 2", "latency: .inf"),
            "cluster.yaml:13:20: 'latency' must be a number");
  EXPECT_EQ(breakSmall("memory_bandwidth: 2039",
                       "memory_bandwidth: 2039\n    gemm_efficiency: 1.5"),
            "cluster.yaml:6:22: 'gemm_efficiency' = 1.5 is outside the "
            "plausible range [1e-06, 1]");
  EXPECT_EQ(breakSmall("memory_bandwidth: 2039",
                       "memory_bandwidth: 2039\n    op_overhead_us: 1e308"),
            "cluster.yaml:6:21: 'op_overhead_us' = 1e308 is outside the "
            "plausible range [1e-06, 1e+09]");
  EXPECT_EQ(breakSmall("devices_per_node: 8",
                       "devices_per_node: 8\n        count: 100000000"),
            "cluster.yaml:11:16: 'count' = 100000000 is outside the "
            "plausible range [1, 1048576]");
  EXPECT_EQ(breakSmall("devices_per_node: 8",
                       "devices_per_node: 8\n        count: 524288"),
            "cluster.yaml:9:9: the cluster has 4194304 devices; at most "
            "1048576 are supported");
  EXPECT_EQ(getErrorMessage(getClusterSpec("cpu", (1u << 20) + 1)),
            "1048577 devices asked for; at most 1048576 are supported");
}

TEST(CostClusterSpecTest, PricePerHourIsReadAndChecked) {
  // Absent: no price, and a cluster of such devices has none.
  auto unpriced = parseClusterYAML(kSmall, "cluster.yaml");
  ASSERT_EQ(succeeded(unpriced), "");
  EXPECT_FALSE(unpriced->deviceTypes[0].pricePerHour.has_value());
  EXPECT_FALSE(unpriced->getPricePerHour().has_value());
  std::string priced = kSmall;
  priced.replace(priced.find("memory_gib: 80"), 14,
                 "memory_gib: 80\n    price_per_hour: 2.5");
  auto spec = parseClusterYAML(priced, "cluster.yaml");
  ASSERT_EQ(succeeded(spec), "");
  ASSERT_TRUE(spec->deviceTypes[0].pricePerHour.has_value());
  EXPECT_EQ(*spec->deviceTypes[0].pricePerHour, 2.5);
  // 8 devices of 2.5 USD an hour; 3 of them after takeDevices.
  EXPECT_EQ(spec->getPricePerHour(), std::optional<double>(20.0));
  auto three = takeDevices(*spec, 3);
  ASSERT_EQ(succeeded(three), "");
  EXPECT_EQ(three->getPricePerHour(), std::optional<double>(7.5));
  // Free devices (own hardware) are allowed.
  EXPECT_EQ(
      breakSmall("memory_gib: 80", "memory_gib: 80\n    price_per_hour: 0"),
      "<success>");
  // The checks of every figure.
  EXPECT_EQ(breakSmall("memory_gib: 80", "memory_gib: 80\n    price_per_hr: 2"),
            "cluster.yaml:5:5: unknown key 'price_per_hr' in device type "
            "(did you mean 'price_per_hour'?)");
  EXPECT_EQ(
      breakSmall("memory_gib: 80", "memory_gib: 80\n    price_per_hour: -1"),
      "cluster.yaml:5:21: 'price_per_hour' must be non-negative (got -1)");
  EXPECT_EQ(
      breakSmall("memory_gib: 80", "memory_gib: 80\n    price_per_hour: 1e6"),
      "cluster.yaml:5:21: 'price_per_hour' = 1e6 is outside the plausible "
      "range [1e-06, 10000]");
  EXPECT_EQ(
      breakSmall("memory_gib: 80", "memory_gib: 80\n    price_per_hour: .nan"),
      "cluster.yaml:5:21: 'price_per_hour' must be a number");
  EXPECT_EQ(breakSmall("memory_gib: 80",
                       "memory_gib: 80\n    price_per_hour: \"2.5\""),
            "cluster.yaml:5:21: 'price_per_hour' must be a number, not a "
            "string");
  // JSON goes through the same reader.
  EXPECT_EQ(getErrorMessage(parseClusterJSON(
                R"({"device_types": [{"name": "A", "peak_tflops": 312, )"
                R"("memory_gib": 80, "memory_bandwidth": 2039, )"
                R"("price_per_hour": -2}], "sites": []})",
                "cluster.json")),
            "cluster.json:1:115: 'price_per_hour' must be non-negative (got "
            "-2)");
}

TEST(CostClusterSpecTest, Fp32PeakIsReadAndChecked) {
  // Absent: fp32 GEMMs run at the one peak.
  auto single = parseClusterYAML(kSmall, "cluster.yaml");
  ASSERT_EQ(succeeded(single), "");
  EXPECT_FALSE(single->deviceTypes[0].peakFlopsFp32.has_value());
  EXPECT_EQ(single->deviceTypes[0].getPeakFlops(Precision::FP32), 312e12);
  std::string both = kSmall;
  both.replace(both.find("memory_gib: 80"), 14,
               "memory_gib: 80\n    peak_tflops_fp32: 19.5");
  auto spec = parseClusterYAML(both, "cluster.yaml");
  ASSERT_EQ(succeeded(spec), "");
  const DeviceType &device = spec->deviceTypes[0];
  EXPECT_EQ(device.getPeakFlops(Precision::FP32), 19.5e12);
  EXPECT_EQ(device.getPeakFlops(Precision::BF16), 312e12);
  EXPECT_EQ(device.getPeakFlops(Precision::FP16), 312e12);
  // The writer writes it, and it reads back; without it, nothing is written.
  auto text = formatClusterYAML(*spec);
  ASSERT_EQ(succeeded(text), "");
  EXPECT_NE(text->find("peak_tflops_fp32: 19.5\n"), std::string::npos) << *text;
  auto back = parseClusterYAML(*text, "written.yaml");
  ASSERT_EQ(succeeded(back), "");
  EXPECT_EQ(back->deviceTypes[0].peakFlopsFp32, std::optional<double>(19.5e12));
  auto plain = formatClusterYAML(*single);
  ASSERT_EQ(succeeded(plain), "");
  EXPECT_EQ(plain->find("peak_tflops_fp32"), std::string::npos) << *plain;
  // Cores shared by ranks slow both peaks.
  spec->nodes[0].cores = 4;
  ClusterSpec shared = shareCores(*spec);
  EXPECT_DOUBLE_EQ(shared.deviceTypes[0].getPeakFlops(Precision::FP32),
                   19.5e12 / 2);
  // The checks of every figure, located.
  EXPECT_EQ(
      breakSmall("memory_gib: 80", "memory_gib: 80\n    peak_tflops_fp32: 0"),
      "cluster.yaml:5:23: 'peak_tflops_fp32' must be positive (got 0)");
  EXPECT_EQ(breakSmall("memory_gib: 80",
                       "memory_gib: 80\n    peak_tflops_fp32: fast"),
            "cluster.yaml:5:23: 'peak_tflops_fp32' must be a number");
  EXPECT_EQ(breakSmall("memory_gib: 80",
                       "memory_gib: 80\n    peak_tflops_fp32: 1e12"),
            "cluster.yaml:5:23: 'peak_tflops_fp32' = 1e12 is outside the "
            "plausible range [1e-06, 1e+09]");
  EXPECT_EQ(
      breakSmall("memory_gib: 80", "memory_gib: 80\n    peak_tflops_f32: 19.5"),
      "cluster.yaml:5:5: unknown key 'peak_tflops_f32' in device type "
      "(did you mean 'peak_tflops_fp32'?)");
}

TEST(CostClusterSpecTest, ClusterPriceNeedsEveryDeviceTypePriced) {
  // Two device types, one priced: the nodes of the priced one have a
  // price, the whole cluster has none.
  auto spec = parseClusterFile(kExample);
  ASSERT_EQ(succeeded(spec), "");
  ASSERT_GE(spec->deviceTypes.size(), 2u);
  spec->deviceTypes[0].pricePerHour = 3.0;
  EXPECT_FALSE(spec->getPricePerHour().has_value());
  spec->deviceTypes[1].pricePerHour = 1.0;
  double expected = 0;
  for (const NodeSpec &node : spec->nodes)
    expected += node.numDevices * (node.deviceType == 0 ? 3.0 : 1.0);
  EXPECT_EQ(spec->getPricePerHour(), std::optional<double>(expected));
}

TEST(CostClusterSpecTest, PresetPrices) {
  // The DGX presets carry a price per GPU-hour (docs/cluster.md, "Prices");
  // the cpu preset has none.
  for (auto [name, price] :
       {std::pair<llvm::StringRef, double>{"dgx-h100", 6.88},
        {"dgx-a100-80g", 3.4309},
        {"dgx-a100-40g", 2.7447}}) {
    auto spec = getClusterSpec(name, 12);
    ASSERT_EQ(succeeded(spec), "");
    ASSERT_TRUE(spec->getPricePerHour().has_value()) << name.str();
    EXPECT_DOUBLE_EQ(*spec->getPricePerHour(), 12 * price) << name.str();
  }
  auto cpu = getClusterSpec("cpu", 2);
  ASSERT_EQ(succeeded(cpu), "");
  EXPECT_FALSE(cpu->getPricePerHour().has_value());
}

TEST(CostClusterSpecTest, StringsAndRepeatedKeysAreErrors) {
  // A number written as a string.
  EXPECT_EQ(breakSmall("peak_tflops: 312", "peak_tflops: \"312\""),
            "cluster.yaml:3:18: 'peak_tflops' must be a number, not a string");
  // A key given twice: yaml-cpp would keep both.
  EXPECT_EQ(breakSmall("memory_gib: 80", "memory_gib: 80\n    memory_gib: 40"),
            "cluster.yaml:5:5: duplicate key 'memory_gib'");
  // The same in JSON.
  EXPECT_EQ(getErrorMessage(parseClusterJSON(
                R"({"device_types": [{"name": "A", "peak_tflops": "312", )"
                R"("memory_gib": 80, "memory_bandwidth": 2039}], "sites": []})",
                "cluster.json")),
            "cluster.json:1:48: 'peak_tflops' must be a number, not a string");
}

TEST(CostClusterSpecTest, ClusterFilesAreSmallRegularFiles) {
  EXPECT_EQ(getErrorMessage(getClusterSpec("/dev/zero", 4)),
            "cluster file '/dev/zero' is not a regular file");
}

TEST(CostClusterSpecTest, DevicesBeyondTheCoresShareThem) {
  auto raw = parseClusterYAML(kSharedCores, "cluster.yaml");
  ASSERT_EQ(succeeded(raw), "");
  // As written: the file's figures, nothing shared yet.
  EXPECT_EQ(raw->nodes[0].cores, 2u);
  EXPECT_EQ(raw->nodes[0].coreShare, 1.0);
  EXPECT_DOUBLE_EQ(raw->getDeviceType(0).peakFlops, 0.1e12);

  // Four ranks on two cores: each at half its speed, every kernel and
  // every collective step twice as long.
  ClusterSpec shared = shareCores(*raw);
  EXPECT_EQ(shared.nodes[0].coreShare, 0.5);
  ASSERT_EQ(shared.deviceTypes.size(), 1u);
  const DeviceType &device = shared.getDeviceType(0);
  EXPECT_DOUBLE_EQ(device.peakFlops, 0.05e12);
  EXPECT_DOUBLE_EQ(device.memoryBandwidth, 10e9);
  EXPECT_DOUBLE_EQ(device.efficiency.vectorFlops, 0.005e12);
  EXPECT_DOUBLE_EQ(device.efficiency.opOverhead, 2e-6);
  EXPECT_DOUBLE_EQ(device.efficiency.bandwidthCurve[1].bandwidth, 5e9);
  EXPECT_EQ(device.memoryBytes, raw->getDeviceType(0).memoryBytes);
  for (const OpWork &work : kWorks)
    EXPECT_DOUBLE_EQ(getComputeTime(device, work),
                     2 * getComputeTime(raw->getDeviceType(0), work));
  const LinkSpec &link = shared.nodes[0].intraNode;
  EXPECT_DOUBLE_EQ(link.bandwidth, 3e9);
  EXPECT_DOUBLE_EQ(link.latency, 2e-6);
  EXPECT_DOUBLE_EQ(link.getBandwidth(1e6), 4e9);
  EXPECT_DOUBLE_EQ(shared.nodes[0].interNode.bandwidth, 0.5e9);

  // Applying it again changes nothing.
  ClusterSpec twice = shareCores(shared);
  EXPECT_DOUBLE_EQ(twice.getDeviceType(0).peakFlops, 0.05e12);
  EXPECT_DOUBLE_EQ(twice.nodes[0].intraNode.latency, 2e-6);

  // Two of the four ranks have a core each: nothing is shared.
  auto two = takeDevices(*raw, 2);
  ASSERT_EQ(succeeded(two), "");
  ClusterSpec roomy = shareCores(*two);
  EXPECT_EQ(roomy.nodes[0].coreShare, 1.0);
  EXPECT_DOUBLE_EQ(roomy.getDeviceType(0).peakFlops, 0.1e12);
  EXPECT_DOUBLE_EQ(roomy.nodes[0].intraNode.bandwidth, 6e9);
}

TEST(CostClusterSpecTest, SharedCoresCopyADeviceTypeOtherNodesUse) {
  auto raw = parseClusterYAML(std::string(kSharedCores) + kSecondGroup,
                              "cluster.yaml");
  ASSERT_EQ(succeeded(raw), "");
  ClusterSpec shared = shareCores(*raw);
  // The crowded node gets its own, slower copy of the type; the node with
  // a core per rank keeps the type as written.
  ASSERT_EQ(shared.deviceTypes.size(), 2u);
  EXPECT_EQ(shared.getDeviceType(0).name, "cpu-rank (4 on 2 cores)");
  EXPECT_DOUBLE_EQ(shared.getDeviceType(0).peakFlops, 0.05e12);
  EXPECT_EQ(shared.getDeviceType(4).name, "cpu-rank");
  EXPECT_DOUBLE_EQ(shared.getDeviceType(4).peakFlops, 0.1e12);
  EXPECT_EQ(shared.nodes[1].coreShare, 1.0);
  EXPECT_DOUBLE_EQ(shared.nodes[1].intraNode.bandwidth, 6e9);
}

TEST(CostClusterSpecTest, GetClusterSpecSharesTheCoresOfTheDevicesUsed) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("cores", "yaml", path));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << kSharedCores;
  }
  auto four = getClusterSpec(path, 4);
  auto all = getClusterSpec(path, 0);
  auto two = getClusterSpec(path, 2);
  ASSERT_EQ(succeeded(four), "");
  ASSERT_EQ(succeeded(all), "");
  ASSERT_EQ(succeeded(two), "");
  EXPECT_DOUBLE_EQ(four->getDeviceType(0).peakFlops, 0.05e12);
  EXPECT_DOUBLE_EQ(all->getDeviceType(0).peakFlops, 0.05e12);
  EXPECT_DOUBLE_EQ(two->getDeviceType(0).peakFlops, 0.1e12);
  llvm::sys::fs::remove(path);

  std::string zero = kSharedCores;
  zero.replace(zero.find("cores: 2"), 8, "cores: 0");
  EXPECT_EQ(getErrorMessage(parseClusterYAML(zero, "cluster.yaml")),
            "cluster.yaml:15:16: 'cores' must be positive (got 0)");
}

TEST(CostClusterSpecTest, CpuPresetRanksShareThisMachinesCores) {
  // The cpu preset's node has this machine's cores; twice as many ranks
  // run every kernel at half the speed of one rank per core.
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  auto own = getClusterSpec("cpu", cores);
  auto crowded = getClusterSpec("cpu", 2 * cores);
  ASSERT_EQ(succeeded(own), "");
  ASSERT_EQ(succeeded(crowded), "");
  EXPECT_EQ(own->nodes[0].cores, cores);
  EXPECT_EQ(own->nodes[0].coreShare, 1.0);
  EXPECT_EQ(crowded->nodes[0].coreShare, 0.5);
  for (const OpWork &work : kWorks)
    EXPECT_DOUBLE_EQ(getComputeTime(crowded->getDeviceType(0), work),
                     2 * getComputeTime(own->getDeviceType(0), work));
  EXPECT_DOUBLE_EQ(crowded->nodes[0].intraNode.latency,
                   2 * own->nodes[0].intraNode.latency);
}

} // namespace

namespace {

/// The nodes of `spec` as "name:devices" in order.
std::string describeNodes(const distopt::cost::ClusterSpec &spec) {
  std::string text;
  for (const distopt::cost::NodeSpec &node : spec.nodes)
    text += (text.empty() ? "" : " ") + node.name + ":" +
            std::to_string(node.numDevices);
  return text;
}

TEST(CostClusterSpecTest, TakeDevicesKeepsTheFastestWhateverTheFileOrder) {
  using namespace distopt::cost;
  auto file = parseClusterFile(kExample);
  ASSERT_EQ(succeeded(file), "");
  // The V100 node listed first, the two DGX nodes after it.
  ClusterSpec reversed = *file;
  std::reverse(reversed.nodes.begin(), reversed.nodes.end());
  ASSERT_EQ(describeNodes(reversed), "v100:4 dgx1:8 dgx0:8");
  for (const ClusterSpec *spec : {&*file, &reversed}) {
    // Eight: one DGX node (the first of the two alike in the file).
    auto eight = takeDevices(*spec, 8);
    ASSERT_EQ(succeeded(eight), "");
    EXPECT_EQ(eight->nodes.size(), 1u);
    EXPECT_EQ(eight->nodes[0].name.substr(0, 3), "dgx");
    EXPECT_EQ(eight->describedDevices, 20u);
    // Eighteen: both DGX nodes and two V100s, in the file's order.
    auto eighteen = takeDevices(*spec, 18);
    ASSERT_EQ(succeeded(eighteen), "");
    EXPECT_EQ(describeNodes(*eighteen), spec == &reversed
                                            ? "v100:2 dgx1:8 dgx0:8"
                                            : "dgx0:8 dgx1:8 v100:2");
    // All: nothing left out.
    auto all = takeDevices(*spec, 20);
    ASSERT_EQ(succeeded(all), "");
    EXPECT_EQ(all->describedDevices, 0u);
    EXPECT_EQ(describeNodes(*all), describeNodes(*spec));
  }
}

} // namespace
