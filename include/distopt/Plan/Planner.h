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

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace distopt::plan {

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

/// One grid the planner priced: the best setting of the other choices on
/// it (in training: recompute, ZeRO stage, schedule and chunks), with its
/// figures, or why it was rejected.
struct Candidate {
  /// One setting planned and priced on the grid.
  struct Priced {
    cost::PlanOptions setting;
    double stepSeconds = 0;
    double memoryBytes = 0;
    bool fits = false;
  };
  unsigned dataParallel = 1, tensorParallel = 1, pipelineParallel = 1;
  /// The setting reported: the fastest that fits, else the one that needs
  /// the least memory.
  cost::PlanOptions setting;
  unsigned microBatches = 0;
  /// Data-parallel shares by speed (cost::StepReport::replicaMicroBatches).
  llvm::SmallVector<unsigned> replicaMicroBatches;
  /// Settings priced on this grid.
  unsigned settingsPriced = 0;
  /// The settings the search planned and priced as candidates, in the
  /// order it did (a setting may come twice: on the leanest setting's plan
  /// and on a plan of its own); the reported one is the fastest that fits.
  std::vector<Priced> considered;
  /// A step was composed: the figures below are set.
  bool priced = false;
  double stepSeconds = 0;
  double memoryBytes = 0, deviceMemoryBytes = 0;
  bool fits = false;
  /// Why the grid was rejected: empty when it fits (the chosen one, or one
  /// that was slower).
  std::string reason;
  /// "dp=2,tp=4,pp=1".
  std::string getGridName() const;
};

/// One micro-batch size the planner tried in training (planMicroBatchSizes):
/// its best plan's figures, or why it has none.
struct MicroBatchTrial {
  int64_t size = 0;
  /// A plan was found: the figures below are set.
  bool priced = false;
  double stepSeconds = 0, memoryBytes = 0, deviceMemoryBytes = 0;
  bool fits = false;
  /// The best plan's grid and setting, as `--plan` keys.
  std::string plan;
  /// Why the size has no plan: empty when it has one.
  std::string reason;
};

struct Plan {
  unsigned dataParallel = 1, tensorParallel = 1, pipelineParallel = 1;
  /// The nodes in the order the plan's ranks run on them (name, devices),
  /// when it is not the cluster file's: rank 0 on the first node's first
  /// device, and so on (cost::sortNodesBySpeed). Empty: the file's order.
  llvm::SmallVector<std::pair<std::string, unsigned>> rankOrder;
  /// When the plan runs on fewer devices than the cluster file describes
  /// (its fastest, cost::takeDevices): how many it describes, and the
  /// nodes used with their devices, in rank order. 0 and empty otherwise.
  unsigned describedDevices = 0;
  llvm::SmallVector<std::pair<std::string, unsigned>> nodesUsed;
  /// Names and sizes of the sharding grid's axes.
  llvm::SmallVector<std::string> axisNames;
  llvm::SmallVector<int64_t> gridShape;
  /// The ops of the main function with their choices (program order).
  llvm::SmallVector<std::pair<mlir::Operation *, FactorAxes>> choices;
  /// With pipeline stages: the stage of each op of `choices` (same order);
  /// kUnstaged for the update of a training step, which
  /// dist-pipeline-split places by the values it reads.
  llvm::SmallVector<unsigned> stages;
  static constexpr unsigned kUnstaged = ~0u;
  /// Interleaved 1F1B: the stages (chunks) each pipeline position runs;
  /// `stages` then numbers pipelineParallel * chunks stages, stage c on
  /// position c mod pipelineParallel.
  unsigned chunks = 1;
  /// Repeated layers found.
  unsigned layerCount = 0, layerOps = 0;
  /// When the layer copies do not all take the same choices: the first
  /// `mixedLayerCopies` take the choice that needs less memory, the others
  /// the faster one (the planner's mix of layer copies); 0 when they agree.
  unsigned mixedLayerCopies = 0;
  /// A generated training step whose plan does not fix the ZeRO stage
  /// chooses per optimizer state whether it is split over the data axes:
  /// the stage that amounts to (1 when any is split; the summary gives the
  /// counts). Empty otherwise.
  std::optional<cost::ZeroStage> zeroChosen;
  /// A generated step's ZeRO stage was left open and no plan with a choice
  /// per optimizer state fitted: this plan is of the first stage (1, then
  /// 3) with which one did (planModule).
  bool zeroAfterNoFit = false;
  /// Segments for the step model (ops before the layers, one layer, ops
  /// after), and the composed step.
  std::vector<cost::SegmentCost> segments;
  /// In training without pipeline stages, when the data-parallel replicas
  /// run on devices of different speeds: the segments of each kind of
  /// replica, its ops timed on its own devices (the step model shares the
  /// micro-batches out by speed); empty otherwise.
  std::vector<cost::ReplicaGroup> replicaGroups;
  cost::StepReport step;
  /// Per-layer summary lines for people.
  llvm::SmallVector<std::string> summary;
  std::vector<PlannedCollective> collectives;
  /// The ILP objective (per-step cost the solver minimized), seconds.
  double objective = 0;
  /// The ILP solved for this grid: its strategies before and after the
  /// dominated ones were removed, columns and rows of the program, and
  /// whether its linear relaxation was integral (no branch and bound).
  unsigned ilpStrategies = 0, ilpDominated = 0, ilpVariables = 0,
           ilpConstraints = 0;
  bool ilpRelaxationIntegral = false;
  /// 0 when the plan is proven optimal on its grid; else the relative gap
  /// to the bound branch and bound proved when it stopped at its budget
  /// (StrategySolution::gap).
  double ilpGap = 0;
  /// The plan was read from the linear relaxation's optimum (a mix of
  /// layer copies, or one of the two choices it mixes) without branch and
  /// bound; `ilpGap` is its gap to the relaxation's bound.
  bool ilpReadFromRelaxation = false;
  /// The ops of the first layer's attention core, which selective
  /// recompute runs again (products of two activations and the ops
  /// between them).
  llvm::SmallVector<std::string> attentionCore;
  /// Grids tried, in the order they were, with their best setting.
  llvm::SmallVector<Candidate> candidates;
  /// The micro-batch sizes tried, in increasing size, when the planner
  /// chose the size (planMicroBatchSizes); empty when the model's batch
  /// was the micro-batch.
  llvm::SmallVector<MicroBatchTrial> microBatchTrials;
  double planningSeconds = 0;
  /// A generated training step's trainable parameters (the weights it
  /// updates, not the optimizer states), with their whole shapes.
  llvm::SmallVector<std::pair<std::string, llvm::SmallVector<int64_t>>>
      trainable;
};

/// Plans `module` (its public function) for all devices of `cluster`, with
/// what `options` fixes (cost::PlanOptions::isFixed) and the planner's
/// choice for the rest. The precision is the model's (the element type of
/// its float weights, cost::getPrecision). Fails with a message a user can
/// act on: a fixed precision the model is not retyped to, no grid of the
/// cluster's device count, an op without a sharding rule, or no plan that
/// fits in memory (with the smallest memory needed and what would make it
/// fit). `incumbentSeconds` is a step time reached before (by the plan of
/// another micro-batch size): settings whose price on a grid's base plan
/// exceeds it are not planned with their own program, and when that leaves
/// no plan the error says so.
/// The function the planner plans: the first one of `module` with a body
/// (the imported graph), or null.
mlir::func::FuncOp getPlannedFunction(mlir::ModuleOp module);

llvm::Expected<Plan>
planModule(mlir::ModuleOp module, const cost::ClusterSpec &cluster,
           const cost::PlanOptions &options,
           double incumbentSeconds = std::numeric_limits<double>::infinity());

/// A grid and the settings of `setting` as `--plan` keys:
/// "dp=2,tp=4,pp=1,microbatch=1", with recompute, zero and schedule where
/// the planner chooses them (cost::hasTrainingSettings), and chunks above 1.
std::string getPlanText(unsigned dataParallel, unsigned tensorParallel,
                        unsigned pipelineParallel,
                        const cost::PlanOptions &setting);

/// The model prepared for planning with micro-batch `size` as its batch
/// dimension (imported again with that batch, through the passes the
/// planned module went through). The module lives in the planned module's
/// context.
using ModelAtMicroBatch =
    std::function<llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>(
        int64_t size)>;

/// The micro-batch sizes planMicroBatchSizes tries for a model of batch
/// `modelBatch` and a step of `globalBatch` samples: the model's batch
/// times 1/4, 1/2, 1, 2 and 4 where that is a whole number that divides
/// the global batch, in increasing order.
llvm::SmallVector<int64_t> getMicroBatchSizes(int64_t modelBatch,
                                              int64_t globalBatch);

/// planModule, with the micro-batch size chosen too where the plan leaves
/// it free: in training of a forward graph with a fixed global batch,
/// each size of getMicroBatchSizes is planned on the model `modelAt` gives
/// for it (`module` for its own batch), and the fastest plan that fits
/// wins (on a tie, the smaller size). The plan lists every size tried
/// (Plan::microBatchTrials) and counts the whole search in its planning
/// time. Elsewhere, or without `modelAt`, the same as planModule. The plan
/// refers to the ops of `plannedModule` when that is set on return (a
/// module of another batch, which must outlive the plan), else to
/// `module`'s.
llvm::Expected<Plan>
planMicroBatchSizes(mlir::ModuleOp module, const cost::ClusterSpec &cluster,
                    const cost::PlanOptions &options,
                    const ModelAtMicroBatch &modelAt,
                    mlir::OwningOpRef<mlir::ModuleOp> &plannedModule);

/// Writes `plan` into `module`: a `shard.grid @grid`, the
/// `dist.factor_axes` attribute on every op that splits something and,
/// with pipeline stages, `dist.stage` on every op (for
/// dist-pipeline-split).
void annotateModule(mlir::ModuleOp module, const Plan &plan);

/// The report for people, and as JSON (keys in docs/planner.md).
void printPlanReport(const Plan &plan, llvm::raw_ostream &os);
llvm::json::Value planReportToJSON(const Plan &plan);

/// The report as one self-contained HTML page (docs/planner.md): the device
/// grid, the pipeline schedule of one step, the step time and the memory
/// per device, the grids considered, as inline SVG; no script and nothing
/// fetched from elsewhere. `cluster` is the cluster the plan was made for
/// (its nodes and device types label the devices). Every name that comes
/// from the model is HTML-escaped.
void printPlanReportHtml(const Plan &plan, const cost::ClusterSpec &cluster,
                         llvm::raw_ostream &os);

/// Writes printPlanReportHtml to `path` through a temporary file: on
/// failure nothing is left at `path`, and the error says why.
llvm::Error writePlanReportHtml(const Plan &plan,
                                const cost::ClusterSpec &cluster,
                                llvm::StringRef path);

} // namespace distopt::plan

#endif // DISTOPT_PLAN_PLANNER_H
