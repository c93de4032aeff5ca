//===- Compile.cpp - compile and plan through the library API -------------===//
//
// distopt::compile and distopt::plan: the ONNX import with the caller's
// shapes, then the compile flow (`dist-compile`) or the planner alone
// (`dist-auto-plan` reporting), as `dist-opt -o` and `dist-opt --report`
// run them. Diagnostics become the Status's message; the first error wins,
// with its notes.
//
//===----------------------------------------------------------------------===//

#include "distopt/API/Compiler.h"
#include "distopt/Artifact/Artifact.h"
#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/StepModel.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/ShardingRule.h"
#include "distopt/DistOpt.h"
#include "distopt/Passes/Passes.h"
#include "distopt/Support/Resources.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace distopt;

//===----------------------------------------------------------------------===//
// Status, types
//===----------------------------------------------------------------------===//

const char *distopt::getVersion() { return DISTOPT_VERSION; }

Status Status::error(std::string message, std::string file, unsigned line,
                     unsigned column) {
  Status status;
  status.ok = false;
  status.message = std::move(message);
  status.file = std::move(file);
  status.line = line;
  status.column = column;
  return status;
}

const char *distopt::getElementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F64:
    return "f64";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  case ElementType::Bool:
    return "i1";
  case ElementType::I8:
    return "i8";
  case ElementType::I16:
    return "i16";
  case ElementType::I32:
    return "i32";
  case ElementType::I64:
    return "i64";
  }
  return "?";
}

size_t distopt::getElementSize(ElementType type) {
  switch (type) {
  case ElementType::F64:
  case ElementType::I64:
    return 8;
  case ElementType::F32:
  case ElementType::I32:
    return 4;
  case ElementType::F16:
  case ElementType::BF16:
  case ElementType::I16:
    return 2;
  case ElementType::Bool:
  case ElementType::I8:
    return 1;
  }
  return 0;
}

int64_t TensorData::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

//===----------------------------------------------------------------------===//
// The micro-batch split (dist-opt's too)
//===----------------------------------------------------------------------===//

std::optional<std::string>
distopt::splitIntoMicroBatches(llvm::StringRef planSpec, llvm::StringRef mode,
                               OnnxImportOptions &options,
                               std::optional<int64_t> &globalBatch) {
  auto plan = cost::parsePlanSpec(planSpec);
  if (!plan) {
    llvm::consumeError(plan.takeError());
    return std::nullopt;
  }
  bool pipeline = plan->isFixed(cost::PlanKey::PipelineParallel) &&
                  plan->pipelineParallel > 1;
  if (!plan->isFixed(cost::PlanKey::MicroBatch) ||
      options.inputShapes.empty() || (mode != "train" && !pipeline))
    return std::nullopt;
  std::string fixed = "--plan microbatch=" + std::to_string(plan->microBatch);
  std::vector<std::string> names;
  for (const auto &entry : options.inputShapes)
    names.push_back(entry.getKey().str());
  llvm::sort(names);
  int64_t batch = -1;
  for (const std::string &name : names) {
    const auto &shape = options.inputShapes[name];
    if (shape.empty())
      return fixed + ": --shape " + name + " has no batch dimension (a scalar)";
    if (batch >= 0 && shape[0] != batch)
      return fixed +
             " splits the batch, but the --shape batch dimensions differ (" +
             names.front() + " has " + std::to_string(batch) + ", " + name +
             " has " + std::to_string(shape[0]) + ")";
    batch = shape[0];
  }
  if (batch == plan->microBatch)
    return std::nullopt;
  if (batch % plan->microBatch != 0)
    return fixed + " does not divide the batch " + std::to_string(batch) +
           " that --shape gives";
  for (auto &entry : options.inputShapes)
    entry.getValue()[0] = plan->microBatch;
  if (!globalBatch)
    globalBatch = batch;
  return std::nullopt;
}

