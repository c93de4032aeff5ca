//===- Sweep.cpp - Plan a model for several device counts and clusters ----===//
//
// planModule for each candidate device count of a cluster
// (getClusterSpec(cluster, N) makes the cluster of N devices, as
// dist-opt --devices N does), the choice of a count, the rows of a sweep
// over clusters, and their table and JSON.
//
//===----------------------------------------------------------------------===//

#include "distopt/Plan/Sweep.h"

#include "distopt/Dialect/Dist/DistDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>

using namespace mlir;
using namespace distopt;
using namespace distopt::plan;
using llvm::formatv;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// Device counts
//===----------------------------------------------------------------------===//

/// Parses a positive device count of at most kMaxClusterDevices.
static std::optional<unsigned> parseCount(StringRef text) {
  unsigned value = 0;
  if (text.trim().getAsInteger(10, value) || value == 0 ||
      value > cost::kMaxClusterDevices)
    return std::nullopt;
  return value;
}

llvm::Expected<DeviceCountSpec>
distopt::plan::parseDeviceCountSpec(StringRef text) {
  StringRef whole = text;
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(
        formatv("'{0}' is not a device count: {1}", whole, why.str()).str());
  };
  DeviceCountSpec spec;
  if (text == "auto") {
    spec.automatic = true;
    return spec;
  }
  if (text.consume_front("auto:")) {
    auto [low, high] = text.split('-');
    std::optional<unsigned> min = parseCount(low), max = parseCount(high);
    if (!min || !max)
      return fail(formatv("expected auto:MIN-MAX, two counts from 1 to {0}",
                          cost::kMaxClusterDevices));
    if (*min > *max)
      return fail("the least count is above the most");
    spec.automatic = true;
    spec.min = *min;
    spec.max = *max;
    return spec;
  }
  llvm::SmallVector<StringRef> items;
  text.split(items, ',');
  for (StringRef item : items) {
    std::optional<unsigned> count = parseCount(item);
    if (!count)
      return fail(formatv("expected a count from 1 to {0}, a list N,N,..., "
                          "auto or auto:MIN-MAX",
                          cost::kMaxClusterDevices));
    spec.counts.push_back(*count);
  }
  return spec;
}

/// The cluster `nameOrFile` that the device counts are chosen on: a
/// preset with `max` devices, a file with all of its devices.
static llvm::Expected<cost::ClusterSpec>
getLargestCluster(StringRef nameOrFile, const DeviceCountSpec &spec) {
  bool preset = llvm::is_contained(cost::getClusterPresetNames(), nameOrFile);
  if (preset && spec.automatic && spec.max == 0)
    return llvm::createStringError(
        formatv("the cluster preset '{0}' has no device count of its own: "
                "give the most devices to try (auto:MIN-MAX)",
                nameOrFile)
            .str());
  return cost::getClusterSpec(nameOrFile, preset ? spec.max : 0);
}

llvm::Expected<llvm::SmallVector<unsigned>>
distopt::plan::getCandidateDeviceCounts(StringRef nameOrFile,
                                        const DeviceCountSpec &spec) {
  llvm::Expected<cost::ClusterSpec> cluster =
      getLargestCluster(nameOrFile, spec);
  if (!cluster)
    return cluster.takeError();
  llvm::SmallVector<unsigned> counts;
  if (!spec.automatic) {
    counts = spec.counts;
    llvm::sort(counts);
    counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
    return counts;
  }
  unsigned total = cluster->getNumDevices();
  unsigned most = spec.max ? std::min(spec.max, total) : total;
  unsigned perNode =
      cluster->nodes.size() > 1 ? cluster->nodes.front().numDevices : 0;
  for (unsigned n = spec.min; n <= most; ++n)
    if (llvm::isPowerOf2_32(n) || (perNode && n % perNode == 0) || n == total)
      counts.push_back(n);
  if (counts.empty())
    return llvm::createStringError(
        formatv("cluster '{0}' has {1} devices: no device count from {2} to "
                "{3} to try",
                nameOrFile, total, spec.min, spec.max ? spec.max : total)
            .str());
  return counts;
}

