//===- dist-opt.cpp - the dist-opt compiler driver ------------------------===//
//
// An mlir-opt style driver. It reads `.mlir` files and ONNX models (`.onnx`,
// imported into the dist dialect in memory, with `--shape` fixing dynamic
// input dimensions), runs the command line's passes on the module, and then
// prints it, prints the plan report (`--cluster` without `-o`), or compiles
// it with the `dist-compile` pipeline and writes the runtime artifact
// (`--devices`/`--cluster` with `-o`). `.mlir` input that is only printed
// goes through MlirOptMain itself, with all of its options.
//
//===----------------------------------------------------------------------===//

#include "distopt/API/Compiler.h"
#include "distopt/Artifact/Artifact.h"
#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/StepModel.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Import/ONNX.h"
#include "distopt/Passes/Passes.h"
#include "distopt/Plan/Sweep.h"
#include "distopt/Support/Resources.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <cmath>

namespace cl = llvm::cl;

static cl::OptionCategory onnxCategory("dist-opt options");

static cl::list<std::string>
    inputShapes("shape",
                cl::desc("Fix the shape of an ONNX graph input, e.g. "
                         "--shape input_ids=2x128 (repeat per input)"),
                cl::value_desc("NAME=D0xD1x..."), cl::cat(onnxCategory));

static cl::list<std::string> inputValues(
    "value",
    cl::desc("Give an ONNX graph input its value at compile time, from a "
             ".npy or ONNX .pb tensor file (a shape, axes or starts that ops "
             "need then); the input becomes a constant of the model "
             "(repeat per input)"),
    cl::value_desc("NAME=FILE"), cl::cat(onnxCategory));

static cl::opt<bool> printOnnxOperators(
    "onnx-operators",
    cl::desc("Print which ONNX operators the importer converts, and exit"),
    cl::init(false), cl::cat(onnxCategory));

static cl::opt<std::string> devicesText(
    "devices",
    cl::desc("Compile for this many devices and write the runtime artifact "
             "(MLIR text and its checksum) to -o; dist-run executes it. "
             "auto (or auto:MIN-MAX) plans each candidate count of --cluster "
             "and takes the fastest (the fewest devices within 1% of it); "
             "with --sweep, also a list N,N,..."),
    cl::value_desc("N|auto[:MIN-MAX]|N,N,..."), cl::init(""),
    cl::cat(onnxCategory));

static cl::opt<bool> noRaise(
    "onnx-no-raise",
    cl::desc("Keep decomposed patterns (layer norm, GELU, linear layers) "
             "as the ONNX graph spells them"),
    cl::init(false), cl::cat(onnxCategory));

static cl::opt<std::string> maxMemoryText(
    "max-memory",
    cl::desc("The most memory the compile may take for the input file and "
             "the tensor data it reads into the IR, e.g. 512M or 8G; checked "
             "before reading (default: the machine's physical memory)"),
    cl::value_desc("BYTES"), cl::init(""), cl::cat(onnxCategory));

static cl::OptionCategory planCategory("dist-opt planner options");

static cl::opt<std::string> clusterName(
    "cluster",
    cl::desc("Plan for this cluster: a preset (dgx-a100-80g, dgx-a100-40g, "
             "dgx-h100, cpu) with --devices, or a cluster file (.yaml, "
             ".json; all its devices unless --devices). With -o, compiles "
             "the plan; without, prints the plan report"),
    cl::value_desc("NAME|FILE"), cl::init(""), cl::cat(planCategory));

static cl::opt<std::string> planText(
    "plan",
    cl::desc("Fix parts of the plan, e.g. dp=32,tp=8,pp=4,microbatch=1,"
             "recompute=full,zero=1,schedule=1f1b,precision=bf16; the rest "
             "is chosen"),
    cl::value_desc("KEY=VALUE,..."), cl::init(""), cl::cat(planCategory));

static cl::opt<std::string> modeText(
    "mode",
    cl::desc("Plan for inference (infer) or training (train: with --loss, "
             "the training step is generated and compiled; without, the "
             "report prices training from the forward graph)"),
    cl::value_desc("infer|train"), cl::init("infer"), cl::cat(planCategory));

static cl::opt<int64_t> globalBatch(
    "batch",
    cl::desc("Global batch of a training step (--mode train), or the "
             "batch an inference pipeline (pp in --plan) runs; the model's "
             "batch dimension is one micro-batch"),
    cl::init(0), cl::cat(planCategory));

static cl::opt<std::string> precisionText(
    "precision",
    cl::desc("Price the model in this precision (the same as --plan "
             "precision=...): bf16 and fp16 retype its float32 values "
             "(dist-convert-precision; training is mixed precision, with fp32 "
             "master weights and Adam states) and only plan and report; fp32 "
             "prices a float32 model as it is. Default: the model's own"),
    cl::value_desc("bf16|fp16|fp32"), cl::init(""), cl::cat(planCategory));

static cl::opt<bool>
    printReport("report",
                cl::desc("Print the plan report (grid, shardings, collectives, "
                         "step time and memory)"),
                cl::init(false), cl::cat(planCategory));

