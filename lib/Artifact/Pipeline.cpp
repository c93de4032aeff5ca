//===- Pipeline.cpp - the contract of a pipeline artifact -----------------===//
//
// Collects the stage functions by their `dist.stage`, then every argument
// and result: model values by name, boundary values by id. Each boundary
// must have one producer, which runs before every consumer (a strictly
// earlier stage, hence no cycle), and one type. A training pipeline's
// functions are walked in micro-batch order (F0..F(K-1), B(K-1)..B0), so
// that the same walk checks its boundaries; its update functions, its
// accumulated values, its loss and its weights are checked after.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Pipeline.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"

#include <algorithm>
#include <map>
#include <set>

using namespace mlir;
using namespace distopt;

using StageAttr = dist::DistDialect::StageAttrHelper;
using BoundaryAttr = dist::DistDialect::BoundaryAttrHelper;
static constexpr StringLiteral kNameAttr =
    dist::DistDialect::NameAttrHelper::getNameStr();

int64_t PipelineInfo::boundaryIndex(int64_t id) const {
  auto it = std::lower_bound(
      boundaries.begin(), boundaries.end(), id,
      [](const PipelineBoundary &b, int64_t v) { return b.id < v; });
  return it != boundaries.end() && it->id == id ? it - boundaries.begin() : -1;
}

int64_t distopt::getPipelineStageCount(ModuleOp module) {
  StageAttr stage(module.getContext());
  std::set<int64_t> stages;
  for (func::FuncOp f : module.getOps<func::FuncOp>())
    if (IntegerAttr k = stage.getAttr(f))
      stages.insert(k.getInt());
  return stages.size();
}

/// The module's `dist.chunks`, or 1 without it.
static int64_t getChunks(ModuleOp module) {
  IntegerAttr chunks =
      dist::DistDialect::ChunksAttrHelper(module.getContext()).getAttr(module);
  return chunks ? chunks.getInt() : 1;
}

int64_t distopt::getPipelineRankGroupCount(ModuleOp module) {
  int64_t stages = getPipelineStageCount(module);
  int64_t chunks = getChunks(module);
  return chunks >= 1 && stages % chunks == 0 ? stages / chunks : stages;
}

std::optional<PipelinePhase> distopt::getPipelinePhase(func::FuncOp f) {
  auto attr = f->getAttrOfType<StringAttr>(kPipelinePhaseAttr);
  if (!attr)
    return std::nullopt;
  return dist::parsePipelinePhase(attr.getValue());
}

/// Orders the stage functions by `dist.stage`: 0..K-1, each once.
static LogicalResult collectStages(ModuleOp module, PipelineInfo &info) {
  StageAttr stageAttr(module.getContext());
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  info.stages.assign(funcs.size(), nullptr);
  for (func::FuncOp f : funcs) {
    IntegerAttr attr = stageAttr.getAttr(f);
    if (!attr)
      return f.emitError("function @")
             << f.getSymName() << " has no '" << StageAttr::getNameStr()
             << "', but other functions of the module do: a pipeline "
                "artifact holds only stage functions";
    int64_t k = attr.getInt();
    if (k < 0 || k >= int64_t(funcs.size()))
      return f.emitError("function @")
             << f.getSymName() << " is stage " << k << ", but the module has "
             << funcs.size() << " stage functions: stages are numbered 0.."
             << funcs.size() - 1;
    if (info.stages[k])
      return f.emitError("functions @")
             << info.stages[k].getSymName() << " and @" << f.getSymName()
             << " are both stage " << k << "; each stage has one function";
    info.stages[k] = f;
  }
  return success();
}

namespace {
/// One argument or result of a stage function, as its attributes say.
struct Port {
  StringAttr name;
  IntegerAttr boundary;
  /// Training pipelines: an accumulated value's id; the loss.
  IntegerAttr accumulate;
  bool loss = false;
};

/// A stage function being checked: its stage, its phase in a training
/// pipeline, and its place in the micro-batch order.
struct Site {
  mutable func::FuncOp f;
  int64_t stage = 0;
  std::optional<PipelinePhase> phase;

