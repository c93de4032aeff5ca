//===- PlanReportHtml.cpp - The plan as a self-contained HTML page --------===//
//
// One HTML page with inline SVG pictures, drawn here: the device grid (each
// rank with its node, device type, stage, replica and shard), the pipeline
// schedule of one step as a Gantt chart (the order of
// cost::makePipelineSchedule placed in time with the step model's
// per-stage times), the step time as a stacked bar, the memory per device
// against the device's, and the grids considered as a scatter of step time
// against memory. No script, no font, image or style sheet from elsewhere:
// the page shows the same offline. Names from the model and the cluster
// file are escaped.
//
//===----------------------------------------------------------------------===//

#include "ReportFormat.h"

#include "distopt/Cost/PipelineSchedule.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <array>
#include <optional>

using namespace distopt;
using namespace distopt::plan;
using llvm::formatv;
using llvm::StringRef;

/// Colours of the pipeline stages (forward boxes, devices), and darker ones
/// for their backward boxes; stage s takes entry s mod 8.
static constexpr StringRef kStageColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                             "#d62728", "#9467bd", "#8c564b",
                                             "#e377c2", "#17becf"};
static constexpr StringRef kBackwardColors[] = {"#0f3c5a", "#804007", "#165016",
                                                "#6b1414", "#4a3460", "#462b25",
                                                "#723c61", "#0c5f68"};

static StringRef getStageColor(unsigned stage) {
  return kStageColors[stage % std::size(kStageColors)];
}

/// Pixels of the drawing area of the wide pictures.
static constexpr double kChartWidth = 900, kLabelWidth = 170;

