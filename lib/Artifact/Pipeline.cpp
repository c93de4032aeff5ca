//===- Pipeline.cpp - the contract of a pipeline artifact -----------------===//
//
// Collects the stage functions by their `dist.stage`, then every argument
// and result: model values by name, boundary values by id. Each boundary
// must have one producer, which runs before every consumer (a strictly
// earlier stage, hence no cycle), and one type.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Pipeline.h"
#include "distopt/Dialect/Dist/DistDialect.h"

#include <algorithm>
#include <map>

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
  return llvm::count_if(module.getOps<func::FuncOp>(),
                        [&](func::FuncOp f) { return stage.isAttrPresent(f); });
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
};
} // namespace

/// The name or boundary id of argument (`isArg`) or result `i` of `f`:
/// exactly one of them.
static FailureOr<Port> getPort(func::FuncOp f, unsigned i, bool isArg) {
  Port port;
  auto attr = [&](StringRef name) {
    return isArg ? f.getArgAttr(i, name) : f.getResultAttr(i, name);
  };
  port.name = dyn_cast_or_null<StringAttr>(attr(kNameAttr));
  port.boundary =
      dyn_cast_or_null<IntegerAttr>(attr(BoundaryAttr::getNameStr()));
  if (bool(port.name) != bool(port.boundary))
    return port;
  return f.emitError("") << (isArg ? "argument #" : "result #") << i
                         << " of stage function @" << f.getSymName()
                         << (port.name ? " has both " : " has neither ")
                         << "a '" << kNameAttr
                         << (port.name ? "' and a '" : "' nor a '")
                         << BoundaryAttr::getNameStr()
                         << "': each is a model value or a boundary value";
}

/// Records the results of stage `k`: boundary values (each produced once)
/// and model outputs (each name once over the pipeline).
static LogicalResult collectResults(int64_t k, PipelineInfo &info,
                                    std::map<int64_t, PipelineBoundary> &byId) {
  func::FuncOp f = info.stages[k];
  for (unsigned i = 0; i < f.getNumResults(); ++i) {
    FailureOr<Port> port = getPort(f, i, /*isArg=*/false);
    if (failed(port))
      return failure();
    Type type = f.getResultTypes()[i];
    if (port->name) {
      for (const PipelineValue &out : info.outputs)
        if (out.name == port->name.getValue())
          return f.emitError("stages ")
                 << out.stages.front() << " and " << k
                 << " both produce model output '" << out.name << "'";
      info.outputs.push_back({port->name.str(), {k}, type});
      continue;
    }
    int64_t id = port->boundary.getInt();
    auto [it, inserted] = byId.try_emplace(id);
    if (!inserted)
      return f.emitError("boundary ")
             << id << " is produced by stage " << it->second.producer
             << " and by stage " << k << "; each boundary has one producer";
    it->second.id = id;
    it->second.producer = k;
    it->second.type = type;
  }
  return success();
}

/// Records the arguments of stage `k`: model inputs (one type over the
/// pipeline) and boundary values (produced by an earlier stage, same type).
static LogicalResult collectArguments(int64_t k, PipelineInfo &info,
                                      std::map<int64_t, PipelineBoundary> &byId,
                                      std::map<std::string, size_t> &inputs) {
  func::FuncOp f = info.stages[k];
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    FailureOr<Port> port = getPort(f, i, /*isArg=*/true);
    if (failed(port))
      return failure();
    Type type = f.getArgumentTypes()[i];
    if (port->name) {
      std::string name = port->name.str();
      auto [it, inserted] = inputs.try_emplace(name, info.inputs.size());
      if (inserted) {
        info.inputs.push_back({name, {k}, type});
        continue;
      }
      PipelineValue &in = info.inputs[it->second];
      if (in.type != type)
        return f.emitError("model input '")
               << name << "' is " << type << " in stage " << k << " but "
               << in.type << " in stage " << in.stages.front()
               << "; every stage must read it with one type";
      in.stages.push_back(k);
      continue;
    }
    int64_t id = port->boundary.getInt();
    auto it = byId.find(id);
    if (it == byId.end())
      return f.emitError("stage ")
             << k << " consumes boundary " << id
             << ", which no earlier stage produces; a boundary must come "
                "from an earlier stage";
    PipelineBoundary &b = it->second;
    if (b.type != type)
      return f.emitError("boundary ")
             << id << " is " << b.type << " where stage " << b.producer
             << " produces it but " << type << " where stage " << k
             << " consumes it";
    if (!b.consumers.empty() && b.consumers.back() == k)
      return f.emitError("stage ") << k << " takes boundary " << id << " twice";
    b.consumers.push_back(k);
  }
  return success();
}

FailureOr<PipelineInfo> distopt::checkPipeline(ModuleOp module) {
  PipelineInfo info;
  if (getPipelineStageCount(module) == 0)
    return info;
  if (failed(collectStages(module, info)))
    return failure();
  // Producers are recorded before consumers: a boundary that a later stage
  // produces is not there yet when an earlier one asks for it.
  std::map<int64_t, PipelineBoundary> byId;
  std::map<std::string, size_t> inputs;
  for (int64_t k = 0; k < int64_t(info.stages.size()); ++k)
    if (failed(collectArguments(k, info, byId, inputs)) ||
        failed(collectResults(k, info, byId)))
      return failure();
  for (auto &[id, b] : byId) {
    if (b.consumers.empty())
      return info.stages[b.producer].emitError("stage ")
             << b.producer << " produces boundary " << id
             << ", which no later stage consumes";
    info.boundaries.push_back(std::move(b));
  }
  std::sort(info.inputs.begin(), info.inputs.end(),
            [](const PipelineValue &a, const PipelineValue &b) {
              return a.name < b.name;
            });
  return info;
}
