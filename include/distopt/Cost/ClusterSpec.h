//===- ClusterSpec.h - Devices, nodes, links and sites -------- -*- C++ -*-===//
//
// A cluster as the cost model sees it: device types (peak FLOP/s, memory,
// memory bandwidth), nodes of devices joined by an intra-node link, nodes
// joined by an inter-node link (one port per device), and sites joined by
// wide-area links. Built from a preset name or from a cluster file (YAML or
// JSON, format in docs/cluster.md), which one reader reads and one writer
// writes.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_CLUSTERSPEC_H
#define DISTOPT_COST_CLUSTERSPEC_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace distopt::cost {

/// One point of a measured bandwidth curve.
struct BandwidthPoint {
  /// Bytes a kernel reads and writes.
  double bytes = 0;
  /// Bytes/s it reaches.
  double bandwidth = 0;
};

/// The bandwidth of `curve` (ascending in bytes, non-empty) at `bytes`:
/// interpolated linearly in log(bytes) between points, the nearest end's
/// beyond them.
double interpolateBandwidth(llvm::ArrayRef<BandwidthPoint> curve, double bytes);

/// How close kernels of each class come to a device's peaks. One set per
/// device type; the `cpu` preset takes it from calibration, the GPU presets
/// from published end-to-end results (docs/cluster.md).
struct ComputeEfficiency {
  /// Fraction of `peakFlops` that large GEMMs and convolutions reach.
  double gemmEfficiency = 0.8;
  /// FLOPs of a GEMM that reaches half of `gemmEfficiency`: a GEMM of `f`
  /// FLOPs runs at gemmEfficiency * f / (f + gemmHalfFlops) of peak, so
  /// small GEMMs run far below peak.
  double gemmHalfFlops = 1e8;
  /// Fraction of `memoryBandwidth` that elementwise, reduction and data
  /// movement kernels reach.
  double memoryEfficiency = 0.8;
  /// Arithmetic rate (FLOP/s) of non-GEMM kernels (exp, erf, division),
  /// which do not use matrix units.
  double vectorFlops = 0;
  /// Fixed time per kernel (launch, dispatch), in seconds.
  double opOverhead = 5e-6;
  /// Measured bandwidth (bytes/s) of memory-bound kernels by the bytes
  /// they move, ascending in bytes: small working sets run from the caches.
  /// Between points the bandwidth is interpolated in log(bytes); beyond the
  /// ends it is the nearest point's. Empty (GPU presets): every size runs
  /// at `memoryBandwidth * memoryEfficiency`.
  llvm::SmallVector<BandwidthPoint, 0> bandwidthCurve;
};

/// The arithmetic a GEMM runs in, which decides the peak it is priced at:
/// 16-bit floats (bf16, fp16) on tensor cores, or fp32.
enum class Precision { BF16, FP16, FP32 };

/// "bf16", "fp16" or "fp32".
llvm::StringRef stringifyPrecision(Precision precision);

/// The precision named "bf16", "fp16" or "fp32"; none for another name.
std::optional<Precision> parsePrecision(llvm::StringRef name);

/// One kind of accelerator (or CPU rank).
struct DeviceType {
  std::string name;
  /// Dense bf16/fp16 peak, in FLOP/s.
  double peakFlops = 0;
  /// Device memory, in bytes.
  uint64_t memoryBytes = 0;
  /// Device memory bandwidth, in bytes/s.
  double memoryBandwidth = 0;
  /// Kernel efficiencies against the peaks above.
  ComputeEfficiency efficiency;
  /// What one device of this type costs to rent, in USD per device-hour
  /// (cluster file key `price_per_hour`), when known.
  std::optional<double> pricePerHour;
  /// Dense fp32 peak, in FLOP/s (cluster file key `peak_tflops_fp32`);
  /// none: fp32 runs at `peakFlops` (a CPU, whose calibrated peak is its
  /// fp32 rate and which runs bf16 no faster).
  std::optional<double> peakFlopsFp32;