/// `text` with the characters HTML gives a meaning to escaped, for element
/// content and quoted attribute values.
static std::string escapeHtml(StringRef text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// One SVG text element at (x, y), its text escaped.
static void printSvgText(llvm::raw_ostream &os, double x, double y,
                         StringRef text, StringRef attributes = "") {
  os << formatv("<text x=\"{0:f1}\" y=\"{1:f1}\"{2}>{3}</text>\n", x, y,
                attributes.empty() ? "" : " " + attributes.str(),
                escapeHtml(text));
}

//===----------------------------------------------------------------------===//
// Device grid
//===----------------------------------------------------------------------===//

/// The node and device type of each rank of the plan, in rank order: the
/// plan's order of the nodes (Plan::rankOrder) when it has one, else the
/// cluster's.
static std::vector<std::pair<std::string, std::string>>
getRankDevices(const Plan &plan, const cost::ClusterSpec &cluster) {
  std::vector<std::pair<std::string, std::string>> ranks;
  auto addNode = [&](const cost::NodeSpec &node, unsigned count) {
    const std::string &type = cluster.deviceTypes[node.deviceType].name;
    for (unsigned i = 0; i < count; ++i)
      ranks.push_back({node.name, type});
  };
  if (plan.rankOrder.empty()) {
    for (const cost::NodeSpec &node : cluster.nodes)
      addNode(node, node.numDevices);
    return ranks;
  }
  for (const auto &[name, count] : plan.rankOrder) {
    auto it = llvm::find_if(cluster.nodes, [&, &name = name](const auto &n) {
      return n.name == name;
    });
    if (it != cluster.nodes.end())
      addNode(*it, count);
    else
      ranks.insert(ranks.end(), count, {name, "?"});
  }
  return ranks;
}

/// The stages pipeline position `position` runs: one, or its chunks.
static std::string getPositionStages(const Plan &plan, unsigned position) {
  llvm::SmallVector<std::string> stages;
  for (unsigned c = 0; c < std::max(1u, plan.chunks); ++c)
    stages.push_back(std::to_string(c * plan.pipelineParallel + position));
  return (stages.size() == 1 ? "stage " : "stages ") + llvm::join(stages, ",");
}

/// One device of the grid: a box in its stage's colour (a band per chunk
/// under interleaved 1F1B) with its rank, node, device type, stage,
/// replica and shard.
static void printDevice(const Plan &plan, unsigned rank, StringRef node,
                        StringRef type, double x, double y,
                        llvm::raw_ostream &os) {
  unsigned tp = plan.tensorParallel, dp = plan.dataParallel;
  unsigned position = rank / (dp * tp);
  unsigned chunks = std::max(1u, plan.chunks);
  os << formatv("<g class=\"device\" data-rank=\"{0}\" data-stage=\"{1}\">\n",
                rank, position);
  os << formatv("<rect x=\"{0}\" y=\"{1}\" width=\"160\" height=\"78\" "
                "rx=\"6\" fill=\"{2}\"/>\n",
                x, y, getStageColor(position));
  for (unsigned c = 1; c < chunks; ++c)
    os << formatv("<rect x=\"{0:f1}\" y=\"{1}\" width=\"{2:f1}\" "
                  "height=\"8\" fill=\"{3}\"/>\n",
                  x + 160.0 * c / chunks, y + 70, 160.0 / chunks,
                  getStageColor(c * plan.pipelineParallel + position));
  StringRef white = "fill=\"#ffffff\"";
  printSvgText(os, x + 8, y + 17, formatv("rank {0}", rank).str(),
               "font-weight=\"bold\" fill=\"#ffffff\"");
  printSvgText(os, x + 8, y + 33, node, white);
  printSvgText(os, x + 8, y + 47, type, white);
  printSvgText(os, x + 8, y + 62,
               formatv("{0}, dp {1}/{2}, tp {3}/{4}",
                       getPositionStages(plan, position), rank / tp % dp, dp,
                       rank % tp, tp)
                   .str(),
               white);
  os << "</g>\n";
}

/// The device grid: a row of boxes per pipeline position (wrapped after 8),
/// ranks in order (tp innermost, then dp, then pp).
static void printDeviceGrid(const Plan &plan, const cost::ClusterSpec &cluster,
                            llvm::raw_ostream &os) {
  auto devices = getRankDevices(plan, cluster);
  unsigned perPosition = plan.dataParallel * plan.tensorParallel;
  unsigned columns = std::min(perPosition, 8u);
  unsigned rowsPerPosition = (perPosition + columns - 1) / columns;
  unsigned rows = rowsPerPosition * plan.pipelineParallel;
  os << "<section id=\"devices\">\n<h2>Devices</h2>\n<p>Each box is one "
        "device (rank), coloured by the pipeline stage it runs.</p>\n";
  os << formatv("<svg class=\"device-grid\" width=\"{0}\" height=\"{1}\" "
                "font-size=\"11\" "
                "font-family=\"sans-serif\">\n",
                kLabelWidth + columns * 170, rows * 88 + 10);
  for (unsigned position = 0; position < plan.pipelineParallel; ++position) {
    double top = position * rowsPerPosition * 88.0 + 5;
    printSvgText(os, 5, top + 40, formatv("position {0}", position).str());
    printSvgText(os, 5, top + 55, getPositionStages(plan, position));
    for (unsigned i = 0; i < perPosition; ++i) {
      unsigned rank = position * perPosition + i;
      auto [node, type] = rank < devices.size()
                              ? devices[rank]
                              : std::pair<std::string, std::string>("?", "?");
      printDevice(plan, rank, node, type, kLabelWidth + (i % columns) * 170.0,
                  top + (i / columns) * 88.0, os);
    }
  }
  os << "</svg>\n</section>\n";
}

//===----------------------------------------------------------------------===//
// Pipeline schedule
//===----------------------------------------------------------------------===//

/// Time axis ticks under a chart of `seconds` at height `y`.
static void printTimeAxis(double seconds, double y, llvm::raw_ostream &os) {
  os << formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" "
                "stroke=\"#333333\"/>\n",
                kLabelWidth, y, kLabelWidth + kChartWidth);
  for (unsigned i = 0; i <= 4; ++i) {
    double x = kLabelWidth + kChartWidth * i / 4;
    os << formatv("<line x1=\"{0:f1}\" y1=\"{1}\" x2=\"{0:f1}\" y2=\"{2}\" "
                  "stroke=\"#333333\"/>\n",
                  x, y, y + 4);
    printSvgText(os, x, y + 16, formatSeconds(seconds * i / 4),
                 "text-anchor=\"middle\"");
  }
}

