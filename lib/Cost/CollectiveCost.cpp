//===- CollectiveCost.cpp - Alpha-beta cost of collectives ----------------===//
//
// Flat alpha-beta formulas per link level and their hierarchical
// composition over nodes and sites.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/CollectiveCost.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cassert>

using namespace distopt::cost;

llvm::StringRef distopt::cost::stringifyCollectiveKind(CollectiveKind kind) {
  switch (kind) {
  case CollectiveKind::AllReduce:
    return "all-reduce";
  case CollectiveKind::AllGather:
    return "all-gather";
  case CollectiveKind::ReduceScatter:
    return "reduce-scatter";
  case CollectiveKind::AllToAll:
    return "all-to-all";
  case CollectiveKind::Broadcast:
    return "broadcast";
  case CollectiveKind::Reduce:
    return "reduce";
  case CollectiveKind::SendRecv:
    return "send-recv";
  }
  return "unknown";
}

double distopt::cost::getBusBandwidthFactor(CollectiveKind kind, unsigned n) {
  if (n <= 1)
    return 0;
  double dn = n;
  switch (kind) {
  case CollectiveKind::AllReduce:
    return 2 * (dn - 1) / dn;
  case CollectiveKind::AllGather:
  case CollectiveKind::ReduceScatter:
  case CollectiveKind::AllToAll:
    return (dn - 1) / dn;
  case CollectiveKind::Broadcast:
  case CollectiveKind::Reduce:
  case CollectiveKind::SendRecv:
    return 1;
  }
  return 0;
}

static bool hasTreeAlgorithm(CollectiveKind kind) {
  return kind == CollectiveKind::AllReduce ||
         kind == CollectiveKind::Broadcast || kind == CollectiveKind::Reduce;
}

double distopt::cost::getFlatCollectiveTime(CollectiveKind kind,
                                            CollectiveAlgorithm algo,
                                            double bytes, unsigned n,
                                            const LinkSpec &link,
                                            unsigned sharing) {
  if (n <= 1 || bytes <= 0)
    return 0;
  double bandwidth = link.getBandwidth(bytes) / std::max(1u, sharing);
  if (kind == CollectiveKind::AllGather)
    bandwidth = link.allGatherCurve.empty()
                    ? bandwidth * link.allGatherEfficiency
                    : interpolateBandwidth(link.allGatherCurve, bytes) /
                          std::max(1u, sharing);
  else if (kind == CollectiveKind::ReduceScatter)
    bandwidth = link.reduceScatterCurve.empty()
                    ? bandwidth * link.reduceScatterEfficiency
                    : interpolateBandwidth(link.reduceScatterCurve, bytes) /
                          std::max(1u, sharing);
  if (kind == CollectiveKind::SendRecv)
    return link.latency + bytes / bandwidth;
  if (algo == CollectiveAlgorithm::Tree && hasTreeAlgorithm(kind)) {
    double depth = llvm::Log2_64_Ceil(n);
    double factor = kind == CollectiveKind::AllReduce ? 2 : 1;
    return factor * depth * link.latency + factor * bytes / bandwidth;
  }
  double steps = kind == CollectiveKind::AllReduce ? 2.0 * (n - 1) : n - 1;
  return steps * link.latency +
         bytes / bandwidth * getBusBandwidthFactor(kind, n);
}

static LinkSpec slowerOf(const LinkSpec &a, const LinkSpec &b) {
  // The slower link's measured curve and efficiencies go with its bandwidth.
  LinkSpec slower = a.bandwidth <= b.bandwidth ? a : b;
  slower.latency = std::max(a.latency, b.latency);
  return slower;
}

