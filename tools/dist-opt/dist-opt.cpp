//===- dist-opt.cpp - the dist-opt compiler driver ------------------------===//
//
// An mlir-opt style driver over .mlir files: registers the dist dialect, the
// upstream dialects that dist-opt pipelines use, and every pass. Later
// components add ONNX input and the planning options.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  distopt::registerAllDialects(registry);
  distopt::registerDistOptPassesAndPipelines();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "dist-opt: auto-parallelizing compiler for model graphs\n",
      registry));
}