  /// "stage 2", or "the backward of stage 2" in a training pipeline.
  std::string label() const {
    std::string k = "stage " + std::to_string(stage);
    return phase ? "the " + getPipelinePhaseName(*phase).str() + " of " + k : k;
  }
};
} // namespace

/// The name, boundary id or accumulated id of argument (`isArg`) or result
/// `i` of `f`: exactly one of them (accumulated ids only with `training`).
static FailureOr<Port> getPort(func::FuncOp f, unsigned i, bool isArg,
                               bool training) {
  Port port;
  auto attr = [&](StringRef name) {
    return isArg ? f.getArgAttr(i, name) : f.getResultAttr(i, name);
  };
  port.name = dyn_cast_or_null<StringAttr>(attr(kNameAttr));
  port.boundary =
      dyn_cast_or_null<IntegerAttr>(attr(BoundaryAttr::getNameStr()));
  port.accumulate =
      dyn_cast_or_null<IntegerAttr>(attr(kPipelineAccumulateAttr));
  port.loss = !isArg && attr(dist::DistDialect::LossAttrHelper::getNameStr());
  const char *what = isArg ? "argument #" : "result #";
  if (port.accumulate && !training)
    return f.emitError("")
           << what << i << " of stage function @" << f.getSymName()
           << " has a '" << kPipelineAccumulateAttr
           << "', which only a training pipeline's functions (with '"
           << kPipelinePhaseAttr << "') have";
  int kinds = bool(port.name) + bool(port.boundary) + bool(port.accumulate);
  if (kinds == 1)
    return port;
  if (training)
    return f.emitError("")
           << what << i << " of stage function @" << f.getSymName()
           << (kinds ? " has more than one of " : " has none of ") << "'"
           << kNameAttr << "', '" << BoundaryAttr::getNameStr() << "' and '"
           << kPipelineAccumulateAttr
           << "': each is a model value, a boundary value or an accumulated "
              "value";
  return f.emitError("") << what << i << " of stage function @"
                         << f.getSymName()
                         << (port.name ? " has both " : " has neither ")
                         << "a '" << kNameAttr
                         << (port.name ? "' and a '" : "' nor a '")
                         << BoundaryAttr::getNameStr()
                         << "': each is a model value or a boundary value";
}

/// Records boundary result `id` of `site` (each produced once).
static LogicalResult addProducer(const Site &site, int64_t id, Type type,
                                 std::map<int64_t, PipelineBoundary> &byId) {
  auto [it, inserted] = byId.try_emplace(id);
  if (!inserted) {
    PipelineBoundary &b = it->second;
    std::string other = "stage " + std::to_string(b.producer);
    if (site.phase)
      other =
          "the " + getPipelinePhaseName(b.producerPhase).str() + " of " + other;
    return site.f.emitError("boundary ")
           << id << " is produced by " << other << " and by " << site.label()
           << "; each boundary has one producer";
  }
  it->second.id = id;
  it->second.producer = site.stage;
  it->second.producerPhase = site.phase.value_or(PipelinePhase::Forward);
  it->second.type = type;
  return success();
}

/// Records model output `port` (result `i` of `site`): each name once over
/// the pipeline; in a training pipeline only the loss.
static LogicalResult addOutput(const Site &site, const Port &port, unsigned i,
                               PipelineInfo &info) {
  func::FuncOp f = site.f;
  Type type = f.getResultTypes()[i];
  for (const PipelineValue &out : info.outputs)
    if (out.name == port.name.getValue())
      return f.emitError("stages ")
             << out.stages.front() << " and " << site.stage
             << " both produce model output '" << out.name << "'";
  if (site.phase) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!port.loss || port.name.getValue() != "loss" ||
        *site.phase != PipelinePhase::Forward || !tensor ||
        tensor.getRank() != 0 || !isa<FloatType>(tensor.getElementType()))
      return f.emitError("result #")
             << i << " of " << site.label() << " (@" << f.getSymName()
             << ") is model output '" << port.name.getValue()
             << "': the only model output of a training pipeline is the "
                "loss, a float scalar result of a forward function with '"
             << dist::DistDialect::LossAttrHelper::getNameStr()
             << "' and the name 'loss'";
    info.lossStage = site.stage;
  }
  info.outputs.push_back({port.name.str(), {site.stage}, type});
  return success();
}