/// Whether `resized` is `original` with batch `size` instead of `batch`:
/// the batch (every input's first dimension) is followed through each op
/// of `original` by its sharding rule, marking the dimensions of every
/// value that carry it; in `resized` exactly those dimensions differ, each
/// scaled by size / batch, and every other one is the same. A model that
/// fixes its batch in a constant (a Reshape to a literal shape) breaks
/// this: its ops at another batch compute something else, or do not
/// import.
static llvm::Error checkBatchFollows(func::FuncOp original,
                                     func::FuncOp resized, int64_t batch,
                                     int64_t size) {
  Block &a = original.getBody().front(), &b = resized.getBody().front();
  auto mismatch = [&](Operation *op, llvm::StringRef what) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << what << " (" << op->getName() << " at " << op->getLoc()
       << "): the model fixes its batch of " << batch
       << " in a constant; export it with a dynamic batch dimension";
    return llvm::createStringError(text);
  };
  if (a.getOperations().size() != b.getOperations().size() ||
      original.getNumArguments() != resized.getNumArguments())
    return llvm::createStringError(
        "its ops differ from those at the model's batch; export it with a "
        "dynamic batch dimension");
  llvm::DenseMap<Value, llvm::SmallVector<bool, 4>> carries;
  for (BlockArgument arg : original.getArguments()) {
    auto type = cast<RankedTensorType>(arg.getType());
    llvm::SmallVector<bool, 4> dims(type.getRank(), false);
    dims[0] = true;
    carries[arg] = std::move(dims);
  }
  for (auto [op, other] : llvm::zip(a, b)) {
    if (op.getName() != other.getName() ||
        op.getNumResults() != other.getNumResults())
      return mismatch(&other, "an op differs from the one at the model's "
                              "batch");
    // The factors the batch reaches, through the operands that carry it.
    // A rule gives a dim of size 1 no factor: a model imported at batch 1
    // is followed through the rules of the other size's ops (its batch dims
    // have none at 1).
    llvm::SmallDenseSet<int64_t> reached;
    std::optional<dist::ShardingRule> rule;
    if (auto ruleOp =
            dyn_cast<dist::ShardingRuleOpInterface>(batch > 1 ? &op : &other))
      rule = ruleOp.getShardingRule();
    for (auto [i, operand] : llvm::enumerate(op.getOperands())) {
      auto it = carries.find(operand);
      if (it == carries.end())
        continue;
      for (auto [d, carried] : llvm::enumerate(it->second))
        if (carried && rule && i < rule->operands.size())
          for (int64_t f : rule->operands[i][d])
            reached.insert(f);
    }
    for (auto [r, result] : llvm::enumerate(op.getResults())) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      auto otherType = dyn_cast<RankedTensorType>(other.getResult(r).getType());
      if (!type || !otherType)
        continue;
      if (type.getRank() != otherType.getRank())
        return mismatch(&other, "a result's rank differs");
      llvm::SmallVector<bool, 4> dims(type.getRank(), false);
      for (int64_t d = 0; d < type.getRank(); ++d) {
        if (rule && r < rule->results.size())
          dims[d] = llvm::any_of(rule->results[r][d], [&](int64_t f) {
            return reached.contains(f);
          });
        int64_t was = type.getDimSize(d), now = otherType.getDimSize(d);
        bool scaled = dims[d] ? was * size == now * batch : was == now;
        if (!scaled)
          return mismatch(
              &other, llvm::formatv("dimension {0} of a result is {1} where "
                                    "the batch makes it {2}",
                                    d, now, dims[d] ? was * size / batch : was)
                          .str());
      }
      if (llvm::is_contained(dims, true))
        carries[result] = std::move(dims);
    }
  }
  return llvm::Error::success();
}

plan::ModelAtMicroBatch distopt::getModelAtMicroBatch(
    llvm::StringRef path, const OnnxImportOptions &options, ModuleOp imported,
    MLIRContext &context, std::function<LogicalResult(ModuleOp)> prepare) {
  func::FuncOp main = plan::getPlannedFunction(imported);
  if (!main || main.getNumArguments() == 0)
    return nullptr;
  // Every input by its graph name, with the shape it was imported at.
  llvm::StringMap<llvm::SmallVector<int64_t>> shapes;
  std::optional<int64_t> batch;
  auto *dialect = context.getLoadedDialect<dist::DistDialect>();
  for (unsigned i = 0; i < main.getNumArguments(); ++i) {
    auto type = dyn_cast<RankedTensorType>(main.getArgument(i).getType());
    auto name = main.getArgAttrOfType<StringAttr>(
        i, dialect->getNameAttrHelper().getName());
    if (!type || !type.hasStaticShape() || type.getRank() == 0 || !name ||
        (batch && *batch != type.getDimSize(0)))
      return nullptr;
    batch = type.getDimSize(0);
    shapes[name.getValue()] = llvm::to_vector(type.getShape());
  }
  return [&context, file = path.str(), options, shapes = std::move(shapes),
          prepare = std::move(prepare), main, batch = *batch](
             int64_t size) -> llvm::Expected<OwningOpRef<ModuleOp>> {
    OnnxImportOptions sized = options;
    sized.inputShapes = shapes;
    sized.resizeBatch = true;
    for (auto &entry : sized.inputShapes)
      entry.getValue()[0] = size;
    std::string errors;
    ScopedDiagnosticHandler capture(&context, [&](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error && errors.empty())
        errors = d.str();
      return mlir::success();
    });
    OwningOpRef<ModuleOp> module = importOnnxFile(file, &context, sized);
    if (module && failed(prepare(*module)))
      module = nullptr;
    if (!module)
      return llvm::createStringError(errors.empty() ? "the import failed"
                                                    : errors);
    func::FuncOp resized = plan::getPlannedFunction(*module);
    if (!resized)
      return llvm::createStringError("the import has no function");
    if (llvm::Error error = checkBatchFollows(main, resized, batch, size))
      return std::move(error);
    return module;
  };
}