static cl::opt<std::string>
    reportJson("report-json",
               cl::desc("Write the plan report (with --sweep: its rows) as "
                        "JSON to this file"),
               cl::value_desc("FILE"), cl::init(""), cl::cat(planCategory));

static cl::opt<std::string> reportHtml(
    "report-html",
    cl::desc("Write the plan report as a self-contained HTML page with "
             "pictures (devices, pipeline schedule, step time, memory, "
             "grids considered) to this file"),
    cl::value_desc("FILE"), cl::init(""), cl::cat(planCategory));

static cl::opt<bool> sweepClusters(
    "sweep",
    cl::desc("Plan for each cluster of --cluster A,B,... (presets or files) "
             "and each device count of --devices (a list, or auto, the "
             "default) and print a row per point: plan, step time, "
             "throughput, cost; no artifact"),
    cl::init(false), cl::cat(planCategory));

static cl::opt<double> trainTokens(
    "train-tokens",
    cl::desc("With --sweep or --devices auto: also give the time (and cost) "
             "to train on this many tokens, e.g. 300e9"),
    cl::value_desc("N"), cl::init(0), cl::cat(planCategory));

static cl::opt<double> trainSamples("train-samples",
                                    cl::desc("As --train-tokens, in samples"),
                                    cl::value_desc("N"), cl::init(0),
                                    cl::cat(planCategory));

/// The device count of --devices N (0: none given, or a search).
static unsigned devices = 0;
/// The device counts of --devices auto or a list, to search or sweep.
static std::optional<distopt::plan::DeviceCountSpec> deviceSearch;

static cl::OptionCategory trainCategory("dist-opt training options");

static cl::opt<std::string> lossText(
    "loss",
    cl::desc("With --mode train: generate the training step with this loss: "
             "cross-entropy (the logits output [..., C] against an int64 "
             "input 'labels' [...]), mse (against an input 'target'), each "
             "optionally :OUTPUT to name the output, or output:NAME (that "
             "scalar output is the loss)"),
    cl::value_desc("KIND[:OUTPUT]"), cl::init(""), cl::cat(trainCategory));

static cl::opt<std::string>
    labelsName("labels",
               cl::desc("Name of the loss's labels (or target) input"),
               cl::value_desc("NAME"), cl::init(""), cl::cat(trainCategory));

static cl::opt<std::string>
    optimizerName("optimizer",
                  cl::desc("The optimizer: adamw (default) or sgd"),
                  cl::value_desc("adamw|sgd"), cl::init("adamw"),
                  cl::cat(trainCategory));

static cl::opt<double> learningRate("lr", cl::desc("Learning rate"),
                                    cl::init(1e-3), cl::cat(trainCategory));

static cl::opt<std::string>
    betasText("betas", cl::desc("AdamW's moment decays"),
              cl::value_desc("B1,B2"), cl::init("0.9,0.999"),
              cl::cat(trainCategory));

static cl::opt<double> adamEps("eps", cl::desc("AdamW's denominator term"),
                               cl::init(1e-8), cl::cat(trainCategory));

static cl::opt<double> weightDecay(
    "weight-decay",
    cl::desc("Weight decay (decoupled for adamw; default 0.01 for adamw, 0 "
             "for sgd)"),
    cl::init(-1), cl::cat(trainCategory));

static cl::opt<double> sgdMomentum("momentum", cl::desc("SGD's momentum"),
                                   cl::init(0), cl::cat(trainCategory));

static cl::opt<double>
    clipNorm("clip-norm",
             cl::desc("Clip the gradients' global 2-norm to this (0: off)"),
             cl::init(0), cl::cat(trainCategory));

static cl::opt<std::string> trainableGlobs(
    "trainable",
    cl::desc("Only the weights whose names match these globs train"),
    cl::value_desc("GLOB,..."), cl::init(""), cl::cat(trainCategory));

static cl::opt<std::string>
    freezeGlobs("freeze",
                cl::desc("The weights whose names match these globs do not "
                         "train"),
                cl::value_desc("GLOB,..."), cl::init(""),
                cl::cat(trainCategory));

namespace {
/// What the command line asks for, beyond running its passes. ChooseDevices
/// reports the device count --devices auto picks; Compile compiles for the
/// count of --devices, or for the one it picks.
enum class DriverAction { Print, ReportPlan, Compile, ChooseDevices, Sweep };
} // namespace

/// Reports a command-line problem about `inputFilename`; returns 1.
static int reportError(llvm::StringRef inputFilename,
                       const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), inputFilename) << message << "\n";
  return 1;
}

/// The two betas of --betas, or nothing when it does not hold two numbers.
static std::optional<std::pair<double, double>> parseBetas() {
  auto [first, second] = llvm::StringRef(betasText).split(',');
  double b1 = 0, b2 = 0;
  if (first.trim().getAsDouble(b1) || second.trim().getAsDouble(b2))
    return std::nullopt;
  return std::make_pair(b1, b2);
}