namespace {
/// What checkPipeline collects while it walks the functions.
struct Collected {
  std::map<int64_t, PipelineBoundary> boundaries;
  std::map<std::string, size_t> inputs;
  std::map<int64_t, PipelineAccumulate> accumulates;
};
} // namespace

/// Records the results of `site`: boundary values (each produced once),
/// model outputs (each name once over the pipeline) and accumulated values
/// (each id once).
static LogicalResult collectResults(const Site &site, PipelineInfo &info,
                                    Collected &c) {
  func::FuncOp f = site.f;
  for (unsigned i = 0; i < f.getNumResults(); ++i) {
    FailureOr<Port> port = getPort(f, i, /*isArg=*/false, bool(site.phase));
    if (failed(port))
      return failure();
    Type type = f.getResultTypes()[i];
    if (port->name) {
      if (failed(addOutput(site, *port, i, info)))
        return failure();
    } else if (port->boundary) {
      if (failed(
              addProducer(site, port->boundary.getInt(), type, c.boundaries)))
        return failure();
    } else {
      int64_t id = port->accumulate.getInt();
      auto [it, inserted] = c.accumulates.try_emplace(
          id, PipelineAccumulate{id, site.stage, *site.phase, type});
      if (!inserted)
        return f.emitError("accumulated value ")
               << id << " is produced by the "
               << getPipelinePhaseName(it->second.producer) << " of stage "
               << it->second.stage << " and by " << site.label()
               << "; each accumulated value has one producer";
    }
  }
  return success();
}

/// Records model input argument `i` of `site` named `name` (one type over
/// the pipeline).
static LogicalResult addInput(const Site &site, unsigned i, StringAttr name,
                              PipelineInfo &info, Collected &c) {
  Type type = site.f.getArgumentTypes()[i];
  auto [it, inserted] = c.inputs.try_emplace(name.str(), info.inputs.size());
  if (inserted) {
    info.inputs.push_back({name.str(), {site.stage}, type});
    return success();
  }
  PipelineValue &in = info.inputs[it->second];
  if (in.type != type)
    return site.f.emitError("model input '")
           << name.getValue() << "' is " << type << " in " << site.label()
           << " but " << in.type << " in stage " << in.stages.front()
           << "; every stage must read it with one type";
  auto at = std::lower_bound(in.stages.begin(), in.stages.end(), site.stage);
  if (at == in.stages.end() || *at != site.stage)
    in.stages.insert(at, site.stage);
  return success();
}

/// Records boundary argument `id` (argument `i`) of `site`: produced
/// earlier (in stage order, or in a training pipeline's micro-batch order),
/// of the same type.
static LogicalResult addConsumer(const Site &site, unsigned i, int64_t id,
                                 Collected &c) {
  func::FuncOp f = site.f;
  Type type = f.getArgumentTypes()[i];
  auto it = c.boundaries.find(id);
  if (it == c.boundaries.end())
    return f.emitError("")
           << site.label() << " consumes boundary " << id
           << (site.phase
                   ? ", which no function before it produces; a boundary "
                     "must come from a function earlier in the micro-batch "
                     "order (the forwards by stage, then the backwards from "
                     "the last stage)"
                   : ", which no earlier stage produces; a boundary must come "
                     "from an earlier stage");
  PipelineBoundary &b = it->second;
  if (b.type != type)
    return f.emitError("boundary ")
           << id << " is " << b.type << " where stage " << b.producer
           << " produces it but " << type << " where " << site.label()
           << " consumes it";
  PipelineReader reader{site.stage,
                        site.phase.value_or(PipelinePhase::Forward)};
  if (llvm::is_contained(b.readers, reader))
    return f.emitError("") << site.label() << " takes boundary " << id
                           << " twice";
  b.readers.push_back(reader);
  auto at =
      std::lower_bound(b.consumers.begin(), b.consumers.end(), site.stage);
  if (at == b.consumers.end() || *at != site.stage)
    b.consumers.insert(at, site.stage);
  return success();
}

