//===- ClusterFileTest.cpp - unit tests of the cluster file writer --------===//
//
// The writer against the reader (a written cluster reads back equal), the
// preset files against the figures the presets had when they were written
// in C++, and the JSON parser against the YAML one on the same cluster.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/ClusterSpec.h"

#include "ErrorHelpers.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

constexpr double kGB = 1e9;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kMicrosecond = 1e-6;

/// True when `a` and `b` are within `relative` of each other.
bool near(double a, double b, double relative) {
  return std::fabs(a - b) <= relative * std::max(std::fabs(a), std::fabs(b));
}

void expectSameCurve(llvm::ArrayRef<BandwidthPoint> a,
                     llvm::ArrayRef<BandwidthPoint> b, double relative) {
  ASSERT_EQ(a.size(), b.size());
  for (auto [p, q] : llvm::zip(a, b)) {
    EXPECT_PRED3(near, p.bytes, q.bytes, relative);
    EXPECT_PRED3(near, p.bandwidth, q.bandwidth, relative);
  }
}

void expectSameLink(const LinkSpec &a, const LinkSpec &b, double relative) {
  EXPECT_PRED3(near, a.bandwidth, b.bandwidth, relative);
  EXPECT_PRED3(near, a.latency, b.latency, relative);
  EXPECT_PRED3(near, a.allGatherEfficiency, b.allGatherEfficiency, relative);
  EXPECT_PRED3(near, a.reduceScatterEfficiency, b.reduceScatterEfficiency,
               relative);
  expectSameCurve(a.bandwidthCurve, b.bandwidthCurve, relative);
  expectSameCurve(a.allGatherCurve, b.allGatherCurve, relative);
  expectSameCurve(a.reduceScatterCurve, b.reduceScatterCurve, relative);
}

/// Every figure of `a` and `b` within `relative` (0: equal).
void expectSameCluster(const ClusterSpec &a, const ClusterSpec &b,
                       double relative) {
  EXPECT_EQ(a.name, b.name);
  ASSERT_EQ(a.deviceTypes.size(), b.deviceTypes.size());
  for (auto [x, y] : llvm::zip(a.deviceTypes, b.deviceTypes)) {
    EXPECT_EQ(x.name, y.name);
    EXPECT_PRED3(near, x.peakFlops, y.peakFlops, relative);
    EXPECT_EQ(x.memoryBytes, y.memoryBytes);
    EXPECT_PRED3(near, x.memoryBandwidth, y.memoryBandwidth, relative);
    const ComputeEfficiency &e = x.efficiency, &f = y.efficiency;
    EXPECT_PRED3(near, e.gemmEfficiency, f.gemmEfficiency, relative);
    EXPECT_PRED3(near, e.gemmHalfFlops, f.gemmHalfFlops, relative);
    EXPECT_PRED3(near, e.memoryEfficiency, f.memoryEfficiency, relative);
    EXPECT_PRED3(near, e.vectorFlops, f.vectorFlops, relative);
    EXPECT_PRED3(near, e.opOverhead, f.opOverhead, relative);
    expectSameCurve(e.bandwidthCurve, f.bandwidthCurve, relative);
    ASSERT_EQ(x.peakFlopsFp32.has_value(), y.peakFlopsFp32.has_value());
    if (x.peakFlopsFp32)
      EXPECT_PRED3(near, *x.peakFlopsFp32, *y.peakFlopsFp32, relative);
    ASSERT_EQ(x.pricePerHour.has_value(), y.pricePerHour.has_value());
    if (x.pricePerHour)
      EXPECT_PRED3(near, *x.pricePerHour, *y.pricePerHour, relative);
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (auto [x, y] : llvm::zip(a.nodes, b.nodes)) {
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.deviceType, y.deviceType);
    EXPECT_EQ(x.numDevices, y.numDevices);
    EXPECT_EQ(x.memoryLimitBytes, y.memoryLimitBytes);
    EXPECT_EQ(x.site, y.site);
    EXPECT_EQ(x.cores, y.cores);
    expectSameLink(x.intraNode, y.intraNode, relative);
    expectSameLink(x.interNode, y.interNode, relative);
  }
  EXPECT_EQ(a.sites, b.sites);
  ASSERT_EQ(a.wanLinks.size(), b.wanLinks.size());
  for (auto [x, y] : llvm::zip(a.wanLinks, b.wanLinks)) {
    EXPECT_EQ(x.siteA, y.siteA);
    EXPECT_EQ(x.siteB, y.siteB);
    expectSameLink(x.link, y.link, relative);
  }
}

