//===- Planner.h - Choose a device grid and a sharding per op ----*- C++ -*-===//
//
// The automatic planner. For each candidate grid (data parallel x tensor
// parallel, and pipeline stages when asked), every op chooses how the grid
// axes split the factors of its sharding rule; resharding between ops costs
// what the collective model says, compute what the op cost model says, and
// the choice is exact with respect to those costs (an ILP through CBC, one
// copy of each repeated layer). The best grid wins. The plan is written into
// the module as a shard.grid and per-op `dist.factor_axes` attributes, which
// `dist-partition` turns into per-device programs.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_PLAN_PLANNER_H
#define DISTOPT_PLAN_PLANNER_H

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/StepModel.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <vector>
#include <string>

namespace distopt::plan {

struct PlannerOptions {
  /// The cluster, with exactly the devices to use.
  cost::ClusterSpec cluster;
  cost::StepMode mode = cost::StepMode::Inference;
  /// Global batch per step (training); default: one micro-batch per
  /// data-parallel replica.
  std::optional<int64_t> globalBatch;
  /// Parts of the grid the user fixed (--plan); the rest is searched.
  std::optional<unsigned> dataParallel, tensorParallel, pipelineParallel;
  cost::RecomputePolicy recompute = cost::RecomputePolicy::None;
  cost::ZeroStage zero = cost::ZeroStage::Zero0;
  cost::PipelineScheduleKind schedule = cost::PipelineScheduleKind::OneFOneB;
  /// Samples per micro-batch when --plan says (must match the model's
  /// batch dimension, which is the micro-batch).
  std::optional<int64_t> microBatch;
  /// Search pipeline stages too (off when the plan must run on the CPU
  /// runtime, which has no pipeline yet).
  bool searchPipeline = false;
};

/// How an op's factors are split: per factor, the grid axes.
using FactorAxes = llvm::SmallVector<llvm::SmallVector<int16_t, 2>>;

/// One collective the plan runs per micro-batch (forward pass).
struct PlannedCollective {
  std::string kind;
  /// What it serves, e.g. "dist.matmul (h0.mlp.proj.weight) operand 0".
  std::string where;
  double bytes = 0;
  unsigned groupSize = 1;
  double seconds = 0;
  /// How many times it runs per forward pass (layer copies).
  unsigned count = 1;
};

struct Plan {
  unsigned dataParallel = 1, tensorParallel = 1, pipelineParallel = 1;
  /// Names and sizes of the sharding grid's axes.
  llvm::SmallVector<std::string> axisNames;
  llvm::SmallVector<int64_t> gridShape;
  /// The ops of the main function with their choices (program order).
  llvm::SmallVector<std::pair<mlir::Operation *, FactorAxes>> choices;
  /// Repeated layers found.
  unsigned layerCount = 0, layerOps = 0;
  /// Segments for the step model (ops before the layers, one layer, ops
  /// after), and the composed step.
  std::vector<cost::SegmentCost> segments;
  cost::StepReport step;
  /// Per-layer summary lines for people.
  llvm::SmallVector<std::string> summary;
  std::vector<PlannedCollective> collectives;
  /// The ILP objective (per-step cost the solver minimized), seconds.
  double objective = 0;
  /// Grids tried, with their predicted step time (or why they failed).
  llvm::SmallVector<std::pair<std::string, std::string>> candidates;
  double planningSeconds = 0;
};

/// Plans `module` (its public function). Fails with a message a user can
/// act on: no grid of `options.cluster`'s device count, an op without a
/// sharding rule, or no plan that fits in memory (with the smallest memory
/// needed and what would make it fit).
llvm::Expected<Plan> planModule(mlir::ModuleOp module,
                                const PlannerOptions &options);

/// Options from the command line's --plan text and --mode ("infer" or
/// "train"), with the global batch of --batch.
llvm::Expected<PlannerOptions>
makePlannerOptions(const cost::ClusterSpec &cluster, llvm::StringRef planText,
                   llvm::StringRef modeText,
                   std::optional<int64_t> globalBatch);

/// Registers the `dist-auto-plan` pass.
void registerPlanPasses();

/// Writes `plan` into `module`: a `shard.grid @grid` and the
/// `dist.factor_axes` attribute on every op that splits something.
void annotateModule(mlir::ModuleOp module, const Plan &plan);

/// The report for people, and as JSON (keys in docs/planner.md).
void printPlanReport(const Plan &plan, llvm::raw_ostream &os);
llvm::json::Value planReportToJSON(const Plan &plan);

} // namespace distopt::plan

#endif // DISTOPT_PLAN_PLANNER_H
