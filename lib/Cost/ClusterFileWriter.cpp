//===- ClusterFileWriter.cpp - ClusterSpec to a YAML cluster file ---------===//
//
// The writer of the cluster file format, the inverse of ClusterFileReader:
// yaml-cpp's emitter writes every key the reader knows, in the file's
// units, so that the text reads back to the same ClusterSpec. dist-calibrate
// writes its profiles with it.
//
//===----------------------------------------------------------------------===//

#include "ClusterDocument.h"

#include "distopt/Cost/ClusterSpec.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>

using namespace distopt::cost;
using namespace distopt::cost::fileunits;
using llvm::StringRef;

namespace {
/// Emits one ClusterSpec through a yaml-cpp emitter.
class ClusterFileWriter {
public:
  ClusterFileWriter(const ClusterSpec &spec, const ClusterFileStyle &style)
      : spec(spec), style(style) {}

  llvm::Expected<std::string> write();

private:
  /// `value` with the style's significant digits, or with the fewest that
  /// read back to the same double.
  std::string number(double value) const;
  /// `text` as a scalar that reads back as that string.
  void string(StringRef text);
  void key(StringRef name) { out << YAML::Key << name.str() << YAML::Value; }

  void writeCurve(StringRef name, llvm::ArrayRef<BandwidthPoint> curve,
                  StringRef comment);
  void writeDeviceType(const DeviceType &device);
  void writeLink(const LinkSpec &link);
  void writeNode(unsigned index, const NodeSpec &node);
  void writeWanLinks();
  /// Fails for what the format cannot say.
  llvm::Error checkWritable() const;

  const ClusterSpec &spec;
  const ClusterFileStyle &style;
  YAML::Emitter out;
};
} // namespace

std::string ClusterFileWriter::number(double value) const {
  char text[40];
  if (style.significantDigits > 0) {
    std::snprintf(text, sizeof(text), "%.*g", int(style.significantDigits),
                  value);
    return text;
  }
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value)
      break;
  }
  return text;
}

void ClusterFileWriter::string(StringRef text) {
  // Plain scalars that YAML reads as null must be quoted to stay strings.
  bool readsAsNull = text.empty() || text == "~" || text == "null" ||
                     text == "Null" || text == "NULL";
  if (readsAsNull)
    out << YAML::DoubleQuoted;
  out << text.str();
}

void ClusterFileWriter::writeCurve(StringRef name,
                                   llvm::ArrayRef<BandwidthPoint> curve,
                                   StringRef comment) {
  if (curve.empty())
    return;
  out << YAML::Key << name.str() << YAML::Comment(comment.str()) << YAML::Value
      << YAML::BeginSeq;
  for (const BandwidthPoint &point : curve)
    out << YAML::Flow << YAML::BeginSeq << number(point.bytes / kMB)
        << number(point.bandwidth / kGBs) << YAML::EndSeq;
  out << YAML::EndSeq;
}

void ClusterFileWriter::writeDeviceType(const DeviceType &device) {
  const ComputeEfficiency &e = device.efficiency;
  out << YAML::BeginMap;
  key("name");
  string(device.name);
  key("peak_tflops");
  out << number(device.peakFlops / kTFLOPs);
  if (device.peakFlopsFp32) {
    key("peak_tflops_fp32");
    out << number(*device.peakFlopsFp32 / kTFLOPs);
  }
  key("memory_gib");
  out << number(double(device.memoryBytes) / kGiB);
  key("memory_bandwidth");
  out << number(device.memoryBandwidth / kGBs);
  key("gemm_efficiency");
  out << number(e.gemmEfficiency);
  key("gemm_half_gflop");
  out << number(e.gemmHalfFlops / kGFLOP);
  key("memory_efficiency");
  out << number(e.memoryEfficiency);
  key("vector_tflops");
  out << number(e.vectorFlops / kTFLOPs);
  key("op_overhead_us");
  out << number(e.opOverhead / kMicrosecond);
  writeCurve("bandwidth_curve", e.bandwidthCurve, "[MB moved, GB/s]");
  if (device.pricePerHour) {
    key("price_per_hour");
    out << number(*device.pricePerHour);
  }
  out << YAML::EndMap;
}

void ClusterFileWriter::writeLink(const LinkSpec &link) {
  out << YAML::BeginMap;
  key("bandwidth");
  out << number(link.bandwidth / kGBs);
  key("latency");
  out << number(link.latency / kMicrosecond);
  if (link.allGatherEfficiency != 1) {
    key("all_gather_efficiency");
    out << number(link.allGatherEfficiency);
  }
  if (link.reduceScatterEfficiency != 1) {
    key("reduce_scatter_efficiency");
    out << number(link.reduceScatterEfficiency);
  }
  writeCurve("bandwidth_curve", link.bandwidthCurve,
             "all-reduce bus bandwidth [MB, GB/s]");
  writeCurve("all_gather_curve", link.allGatherCurve,
             "all-gather bus bandwidth [MB, GB/s]");
  writeCurve("reduce_scatter_curve", link.reduceScatterCurve,
             "reduce-scatter bus bandwidth [MB, GB/s]");
  out << YAML::EndMap;
}

