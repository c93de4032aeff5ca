//===- ClusterFileReader.cpp - Cluster files (YAML or JSON) to ClusterSpec ===//
//
// The one reader of the cluster file format (docs/cluster.md): it reads the
// located tree that the YAML and the JSON parsers produce
// (ClusterDocument.h), so both formats have the same keys and checks. Every
// map is checked: unknown keys get a suggestion, missing ones name the map,
// and every message carries file:line:column.
//
//===----------------------------------------------------------------------===//

#include "ClusterDocument.h"

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Support/Suggest.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <locale>
#include <sstream>

using namespace distopt::cost;
using namespace distopt::cost::fileunits;
using llvm::StringRef;

/// Reads `text` as a decimal number the way yaml-cpp does (the whole text,
/// C locale, surrounding blanks allowed); infinities and NaN are not
/// numbers of the format.
static bool parseDouble(const std::string &text, double &out) {
  std::istringstream stream(text);
  stream.imbue(std::locale::classic());
  if (!(stream >> std::noskipws >> out))
    return false;
  return (stream >> std::ws).eof() && std::isfinite(out);
}

namespace {
/// Reads one document into a ClusterSpec; the first problem found is kept
/// in `error` and stops the reading.
class ClusterFileReader {
public:
  explicit ClusterFileReader(StringRef bufferName) : bufferName(bufferName) {}

  llvm::Expected<ClusterSpec> read(const DocumentNode &root);

private:
  /// Records an error at `location` and returns false.
  bool fail(DocumentLocation location, const llvm::Twine &message) {
    if (!error.empty())
      return false;
    error = llvm::formatv("{0}:{1}:{2}: {3}", bufferName, location.line,
                          location.column, message.str())
                .str();
    return false;
  }
  bool fail(const DocumentNode &node, const llvm::Twine &message) {
    return fail(node.location, message);
  }

  /// The value of `key` in `map`; a null node at the map when absent.
  const DocumentNode &get(const DocumentNode &map, StringRef key) {
    if (const DocumentNode *value = map.lookup(key))
      return *value;
    missing.location = map.location;
    return missing;
  }

  /// Checks that `node` is a map whose keys are all in `allowed` and that
  /// every key of `required` is present.
  bool checkMap(const DocumentNode &node, StringRef context,
                llvm::ArrayRef<StringRef> allowed,
                llvm::ArrayRef<StringRef> required);
  bool checkSequence(const DocumentNode &node, StringRef what);

  bool readNumber(const DocumentNode &map, StringRef key, double &out,
                  bool positive = true);
  bool readCount(const DocumentNode &map, StringRef key, unsigned &out);
  bool readString(const DocumentNode &map, StringRef key, std::string &out);
  bool readLink(const DocumentNode &map, StringRef key, LinkSpec &out);
  /// Reads the optional efficiency keys of a device type; absent keys keep
  /// the defaults of ComputeEfficiency.
  bool readEfficiency(const DocumentNode &map, ComputeEfficiency &out);
  /// Reads the optional curve `key` of `map` ([[MB, GB/s], ...]).
  bool readCurve(const DocumentNode &map, StringRef key,
                 llvm::SmallVectorImpl<BandwidthPoint> &out);

  bool readDeviceTypes(const DocumentNode &root, ClusterSpec &spec);
  bool readSites(const DocumentNode &root, ClusterSpec &spec);
  /// Reads one entry of a site's `nodes` (a group of `count` nodes).
  bool readNodeGroup(const DocumentNode &group, const std::string &siteName,
                     unsigned siteId, ClusterSpec &spec);
  bool readWanLinks(const DocumentNode &root, ClusterSpec &spec);

  StringRef bufferName;
  std::string error;
  llvm::StringMap<unsigned> deviceIndex;
  llvm::StringMap<unsigned> siteIndex;
  DocumentNode missing;
};
} // namespace

