//===- PlanReport.cpp - The plan, for people and as JSON ------------------===//

#include "distopt/Plan/Planner.h"

#include "llvm/Support/FormatVariadic.h"

using namespace distopt;
using namespace distopt::plan;
using llvm::formatv;

static std::string gridString(const Plan &plan) {
  return formatv("dp={0} tp={1} pp={2}", plan.dataParallel,
                 plan.tensorParallel, plan.pipelineParallel)
      .str();
}

/// The step as the report shows it: on the plan's grid. In inference the
/// planner gives the step model the dp x tp devices as one replica of dp * tp
/// tensor-parallel devices (the segments already hold the per-device costs
/// of the whole grid, and dp splits whatever the solver chose, not only the
/// batch); that is how they are costed, not the grid that runs.
static cost::StepReport getReportedStep(const Plan &plan) {
  cost::StepReport step = plan.step;
  step.plan.dataParallel = plan.dataParallel;
  step.plan.tensorParallel = plan.tensorParallel;
  step.plan.pipelineParallel = plan.pipelineParallel;
  return step;
}

static std::string bytesString(double bytes) {
  if (bytes >= (1ull << 30))
    return formatv("{0:f2} GiB", bytes / (1ull << 30)).str();
  if (bytes >= (1ull << 20))
    return formatv("{0:f2} MiB", bytes / (1ull << 20)).str();
  if (bytes >= 1024)
    return formatv("{0:f1} KiB", bytes / 1024).str();
  return formatv("{0} B", static_cast<int64_t>(bytes)).str();
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

void distopt::plan::printPlanReport(const Plan &plan, llvm::raw_ostream &os) {
  os << "plan: grid " << gridString(plan) << " ("
     << plan.dataParallel * plan.tensorParallel * plan.pipelineParallel
     << " devices)";
  if (plan.layerCount)
    os << "; " << plan.layerCount << " identical layers of " << plan.layerOps
       << " ops, solved once";
  os << formatv("; planned in {0:f3} s\n", plan.planningSeconds);
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
  os << "grids considered:\n";
  for (const auto &[grid, outcome] : plan.candidates)
    os << "  " << grid << ": " << outcome << "\n";
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
                  bytesString(c.bytes), c.groupSize, c.seconds * 1e3)
       << (c.count > 1 ? formatv(" x{0}", c.count).str() : std::string())
       << "  " << c.where << "\n";
  if (!plan.trainable.empty())
    printTrainable(plan, os);
  cost::printStepReport(getReportedStep(plan), os);
}

llvm::json::Value distopt::plan::planReportToJSON(const Plan &plan) {
  llvm::json::Array candidates;
  for (const auto &[grid, outcome] : plan.candidates)
    candidates.push_back(llvm::json::Object{{"grid", grid},
                                            {"outcome", outcome}});
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
  llvm::json::Array rankOrder;
  for (const auto &[node, count] : plan.rankOrder)
    rankOrder.push_back(llvm::json::Object{{"node", node}, {"devices", count}});
  llvm::json::Array axes;
  for (auto [name, size] : llvm::zip(plan.axisNames, plan.gridShape))
    axes.push_back(llvm::json::Object{{"name", name}, {"size", size}});
  return llvm::json::Object{
      {"grid", llvm::json::Object{{"dp", plan.dataParallel},
                                  {"tp", plan.tensorParallel},
                                  {"pp", plan.pipelineParallel},
                                  {"axes", std::move(axes)}}},
      {"layers", llvm::json::Object{{"count", plan.layerCount},
                                    {"ops_per_layer", plan.layerOps}}},
      {"candidates", std::move(candidates)},
      {"shardings", std::move(summary)},
      {"collectives", std::move(collectives)},
      {"solver_objective_seconds", plan.objective},
      {"ilp", llvm::json::Object{{"strategies", plan.ilpStrategies},
                                 {"dominated", plan.ilpDominated},
                                 {"variables", plan.ilpVariables},
                                 {"constraints", plan.ilpConstraints},
                                 {"relaxation_integral",
                                  plan.ilpRelaxationIntegral}}},
      {"planning_seconds", plan.planningSeconds},
      {"trainable", std::move(trainable)},
      {"rank_order", std::move(rankOrder)},
      {"step", cost::toJSON(getReportedStep(plan))},
  };
}
