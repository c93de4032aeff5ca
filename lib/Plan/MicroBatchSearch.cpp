//===- MicroBatchSearch.cpp - The micro-batch size, chosen ----------------===//
//
// In training the model's batch dimension is one micro-batch; the global
// batch is split into globalBatch / (dp * size) of them per replica. The
// size trades kernel efficiency and fewer per-micro-batch overheads (larger)
// against activation memory and the pipeline bubble (smaller). A shape is
// fixed at import, so each size is planned on the model imported with it
// (ModelAtMicroBatch): the planner prices exactly the graph it would
// compile at that size.
//
//===----------------------------------------------------------------------===//

#include "distopt/Plan/Planner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>

using namespace mlir;
using namespace distopt;
using namespace distopt::plan;

llvm::SmallVector<int64_t>
distopt::plan::getMicroBatchSizes(int64_t modelBatch, int64_t globalBatch) {
  llvm::SmallVector<int64_t> sizes;
  if (modelBatch <= 0 || globalBatch <= 0)
    return sizes;
  auto consider = [&](int64_t size) {
    if (size >= 1 && globalBatch % size == 0)
      sizes.push_back(size);
  };
  for (int64_t divisor : {4, 2})
    if (modelBatch % divisor == 0)
      consider(modelBatch / divisor);
  for (int64_t factor : {1, 2, 4})
    consider(modelBatch * factor);
  return sizes;
}

/// The batch dimension of `module`'s function: dim 0 of its first
/// argument (what the planner takes as the micro-batch), or 0.
static int64_t getModelBatch(ModuleOp module) {
  func::FuncOp func = getPlannedFunction(module);
  if (!func || func.getNumArguments() == 0)
    return 0;
  auto type = dyn_cast<RankedTensorType>(func.getArgument(0).getType());
  return type && type.getRank() > 0 ? type.getDimSize(0) : 0;
}

/// `error`'s message on one line: its first line and, where that line
/// introduces a list (ends with ':'), the list's first entry, with "..."
/// when more follow.
static std::string firstLine(llvm::Error error) {
  std::string text = llvm::toString(std::move(error));
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(text).split(lines, '\n', /*MaxSplit=*/-1,
                              /*KeepEmpty=*/false);
  if (lines.empty())
    return text;
  std::string line = lines.front().str();
  if (lines.size() > 1 && llvm::StringRef(line).ends_with(":")) {
    line += " " + lines[1].trim().str();
    if (lines.size() > 2)
      line += "; ...";
  }
  return line;
}

/// `plan`'s grid and setting as `--plan` keys.
static std::string describePlan(const Plan &plan) {
  return getPlanText(plan.dataParallel, plan.tensorParallel,
                     plan.pipelineParallel, plan.step.plan);
}

llvm::Expected<Plan> distopt::plan::planMicroBatchSizes(
    ModuleOp module, const cost::ClusterSpec &cluster,
    const cost::PlanOptions &options, const ModelAtMicroBatch &modelAt,
    OwningOpRef<ModuleOp> &plannedModule) {
  plannedModule = nullptr;
  int64_t modelBatch = getModelBatch(module);
  // A size the plan fixes, other than the model's: planned on the model
  // imported at it, as the search would (what a report's plan text says
  // can be given back as --plan).
  if (modelAt && options.mode == cost::StepMode::Training &&
      !options.explicitStep && modelBatch > 0 &&
      options.isFixed(cost::PlanKey::MicroBatch) &&
      options.microBatch != modelBatch) {
    llvm::Expected<OwningOpRef<ModuleOp>> model = modelAt(options.microBatch);
    if (!model)
      return llvm::createStringError(
          llvm::formatv("the plan fixes microbatch={0}, but the model cannot "
                        "be used at that batch: {1}",
                        options.microBatch, firstLine(model.takeError()))
              .str());
    llvm::Expected<Plan> plan = planModule(**model, cluster, options);
    if (plan)
      plannedModule = std::move(*model);
    return plan;
  }
  bool free = modelAt && options.mode == cost::StepMode::Training &&
              !options.explicitStep &&
              !options.isFixed(cost::PlanKey::MicroBatch) &&
              options.isFixed(cost::PlanKey::GlobalBatch) && modelBatch > 0;
  if (!free)
    return planModule(module, cluster, options);

  auto start = std::chrono::steady_clock::now();
  llvm::SmallVector<int64_t> sizes =
      getMicroBatchSizes(modelBatch, options.globalBatch);
  if (!llvm::is_contained(sizes, modelBatch)) {
    sizes.push_back(modelBatch);
    llvm::sort(sizes);
  }
  // The model's own size first: its error is the one returned when no size
  // has a plan.
  llvm::Expected<Plan> own = planModule(module, cluster, options);
  std::optional<Plan> best;
  std::string ownError;
  llvm::SmallVector<MicroBatchTrial> trials;
  auto record = [&](int64_t size, llvm::Expected<Plan> plan,
                    OwningOpRef<ModuleOp> model) {
    MicroBatchTrial &trial = trials.emplace_back();
    trial.size = size;
    if (!plan) {
      trial.reason = firstLine(plan.takeError());
      return;
    }
    trial.priced = true;
    trial.stepSeconds = plan->step.stepSeconds;
    trial.memoryBytes = plan->step.memory.total();
    trial.deviceMemoryBytes = plan->step.memory.deviceMemory;
    trial.fits = plan->step.fits;
    trial.plan = describePlan(*plan);
    // planModule returns only plans that fit. On a tie the smaller size
    // wins.
    bool better = !best || plan->step.stepSeconds < best->step.stepSeconds ||
                  (plan->step.stepSeconds == best->step.stepSeconds &&
                   size < best->step.plan.microBatch);
    if (!better)
      return;
    best = std::move(*plan);
    plannedModule = std::move(model);
  };
  if (!own) {
    // Kept whole (it may say what would make a plan fit) in case no size
    // has a plan.
    ownError = llvm::toString(own.takeError());
    own = llvm::createStringError(ownError);
  }
  record(modelBatch, std::move(own), nullptr);
  for (int64_t size : sizes) {
    if (size == modelBatch)
      continue;
    llvm::Expected<OwningOpRef<ModuleOp>> model = modelAt(size);
    if (!model) {
      record(
          size,
          llvm::createStringError("the model cannot be used at this batch: " +
                                  firstLine(model.takeError())),
          nullptr);
      continue;
    }
    // The best step so far prunes this size's search.
    llvm::Expected<Plan> plan =
        planModule(**model, cluster, options,
                   best ? best->step.stepSeconds
                        : std::numeric_limits<double>::infinity());
    record(size, std::move(plan), std::move(*model));
  }
  llvm::sort(trials, [](const MicroBatchTrial &a, const MicroBatchTrial &b) {
    return a.size < b.size;
  });
  if (!best)
    return llvm::createStringError(ownError);
  best->microBatchTrials = std::move(trials);
  best->planningSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return std::move(*best);
}
