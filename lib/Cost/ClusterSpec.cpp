//===- ClusterSpec.cpp - Devices, nodes and links of a cluster ------------===//
//
// Where a rank sits, bandwidth curves, taking the first devices of a
// cluster, devices that share cores, and getClusterSpec, which takes a
// preset name (ClusterPresets.cpp) or a cluster file (ClusterFileReader.cpp).
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Support/Suggest.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

using namespace distopt::cost;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// Precision and DeviceType
//===----------------------------------------------------------------------===//

StringRef distopt::cost::stringifyPrecision(Precision precision) {
  switch (precision) {
  case Precision::BF16:
    return "bf16";
  case Precision::FP16:
    return "fp16";
  case Precision::FP32:
    return "fp32";
  }
  llvm_unreachable("unknown precision");
}

std::optional<Precision> distopt::cost::parsePrecision(StringRef name) {
  for (Precision precision :
       {Precision::BF16, Precision::FP16, Precision::FP32})
    if (name == stringifyPrecision(precision))
      return precision;
  return std::nullopt;
}

double DeviceType::getPeakFlops(Precision precision) const {
  if (precision == Precision::FP32 && peakFlopsFp32)
    return *peakFlopsFp32;
  return peakFlops;
}

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
  return RankLocator(*this).getLocation(rank);
}

const DeviceType &ClusterSpec::getDeviceType(unsigned rank) const {
  return RankLocator(*this).getDeviceType(rank);
}

uint64_t ClusterSpec::getDeviceMemory(unsigned rank) const {
  return RankLocator(*this).getDeviceMemory(rank);
}

const LinkSpec *ClusterSpec::getWanLink(unsigned siteA, unsigned siteB) const {
  for (const WanLinkSpec &wan : wanLinks)
    if ((wan.siteA == siteA && wan.siteB == siteB) ||
        (wan.siteA == siteB && wan.siteB == siteA))
      return &wan.link;
  return nullptr;
}

std::optional<double> ClusterSpec::getPricePerHour() const {
  double total = 0;
  for (const NodeSpec &node : nodes) {
    if (node.numDevices == 0)
      continue;
    const std::optional<double> &price =
        deviceTypes[node.deviceType].pricePerHour;
    if (!price)
      return std::nullopt;
    total += *price * node.numDevices;
  }
  return total;
}

//===----------------------------------------------------------------------===//
// RankLocator
//===----------------------------------------------------------------------===//

RankLocator::RankLocator(const ClusterSpec &cluster) : cluster(cluster) {
  firstRanks.reserve(cluster.nodes.size() + 1);
  unsigned first = 0;
  for (const NodeSpec &node : cluster.nodes) {
    firstRanks.push_back(first);
    first += node.numDevices;
  }
  firstRanks.push_back(first);
}

DeviceLocation RankLocator::getLocation(unsigned rank) const {
  assert(rank < firstRanks.back() && "rank out of range");
  // The last node whose first rank is at most `rank`; nodes without
  // devices share their first rank with the next node and are skipped.
  unsigned node =
      std::upper_bound(firstRanks.begin(), firstRanks.end() - 1, rank) -
      firstRanks.begin() - 1;
  return {node, cluster.nodes[node].site, rank - firstRanks[node]};
}

const DeviceType &RankLocator::getDeviceType(unsigned rank) const {
  return cluster.deviceTypes[cluster.nodes[getLocation(rank).node].deviceType];
}

unsigned RankLocator::getRanksLeftInNode(unsigned rank) const {
  DeviceLocation location = getLocation(rank);
  return firstRanks[location.node + 1] - rank;
}

