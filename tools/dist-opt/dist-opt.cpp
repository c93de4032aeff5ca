//===- dist-opt.cpp - the dist-opt compiler driver ------------------------===//
//
// An mlir-opt style driver. It reads `.mlir` files, and ONNX models (`.onnx`):
// those are imported into the dist dialect first, with `--shape` fixing
// dynamic input dimensions, and then go through the same passes, flags and
// printing as `.mlir` input.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Import/ONNX.h"
#include "distopt/Passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;

static cl::OptionCategory onnxCategory("ONNX input options");

static cl::list<std::string>
    inputShapes("shape",
                cl::desc("Fix the shape of an ONNX graph input, e.g. "
                         "--shape input_ids=2x128 (repeat per input)"),
                cl::value_desc("NAME=D0xD1x..."), cl::cat(onnxCategory));

static cl::opt<bool> printOnnxOperators(
    "onnx-operators",
    cl::desc("Print which ONNX operators the importer converts, and exit"),
    cl::init(false), cl::cat(onnxCategory));

static cl::opt<bool> noRaise(
    "onnx-no-raise",
    cl::desc("Keep decomposed patterns (layer norm, GELU, linear layers) "
             "as the ONNX graph spells them"),
    cl::init(false), cl::cat(onnxCategory));

/// Imports an ONNX model and runs the regular mlir-opt processing on it.
static int runOnOnnx(llvm::StringRef inputFilename,
                     llvm::StringRef outputFilename,
                     mlir::DialectRegistry &registry) {
  auto reportError = [&](const llvm::Twine &message) {
    llvm::WithColor::error(llvm::errs(), inputFilename) << message << "\n";
    return 1;
  };
  distopt::OnnxImportOptions options;
  options.raisePatterns = !noRaise;
  for (const std::string &spec : inputShapes) {
    std::string error;
    if (failed(distopt::parseInputShape(spec, options, error)))
      return reportError(error);
  }

  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Importer diagnostics name the file and, for node problems, the node: a
  // line and column do not exist in a protobuf file.
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    auto print = [&](mlir::Diagnostic &d) {
      switch (d.getSeverity()) {
      case mlir::DiagnosticSeverity::Error:
        llvm::WithColor::error(llvm::errs(), inputFilename);
        break;
      case mlir::DiagnosticSeverity::Warning:
        llvm::WithColor::warning(llvm::errs(), inputFilename);
        break;
      default:
        llvm::WithColor::note(llvm::errs(), inputFilename);
        break;
      }
      llvm::errs() << d.str() << "\n";
    };
    print(diag);
    for (mlir::Diagnostic &note : diag.getNotes())
      print(note);
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      distopt::importOnnxFile(inputFilename, &context, options);
  if (!module)
    return 1;

  // Hand the module to the regular driver as text with its locations.
  std::string text;
  llvm::raw_string_ostream os(text);
  mlir::OpPrintingFlags flags;
  flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  module->print(os, flags);
  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &errorMessage);
  if (!output)
    return reportError(errorMessage);
  auto config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (failed(mlir::MlirOptMain(
          output->os(),
          llvm::MemoryBuffer::getMemBufferCopy(text, inputFilename), registry,
          config)))
    return 1;
  output->keep();
  return 0;
}

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  distopt::registerAllDialects(registry);
  distopt::registerDistOptPassesAndPipelines();
  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv,
      "dist-opt: auto-parallelizing compiler for model graphs\n\n"
      "Reads .mlir files and ONNX models (.onnx).\n",
      registry);
  if (printOnnxOperators) {
    distopt::printOnnxOperatorTable(llvm::outs());
    return 0;
  }
  if (llvm::StringRef(inputFilename).ends_with(".onnx"))
    return runOnOnnx(inputFilename, outputFilename, registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
}
