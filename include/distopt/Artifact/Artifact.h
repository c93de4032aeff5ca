//===- Artifact.h - the compiled artifact that dist-run executes -*- C++ -*-===//
//
// A compiled artifact is one file: the program's module as MLIR text, with
// module attributes that the runtime needs (`dist.model_dir`, where the
// weights' paths start), followed by a trailer of 40 bytes: the 8 bytes
// `DISTSUM1` and the SHA-256 of every byte before the trailer. The text
// holds the whole program, weights' metadata included (path, offset, size,
// element type, shape), so the checksum covers all of it; the weights' bytes
// stay in their own files and are not covered. The checksum detects damage,
// not tampering: anyone who can write the file can recompute it. The
// program is text, not MLIR bytecode, because MLIR's bytecode reader is not
// built for untrusted input (docs/security.md).
// The artifact is written through a temporary file renamed into place, so
// that a failed compile never leaves a partial artifact.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_ARTIFACT_ARTIFACT_H
#define DISTOPT_ARTIFACT_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <array>
#include <optional>
#include <string>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace distopt {

/// The artifact format version, stored as `dist.artifact_version`.
constexpr int64_t kArtifactVersion = 2;

/// The start of the trailer that ends every artifact.
constexpr llvm::StringLiteral kArtifactTrailerMagic = "DISTSUM1";

/// The SHA-256 of an artifact's program bytes (all but the trailer).
using ArtifactDigest = std::array<uint8_t, 32>;

/// The digest of `program`, the bytes before an artifact's trailer.
ArtifactDigest computeArtifactDigest(llvm::StringRef program);

/// The first `bytes` bytes of `digest` as lowercase hex.
std::string digestToHex(const ArtifactDigest &digest, size_t bytes = 8);

/// True when `bytes` end with an artifact's trailer (its checksum not yet
/// checked): tools that read MLIR read such a file with readArtifact.
bool hasArtifactTrailer(llvm::StringRef bytes);

/// The number of devices `module` runs on: the size of its `shard.grid`, 1
/// without one, times the number of its pipeline's rank groups (if it has
/// one; getPipelineRankGroupCount).
int64_t getProgramDeviceCount(mlir::ModuleOp module);

/// Verifies `module` and returns its artifact's bytes (program and
/// trailer). Reports errors as diagnostics and returns nothing.
std::optional<std::string> serializeArtifact(mlir::ModuleOp module);

/// Writes an artifact's `bytes` to `path` through a temporary file renamed
/// into place. Reports errors as diagnostics at `loc` and returns false;
/// nothing is left at `path` then.
bool writeArtifactBytes(llvm::StringRef bytes, llvm::StringRef path,
                        mlir::Location loc);

/// Verifies `module` and writes it as an artifact to `path`. Reports errors
/// as diagnostics and returns false; nothing is left at `path` then.
bool writeArtifact(mlir::ModuleOp module, llvm::StringRef path);

/// Reads the artifact at `path`. Reports errors (missing file, not an
/// artifact, a checksum that does not match, another version, stage
/// functions that break the pipeline contract: checkPipeline) as
/// diagnostics and returns null. With `digest`, stores the artifact's
/// checksum there.
mlir::OwningOpRef<mlir::ModuleOp>
readArtifact(llvm::StringRef path, mlir::MLIRContext *context,
             ArtifactDigest *digest = nullptr);

/// readArtifact of an artifact's `bytes` held in memory; `name` is what
/// messages call it.
mlir::OwningOpRef<mlir::ModuleOp>
parseArtifact(llvm::StringRef bytes, llvm::StringRef name,
              mlir::MLIRContext *context, ArtifactDigest *digest = nullptr);

} // namespace distopt

#endif // DISTOPT_ARTIFACT_ARTIFACT_H