  /// The dense peak of GEMMs in `precision`, in FLOP/s: `peakFlops` for
  /// bf16 and fp16, `peakFlopsFp32` (else `peakFlops`) for fp32.
  double getPeakFlops(Precision precision) const;
};

/// One link level: bandwidth per direction (bytes/s) and latency (seconds).
struct LinkSpec {
  double bandwidth = 0;
  double latency = 0;
  /// Measured bus bandwidth of all-reduce by buffer size (bytes), for links
  /// whose speed depends on the size (MPI over shared memory copies through
  /// the caches). Interpolated in log(bytes) like the device's curve; empty:
  /// `bandwidth` at every size.
  llvm::SmallVector<BandwidthPoint, 0> bandwidthCurve;
  /// Bus bandwidth of all-gather and of reduce-scatter relative to
  /// all-reduce's on this link, where the collective library implements
  /// them differently (1: the same).
  double allGatherEfficiency = 1;
  double reduceScatterEfficiency = 1;
  /// Measured bus bandwidth of all-gather and of reduce-scatter by buffer
  /// size; when present they replace the all-reduce curve times the
  /// efficiency above.
  llvm::SmallVector<BandwidthPoint, 0> allGatherCurve;
  llvm::SmallVector<BandwidthPoint, 0> reduceScatterCurve;

  /// Bus bandwidth at a buffer of `bytes`: the curve's, else `bandwidth`.
  double getBandwidth(double bytes) const;
};

/// One node: `numDevices` devices of one type and the links it uses.
struct NodeSpec {
  std::string name;
  /// Index into ClusterSpec::deviceTypes.
  unsigned deviceType = 0;
  unsigned numDevices = 0;
  /// Memory a device of this node may use, if lower than the device's own.
  std::optional<uint64_t> memoryLimitBytes;
  /// Link between devices of this node.
  LinkSpec intraNode;
  /// Link from each device of this node to other nodes of the same site
  /// (one port per device, e.g. InfiniBand).
  LinkSpec interNode;
  /// Index into ClusterSpec::sites.
  unsigned site = 0;
  /// Cores (hardware threads) that the devices of this node share, for
  /// devices that compute on the CPU; 0: every device has its own (GPUs).
  /// When the node has more devices than cores, they take turns on the
  /// cores: shareCores() slows its device type and links down.
  unsigned cores = 0;
  /// Fraction of its own speed each device of this node runs at, set by
  /// shareCores(): cores / devices when the devices outnumber the cores,
  /// else 1. The node's device type and links already include it.
  double coreShare = 1;
};

/// A wide-area link between two sites. Its bandwidth is shared by every
/// device of the site that sends across it.
struct WanLinkSpec {
  unsigned siteA = 0, siteB = 0;
  LinkSpec link;
};

/// Where one device (rank) sits.
struct DeviceLocation {
  unsigned node = 0;
  unsigned site = 0;
  /// Index of the device inside its node.
  unsigned localIndex = 0;
};

/// A whole cluster. Ranks are numbered by filling nodes in order.
struct ClusterSpec {
  std::string name;
  llvm::SmallVector<DeviceType> deviceTypes;
  llvm::SmallVector<NodeSpec> nodes;
  llvm::SmallVector<std::string> sites;
  llvm::SmallVector<WanLinkSpec> wanLinks;
  /// True when the figures are placeholders, not measured or published.
  /// No preset sets it: every preset file has measured or published
  /// figures (the `cpu` preset fails without its calibration profile).
  bool usesDefaultFigures = false;
  /// Set by takeDevices when it kept fewer devices than the cluster
  /// describes: how many it describes. 0 when every device is kept.
  unsigned describedDevices = 0;

