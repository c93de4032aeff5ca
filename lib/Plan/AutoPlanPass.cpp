//===- AutoPlanPass.cpp - The planner as a pass ---------------------------===//
//
// `dist-auto-plan` runs the planner on a module and writes its choice
// (shard.grid + dist.factor_axes), for `dist-partition` to apply. The
// dist-opt options --cluster/--devices/--plan/--mode/--batch drive the same
// planner; the pass form serves lit tests and pipelines.
//
//===----------------------------------------------------------------------===//

#include "distopt/Plan/Planner.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace distopt;

namespace {
struct AutoPlanPass
    : public PassWrapper<AutoPlanPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AutoPlanPass)

  AutoPlanPass() = default;
  AutoPlanPass(const AutoPlanPass &other) : PassWrapper(other) {}

  StringRef getArgument() const override { return "dist-auto-plan"; }
  StringRef getDescription() const override {
    return "Choose a device grid and a sharding for every op with the cost "
           "model (shard.grid + dist.factor_axes, for dist-partition)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<shard::ShardDialect>();
  }

  Option<std::string> cluster{*this, "cluster",
                              llvm::cl::desc("Cluster preset or file"),
                              llvm::cl::init("cpu")};
  Option<unsigned> devices{*this, "devices",
                           llvm::cl::desc("Number of devices"),
                           llvm::cl::init(1)};
  Option<std::string> planSpec{
      *this, "plan", llvm::cl::desc("Fixed parts of the plan, e.g. tp=2"),
      llvm::cl::init("")};
  Option<std::string> mode{*this, "mode",
                           llvm::cl::desc("infer or train"),
                           llvm::cl::init("infer")};
  Option<bool> report{*this, "report",
                      llvm::cl::desc("Print the plan report to stderr"),
                      llvm::cl::init(false)};

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](const llvm::Twine &message) {
      module.emitError(message);
      signalPassFailure();
    };
    llvm::Expected<cost::ClusterSpec> spec =
        cost::getClusterSpec(cluster, devices);
    if (!spec)
      return fail(llvm::toString(spec.takeError()));
    llvm::Expected<plan::PlannerOptions> options =
        plan::makePlannerOptions(*spec, planSpec, mode, std::nullopt);
    if (!options)
      return fail(llvm::toString(options.takeError()));
    llvm::Expected<plan::Plan> result = plan::planModule(module, *options);
    if (!result)
      return fail(llvm::toString(result.takeError()));
    if (report)
      plan::printPlanReport(*result, llvm::errs());
    plan::annotateModule(module, *result);
  }
};
} // namespace

void distopt::plan::registerPlanPasses() { PassRegistration<AutoPlanPass>(); }

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
