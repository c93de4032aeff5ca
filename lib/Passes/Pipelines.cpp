//===- Pipelines.cpp - the compile flow and the SPMD pipeline -------------===//
//
// `addCompilePipeline` is the compile flow as a pass pipeline: in training
// mode, generate the training step (`addTrainingStepPipeline`, which passes
// the plan's `recompute` to dist-autodiff; no pass after it runs CSE, which
// would merge the recomputed layers back into the forward); plan
// (`dist-auto-plan`), partition (`dist-partition`), finish the artifact
// (`dist-finish-artifact`). The `dist-compile` pass runs it with the options
// declared for it in Passes.td, so that `dist-opt -o`, the pass on the
// command line and C++ callers compile the same way.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/StepModel.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

namespace distopt {
#define GEN_PASS_DEF_COMPILEPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;

void distopt::addSpmdPartitionPipeline(OpPassManager &pm) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(shard::createShardingPropagation());
  fn.addPass(shard::createPartition());
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createCSEPass());
}

/// Whether `options` ask for a plan: a one-device program without planning
/// options is compiled as it is.
static bool asksForPlan(const CompilePassOptions &options) {
  return options.devices != 1 || !options.cluster.empty() ||
         !options.planSpec.empty() || options.mode != "infer" ||
         options.batch != 0 || options.report || !options.reportJson.empty() ||
         !options.reportHtml.empty();
}

/// The last stage: what the artifact needs.
static void addFinishArtifactStage(OpPassManager &pm,
                                   const CompilePassOptions &options) {
  FinishArtifactPassOptions finish;
  finish.devices = options.devices;
  finish.modelDir = options.modelDir;
  pm.addPass(createFinishArtifactPass(finish));
}

AutoPlanPassOptions
distopt::getAutoPlanOptions(const CompilePassOptions &options) {
  AutoPlanPassOptions plan;
  plan.cluster = options.cluster.empty() ? "cpu" : options.cluster;
  plan.devices = options.devices;
  plan.planSpec = options.planSpec;
  plan.mode = options.mode;
  plan.batch = options.batch;
  plan.report = options.report;
  plan.reportJson = options.reportJson;
  plan.reportHtml = options.reportHtml;
  plan.runnable = true;
  return plan;
}

/// The `recompute` option of dist-autodiff that the plan text asks for. A
/// plan that does not parse recomputes nothing here: dist-auto-plan, later
/// in the pipeline, reports its error.
static std::string getRecompute(StringRef planSpec) {
  llvm::Expected<cost::PlanOptions> plan = cost::parsePlanSpec(planSpec);
  if (!plan) {
    llvm::consumeError(plan.takeError());
    return "none";
  }
  return cost::stringifyRecomputePolicy(plan->recompute).str();
}

void distopt::addTrainingStepPipeline(OpPassManager &pm,
                                      const CompilePassOptions &options) {
  StringRef spec = options.loss;
  auto [kind, output] = spec.split(':');
  AddLossPassOptions loss;
  loss.loss = kind.str();
  loss.output = output.str();
  loss.labels = options.labels;
  pm.addPass(createAddLossPass(loss));
  AutodiffPassOptions autodiff;
  autodiff.trainable = options.trainable;
  autodiff.freeze = options.freeze;
  autodiff.recompute = getRecompute(options.planSpec);
  pm.addNestedPass<func::FuncOp>(createAutodiffPass(autodiff));
  OptimizerPassOptions optimizer;
  optimizer.optimizer = options.optimizer;
  optimizer.lr = options.lr;
  optimizer.beta1 = options.beta1;
  optimizer.beta2 = options.beta2;
  optimizer.eps = options.eps;
  optimizer.weightDecay = options.weightDecay;
  optimizer.momentum = options.momentum;
  optimizer.clipNorm = options.clipNorm;
  pm.addPass(createOptimizerPass(optimizer));
}

void distopt::addCompilePipeline(OpPassManager &pm,
                                 const CompilePassOptions &options,
                                 llvm::raw_ostream &reportStream,
                                 PlanObserver observer) {
  if (options.mode == "train" && !options.loss.empty())
    addTrainingStepPipeline(pm, options);
  if (asksForPlan(options)) {
    pm.addPass(createAutoPlanPass(getAutoPlanOptions(options), reportStream,
                                  /*modelAt=*/nullptr, std::move(observer)));
    pm.addPass(createPartitionPass());
    pm.addPass(createPipelineSplitPass());
  }
  addFinishArtifactStage(pm, options);
}

void distopt::addCompilePipeline(OpPassManager &pm,
                                 const CompilePassOptions &options) {
  addCompilePipeline(pm, options, llvm::errs());
}

/// Whether `module` holds upstream shard annotations or collectives: a
/// program laid out or partitioned by hand (e.g. through
/// `dist-spmd-partition`), which is not planned or partitioned again. So is
/// a pipeline of stage functions (`dist.stage`), already cut and laid out.
static bool isLaidOutByHand(ModuleOp module) {
  dist::DistDialect::StageAttrHelper stage(module.getContext());
  if (llvm::any_of(module.getOps<func::FuncOp>(),
                   [&](func::FuncOp f) { return stage.isAttrPresent(f); }))
    return true;
  WalkResult result = module.walk([](Operation *op) {
    if (isa<shard::ShardDialect>(op->getDialect()) && !isa<shard::GridOp>(op))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

namespace {
struct CompilePass : public distopt::impl::CompilePassBase<CompilePass> {
  using Base::Base;
  CompilePass(const CompilePassOptions &options,
              llvm::raw_ostream &reportStream, PlanObserver observer)
      : Base(options), reportStream(&reportStream),
        observer(std::move(observer)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    CompilePassOptions options;
    options.cluster = cluster;
    options.devices = devices;
    options.planSpec = planSpec;
    options.mode = mode;
    options.batch = batch;
    options.report = report;
    options.reportJson = reportJson;
    options.reportHtml = reportHtml;
    options.modelDir = modelDir;
    options.loss = loss;
    options.labels = labels;
    options.optimizer = optimizer;
    options.lr = lr;
    options.beta1 = beta1;
    options.beta2 = beta2;
    options.eps = eps;
    options.weightDecay = weightDecay;
    options.momentum = momentum;
    options.clipNorm = clipNorm;
    options.trainable = trainable;
    options.freeze = freeze;
    OpPassManager pm(ModuleOp::getOperationName());
    if (isLaidOutByHand(module))
      addFinishArtifactStage(pm, options);
    else
      addCompilePipeline(pm, options, *reportStream, observer);
    if (failed(runPipeline(pm, module)))
      signalPassFailure();
  }

  /// Where `report` prints: stderr, unless a C++ caller says otherwise.
  llvm::raw_ostream *reportStream = &llvm::errs();
  /// Gets the plan, for a C++ caller.
  PlanObserver observer;
};
} // namespace

std::unique_ptr<Pass>
distopt::createCompilePass(const CompilePassOptions &options,
                           llvm::raw_ostream &reportStream,
                           PlanObserver observer) {
  return std::make_unique<CompilePass>(options, reportStream,
                                       std::move(observer));
}
