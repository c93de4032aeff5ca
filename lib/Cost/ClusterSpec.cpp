//===- ClusterSpec.cpp - Cluster presets and YAML cluster files -----------===//
//
// Presets with the figures of docs/cluster.md, and the reader of YAML
// cluster files: every key is checked, unknown keys get a suggestion, and
// every message carries file:line:column.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Support/Suggest.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <regex>
#include <set>
#include <thread>
#include <unistd.h>

using namespace distopt::cost;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// ClusterSpec
//===----------------------------------------------------------------------===//

unsigned ClusterSpec::getNumDevices() const {
  unsigned total = 0;
  for (const NodeSpec &node : nodes)
    total += node.numDevices;
  return total;
}

DeviceLocation ClusterSpec::getLocation(unsigned rank) const {
  unsigned first = 0;
  for (auto [index, node] : llvm::enumerate(nodes)) {
    if (rank < first + node.numDevices)
      return {static_cast<unsigned>(index), node.site, rank - first};
    first += node.numDevices;
  }
  assert(false && "rank out of range");
  return {};
}

const DeviceType &ClusterSpec::getDeviceType(unsigned rank) const {
  return deviceTypes[nodes[getLocation(rank).node].deviceType];
}

uint64_t ClusterSpec::getDeviceMemory(unsigned rank) const {
  const NodeSpec &node = nodes[getLocation(rank).node];
  uint64_t memory = deviceTypes[node.deviceType].memoryBytes;
  if (node.memoryLimitBytes)
    return std::min(memory, *node.memoryLimitBytes);
  return memory;
}

const LinkSpec *ClusterSpec::getWanLink(unsigned siteA, unsigned siteB) const {
  for (const WanLinkSpec &wan : wanLinks)
    if ((wan.siteA == siteA && wan.siteB == siteB) ||
        (wan.siteA == siteB && wan.siteB == siteA))
      return &wan.link;
  return nullptr;
}

double distopt::cost::interpolateBandwidth(
    llvm::ArrayRef<BandwidthPoint> curve, double bytes) {
  assert(!curve.empty() && "a curve has points");
  if (bytes <= curve.front().bytes)
    return curve.front().bandwidth;
  if (bytes >= curve.back().bytes)
    return curve.back().bandwidth;
  auto above = llvm::find_if(
      curve, [&](const BandwidthPoint &p) { return p.bytes >= bytes; });
  const BandwidthPoint &lo = above[-1], &hi = *above;
  double t = std::log(bytes / lo.bytes) / std::log(hi.bytes / lo.bytes);
  return lo.bandwidth + t * (hi.bandwidth - lo.bandwidth);
}

double LinkSpec::getBandwidth(double bytes) const {
  return bandwidthCurve.empty() ? bandwidth
                                : interpolateBandwidth(bandwidthCurve, bytes);
}

//===----------------------------------------------------------------------===//
// Presets
//===----------------------------------------------------------------------===//

static constexpr double kGB = 1e9;
static constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
static constexpr double kMicrosecond = 1e-6;

llvm::ArrayRef<StringRef> distopt::cost::getClusterPresetNames() {
  static const StringRef names[] = {"dgx-a100-80g", "dgx-a100-40g", "dgx-h100",
                                    "cpu"};
  return names;
}

/// A DGX-style cluster: `numDevices` devices, 8 per node, one site.
static ClusterSpec makeDgx(StringRef name, DeviceType device, LinkSpec nvlink,
                           LinkSpec infiniband, unsigned numDevices) {
  ClusterSpec spec;
  spec.name = name.str();
  spec.deviceTypes.push_back(std::move(device));
  spec.sites.push_back("site0");
  for (unsigned first = 0; first < numDevices; first += 8) {
    NodeSpec node;
    node.name = llvm::formatv("node{0}", first / 8).str();
    node.numDevices = std::min(8u, numDevices - first);
    node.intraNode = nvlink;
    node.interNode = infiniband;
    spec.nodes.push_back(std::move(node));
  }
  return spec;
}

/// The calibration profile compiled in from lib/Cost/profiles/cpu.yaml.
static const char kBuiltinCpuProfile[] =
#include "CpuProfile.inc"
    ;

