//===- AutoPlanPass.cpp - The planner as a pass ---------------------------===//
//
// `dist-auto-plan` runs the planner on a module and writes its choice
// (shard.grid + dist.factor_axes), for `dist-partition` to apply. Its
// options are declared in Passes.td; dist-opt's --cluster/--devices/--plan/
// --mode/--batch/--report/--report-json/--report-html set them, and
// `dist-compile` runs it with `runnable`.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Passes/Passes.h"
#include "distopt/Plan/Planner.h"
#include "distopt/Plan/Sweep.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
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
               llvm::raw_ostream &reportStream, plan::ModelAtMicroBatch modelAt,
               PlanObserver observer)
      : Base(options), reportStream(&reportStream), modelAt(std::move(modelAt)),
        observer(std::move(observer)) {}

  void runOnOperation() override;

private:
  /// The cluster and the plan's options from the pass options; errors at
  /// `module`.
  FailureOr<std::pair<cost::ClusterSpec, cost::PlanOptions>>
  getPlannerOptions(ModuleOp module);
  /// Prints and writes the report as the options ask; `cluster` is the
  /// one planned for.
  LogicalResult reportPlan(const plan::Plan &plan,
                           const cost::ClusterSpec &cluster, ModuleOp module);

  /// Where `report` prints: stderr, unless a C++ caller says otherwise.
  llvm::raw_ostream *reportStream = &llvm::errs();
  /// The model at another micro-batch size, for a report to choose the
  /// size; none from the pass's textual form.
  plan::ModelAtMicroBatch modelAt;
  /// Gets the chosen plan; none from the pass's textual form.
  PlanObserver observer;
};
} // namespace

FailureOr<std::pair<cost::ClusterSpec, cost::PlanOptions>>
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
  llvm::Expected<cost::PlanOptions> options =
      cost::makePlanOptions(planSpec, mode, globalBatch);
  if (!options)
    return module.emitError(llvm::toString(options.takeError()));
  // A generated training step holds its backward and optimizer: each op is
  // priced as it is.
  llvm::Expected<cost::PlanOptions> moduleOptions =
      plan::getModulePlanOptions(module, *options);
  if (!moduleOptions)
    return module.emitError(llvm::toString(moduleOptions.takeError()));
  options = std::move(moduleOptions);
  if (!runnable)
    return std::make_pair(std::move(*spec), *options);
  if (options->mode == cost::StepMode::Training)
    return module.emitError(
        "a training plan is compiled from a generated training step: give "
        "--loss (and --optimizer) with --mode train; without -o the report "
        "prices training from the forward graph");
  return std::make_pair(std::move(*spec), *options);
}

LogicalResult AutoPlanPass::reportPlan(const plan::Plan &plan,
                                       const cost::ClusterSpec &cluster,
                                       ModuleOp module) {
  if (observer)
    observer(plan, cluster);
  if (report)
    plan::printPlanReport(plan, *reportStream);
  // Through a temporary file: nothing partial is left at the path.
  if (!reportJson.empty())
    if (llvm::Error error =
            llvm::writeToOutput(reportJson, [&](llvm::raw_ostream &os) {
              os << llvm::formatv("{0:2}", plan::planReportToJSON(plan))
                 << "\n";
              return llvm::Error::success();
            }))
      return module.emitError("cannot write the report: ")
             << llvm::toString(std::move(error));
  if (!reportHtml.empty())
    if (llvm::Error error =
            plan::writePlanReportHtml(plan, cluster, reportHtml))
      return module.emitError("cannot write the HTML report: ")
             << llvm::toString(std::move(error));
  return success();
}

void AutoPlanPass::runOnOperation() {
  ModuleOp module = getOperation();
  // Planned already (by this pass, or partitioned by hand): left as it is.
  if (!reportOnly && !module.getOps<shard::GridOp>().empty())
    return markAllAnalysesPreserved();
  auto options = getPlannerOptions(module);
  if (failed(options))
    return signalPassFailure();
  // The plan may be of the model at another micro-batch size: that module
  // lives until the plan is reported. Only a report chooses the size: a
  // plan written into `module` is of its own batch.
  OwningOpRef<ModuleOp> plannedModule;
  llvm::Expected<plan::Plan> result = plan::planMicroBatchSizes(
      module, options->first, options->second,
      reportOnly ? modelAt : nullptr, plannedModule);
  if (!result) {
    module.emitError(llvm::toString(result.takeError()));
    return signalPassFailure();
  }
  if (failed(reportPlan(*result, options->first, module)))
    return signalPassFailure();
  if (reportOnly)
    return markAllAnalysesPreserved();
  plan::annotateModule(module, *result);
}

std::unique_ptr<Pass> distopt::createAutoPlanPass(
    const AutoPlanPassOptions &options, llvm::raw_ostream &reportStream,
    plan::ModelAtMicroBatch modelAt, PlanObserver observer) {
  return std::make_unique<AutoPlanPass>(
      options, reportStream, std::move(modelAt), std::move(observer));
}
