//===- CollectiveCost.h - Alpha-beta cost of collectives -------*- C++ -*-===//
//
// Time of collectives on a ClusterSpec with the alpha-beta model: a latency
// term per algorithm step plus (S / B) * f, with f the nccl-tests bus
// bandwidth factor. Groups that span nodes or sites are costed
// hierarchically (inside nodes, then across nodes, then across sites), and
// at each level the slowest link among the participants decides.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_COLLECTIVECOST_H
#define DISTOPT_COST_COLLECTIVECOST_H

#include "distopt/Cost/ClusterSpec.h"

#include "llvm/ADT/ArrayRef.h"

namespace distopt::cost {

enum class CollectiveKind {
  AllReduce,
  AllGather,
  ReduceScatter,
  AllToAll,
  Broadcast,
  Reduce,
  SendRecv,
};

enum class CollectiveAlgorithm { Ring, Tree };

llvm::StringRef stringifyCollectiveKind(CollectiveKind kind);

/// nccl-tests bus bandwidth factor f for `n` ranks: 2(n-1)/n for all-reduce,
/// (n-1)/n for all-gather, reduce-scatter and all-to-all, 1 for broadcast,
/// reduce and send/recv. 0 when n <= 1 (nothing moves).
double getBusBandwidthFactor(CollectiveKind kind, unsigned n);

/// Time in seconds of one collective among `n` ranks joined by one link
/// level. `bytes` is the size S of the full buffer (the all-reduce buffer,
/// the all-gather output, the reduce-scatter input, each rank's all-to-all
/// buffer, the broadcast message). `sharing` ranks send over the same link
/// at once and divide its bandwidth (1 for per-device links).
///
/// Ring: latency (n-1) steps (2(n-1) for all-reduce), bandwidth (S/B) f.
/// Tree (all-reduce, broadcast, reduce; others fall back to ring): latency
/// ceil(log2 n) steps (twice for all-reduce), bandwidth S/B (2 S/B for
/// all-reduce: reduce up, broadcast down, pipelined).
double getFlatCollectiveTime(CollectiveKind kind, CollectiveAlgorithm algo,
                             double bytes, unsigned n, const LinkSpec &link,
                             unsigned sharing = 1);

/// How a group of ranks spreads over the levels of a cluster, and the
/// slowest link it uses at each level: what a collective among them costs
/// depends on nothing else.
struct CollectiveGroup {
  unsigned size = 0;
  /// Most ranks of the group in one node.
  unsigned perNode = 0;
  /// Most nodes of the group in one site.
  unsigned nodesPerSite = 0;
  unsigned numSites = 0;
  LinkSpec intraNode, interNode, wan;
};

/// The group of `ranks` (distinct and valid), in O(ranks log nodes).
CollectiveGroup getCollectiveGroup(const RankLocator &locator,
                                   llvm::ArrayRef<unsigned> ranks);

/// Time in seconds of one collective on `group` (hierarchical when it
/// spans nodes or sites). For SendRecv, the group holds the sender and the
/// receiver.
double getCollectiveTime(const CollectiveGroup &group, CollectiveKind kind,
                         CollectiveAlgorithm algo, double bytes);

/// The same among `ranks` of `cluster`: getCollectiveGroup, then the time.
double getCollectiveTime(const ClusterSpec &cluster, CollectiveKind kind,
                         CollectiveAlgorithm algo, double bytes,
                         llvm::ArrayRef<unsigned> ranks);

} // namespace distopt::cost

#endif // DISTOPT_COST_COLLECTIVECOST_H