/// A cluster that uses every key of the format.
ClusterSpec makeEveryKeyCluster() {
  ClusterSpec spec;
  spec.name = "every key";
  DeviceType gpu{"GPU: fast", 312e12, uint64_t(80 * kGiB), 2039e9, {}};
  gpu.efficiency.gemmEfficiency = 0.7;
  gpu.efficiency.gemmHalfFlops = 1e9;
  gpu.efficiency.memoryEfficiency = 0.8;
  gpu.efficiency.vectorFlops = 15e12;
  gpu.efficiency.opOverhead = 5e-6;
  gpu.pricePerHour = 3.4309;
  gpu.peakFlopsFp32 = 19.5e12;
  DeviceType cpu{"cpu-rank", 0.1559e12, uint64_t(23.54 * kGiB), 14.57e9, {}};
  cpu.efficiency.bandwidthCurve = {{24580, 164.9e9}, {201.3e6, 14.57e9}};
  spec.deviceTypes = {gpu, cpu};
  spec.sites = {"east", "null"};
  NodeSpec dgx;
  dgx.name = "dgx0";
  dgx.numDevices = 8;
  dgx.intraNode = {300e9, 2e-6};
  dgx.interNode = {25e9, 5e-6};
  dgx.interNode.reduceScatterEfficiency = 0.5;
  NodeSpec dgx1 = dgx;
  dgx1.name = "dgx1";
  dgx1.memoryLimitBytes = uint64_t(30 * kGiB);
  NodeSpec host;
  host.name = "host";
  host.deviceType = 1;
  host.numDevices = 4;
  host.site = 1;
  host.cores = 2;
  host.intraNode = {6.371e9, 0.6223e-6};
  host.intraNode.bandwidthCurve = {{4096, 1.797e9}, {67.11e6, 2.695e9}};
  host.intraNode.allGatherCurve = {{2048, 2.51e9}};
  host.intraNode.reduceScatterCurve = {{1024, 17.48e9}, {2048, 1.588e9}};
  host.interNode = host.intraNode;
  spec.nodes = {dgx, dgx1, host};
  spec.wanLinks.push_back({0, 1, {1.25e9, 20000e-6}});
  return spec;
}

TEST(CostClusterFileTest, WrittenClusterReadsBackEqual) {
  ClusterSpec spec = makeEveryKeyCluster();
  llvm::Expected<std::string> text = formatClusterYAML(spec);
  ASSERT_EQ(succeeded(text), "");
  llvm::Expected<ClusterSpec> back = parseClusterYAML(*text, "written.yaml");
  ASSERT_EQ(succeeded(back), "") << *text;
  // The shortest exact digits: only the unit conversions may round.
  expectSameCluster(spec, *back, 1e-15);
  // Writing what was read gives the same text.
  llvm::Expected<std::string> again = formatClusterYAML(*back);
  ASSERT_EQ(succeeded(again), "");
  EXPECT_EQ(*again, *text);
  // A link used for both levels is written once; the others in full.
  EXPECT_NE(text->find("intra_node: &link2"), std::string::npos) << *text;
  EXPECT_NE(text->find("inter_node: *link2"), std::string::npos) << *text;
  EXPECT_EQ(text->find("&link0"), std::string::npos) << *text;
  // A name YAML would read as null stays a string.
  EXPECT_NE(text->find("\"null\""), std::string::npos) << *text;
  // A price is written where there is one, and only there.
  EXPECT_NE(text->find("price_per_hour: 3.4309\n"), std::string::npos) << *text;
  EXPECT_EQ(text->find("price_per_hour"), text->rfind("price_per_hour"))
      << *text;
}

