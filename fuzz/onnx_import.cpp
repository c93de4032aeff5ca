//===- onnx_import.cpp - fuzz the ONNX importer ---------------------------===//
//
// Input: the bytes of a .onnx file. Imports them as `dist-opt model.onnx`
// does (importOnnxFile with the default options: pattern raising on, no
// input shapes), from a file of this process's scratch folder, so that
// external-data paths resolve against a folder holding nothing else. Every
// problem must be a diagnostic and a null module, never a crash.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Import/ONNX.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = distopt::fuzz::writeScratchFile("model.onnx", data, size);
  // A fresh context per input, as each dist-opt run has: nothing uniqued by
  // one input changes how the next one imports.
  MLIRContext context(distopt::fuzz::getRegistry(),
                      MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  distopt::OnnxImportOptions options;
  OwningOpRef<ModuleOp> module =
      distopt::importOnnxFile(path, &context, options);
  (void)module;
  return 0;
}
