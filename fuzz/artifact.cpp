//===- artifact.cpp - fuzz the artifact reader ----------------------------===//
//
// Input: the program bytes of a compiled artifact (MLIR text). The target
// appends the artifact's checksum trailer, as someone crafting an artifact
// would, so that the input reaches the parser rather than stopping at the
// checksum; then reads it as dist-run does (readArtifact: checksum, no
// bytecode, MLIR text parsed and verified, artifact version checked),
// verifies the module again and counts its devices, the first things
// dist-run does with a program.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "distopt/Artifact/Artifact.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string sealed(reinterpret_cast<const char *>(data), size);
  distopt::ArtifactDigest digest = distopt::computeArtifactDigest(sealed);
  sealed += distopt::kArtifactTrailerMagic;
  sealed.append(digest.begin(), digest.end());
  std::string path = distopt::fuzz::writeScratchFile(
      "program.dist", reinterpret_cast<const uint8_t *>(sealed.data()),
      sealed.size());
  MLIRContext context(distopt::fuzz::getRegistry(),
                      MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  OwningOpRef<ModuleOp> module = distopt::readArtifact(path, &context);
  if (!module)
    return 0;
  (void)verify(*module);
  (void)distopt::getProgramDeviceCount(*module);
  return 0;
}