/// One box of the Gantt chart: a forward or backward of a stage on a
/// micro-batch, in the stage's colour (darker for backward).
static void printTask(const cost::TimedPipelineTask &t, double scale, double y,
                      llvm::raw_ostream &os) {
  unsigned stage = t.task.stage;
  double x = kLabelWidth + t.startSeconds * scale;
  double width = std::max(0.5, (t.endSeconds - t.startSeconds) * scale);
  StringRef fill = t.task.backward
                       ? kBackwardColors[stage % std::size(kBackwardColors)]
                       : getStageColor(stage);
  os << formatv("<rect class=\"{0}\" x=\"{1:f2}\" y=\"{2}\" width=\"{3:f2}\" "
                "height=\"24\" fill=\"{4}\" stroke=\"#ffffff\" "
                "stroke-width=\"0.5\"><title>stage {5} {0} of micro-batch {6}: "
                "{7} to {8}</title></rect>\n",
                t.task.backward ? "backward" : "forward", x, y, width, fill,
                stage, t.task.microBatch, formatSeconds(t.startSeconds),
                formatSeconds(t.endSeconds));
  // The label where it fits (about 6 pixels a character).
  std::string label =
      formatv("{0}{1}", t.task.backward ? "B" : "F", t.task.microBatch).str();
  if (width >= 6.0 * label.size() + 2)
    printSvgText(os, x + width / 2, y + 16, label,
                 "text-anchor=\"middle\" fill=\"#ffffff\" font-size=\"10\"");
}

/// The rows of the Gantt chart, one per pipeline position, with the idle
/// time of each (the bubble).
static void printGanttRows(const Plan &plan,
                           llvm::ArrayRef<cost::TimedPipelineTask> timeline,
                           double seconds, llvm::raw_ostream &os) {
  double scale = kChartWidth / seconds;
  unsigned perPosition = plan.dataParallel * plan.tensorParallel;
  for (unsigned position = 0; position < plan.pipelineParallel; ++position) {
    double y = 10 + position * 34.0;
    os << formatv("<g class=\"gantt-row\" data-position=\"{0}\">\n", position);
    printSvgText(os, 5, y + 16,
                 formatv("ranks {0}-{1}", position * perPosition,
                         (position + 1) * perPosition - 1)
                     .str());
    os << formatv("<rect class=\"idle\" x=\"{0}\" y=\"{1}\" width=\"{2}\" "
                  "height=\"24\" fill=\"#eeeeee\"/>\n",
                  kLabelWidth, y, kChartWidth);
    double busy = 0;
    for (const cost::TimedPipelineTask &t : timeline) {
      if (t.position != position)
        continue;
      busy += t.endSeconds - t.startSeconds;
      printTask(t, scale, y, os);
    }
    printSvgText(os, kLabelWidth + kChartWidth + 6, y + 16,
                 formatv("idle {0:f1}%", 100 * (1 - busy / seconds)).str());
    os << "</g>\n";
  }
}

/// The pipeline schedule of one step as a Gantt chart: per pipeline
/// position (all dp x tp devices of it run the same), the forwards and
/// backwards in the schedule's order, each as long as the step model
/// priced its stage's (compute and collectives, recompute with the
/// backward), as early as its input is there.
static void printSchedule(const Plan &plan, llvm::raw_ostream &os) {
  const cost::StepReport &step = plan.step;
  bool training = step.plan.mode == cost::StepMode::Training;
  unsigned chunks = std::max(1u, step.plan.chunks);
  os << "<section id=\"schedule\">\n<h2>Pipeline schedule of one step</h2>\n";
  std::vector<double> forward, backward;
  for (const cost::StageReport &stage : step.stages) {
    forward.push_back(stage.forwardSeconds);
    if (training)
      backward.push_back(stage.backwardSeconds + stage.recomputeSeconds);
  }
  auto timeline = cost::timePipelineSchedule(
      step.plan.schedule, plan.pipelineParallel, chunks,
      std::max(1u, step.microBatches), forward, backward);
  if (!timeline) {
    os << "<p>No chart: " << escapeHtml(llvm::toString(timeline.takeError()))
       << "</p>\n</section>\n";
    return;
  }
  double seconds = 0;
  for (const cost::TimedPipelineTask &t : *timeline)
    seconds = std::max(seconds, t.endSeconds);
  os << formatv("<p>{0}, {1} micro-batches per replica; F<i>j</i>: forward "
                "of micro-batch <i>j</i>, B<i>j</i>: its backward (darker); "
                "grey: idle. The boxes take the step model's time of their "
                "stage; point-to-point transfers, gradient synchronization "
                "and the optimizer step are in the step time below. "
                "The chart spans {2}; the step model prices the bubble at "
                "{3}.{4}</p>\n",
                escapeHtml(formatSchedule(step.plan)),
                std::max(1u, step.microBatches), formatSeconds(seconds),
                formatSeconds(step.pipelineBubbleSeconds),
                step.plan.explicitStep
                    ? " A generated training step is priced op by op: a "
                      "box is all of its stage's work on a micro-batch, "
                      "backward ops included."
                    : "");
  if (seconds <= 0) {
    os << "<p>No chart: the stages take no time.</p>\n</section>\n";
    return;
  }
  double height = plan.pipelineParallel * 34.0 + 40;
  os << formatv("<svg class=\"gantt\" "
                "width=\"{0}\" height=\"{1}\" font-size=\"11\" "
                "font-family=\"sans-serif\">\n",
                kLabelWidth + kChartWidth + 80, height);
  printGanttRows(plan, *timeline, seconds, os);
  printTimeAxis(seconds, height - 28, os);
  os << "</svg>\n</section>\n";
}

