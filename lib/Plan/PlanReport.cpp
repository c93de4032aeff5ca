//===- PlanReport.cpp - The plan, for people and as JSON ------------------===//

#include "ReportFormat.h"
#include "distopt/Plan/StrategyProblem.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace distopt;
using namespace distopt::plan;
using llvm::formatv;

std::string distopt::plan::formatGrid(const Plan &plan) {
  return formatv("dp={0} tp={1} pp={2}", plan.dataParallel,
                 plan.tensorParallel, plan.pipelineParallel)
      .str();
}

/// The step as the report shows it: on the plan's grid. In inference the
/// planner gives the step model the dp x tp devices as one replica of dp * tp
/// tensor-parallel devices (the segments already hold the per-device costs
/// of the whole grid, and dp splits whatever the solver chose, not only the
/// batch); that is how they are costed, not the grid that runs.
cost::StepReport distopt::plan::getReportedStep(const Plan &plan) {
  cost::StepReport step = plan.step;
  step.plan.dataParallel = plan.dataParallel;
  step.plan.tensorParallel = plan.tensorParallel;
  step.plan.pipelineParallel = plan.pipelineParallel;
  return step;
}

std::string distopt::plan::formatBytes(double bytes) {
  if (bytes >= (1ull << 30))
    return formatv("{0:f2} GiB", bytes / (1ull << 30)).str();
  if (bytes >= (1ull << 20))
    return formatv("{0:f2} MiB", bytes / (1ull << 20)).str();
  if (bytes >= 1024)
    return formatv("{0:f1} KiB", bytes / 1024).str();
  return formatv("{0} B", static_cast<int64_t>(bytes)).str();
}

std::string distopt::plan::formatSeconds(double seconds) {
  if (seconds >= 1)
    return formatv("{0:f3} s", seconds).str();
  return formatv("{0:f3} ms", seconds * 1e3).str();
}

std::string Candidate::getGridName() const {
  return formatv("dp={0},tp={1},pp={2}", dataParallel, tensorParallel,
                 pipelineParallel)
      .str();
}

std::string distopt::plan::getPlanText(unsigned dataParallel,
                                       unsigned tensorParallel,
                                       unsigned pipelineParallel,
                                       const cost::PlanOptions &setting) {
  std::string text =
      formatv("dp={0},tp={1},pp={2},microbatch={3}", dataParallel,
              tensorParallel, pipelineParallel, setting.microBatch)
          .str();
  if (cost::hasTrainingSettings(setting))
    text += formatv(",recompute={0},zero={1},schedule={2}",
                    cost::stringifyRecomputePolicy(setting.recompute),
                    unsigned(setting.zero),
                    cost::stringifyPipelineScheduleKind(setting.schedule))
                .str();
  if (setting.chunks > 1)
    text += formatv(",chunks={0}", setting.chunks).str();
  return text;
}

std::string
distopt::plan::formatMicroBatchTrial(const MicroBatchTrial &trial) {
  if (!trial.priced)
    return trial.reason;
  return formatv("{0}, {1} of {2} per device; {3}",
                 formatSeconds(trial.stepSeconds),
                 formatBytes(trial.memoryBytes),
                 formatBytes(trial.deviceMemoryBytes), trial.plan)
      .str();
}

/// Whether `candidate` has settings besides its grid (a training plan of a
/// forward graph).
static bool hasSettings(const Candidate &candidate) {
  return candidate.priced && cost::hasTrainingSettings(candidate.setting);
}

/// The schedule of a setting, with its chunks when interleaved.
std::string distopt::plan::formatSchedule(const cost::PlanOptions &setting) {
  std::string text =
      cost::stringifyPipelineScheduleKind(setting.schedule).str();
  if (setting.chunks > 1)
    text += formatv(" x{0} chunks", setting.chunks).str();
  return text;
}