bool ClusterFileReader::checkMap(const DocumentNode &node, StringRef context,
                                 llvm::ArrayRef<StringRef> allowed,
                                 llvm::ArrayRef<StringRef> required) {
  if (!node.isMap())
    return fail(node, llvm::formatv("expected a map for {0}", context));
  for (const auto &[key, value] : node.entries) {
    if (llvm::is_contained(allowed, key.scalar))
      continue;
    // Suggest the closest allowed key when it is a plausible typo.
    std::string message =
        llvm::formatv("unknown key '{0}' in {1}", key.scalar, context).str();
    if (std::optional<StringRef> best = distopt::getClosestName(
            key.scalar, allowed, std::max<size_t>(2, key.scalar.size() / 3)))
      message += llvm::formatv(" (did you mean '{0}'?)", *best).str();
    return fail(key, message);
  }
  for (StringRef key : required)
    if (!node.lookup(key))
      return fail(node, llvm::formatv("missing required key '{0}' in {1}", key,
                                      context));
  return true;
}

bool ClusterFileReader::checkSequence(const DocumentNode &node,
                                      StringRef what) {
  if (!node.isSequence() || node.items.empty())
    return fail(node, llvm::formatv("'{0}' must be a non-empty list", what));
  return true;
}

/// The largest value a key of a cluster file may have, in the file's
/// units, and the smallest positive one: figures beyond these describe no
/// machine (they are typos, and would overflow the cost model's sums).
static std::pair<double, double> getPlausibleRange(StringRef key) {
  if (key.ends_with("efficiency"))
    return {1e-6, 1.0};
  if (key == "count" || key == "devices_per_node" || key == "cores")
    return {1, double(kMaxClusterDevices)};
  // USD per device-hour: a device rented for more is a typo.
  if (key == "price_per_hour")
    return {1e-6, 1e4};
  if (key == "latency" || key == "op_overhead_us")
    return {1e-6, 1e9}; // microseconds: up to a quarter of an hour
  // TFLOP/s, GiB, GB/s, GFLOP: from a microcontroller to a data center.
  return {1e-6, 1e9};
}

bool ClusterFileReader::readNumber(const DocumentNode &map, StringRef key,
                                   double &out, bool positive) {
  const DocumentNode &value = get(map, key);
  if (!value.isScalar() || value.quoted || !parseDouble(value.scalar, out))
    return fail(value, llvm::formatv("'{0}' must be a number{1}", key,
                                     value.quoted ? ", not a string" : ""));
  if (positive ? !(out > 0) : !(out >= 0))
    return fail(value, llvm::formatv("'{0}' must be {1} (got {2})", key,
                                     positive ? "positive" : "non-negative",
                                     value.scalar));
  auto [smallest, largest] = getPlausibleRange(key);
  if (out > largest || (out > 0 && out < smallest)) {
    char range[64];
    std::snprintf(range, sizeof(range), "[%.7g, %.7g]", smallest, largest);
    return fail(value, llvm::formatv("'{0}' = {1} is outside the plausible "
                                     "range {2}",
                                     key, value.scalar, range));
  }
  return true;
}

bool ClusterFileReader::readCount(const DocumentNode &map, StringRef key,
                                  unsigned &out) {
  double value;
  if (!readNumber(map, key, value))
    return false;
  if (value > double(std::numeric_limits<unsigned>::max()) ||
      value != double(unsigned(value)))
    return fail(get(map, key),
                llvm::formatv("'{0}' must be a positive integer", key));
  out = unsigned(value);
  return true;
}

bool ClusterFileReader::readString(const DocumentNode &map, StringRef key,
                                   std::string &out) {
  const DocumentNode &value = get(map, key);
  if (!value.isScalar() || value.scalar.empty())
    return fail(value, llvm::formatv("'{0}' must be a non-empty string", key));
  out = value.scalar;
  return true;
}