//===----------------------------------------------------------------------===//
// Step time and memory
//===----------------------------------------------------------------------===//

namespace {
/// One part of a stacked bar.
struct BarPart {
  std::string name;
  double value;
  StringRef color;
};
} // namespace

/// A stacked bar of `parts` in a picture of class `svgClass`, `total`
/// spanning the chart, and a table of the parts (name, value, share).
static void printStackedBar(StringRef svgClass, llvm::ArrayRef<BarPart> parts,
                            double total, bool seconds, llvm::raw_ostream &os) {
  os << formatv("<svg class=\"{0}\" "
                "width=\"{1}\" height=\"40\">\n",
                svgClass, kChartWidth + 10);
  double x = 5;
  for (const BarPart &part : parts) {
    if (part.value <= 0 || total <= 0)
      continue;
    double width = kChartWidth * part.value / total;
    os << formatv("<rect x=\"{0:f2}\" y=\"5\" width=\"{1:f2}\" height=\"30\" "
                  "fill=\"{2}\"><title>{3}</title></rect>\n",
                  x, width, part.color, escapeHtml(part.name));
    x += width;
  }
  os << "</svg>\n<table class=\"parts\">\n";
  for (const BarPart &part : parts)
    os << formatv("<tr><td><span class=\"swatch\" style=\"background:{0}\">"
                  "</span></td><td>{1}</td><td class=\"num\">{2}</td>"
                  "<td class=\"num\">{3:f1}%</td></tr>\n",
                  part.color, escapeHtml(part.name),
                  seconds ? formatSeconds(part.value) : formatBytes(part.value),
                  total > 0 ? 100 * part.value / total : 0);
  os << "</table>\n";
}

/// The colour of exposed communication of `phase`.
static StringRef getPhaseColor(cost::CommunicationPhase phase) {
  switch (phase) {
  case cost::CommunicationPhase::Layer:
    return "#e15759";
  case cost::CommunicationPhase::Pipeline:
    return "#ff9da7";
  case cost::CommunicationPhase::Gradient:
    break;
  }
  return "#76b7b2";
}

/// The step time as a stacked bar of the terms that sum to it
/// (cost::StepReport).
static void printStepTime(const cost::StepReport &step, llvm::raw_ostream &os) {
  std::vector<BarPart> parts = {
      {"forward compute", step.forwardComputeSeconds, "#4e79a7"},
      {"backward compute", step.backwardComputeSeconds, "#59a14f"},
      {"recompute", step.recomputeSeconds, "#edc948"}};
  for (const cost::CommunicationTime &comm : step.communication)
    parts.push_back(
        {formatv("{0} ({1}), exposed", cost::stringifyCollectiveKind(comm.kind),
                 cost::stringifyCommunicationPhase(comm.phase))
             .str(),
         comm.exposedSeconds, getPhaseColor(comm.phase)});
  parts.push_back({"pipeline bubble", step.pipelineBubbleSeconds, "#bab0ac"});
  parts.push_back({step.plan.mode == cost::StepMode::Training
                       ? "optimizer step"
                       : "update (per step)",
                   step.optimizerSeconds, "#b07aa1"});
  os << formatv("<section id=\"step-time\">\n<h2>Step time: {0}</h2>\n",
                formatSeconds(step.stepSeconds));
  printStackedBar("step-bar", parts, step.stepSeconds, /*seconds=*/true, os);
  os << formatv("<p>Model FLOP/s per device {0:f1} TFLOP/s ({1:f1}% of "
                "peak {2:f1} TFLOP/s).</p>\n</section>\n",
                step.modelFlopsPerSecond / 1e12,
                100 * step.modelFlopsUtilization,
                step.peakFlopsPerSecond / 1e12);
}

