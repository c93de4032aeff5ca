//===- artifact.cpp - fuzz the artifact reader ----------------------------===//
//
// Input: the bytes of a compiled artifact. Reads it as dist-run does
// (readArtifact: MLIR bytecode, parsed and verified, with the artifact
// version checked), then verifies the module again and counts its devices,
// the first things dist-run does with a program.
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
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    distopt::registerAllDialects(*r);
    return r;
  }();
  std::string path =
      distopt::fuzz::writeScratchFile("program.dist", data, size);
  MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) { return success(); });
  OwningOpRef<ModuleOp> module = distopt::readArtifact(path, &context);
  if (!module)
    return 0;
  (void)verify(*module);
  (void)distopt::getProgramDeviceCount(*module);
  return 0;
}