/// Records the arguments of `site`: model inputs and boundary values (an
/// update function's accumulated arguments are checked apart).
static LogicalResult collectArguments(const Site &site, PipelineInfo &info,
                                      Collected &c) {
  func::FuncOp f = site.f;
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    FailureOr<Port> port = getPort(f, i, /*isArg=*/true, bool(site.phase));
    if (failed(port))
      return failure();
    if (port->accumulate)
      return f.emitError("argument #")
             << i << " of " << site.label() << " (@" << f.getSymName()
             << ") is accumulated value " << port->accumulate.getInt()
             << "; only update functions take accumulated values";
    if (port->name ? failed(addInput(site, i, port->name, info, c))
                   : failed(addConsumer(site, i, port->boundary.getInt(), c)))
      return failure();
  }
  return success();
}

/// Every boundary is consumed; moves them into `info` by ascending id.
static LogicalResult finishBoundaries(PipelineInfo &info, Collected &c) {
  auto &boundaries = info.boundaries;
  for (auto &[id, b] : c.boundaries) {
    if (b.consumers.empty()) {
      func::FuncOp f = info.isTraining()
                           ? info.phases[b.producer][int(b.producerPhase)]
                           : info.stages[b.producer];
      return f.emitError("stage ")
             << b.producer << " produces boundary " << id
             << (info.isTraining() ? ", which no function consumes"
                                   : ", which no later stage consumes");
    }
    boundaries.push_back(std::move(b));
  }
  return success();
}

/// Orders a training pipeline's functions by stage and phase: stages
/// 0..K-1, each with one function of each phase.
static LogicalResult collectPhases(ModuleOp module, PipelineInfo &info) {
  StageAttr stageAttr(module.getContext());
  int64_t stages = getPipelineStageCount(module);
  info.phases.assign(stages, {});
  for (func::FuncOp f : module.getOps<func::FuncOp>()) {
    IntegerAttr attr = stageAttr.getAttr(f);
    std::optional<PipelinePhase> phase = getPipelinePhase(f);
    if (!attr)
      return f.emitError("function @")
             << f.getSymName() << " has no '" << StageAttr::getNameStr()
             << "', but other functions of the module do: a pipeline "
                "artifact holds only stage functions";
    if (!phase)
      return f.emitError("function @")
             << f.getSymName() << " has '" << kPipelinePhaseAttr
             << "' = " << f->getAttr(kPipelinePhaseAttr)
             << "; the phases are \"forward\", \"backward\" and \"update\"";
    int64_t k = attr.getInt();
    if (k < 0 || k >= stages)
      return f.emitError("function @")
             << f.getSymName() << " is stage " << k << ", but the module has "
             << stages << " stages: stages are numbered 0.." << stages - 1;
    func::FuncOp &slot = info.phases[k][int(*phase)];
    if (slot)
      return f.emitError("functions @")
             << slot.getSymName() << " and @" << f.getSymName()
             << " are both the " << getPipelinePhaseName(*phase) << " of stage "
             << k << "; each stage has one function of "
             << "each phase";
    slot = f;
  }
  for (int64_t k = 0; k < stages; ++k)
    for (PipelinePhase p : {PipelinePhase::Forward, PipelinePhase::Backward,
                            PipelinePhase::Update})
      if (!info.phases[k][int(p)])
        return module.emitError("stage ")
               << k << " has no " << getPipelinePhaseName(p)
               << " function; every stage of a training pipeline has one "
                  "forward, one backward and one update function";
  return success();
}

