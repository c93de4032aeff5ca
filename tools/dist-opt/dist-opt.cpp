//===- dist-opt.cpp - the dist-opt compiler driver ------------------------===//
//
// An mlir-opt style driver. It reads `.mlir` files, and ONNX models (`.onnx`):
// those are imported into the dist dialect first, with `--shape` fixing
// dynamic input dimensions, and then go through the same passes, flags and
// printing as `.mlir` input.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Artifact.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Import/ONNX.h"
#include "distopt/Passes/Passes.h"
#include "distopt/Plan/Planner.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;

static cl::OptionCategory onnxCategory("dist-opt options");

static cl::list<std::string>
    inputShapes("shape",
                cl::desc("Fix the shape of an ONNX graph input, e.g. "
                         "--shape input_ids=2x128 (repeat per input)"),
                cl::value_desc("NAME=D0xD1x..."), cl::cat(onnxCategory));

static cl::opt<bool> printOnnxOperators(
    "onnx-operators",
    cl::desc("Print which ONNX operators the importer converts, and exit"),
    cl::init(false), cl::cat(onnxCategory));

static cl::opt<int> devices(
    "devices",
    cl::desc("Compile for this many devices and write the runtime artifact "
             "(MLIR bytecode) to -o; dist-run executes it"),
    cl::init(0), cl::cat(onnxCategory));

static cl::opt<bool> noRaise(
    "onnx-no-raise",
    cl::desc("Keep decomposed patterns (layer norm, GELU, linear layers) "
             "as the ONNX graph spells them"),
    cl::init(false), cl::cat(onnxCategory));

static cl::OptionCategory planCategory("dist-opt planner options");

static cl::opt<std::string> clusterName(
    "cluster",
    cl::desc("Plan for this cluster: a preset (dgx-a100-80g, dgx-a100-40g, "
             "dgx-h100, cpu) or a cluster file (.yaml, .json); with "
             "--devices. Without -o, prints the plan report"),
    cl::value_desc("NAME|FILE"), cl::init(""), cl::cat(planCategory));

static cl::opt<std::string> planText(
    "plan",
    cl::desc("Fix parts of the plan, e.g. dp=32,tp=8,pp=4,microbatch=1,"
             "recompute=full,zero=1,schedule=1f1b; the rest is chosen"),
    cl::value_desc("KEY=VALUE,..."), cl::init(""), cl::cat(planCategory));

static cl::opt<std::string> modeText(
    "mode", cl::desc("Plan for inference (infer) or training (train)"),
    cl::value_desc("infer|train"), cl::init("infer"), cl::cat(planCategory));

static cl::opt<int64_t> globalBatch(
    "batch",
    cl::desc("Global batch of a training step (--mode train); the model's "
             "batch dimension is one micro-batch"),
    cl::init(0), cl::cat(planCategory));

static cl::opt<bool> printReport(
    "report", cl::desc("Print the plan report (grid, shardings, collectives, "
                       "step time and memory)"),
    cl::init(false), cl::cat(planCategory));

static cl::opt<std::string> reportJson(
    "report-json", cl::desc("Write the plan report as JSON to this file"),
    cl::value_desc("FILE"), cl::init(""), cl::cat(planCategory));

/// Runs the planner on `module` for the command line's cluster and plan,
/// prints and writes the report as asked. With `forArtifact`, the plan must
/// run on the CPU runtime (no pipeline stages) and is written into the
/// module and partitioned.
static int planAndPartition(mlir::ModuleOp module, llvm::StringRef inputFilename,
                            bool forArtifact) {
  auto reportError = [&](const llvm::Twine &message) {
    llvm::WithColor::error(llvm::errs(), inputFilename) << message << "\n";
    return 1;
  };
  std::string cluster = clusterName.empty() ? "cpu" : clusterName.getValue();
  // A cluster file may say how many devices it has; a preset may not.
  if (devices <= 0 &&
      llvm::is_contained(distopt::cost::getClusterPresetNames(), cluster))
    return reportError("--cluster " + cluster + " needs --devices N");
  llvm::Expected<distopt::cost::ClusterSpec> spec =
      distopt::cost::getClusterSpec(cluster, devices);
  if (!spec)
    return reportError(llvm::toString(spec.takeError()));
  std::optional<int64_t> batch;
  if (globalBatch.getNumOccurrences()) {
    if (globalBatch <= 0)
      return reportError("--batch must be positive");
    batch = globalBatch;
  }
  llvm::Expected<distopt::plan::PlannerOptions> options =
      distopt::plan::makePlannerOptions(*spec, planText, modeText, batch);
  if (!options)
    return reportError(llvm::toString(options.takeError()));
  options->searchPipeline = !forArtifact;
  if (forArtifact && options->pipelineParallel.value_or(1) > 1)
    return reportError("the CPU runtime runs no pipeline stages yet; drop "
                       "pp from --plan, or plan without -o to see the report");
  llvm::Expected<distopt::plan::Plan> plan =
      distopt::plan::planModule(module, *options);
  if (!plan)
    return reportError(llvm::toString(plan.takeError()));
  if (printReport || !forArtifact)
    distopt::plan::printPlanReport(*plan, llvm::outs());
  if (!reportJson.empty()) {
    // Through a temporary file: nothing partial is left at the path.
    if (llvm::Error error = llvm::writeToOutput(
            reportJson, [&](llvm::raw_ostream &os) {
              os << llvm::formatv("{0:2}",
                                  distopt::plan::planReportToJSON(*plan))
                 << "\n";
              return llvm::Error::success();
            }))
      return reportError("cannot write the report: " +
                         llvm::toString(std::move(error)));
  }
  if (!forArtifact)
    return 0;
  distopt::plan::annotateModule(module, *plan);
  // Anchored on the module itself: a pass manager on "any" would nest the
  // pipeline one module deeper and run nothing.
  mlir::PassManager pm(module->getContext(),
                       mlir::ModuleOp::getOperationName());
  pm.addPass(distopt::createPartitionPass());
  if (failed(pm.run(module)))
    return 1;
  return 0;
}