/// One line of "grids considered".
std::string distopt::plan::formatCandidate(const Candidate &c) {
  if (!c.priced)
    return c.reason;
  std::string text =
      c.fits ? formatv("{0}, {1} of {2} per device",
                       formatSeconds(c.stepSeconds), formatBytes(c.memoryBytes),
                       formatBytes(c.deviceMemoryBytes))
                   .str()
             : formatv("does not fit: needs {0} of {1} per device",
                       formatBytes(c.memoryBytes),
                       formatBytes(c.deviceMemoryBytes))
                   .str();
  if (!hasSettings(c))
    return text;
  const cost::PlanOptions &s = c.setting;
  std::string microBatches = std::to_string(c.microBatches);
  if (!c.replicaMicroBatches.empty())
    microBatches = formatv("{0}-{1}", *llvm::min_element(c.replicaMicroBatches),
                           *llvm::max_element(c.replicaMicroBatches))
                       .str();
  text += formatv("; recompute {0}, ZeRO-{1}, {2}, {3} micro-batches{4}",
                  cost::stringifyRecomputePolicy(s.recompute), unsigned(s.zero),
                  formatSchedule(s), microBatches,
                  c.replicaMicroBatches.empty() ? "" : " per replica by speed")
              .str();
  if (c.settingsPriced > 1)
    text += formatv(" ({0} of {1} settings priced)",
                    c.fits ? "best" : "least memory", c.settingsPriced)
                .str();
  return text;
}

static llvm::json::Object candidateToJSON(const Candidate &c) {
  llvm::json::Object object{
      {"grid", c.getGridName()}, {"dp", c.dataParallel},
      {"tp", c.tensorParallel},  {"pp", c.pipelineParallel},
      {"priced", c.priced},      {"fits", c.fits},
      {"reason", c.reason},      {"outcome", formatCandidate(c)}};
  if (!c.priced)
    return object;
  object["step_seconds"] = c.stepSeconds;
  object["memory_bytes"] = c.memoryBytes;
  object["device_memory_bytes"] = c.deviceMemoryBytes;
  if (hasSettings(c)) {
    cost::addTrainingSettings(c.setting, object);
    object["micro_batches"] = c.microBatches;
    object["replica_micro_batches"] = llvm::json::Array(c.replicaMicroBatches);
    llvm::json::Array considered;
    for (const Candidate::Priced &priced : c.considered) {
      llvm::json::Object setting{{"step_seconds", priced.stepSeconds},
                                 {"memory_bytes", priced.memoryBytes},
                                 {"fits", priced.fits}};
      cost::addTrainingSettings(priced.setting, setting);
      considered.push_back(std::move(setting));
    }
    object["considered"] = std::move(considered);
    object["settings_priced"] = c.settingsPriced;
  }
  return object;
}

/// The elements of a tensor of `shape`.
static int64_t getElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// The trainable parameters of a generated training step, one per line.
static void printTrainable(const Plan &plan, llvm::raw_ostream &os) {
  int64_t total = 0;
  for (const auto &[name, shape] : plan.trainable)
    total += getElements(shape);
  os << formatv("trainable parameters: {0} tensors, {1} elements\n",
                plan.trainable.size(), total);
  for (const auto &[name, shape] : plan.trainable) {
    os << "  " << name << " ";
    llvm::interleave(shape, os, "x");
    os << formatv(" ({0})\n", getElements(shape));
  }
}

/// The precision the plan is priced in, and what it means for its memory.
static void printPrecision(const cost::PlanOptions &plan,
                           llvm::raw_ostream &os) {
  bool fp32 = plan.precision == cost::Precision::FP32;
  os << "precision: " << cost::stringifyPrecision(plan.precision)
     << (fp32 ? " (GEMMs at the fp32 peak" : " (GEMMs at the bf16/fp16 peak");
  if (plan.mode == cost::StepMode::Training && !plan.explicitStep)
    os << (fp32 ? "; fp32 weights, gradients and Adam states"
                : "; mixed precision: fp32 master weights and Adam states");
  os << ")\n";
}