CollectiveGroup
distopt::cost::getCollectiveGroup(const RankLocator &locator,
                                  llvm::ArrayRef<unsigned> ranks) {
  const ClusterSpec &cluster = locator.getCluster();
  CollectiveGroup shape;
  shape.size = ranks.size();
  llvm::DenseMap<unsigned, unsigned> ranksPerNode;
  llvm::DenseMap<unsigned, llvm::DenseSet<unsigned>> nodesPerSite;
  constexpr double inf = 1e300;
  shape.intraNode = shape.interNode = shape.wan = {inf, 0};
  for (unsigned rank : ranks) {
    DeviceLocation loc = locator.getLocation(rank);
    ++ranksPerNode[loc.node];
    nodesPerSite[loc.site].insert(loc.node);
  }
  for (auto &[node, count] : ranksPerNode) {
    shape.perNode = std::max(shape.perNode, count);
    shape.intraNode = slowerOf(shape.intraNode, cluster.nodes[node].intraNode);
    shape.interNode = slowerOf(shape.interNode, cluster.nodes[node].interNode);
  }
  for (auto &[site, nodes] : nodesPerSite)
    shape.nodesPerSite =
        std::max(shape.nodesPerSite, static_cast<unsigned>(nodes.size()));
  shape.numSites = nodesPerSite.size();
  for (auto &[siteA, nodesA] : nodesPerSite)
    for (auto &[siteB, nodesB] : nodesPerSite) {
      if (siteA >= siteB)
        continue;
      // A missing WAN link is rejected when a cluster is built; treat it as
      // unusable here rather than crash.
      const LinkSpec *wan = cluster.getWanLink(siteA, siteB);
      shape.wan = slowerOf(shape.wan, wan ? *wan : LinkSpec{1, inf});
    }
  return shape;
}

double distopt::cost::getCollectiveTime(const ClusterSpec &cluster,
                                        CollectiveKind kind,
                                        CollectiveAlgorithm algo, double bytes,
                                        llvm::ArrayRef<unsigned> ranks) {
  return getCollectiveTime(getCollectiveGroup(RankLocator(cluster), ranks),
                           kind, algo, bytes);
}

double distopt::cost::getCollectiveTime(const CollectiveGroup &g,
                                        CollectiveKind kind,
                                        CollectiveAlgorithm algo,
                                        double bytes) {
  if (g.size <= 1 || bytes <= 0)
    return 0;
  if (kind == CollectiveKind::SendRecv) {
    assert(g.size == 2 && "send/recv takes a sender and a receiver");
    const LinkSpec &link = g.numSites > 1       ? g.wan
                           : g.nodesPerSite > 1 ? g.interNode
                                                : g.intraNode;
    return getFlatCollectiveTime(kind, algo, bytes, 2, link);
  }
  unsigned l = g.perNode, k = g.nodesPerSite, s = g.numSites;
  // Devices of one site sharing the site's WAN link at once.
  unsigned siteSharing = l * k;
  auto flat = [&](CollectiveKind kind, double size, unsigned n,
                  const LinkSpec &link, unsigned sharing = 1) {
    return getFlatCollectiveTime(kind, algo, size, n, link, sharing);
  };
  switch (kind) {
  case CollectiveKind::AllReduce: {
    // Reduce-scatter inside nodes, then across nodes, all-reduce of the
    // remaining shard across sites, then all-gather back up.
    if (k * s == 1)
      return flat(kind, bytes, l, g.intraNode);
    double time =
        2 * flat(CollectiveKind::ReduceScatter, bytes, l, g.intraNode);
    double nodeShard = bytes / l;
    if (s == 1)
      return time + flat(kind, nodeShard, k, g.interNode);
    time += 2 * flat(CollectiveKind::ReduceScatter, nodeShard, k, g.interNode);
    return time + flat(kind, nodeShard / k, s, g.wan, siteSharing);
  }
  case CollectiveKind::AllGather:
  case CollectiveKind::ReduceScatter: {
    // Symmetric: all-gather goes sites -> nodes -> devices, reduce-scatter
    // the other way; every level moves its share of the full buffer.
    double siteShare = bytes / (double(l) * k);
    return flat(kind, siteShare, s, g.wan, siteSharing) +
           flat(kind, bytes / l, k, g.interNode) +
           flat(kind, bytes, l, g.intraNode);
  }
  case CollectiveKind::AllToAll: {
    // Each device sends S/n to every other device; the part leaving its node
    // crosses the inter-node port, the part leaving its site the WAN link.
    double n = g.size;
    double chunk = bytes / n;
    double time =
        (l - 1) * g.intraNode.latency + chunk * (l - 1) / g.intraNode.bandwidth;
    if (k > 1)
      time += (k - 1) * g.interNode.latency +
              chunk * l * (k - 1) / g.interNode.bandwidth;
    if (s > 1)
      time += (s - 1) * g.wan.latency +
              chunk * l * k * (s - 1) * siteSharing / g.wan.bandwidth;
    return time;
  }
  case CollectiveKind::Broadcast:
  case CollectiveKind::Reduce:
    // One message crosses each level in turn.
    return flat(kind, bytes, s, g.wan) + flat(kind, bytes, k, g.interNode) +
           flat(kind, bytes, l, g.intraNode);
  case CollectiveKind::SendRecv:
    break;
  }
  return 0;
}