/// Whether `memory` fits, and with how much left.
static std::string getMemoryVerdict(const cost::StepMemory &memory) {
  double share = memory.deviceMemory > 0
                     ? 100 * memory.headroom() / memory.deviceMemory
                     : 0;
  if (!memory.fits())
    return formatv("DOES NOT FIT: {0} over", formatBytes(-memory.headroom()))
        .str();
  return formatv("headroom {0} ({1:f1}%){2}", formatBytes(memory.headroom()),
                 share, memory.isTight() ? ", TIGHT" : "")
      .str();
}

/// The parts of a device's memory, each in its colour.
static std::vector<BarPart> getMemoryParts(const cost::StepMemory &m) {
  return {{"parameters", m.parameters, "#4e79a7"},
          {"gradients", m.gradients, "#59a14f"},
          {"optimizer states", m.optimizerStates, "#b07aa1"},
          {"activations", m.activations, "#f28e2b"},
          {"temporaries", m.temporaries, "#edc948"},
          {"communication buffers", m.communicationBuffers, "#76b7b2"},
          {"inputs", m.inputs, "#9c755f"}};
}

/// The memory of one device of pipeline position `position` as a stacked
/// bar at height `y`, `scale` bytes spanning the chart, with the device's
/// memory as a dashed line and the stage's colour beside its name.
static void printMemoryBar(const Plan &plan, unsigned position,
                           const cost::StepMemory &m, double y, double scale,
                           llvm::raw_ostream &os) {
  os << formatv("<g class=\"memory-bar\" data-position=\"{0}\">\n", position);
  os << formatv("<rect x=\"5\" y=\"{0}\" width=\"12\" height=\"24\" "
                "fill=\"{1}\"/>\n",
                y, getStageColor(position));
  printSvgText(os, 22, y + 10, getPositionStages(plan, position));
  printSvgText(os, 22, y + 23, getMemoryVerdict(m), "font-size=\"9\"");
  double x = kLabelWidth;
  for (const BarPart &part : getMemoryParts(m)) {
    double width = kChartWidth * part.value / scale;
    os << formatv("<rect x=\"{0:f2}\" y=\"{1}\" width=\"{2:f2}\" "
                  "height=\"24\" fill=\"{3}\"><title>{4}: {5}</title>"
                  "</rect>\n",
                  x, y, width, part.color, part.name, formatBytes(part.value));
    x += width;
  }
  double limit = kLabelWidth + kChartWidth * m.deviceMemory / scale;
  os << formatv("<line x1=\"{0:f2}\" y1=\"{1}\" x2=\"{0:f2}\" y2=\"{2}\" "
                "stroke=\"#000000\" stroke-dasharray=\"4 2\"/>\n</g>\n",
                limit, y - 3, y + 27);
}

/// The memory of a device of each pipeline position (its stage, or its
/// chunks) as stacked bars against the device's memory, and the parts of
/// the fullest device's.
static void printMemory(const Plan &plan, const cost::StepReport &step,
                        llvm::raw_ostream &os) {
  const cost::StepMemory &fullest = step.memory;
  os << formatv("<section id=\"memory\">\n<h2>Memory per device: {0} of {1}"
                "</h2>\n<p class=\"{2}\">Fullest device (position {3}): {4}. "
                "Dashed line: the device's memory.</p>\n",
                formatBytes(fullest.total()), formatBytes(fullest.deviceMemory),
                fullest.fits() && !fullest.isTight() ? "ok" : "warning",
                fullest.stage, escapeHtml(getMemoryVerdict(fullest)));
  std::vector<cost::StepMemory> positions = cost::getPositionMemories(step);
  double scale = 0;
  for (const cost::StepMemory &m : positions)
    scale = std::max({scale, m.total(), m.deviceMemory});
  if (scale > 0) {
    os << formatv("<svg class=\"memory-bars\" width=\"{0}\" height=\"{1}\" "
                  "font-size=\"11\" "
                  "font-family=\"sans-serif\">\n",
                  kLabelWidth + kChartWidth + 10, positions.size() * 34 + 10);
    for (auto [position, m] : llvm::enumerate(positions))
      printMemoryBar(plan, position, m, 5 + position * 34.0, scale, os);
    os << "</svg>\n";
  }
  os << "<h3>Fullest device</h3>\n";
  printStackedBar("memory-parts", getMemoryParts(fullest),
                  std::max(fullest.total(), fullest.deviceMemory),
                  /*seconds=*/false, os);
  os << "</section>\n";
}