bool ClusterFileReader::readLink(const DocumentNode &map, StringRef key,
                                 LinkSpec &out) {
  const DocumentNode &link = get(map, key);
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
  out.bandwidth = bandwidth * kGBs;
  out.latency = latency * kMicrosecond;
  if ((link.lookup("all_gather_efficiency") &&
       !readNumber(link, "all_gather_efficiency", out.allGatherEfficiency)) ||
      (link.lookup("reduce_scatter_efficiency") &&
       !readNumber(link, "reduce_scatter_efficiency",
                   out.reduceScatterEfficiency)))
    return false;
  return readCurve(link, "bandwidth_curve", out.bandwidthCurve) &&
         readCurve(link, "all_gather_curve", out.allGatherCurve) &&
         readCurve(link, "reduce_scatter_curve", out.reduceScatterCurve);
}

bool ClusterFileReader::readEfficiency(const DocumentNode &map,
                                       ComputeEfficiency &out) {
  // Key, unit (the file's unit in SI), must it be positive, field.
  struct Key {
    StringRef name;
    double unit;
    bool positive;
    double *field;
  } keys[] = {
      {"gemm_efficiency", 1, true, &out.gemmEfficiency},
      {"gemm_half_gflop", kGFLOP, false, &out.gemmHalfFlops},
      {"memory_efficiency", 1, true, &out.memoryEfficiency},
      {"vector_tflops", kTFLOPs, false, &out.vectorFlops},
      {"op_overhead_us", kMicrosecond, false, &out.opOverhead},
  };
  for (const Key &key : keys) {
    if (!map.lookup(key.name))
      continue;
    double value;
    if (!readNumber(map, key.name, value, key.positive))
      return false;
    *key.field = value * key.unit;
  }
  return readCurve(map, "bandwidth_curve", out.bandwidthCurve);
}

bool ClusterFileReader::readCurve(const DocumentNode &map, StringRef key,
                                  llvm::SmallVectorImpl<BandwidthPoint> &out) {
  // [[MB, GB/s], ...], ascending in MB.
  const DocumentNode *curve = map.lookup(key);
  if (!curve)
    return true;
  if (!checkSequence(*curve, key))
    return false;
  for (const DocumentNode &point : curve->items) {
    double bytes, bandwidth;
    if (!point.isSequence() || point.items.size() != 2 ||
        !point.items[0].isScalar() || !point.items[1].isScalar() ||
        !parseDouble(point.items[0].scalar, bytes) ||
        !parseDouble(point.items[1].scalar, bandwidth) || !(bytes > 0) ||
        !(bandwidth > 0))
      return fail(point, llvm::formatv("each point of '{0}' must be [MB, "
                                       "GB/s], two positive numbers",
                                       key));
    if (!out.empty() && !(bytes * kMB > out.back().bytes))
      return fail(point, llvm::formatv("'{0}' must ascend in MB", key));
    out.push_back({bytes * kMB, bandwidth * kGBs});
  }
  return true;
}

bool ClusterFileReader::readDeviceTypes(const DocumentNode &root,
                                        ClusterSpec &spec) {
  const DocumentNode &devices = get(root, "device_types");
  if (!checkSequence(devices, "device_types"))
    return false;
  for (const DocumentNode &entry : devices.items) {
    if (!checkMap(entry, "device type",
                  {"name", "peak_tflops", "peak_tflops_fp32", "memory_gib",
                   "memory_bandwidth", "gemm_efficiency", "gemm_half_gflop",
                   "memory_efficiency", "vector_tflops", "op_overhead_us",
                   "bandwidth_curve", "price_per_hour"},
                  {"name", "peak_tflops", "memory_gib", "memory_bandwidth"}))
      return false;
    DeviceType device;
    double tflops, memory, bandwidth;
    if (!readString(entry, "name", device.name) ||
        !readNumber(entry, "peak_tflops", tflops) ||
        !readNumber(entry, "memory_gib", memory) ||
        !readNumber(entry, "memory_bandwidth", bandwidth))
      return false;
    if (!deviceIndex.try_emplace(device.name, spec.deviceTypes.size()).second)
      return fail(get(entry, "name"),
                  llvm::formatv("duplicate device type '{0}'", device.name));
    device.peakFlops = tflops * kTFLOPs;
    device.memoryBytes = uint64_t(memory * kGiB);
    device.memoryBandwidth = bandwidth * kGBs;
    if (entry.lookup("peak_tflops_fp32")) {
      double fp32;
      if (!readNumber(entry, "peak_tflops_fp32", fp32))
        return false;
      device.peakFlopsFp32 = fp32 * kTFLOPs;
    }
    if (!readEfficiency(entry, device.efficiency))
      return false;
    if (entry.lookup("price_per_hour")) {
      double price;
      if (!readNumber(entry, "price_per_hour", price, /*positive=*/false))
        return false;
      device.pricePerHour = price;
    }
    spec.deviceTypes.push_back(std::move(device));
  }
  return true;
}