//===----------------------------------------------------------------------===//
// Planning one point
//===----------------------------------------------------------------------===//

llvm::Expected<cost::PlanOptions>
distopt::plan::getModulePlanOptions(ModuleOp module,
                                    cost::PlanOptions options) {
  StringRef train = dist::DistDialect::TrainAttrHelper::getNameStr();
  if (llvm::none_of(module.getOps<func::FuncOp>(),
                    [&](func::FuncOp f) { return f->hasAttr(train); }))
    return options;
  bool pipeline = options.isFixed(cost::PlanKey::PipelineParallel) &&
                  options.pipelineParallel > 1;
  if (options.isFixed(cost::PlanKey::GlobalBatch) && !pipeline)
    return llvm::createStringError(
        "the batch of a generated training step is the model's batch "
        "(--shape), or with a pipeline plan (pp fixed above 1) a multiple "
        "of it that runs as micro-batches; --batch is otherwise for "
        "planning a training step without generating it");
  options.mode = cost::StepMode::Inference;
  options.explicitStep = true;
  return options;
}

/// Tokens per sample when the planned function's first input is token ids
/// (integers [batch, ...]): the product of its dimensions after the batch.
static std::optional<double> getTokensPerSample(ModuleOp module) {
  func::FuncOp func = getPlannedFunction(module);
  if (!func || func.getNumArguments() == 0)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(func.getArgument(0).getType());
  if (!type || !type.getElementType().isInteger() || type.getRank() < 2 ||
      !type.hasStaticShape())
    return std::nullopt;
  double tokens = 1;
  for (int64_t dim : type.getShape().drop_front())
    tokens *= double(dim);
  return tokens;
}

/// Fills the figures of `row` from `plan`.
static void fillRow(SweepRow &row, const Plan &plan,
                    std::optional<double> tokensPerSample,
                    const std::optional<TrainingTarget> &target) {
  row.dataParallel = plan.dataParallel;
  row.tensorParallel = plan.tensorParallel;
  row.pipelineParallel = plan.pipelineParallel;
  row.setting = plan.step.plan;
  row.microBatches = plan.step.microBatches;
  row.stepSeconds = plan.step.stepSeconds;
  row.memoryBytes = plan.step.memory.total();
  row.planningSeconds = plan.planningSeconds;
  double samples = double(plan.step.plan.globalBatch);
  row.samplesPerSecond = samples / row.stepSeconds;
  if (tokensPerSample)
    row.tokensPerSecond = samples * *tokensPerSample / row.stepSeconds;
  if (row.pricePerHour)
    row.costPerStep = row.stepSeconds * *row.pricePerHour / 3600;
  if (!target || (target->tokens && !tokensPerSample))
    return;
  double perStep = target->tokens ? samples * *tokensPerSample : samples;
  row.targetSeconds = std::ceil(target->amount / perStep) * row.stepSeconds;
  if (row.pricePerHour)
    row.targetCost = *row.targetSeconds * *row.pricePerHour / 3600;
}

/// Plans `module` on `devices` devices of `cluster` with `planOptions`
/// (getModulePlanOptions), with the micro-batch size where
/// `options.modelAt` lets it be chosen; the plan (and the module of another
/// size it refers to) goes to `kept` when given.
static SweepRow planPoint(ModuleOp module, StringRef cluster, unsigned devices,
                          const cost::PlanOptions &planOptions,
                          const SweepOptions &options,
                          std::pair<std::optional<Plan>,
                                    OwningOpRef<ModuleOp>> *kept = nullptr) {
  SweepRow row;
  row.cluster = cluster.str();
  row.devices = devices;
  llvm::Expected<cost::ClusterSpec> spec =
      cost::getClusterSpec(cluster, devices);
  if (!spec) {
    row.error = llvm::toString(spec.takeError());
    return row;
  }
  row.pricePerHour = spec->getPricePerHour();
  OwningOpRef<ModuleOp> plannedModule;
  llvm::Expected<Plan> plan = planMicroBatchSizes(
      module, *spec, planOptions, options.modelAt, plannedModule);
  if (!plan) {
    row.error = llvm::toString(plan.takeError());
    return row;
  }
  fillRow(row, *plan, getTokensPerSample(module), options.target);
  if (kept) {
    kept->first.emplace(std::move(*plan));
    kept->second = std::move(plannedModule);
  }
  return row;
}