//===----------------------------------------------------------------------===//
// Grids considered
//===----------------------------------------------------------------------===//

/// Whether `candidate` is the grid of `plan`.
static bool isChosen(const Plan &plan, const Candidate &candidate) {
  return candidate.dataParallel == plan.dataParallel &&
         candidate.tensorParallel == plan.tensorParallel &&
         candidate.pipelineParallel == plan.pipelineParallel;
}

/// A label's box in the scatter: left, top, right, bottom.
using LabelBox = std::array<double, 4>;

/// Where a label of `text` beside the point (x, y) goes without covering
/// one of `placed` (moved down a line at a time, at most three), or none;
/// the box taken is added to `placed`.
static std::optional<double> placeLabel(std::vector<LabelBox> &placed,
                                        llvm::StringRef text, double x,
                                        double y) {
  // 11px sans-serif: about 6.2px per character, 12px per line.
  double left = x + 13, right = left + 6.2 * text.size();
  for (unsigned line = 0; line < 4; ++line) {
    double baseline = y + 4 + 12 * line;
    LabelBox box = {left, baseline - 10, right, baseline + 2};
    bool free = llvm::none_of(placed, [&](const LabelBox &other) {
      return box[0] < other[2] && other[0] < box[2] && box[1] < other[3] &&
             other[1] < box[3];
    });
    if (free) {
      placed.push_back(box);
      return baseline;
    }
  }
  return std::nullopt;
}

/// One priced grid in the scatter: filled when it fits, an outline when it
/// does not, ringed when chosen. Its label goes where no other is
/// (`placed`); a grid whose label finds no room is named by its tooltip
/// and the table.
static void printCandidatePoint(const Plan &plan, const Candidate &c, double x,
                                double y, std::vector<LabelBox> &placed,
                                llvm::raw_ostream &os) {
  bool chosen = isChosen(plan, c);
  os << formatv("<g class=\"candidate{0}\">\n", chosen ? " chosen" : "");
  os << formatv("<circle cx=\"{0:f1}\" cy=\"{1:f1}\" r=\"6\" fill=\"{2}\" "
                "stroke=\"{3}\" stroke-width=\"2\"><title>{4}: {5}</title>"
                "</circle>\n",
                x, y, c.fits ? (chosen ? "#2ca02c" : "#4e79a7") : "none",
                c.fits ? "#ffffff" : "#e15759", c.getGridName(),
                escapeHtml(formatCandidate(c)));
  if (chosen)
    os << formatv("<circle cx=\"{0:f1}\" cy=\"{1:f1}\" r=\"11\" fill=\"none\" "
                  "stroke=\"#2ca02c\" stroke-width=\"2\"/>\n",
                  x, y);
  std::string label = c.getGridName() + (chosen ? " (chosen)" : "");
  if (std::optional<double> baseline = placeLabel(placed, label, x, y))
    printSvgText(os, x + 13, *baseline, label);
  os << "</g>\n";
}