/// True when `a` and `b` are the same link, figure for figure.
static bool isSameLink(const LinkSpec &a, const LinkSpec &b) {
  auto sameCurve = [](llvm::ArrayRef<BandwidthPoint> x,
                      llvm::ArrayRef<BandwidthPoint> y) {
    return x.size() == y.size() &&
           llvm::all_of(llvm::zip(x, y), [](const auto &pair) {
             const auto &[p, q] = pair;
             return p.bytes == q.bytes && p.bandwidth == q.bandwidth;
           });
  };
  return a.bandwidth == b.bandwidth && a.latency == b.latency &&
         a.allGatherEfficiency == b.allGatherEfficiency &&
         a.reduceScatterEfficiency == b.reduceScatterEfficiency &&
         sameCurve(a.bandwidthCurve, b.bandwidthCurve) &&
         sameCurve(a.allGatherCurve, b.allGatherCurve) &&
         sameCurve(a.reduceScatterCurve, b.reduceScatterCurve);
}

void ClusterFileWriter::writeNode(unsigned index, const NodeSpec &node) {
  out << YAML::BeginMap;
  key("name");
  string(node.name);
  key("device");
  string(spec.deviceTypes[node.deviceType].name);
  key("devices_per_node");
  out << node.numDevices;
  if (node.cores) {
    key("cores");
    out << node.cores;
  }
  if (node.memoryLimitBytes) {
    key("memory_limit_gib");
    out << number(double(*node.memoryLimitBytes) / kGiB);
  }
  // One link for both levels (a CPU node) is written once, with an alias.
  bool sameLinks = isSameLink(node.intraNode, node.interNode);
  std::string anchor = llvm::formatv("link{0}", index).str();
  key("intra_node");
  if (sameLinks)
    out << YAML::Anchor(anchor);
  writeLink(node.intraNode);
  key("inter_node");
  if (sameLinks)
    out << YAML::Alias(anchor);
  else
    writeLink(node.interNode);
  out << YAML::EndMap;
}

void ClusterFileWriter::writeWanLinks() {
  if (spec.wanLinks.empty())
    return;
  key("wan_links");
  out << YAML::BeginSeq;
  for (const WanLinkSpec &wan : spec.wanLinks) {
    out << YAML::BeginMap;
    key("sites");
    out << YAML::Flow << YAML::BeginSeq;
    string(spec.sites[wan.siteA]);
    string(spec.sites[wan.siteB]);
    out << YAML::EndSeq;
    key("bandwidth");
    out << number(wan.link.bandwidth / kGBs);
    key("latency");
    out << number(wan.link.latency / kMicrosecond);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

llvm::Error ClusterFileWriter::checkWritable() const {
  // The file fills sites in order: the nodes of a site must be together.
  unsigned site = 0;
  for (const NodeSpec &node : spec.nodes) {
    if (node.site < site || node.site >= spec.sites.size())
      return llvm::createStringError(
          llvm::formatv("cannot write cluster '{0}': node '{1}' is out of "
                        "site order (a file lists the nodes site by site)",
                        spec.name, node.name)
              .str());
    site = node.site;
    if (node.coreShare != 1)
      return llvm::createStringError(
          llvm::formatv("cannot write cluster '{0}': the figures of node "
                        "'{1}' are scaled by shareCores; write the cluster "
                        "before shareCores",
                        spec.name, node.name)
              .str());
  }
  for (auto [index, name] : llvm::enumerate(spec.sites))
    if (llvm::none_of(spec.nodes,
                      [&](const NodeSpec &n) { return n.site == index; }))
      return llvm::createStringError(
          llvm::formatv("cannot write cluster '{0}': site '{1}' has no nodes",
                        spec.name, name)
              .str());
  return llvm::Error::success();
}

llvm::Expected<std::string> ClusterFileWriter::write() {
  if (llvm::Error error = checkWritable())
    return std::move(error);
  if (!style.headerComment.empty())
    out << YAML::Comment(style.headerComment) << YAML::Newline;
  out << YAML::BeginMap;
  key("name");
  string(spec.name);
  key("device_types");
  out << YAML::BeginSeq;
  for (const DeviceType &device : spec.deviceTypes)
    writeDeviceType(device);
  out << YAML::EndSeq;
  key("sites");
  out << YAML::BeginSeq;
  for (auto [siteIndex, siteName] : llvm::enumerate(spec.sites)) {
    out << YAML::BeginMap;
    key("name");
    string(siteName);
    key("nodes");
    out << YAML::BeginSeq;
    for (auto [index, node] : llvm::enumerate(spec.nodes))
      if (node.site == siteIndex)
        writeNode(index, node);
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq;
  writeWanLinks();
  out << YAML::EndMap;
  if (!out.good())
    return llvm::createStringError("cannot write cluster '" + spec.name +
                                   "' as YAML: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

llvm::Expected<std::string>
distopt::cost::formatClusterYAML(const ClusterSpec &spec,
                                 const ClusterFileStyle &style) {
  return ClusterFileWriter(spec, style).write();
}

llvm::Error distopt::cost::writeClusterFile(StringRef path,
                                            const ClusterSpec &spec,
                                            const ClusterFileStyle &style) {
  llvm::Expected<std::string> text = formatClusterYAML(spec, style);
  if (!text)
    return text.takeError();
  // The file must read back with the reader before it replaces anything.
  llvm::Expected<ClusterSpec> readBack = parseClusterYAML(*text, path);
  if (!readBack)
    return llvm::createStringError(
        "the cluster file does not read back, nothing was written: " +
        llvm::toString(readBack.takeError()));
  // Through a temporary file and a rename: a reader never sees a partial
  // file.
  if (llvm::Error error = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
        os << *text;
        return llvm::Error::success();
      }))
    return llvm::createStringError("cannot write the cluster file " +
                                   llvm::toString(std::move(error)));
  return llvm::Error::success();
}