/// Checks the training flags: they need --mode train, which with -o needs
/// --loss. Returns the message of the first problem.
static std::optional<std::string>
checkTrainingFlags(llvm::StringRef outputFilename) {
  const cl::Option *flags[] = {
      &lossText,   &labelsName, &optimizerName, &learningRate,
      &betasText,  &adamEps,    &weightDecay,   &sgdMomentum,
      &clipNorm,   &trainableGlobs, &freezeGlobs};
  for (const cl::Option *flag : flags)
    if (flag->getNumOccurrences() && modeText != "train")
      return "--" + flag->ArgStr.str() + " is a training option: give " +
             "--mode train";
  if (modeText == "train" && outputFilename != "-" && lossText.empty())
    return std::string("--mode train with -o generates a training step: name "
                       "its loss with --loss (cross-entropy, mse or "
                       "output:NAME)");
  if (!parseBetas())
    return "--betas expects two numbers B1,B2, found '" + betasText + "'";
  return std::nullopt;
}

/// Reads --devices into `devices` or `deviceSearch`. Returns the message of
/// the first problem.
static std::optional<std::string> parseDevicesFlag() {
  if (devicesText.empty())
    return std::nullopt;
  auto spec = distopt::plan::parseDeviceCountSpec(devicesText);
  if (!spec)
    return "--devices: " + llvm::toString(spec.takeError());
  if (sweepClusters || spec->automatic) {
    deviceSearch = std::move(*spec);
    return std::nullopt;
  }
  if (spec->counts.size() > 1)
    return std::string("--devices: a list of device counts is for --sweep");
  devices = spec->counts.front();
  return std::nullopt;
}

/// Checks the flags of --sweep and --devices auto (after parseDevicesFlag).
/// Returns the message of the first problem.
static std::optional<std::string>
checkSearchFlags(llvm::StringRef outputFilename) {
  const cl::Option *targets[] = {&trainTokens, &trainSamples};
  for (const cl::Option *flag : targets)
    if (flag->getNumOccurrences() && !deviceSearch && !sweepClusters)
      return "--" + flag->ArgStr.str() +
             " prices a search: give --sweep or --devices auto";
  if (trainTokens.getNumOccurrences() && trainSamples.getNumOccurrences())
    return std::string("give --train-tokens or --train-samples, not both");
  for (cl::opt<double> *flag : {&trainTokens, &trainSamples})
    if (flag->getNumOccurrences() &&
        !(flag->getValue() > 0 && std::isfinite(flag->getValue())))
      return "--" + flag->ArgStr.str() + " must be a positive number";
  if ((deviceSearch || sweepClusters) && clusterName.empty())
    return std::string(sweepClusters ? "--sweep" : "--devices auto") +
           " plans on a cluster: give --cluster";
  if (!sweepClusters && llvm::StringRef(clusterName).contains(','))
    return std::string("--cluster names several clusters: give --sweep");
  if (sweepClusters && outputFilename != "-")
    return std::string("--sweep prints a table and writes no artifact: drop "
                       "-o");
  if (sweepClusters && !reportHtml.empty())
    return std::string("--sweep prints a table, not the plan report: drop "
                       "--report-html");
  if (sweepClusters && printReport)
    return std::string("--sweep prints a table, not the plan report: drop "
                       "--report");
  if (sweepClusters && !deviceSearch)
    deviceSearch = distopt::plan::DeviceCountSpec{/*automatic=*/true};
  return std::nullopt;
}

/// Adds --precision to --plan as its `precision` key. Returns the message of
/// the first problem: a bad name, or a plan that fixes another precision.
static std::optional<std::string> mergePrecisionFlag() {
  if (!precisionText.getNumOccurrences())
    return std::nullopt;
  if (!distopt::cost::parsePrecision(precisionText))
    return "--precision must be bf16, fp16 or fp32, not '" + precisionText +
           "'";
  auto plan = distopt::cost::parsePlanSpec(planText);
  if (!plan) {
    llvm::consumeError(plan.takeError());
    return std::nullopt; // getAction reports it
  }
  if (plan->isFixed(distopt::cost::PlanKey::Precision)) {
    if (distopt::cost::stringifyPrecision(plan->precision) != precisionText)
      return "--precision " + precisionText + " and --plan precision=" +
             distopt::cost::stringifyPrecision(plan->precision).str() +
             " disagree";
    return std::nullopt;
  }
  std::string text = planText;
  planText.setValue(text.empty() ? "precision=" + precisionText
                                 : text + ",precision=" + precisionText);
  return std::nullopt;
}

/// The 16-bit precision the plan fixes (--precision or --plan precision=),
/// to which the model is retyped before planning; none for fp32 or none.
static std::optional<distopt::cost::Precision> getRetypePrecision() {
  auto plan = distopt::cost::parsePlanSpec(planText);
  if (!plan) {
    llvm::consumeError(plan.takeError());
    return std::nullopt;
  }
  if (!plan->isFixed(distopt::cost::PlanKey::Precision) ||
      plan->precision == distopt::cost::Precision::FP32)
    return std::nullopt;
  return plan->precision;
}