StringRef distopt::cost::getBuiltinCpuProfile() {
  return StringRef(kBuiltinCpuProfile).trim().empty() ? StringRef()
                                                      : kBuiltinCpuProfile;
}

llvm::Expected<std::optional<ClusterSpec>> distopt::cost::getCpuProfile() {
  const char *path = std::getenv("DISTOPT_CPU_PROFILE");
  if (path && *path) {
    auto profile = parseClusterFile(path);
    if (!profile)
      return llvm::createStringError(
          llvm::formatv("DISTOPT_CPU_PROFILE: {0}",
                        llvm::toString(profile.takeError()))
              .str());
    return std::optional<ClusterSpec>(std::move(*profile));
  }
  if (getBuiltinCpuProfile().empty())
    return std::nullopt;
  auto profile = parseClusterYAML(getBuiltinCpuProfile(),
                                  "lib/Cost/profiles/cpu.yaml (built in)");
  if (!profile)
    return profile.takeError();
  return std::optional<ClusterSpec>(std::move(*profile));
}

llvm::Expected<ClusterSpec>
distopt::cost::getClusterPreset(StringRef name, unsigned numDevices) {
  // NVLink: 600 / 900 GB/s both directions = 300 / 450 GB/s per direction.
  // InfiniBand: one port per GPU; HDR 200 Gb/s = 25 GB/s per direction on
  // DGX A100, NDR 400 Gb/s = 50 GB/s on DGX H100. Latencies are assumed
  // typical values (docs/cluster.md).
  LinkSpec nvlinkA100{300 * kGB, 2 * kMicrosecond};
  LinkSpec nvlinkH100{450 * kGB, 2 * kMicrosecond};
  LinkSpec hdr{25 * kGB, 5 * kMicrosecond};
  LinkSpec ndr{50 * kGB, 5 * kMicrosecond};
  unsigned dgxDevices = numDevices ? numDevices : 8;
  // Kernel efficiencies (docs/cluster.md, "GPU efficiency factors"). A100:
  // the one set that puts the four GPT rows of Megatron-LM's Table 1
  // within 15% (unittests/Cost/MegatronTableTest.cpp). H100: the same
  // reasoning, not checked against a published table.
  ComputeEfficiency a100Efficiency;
  a100Efficiency.gemmEfficiency = 0.70;
  a100Efficiency.gemmHalfFlops = 1e9;
  a100Efficiency.memoryEfficiency = 0.80;
  a100Efficiency.vectorFlops = 15e12;
  a100Efficiency.opOverhead = 5 * kMicrosecond;
  ComputeEfficiency h100Efficiency;
  h100Efficiency.gemmEfficiency = 0.65;
  h100Efficiency.gemmHalfFlops = 3e9;
  h100Efficiency.memoryEfficiency = 0.80;
  h100Efficiency.vectorFlops = 50e12;
  h100Efficiency.opOverhead = 5 * kMicrosecond;
  if (name == "dgx-a100-80g")
    return makeDgx(name,
                   {"A100-SXM4-80GB", 312e12, uint64_t(80 * kGiB), 2039 * kGB,
                    a100Efficiency},
                   nvlinkA100, hdr, dgxDevices);
  if (name == "dgx-a100-40g")
    return makeDgx(name,
                   {"A100-SXM4-40GB", 312e12, uint64_t(40 * kGiB), 1555 * kGB,
                    a100Efficiency},
                   nvlinkA100, hdr, dgxDevices);
  if (name == "dgx-h100")
    return makeDgx(name,
                   {"H100-SXM5", 989e12, uint64_t(80 * kGiB), 3350 * kGB,
                    h100Efficiency},
                   nvlinkH100, ndr, dgxDevices);
  if (name == "cpu") {
    // This machine's cores as ranks on one node, MPI over shared memory.
    // The figures come from the calibration profile (getCpuProfile); the
    // defaults below only when there is none.
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    unsigned ranks = numDevices ? numDevices : cores;
    double physical = double(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
    ClusterSpec spec;
    spec.name = "cpu";
    spec.usesDefaultFigures = true;
    spec.deviceTypes.push_back({"cpu-core", /*peakFlops=*/50e9,
                                uint64_t(std::max(physical, kGiB) / ranks),
                                /*memoryBandwidth=*/10 * kGB});
    spec.sites.push_back("site0");
    NodeSpec node;
    node.name = "localhost";
    node.numDevices = ranks;
    node.intraNode = {5 * kGB, 1 * kMicrosecond};
    node.interNode = node.intraNode;
    auto profile = getCpuProfile();
    if (!profile)
      return profile.takeError();
    if (*profile) {
      // The profile's device figures and link; the memory of a rank stays
      // this machine's memory shared by the ranks.
      const NodeSpec &measured = (*profile)->nodes.front();
      DeviceType &device = spec.deviceTypes.front();
      uint64_t memory = device.memoryBytes;
      device = (*profile)->deviceTypes[measured.deviceType];
      device.memoryBytes = memory;
      node.intraNode = measured.intraNode;
      node.interNode = node.intraNode;
      spec.usesDefaultFigures = false;
    }
    // The ranks share this machine's cores: ranks beyond the cores take
    // turns on them, kernels and MPI copies alike (shareCores).
    node.cores = cores;
    spec.nodes.push_back(std::move(node));
    return shareCores(std::move(spec));
  }
  return llvm::createStringError(
      llvm::formatv("unknown cluster preset '{0}' (known: {1})", name,
                    llvm::join(getClusterPresetNames(), ", "))
          .str());
}

//===----------------------------------------------------------------------===//
// YAML cluster files
//===----------------------------------------------------------------------===//

namespace {
/// Reads one YAML document into a ClusterSpec; the first problem found is
/// kept in `error` and stops the reading.
class ClusterFileReader {
public:
  explicit ClusterFileReader(StringRef bufferName) : bufferName(bufferName) {}

  llvm::Expected<ClusterSpec> read(const YAML::Node &root);

private:
  /// Records an error at `mark` and returns false.
  bool fail(const YAML::Mark &mark, const llvm::Twine &message) {
    if (!error.empty())
      return false;
    error = llvm::formatv("{0}:{1}:{2}: {3}", bufferName, mark.line + 1,
                          mark.column + 1, message.str())
                .str();
    return false;
  }

  /// Checks that `node` is a map whose keys are all in `allowed` and that
  /// every key of `required` is present.
  bool checkMap(const YAML::Node &node, StringRef context,
                llvm::ArrayRef<StringRef> allowed,
                llvm::ArrayRef<StringRef> required);
  bool checkSequence(const YAML::Node &node, StringRef what);

  bool readNumber(const YAML::Node &map, StringRef key, double &out,
                  bool positive = true);
  bool readCount(const YAML::Node &map, StringRef key, unsigned &out);
  bool readString(const YAML::Node &map, StringRef key, std::string &out);
  bool readLink(const YAML::Node &map, StringRef key, LinkSpec &out);
  /// Reads the optional efficiency keys of a device type; absent keys keep
  /// the defaults of ComputeEfficiency.
  bool readEfficiency(const YAML::Node &map, ComputeEfficiency &out);
  /// Reads the optional curve `key` of `map` ([[MB, GB/s], ...]).
  bool readCurve(const YAML::Node &map, StringRef key,
                 llvm::SmallVectorImpl<BandwidthPoint> &out);

  StringRef bufferName;
  std::string error;
};
} // namespace

bool ClusterFileReader::checkMap(const YAML::Node &node, StringRef context,
                                 llvm::ArrayRef<StringRef> allowed,
                                 llvm::ArrayRef<StringRef> required) {
  if (!node.IsMap())
    return fail(node.Mark(), llvm::formatv("expected a map for {0}", context));
  for (const auto &entry : node) {
    std::string key = entry.first.Scalar();
    if (llvm::is_contained(allowed, key))
      continue;
    // Suggest the closest allowed key when it is a plausible typo.
    std::string message =
        llvm::formatv("unknown key '{0}' in {1}", key, context).str();
    if (std::optional<StringRef> best = distopt::getClosestName(
            key, allowed, std::max<size_t>(2, key.size() / 3)))
      message += llvm::formatv(" (did you mean '{0}'?)", *best).str();
    return fail(entry.first.Mark(), message);
  }
  for (StringRef key : required)
    if (!node[key.str()])
      return fail(
          node.Mark(),
          llvm::formatv("missing required key '{0}' in {1}", key, context));
  return true;
}

bool ClusterFileReader::checkSequence(const YAML::Node &node, StringRef what) {
  if (!node.IsSequence() || node.size() == 0)
    return fail(node.Mark(),
                llvm::formatv("'{0}' must be a non-empty list", what));
  return true;
}

bool ClusterFileReader::readNumber(const YAML::Node &map, StringRef key,
                                   double &out, bool positive) {
  YAML::Node value = map[key.str()];
  if (!value.IsScalar() || !YAML::convert<double>::decode(value, out))
    return fail(value.Mark(), llvm::formatv("'{0}' must be a number", key));
  if (positive ? !(out > 0) : !(out >= 0))
    return fail(value.Mark(),
                llvm::formatv("'{0}' must be {1} (got {2})", key,
                              positive ? "positive" : "non-negative",
                              value.Scalar()));
  return true;
}

bool ClusterFileReader::readCount(const YAML::Node &map, StringRef key,
                                  unsigned &out) {
  double value;
  if (!readNumber(map, key, value))
    return false;
  if (value != double(unsigned(value)))
    return fail(map[key.str()].Mark(),
                llvm::formatv("'{0}' must be a positive integer", key));
  out = unsigned(value);
  return true;
}

bool ClusterFileReader::readString(const YAML::Node &map, StringRef key,
                                   std::string &out) {
  YAML::Node value = map[key.str()];
  if (!value.IsScalar() || value.Scalar().empty())
    return fail(value.Mark(),
                llvm::formatv("'{0}' must be a non-empty string", key));
  out = value.Scalar();
  return true;
}

bool ClusterFileReader::readLink(const YAML::Node &map, StringRef key,
                                 LinkSpec &out) {
  YAML::Node link = map[key.str()];
  if (!checkMap(link, "link",
                {"bandwidth", "latency", "bandwidth_curve",
                 "all_gather_efficiency", "reduce_scatter_efficiency",
                 "all_gather_curve", "reduce_scatter_curve"},
                {"bandwidth", "latency"}))
    return false;
  double bandwidth, latency;
  if (!readNumber(link, "bandwidth", bandwidth) ||
      !readNumber(link, "latency", latency, /*positive=*/false))
    return false;
  out = LinkSpec();
  out.bandwidth = bandwidth * kGB;
  out.latency = latency * kMicrosecond;
  if ((link["all_gather_efficiency"] &&
       !readNumber(link, "all_gather_efficiency", out.allGatherEfficiency)) ||
      (link["reduce_scatter_efficiency"] &&
       !readNumber(link, "reduce_scatter_efficiency",
                   out.reduceScatterEfficiency)))
    return false;
  return readCurve(link, "bandwidth_curve", out.bandwidthCurve) &&
         readCurve(link, "all_gather_curve", out.allGatherCurve) &&
         readCurve(link, "reduce_scatter_curve", out.reduceScatterCurve);
}

bool ClusterFileReader::readEfficiency(const YAML::Node &map,
                                       ComputeEfficiency &out) {
  // Key, unit (the file's unit in SI), must it be positive, field.
  struct Key {
    StringRef name;
    double unit;
    bool positive;
    double *field;
  } keys[] = {
      {"gemm_efficiency", 1, true, &out.gemmEfficiency},
      {"gemm_half_gflop", 1e9, false, &out.gemmHalfFlops},
      {"memory_efficiency", 1, true, &out.memoryEfficiency},
      {"vector_tflops", 1e12, false, &out.vectorFlops},
      {"op_overhead_us", kMicrosecond, false, &out.opOverhead},
  };
  for (const Key &key : keys) {
    if (!map[key.name.str()])
      continue;
    double value;
    if (!readNumber(map, key.name, value, key.positive))
      return false;
    *key.field = value * key.unit;
  }
  return readCurve(map, "bandwidth_curve", out.bandwidthCurve);
}

bool ClusterFileReader::readCurve(const YAML::Node &map, StringRef key,
                                  llvm::SmallVectorImpl<BandwidthPoint> &out) {
  // [[MB, GB/s], ...], ascending in MB.
  YAML::Node curve = map[key.str()];
  if (!curve)
    return true;
  if (!checkSequence(curve, key))
    return false;
  for (const YAML::Node &point : curve) {
    double bytes, bandwidth;
    if (!point.IsSequence() || point.size() != 2 || !point[0].IsScalar() ||
        !point[1].IsScalar() ||
        !YAML::convert<double>::decode(point[0], bytes) ||
        !YAML::convert<double>::decode(point[1], bandwidth) || !(bytes > 0) ||
        !(bandwidth > 0))
      return fail(point.Mark(),
                  llvm::formatv("each point of '{0}' must be [MB, GB/s], "
                                "two positive numbers",
                                key));
    if (!out.empty() && !(bytes * 1e6 > out.back().bytes))
      return fail(point.Mark(), llvm::formatv("'{0}' must ascend in MB", key));
    out.push_back({bytes * 1e6, bandwidth * kGB});
  }
  return true;
}

llvm::Expected<ClusterSpec> ClusterFileReader::read(const YAML::Node &root) {
  ClusterSpec spec;
  auto failed = [&]() -> llvm::Expected<ClusterSpec> {
    return llvm::createStringError(error);
  };
  if (!root || root.IsNull())
    return llvm::createStringError(
        llvm::formatv("{0}: empty cluster file", bufferName).str());
  if (!checkMap(root, "cluster", {"name", "device_types", "sites", "wan_links"},
                {"device_types", "sites"}))
    return failed();
  spec.name = bufferName.str();
  if (root["name"] && !readString(root, "name", spec.name))
    return failed();

  // Device types.
  llvm::StringMap<unsigned> deviceIndex;
  YAML::Node devices = root["device_types"];
  if (!checkSequence(devices, "device_types"))
    return failed();
  for (const YAML::Node &entry : devices) {
    if (!checkMap(entry, "device type",
                  {"name", "peak_tflops", "memory_gib", "memory_bandwidth",
                   "gemm_efficiency", "gemm_half_gflop", "memory_efficiency",
                   "vector_tflops", "op_overhead_us", "bandwidth_curve"},
                  {"name", "peak_tflops", "memory_gib", "memory_bandwidth"}))
      return failed();
    DeviceType device;
    double tflops, memory, bandwidth;
    if (!readString(entry, "name", device.name) ||
        !readNumber(entry, "peak_tflops", tflops) ||
        !readNumber(entry, "memory_gib", memory) ||
        !readNumber(entry, "memory_bandwidth", bandwidth))
      return failed();
    if (!deviceIndex.try_emplace(device.name, spec.deviceTypes.size()).second) {
      fail(entry["name"].Mark(),
           llvm::formatv("duplicate device type '{0}'", device.name));
      return failed();
    }
    device.peakFlops = tflops * 1e12;
    device.memoryBytes = uint64_t(memory * kGiB);
    device.memoryBandwidth = bandwidth * kGB;
    if (!readEfficiency(entry, device.efficiency))
      return failed();
    spec.deviceTypes.push_back(std::move(device));
  }

  // Sites and their nodes.
  llvm::StringMap<unsigned> siteIndex;
  YAML::Node sites = root["sites"];
  if (!checkSequence(sites, "sites"))
    return failed();
  for (const YAML::Node &site : sites) {
    if (!checkMap(site, "site", {"name", "nodes"}, {"name", "nodes"}))
      return failed();
    std::string siteName;
    if (!readString(site, "name", siteName))
      return failed();
    unsigned siteId = spec.sites.size();
    if (!siteIndex.try_emplace(siteName, siteId).second) {
      fail(site["name"].Mark(),
           llvm::formatv("duplicate site '{0}'", siteName));
      return failed();
    }
    spec.sites.push_back(siteName);
    YAML::Node nodes = site["nodes"];
    if (!checkSequence(nodes, "nodes"))
      return failed();
    for (const YAML::Node &group : nodes) {
      if (!checkMap(group, "node",
                    {"name", "device", "count", "devices_per_node", "cores",
                     "memory_limit_gib", "intra_node", "inter_node"},
                    {"device", "devices_per_node", "intra_node", "inter_node"}))
        return failed();
      NodeSpec node;
      node.site = siteId;
      std::string groupName, deviceName;
      unsigned count = 1;
      if (!readString(group, "device", deviceName) ||
          !readCount(group, "devices_per_node", node.numDevices) ||
          (group["count"] && !readCount(group, "count", count)) ||
          (group["cores"] && !readCount(group, "cores", node.cores)) ||
          (group["name"] && !readString(group, "name", groupName)) ||
          !readLink(group, "intra_node", node.intraNode) ||
          !readLink(group, "inter_node", node.interNode))
        return failed();
      auto device = deviceIndex.find(deviceName);
      if (device == deviceIndex.end()) {
        fail(group["device"].Mark(),
             llvm::formatv("unknown device type '{0}'", deviceName));
        return failed();
      }
      node.deviceType = device->second;
      if (group["memory_limit_gib"]) {
        double limit;
        if (!readNumber(group, "memory_limit_gib", limit))
          return failed();
        node.memoryLimitBytes = uint64_t(limit * kGiB);
      }
      if (groupName.empty())
        groupName = siteName + "-node";
      for (unsigned i = 0; i < count; ++i) {
        node.name = count == 1 ? groupName
                               : llvm::formatv("{0}{1}", groupName, i).str();
        spec.nodes.push_back(node);
      }
    }
  }

  // Wide-area links: every pair of sites needs one.
  if (YAML::Node wans = root["wan_links"]) {
    if (!wans.IsSequence()) {
      fail(wans.Mark(), "'wan_links' must be a list");
      return failed();
    }
    for (const YAML::Node &wan : wans) {
      if (!checkMap(wan, "wan link", {"sites", "bandwidth", "latency"},
                    {"sites", "bandwidth", "latency"}))
        return failed();
      YAML::Node ends = wan["sites"];
      if (!ends.IsSequence() || ends.size() != 2) {
        fail(ends.Mark(), "'sites' must list two site names");
        return failed();
      }
      WanLinkSpec link;
      unsigned *ids[] = {&link.siteA, &link.siteB};
      for (unsigned i = 0; i < 2; ++i) {
        auto it = siteIndex.find(ends[i].Scalar());
        if (!ends[i].IsScalar() || it == siteIndex.end()) {
          fail(ends[i].Mark(),
               llvm::formatv("unknown site '{0}'", ends[i].Scalar()));
          return failed();
        }
        *ids[i] = it->second;
      }
      if (link.siteA == link.siteB) {
        fail(ends.Mark(), "a WAN link joins two different sites");
        return failed();
      }
      if (spec.getWanLink(link.siteA, link.siteB)) {
        fail(ends.Mark(), "duplicate WAN link between these sites");
        return failed();
      }
      double bandwidth, latency;
      if (!readNumber(wan, "bandwidth", bandwidth) ||
          !readNumber(wan, "latency", latency, /*positive=*/false))
        return failed();
      link.link = {bandwidth * kGB, latency * kMicrosecond};
      spec.wanLinks.push_back(link);
    }
  }
  for (unsigned a = 0; a < spec.sites.size(); ++a)
    for (unsigned b = a + 1; b < spec.sites.size(); ++b)
      if (!spec.getWanLink(a, b)) {
        fail(root.Mark(),
             llvm::formatv("no entry in 'wan_links' joins sites '{0}' and "
                           "'{1}'",
                           spec.sites[a], spec.sites[b]));
        return failed();
      }
  return spec;
}

llvm::Expected<ClusterSpec>
distopt::cost::parseClusterYAML(StringRef text, StringRef bufferName) {
  try {
    YAML::Node root = YAML::Load(text.str());
    return ClusterFileReader(bufferName).read(root);
  } catch (const YAML::Exception &e) {
    return llvm::createStringError(llvm::formatv("{0}:{1}:{2}: {3}", bufferName,
                                                 e.mark.line + 1,
                                                 e.mark.column + 1, e.msg)
                                       .str());
  }
}

//===----------------------------------------------------------------------===//
// JSON cluster files
//===----------------------------------------------------------------------===//

namespace {
/// An input iterator over a buffer that publishes how far the JSON lexer
/// has read, so that SAX events can be placed in the text.
class TrackingIterator {
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char *;
  using reference = const char &;

  TrackingIterator(const char *at, const char **cursor)
      : at(at), cursor(cursor) {}
  reference operator*() const { return *at; }
  TrackingIterator &operator++() {
    *cursor = ++at;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const TrackingIterator &other) const {
    return at == other.at;
  }
  bool operator!=(const TrackingIterator &other) const {
    return at != other.at;
  }

private:
  const char *at;
  const char **cursor;
};

/// Strict JSON syntax (nlohmann-json's SAX parser), plus what YAML would
/// accept silently: a key given twice in one object.
class JsonSyntaxChecker : public nlohmann::json_sax<nlohmann::json> {
public:
  JsonSyntaxChecker(StringRef text, const char **cursor)
      : text(text), cursor(cursor) {}

  /// The first problem as `line:column: message`, or empty.
  std::string error;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t &) override { return true; }
  bool string(string_t &) override { return true; }
  bool binary(binary_t &) override { return true; }
  bool start_object(std::size_t) override {
    keys.emplace_back();
    return true;
  }
  bool key(string_t &name) override {
    if (keys.back().insert(name).second)
      return true;
    // The lexer stands just past the key's closing quote: find its opening
    // quote (one not escaped by an odd number of backslashes).
    size_t end = *cursor - text.data();
    size_t start = end >= 2 ? end - 2 : 0;
    while (start > 0) {
      if (text[start] == '"') {
        size_t slashes = 0;
        while (start > slashes && text[start - slashes - 1] == '\\')
          ++slashes;
        if (slashes % 2 == 0)
          break;
      }
      --start;
    }
    error = llvm::formatv("{0}: duplicate key '{1}'", getPosition(start), name)
                .str();
    return false;
  }
  bool end_object() override {
    keys.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &e) override {
    // nlohmann-json says "[json.exception.parse_error.101] parse error at
    // line L, column C: <what>"; keep `L:C: <what>`.
    std::string what = e.what();
    std::smatch match;
    static const std::regex located("line ([0-9]+), column ([0-9]+): (.*)");
    if (std::regex_search(what, match, located))
      error = match[1].str() + ":" + match[2].str() + ": " + match[3].str();
    else
      error = "1:1: " + what;
    return false;
  }

private:
  /// `line:column` (1-based) of byte `offset`.
  std::string getPosition(size_t offset) const {
    StringRef before = text.take_front(offset);
    size_t line = before.count('\n') + 1;
    size_t lineStart = before.rfind('\n');
    size_t column = lineStart == StringRef::npos ? offset + 1
                                                 : offset - lineStart;
    return llvm::formatv("{0}:{1}", line, column).str();
  }

  StringRef text;
  const char **cursor;
  llvm::SmallVector<std::set<std::string>> keys;
};
} // namespace

