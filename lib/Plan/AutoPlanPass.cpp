//===- AutoPlanPass.cpp - The planner as a pass ---------------------------===//
//
// `dist-auto-plan` runs the planner on a module and writes its choice
// (shard.grid + dist.factor_axes), for `dist-partition` to apply. Its
// options are declared in Passes.td; dist-opt's --cluster/--devices/--plan/
// --mode/--batch/--report/--report-json set them, and `dist-compile` runs it
// with `runnable`.
//
//===----------------------------------------------------------------------===//

#include "distopt/Passes/Passes.h"
#include "distopt/Plan/Planner.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace distopt {
#define GEN_PASS_DEF_AUTOPLANPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;

namespace {
struct AutoPlanPass : public distopt::impl::AutoPlanPassBase<AutoPlanPass> {
  using Base::Base;
  AutoPlanPass(const AutoPlanPassOptions &options,
               llvm::raw_ostream &reportStream)
      : Base(options), reportStream(&reportStream) {}

  void runOnOperation() override;

private:
  /// The planner's options from the pass options; errors at `module`.
  FailureOr<plan::PlannerOptions> getPlannerOptions(ModuleOp module);
  /// Prints and writes the report as the options ask.
  LogicalResult reportPlan(const plan::Plan &plan, ModuleOp module);

  /// Where `report` prints: stderr, unless a C++ caller says otherwise.
  llvm::raw_ostream *reportStream = &llvm::errs();
};
} // namespace

FailureOr<plan::PlannerOptions>
AutoPlanPass::getPlannerOptions(ModuleOp module) {
  // A cluster file may say how many devices it has; a preset may not.
  if (devices == 0 &&
      llvm::is_contained(cost::getClusterPresetNames(), cluster.getValue()))
    return module.emitError("the cluster preset '")
           << cluster << "' needs a device count";
  llvm::Expected<cost::ClusterSpec> spec =
      cost::getClusterSpec(cluster, devices);
  if (!spec)
    return module.emitError(llvm::toString(spec.takeError()));
  if (batch < 0)
    return module.emitError("the global batch must be positive, not ") << batch;
  std::optional<int64_t> globalBatch;
  if (batch > 0)
    globalBatch = batch;
  llvm::Expected<plan::PlannerOptions> options =
      plan::makePlannerOptions(*spec, planSpec, mode, globalBatch);
  if (!options)
    return module.emitError(llvm::toString(options.takeError()));
  // Reports may show pipeline plans; a plan that is written into the module
  // has none unless the plan fixes pp.
  options->searchPipeline = reportOnly;
  if (!runnable)
    return *options;
  if (options->mode == cost::StepMode::Training)
    return module.emitError(
        "a training plan cannot be compiled yet: dist-run runs inference "
        "only; plan it without compiling to see the report");
  if (options->pipelineParallel.value_or(1) > 1)
    return module.emitError(
        "the CPU runtime runs no pipeline stages yet; plan without pp, or "
        "plan without compiling to see the report");
  return *options;
}

LogicalResult AutoPlanPass::reportPlan(const plan::Plan &plan,
                                       ModuleOp module) {
  if (report)
    plan::printPlanReport(plan, *reportStream);
  if (reportJson.empty())
    return success();
  // Through a temporary file: nothing partial is left at the path.
  if (llvm::Error error =
          llvm::writeToOutput(reportJson, [&](llvm::raw_ostream &os) {
            os << llvm::formatv("{0:2}", plan::planReportToJSON(plan)) << "\n";
            return llvm::Error::success();
          }))
    return module.emitError("cannot write the report: ")
           << llvm::toString(std::move(error));
  return success();
}

void AutoPlanPass::runOnOperation() {
  ModuleOp module = getOperation();
  // Planned already (by this pass, or partitioned by hand): left as it is.
  if (!reportOnly && !module.getOps<shard::GridOp>().empty())
    return markAllAnalysesPreserved();
  FailureOr<plan::PlannerOptions> options = getPlannerOptions(module);
  if (failed(options))
    return signalPassFailure();
  llvm::Expected<plan::Plan> result = plan::planModule(module, *options);
  if (!result) {
    module.emitError(llvm::toString(result.takeError()));
    return signalPassFailure();
  }
  if (failed(reportPlan(*result, module)))
    return signalPassFailure();
  if (reportOnly)
    return markAllAnalysesPreserved();
  plan::annotateModule(module, *result);
}

std::unique_ptr<Pass>
distopt::createAutoPlanPass(const AutoPlanPassOptions &options,
                            llvm::raw_ostream &reportStream) {
  return std::make_unique<AutoPlanPass>(options, reportStream);
}

void distopt::plan::registerPlanPasses() {
  registerPass([] { return createAutoPlanPass(); });
}

llvm::Expected<distopt::plan::PlannerOptions>
distopt::plan::makePlannerOptions(const cost::ClusterSpec &cluster,
                                  StringRef planText, StringRef modeText,
                                  std::optional<int64_t> globalBatch) {
  PlannerOptions options;
  options.cluster = cluster;
  if (modeText == "train")
    options.mode = cost::StepMode::Training;
  else if (modeText == "infer")
    options.mode = cost::StepMode::Inference;
  else
    return llvm::createStringError("--mode must be 'infer' or 'train', not '" +
                                   modeText.str() + "'");
  llvm::Expected<cost::PlanSpec> spec = cost::parsePlanSpec(planText);
  if (!spec)
    return spec.takeError();
  options.dataParallel = spec->dataParallel;
  options.tensorParallel = spec->tensorParallel;
  options.pipelineParallel = spec->pipelineParallel;
  options.recompute = spec->recompute;
  options.zero = spec->zero;
  options.schedule = spec->schedule;
  if (planText.contains("microbatch"))
    options.microBatch = spec->microBatch;
  options.globalBatch = globalBatch;
  if (globalBatch && options.mode != cost::StepMode::Training)
    return llvm::createStringError("--batch is the global batch of a "
                                   "training step; use it with --mode train");
  return options;
}