//===----------------------------------------------------------------------===//
// Choosing a count, sweeping clusters
//===----------------------------------------------------------------------===//

std::optional<unsigned>
distopt::plan::chooseDeviceCount(llvm::ArrayRef<SweepRow> rows) {
  std::optional<double> least;
  for (const SweepRow &row : rows)
    if (row.hasPlan() && (!least || row.stepSeconds < *least))
      least = row.stepSeconds;
  if (!least)
    return std::nullopt;
  // Within 1% of the fastest, fewer devices win.
  std::optional<unsigned> chosen;
  for (auto [i, row] : llvm::enumerate(rows))
    if (row.hasPlan() && row.stepSeconds <= *least * 1.01 &&
        (!chosen || row.devices < rows[*chosen].devices))
      chosen = i;
  return chosen;
}

/// Seconds since `start`.
static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// Why no row has a plan, one line per count.
static llvm::Error noCountError(StringRef cluster,
                                llvm::ArrayRef<SweepRow> rows) {
  std::string message =
      formatv("no device count of cluster '{0}' has a plan:", cluster).str();
  for (const SweepRow &row : rows)
    message += formatv("\n  {0} devices: {1}", row.devices, row.error).str();
  return llvm::createStringError(message);
}

/// The plan options of every point (getModulePlanOptions), after checking
/// that the target can be priced for `module`.
static llvm::Expected<cost::PlanOptions>
getPointOptions(ModuleOp module, const SweepOptions &options) {
  if (options.target && options.target->tokens && !getTokensPerSample(module))
    return llvm::createStringError(
        "the model's first input is not token ids (integers [batch, ...] of "
        "a fixed shape): count the training data in samples, not tokens");
  return getModulePlanOptions(module, options.plan);
}

llvm::Expected<DeviceCountChoice>
distopt::plan::planDeviceCounts(ModuleOp module, StringRef cluster,
                                const SweepOptions &options) {
  auto start = std::chrono::steady_clock::now();
  llvm::Expected<cost::PlanOptions> planOptions =
      getPointOptions(module, options);
  if (!planOptions)
    return planOptions.takeError();
  auto counts = getCandidateDeviceCounts(cluster, options.devices);
  if (!counts)
    return counts.takeError();
  DeviceCountChoice choice;
  std::vector<std::pair<std::optional<Plan>, OwningOpRef<ModuleOp>>> plans(
      counts->size());
  for (auto [i, devices] : llvm::enumerate(*counts))
    choice.rows.push_back(
        planPoint(module, cluster, devices, *planOptions, options, &plans[i]));
  std::optional<unsigned> chosen = chooseDeviceCount(choice.rows);
  if (!chosen)
    return noCountError(cluster, choice.rows);
  choice.chosen = *chosen;
  choice.rows[*chosen].chosen = true;
  choice.plan = std::move(*plans[*chosen].first);
  choice.plannedModule = std::move(plans[*chosen].second);
  choice.seconds = secondsSince(start);
  return choice;
}