void distopt::plan::printPlanReport(const Plan &plan, llvm::raw_ostream &os) {
  os << "plan: grid " << formatGrid(plan) << " ("
     << plan.dataParallel * plan.tensorParallel * plan.pipelineParallel
     << " devices)";
  if (plan.layerCount)
    os << "; " << plan.layerCount << " identical layers of " << plan.layerOps
       << " ops, solved once";
  if (plan.mixedLayerCopies)
    os << formatv(" (the first {0} of them take the choice that needs less "
                  "memory, the other {1} the faster one)",
                  plan.mixedLayerCopies,
                  plan.layerCount - plan.mixedLayerCopies);
  os << formatv("; planned in {0:f3} s", plan.planningSeconds);
  if (plan.zeroAfterNoFit)
    os << formatv("; ZeRO-{0}: no plan with a choice per optimizer state "
                  "fitted",
                  unsigned(plan.step.plan.zero));
  if (plan.ilpGap > 0 && plan.ilpReadFromRelaxation)
    os << formatv("; within {0:f2}% of the bound (read from the linear "
                  "relaxation's optimum)",
                  plan.ilpGap * 100);
  else if (plan.ilpGap > 0)
    os << formatv("; not proven optimal: within {0:f2}% of the bound "
                  "(branch and bound stopped after {1} nodes)",
                  plan.ilpGap * 100, kBranchAndBoundNodes);
  os << "\n";
  printPrecision(plan.step.plan, os);
  if (plan.describedDevices) {
    unsigned used = 0;
    for (const auto &[node, count] : plan.nodesUsed)
      used += count;
    os << formatv("devices: the fastest {0} of the cluster's {1}:", used,
                  plan.describedDevices);
    for (const auto &[node, count] : plan.nodesUsed)
      os << formatv(" {0} ({1})", node, count);
    os << "\n";
  }
  if (!plan.rankOrder.empty()) {
    // Launch the ranks in this order (rank 0 on the first node listed).
    os << "ranks by node (fastest first, not the cluster file's order):";
    unsigned rank = 0;
    for (const auto &[node, count] : plan.rankOrder) {
      os << formatv(" {0}-{1} {2};", rank, rank + count - 1, node);
      rank += count;
    }
    os << "\n";
  }
  if (!plan.microBatchTrials.empty()) {
    os << "micro-batch sizes considered:\n";
    for (const MicroBatchTrial &trial : plan.microBatchTrials)
      os << (trial.size == plan.step.plan.microBatch ? "* " : "  ")
         << trial.size << ": " << formatMicroBatchTrial(trial) << "\n";
    os << "grids considered (micro-batch " << plan.step.plan.microBatch
       << "):\n";
  } else {
    os << "grids considered:\n";
  }
  for (const Candidate &candidate : plan.candidates)
    os << "  " << candidate.getGridName() << ": " << formatCandidate(candidate)
       << "\n";
  os << "shardings:\n";
  if (plan.summary.empty())
    os << "  everything replicated\n";
  for (const std::string &line : plan.summary)
    os << "  " << line << "\n";
  os << (plan.step.plan.explicitStep ? "collectives per training step:\n"
                                      : "collectives per forward pass:\n");
  if (plan.collectives.empty())
    os << "  none\n";
  for (const PlannedCollective &c : plan.collectives)
    os << formatv("  {0,-14} {1,10} over {2} ranks, {3:f3} ms", c.kind,
                  formatBytes(c.bytes), c.groupSize, c.seconds * 1e3)
       << (c.count > 1 ? formatv(" x{0}", c.count).str() : std::string())
       << "  " << c.where << "\n";
  if (!plan.trainable.empty())
    printTrainable(plan, os);
  if (plan.step.plan.recompute == cost::RecomputePolicy::Selective &&
      plan.step.plan.mode == cost::StepMode::Training)
    os << "selective recompute runs again per layer: "
       << llvm::join(plan.attentionCore, ", ") << "\n";
  cost::printStepReport(getReportedStep(plan), os);
}