/// Imports an ONNX model and runs the regular mlir-opt processing on it,
/// printing the result to `output`.
static int runOnOnnx(llvm::StringRef inputFilename, llvm::raw_ostream &output,
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
  auto config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (failed(mlir::MlirOptMain(
          output, llvm::MemoryBuffer::getMemBufferCopy(text, inputFilename),
          registry, config)))
    return 1;
  return 0;
}

/// Runs the regular processing of `inputFilename` (.onnx or .mlir) and
/// parses the result into `context`. Errors are reported; returns null then.
static mlir::OwningOpRef<mlir::ModuleOp>
loadModule(llvm::StringRef inputFilename, mlir::DialectRegistry &registry,
           mlir::MLIRContext &context) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (inputFilename.ends_with(".onnx")) {
    if (runOnOnnx(inputFilename, os, registry))
      return nullptr;
  } else {
    std::string errorMessage;
    auto input = mlir::openInputFile(inputFilename, &errorMessage);
    if (!input) {
      llvm::WithColor::error(llvm::errs(), inputFilename)
          << errorMessage << "\n";
      return nullptr;
    }
    auto config = mlir::MlirOptMainConfig::createFromCLOptions();
    if (failed(mlir::MlirOptMain(os, std::move(input), registry, config)))
      return nullptr;
  }
  return mlir::parseSourceString<mlir::ModuleOp>(text, &context);
}

/// Runs the regular processing of `inputFilename` (.onnx or .mlir) into
/// memory, then writes the result as the runtime artifact `outputFilename`
/// for `devices` devices.
static int compileArtifact(llvm::StringRef inputFilename,
                           llvm::StringRef outputFilename,
                           mlir::DialectRegistry &registry) {
  auto reportError = [&](const llvm::Twine &message) {
    llvm::WithColor::error(llvm::errs(), inputFilename) << message << "\n";
    return 1;
  };
  if (outputFilename == "-")
    return reportError("--devices writes a compiled artifact; name it with -o");
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      loadModule(inputFilename, registry, context);
  if (!module)
    return 1;
  bool hasGrid = !module->getOps<mlir::shard::GridOp>().empty();
  if (!hasGrid && (devices > 1 || !clusterName.empty()))
    if (int rc = planAndPartition(*module, inputFilename, /*forArtifact=*/true))
      return rc;
  // The program's device count is its grid's.
  int64_t programDevices = 1;
  for (auto grid : module->getOps<mlir::shard::GridOp>())
    for (int64_t d : grid.getShape())
      programDevices *= d;
  if (programDevices != devices) {
    return reportError("the program runs on " + llvm::Twine(programDevices) +
                       " devices (its shard.grid), not --devices " +
                       llvm::Twine(devices.getValue()));
  }
  // Weights of hand-written programs are found beside their source file.
  if (!(*module)->hasAttr("dist.model_dir")) {
    llvm::SmallString<256> dir(inputFilename);
    llvm::sys::fs::make_absolute(dir);
    llvm::sys::path::remove_filename(dir);
    llvm::sys::path::remove_dots(dir, /*remove_dot_dot=*/true);
    (*module)->setAttr("dist.model_dir",
                       mlir::StringAttr::get(&context, dir));
  }
  return distopt::writeArtifact(*module, outputFilename) ? 0 : 1;
}

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  distopt::registerAllDialects(registry);
  distopt::registerDistOptPassesAndPipelines();
  distopt::plan::registerPlanPasses();
  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv,
      "dist-opt: auto-parallelizing compiler for model graphs\n\n"
      "Reads .mlir files and ONNX models (.onnx).\n",
      registry);
  if (printOnnxOperators) {
    distopt::printOnnxOperatorTable(llvm::outs());
    return 0;
  }
  if (devices < 0) {
    llvm::WithColor::error() << "--devices must be positive\n";
    return 1;
  }
  if (!clusterName.empty() && outputFilename == "-") {
    // Plan and report only: nothing is compiled or written but the report.
    mlir::MLIRContext context(registry);
    mlir::OwningOpRef<mlir::ModuleOp> module =
        loadModule(inputFilename, registry, context);
    if (!module)
      return 1;
    return planAndPartition(*module, inputFilename, /*forArtifact=*/false);
  }
  if (devices > 0)
    return compileArtifact(inputFilename, outputFilename, registry);
  if (llvm::StringRef(inputFilename).ends_with(".onnx")) {
    std::string errorMessage;
    std::unique_ptr<llvm::ToolOutputFile> output =
        mlir::openOutputFile(outputFilename, &errorMessage);
    if (!output) {
      llvm::WithColor::error() << errorMessage << "\n";
      return 1;
    }
    if (int rc = runOnOnnx(inputFilename, output->os(), registry))
      return rc;
    output->keep();
    return 0;
  }
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
}