/// Checks a 16-bit precision against what the command line asks for: it
/// plans and reports a forward graph. Returns the message of the problem.
static std::optional<std::string>
checkRetypePrecision(llvm::StringRef outputFilename) {
  std::optional<distopt::cost::Precision> precision = getRetypePrecision();
  if (!precision)
    return std::nullopt;
  std::string name = distopt::cost::stringifyPrecision(*precision).str();
  if (outputFilename != "-")
    return "--precision " + name +
           " plans and reports only: the retyped program would read the "
           "model's float32 weight bytes as " +
           name + "; drop -o (or export the model in " + name + ")";
  if (!lossText.empty())
    return "--precision " + name +
           " prices the training of a forward graph; the step --loss "
           "generates keeps the model's float32 (drop --loss)";
  return std::nullopt;
}

/// Checks the planner and compile flags against each other and picks the
/// action. Fails with a message that names the flags.
static std::optional<DriverAction> getAction(llvm::StringRef inputFilename,
                                             llvm::StringRef outputFilename) {
  auto fail = [&](const llvm::Twine &message) {
    reportError(inputFilename, message);
    return std::nullopt;
  };
  if (std::optional<std::string> error = parseDevicesFlag())
    return fail(*error);
  if (std::optional<std::string> error = checkSearchFlags(outputFilename))
    return fail(*error);
  if (globalBatch.getNumOccurrences() && globalBatch <= 0)
    return fail("--batch must be positive");
  if (!maxMemoryText.empty() && !distopt::parseByteSize(maxMemoryText))
    return fail("--max-memory expects a positive number of bytes (with an "
                "optional K, M, G or T), found '" +
                maxMemoryText + "'");
  bool planning = devices > 0 || deviceSearch || !clusterName.empty();
  const cl::Option *planFlags[] = {&planText,     &modeText,   &globalBatch,
                                   &printReport,  &reportJson, &reportHtml,
                                   &precisionText};
  for (const cl::Option *flag : planFlags)
    if (flag->getNumOccurrences() && !planning)
      return fail("--" + flag->ArgStr + " plans: give --cluster or --devices");
  if (std::optional<std::string> error = mergePrecisionFlag())
    return fail(*error);
  // The plan options are checked here too, one flag at a time, so that
  // their errors name the flag.
  using distopt::cost::makePlanOptions;
  if (auto plan = makePlanOptions(planText, "infer", std::nullopt); !plan)
    return fail("--plan: " + llvm::toString(plan.takeError()));
  if (auto mode = makePlanOptions("", modeText, std::nullopt); !mode)
    return fail("--mode: " + llvm::toString(mode.takeError()));
  if (globalBatch.getNumOccurrences())
    if (auto batch =
            makePlanOptions(planText, modeText, globalBatch.getValue());
        !batch)
      return fail("--batch: " + llvm::toString(batch.takeError()));
  if (std::optional<std::string> error = checkTrainingFlags(outputFilename))
    return fail(*error);
  if (std::optional<std::string> error = checkRetypePrecision(outputFilename))
    return fail(*error);
  // A cluster file may say how many devices it has; a preset may not.
  if (devices == 0 && !deviceSearch &&
      llvm::is_contained(distopt::cost::getClusterPresetNames(),
                         clusterName.getValue()))
    return fail("--cluster " + clusterName +
                " needs --devices N (or auto:MIN-MAX)");
  if (!planning)
    return DriverAction::Print;
  if (sweepClusters)
    return DriverAction::Sweep;
  if (outputFilename != "-")
    return DriverAction::Compile;
  if (deviceSearch)
    return DriverAction::ChooseDevices;
  if (clusterName.empty())
    return fail("--devices writes a compiled artifact; name it with -o");
  return DriverAction::ReportPlan;
}