/// The priced grids as a scatter of step time against memory per device,
/// the device's memory as a dashed line.
static void printCandidateScatter(const Plan &plan, llvm::raw_ostream &os) {
  double maxMemory = 0, maxSeconds = 0;
  for (const Candidate &c : plan.candidates)
    if (c.priced) {
      maxMemory = std::max({maxMemory, c.memoryBytes, c.deviceMemoryBytes});
      maxSeconds = std::max(maxSeconds, c.stepSeconds);
    }
  if (maxMemory <= 0 || maxSeconds <= 0)
    return;
  maxMemory *= 1.1;
  maxSeconds *= 1.15;
  double left = 80, width = 640, height = 320;
  os << formatv("<svg class=\"scatter\" "
                "width=\"{0}\" height=\"{1}\" font-size=\"11\" "
                "font-family=\"sans-serif\">\n",
                left + width + 160, height + 50);
  os << formatv("<rect x=\"{0}\" y=\"10\" width=\"{1}\" height=\"{2}\" "
                "fill=\"#fafafa\" stroke=\"#333333\"/>\n",
                left, width, height);
  auto xOf = [&](double bytes) { return left + width * bytes / maxMemory; };
  auto yOf = [&](double s) { return 10 + height * (1 - s / maxSeconds); };
  for (unsigned i = 0; i <= 4; ++i) {
    printSvgText(os, xOf(maxMemory * i / 4), height + 26,
                 formatBytes(maxMemory * i / 4), "text-anchor=\"middle\"");
    printSvgText(os, left - 4, yOf(maxSeconds * i / 4) + 4,
                 formatSeconds(maxSeconds * i / 4), "text-anchor=\"end\"");
  }
  printSvgText(os, left + width / 2, height + 44, "memory per device",
               "text-anchor=\"middle\"");
  for (const Candidate &c : plan.candidates)
    if (c.priced && c.deviceMemoryBytes > 0) {
      os << formatv("<line x1=\"{0:f1}\" y1=\"10\" x2=\"{0:f1}\" y2=\"{1}\" "
                    "stroke=\"#000000\" stroke-dasharray=\"4 2\"/>\n",
                    xOf(c.deviceMemoryBytes), 10 + height);
      break;
    }
  // The chosen grid first: its label is never the one left out.
  std::vector<LabelBox> placed;
  for (bool chosen : {true, false})
    for (const Candidate &c : plan.candidates)
      if (c.priced && isChosen(plan, c) == chosen)
        printCandidatePoint(plan, c, xOf(c.memoryBytes), yOf(c.stepSeconds),
                            placed, os);
  os << "</svg>\n";
}

/// The grids considered: the scatter, and a table of every grid with what
/// it came to (why it was rejected, for those that were).
static void printCandidates(const Plan &plan, llvm::raw_ostream &os) {
  os << "<section id=\"candidates\">\n<h2>Grids considered</h2>\n<p>Step "
        "time against memory per device of each grid's best setting; "
        "filled: fits, outline: does not fit, ringed: chosen. Dashed line: "
        "the device's memory.</p>\n";
  printCandidateScatter(plan, os);
  os << "<table class=\"candidates\">\n<tr><th>grid</th><th>verdict</th>"
        "<th>outcome</th></tr>\n";
  for (const Candidate &c : plan.candidates) {
    StringRef verdict = isChosen(plan, c) ? "chosen"
                        : c.fits          ? "fits, slower"
                                          : "rejected";
    os << formatv("<tr class=\"{0}\"><td>{1}</td><td>{2}</td><td>{3}</td>"
                  "</tr>\n",
                  c.fits ? "fits" : "rejected", c.getGridName(), verdict,
                  escapeHtml(formatCandidate(c)));
  }
  os << "</table>\n</section>\n";
}

/// The micro-batch sizes the planner tried (planMicroBatchSizes), each
/// with its best plan or why it has none; nothing when it tried one.
static void printMicroBatchTrials(const Plan &plan, llvm::raw_ostream &os) {
  if (plan.microBatchTrials.empty())
    return;
  os << "<section id=\"micro-batch-sizes\">\n<h2>Micro-batch sizes "
        "considered</h2>\n<p>Each size planned with the whole search on the "
        "model imported at that size; the grids above are the chosen "
        "size's.</p>\n<table class=\"micro-batch-sizes\">\n<tr><th>size</th>"
        "<th>verdict</th><th>outcome</th></tr>\n";
  for (const MicroBatchTrial &trial : plan.microBatchTrials) {
    bool chosen = trial.size == plan.step.plan.microBatch;
    StringRef verdict = chosen         ? "chosen"
                        : trial.priced ? "fits, slower"
                                       : "rejected";
    os << formatv("<tr class=\"{0}\"><td>{1}</td><td>{2}</td><td>{3}</td>"
                  "</tr>\n",
                  trial.priced ? "fits" : "rejected", trial.size, verdict,
                  escapeHtml(formatMicroBatchTrial(trial)));
  }
  os << "</table>\n</section>\n";
}