/// Nodes with a device count each, as `{"node", "devices"}` objects.
static llvm::json::Array nodeCountsToJSON(
    llvm::ArrayRef<std::pair<std::string, unsigned>> nodes) {
  llvm::json::Array array;
  for (const auto &[node, count] : nodes)
    array.push_back(llvm::json::Object{{"node", node}, {"devices", count}});
  return array;
}

llvm::json::Value distopt::plan::planReportToJSON(const Plan &plan) {
  llvm::json::Array candidates;
  for (const Candidate &candidate : plan.candidates)
    candidates.push_back(candidateToJSON(candidate));
  llvm::json::Array summary;
  for (const std::string &line : plan.summary)
    summary.push_back(line);
  llvm::json::Array collectives;
  for (const PlannedCollective &c : plan.collectives)
    collectives.push_back(llvm::json::Object{{"kind", c.kind},
                                             {"where", c.where},
                                             {"bytes", c.bytes},
                                             {"group_size", c.groupSize},
                                             {"seconds", c.seconds},
                                             {"count", c.count}});
  llvm::json::Array trainable;
  for (const auto &[name, shape] : plan.trainable)
    trainable.push_back(llvm::json::Object{
        {"name", name},
        {"shape", llvm::json::Array(shape)},
        {"elements", getElements(shape)}});
  llvm::json::Array trials;
  for (const MicroBatchTrial &trial : plan.microBatchTrials) {
    llvm::json::Object object{{"micro_batch", trial.size},
                              {"priced", trial.priced},
                              {"reason", trial.reason},
                              {"outcome", formatMicroBatchTrial(trial)}};
    if (trial.priced) {
      object["step_seconds"] = trial.stepSeconds;
      object["memory_bytes"] = trial.memoryBytes;
      object["device_memory_bytes"] = trial.deviceMemoryBytes;
      object["fits"] = trial.fits;
      object["plan"] = trial.plan;
    }
    trials.push_back(std::move(object));
  }
  llvm::json::Array axes;
  for (auto [name, size] : llvm::zip(plan.axisNames, plan.gridShape))
    axes.push_back(llvm::json::Object{{"name", name}, {"size", size}});
  return llvm::json::Object{
      {"grid", llvm::json::Object{{"dp", plan.dataParallel},
                                  {"tp", plan.tensorParallel},
                                  {"pp", plan.pipelineParallel},
                                  {"axes", std::move(axes)}}},
      {"precision", cost::stringifyPrecision(plan.step.plan.precision)},
      {"layers", llvm::json::Object{{"count", plan.layerCount},
                                    {"ops_per_layer", plan.layerOps},
                                    {"mixed_copies", plan.mixedLayerCopies}}},
      {"candidates", std::move(candidates)},
      {"micro_batch_sizes", std::move(trials)},
      {"shardings", std::move(summary)},
      {"collectives", std::move(collectives)},
      {"solver_objective_seconds", plan.objective},
      {"ilp",
       llvm::json::Object{
           {"strategies", plan.ilpStrategies},
           {"dominated", plan.ilpDominated},
           {"variables", plan.ilpVariables},
           {"constraints", plan.ilpConstraints},
           {"relaxation_integral", plan.ilpRelaxationIntegral},
           {"gap", plan.ilpGap},
           {"read_from_relaxation", plan.ilpReadFromRelaxation}}},
      {"zero_after_no_fit", plan.zeroAfterNoFit},
      {"planning_seconds", plan.planningSeconds},
      {"trainable", std::move(trainable)},
      {"attention_core", llvm::json::Array(plan.attentionCore)},
      {"rank_order", nodeCountsToJSON(plan.rankOrder)},
      {"described_devices", plan.describedDevices},
      {"nodes_used", nodeCountsToJSON(plan.nodesUsed)},
      {"step", cost::toJSON(getReportedStep(plan))},
  };
}