/// Prints a diagnostic of the ONNX importer (or of a pass on an imported
/// module): a protobuf file has no lines and columns, so the message names
/// the file; node problems name the node themselves.
static void printOnnxDiagnostic(llvm::StringRef inputFilename,
                                mlir::Diagnostic &diag) {
  auto print = [&](mlir::Diagnostic &d) {
    switch (d.getSeverity()) {
    case mlir::DiagnosticSeverity::Error:
      llvm::WithColor::error(llvm::errs(), inputFilename);
      break;
    case mlir::DiagnosticSeverity::Warning:
      llvm::WithColor::warning(llvm::errs(), inputFilename);
      break;
    case mlir::DiagnosticSeverity::Remark:
      llvm::WithColor::remark(llvm::errs(), inputFilename);
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
}

/// The --max-memory limit in bytes (checked by validateMaxMemory).
static uint64_t getMaxMemory() {
  if (maxMemoryText.empty())
    return distopt::getPhysicalMemory();
  return distopt::parseByteSize(maxMemoryText).value_or(0);
}

/// The command line's import options for `inputFilename`. Problems are
/// reported; none then.
static std::optional<distopt::OnnxImportOptions>
getImportOptions(llvm::StringRef inputFilename) {
  distopt::OnnxImportOptions options;
  options.raisePatterns = !noRaise;
  options.maxBytes = getMaxMemory();
  // In training every float initializer is a parameter, however small.
  options.floatInitializersAsWeights = modeText == "train";
  for (const std::string &spec : inputShapes) {
    std::string error;
    if (failed(distopt::parseInputShape(spec, options, error))) {
      reportError(inputFilename, error);
      return std::nullopt;
    }
  }
  for (const std::string &spec : inputValues) {
    std::string error;
    if (failed(distopt::parseInputValue(spec, options, error))) {
      reportError(inputFilename, error);
      return std::nullopt;
    }
  }
  // `--plan microbatch=b` with a `--shape` batch of several micro-batches.
  std::optional<int64_t> batch;
  if (globalBatch.getNumOccurrences())
    batch = globalBatch;
  if (std::optional<std::string> error =
          distopt::splitIntoMicroBatches(planText, modeText, options, batch)) {
    reportError(inputFilename, *error);
    return std::nullopt;
  }
  if (batch && !globalBatch.getNumOccurrences())
    globalBatch.setValue(*batch);
  return options;
}

/// Parses the `.mlir` (or bytecode) file `inputFilename` into `context`,
/// whose diagnostics `sourceMgr` locates.
static mlir::OwningOpRef<mlir::ModuleOp>
parseMlir(llvm::StringRef inputFilename, llvm::SourceMgr &sourceMgr,
          mlir::MLIRContext &context) {
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &errorMessage);
  if (!input) {
    reportError(inputFilename, errorMessage);
    return nullptr;
  }
  if (input->getBufferSize() > getMaxMemory()) {
    reportError(inputFilename, "is " + std::to_string(input->getBufferSize()) +
                                   " bytes, more than the limit of " +
                                   std::to_string(getMaxMemory()) +
                                   " bytes (--max-memory)");
    return nullptr;
  }
  // A compiled artifact ends with its checksum, which is checked.
  if (distopt::hasArtifactTrailer(input->getBuffer()))
    return distopt::readArtifact(inputFilename, &context);
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  return mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
}

/// Runs `pm` on `module` with the command line's pass manager options
/// (--mlir-print-ir-after-all, --mlir-timing, --verify-each, ...).
static mlir::LogicalResult
runWithCommandLineOptions(mlir::PassManager &pm, mlir::ModuleOp module,
                          const mlir::MlirOptMainConfig &config) {
  pm.enableVerifier(config.shouldVerifyPasses());
  if (failed(mlir::applyPassManagerCLOptions(pm)))
    return mlir::failure();
  mlir::applyDefaultTimingPassManagerCLOptions(pm);
  return pm.run(module);
}

/// Prints `module` to `outputFilename` as text, or as bytecode with
/// --emit-bytecode.
static int printModule(mlir::ModuleOp module, llvm::StringRef outputFilename,
                       const mlir::MlirOptMainConfig &config) {
  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &errorMessage);
  if (!output)
    return reportError(outputFilename, errorMessage);
  if (config.shouldEmitBytecode()) {
    mlir::BytecodeWriterConfig writerConfig;
    if (std::optional<int64_t> version = config.bytecodeVersionToEmit())
      writerConfig.setDesiredBytecodeVersion(*version);
    if (failed(mlir::writeBytecodeToFile(module, output->os(), writerConfig)))
      return 1;
  } else {
    module.print(output->os());
    output->os() << "\n";
  }
  output->keep();
  return 0;
}

/// The command line's compile options; weights of a hand-written program
/// are found beside its source file.
static distopt::CompilePassOptions
getCompileOptions(llvm::StringRef inputFile) {
  distopt::CompilePassOptions options;
  options.cluster = clusterName;
  options.devices = devices;
  options.planSpec = planText;
  options.mode = modeText;
  options.batch = globalBatch;
  options.report = printReport;
  options.reportJson = reportJson;
  options.reportHtml = reportHtml;
  options.loss = lossText;
  options.labels = labelsName;
  options.optimizer = optimizerName;
  options.lr = learningRate;
  std::tie(options.beta1, options.beta2) = parseBetas().value_or(
      std::make_pair(0.9, 0.999));
  options.eps = adamEps;
  options.weightDecay = weightDecay;
  options.momentum = sgdMomentum;
  options.clipNorm = clipNorm;
  options.trainable = trainableGlobs;
  options.freeze = freezeGlobs;
  llvm::SmallString<256> dir(inputFile);
  llvm::sys::path::remove_filename(dir);
  options.modelDir = dir.empty() ? "." : dir.str().str();
  return options;
}

/// Retypes the float32 values of `module` to the 16-bit precision the plan
/// fixes (dist-convert-precision), so that the planner prices it; nothing
/// without one.
static mlir::LogicalResult
retypeToPrecision(mlir::ModuleOp module,
                  const mlir::MlirOptMainConfig &config) {
  std::optional<distopt::cost::Precision> precision = getRetypePrecision();
  if (!precision)
    return mlir::success();
  distopt::ConvertPrecisionPassOptions options;
  options.precision = distopt::cost::stringifyPrecision(*precision).str();
  mlir::PassManager pm(module.getContext(), module.getOperationName());
  pm.addPass(distopt::createConvertPrecisionPass(options));
  return runWithCommandLineOptions(pm, module, config);
}