ClusterSpec
distopt::cost::sortNodesBySpeed(const ClusterSpec &cluster,
                                llvm::SmallVectorImpl<unsigned> &fileNode) {
  fileNode.clear();
  for (unsigned i = 0; i < cluster.nodes.size(); ++i)
    fileNode.push_back(i);
  auto key = [&](unsigned i) {
    const NodeSpec &node = cluster.nodes[i];
    const DeviceType &device = cluster.deviceTypes[node.deviceType];
    uint64_t memory = node.memoryLimitBytes
                          ? std::min(*node.memoryLimitBytes, device.memoryBytes)
                          : device.memoryBytes;
    // Larger is better in every place.
    return std::make_tuple(device.peakFlops * device.efficiency.gemmEfficiency,
                           memory, device.memoryBandwidth,
                           node.intraNode.bandwidth, node.interNode.bandwidth,
                           node.numDevices);
  };
  std::stable_sort(fileNode.begin(), fileNode.end(),
                   [&](unsigned a, unsigned b) { return key(a) > key(b); });
  ClusterSpec sorted = cluster;
  for (auto [i, from] : llvm::enumerate(fileNode))
    sorted.nodes[i] = cluster.nodes[from];
  return sorted;
}

llvm::SmallVector<const DeviceType *>
RankLocator::getDeviceTypes(unsigned first, unsigned end) const {
  llvm::SmallVector<bool> used(cluster.deviceTypes.size(), false);
  for (unsigned rank = first; rank < end; rank += getRanksLeftInNode(rank))
    used[cluster.nodes[getLocation(rank).node].deviceType] = true;
  llvm::SmallVector<const DeviceType *> types;
  for (auto [i, isUsed] : llvm::enumerate(used))
    if (isUsed)
      types.push_back(&cluster.deviceTypes[i]);
  return types;
}

uint64_t RankLocator::getLeastDeviceMemory(unsigned first, unsigned end) const {
  uint64_t least = std::numeric_limits<uint64_t>::max();
  for (unsigned rank = first; rank < end; rank += getRanksLeftInNode(rank))
    least = std::min(least, getDeviceMemory(rank));
  return least;
}

uint64_t RankLocator::getDeviceMemory(unsigned rank) const {
  const NodeSpec &node = cluster.nodes[getLocation(rank).node];
  uint64_t memory = cluster.deviceTypes[node.deviceType].memoryBytes;
  if (node.memoryLimitBytes)
    return std::min(memory, *node.memoryLimitBytes);
  return memory;
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
// Devices of a cluster
//===----------------------------------------------------------------------===//

llvm::Expected<ClusterSpec> distopt::cost::takeDevices(const ClusterSpec &spec,
                                                       unsigned numDevices) {
  unsigned available = spec.getNumDevices();
  if (numDevices > available)
    return llvm::createStringError(
        llvm::formatv("cluster '{0}' describes {1} devices, but {2} were "
                      "requested",
                      spec.name, available, numDevices)
            .str());
  // The fastest devices, whatever the order of the file: the nodes are
  // taken in sortNodesBySpeed's order, and kept in the file's.
  llvm::SmallVector<unsigned> bySpeed;
  sortNodesBySpeed(spec, bySpeed);
  llvm::SmallVector<unsigned> taken(spec.nodes.size(), 0);
  unsigned left = numDevices;
  for (unsigned node : bySpeed) {
    taken[node] = std::min(left, spec.nodes[node].numDevices);
    left -= taken[node];
  }
  ClusterSpec result = spec;
  result.nodes.clear();
  if (numDevices < available)
    result.describedDevices =
        spec.describedDevices ? spec.describedDevices : available;
  for (auto [node, count] : llvm::zip_equal(spec.nodes, taken))
    if (count > 0) {
      result.nodes.push_back(node);
      result.nodes.back().numDevices = count;
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
    if (device.peakFlopsFp32)
      *device.peakFlopsFp32 *= share;
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
  if (numDevices > kMaxClusterDevices)
    return llvm::createStringError(
        llvm::formatv("{0} devices asked for; at most {1} are supported",
                      numDevices, kMaxClusterDevices)
            .str());
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
