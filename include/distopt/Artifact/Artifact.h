//===- Artifact.h - the compiled artifact that dist-run executes -*- C++ -*-===//
//
// A compiled artifact is one file: the program's module as MLIR bytecode,
// with module attributes that the runtime needs (`dist.model_dir`, where the
// weights' paths start). It is written through a temporary file renamed into
// place, so that a failed compile never leaves a partial artifact.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_ARTIFACT_ARTIFACT_H
#define DISTOPT_ARTIFACT_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace distopt {

/// The artifact format version, stored as `dist.artifact_version`.
constexpr int64_t kArtifactVersion = 1;

/// The number of devices `module` runs on: the size of its `shard.grid`, 1
/// without one.
int64_t getProgramDeviceCount(mlir::ModuleOp module);

/// Verifies `module` and writes it as an artifact to `path`. Reports errors
/// as diagnostics and returns false; nothing is left at `path` then.
bool writeArtifact(mlir::ModuleOp module, llvm::StringRef path);

/// Reads the artifact at `path`. Reports errors (missing file, not an
/// artifact, another version) as diagnostics and returns null.
mlir::OwningOpRef<mlir::ModuleOp> readArtifact(llvm::StringRef path,
                                               mlir::MLIRContext *context);

} // namespace distopt

#endif // DISTOPT_ARTIFACT_ARTIFACT_H