/// Runs the command line's passes and the precision's retyping on
/// `module`: what a model goes through before it is planned. `dump`: the
/// pass pipeline is printed when --dump-pass-pipeline asks.
static mlir::LogicalResult prepareModule(mlir::ModuleOp module,
                                         const mlir::MlirOptMainConfig &config,
                                         bool dump) {
  mlir::PassManager pm(module.getContext(), module.getOperationName(),
                       mlir::OpPassManager::Nesting::Implicit);
  if (failed(config.setupPassPipeline(pm)))
    return mlir::failure();
  if (dump && config.shouldDumpPassPipeline()) {
    pm.dump();
    llvm::errs() << "\n";
  }
  if (failed(runWithCommandLineOptions(pm, module, config)))
    return mlir::failure();
  return retypeToPrecision(module, config);
}

/// The ONNX model `inputFilename` imported again at another micro-batch
/// size, through the passes of the command line and the precision's
/// retyping (getModelAtMicroBatch); null unless the command line plans the
/// training of a forward graph whose inputs share their first dimension.
static distopt::plan::ModelAtMicroBatch
getModelAtMicroBatch(llvm::StringRef inputFilename,
                     const distopt::OnnxImportOptions &options,
                     mlir::ModuleOp imported, mlir::MLIRContext &context,
                     const mlir::MlirOptMainConfig &config) {
  if (modeText != "train" || !lossText.empty())
    return nullptr;
  return distopt::getModelAtMicroBatch(
      inputFilename, options, imported, context,
      [&config](mlir::ModuleOp module) {
        return prepareModule(module, config, /*dump=*/false);
      });
}

/// Plans `module` for the command line's cluster and prints the report
/// (and writes it as JSON when asked); the module is left as it is. With
/// `modelAt`, a training plan also chooses the micro-batch size.
static int reportPlan(mlir::ModuleOp module,
                      const mlir::MlirOptMainConfig &config,
                      distopt::plan::ModelAtMicroBatch modelAt) {
  distopt::AutoPlanPassOptions options =
      distopt::getAutoPlanOptions(getCompileOptions(""));
  options.report = true;
  options.runnable = false;
  options.reportOnly = true;
  mlir::PassManager pm(module.getContext(), module.getOperationName());
  // With a loss, the report is the plan of the generated training step.
  distopt::CompilePassOptions compileOptions = getCompileOptions("");
  if (!compileOptions.loss.empty())
    distopt::addTrainingStepPipeline(pm, compileOptions);
  pm.addPass(
      distopt::createAutoPlanPass(options, llvm::outs(), std::move(modelAt)));
  return failed(runWithCommandLineOptions(pm, module, config)) ? 1 : 0;
}

/// A copy of `module` as the planner sees it: with --loss, the generated
/// training step. Null when its generation fails (reported).
static mlir::OwningOpRef<mlir::ModuleOp>
getPlannedModule(mlir::ModuleOp module, const mlir::MlirOptMainConfig &config) {
  mlir::OwningOpRef<mlir::ModuleOp> copy = module.clone();
  distopt::CompilePassOptions compileOptions = getCompileOptions("");
  if (compileOptions.loss.empty())
    return copy;
  mlir::PassManager pm(module.getContext(), module.getOperationName());
  distopt::addTrainingStepPipeline(pm, compileOptions);
  if (failed(runWithCommandLineOptions(pm, *copy, config)))
    return nullptr;
  return copy;
}

/// The options of --sweep and --devices auto.
static llvm::Expected<distopt::plan::SweepOptions> getSweepOptions() {
  std::optional<int64_t> batch;
  if (globalBatch > 0)
    batch = globalBatch;
  auto plan = distopt::cost::makePlanOptions(planText, modeText, batch);
  if (!plan)
    return plan.takeError();
  distopt::plan::SweepOptions options;
  options.plan = *plan;
  options.devices = *deviceSearch;
  if (trainTokens > 0)
    options.target = distopt::plan::TrainingTarget{trainTokens, true};
  else if (trainSamples > 0)
    options.target = distopt::plan::TrainingTarget{trainSamples, false};
  return options;
}

/// Writes `value` to --report-json through a temporary file; returns 1
/// after reporting a failure.
static int writeReportJson(const llvm::json::Value &value) {
  if (llvm::Error error =
          llvm::writeToOutput(reportJson, [&](llvm::raw_ostream &os) {
            os << llvm::formatv("{0:2}", value) << "\n";
            return llvm::Error::success();
          }))
    return reportError(reportJson, "cannot write the report: " +
                                       llvm::toString(std::move(error)));
  return 0;
}