/// Checks the update function of stage `k`: no results, and only
/// accumulated arguments, each produced by the same stage with the same
/// type and taken once.
static LogicalResult checkUpdate(int64_t k, PipelineInfo &info, Collected &c,
                                 std::set<int64_t> &taken) {
  Site site{info.phases[k][int(PipelinePhase::Update)], k,
            PipelinePhase::Update};
  func::FuncOp f = site.f;
  if (f.getNumResults())
    return f.emitError("")
           << site.label() << " (@" << f.getSymName() << ") returns "
           << f.getNumResults()
           << " values; an update function returns nothing (it assigns "
              "weights)";
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    auto id = f.getArgAttrOfType<IntegerAttr>(i, kPipelineAccumulateAttr);
    if (!id || f.getArgAttr(i, kNameAttr) ||
        f.getArgAttr(i, BoundaryAttr::getNameStr()))
      return f.emitError("argument #")
             << i << " of " << site.label() << " (@" << f.getSymName()
             << ") is not only an accumulated value ('"
             << kPipelineAccumulateAttr
             << "'); an update function takes nothing else";
    auto it = c.accumulates.find(id.getInt());
    if (it == c.accumulates.end() || it->second.stage != k)
      return f.emitError("")
             << site.label() << " takes accumulated value " << id.getInt()
             << ", which "
             << (it == c.accumulates.end()
                     ? std::string("no forward or backward function produces")
                     : "stage " + std::to_string(it->second.stage) +
                           " produces")
             << "; an update takes the values its own stage accumulates";
    if (it->second.type != f.getArgumentTypes()[i])
      return f.emitError("accumulated value ")
             << id.getInt() << " is " << it->second.type << " where the "
             << getPipelinePhaseName(it->second.producer) << " of stage " << k
             << " produces it but " << f.getArgumentTypes()[i] << " where "
             << site.label() << " takes it";
    if (!taken.insert(id.getInt()).second)
      return f.emitError("") << site.label() << " takes accumulated value "
                             << id.getInt() << " twice";
  }
  return success();
}

/// The names of the weights `f` reads and of those it assigns.
static void collectWeights(func::FuncOp f, std::set<std::string> &read,
                           std::map<std::string, func::FuncOp> &assigned) {
  f.walk([&](Operation *op) {
    if (auto w = dyn_cast<dist::WeightOp>(op))
      read.insert(w.getName().str());
    if (auto a = dyn_cast<dist::AssignOp>(op))
      if (auto w = a.getWeight().getDefiningOp<dist::WeightOp>())
        assigned.try_emplace(w.getName().str(), f);
  });
}

/// A weight that some function of a stage assigns appears in no other
/// stage, unless every stage it appears in assigns it (a state that each
/// stage updates the same way, as AdamW's step counter).
static LogicalResult checkStageWeights(const PipelineInfo &info) {
  int64_t stages = info.numStages();
  std::vector<std::set<std::string>> read(stages);
  std::vector<std::map<std::string, func::FuncOp>> assigned(stages);
  for (int64_t k = 0; k < stages; ++k)
    for (func::FuncOp f : info.phases[k])
      collectWeights(f, read[k], assigned[k]);
  for (int64_t k = 0; k < stages; ++k)
    for (auto &[name, f] : assigned[k])
      for (int64_t other = 0; other < stages; ++other)
        if (other != k && read[other].count(name) &&
            !assigned[other].count(name))
          return f.emitError("weight '")
                 << name << "' is assigned by stage " << k << " (@"
                 << f.getSymName() << ") and read by stage " << other
                 << "; a weight that a stage updates lives in that stage only "
                    "(send it on as a boundary value)";
  return success();
}