  /// Total number of devices over all nodes.
  unsigned getNumDevices() const;
  /// Node, site and local index of `rank`; `rank` < getNumDevices().
  /// Each call walks the node list: loops over many ranks use a
  /// RankLocator.
  DeviceLocation getLocation(unsigned rank) const;
  /// The device type of `rank`.
  const DeviceType &getDeviceType(unsigned rank) const;
  /// Memory usable by `rank`: the node's limit if set, else the device's.
  uint64_t getDeviceMemory(unsigned rank) const;
  /// The WAN link between two different sites, or null if none.
  const LinkSpec *getWanLink(unsigned siteA, unsigned siteB) const;
  /// What all the devices of the cluster cost together, in USD per hour:
  /// the sum of their device types' `pricePerHour`; none when a device
  /// type in use has no price.
  std::optional<double> getPricePerHour() const;
};

/// `cluster` with its nodes in an order that does not depend on the order
/// of the file: fastest devices first (dense peak times GEMM efficiency),
/// then more memory, faster memory, faster links, then the file's order
/// among nodes that are alike. `fileNode[i]` is the file's index of node i
/// of the result. The planner plans on it, so that a plan and its price are
/// the same whatever order the file lists the nodes in.
ClusterSpec sortNodesBySpeed(const ClusterSpec &cluster,
                             llvm::SmallVectorImpl<unsigned> &fileNode);

/// Finds the node of a rank by binary search over the nodes' first ranks,
/// in O(log nodes) after O(nodes) to build; ClusterSpec's own lookups build
/// one per call. The cluster's nodes must not change while it lives.
class RankLocator {
public:
  explicit RankLocator(const ClusterSpec &cluster);

  const ClusterSpec &getCluster() const { return cluster; }
  /// Node, site and local index of `rank`; `rank` < the device count.
  DeviceLocation getLocation(unsigned rank) const;
  /// The device type of `rank`.
  const DeviceType &getDeviceType(unsigned rank) const;
  /// Memory usable by `rank`: the node's limit if set, else the device's.
  uint64_t getDeviceMemory(unsigned rank) const;
  /// Ranks from `rank` to the last of its node (at least 1): loops over a
  /// range of ranks step by this, once per node.
  unsigned getRanksLeftInNode(unsigned rank) const;
  /// The distinct device types of ranks [first, end), in the order of the
  /// cluster's device types (so the same whatever the order of the nodes).
  llvm::SmallVector<const DeviceType *> getDeviceTypes(unsigned first,
                                                       unsigned end) const;
  /// The least memory usable by a rank of [first, end).
  uint64_t getLeastDeviceMemory(unsigned first, unsigned end) const;

private:
  const ClusterSpec &cluster;
  /// The first rank of each node, then the device count.
  llvm::SmallVector<unsigned> firstRanks;
};

//===----------------------------------------------------------------------===//
// Presets
//===----------------------------------------------------------------------===//

/// Names of the presets: dgx-a100-80g, dgx-a100-40g, dgx-h100, cpu. Each is
/// a cluster file under lib/Cost/profiles/ (NAME.yaml), compiled into the
/// library and read by parseClusterYAML.
llvm::ArrayRef<llvm::StringRef> getClusterPresetNames();

/// The text of preset `name`'s file as compiled in, or empty for an
/// unknown name.
llvm::StringRef getClusterPresetFile(llvm::StringRef name);

/// Builds preset `name` with `numDevices` devices. A DGX preset's file
/// describes one node; it is repeated until there are `numDevices` devices
/// (nodes node0, node1, ...; the last may be partial; 0: one node). The
/// `cpu` preset puts every rank on one node (0: one rank per core of this
/// machine) with the figures of getCpuProfile(). Fails for an unknown name.
llvm::Expected<ClusterSpec> getClusterPreset(llvm::StringRef name,
                                             unsigned numDevices);

/// The calibration profile of the `cpu` preset: the file named by
/// $DISTOPT_CPU_PROFILE when set (an error if it does not parse), else the
/// profile compiled in from lib/Cost/profiles/cpu.yaml, else none.
llvm::Expected<std::optional<ClusterSpec>> getCpuProfile();