/// Writes the HTML report of `plan` (made for --cluster) to --report-html,
/// when asked, through a temporary file; returns 1 after reporting a
/// failure.
static int writeReportHtml(const distopt::plan::Plan &plan) {
  if (reportHtml.empty())
    return 0;
  unsigned devices =
      plan.dataParallel * plan.tensorParallel * plan.pipelineParallel;
  auto cluster = distopt::cost::getClusterSpec(clusterName, devices);
  if (!cluster)
    return reportError(clusterName, llvm::toString(cluster.takeError()));
  if (llvm::Error error =
          distopt::plan::writePlanReportHtml(plan, *cluster, reportHtml))
    return reportError(reportHtml, "cannot write the HTML report: " +
                                       llvm::toString(std::move(error)));
  return 0;
}

/// Plans `module` for each device count of --devices auto on --cluster and
/// prints the counts and the choice; `report`: as the report does (pipeline
/// stages too, and with `modelAt` the micro-batch size), else as a compile
/// does.
static llvm::Expected<distopt::plan::DeviceCountChoice>
chooseDevices(mlir::ModuleOp module, const mlir::MlirOptMainConfig &config,
              bool report, distopt::plan::ModelAtMicroBatch modelAt = nullptr) {
  mlir::OwningOpRef<mlir::ModuleOp> planned = getPlannedModule(module, config);
  if (!planned)
    return llvm::createStringError("the training step was not generated");
  auto options = getSweepOptions();
  if (!options)
    return options.takeError();
  options->modelAt = std::move(modelAt);
  auto choice =
      distopt::plan::planDeviceCounts(*planned, clusterName, *options);
  if (choice)
    distopt::plan::printDeviceCountChoice(*choice, options->target,
                                          llvm::outs());
  return choice;
}

/// --devices auto without -o: the counts, the choice and the chosen plan's
/// report (and its JSON, with the counts, to --report-json; its HTML to
/// --report-html).
static int reportDeviceChoice(mlir::ModuleOp module,
                              llvm::StringRef inputFilename,
                              const mlir::MlirOptMainConfig &config,
                              distopt::plan::ModelAtMicroBatch modelAt) {
  auto choice =
      chooseDevices(module, config, /*report=*/true, std::move(modelAt));
  if (!choice)
    return reportError(inputFilename, llvm::toString(choice.takeError()));
  distopt::plan::printPlanReport(choice->plan, llvm::outs());
  if (int status = writeReportHtml(choice->plan))
    return status;
  if (reportJson.empty())
    return 0;
  llvm::json::Value json = distopt::plan::planReportToJSON(choice->plan);
  llvm::json::Array rows;
  for (const distopt::plan::SweepRow &row : choice->rows)
    rows.push_back(distopt::plan::toJSON(row));
  json.getAsObject()->insert({"device_counts", std::move(rows)});
  return writeReportJson(json);
}

/// --sweep: a row per cluster of --cluster and device count of --devices.
static int runSweep(mlir::ModuleOp module, llvm::StringRef inputFilename,
                    const mlir::MlirOptMainConfig &config,
                    distopt::plan::ModelAtMicroBatch modelAt) {
  llvm::SmallVector<llvm::StringRef> names;
  llvm::StringRef(clusterName).split(names, ',');
  std::vector<std::string> clusters;
  for (llvm::StringRef name : names) {
    if (name.trim().empty())
      return reportError(inputFilename, "--cluster '" + clusterName +
                                            "' has an empty cluster name");
    clusters.push_back(name.trim().str());
  }
  mlir::OwningOpRef<mlir::ModuleOp> planned = getPlannedModule(module, config);
  if (!planned)
    return 1;
  auto options = getSweepOptions();
  if (!options)
    return reportError(inputFilename, llvm::toString(options.takeError()));
  options->modelAt = std::move(modelAt);
  auto result = distopt::plan::sweep(*planned, clusters, *options);
  if (!result)
    return reportError(inputFilename, llvm::toString(result.takeError()));
  distopt::plan::printSweepTable(result->rows, options->target, llvm::outs());
  llvm::outs() << llvm::formatv("{0} points planned in {1:f2} s\n",
                                result->rows.size(), result->seconds);
  if (reportJson.empty())
    return 0;
  llvm::json::Array rows;
  for (const distopt::plan::SweepRow &row : result->rows)
    rows.push_back(distopt::plan::toJSON(row));
  return writeReportJson(llvm::json::Object{{"rows", std::move(rows)},
                                            {"seconds", result->seconds}});
}

