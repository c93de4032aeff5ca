//===- Sweep.h - Plan for several device counts and clusters --*- C++ -*-===//
//
// "Which and how many devices should I use": the planner (planModule) run
// for each device count of a cluster, and for each cluster of a list, with
// the step time, throughput, time and cost of each point. planDeviceCounts
// picks a device count for one cluster (dist-opt --devices auto); sweep
// gives one row per (cluster, device count) (dist-opt --sweep). The loops
// live here, not in the tool, so that every front end has them.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_PLAN_SWEEP_H
#define DISTOPT_PLAN_SWEEP_H

#include "distopt/Cost/StepModel.h"
#include "distopt/Plan/Planner.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace distopt::plan {

/// Which device counts to plan for.
struct DeviceCountSpec {
  /// True: the candidate counts between `min` and `max`
  /// (getCandidateDeviceCounts); false: exactly `counts`.
  bool automatic = false;
  unsigned min = 1;
  /// The most devices; 0: the cluster's device count (a cluster file's).
  unsigned max = 0;
  llvm::SmallVector<unsigned> counts;
};

/// Parses `auto`, `auto:MIN-MAX` or a list of positive counts `N,N,...`.
/// Fails with a message that names the text (not a command-line flag).
llvm::Expected<DeviceCountSpec> parseDeviceCountSpec(llvm::StringRef text);

/// The device counts `spec` names on the cluster `nameOrFile` (a preset or
/// a cluster file), ascending. Automatic: the powers of two, the multiples
/// of a node's device count (the first node's, when the cluster has more
/// than one node) and the cluster's own count, from `min` to `max` and at
/// most the cluster's count; a preset has no count of its own, so it needs
/// `max`. A list is returned sorted and without repeats; a count beyond a
/// cluster file's devices stays in it (its row says why it has no plan).
/// Fails when the cluster cannot be read or no count is left.
llvm::Expected<llvm::SmallVector<unsigned>>
getCandidateDeviceCounts(llvm::StringRef nameOrFile,
                         const DeviceCountSpec &spec);

/// An amount of training data to price: N tokens, or N samples.
struct TrainingTarget {
  double amount = 0;
  /// Tokens (needs a model whose first input is token ids), else samples.
  bool tokens = true;
};

/// What a sweep plans with.
struct SweepOptions {
  /// The plan's fixed parts and mode (see getModulePlanOptions).
  cost::PlanOptions plan;
  DeviceCountSpec devices;
  std::optional<TrainingTarget> target;
  /// The model at another micro-batch size: with it, each point of a
  /// training plan chooses the size too (planMicroBatchSizes).
  ModelAtMicroBatch modelAt;
};

/// One (cluster, device count) point: its plan's figures, or why it has
/// none.
struct SweepRow {
  /// The cluster as named (a preset name or a file path).
  std::string cluster;
  unsigned devices = 0;
  /// Why there is no plan; empty when there is one (the figures below are
  /// set).
  std::string error;
  bool hasPlan() const { return error.empty(); }
  /// True for the count planDeviceCounts chose for this cluster.
  bool chosen = false;

  unsigned dataParallel = 0, tensorParallel = 0, pipelineParallel = 0;
  /// The settings the planner chose with the grid (micro-batch, global
  /// batch; in training also recompute, ZeRO stage, schedule and chunks).
  cost::PlanOptions setting;
  unsigned microBatches = 0;
  double stepSeconds = 0;
  /// Peak memory of the fullest device, bytes.
  double memoryBytes = 0;
  /// Samples per step (the global batch) over the step time.
  double samplesPerSecond = 0;
  /// Tokens per second, when the model's first input is token ids.
  std::optional<double> tokensPerSecond;
  /// Time to go through the SweepOptions' target, seconds.
  std::optional<double> targetSeconds;
  /// The devices' price, USD per hour (ClusterSpec::getPricePerHour), and
  /// with it the cost of one step and of the target, USD.
  std::optional<double> pricePerHour;
  std::optional<double> costPerStep;
  std::optional<double> targetCost;
  double planningSeconds = 0;

  /// The plan as `--plan` keys: "dp=2,tp=4,pp=1,microbatch=1,..." (the
  /// training settings only when the planner chose them).
  std::string getPlanText() const;
};

/// The device count picked by planDeviceCounts.
struct DeviceCountChoice {
  /// One per candidate count, ascending.
  std::vector<SweepRow> rows;
  /// Index of the chosen row.
  unsigned chosen = 0;
  /// The plan of the chosen count.
  Plan plan;
  /// The module `plan` refers to when it is of another micro-batch size
  /// than the one planned (planMicroBatchSizes); null otherwise.
  mlir::OwningOpRef<mlir::ModuleOp> plannedModule;
  /// Time spent planning every count.
  double seconds = 0;
};

/// `options` for planning `module`: a generated training step (with its
/// backward and optimizer ops) is priced op by op, as dist-auto-plan
/// prices it (explicitStep, inference mode). Fails for a global batch
/// fixed on a training step without pipeline stages (its batch is the
/// model's).
llvm::Expected<cost::PlanOptions>
getModulePlanOptions(mlir::ModuleOp module, cost::PlanOptions options);

/// The row to choose among `rows`: the least step time, or the smallest
/// device count within 1% of it (as fast, with fewer devices). None when
/// no row has a plan.
std::optional<unsigned> chooseDeviceCount(llvm::ArrayRef<SweepRow> rows);

/// Plans `module` on `cluster` for each candidate count of
/// `options.devices` and chooses one (chooseDeviceCount). Fails when the
/// cluster cannot be read or no count has a plan (the message gives each
/// count's reason).
llvm::Expected<DeviceCountChoice> planDeviceCounts(mlir::ModuleOp module,
                                                   llvm::StringRef cluster,
                                                   const SweepOptions &options);

/// Rows of a sweep, and the time it took.
struct SweepResult {
  std::vector<SweepRow> rows;
  double seconds = 0;
};

/// One row per (cluster, candidate count), clusters in the order given,
/// each cluster's chosen count marked. Every cluster is read before
/// anything is planned: a cluster that cannot be read (or a training
/// target in tokens for a model without token ids) fails the whole sweep.
llvm::Expected<SweepResult> sweep(mlir::ModuleOp module,
                                  llvm::ArrayRef<std::string> clusters,
                                  const SweepOptions &options);

/// The rows as a table for people, one line each, with `target` naming
/// the time and cost columns.
void printSweepTable(llvm::ArrayRef<SweepRow> rows,
                     const std::optional<TrainingTarget> &target,
                     llvm::raw_ostream &os);

/// The choice for people: the count chosen and why, then the table of
/// every count.
void printDeviceCountChoice(const DeviceCountChoice &choice,
                            const std::optional<TrainingTarget> &target,
                            llvm::raw_ostream &os);

/// A row as a JSON object with numeric fields (keys in docs/planner.md).
llvm::json::Value toJSON(const SweepRow &row);

} // namespace distopt::plan

#endif // DISTOPT_PLAN_SWEEP_H