TEST(CostClusterFileTest, SignificantDigitsRoundTheFigures) {
  ClusterSpec spec = makeEveryKeyCluster();
  spec.deviceTypes[1].peakFlops = 0.155912345e12;
  ClusterFileStyle style;
  style.significantDigits = 4;
  style.headerComment = "A header\n  of two lines";
  llvm::Expected<std::string> text = formatClusterYAML(spec, style);
  ASSERT_EQ(succeeded(text), "");
  EXPECT_EQ(text->rfind("# A header\n#   of two lines\n", 0), 0u) << *text;
  EXPECT_NE(text->find("peak_tflops: 0.1559\n"), std::string::npos) << *text;
  llvm::Expected<ClusterSpec> back = parseClusterYAML(*text, "written.yaml");
  ASSERT_EQ(succeeded(back), "");
  EXPECT_DOUBLE_EQ(back->deviceTypes[1].peakFlops, 0.1559e12);
  expectSameCluster(spec, *back, 5e-4);
}

TEST(CostClusterFileTest, WhatTheFormatCannotSayIsAnError) {
  ClusterSpec spec = makeEveryKeyCluster();
  std::swap(spec.nodes[1], spec.nodes[2]);
  EXPECT_EQ(getErrorMessage(formatClusterYAML(spec)),
            "cannot write cluster 'every key': node 'dgx1' is out of site "
            "order (a file lists the nodes site by site)");
  ClusterSpec shared = shareCores(makeEveryKeyCluster());
  EXPECT_EQ(getErrorMessage(formatClusterYAML(shared)),
            "cannot write cluster 'every key': the figures of node 'host' are "
            "scaled by shareCores; write the cluster before shareCores");
  ClusterSpec empty = makeEveryKeyCluster();
  empty.sites.push_back("west");
  EXPECT_EQ(getErrorMessage(formatClusterYAML(empty)),
            "cannot write cluster 'every key': site 'west' has no nodes");
}

TEST(CostClusterFileTest, WriteClusterFileReplacesTheFileWhole) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("cluster-file", dir));
  std::string path = (dir + "/profile.yaml").str();
  ClusterSpec spec = makeEveryKeyCluster();
  ASSERT_FALSE(bool(writeClusterFile(path, spec)));
  auto back = parseClusterFile(path);
  ASSERT_EQ(succeeded(back), "");
  expectSameCluster(spec, *back, 1e-15);
  // Only the file itself is left: the temporary was renamed onto it.
  std::error_code ec;
  unsigned entries = 0;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    ++entries;
  EXPECT_EQ(entries, 1u);
  // A cluster that cannot be written leaves the old file as it was.
  std::swap(spec.nodes[1], spec.nodes[2]);
  llvm::Error failed = writeClusterFile(path, spec);
  EXPECT_TRUE(bool(failed));
  llvm::consumeError(std::move(failed));
  auto unchanged = parseClusterFile(path);
  ASSERT_EQ(succeeded(unchanged), "");
  EXPECT_EQ(unchanged->nodes[1].name, "dgx1");
  llvm::sys::fs::remove_directories(dir);
}

//===----------------------------------------------------------------------===//
// Presets
//===----------------------------------------------------------------------===//