//===----------------------------------------------------------------------===//
// The page
//===----------------------------------------------------------------------===//

static constexpr StringRef kStyle = R"(body { font-family: sans-serif;
  margin: 24px; color: #222222; background: #ffffff; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { padding: 2px 8px;
  border-bottom: 1px solid #dddddd; text-align: left; }
td.num { text-align: right; } tr.rejected td { color: #a0282b; }
.swatch { display: inline-block; width: 12px; height: 12px; }
.warning { color: #a0282b; font-weight: bold; }
pre { background: #f6f6f6; padding: 8px; font-size: 12px; })";

/// The plan's settings in one line: mode, micro-batches, schedule,
/// recompute, ZeRO.
static std::string getSettings(const cost::StepReport &step) {
  const cost::PlanOptions &s = step.plan;
  if (s.mode != cost::StepMode::Training)
    return formatv("{0}, batch {1}, {2}",
                   s.explicitStep ? "training (generated step)" : "inference",
                   s.globalBatch, formatSchedule(s))
        .str();
  return formatv("training, {0} micro-batches of {1} per replica (global "
                 "batch {2}), {3}, recompute {4}, ZeRO-{5}",
                 step.microBatches, s.microBatch, s.globalBatch,
                 formatSchedule(s), cost::stringifyRecomputePolicy(s.recompute),
                 unsigned(s.zero))
      .str();
}

/// The shardings of the (first) layer and the ops around it, and the text
/// report, which has every figure in words.
static void printShardings(const Plan &plan, llvm::raw_ostream &os) {
  os << "<section id=\"layers\">\n<h2>Shardings</h2>\n<ul>\n";
  if (plan.summary.empty())
    os << "<li>everything replicated</li>\n";
  for (const std::string &line : plan.summary)
    os << "<li>" << escapeHtml(line) << "</li>\n";
  os << "</ul>\n</section>\n";
  std::string text;
  llvm::raw_string_ostream textStream(text);
  printPlanReport(plan, textStream);
  os << "<section id=\"text-report\">\n<h2>Text report</h2>\n<pre>"
     << escapeHtml(text) << "</pre>\n</section>\n";
}

void distopt::plan::printPlanReportHtml(const Plan &plan,
                                        const cost::ClusterSpec &cluster,
                                        llvm::raw_ostream &os) {
  cost::StepReport step = getReportedStep(plan);
  unsigned devices =
      plan.dataParallel * plan.tensorParallel * plan.pipelineParallel;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8"
        "\">\n<title>dist-opt plan: "
     << formatGrid(plan) << "</title>\n<style>\n"
     << kStyle << "\n</style>\n</head>\n<body>\n";
  os << formatv("<h1>Plan: grid {0} ({1} devices of {2})</h1>\n",
                formatGrid(plan), devices, escapeHtml(cluster.name));
  os << "<p class=\"settings\">" << escapeHtml(getSettings(step));
  if (plan.layerCount)
    os << formatv("; {0} identical layers of {1} ops", plan.layerCount,
                  plan.layerOps);
  if (plan.mixedLayerCopies)
    os << formatv(" (the first {0} take the choice that needs less memory, "
                  "the other {1} the faster one)",
                  plan.mixedLayerCopies,
                  plan.layerCount - plan.mixedLayerCopies);
  os << formatv(".</p>\n<p>Step time {0}; memory per device {1} of {2}, "
                "{3}.</p>\n",
                formatSeconds(step.stepSeconds),
                formatBytes(step.memory.total()),
                formatBytes(step.memory.deviceMemory),
                escapeHtml(getMemoryVerdict(step.memory)));
  printDeviceGrid(plan, cluster, os);
  printSchedule(plan, os);
  printStepTime(step, os);
  printMemory(plan, step, os);
  printCandidates(plan, os);
  printMicroBatchTrials(plan, os);
  printShardings(plan, os);
  os << "</body>\n</html>\n";
}

llvm::Error distopt::plan::writePlanReportHtml(const Plan &plan,
                                               const cost::ClusterSpec &cluster,
                                               StringRef path) {
  // Through a temporary file: nothing partial is left at the path.
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    printPlanReportHtml(plan, cluster, os);
    return llvm::Error::success();
  });
}