/// Compiles `module` with the dist-compile pipeline and writes the artifact
/// to `outputFilename`; nothing is written when any step fails.
static int compile(mlir::ModuleOp module, llvm::StringRef inputFilename,
                   llvm::StringRef outputFilename,
                   const mlir::MlirOptMainConfig &config) {
  // A program laid out by hand already says its device count.
  if (!module.getOps<mlir::shard::GridOp>().empty() && devices > 0 &&
      distopt::getProgramDeviceCount(module) != devices)
    return reportError(inputFilename,
                       "the program runs on " +
                           llvm::Twine(distopt::getProgramDeviceCount(module)) +
                           " devices (its shard.grid), not --devices " +
                           llvm::Twine(devices));
  if (deviceSearch) {
    if (!module.getOps<mlir::shard::GridOp>().empty())
      return reportError(inputFilename,
                         "--devices auto plans a model; this program is laid "
                         "out already (its shard.grid)");
    auto choice = chooseDevices(module, config, /*report=*/false);
    if (!choice)
      return reportError(inputFilename, llvm::toString(choice.takeError()));
    devices = choice->rows[choice->chosen].devices;
  }
  mlir::PassManager pm(module.getContext(), module.getOperationName());
  pm.addPass(distopt::createCompilePass(getCompileOptions(inputFilename),
                                        llvm::outs()));
  if (failed(runWithCommandLineOptions(pm, module, config)))
    return 1;
  return distopt::writeArtifact(module, outputFilename) ? 0 : 1;
}

/// Loads `inputFilename` (.onnx or .mlir) into memory, runs the command
/// line's passes on it, then does `action`.
static int runInMemory(llvm::StringRef inputFilename,
                       llvm::StringRef outputFilename, DriverAction action,
                       mlir::DialectRegistry &registry) {
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  mlir::MLIRContext context(registry);
  context.allowUnregisteredDialects(config.shouldAllowUnregisteredDialects());
  // Errors of the import and of the compile flow are at the module or at
  // an op of a model nobody wrote as text: printing the op would print the
  // model. --mlir-print-op-on-diagnostic still asks for it.
  cl::Option *printOp =
      cl::getRegisteredOptions().lookup("mlir-print-op-on-diagnostic");
  if (!printOp || !printOp->getNumOccurrences())
    context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::optional<mlir::SourceMgrDiagnosticHandler> mlirHandler;
  std::optional<mlir::ScopedDiagnosticHandler> onnxHandler;
  // An ONNX model's import options: a report imports it again with them at
  // other micro-batch sizes.
  std::optional<distopt::OnnxImportOptions> importOptions;
  if (inputFilename.ends_with(".onnx")) {
    onnxHandler.emplace(&context, [&](mlir::Diagnostic &diag) {
      printOnnxDiagnostic(inputFilename, diag);
      return mlir::success();
    });
    importOptions = getImportOptions(inputFilename);
    if (!importOptions)
      return 1;
    module = distopt::importOnnxFile(inputFilename, &context, *importOptions);
  } else {
    mlirHandler.emplace(sourceMgr, &context);
    module = parseMlir(inputFilename, sourceMgr, context);
  }
  if (!module)
    return 1;

  if (failed(prepareModule(*module, config, /*dump=*/true)))
    return 1;
  distopt::plan::ModelAtMicroBatch modelAt;
  if (importOptions)
    modelAt = getModelAtMicroBatch(inputFilename, *importOptions, *module,
                                   context, config);
  switch (action) {
  case DriverAction::Print:
    return printModule(*module, outputFilename, config);
  case DriverAction::ReportPlan:
    return reportPlan(*module, config, std::move(modelAt));
  case DriverAction::Compile:
    return compile(*module, inputFilename, outputFilename, config);
  case DriverAction::ChooseDevices:
    return reportDeviceChoice(*module, inputFilename, config,
                              std::move(modelAt));
  case DriverAction::Sweep:
    return runSweep(*module, inputFilename, config, std::move(modelAt));
  }
  return 1;
}

/// True when `path` is a file that ends like a compiled artifact.
static bool isArtifactFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  return buffer && distopt::hasArtifactTrailer((*buffer)->getBuffer());
}

static void printVersion(llvm::raw_ostream &os) {
  os << "dist-opt " DISTOPT_VERSION
        "\n  built with LLVM and MLIR " LLVM_VERSION_STRING "\n";
}

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  distopt::registerAllDialects(registry);
  distopt::registerDistOptPassesAndPipelines();
  // The LLVM libraries' own flags (code generation, ...) are registered by
  // now and say nothing about dist-opt: hide them from --help. MLIR's driver
  // flags, the passes and the pipelines are registered after this, and show.
  cl::HideUnrelatedOptions({&onnxCategory, &planCategory, &trainCategory});
  cl::SetVersionPrinter(printVersion);
  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv,
      "dist-opt: auto-parallelizing compiler for model graphs\n\n"
      "Reads .mlir files and ONNX models (.onnx).\n",
      registry);
  if (printOnnxOperators) {
    distopt::printOnnxOperatorTable(llvm::outs());
    return 0;
  }
  std::optional<DriverAction> action = getAction(inputFilename, outputFilename);
  if (!action)
    return 1;
  // `.mlir` input that is only printed gets everything mlir-opt offers
  // (--split-input-file, --verify-diagnostics, ...); a compiled artifact is
  // read with its checksum checked.
  if (*action == DriverAction::Print &&
      !llvm::StringRef(inputFilename).ends_with(".onnx") &&
      !isArtifactFile(inputFilename))
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
  return runInMemory(inputFilename, outputFilename, *action, registry);
}