/// The DGX presets as ClusterSpec.cpp built them in C++ before they became
/// files (makeDgx and its figures), for `numDevices` devices, with the
/// prices the files gained since (AWS on-demand per GPU, docs/cluster.md).
ClusterSpec makeFormerDgxPreset(llvm::StringRef name, unsigned numDevices) {
  ComputeEfficiency a100;
  a100.gemmEfficiency = 0.70;
  a100.gemmHalfFlops = 1e9;
  a100.memoryEfficiency = 0.80;
  a100.vectorFlops = 15e12;
  a100.opOverhead = 5 * kMicrosecond;
  ComputeEfficiency h100;
  h100.gemmEfficiency = 0.65;
  h100.gemmHalfFlops = 3e9;
  h100.memoryEfficiency = 0.80;
  h100.vectorFlops = 50e12;
  h100.opOverhead = 5 * kMicrosecond;
  LinkSpec nvlinkA100{300 * kGB, 2 * kMicrosecond};
  LinkSpec nvlinkH100{450 * kGB, 2 * kMicrosecond};
  LinkSpec hdr{25 * kGB, 5 * kMicrosecond};
  LinkSpec ndr{50 * kGB, 5 * kMicrosecond};
  DeviceType device;
  LinkSpec intra, inter;
  if (name == "dgx-a100-80g") {
    device = {
        "A100-SXM4-80GB",       312e12, uint64_t(80 * kGiB), 2039 * kGB, a100,
        /*pricePerHour=*/3.4309};
    intra = nvlinkA100;
    inter = hdr;
  } else if (name == "dgx-a100-40g") {
    device = {
        "A100-SXM4-40GB",       312e12, uint64_t(40 * kGiB), 1555 * kGB, a100,
        /*pricePerHour=*/2.7447};
    intra = nvlinkA100;
    inter = hdr;
  } else {
    device = {"H100-SXM5",          989e12, uint64_t(80 * kGiB),
              3350 * kGB,           h100,
              /*pricePerHour=*/6.88};
    intra = nvlinkH100;
    inter = ndr;
  }
  // The fp32 peaks the files gained since (non-tensor-core fp32).
  device.peakFlopsFp32 = name == "dgx-h100" ? 67e12 : 19.5e12;
  ClusterSpec spec;
  spec.name = name.str();
  spec.deviceTypes.push_back(device);
  spec.sites.push_back("site0");
  for (unsigned first = 0; first < numDevices; first += 8) {
    NodeSpec node;
    node.name = "node" + std::to_string(first / 8);
    node.numDevices = std::min(8u, numDevices - first);
    node.intraNode = intra;
    node.interNode = inter;
    spec.nodes.push_back(node);
  }
  return spec;
}

TEST(CostClusterFileTest, PresetFilesEqualTheFormerBuiltInFigures) {
  EXPECT_EQ(llvm::join(getClusterPresetNames(), ","),
            "dgx-a100-80g,dgx-a100-40g,dgx-h100,cpu");
  for (llvm::StringRef name : {"dgx-a100-80g", "dgx-a100-40g", "dgx-h100"})
    for (unsigned devices : {1u, 8u, 20u}) {
      SCOPED_TRACE((name + " x " + llvm::Twine(devices)).str());
      auto preset = getClusterPreset(name, devices);
      ASSERT_EQ(succeeded(preset), "");
      // Exactly the same doubles, not only close ones.
      expectSameCluster(makeFormerDgxPreset(name, devices), *preset, 0);
      EXPECT_FALSE(preset->usesDefaultFigures);
    }
  // 0 devices: one node.
  auto one = getClusterPreset("dgx-h100", 0);
  ASSERT_EQ(succeeded(one), "");
  expectSameCluster(makeFormerDgxPreset("dgx-h100", 8), *one, 0);
}

TEST(CostClusterFileTest, PresetFilesAreCompiledIn) {
  for (llvm::StringRef name : getClusterPresetNames()) {
    SCOPED_TRACE(name.str());
    llvm::StringRef text = getClusterPresetFile(name);
    ASSERT_FALSE(text.empty());
    // The compiled-in text is the file in the source tree.
    auto file = llvm::MemoryBuffer::getFile(DISTOPT_COST_TEST_INPUTS
                                            "/../../../lib/Cost/profiles/" +
                                            name + ".yaml");
    ASSERT_TRUE(bool(file));
    EXPECT_EQ(text.str(), (*file)->getBuffer().str());
    auto spec = parseClusterYAML(text, name);
    ASSERT_EQ(succeeded(spec), "");
    EXPECT_EQ(spec->name, name == "cpu" ? "cpu-calibrated" : name.str());
  }
  EXPECT_TRUE(getClusterPresetFile("dgx-a100").empty());
  EXPECT_EQ(getBuiltinCpuProfile(), getClusterPresetFile("cpu"));
}