bool ClusterFileReader::readNodeGroup(const DocumentNode &group,
                                      const std::string &siteName,
                                      unsigned siteId, ClusterSpec &spec) {
  if (!checkMap(group, "node",
                {"name", "device", "count", "devices_per_node", "cores",
                 "memory_limit_gib", "intra_node", "inter_node"},
                {"device", "devices_per_node", "intra_node", "inter_node"}))
    return false;
  NodeSpec node;
  node.site = siteId;
  std::string groupName, deviceName;
  unsigned count = 1;
  if (!readString(group, "device", deviceName) ||
      !readCount(group, "devices_per_node", node.numDevices) ||
      (group.lookup("count") && !readCount(group, "count", count)) ||
      (group.lookup("cores") && !readCount(group, "cores", node.cores)) ||
      (group.lookup("name") && !readString(group, "name", groupName)) ||
      !readLink(group, "intra_node", node.intraNode) ||
      !readLink(group, "inter_node", node.interNode))
    return false;
  auto device = deviceIndex.find(deviceName);
  if (device == deviceIndex.end())
    return fail(get(group, "device"),
                llvm::formatv("unknown device type '{0}'", deviceName));
  node.deviceType = device->second;
  if (group.lookup("memory_limit_gib")) {
    double limit;
    if (!readNumber(group, "memory_limit_gib", limit))
      return false;
    node.memoryLimitBytes = uint64_t(limit * kGiB);
  }
  if (groupName.empty())
    groupName = siteName + "-node";
  uint64_t devices = uint64_t(count) * node.numDevices;
  for (const NodeSpec &other : spec.nodes)
    devices += other.numDevices;
  if (devices > kMaxClusterDevices)
    return fail(group, llvm::formatv("the cluster has {0} devices; at most "
                                     "{1} are supported",
                                     devices, kMaxClusterDevices));
  for (unsigned i = 0; i < count; ++i) {
    node.name =
        count == 1 ? groupName : llvm::formatv("{0}{1}", groupName, i).str();
    spec.nodes.push_back(node);
  }
  return true;
}

bool ClusterFileReader::readSites(const DocumentNode &root, ClusterSpec &spec) {
  const DocumentNode &sites = get(root, "sites");
  if (!checkSequence(sites, "sites"))
    return false;
  for (const DocumentNode &site : sites.items) {
    if (!checkMap(site, "site", {"name", "nodes"}, {"name", "nodes"}))
      return false;
    std::string siteName;
    if (!readString(site, "name", siteName))
      return false;
    unsigned siteId = spec.sites.size();
    if (!siteIndex.try_emplace(siteName, siteId).second)
      return fail(get(site, "name"),
                  llvm::formatv("duplicate site '{0}'", siteName));
    spec.sites.push_back(siteName);
    const DocumentNode &nodes = get(site, "nodes");
    if (!checkSequence(nodes, "nodes"))
      return false;
    for (const DocumentNode &group : nodes.items)
      if (!readNodeGroup(group, siteName, siteId, spec))
        return false;
  }
  return true;
}