//===----------------------------------------------------------------------===//
// compile, plan
//===----------------------------------------------------------------------===//

namespace {
/// An MLIR context with every dialect dist-opt reads, whose first error
/// diagnostic (with its notes) is kept as a Status about `file`.
class Session {
public:
  explicit Session(std::string file) : file(std::move(file)) {
    registerAllDialects(registry);
    registerDistOptPassesAndPipelines();
    context.appendDialectRegistry(registry);
    context.printOpOnDiagnostic(false);
    handler.emplace(&context, [this](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error && !failed)
        record(diag);
      return mlir::success();
    });
  }

  MLIRContext &getContext() { return context; }

  /// The error of the first failure, or `fallback` when none was
  /// reported.
  Status getError(llvm::StringRef fallback) const {
    if (!failed)
      return Status::error(fallback.str(), file);
    return Status::error(message, file, line, column);
  }

private:
  void record(Diagnostic &diag) {
    failed = true;
    message = diag.str();
    for (Diagnostic &note : diag.getNotes())
      message += "\n" + note.str();
    // An error in another file (a cluster file's `path:line:column: ...`)
    // is at its place there.
    llvm::SmallVector<StringRef> parts;
    static const llvm::Regex located("^([^:\n]+):([0-9]+):([0-9]+): (.*)$");
    if (located.match(message, &parts) && llvm::sys::fs::exists(parts[1])) {
      file = parts[1].str();
      parts[2].getAsInteger(10, line);
      parts[3].getAsInteger(10, column);
      message = parts[4].str();
      return;
    }
    // A place in a text file (.mlir); an ONNX file has no lines.
    diag.getLocation()->walk([&](Location loc) {
      if (auto fileLoc = dyn_cast<FileLineColLoc>(loc);
          fileLoc && fileLoc.getLine() > 0) {
        file = fileLoc.getFilename().str();
        line = fileLoc.getLine();
        column = fileLoc.getColumn();
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
  }

  DialectRegistry registry;
  MLIRContext context{MLIRContext::Threading::DISABLED};
  std::optional<ScopedDiagnosticHandler> handler;
  std::string file, message;
  unsigned line = 0, column = 0;
  bool failed = false;
};
} // namespace

/// The pass options of the compile flow that `options` give.
static CompilePassOptions getPassOptions(const distopt::CompileOptions &options,
                                         std::optional<int64_t> batch,
                                         llvm::StringRef modelPath) {
  CompilePassOptions pass;
  pass.cluster = options.cluster;
  pass.devices = options.devices;
  pass.planSpec = options.plan;
  pass.mode = options.mode;
  pass.batch = batch.value_or(0);
  pass.loss = options.loss;
  pass.labels = options.labels;
  pass.optimizer = options.optimizer;
  pass.lr = options.lr;
  pass.beta1 = options.beta1;
  pass.beta2 = options.beta2;
  pass.eps = options.eps;
  pass.weightDecay = options.weightDecay;
  pass.momentum = options.momentum;
  pass.clipNorm = options.clipNorm;
  pass.trainable = options.trainable;
  pass.freeze = options.freeze;
  llvm::SmallString<256> dir(modelPath);
  llvm::sys::path::remove_filename(dir);
  pass.modelDir = dir.empty() ? "." : dir.str().str();
  return pass;
}

/// `options.plan` with `options.precision` added as its `precision` key;
/// an error when they disagree or the name is bad.
static Status mergePrecision(const distopt::CompileOptions &options,
                             std::string &planSpec) {
  planSpec = options.plan;
  if (options.precision.empty())
    return Status();
  if (!cost::parsePrecision(options.precision))
    return Status::error("the precision must be bf16, fp16 or fp32, not '" +
                         options.precision + "'");
  auto plan = cost::parsePlanSpec(options.plan);
  if (!plan)
    return Status::error(llvm::toString(plan.takeError()));
  if (plan->isFixed(cost::PlanKey::Precision)) {
    if (cost::stringifyPrecision(plan->precision) != options.precision)
      return Status::error(
          "the precision " + options.precision + " and the plan's precision=" +
          cost::stringifyPrecision(plan->precision).str() + " disagree");
    return Status();
  }
  planSpec +=
      (planSpec.empty() ? "precision=" : ",precision=") + options.precision;
  return Status();
}

/// Imports the model at `path` (.onnx, or a .mlir program) into
/// `session` with `options`' shapes; `batch` becomes the global batch that
/// a fixed micro-batch implies. Null on error (in the session).
static OwningOpRef<ModuleOp>
importModel(Session &session, const std::string &path,
            const distopt::CompileOptions &options, llvm::StringRef planSpec,
            std::optional<int64_t> &batch, Status &status,
            std::optional<OnnxImportOptions> *imported = nullptr) {
  if (!llvm::sys::fs::exists(path)) {
    status = Status::error("cannot open the model: no such file", path);
    return nullptr;
  }
  if (llvm::StringRef(path).ends_with(".mlir")) {
    if (!options.shapes.empty()) {
      status = Status::error("shapes fix an ONNX model's inputs; a .mlir "
                             "program's types are fixed",
                             path);
      return nullptr;
    }
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(path, &session.getContext());
    if (!module)
      status = session.getError("cannot parse the program");
    return module;
  }
  OnnxImportOptions import;
  import.raisePatterns = options.raisePatterns;
  import.maxBytes = getPhysicalMemory();
  // In training every float initializer is a parameter, however small.
  import.floatInitializersAsWeights = options.mode == "train";
  for (const auto &[name, dims] : options.shapes) {
    if (import.inputShapes.count(name)) {
      status = Status::error("input '" + name + "' has two shapes", path);
      return nullptr;
    }
    for (int64_t d : dims)
      if (d <= 0) {
        status = Status::error("input '" + name +
                                   "': every dimension of a shape must be "
                                   "positive, not " +
                                   std::to_string(d),
                               path);
        return nullptr;
      }
    import.inputShapes[name] =
        llvm::SmallVector<int64_t>(dims.begin(), dims.end());
  }
  for (const auto &[name, file] : options.values)
    if (!import.inputValues.try_emplace(name, file).second) {
      status = Status::error("input '" + name + "' has two values", path);
      return nullptr;
    }
  if (std::optional<std::string> error =
          splitIntoMicroBatches(planSpec, options.mode, import, batch)) {
    status = Status::error(*error, path);
    return nullptr;
  }
  OwningOpRef<ModuleOp> module =
      importOnnxFile(path, &session.getContext(), import);
  if (!module)
    status = session.getError("cannot import the model");
  else if (imported)
    *imported = std::move(import);
  return module;
}

Status distopt::compile(const std::string &modelPath,
                        const distopt::CompileOptions &options,
                        CompiledModel &result) {
  result = CompiledModel();
  std::string planSpec;
  if (Status status = mergePrecision(options, planSpec); !status)
    return Status::error(status.getMessage(), modelPath);
  if (auto plan = cost::parsePlanSpec(planSpec)) {
    if (plan->isFixed(cost::PlanKey::Precision) &&
        plan->precision != cost::Precision::FP32)
      return Status::error(
          "the precision " + cost::stringifyPrecision(plan->precision).str() +
              " plans and reports only (distopt::planModel): the retyped "
              "program "
              "would read the model's float32 weight bytes as 16-bit",
          modelPath);
  } else {
    llvm::consumeError(plan.takeError()); // the planner reports it
  }
  Session session(modelPath);
  std::optional<int64_t> batch;
  if (options.batch)
    batch = options.batch;
  Status status;
  OwningOpRef<ModuleOp> module =
      importModel(session, modelPath, options, planSpec, batch, status);
  if (!module)
    return status;

  CompilePassOptions pass = getPassOptions(options, batch, modelPath);
  pass.planSpec = planSpec;
  std::string reportText, reportJson;
  PlanObserver observer = [&](const plan::Plan &plan,
                              const cost::ClusterSpec &) {
    llvm::raw_string_ostream text(reportText);
    plan::printPlanReport(plan, text);
    reportJson = llvm::formatv("{0:2}", plan::planReportToJSON(plan)).str();
  };
  PassManager pm(&session.getContext(), module->getOperationName());
  std::string ignored;
  llvm::raw_string_ostream reportStream(ignored);
  pm.addPass(createCompilePass(pass, reportStream, observer));
  if (failed(pm.run(*module)))
    return session.getError("the compile failed");
  std::optional<std::string> artifact = serializeArtifact(*module);
  if (!artifact)
    return session.getError("the compiled program does not verify");
  result.artifact = std::move(*artifact);
  result.reportJson = std::move(reportJson);
  result.reportText = std::move(reportText);
  result.deviceCount = getProgramDeviceCount(*module);
  if (auto dir = (*module)->getAttrOfType<StringAttr>(
          dist::DistDialect::ModelDirAttrHelper::getNameStr()))
    result.weightsDir = dir.str();
  return Status();
}

Status CompiledModel::save(const std::string &path,
                           const std::string &weightsDir) const {
  if (artifact.empty())
    return Status::error("nothing to save: the model is not compiled", path);
  Session session(path);
  if (weightsDir.empty()) {
    if (!writeArtifactBytes(artifact, path,
                            UnknownLoc::get(&session.getContext())))
      return session.getError("cannot write the artifact");
    return Status();
  }
  // The same program, with its weights' folder moved.
  OwningOpRef<ModuleOp> module =
      parseArtifact(artifact, "the compiled program", &session.getContext());
  if (!module)
    return session.getError("cannot read the compiled program");
  llvm::SmallString<256> dir(weightsDir);
  llvm::sys::fs::make_absolute(dir);
  llvm::sys::path::remove_dots(dir, /*remove_dot_dot=*/true);
  (*module)->setAttr(dist::DistDialect::ModelDirAttrHelper::getNameStr(),
                     StringAttr::get(&session.getContext(), dir));
  if (!writeArtifact(*module, path))
    return session.getError("cannot write the artifact");
  return Status();
}

Status distopt::planModel(const std::string &modelPath,
                          const distopt::CompileOptions &options,
                          std::string &reportJson, std::string *reportText) {
  reportJson.clear();
  if (reportText)
    reportText->clear();
  std::string planSpec;
  if (Status status = mergePrecision(options, planSpec); !status)
    return Status::error(status.getMessage(), modelPath);
  // A 16-bit precision is priced on the model retyped to it.
  std::optional<cost::Precision> retype;
  if (auto plan = cost::parsePlanSpec(planSpec)) {
    if (plan->isFixed(cost::PlanKey::Precision) &&
        plan->precision != cost::Precision::FP32)
      retype = plan->precision;
  } else {
    llvm::consumeError(plan.takeError()); // the planner reports it
  }
  if (retype && !options.loss.empty())
    return Status::error(
        "the precision " + cost::stringifyPrecision(*retype).str() +
            " prices the training of a forward graph; the step a loss "
            "generates keeps the model's float32 (drop the loss)",
        modelPath);
  auto prepare = [retype](ModuleOp module) -> LogicalResult {
    if (!retype)
      return success();
    ConvertPrecisionPassOptions convert;
    convert.precision = cost::stringifyPrecision(*retype).str();
    PassManager pm(module.getContext(), module.getOperationName());
    pm.addPass(createConvertPrecisionPass(convert));
    return pm.run(module);
  };

  Session session(modelPath);
  std::optional<int64_t> batch;
  if (options.batch)
    batch = options.batch;
  Status status;
  std::optional<OnnxImportOptions> imported;
  OwningOpRef<ModuleOp> module = importModel(
      session, modelPath, options, planSpec, batch, status, &imported);
  if (!module)
    return status;
  if (failed(prepare(*module)))
    return session.getError("cannot retype the model to its precision");
  // The training of a forward graph also chooses its micro-batch size.
  plan::ModelAtMicroBatch modelAt;
  if (imported && options.mode == "train" && options.loss.empty())
    modelAt = getModelAtMicroBatch(modelPath, *imported, *module,
                                   session.getContext(), prepare);

  CompilePassOptions pass = getPassOptions(options, batch, modelPath);
  pass.planSpec = planSpec;
  AutoPlanPassOptions planOptions = getAutoPlanOptions(pass);
  planOptions.runnable = false;
  planOptions.reportOnly = true;
  PlanObserver observer = [&](const plan::Plan &plan,
                              const cost::ClusterSpec &) {
    if (reportText) {
      llvm::raw_string_ostream text(*reportText);
      plan::printPlanReport(plan, text);
    }
    reportJson = llvm::formatv("{0:2}", plan::planReportToJSON(plan)).str();
  };
  PassManager pm(&session.getContext(), module->getOperationName());
  if (!options.loss.empty())
    addTrainingStepPipeline(pm, pass);
  std::string ignored;
  llvm::raw_string_ostream reportStream(ignored);
  pm.addPass(createAutoPlanPass(planOptions, reportStream, std::move(modelAt),
                                observer));
  if (failed(pm.run(*module)))
    return session.getError("the planning failed");
  return Status();
}