llvm::Expected<SweepResult>
distopt::plan::sweep(ModuleOp module, llvm::ArrayRef<std::string> clusters,
                     const SweepOptions &options) {
  auto start = std::chrono::steady_clock::now();
  llvm::Expected<cost::PlanOptions> planOptions =
      getPointOptions(module, options);
  if (!planOptions)
    return planOptions.takeError();
  // Every cluster is read first: a bad one fails before any planning.
  std::vector<llvm::SmallVector<unsigned>> counts;
  for (const std::string &cluster : clusters) {
    auto clusterCounts = getCandidateDeviceCounts(cluster, options.devices);
    if (!clusterCounts)
      return clusterCounts.takeError();
    counts.push_back(std::move(*clusterCounts));
  }
  SweepResult result;
  for (auto [cluster, clusterCounts] : llvm::zip(clusters, counts)) {
    size_t first = result.rows.size();
    for (unsigned devices : clusterCounts)
      result.rows.push_back(
          planPoint(module, cluster, devices, *planOptions, options));
    llvm::ArrayRef<SweepRow> rows(result.rows);
    if (std::optional<unsigned> chosen =
            chooseDeviceCount(rows.drop_front(first)))
      result.rows[first + *chosen].chosen = true;
  }
  result.seconds = secondsSince(start);
  return result;
}

//===----------------------------------------------------------------------===//
// Table and JSON
//===----------------------------------------------------------------------===//

std::string SweepRow::getPlanText() const {
  return plan::getPlanText(dataParallel, tensorParallel, pipelineParallel,
                           setting);
}

/// `value` with 4 significant digits.
static std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", value);
  return text;
}

/// A duration for people: ms, s, min, h or days.
static std::string formatDuration(double seconds) {
  if (seconds < 1)
    return formatNumber(seconds * 1e3) + " ms";
  if (seconds < 120)
    return formatNumber(seconds) + " s";
  if (seconds < 7200)
    return formatNumber(seconds / 60) + " min";
  if (seconds < 2 * 86400)
    return formatNumber(seconds / 3600) + " h";
  return formatNumber(seconds / 86400) + " days";
}

/// An optional figure, "-" when absent.
static std::string formatOptional(const std::optional<double> &value,
                                  std::string (*format)(double)) {
  return value ? format(*value) : "-";
}

/// `text` padded with blanks to `width` characters.
static std::string padRight(StringRef text, size_t width) {
  return text.str() + std::string(width - std::min(width, text.size()), ' ');
}

/// An error on one line: its lines joined by "; ".
static std::string joinLines(StringRef message) {
  llvm::SmallVector<StringRef> lines;
  message.split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (StringRef &line : lines)
    line = line.trim();
  return llvm::join(lines, "; ");
}

namespace {
/// A column of the sweep table: its heading and its cell for a row with a
/// plan (rows without one show "-").
struct TableColumn {
  std::string heading;
  std::function<std::string(const SweepRow &)> cell;
};
} // namespace

/// The columns of the table: the optional ones only when a row has their
/// figure.
static std::vector<TableColumn>
getTableColumns(llvm::ArrayRef<SweepRow> rows,
                const std::optional<TrainingTarget> &target) {
  auto any = [&](std::optional<double> SweepRow::*field) {
    return llvm::any_of(rows,
                        [&](const SweepRow &r) { return bool(r.*field); });
  };
  std::string amount = target ? formatNumber(target->amount) +
                                    (target->tokens ? " tokens" : " samples")
                              : "";
  std::vector<TableColumn> columns;
  columns.push_back({"step", [](const SweepRow &r) {
                       return formatDuration(r.stepSeconds);
                     }});
  columns.push_back({"samples/s", [](const SweepRow &r) {
                       return formatNumber(r.samplesPerSecond);
                     }});
  if (any(&SweepRow::tokensPerSecond))
    columns.push_back({"tokens/s", [](const SweepRow &r) {
                         return formatOptional(r.tokensPerSecond, formatNumber);
                       }});
  if (any(&SweepRow::targetSeconds))
    columns.push_back({"time for " + amount, [](const SweepRow &r) {
                         return formatOptional(r.targetSeconds, formatDuration);
                       }});
  if (any(&SweepRow::costPerStep))
    columns.push_back({"USD/step", [](const SweepRow &r) {
                         return formatOptional(r.costPerStep, formatNumber);
                       }});
  if (any(&SweepRow::targetCost))
    columns.push_back({"USD for " + amount, [](const SweepRow &r) {
                         return formatOptional(r.targetCost, formatNumber);
                       }});
  return columns;
}

