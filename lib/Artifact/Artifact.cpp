//===- Artifact.cpp - the compiled artifact that dist-run executes --------===//
//
// Writing: verify, stamp the format version, print as MLIR text, append the
// checksum trailer, write to a temporary file in the destination
// folder, rename. Reading: check the trailer's SHA-256 against the bytes
// before it, then that they are the text of a module with a known version.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Artifact.h"
#include "distopt/Artifact/Pipeline.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace distopt;

int64_t distopt::getProgramDeviceCount(ModuleOp module) {
  // Every rank group of a pipeline (one per stage without dist.chunks)
  // runs on its own copy of the grid.
  int64_t devices = std::max<int64_t>(1, getPipelineRankGroupCount(module));
  // The grid of a training pipeline's stages (dist.stages) is no device
  // grid: it names the stages already counted.
  dist::DistDialect::StagesAttrHelper stagesGrid(module.getContext());
  for (auto grid : module.getOps<shard::GridOp>())
    if (!stagesGrid.isAttrPresent(grid))
      for (int64_t size : grid.getShape())
        devices *= size;
  return devices;
}

ArtifactDigest distopt::computeArtifactDigest(llvm::StringRef program) {
  return llvm::SHA256::hash(llvm::arrayRefFromStringRef(program));
}

std::string distopt::digestToHex(const ArtifactDigest &digest, size_t bytes) {
  return llvm::toHex(llvm::ArrayRef(digest).take_front(bytes),
                     /*LowerCase=*/true);
}

bool distopt::hasArtifactTrailer(llvm::StringRef bytes) {
  size_t trailerSize = kArtifactTrailerMagic.size() + sizeof(ArtifactDigest);
  return bytes.size() >= trailerSize && bytes.drop_back(sizeof(ArtifactDigest))
                                            .ends_with(kArtifactTrailerMagic);
}

std::optional<std::string> distopt::serializeArtifact(ModuleOp module) {
  if (failed(verify(module)))
    return std::nullopt;
  dist::DistDialect::ArtifactVersionAttrHelper(module.getContext())
      .setAttr(
          module,
          Builder(module.getContext()).getI64IntegerAttr(kArtifactVersion));
  // MLIR text, not bytecode: MLIR's bytecode reader trusts the counts and
  // offsets in its input (a few changed bytes abort or hang it), while the
  // text parser reports malformed input as diagnostics.
  std::string bytes;
  {
    llvm::raw_string_ostream os(bytes);
    module.print(os, OpPrintingFlags().enableDebugInfo());
  }
  ArtifactDigest digest = computeArtifactDigest(bytes);
  bytes += kArtifactTrailerMagic;
  bytes += llvm::toStringRef(llvm::ArrayRef(digest));
  return bytes;
}

bool distopt::writeArtifactBytes(llvm::StringRef bytes, llvm::StringRef path,
                                 Location loc) {
  llvm::SmallString<256> tmp;
  llvm::SmallString<256> model(path);
  llvm::sys::path::remove_filename(model);
  if (model.empty())
    model = ".";
  llvm::sys::path::append(model, llvm::sys::path::filename(path) + ".tmp-%%%%%%");
  int fd;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tmp)) {
    emitError(loc) << "cannot create '" << model << "': " << ec.message();
    return false;
  }
  {
    llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
    out << bytes;
    out.close();
    if (out.has_error()) {
      emitError(loc) << "cannot write '" << tmp << "': "
                     << out.error().message();
      out.clear_error();
      llvm::sys::fs::remove(tmp);
      return false;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    emitError(loc) << "cannot move the artifact to '" << path
                   << "': " << ec.message();
    llvm::sys::fs::remove(tmp);
    return false;
  }
  return true;
}

bool distopt::writeArtifact(ModuleOp module, llvm::StringRef path) {
  std::optional<std::string> bytes = serializeArtifact(module);
  return bytes && writeArtifactBytes(*bytes, path, module.getLoc());
}

/// The program bytes of `file` when its trailer holds their SHA-256; else
/// reports the error at `loc` and returns nothing.
static std::optional<llvm::StringRef>
checkArtifactTrailer(llvm::StringRef file, Location loc,
                     ArtifactDigest &digest) {
  if (!hasArtifactTrailer(file)) {
    emitError(loc) << "is not a dist-opt artifact, or is cut short: it does "
                      "not end with an artifact's checksum; compile one with "
                      "dist-opt MODEL --devices N -o FILE";
    return std::nullopt;
  }
  llvm::StringRef program =
      file.drop_back(kArtifactTrailerMagic.size() + digest.size());
  llvm::StringRef stored = file.take_back(digest.size());
  digest = computeArtifactDigest(program);
  if (stored != llvm::toStringRef(llvm::ArrayRef(digest))) {
    emitError(loc) << "is damaged: its checksum does not match its contents "
                      "(SHA-256 "
                   << digestToHex(digest) << "..., stored "
                   << llvm::toHex(stored.take_front(8), /*LowerCase=*/true)
                   << "...); copy or compile it again";
    return std::nullopt;
  }
  return program;
}

OwningOpRef<ModuleOp> distopt::readArtifact(llvm::StringRef path,
                                            MLIRContext *context,
                                            ArtifactDigest *digestOut) {
  Location loc = FileLineColLoc::get(context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer) {
    emitError(loc) << "cannot open the artifact: "
                   << buffer.getError().message();
    return nullptr;
  }
  return parseArtifact((*buffer)->getBuffer(), path, context, digestOut);
}

OwningOpRef<ModuleOp> distopt::parseArtifact(llvm::StringRef bytes,
                                             llvm::StringRef name,
                                             MLIRContext *context,
                                             ArtifactDigest *digestOut) {
  ArtifactDigest digest{};
  Location loc = FileLineColLoc::get(context, name, 0, 0);
  std::optional<llvm::StringRef> program =
      checkArtifactTrailer(bytes, loc, digest);
  if (!program)
    return nullptr;
  if (isBytecode(llvm::MemoryBufferRef(*program, name))) {
    emitError(loc) << "holds MLIR bytecode, which dist-run does not parse "
                      "(artifacts are MLIR text since format version 2); "
                      "recompile it";
    return nullptr;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(*program, name), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, context);
  if (!module)
    return nullptr;
  using VersionAttr = dist::DistDialect::ArtifactVersionAttrHelper;
  IntegerAttr version = VersionAttr(context).getAttr(*module);
  if (!version) {
    emitError(loc) << "is MLIR but not a dist-opt artifact (no "
                   << VersionAttr::getNameStr() << ")";
    return nullptr;
  }
  if (version.getInt() != kArtifactVersion) {
    emitError(loc) << "has artifact version " << version.getInt()
                   << "; this dist-run reads version " << kArtifactVersion
                   << "; recompile it";
    return nullptr;
  }
  // The stage functions of a pipeline must fit together before any rank
  // runs one of them.
  if (failed(checkPipeline(*module)))
    return nullptr;
  if (digestOut)
    *digestOut = digest;
  return module;
}