llvm::Expected<ClusterSpec>
distopt::cost::parseClusterJSON(StringRef text, StringRef bufferName) {
  // Strict JSON first: YAML-only syntax (comments, unquoted strings, block
  // style) is an error in a JSON file.
  const char *cursor = text.data();
  JsonSyntaxChecker checker(text, &cursor);
  try {
    nlohmann::json::sax_parse(TrackingIterator(text.data(), &cursor),
                              TrackingIterator(text.data() + text.size(),
                                               &cursor),
                              &checker);
  } catch (const nlohmann::json::exception &e) {
    checker.error = std::string("1:1: ") + e.what();
  }
  if (!checker.error.empty())
    return llvm::createStringError(
        llvm::formatv("{0}:{1}", bufferName, checker.error).str());
  // JSON is YAML 1.2 in flow style: the same reader checks the keys and
  // values, with positions in this text. Tabs, which JSON allows between
  // tokens and never inside strings, become spaces (same columns), as YAML
  // refuses some of them.
  std::string yaml = text.str();
  std::replace(yaml.begin(), yaml.end(), '\t', ' ');
  return parseClusterYAML(yaml, bufferName);
}

llvm::Expected<ClusterSpec> distopt::cost::parseClusterFile(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(
        buffer.getError(), llvm::formatv("cannot read cluster file '{0}': {1}",
                                         path, buffer.getError().message())
                               .str());
  if (path.ends_with_insensitive(".json"))
    return parseClusterJSON((*buffer)->getBuffer(), path);
  return parseClusterYAML((*buffer)->getBuffer(), path);
}