//===----------------------------------------------------------------------===//
// One reader for YAML and JSON
//===----------------------------------------------------------------------===//

TEST(CostClusterFileTest, JSONAndYAMLOfOneClusterReadEqual) {
  const char *yaml = R"(name: "both"
device_types:
  - {name: "A", peak_tflops: 312, memory_gib: 80, memory_bandwidth: 2039,
     gemm_efficiency: 0.7, bandwidth_curve: [[1, 900], [100, 1500]]}
sites:
  - name: "x"
    nodes:
      - {device: "A", count: 2, devices_per_node: 8, cores: 4,
         memory_limit_gib: 70,
         intra_node: {bandwidth: 300, latency: 2},
         inter_node: {bandwidth: 25, latency: 5,
                      all_gather_curve: [[0.5, 10]]}}
  - name: "y"
    nodes:
      - {device: "A", devices_per_node: 1,
         intra_node: {bandwidth: 1, latency: 0},
         inter_node: {bandwidth: 1, latency: 0}}
wan_links:
  - {sites: ["x", "y"], bandwidth: 1.25, latency: 20000}
)";
  // The same text in JSON syntax: quoted keys, braces at the top.
  std::string json = R"({"name": "both",
"device_types": [
  {"name": "A", "peak_tflops": 312, "memory_gib": 80, "memory_bandwidth": 2039,
   "gemm_efficiency": 0.7, "bandwidth_curve": [[1, 900], [100, 1500]]}],
"sites": [
  {"name": "x", "nodes": [
      {"device": "A", "count": 2, "devices_per_node": 8, "cores": 4,
       "memory_limit_gib": 70,
       "intra_node": {"bandwidth": 300, "latency": 2},
       "inter_node": {"bandwidth": 25, "latency": 5,
                      "all_gather_curve": [[0.5, 10]]}}]},
  {"name": "y", "nodes": [
      {"device": "A", "devices_per_node": 1,
       "intra_node": {"bandwidth": 1, "latency": 0},
       "inter_node": {"bandwidth": 1, "latency": 0}}]}],
"wan_links": [{"sites": ["x", "y"], "bandwidth": 1.25, "latency": 20000}]}
)";
  auto fromYAML = parseClusterYAML(yaml, "c.yaml");
  auto fromJSON = parseClusterJSON(json, "c.json");
  ASSERT_EQ(succeeded(fromYAML), "");
  ASSERT_EQ(succeeded(fromJSON), "");
  expectSameCluster(*fromYAML, *fromJSON, 0);
  EXPECT_EQ(fromJSON->getNumDevices(), 17u);
  EXPECT_EQ(fromJSON->nodes[1].cores, 4u);
}