bool ClusterFileReader::readWanLinks(const DocumentNode &root,
                                     ClusterSpec &spec) {
  // Every pair of sites needs one.
  if (const DocumentNode *wans = root.lookup("wan_links")) {
    if (!wans->isSequence())
      return fail(*wans, "'wan_links' must be a list");
    for (const DocumentNode &wan : wans->items) {
      if (!checkMap(wan, "wan link", {"sites", "bandwidth", "latency"},
                    {"sites", "bandwidth", "latency"}))
        return false;
      const DocumentNode &ends = get(wan, "sites");
      if (!ends.isSequence() || ends.items.size() != 2)
        return fail(ends, "'sites' must list two site names");
      WanLinkSpec link;
      unsigned *ids[] = {&link.siteA, &link.siteB};
      for (unsigned i = 0; i < 2; ++i) {
        const DocumentNode &end = ends.items[i];
        auto it = siteIndex.find(end.scalar);
        if (!end.isScalar() || it == siteIndex.end())
          return fail(end, llvm::formatv("unknown site '{0}'", end.scalar));
        *ids[i] = it->second;
      }
      if (link.siteA == link.siteB)
        return fail(ends, "a WAN link joins two different sites");
      if (spec.getWanLink(link.siteA, link.siteB))
        return fail(ends, "duplicate WAN link between these sites");
      double bandwidth, latency;
      if (!readNumber(wan, "bandwidth", bandwidth) ||
          !readNumber(wan, "latency", latency, /*positive=*/false))
        return false;
      link.link = {bandwidth * kGBs, latency * kMicrosecond};
      spec.wanLinks.push_back(link);
    }
  }
  for (unsigned a = 0; a < spec.sites.size(); ++a)
    for (unsigned b = a + 1; b < spec.sites.size(); ++b)
      if (!spec.getWanLink(a, b))
        return fail(root, llvm::formatv("no entry in 'wan_links' joins sites "
                                        "'{0}' and '{1}'",
                                        spec.sites[a], spec.sites[b]));
  return true;
}

llvm::Expected<ClusterSpec> ClusterFileReader::read(const DocumentNode &root) {
  if (root.isNull())
    return llvm::createStringError(
        llvm::formatv("{0}: empty cluster file", bufferName).str());
  ClusterSpec spec;
  spec.name = bufferName.str();
  if (!checkMap(root, "cluster", {"name", "device_types", "sites", "wan_links"},
                {"device_types", "sites"}) ||
      (root.lookup("name") && !readString(root, "name", spec.name)) ||
      !readDeviceTypes(root, spec) || !readSites(root, spec) ||
      !readWanLinks(root, spec))
    return llvm::createStringError(error);
  return spec;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

llvm::Expected<ClusterSpec>
distopt::cost::parseClusterYAML(StringRef text, StringRef bufferName) {
  llvm::Expected<DocumentNode> document = parseYAMLDocument(text, bufferName);
  if (!document)
    return document.takeError();
  return ClusterFileReader(bufferName).read(*document);
}

llvm::Expected<ClusterSpec>
distopt::cost::parseClusterJSON(StringRef text, StringRef bufferName) {
  llvm::Expected<DocumentNode> document = parseJSONDocument(text, bufferName);
  if (!document)
    return document.takeError();
  return ClusterFileReader(bufferName).read(*document);
}

llvm::Expected<ClusterSpec> distopt::cost::parseClusterFile(StringRef path) {
  // A cluster file is a small regular file: a device or a pipe (e.g.
  // /dev/zero) would be read without end.
  constexpr uint64_t kMaxFileBytes = 16u << 20;
  llvm::sys::fs::file_status status;
  if (std::error_code error = llvm::sys::fs::status(path, status))
    return llvm::createStringError(
        error, llvm::formatv("cannot read cluster file '{0}': {1}", path,
                             error.message())
                   .str());
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return llvm::createStringError(
        llvm::formatv("cluster file '{0}' is not a regular file", path).str());
  if (status.getSize() > kMaxFileBytes)
    return llvm::createStringError(
        llvm::formatv("cluster file '{0}' has {1} bytes; at most {2} are read",
                      path, status.getSize(), kMaxFileBytes)
            .str());
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