llvm::Expected<ClusterSpec> distopt::cost::takeDevices(const ClusterSpec &spec,
                                                       unsigned numDevices) {
  unsigned available = spec.getNumDevices();
  if (numDevices > available)
    return llvm::createStringError(
        llvm::formatv("cluster '{0}' describes {1} devices, but {2} were "
                      "requested",
                      spec.name, available, numDevices)
            .str());
  ClusterSpec result = spec;
  result.nodes.clear();
  unsigned left = numDevices;
  for (const NodeSpec &node : spec.nodes) {
    if (left == 0)
      break;
    result.nodes.push_back(node);
    result.nodes.back().numDevices = std::min(left, node.numDevices);
    left -= result.nodes.back().numDevices;
  }
  return result;
}

/// Slows `link` down to `share` of its speed.
static void scaleLink(LinkSpec &link, double share) {
  link.bandwidth *= share;
  link.latency /= share;
  for (auto *curve :
       {&link.bandwidthCurve, &link.allGatherCurve, &link.reduceScatterCurve})
    for (BandwidthPoint &point : *curve)
      point.bandwidth *= share;
}

ClusterSpec distopt::cost::shareCores(ClusterSpec spec) {
  for (NodeSpec &node : spec.nodes) {
    if (node.cores == 0 || node.numDevices <= node.cores ||
        node.coreShare != 1)
      continue;
    double share = double(node.cores) / node.numDevices;
    // The device type, in place unless another node uses it too.
    bool shared = llvm::any_of(spec.nodes, [&](const NodeSpec &other) {
      return &other != &node && other.deviceType == node.deviceType;
    });
    if (shared) {
      DeviceType copy = spec.deviceTypes[node.deviceType];
      copy.name = llvm::formatv("{0} ({1} on {2} cores)", copy.name,
                                node.numDevices, node.cores)
                      .str();
      spec.deviceTypes.push_back(std::move(copy));
      node.deviceType = spec.deviceTypes.size() - 1;
    }
    DeviceType &device = spec.deviceTypes[node.deviceType];
    device.peakFlops *= share;
    device.memoryBandwidth *= share;
    ComputeEfficiency &efficiency = device.efficiency;
    efficiency.vectorFlops *= share;
    efficiency.opOverhead /= share;
    for (BandwidthPoint &point : efficiency.bandwidthCurve)
      point.bandwidth *= share;
    scaleLink(node.intraNode, share);
    scaleLink(node.interNode, share);
    node.coreShare = share;
  }
  return spec;
}

llvm::Expected<ClusterSpec> distopt::cost::getClusterSpec(StringRef nameOrFile,
                                                          unsigned numDevices) {
  if (llvm::is_contained(getClusterPresetNames(), nameOrFile))
    return getClusterPreset(nameOrFile, numDevices);
  // A name that is neither a preset nor a file is most likely a mistyped
  // preset.
  if (!llvm::sys::fs::exists(nameOrFile)) {
    std::string message =
        llvm::formatv("'{0}' is neither a cluster preset nor a file", nameOrFile)
            .str();
    if (std::optional<StringRef> best = distopt::getClosestName(
            nameOrFile, getClusterPresetNames(),
            std::max<size_t>(2, nameOrFile.size() / 3)))
      message += llvm::formatv(" (did you mean '{0}'?)", *best).str();
    message += "; presets are " + llvm::join(getClusterPresetNames(), ", ");
    return llvm::createStringError(message);
  }
  auto spec = parseClusterFile(nameOrFile);
  if (!spec)
    return spec;
  if (numDevices == 0)
    return shareCores(std::move(*spec));
  auto taken = takeDevices(*spec, numDevices);
  if (!taken)
    return taken;
  return shareCores(std::move(*taken));
}