/// Checks a training pipeline: the functions of each stage, the values
/// crossing them in micro-batch order, the updates, the loss and the
/// weights.
static LogicalResult checkTrainingPipeline(ModuleOp module,
                                           PipelineInfo &info) {
  if (failed(collectPhases(module, info)))
    return failure();
  int64_t stages = info.numStages();
  // The micro-batch order: F0..F(K-1), then B(K-1)..B0.
  Collected c;
  for (int64_t n = 0; n < 2 * stages; ++n) {
    bool forward = n < stages;
    int64_t k = forward ? n : 2 * stages - 1 - n;
    PipelinePhase phase =
        forward ? PipelinePhase::Forward : PipelinePhase::Backward;
    Site site{info.phases[k][int(phase)], k, phase};
    if (failed(collectArguments(site, info, c)) ||
        failed(collectResults(site, info, c)))
      return failure();
  }
  std::set<int64_t> taken;
  for (int64_t k = 0; k < stages; ++k)
    if (failed(checkUpdate(k, info, c, taken)))
      return failure();
  for (auto &[id, acc] : c.accumulates) {
    if (!taken.count(id))
      return info.phases[acc.stage][int(acc.producer)].emitError("the ")
             << getPipelinePhaseName(acc.producer) << " of stage " << acc.stage
             << " accumulates value " << id << ", which the update of stage "
             << acc.stage << " does not take";
    info.accumulates.push_back(acc);
  }
  if (info.lossStage < 0)
    return module.emitError("no forward function of the training pipeline "
                            "returns the loss (a result with '")
           << dist::DistDialect::LossAttrHelper::getNameStr()
           << "' named 'loss')";
  if (failed(checkStageWeights(info)))
    return failure();
  return finishBoundaries(info, c);
}

/// Checks an inference pipeline: one function per stage.
static LogicalResult checkInferencePipeline(ModuleOp module,
                                            PipelineInfo &info) {
  if (failed(collectStages(module, info)))
    return failure();
  // Producers are recorded before consumers: a boundary that a later stage
  // produces is not there yet when an earlier one asks for it.
  Collected c;
  for (int64_t k = 0; k < int64_t(info.stages.size()); ++k) {
    Site site{info.stages[k], k, std::nullopt};
    if (failed(collectArguments(site, info, c)) ||
        failed(collectResults(site, info, c)))
      return failure();
  }
  return finishBoundaries(info, c);
}

/// Checks the module's `dist.chunks` (v) against the pipeline: it divides
/// the stage count, is 1 in an inference pipeline, and leaves at least two
/// rank groups when it is above 1.
static LogicalResult checkChunks(ModuleOp module, PipelineInfo &info) {
  StringRef attr = dist::DistDialect::ChunksAttrHelper::getNameStr();
  info.chunks = getChunks(module);
  int64_t v = info.chunks, stages = info.numStages();
  if (v < 1)
    return module.emitError("'") << attr << "' is " << v
                                 << "; it is the number of stages of each "
                                    "rank group, at least 1";
  if (v > 1 && !info.isTraining())
    return module.emitError("'")
           << attr << "' is " << v
           << ": dist.chunks needs a training pipeline (functions with '"
           << kPipelinePhaseAttr
           << "'); an inference pipeline runs one stage per rank group";
  if (stages % v != 0)
    return module.emitError("'")
           << attr << "' is " << v << ", which does not divide the " << stages
           << " stages; each rank group runs " << attr << " stages";
  if (v > 1 && stages / v < 2)
    return module.emitError("'")
           << attr << "' is " << v << " with " << stages
           << " stages: that leaves " << stages / v
           << " rank group; the interleaved schedule needs at least 2";
  return success();
}

FailureOr<PipelineInfo> distopt::checkPipeline(ModuleOp module) {
  PipelineInfo info;
  if (getPipelineStageCount(module) == 0)
    return info;
  func::FuncOp withPhase, withoutPhase;
  for (func::FuncOp f : module.getOps<func::FuncOp>())
    (f->hasAttr(kPipelinePhaseAttr) ? withPhase : withoutPhase) = f;
  if (withPhase && withoutPhase)
    return withoutPhase.emitError("function @")
           << withoutPhase.getSymName() << " has no '" << kPipelinePhaseAttr
           << "', but @" << withPhase.getSymName()
           << " has: a training pipeline's functions are each the forward, "
              "backward or update of a stage";
  if (failed(withPhase ? checkTrainingPipeline(module, info)
                       : checkInferencePipeline(module, info)) ||
      failed(checkChunks(module, info)))
    return failure();
  std::sort(info.inputs.begin(), info.inputs.end(),
            [](const PipelineValue &a, const PipelineValue &b) {
              return a.name < b.name;
            });
  return info;
}
