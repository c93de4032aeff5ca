//===- Artifact.cpp - the compiled artifact that dist-run executes --------===//
//
// Writing: verify, stamp the format version, serialize as MLIR bytecode to a
// temporary file in the destination folder, rename. Reading: check the file
// is bytecode of a module with a known version.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Artifact.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace distopt;

int64_t distopt::getProgramDeviceCount(ModuleOp module) {
  int64_t devices = 1;
  for (auto grid : module.getOps<shard::GridOp>())
    for (int64_t size : grid.getShape())
      devices *= size;
  return devices;
}

bool distopt::writeArtifact(ModuleOp module, llvm::StringRef path) {
  Location loc = module.getLoc();
  if (failed(verify(module)))
    return false;
  dist::DistDialect::ArtifactVersionAttrHelper(module.getContext())
      .setAttr(
          module,
          Builder(module.getContext()).getI64IntegerAttr(kArtifactVersion));

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
    if (failed(writeBytecodeToFile(module, out))) {
      emitError(loc) << "cannot serialize the program";
      out.close();
      llvm::sys::fs::remove(tmp);
      return false;
    }
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

OwningOpRef<ModuleOp> distopt::readArtifact(llvm::StringRef path,
                                            MLIRContext *context) {
  Location loc = FileLineColLoc::get(context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer) {
    emitError(loc) << "cannot open the artifact: "
                   << buffer.getError().message();
    return nullptr;
  }
  if (!isBytecode((*buffer)->getMemBufferRef())) {
    emitError(loc) << "is not a dist-opt artifact (not MLIR bytecode); "
                      "compile one with dist-opt MODEL --devices N -o FILE";
    return nullptr;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, context);
  if (!module)
    return nullptr;
  using VersionAttr = dist::DistDialect::ArtifactVersionAttrHelper;
  IntegerAttr version = VersionAttr(context).getAttr(*module);
  if (!version) {
    emitError(loc) << "is MLIR bytecode but not a dist-opt artifact (no "
                   << VersionAttr::getNameStr() << ")";
    return nullptr;
  }
  if (version.getInt() != kArtifactVersion) {
    emitError(loc) << "has artifact version " << version.getInt()
                   << "; this dist-run reads version " << kArtifactVersion
                   << "; recompile it";
    return nullptr;
  }
  return module;
}