/// The text of lib/Cost/profiles/cpu.yaml as compiled in (empty if none).
llvm::StringRef getBuiltinCpuProfile();

//===----------------------------------------------------------------------===//
// Cluster files: one reader and one writer (format in docs/cluster.md)
//===----------------------------------------------------------------------===//

/// Parses a YAML cluster description. `bufferName` is used in messages
/// (`bufferName:line:column: ...`).
llvm::Expected<ClusterSpec> parseClusterYAML(llvm::StringRef text,
                                             llvm::StringRef bufferName);

/// Parses a JSON cluster description: the keys, checks and messages of the
/// YAML format (the same reader), with strict JSON syntax and a duplicate
/// key an error. Messages are `bufferName:line:column: ...`.
llvm::Expected<ClusterSpec> parseClusterJSON(llvm::StringRef text,
                                             llvm::StringRef bufferName);

/// The most devices a cluster may have (a file's nodes, or a preset's
/// device count).
inline constexpr unsigned kMaxClusterDevices = 1u << 20;

/// Reads and parses the cluster file at `path`: JSON when the name ends in
/// `.json`, YAML otherwise.
llvm::Expected<ClusterSpec> parseClusterFile(llvm::StringRef path);

/// How formatClusterYAML writes a cluster.
struct ClusterFileStyle {
  /// Written as `#` comment lines before the cluster (lines separated by
  /// newlines); empty: none.
  std::string headerComment;
  /// Significant digits of every number; 0: the fewest digits that read
  /// back to the same double, so that the file reads back to `spec`.
  unsigned significantDigits = 0;
};

/// `spec` as a YAML cluster file that parseClusterYAML reads back to the
/// same figures (to `significantDigits`). A link used for both levels of a
/// node is written once (a YAML anchor and alias). Fails for what the
/// format cannot say: nodes out of site order, a site without nodes,
/// figures already scaled by shareCores.
llvm::Expected<std::string>
formatClusterYAML(const ClusterSpec &spec, const ClusterFileStyle &style = {});

/// Writes formatClusterYAML(spec, style) to `path` after checking that it
/// reads back, through a temporary file and a rename, so that a reader
/// never sees a partial file.
llvm::Error writeClusterFile(llvm::StringRef path, const ClusterSpec &spec,
                             const ClusterFileStyle &style = {});

//===----------------------------------------------------------------------===//
// Devices of a cluster
//===----------------------------------------------------------------------===//

/// Keeps the fastest `numDevices` devices of `spec`: nodes are filled in
/// sortNodesBySpeed's order, so the choice does not depend on the order of
/// the file (the last node filled may be partial; the nodes kept stay in
/// the file's order; unused nodes are dropped, sites and WAN links are
/// kept).
/// Fails if `spec` has fewer devices.
llvm::Expected<ClusterSpec> takeDevices(const ClusterSpec &spec,
                                        unsigned numDevices);

/// `spec` with the devices of every node that has more devices than
/// `cores` slowed down to share = cores / devices of their speed: peak
/// FLOP/s, vector FLOP/s, memory bandwidth (and curve) times share, the
/// fixed time per kernel divided by it, so that every kernel takes 1 /
/// share as long; the node's links likewise (bandwidth and curves times
/// share, latency divided by it: MPI over shared memory copies with the
/// CPU). The device type is scaled in place when no other node uses it,
/// else copied for this node. Sets `coreShare`; nodes already scaled
/// (coreShare != 1) are left as they are, so applying it twice is applying
/// it once. getClusterSpec applies it; parseClusterFile and takeDevices
/// give the figures as written.
ClusterSpec shareCores(ClusterSpec spec);

/// A preset name or a cluster file, with `numDevices` devices, with
/// shareCores applied to the devices used.
llvm::Expected<ClusterSpec> getClusterSpec(llvm::StringRef nameOrFile,
                                           unsigned numDevices);

} // namespace distopt::cost

#endif // DISTOPT_COST_CLUSTERSPEC_H
