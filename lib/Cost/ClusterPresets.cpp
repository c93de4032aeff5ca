//===- ClusterPresets.cpp - Cluster presets from lib/Cost/profiles --------===//
//
// The presets are cluster files under lib/Cost/profiles/, compiled into the
// library (CMake generates ClusterPresets.inc from them, see
// EmbedProfiles.cmake), so that the binaries need no install path and the
// presets are the same wherever they run. They are read by the cluster
// file reader like any other file; this file only scales them to the
// devices asked for.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/ClusterSpec.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <unistd.h>

using namespace distopt::cost;
using llvm::StringRef;

namespace {
/// One preset: its name and the text of profiles/NAME.yaml.
struct PresetFile {
  StringRef name;
  StringRef text;
};
} // namespace

static const PresetFile kPresetFiles[] = {
#include "ClusterPresets.inc"
};

llvm::ArrayRef<StringRef> distopt::cost::getClusterPresetNames() {
  static const llvm::SmallVector<StringRef> names = [] {
    llvm::SmallVector<StringRef> result;
    for (const PresetFile &preset : kPresetFiles)
      result.push_back(preset.name);
    return result;
  }();
  return names;
}

StringRef distopt::cost::getClusterPresetFile(StringRef name) {
  for (const PresetFile &preset : kPresetFiles)
    if (preset.name == name)
      return preset.text;
  return StringRef();
}

/// The compiled-in file of preset `name`, read.
static llvm::Expected<ClusterSpec> readPresetFile(StringRef name) {
  return parseClusterYAML(
      getClusterPresetFile(name),
      llvm::formatv("lib/Cost/profiles/{0}.yaml (built in)", name).str());
}

StringRef distopt::cost::getBuiltinCpuProfile() {
  StringRef text = getClusterPresetFile("cpu");
  return text.trim().empty() ? StringRef() : text;
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
  auto profile = readPresetFile("cpu");
  if (!profile)
    return profile.takeError();
  return std::optional<ClusterSpec>(std::move(*profile));
}

/// Repeats the one node of `spec` (a DGX preset) until `numDevices`
/// devices, the last copy partial; 0: one node.
static llvm::Expected<ClusterSpec> repeatNode(ClusterSpec spec,
                                              unsigned numDevices) {
  if (spec.nodes.size() != 1)
    return llvm::createStringError(
        llvm::formatv("preset '{0}' must describe exactly one node, not {1}",
                      spec.name, spec.nodes.size())
            .str());
  NodeSpec node = spec.nodes.front();
  unsigned perNode = node.numDevices;
  if (numDevices == 0)
    numDevices = perNode;
  spec.nodes.clear();
  for (unsigned first = 0; first < numDevices; first += perNode) {
    NodeSpec copy = node;
    copy.name = llvm::formatv("{0}{1}", node.name, first / perNode).str();
    copy.numDevices = std::min(perNode, numDevices - first);
    spec.nodes.push_back(std::move(copy));
  }
  return spec;
}

/// This machine's cores as `numDevices` ranks (0: one per core) on one
/// node, MPI over shared memory, with the figures of the calibration
/// profile.
static llvm::Expected<ClusterSpec> getCpuPreset(unsigned numDevices) {
  auto profile = getCpuProfile();
  if (!profile)
    return profile.takeError();
  if (!*profile)
    return llvm::createStringError(
        "the cpu preset has no calibration profile: lib/Cost/profiles/cpu.yaml "
        "is empty and DISTOPT_CPU_PROFILE is not set");
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned ranks = numDevices ? numDevices : cores;
  double physical = double(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  const NodeSpec &measured = (*profile)->nodes.front();

  // The profile's device figures and link; the memory of a rank is this
  // machine's memory shared by the ranks.
  ClusterSpec spec;
  spec.name = "cpu";
  spec.deviceTypes.push_back((*profile)->deviceTypes[measured.deviceType]);
  spec.deviceTypes.front().memoryBytes =
      uint64_t(std::max(physical, 1024.0 * 1024.0 * 1024.0) / ranks);
  spec.sites.push_back("site0");
  NodeSpec node;
  node.name = "localhost";
  node.numDevices = ranks;
  node.intraNode = measured.intraNode;
  node.interNode = measured.intraNode;
  // The ranks share this machine's cores: ranks beyond the cores take
  // turns on them, kernels and MPI copies alike (shareCores).
  node.cores = cores;
  spec.nodes.push_back(std::move(node));
  return shareCores(std::move(spec));
}

llvm::Expected<ClusterSpec>
distopt::cost::getClusterPreset(StringRef name, unsigned numDevices) {
  if (getClusterPresetFile(name).empty())
    return llvm::createStringError(
        llvm::formatv("unknown cluster preset '{0}' (known: {1})", name,
                      llvm::join(getClusterPresetNames(), ", "))
            .str());
  if (name == "cpu")
    return getCpuPreset(numDevices);
  auto spec = readPresetFile(name);
  if (!spec)
    return spec.takeError();
  return repeatNode(std::move(*spec), numDevices);
}