TEST(CostClusterFileTest, JSONSyntaxErrorsAreLocated) {
  auto error = [](llvm::StringRef text) {
    return getErrorMessage(parseClusterJSON(text, "c.json"));
  };
  EXPECT_EQ(error("{\"a\": 1,}"),
            "c.json:1:9: syntax error while parsing object key - unexpected "
            "'}'; expected string literal");
  EXPECT_EQ(error("{\"a\" 1}"), "c.json:1:6: syntax error while parsing "
                                "object separator - unexpected '1'; expected "
                                "':'");
  EXPECT_EQ(error("[1 2]"), "c.json:1:4: syntax error while parsing array - "
                            "unexpected '2'; expected ',' or ']'");
  EXPECT_EQ(error("{} x"), "c.json:1:4: syntax error while parsing value - "
                           "unexpected 'x'; expected end of input");
  EXPECT_EQ(error("\n  tru"), "c.json:2:3: syntax error while parsing value - "
                              "invalid literal; last read: 'tru'");
  // A number ends at its first character that cannot continue it.
  EXPECT_EQ(error("[01]"), "c.json:1:3: syntax error while parsing array - "
                           "unexpected '1'; expected ',' or ']'");
  EXPECT_EQ(error("[1.]"), "c.json:1:2: syntax error while parsing value - "
                           "invalid number; last read: '1.]'");
  EXPECT_EQ(error("[\"a\tb\"]"), "c.json:1:4: syntax error while parsing "
                                 "value - invalid string: control character "
                                 "must be escaped");
  EXPECT_EQ(error("[\"\\x\"]"), "c.json:1:3: syntax error while parsing "
                                "value - invalid string: unknown escape");
  EXPECT_EQ(error("[\"\\ud800\"]"),
            "c.json:1:3: syntax error while parsing value - invalid string: "
            "high surrogate without a low one");
  EXPECT_EQ(error("[\"abc"), "c.json:1:2: syntax error while parsing value - "
                             "invalid string: missing closing quote");
  EXPECT_EQ(error("{\"a\": \"\xff\"}"), "c.json:1:8: invalid UTF-8");
  EXPECT_EQ(error(std::string(100, '[')), "c.json:1:66: nesting deeper than "
                                          "64 levels");
  EXPECT_EQ(error("null"), "c.json: empty cluster file");
}

TEST(CostClusterFileTest, JSONStringsAreDecoded) {
  // Escapes, a \u escape and a surrogate pair in a device name.
  std::string json = R"({"device_types": [{"name": "A\"\\\/\u00e9\ud83d\ude00",
  "peak_tflops": 1, "memory_gib": 1, "memory_bandwidth": 1}],
  "sites": [{"name": "s", "nodes": [{"device": "A\"\\/\u00e9\ud83d\ude00",
  "devices_per_node": 1, "intra_node": {"bandwidth": 1, "latency": 1},
  "inter_node": {"bandwidth": 1, "latency": 1}}]}]})";
  auto spec = parseClusterJSON(json, "c.json");
  ASSERT_EQ(succeeded(spec), "");
  EXPECT_EQ(spec->deviceTypes[0].name, "A\"\\/\xc3\xa9\xf0\x9f\x98\x80");
}

} // namespace

// Found while writing fuzz/cluster_file.cpp: YAML aliases of aliases expanded into a
// copy per use, so that nine short lines asked for 10^9 values (gigabytes,
// then killed). Every copy counts against one limit of values.
TEST(CostClusterFileTest, YAMLAliasExpansionIsBounded) {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j)
      yaml += (j ? ", *a" : "*a") + std::to_string(i - 1);
    yaml += "]\n";
  }
  EXPECT_EQ(getErrorMessage(parseClusterYAML(yaml, "c.yaml")),
            "c.yaml:1:28: more than 262144 values (each use of an alias "
            "counts as a copy)");
}

// The same limit holds for JSON, whose tree would otherwise take about a
// hundred bytes per value of a 16 MiB file.
TEST(CostClusterFileTest, JSONValueCountIsBounded) {
  std::string json = "[0";
  for (int i = 0; i < 300000; ++i)
    json += ",0";
  json += "]";
  EXPECT_EQ(getErrorMessage(parseClusterJSON(json, "c.json")),
            "c.json:1:524288: more than 262144 values");
}

// Repeated YAML keys were found by comparing each key with every earlier
// one: 200000 keys (2 MB) took minutes. The last key repeats the first.
TEST(CostClusterFileTest, YAMLDuplicateKeysAreFoundInLinearTime) {
  std::string yaml;
  for (int i = 0; i < 200000; ++i)
    yaml += "k" + std::to_string(i) + ": 0\n";
  yaml += "k0: 1\n";
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(getErrorMessage(parseClusterYAML(yaml, "c.yaml")),
            "c.yaml:200001:1: duplicate key 'k0'");
  // Seconds (8 s on a loaded 2-core machine) where it took minutes.
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                          start)
                .count(),
            60.0);
}
