//===- FinishArtifact.cpp - what a compiled program needs to run ----------===//
//
// `dist-finish-artifact`, the last step of `dist-compile`: records the
// folder where the weights' paths start (`dist.model_dir`) and checks that
// the program can run: the pipeline contract of its stage functions (if it
// has any), its device count and every weight's bytes.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Artifact.h"
#include "distopt/Artifact/Pipeline.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"
#include "distopt/Support/SafePath.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace distopt {
#define GEN_PASS_DEF_FINISHARTIFACTPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;

/// The module attribute that names the weights' folder.
static constexpr llvm::StringLiteral kModelDirAttr =
    dist::DistDialect::ModelDirAttrHelper::getNameStr();

/// The file that `loc` names, looking through fused and named locations.
static std::optional<StringRef> getSourceFile(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return file.getFilename().getValue();
  if (auto name = dyn_cast<NameLoc>(loc))
    return getSourceFile(name.getChildLoc());
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (std::optional<StringRef> file = getSourceFile(inner))
        return file;
  return std::nullopt;
}

namespace {
struct FinishArtifactPass
    : public distopt::impl::FinishArtifactPassBase<FinishArtifactPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(setModelDir(module)) || failed(checkPipeline(module)) ||
        failed(checkDeviceCount(module)) || failed(checkWeights(module)))
      return signalPassFailure();
  }

private:
  LogicalResult setModelDir(ModuleOp module);
  LogicalResult checkDeviceCount(ModuleOp module);
  LogicalResult checkWeights(ModuleOp module);
};
} // namespace

/// Sets `dist.model_dir` unless the module names its folder already: the
/// `model-dir` option, else the folder of the module's source file.
LogicalResult FinishArtifactPass::setModelDir(ModuleOp module) {
  if (module->hasAttr(kModelDirAttr))
    return success();
  llvm::SmallString<256> dir(modelDir);
  if (dir.empty()) {
    std::optional<StringRef> source = getSourceFile(module.getLoc());
    if (!source || source->empty() || *source == "-")
      return module.emitError(
          "the program does not say where its weights are (no "
          "dist.model_dir, and no source file); give the folder (model-dir)");
    dir = *source;
    llvm::sys::path::remove_filename(dir);
  }
  llvm::sys::fs::make_absolute(dir);
  llvm::sys::path::remove_dots(dir, /*remove_dot_dot=*/true);
  module->setAttr(kModelDirAttr, StringAttr::get(module.getContext(), dir));
  return success();
}

LogicalResult FinishArtifactPass::checkDeviceCount(ModuleOp module) {
  int64_t programDevices = getProgramDeviceCount(module);
  if (devices == 0 || programDevices == devices)
    return success();
  if (int64_t stages = getPipelineStageCount(module)) {
    int64_t grids = getPipelineRankGroupCount(module);
    return module.emitError("the program runs on ")
           << programDevices << " devices (" << stages << " pipeline stages"
           << (grids < stages ? " interleaved over " + std::to_string(grids)
                              : std::string())
           << " of " << programDevices / grids
           << " devices, its shard.grid), not the " << int64_t(devices)
           << " it is compiled for";
  }
  return module.emitError("the program runs on ")
         << programDevices << " devices (its shard.grid), not the "
         << int64_t(devices) << " it is compiled for";
}

/// Every weight's bytes must be there: its data file stays inside the
/// weights' folder (checkDataPath: relative, no `..`, no symbolic link, the
/// rule the importer and dist-run apply too), exists, and holds the weight's
/// byte range. Each file is looked at once; one error per bad file, at its
/// first weight.
LogicalResult FinishArtifactPass::checkWeights(ModuleOp module) {
  StringRef folder =
      module->getAttrOfType<StringAttr>(kModelDirAttr).getValue();
  // File (as the weights name it) -> its size, or nothing when it is bad.
  llvm::StringMap<std::optional<uint64_t>> sizes;
  bool ok = true;
  module.walk([&](dist::WeightOp weight) {
    dist::DataLocationAttr data = weight.getData();
    // Zero storage (optimizer state) has no bytes anywhere.
    if (data.getStorage() == dist::DataStorage::Zero)
      return;
    StringRef location = data.getPath();
    auto [it, first] = sizes.try_emplace(location);
    if (first) {
      llvm::Expected<DataFileStatus> status = checkDataPath(folder, location);
      if (!status) {
        weight.emitError("the data file of weight '")
            << weight.getName() << "' at '" << location << "' "
            << llvm::toString(status.takeError());
        ok = false;
        return;
      }
      if (!status->exists) {
        llvm::SmallString<256> path(folder);
        llvm::sys::path::append(path, location);
        weight.emitError("the data file '")
            << path << "' of weight '" << weight.getName()
            << "' does not exist; a model without its weights (shape-only) "
               "can be planned but not compiled";
        ok = false;
        return;
      }
      it->second = status->size;
    }
    if (!it->second)
      return;
    uint64_t end = data.getOffset() + data.getLength();
    if (end > *it->second) {
      llvm::SmallString<256> path(folder);
      llvm::sys::path::append(path, location);
      weight.emitError("weight '")
          << weight.getName() << "' needs bytes " << data.getOffset() << ".."
          << end << " of '" << path << "', which has " << *it->second;
      ok = false;
    }
  });
  return success(ok);
}