void distopt::plan::printSweepTable(llvm::ArrayRef<SweepRow> rows,
                                    const std::optional<TrainingTarget> &target,
                                    llvm::raw_ostream &os) {
  std::vector<TableColumn> columns = getTableColumns(rows, target);
  // The cells, row by row, then each column's width.
  std::vector<std::vector<std::string>> cells;
  for (const SweepRow &row : rows) {
    std::vector<std::string> line = {row.cluster, std::to_string(row.devices)};
    for (const TableColumn &column : columns)
      line.push_back(row.hasPlan() ? column.cell(row) : "-");
    cells.push_back(std::move(line));
  }
  std::vector<std::string> headings = {"cluster", "devices"};
  for (const TableColumn &column : columns)
    headings.push_back(column.heading);
  std::vector<size_t> widths;
  for (auto [i, heading] : llvm::enumerate(headings)) {
    widths.push_back(heading.size());
    for (const auto &line : cells)
      widths.back() = std::max(widths.back(), line[i].size());
  }
  // The cluster left-aligned, the figures right-aligned, the plan last.
  auto printLine = [&](StringRef mark, llvm::ArrayRef<std::string> line,
                       StringRef last) {
    os << mark << padRight(line[0], widths[0]);
    for (size_t i = 1; i < line.size(); ++i)
      os << "  " << std::string(widths[i] - line[i].size(), ' ') << line[i];
    os << "  " << last << "\n";
  };
  printLine("  ", headings, "plan");
  for (auto [row, line] : llvm::zip(rows, cells))
    printLine(row.chosen ? "* " : "  ", line,
              row.hasPlan() ? row.getPlanText()
                            : "no plan: " + joinLines(row.error));
}

void distopt::plan::printDeviceCountChoice(
    const DeviceCountChoice &choice,
    const std::optional<TrainingTarget> &target, llvm::raw_ostream &os) {
  const SweepRow &chosen = choice.rows[choice.chosen];
  os << formatv("devices: {0} of cluster '{1}' (the least step time, or the "
                "fewest devices within 1% of it); {2} counts planned in "
                "{3:f2} s\n",
                chosen.devices, chosen.cluster, choice.rows.size(),
                choice.seconds);
  printSweepTable(choice.rows, target, os);
}

/// Sets `key` of `object` to `value` when it has one.
static void setOptional(llvm::json::Object &object, StringRef key,
                        const std::optional<double> &value) {
  if (value)
    object[key] = *value;
}

llvm::json::Value distopt::plan::toJSON(const SweepRow &row) {
  llvm::json::Object object{{"cluster", row.cluster},
                            {"devices", row.devices},
                            {"chosen", row.chosen},
                            {"has_plan", row.hasPlan()}};
  setOptional(object, "price_per_hour", row.pricePerHour);
  if (!row.hasPlan()) {
    object["error"] = row.error;
    return object;
  }
  object["plan"] = row.getPlanText();
  object["dp"] = row.dataParallel;
  object["tp"] = row.tensorParallel;
  object["pp"] = row.pipelineParallel;
  object["micro_batch"] = row.setting.microBatch;
  object["global_batch"] = row.setting.globalBatch;
  object["micro_batches"] = row.microBatches;
  if (cost::hasTrainingSettings(row.setting))
    cost::addTrainingSettings(row.setting, object);
  object["step_seconds"] = row.stepSeconds;
  object["memory_bytes"] = row.memoryBytes;
  object["samples_per_second"] = row.samplesPerSecond;
  setOptional(object, "tokens_per_second", row.tokensPerSecond);
  setOptional(object, "target_seconds", row.targetSeconds);
  setOptional(object, "cost_per_step", row.costPerStep);
  setOptional(object, "target_cost", row.targetCost);
  object["planning_seconds"] = row.planningSeconds;
  return object;
}
