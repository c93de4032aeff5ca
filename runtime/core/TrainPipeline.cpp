//===- TrainPipeline.cpp - training pipelines -----------------------------===//
//
// Each rank runs the stages of its rank group (one, or v with dist.chunks
// = v): their forward and backward functions over the micro-batches in the
// order of the schedule, then each stage's update function, in stage
// order. Each stage has its own programs, weights, stash and sums (a
// StageRunner); a GroupRunner drives them.
//
// Boundary values: a value read by functions of the same stage is kept per
// micro-batch (the stash) from the time it is produced or received until
// the last of them has run; a value read by another stage is sent to the
// rank at this grid position of that stage's group, this rank itself for
// a stage of its own group (tag: one per boundary and consuming stage,
// boundaryTag). Every function runs its micro-batches in increasing order,
// so the j-th message of a tag between two ranks is micro-batch j. The
// step's mean loss goes from grid position 0 of the loss's stage's group
// to rank 0 with the first tag after the boundaries'.
//
// Accumulated values are zeroed at the start of each step, summed over the
// micro-batches in order (in their type) and divided by m before the
// update.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/TrainPipeline.h"
#include "runtime/core/Pipeline.h"

#include "distopt/Artifact/Artifact.h"
#include "distopt/Cost/PipelineSchedule.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/Executor.h"

#include "llvm/Support/MemoryBuffer.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

using namespace distopt;
using namespace distopt::rt;
using Clock = std::chrono::steady_clock;

bool distopt::rt::isTrainingPipeline(mlir::ModuleOp module) {
  return llvm::any_of(
      module.getOps<mlir::func::FuncOp>(),
      [](mlir::func::FuncOp f) { return f->hasAttr(kPipelinePhaseAttr); });
}

llvm::StringRef
distopt::rt::getPipelineScheduleName(PipelineSchedule schedule) {
  switch (schedule) {
  case PipelineSchedule::GPipe:
    return "gpipe";
  case PipelineSchedule::OneFOneB:
    return "1f1b";
  case PipelineSchedule::Interleaved:
    break;
  }
  return "interleaved";
}

std::optional<PipelineSchedule>
distopt::rt::parsePipelineSchedule(llvm::StringRef name) {
  for (PipelineSchedule s :
       {PipelineSchedule::GPipe, PipelineSchedule::OneFOneB,
        PipelineSchedule::Interleaved})
    if (name == getPipelineScheduleName(s))
      return s;
  return std::nullopt;
}

/// The step model's kind of `schedule`.
static cost::PipelineScheduleKind getScheduleKind(PipelineSchedule schedule) {
  switch (schedule) {
  case PipelineSchedule::GPipe:
    return cost::PipelineScheduleKind::GPipe;
  case PipelineSchedule::OneFOneB:
    return cost::PipelineScheduleKind::OneFOneB;
  case PipelineSchedule::Interleaved:
    break;
  }
  return cost::PipelineScheduleKind::Interleaved1F1B;
}

std::vector<PipelineTask>
distopt::rt::makePipelineSchedule(PipelineSchedule schedule, int64_t groups,
                                  int64_t chunks, int64_t group, int64_t m) {
  // The one order of the schedules (cost::makePipelineSchedule), which the
  // plan report draws too.
  std::vector<PipelineTask> tasks;
  for (const cost::PipelineTask &task : cost::makePipelineSchedule(
           getScheduleKind(schedule), unsigned(groups), unsigned(chunks),
           unsigned(group), unsigned(m)))
    tasks.push_back(
        {int64_t(task.stage),
         task.backward ? PipelinePhase::Backward : PipelinePhase::Forward,
         int64_t(task.microBatch)});
  return tasks;
}

namespace {

/// Adds `v` into `sum` elementwise (f32 or f64).
void accumulate(HostTensor &sum, const HostTensor &v) {
  size_t n = v.bytes.size() / byteWidth(v.dtype);
  if (v.dtype == DType::F64) {
    auto *s = reinterpret_cast<double *>(sum.bytes.data());
    auto *x = reinterpret_cast<const double *>(v.bytes.data());
    for (size_t i = 0; i < n; ++i)
      s[i] += x[i];
    return;
  }
  auto *s = reinterpret_cast<float *>(sum.bytes.data());
  auto *x = reinterpret_cast<const float *>(v.bytes.data());
  for (size_t i = 0; i < n; ++i)
    s[i] += x[i];
}

/// `t` divided by `m` (f32 or f64), in place.
void divide(HostTensor &t, int64_t m) {
  size_t n = t.bytes.size() / byteWidth(t.dtype);
  if (t.dtype == DType::F64) {
    auto *s = reinterpret_cast<double *>(t.bytes.data());
    for (size_t i = 0; i < n; ++i)
      s[i] /= double(m);
    return;
  }
  auto *s = reinterpret_cast<float *>(t.bytes.data());
  for (size_t i = 0; i < n; ++i)
    s[i] /= float(m);
}

/// One stage of this rank's group: its three programs over one weight
/// store, and what a step keeps between them.
class StageRunner {
public:
  StageRunner(Communicator &comm, const PipelineInfo &info,
              const PipelineInputs &inputs, int64_t stage)
      : comm(comm), info(info), inputs(inputs), stage(stage) {}

  /// Builds the stage's programs; stops every rank on an error.
  void build(mlir::ModuleOp module);
  /// Starts a step: no loss, no sums yet.
  void beginStep();
  /// Runs the forward or backward `task` of step `step` (0-based).
  void runTask(PipelineTask task, int64_t step);
  /// Posts the receives of `task`'s boundary arguments from other stages,
  /// so that they arrive while earlier tasks compute. The group posts every
  /// task's before it runs the previous task, in the schedule's order (the
  /// order MPI matches receives of one tag in).
  void postReceives(PipelineTask task);
  /// Starts the update on the step's accumulated values (its program is
  /// update(); Executor's run in parts), and ends it.
  void startUpdate();
  void finishUpdate();
  Executor &update() { return program(PipelinePhase::Update); }
  /// The sum of the step's losses (0 unless this stage returns the loss).
  double stepLossSum() const { return lossSum; }
  /// The bytes of the arena, of the values in it and of the inputs of the
  /// stage's programs, and of its weights.
  void addMemory(size_t &arena, size_t &values, size_t &in,
                 size_t &weights) const;
  /// The stage's persistent weights.
  const std::vector<StateInfo> &state() const { return store.state; }
  int64_t getStage() const { return stage; }

  std::vector<TraceEvent> *trace = nullptr;
  Clock::time_point origin;

private:
  void bindArguments(PipelineTask task, int64_t step,
                     std::vector<HostTensor> &args,
                     std::vector<int64_t> &received);
  void takeResults(PipelineTask task, std::vector<HostTensor> &results);
  Executor &program(PipelinePhase p) { return *programs[int(p)]; }
  std::string slot(PipelinePhase p) const {
    return "stage " + std::to_string(stage) + " " +
           getPipelinePhaseName(p).str();
  }

  Communicator &comm;
  const PipelineInfo &info;
  const PipelineInputs &inputs;
  int64_t stage;
  WeightStore store;
  std::array<std::unique_ptr<Executor>, 3> programs;
  std::map<std::string, size_t> inputIndex;
  /// The first and the last function of this stage that read each
  /// boundary it reads.
  std::map<int64_t, PipelinePhase> firstReader, lastReader;
  /// Receives posted ahead (postReceives), by (id, micro-batch).
  struct Posted {
    HostTensor value;
    Communicator::PendingReceive receive;
  };
  std::map<std::pair<int64_t, int64_t>, Posted> posted;
  /// Boundary values kept for later functions of this stage, by (id, j).
  std::map<std::pair<int64_t, int64_t>, HostTensor> stash;
  /// The step's sums of the accumulated values, by id.
  std::map<int64_t, HostTensor> sums;
  Clock::time_point updateStart;
  double lossSum = 0;
};

} // namespace

void StageRunner::build(mlir::ModuleOp module) {
  std::string error;
  for (PipelinePhase p : {PipelinePhase::Forward, PipelinePhase::Backward,
                          PipelinePhase::Update}) {
    programs[int(p)] = Executor::create(module, comm, error, stage,
                                        getPipelinePhaseName(p), &store);
    if (!programs[int(p)])
      comm.abortAll(error);
    // Executor::kThisRanksStage: the first stage of this rank's group.
    stage = programs[int(p)]->stage();
  }
  for (const IOInfo &out : program(PipelinePhase::Forward).outputs())
    if (out.boundary < 0 && out.accumulate < 0 && out.dtype != DType::F32 &&
        out.dtype != DType::F64)
      comm.abortAll("the loss of stage " + std::to_string(stage) + " is " +
                    shapeText(out.dtype, out.shape) +
                    "; the runtime reads an f32 or f64 loss");
  for (size_t i = 0; i < info.inputs.size(); ++i)
    inputIndex[info.inputs[i].name] = i;
  for (const PipelineBoundary &b : info.boundaries)
    for (const PipelineReader &r : b.readers) {
      if (r.stage != stage)
        continue;
      if (!lastReader.count(b.id) || int(r.phase) > int(lastReader[b.id]))
        lastReader[b.id] = r.phase;
      // Received from another stage by its first reader; kept after.
      if (b.producer != stage &&
          (!firstReader.count(b.id) || int(r.phase) < int(firstReader[b.id])))
        firstReader[b.id] = r.phase;
    }
  for (const PipelineAccumulate &a : info.accumulates) {
    if (a.stage != stage)
      continue;
    for (const IOInfo &in : program(PipelinePhase::Update).inputs())
      if (in.accumulate == a.id) {
        if (in.dtype != DType::F32 && in.dtype != DType::F64)
          comm.abortAll("accumulated value " + std::to_string(a.id) +
                        " of stage " + std::to_string(stage) + " is " +
                        shapeText(in.dtype, in.shape) +
                        "; the runtime accumulates f32 and f64 values");
        sums[a.id] = HostTensor{in.dtype, in.shape, {}};
      }
  }
}

void StageRunner::bindArguments(PipelineTask task, int64_t step,
                                std::vector<HostTensor> &args,
                                std::vector<int64_t> &received) {
  Executor &ex = program(task.phase);
  args.resize(ex.inputs().size());
  for (size_t i = 0; i < args.size(); ++i) {
    const IOInfo &in = ex.inputs()[i];
    if (in.boundary < 0) {
      getMicroBatch(inputs, inputIndex.at(in.name), step, task.j, in, args[i]);
      continue;
    }
    auto kept = stash.find({in.boundary, task.j});
    if (kept != stash.end()) {
      // The last reader takes the kept value (runTask then drops it).
      if (lastReader.at(in.boundary) == task.phase)
        args[i] = std::move(kept->second);
      else
        args[i] = kept->second;
      continue;
    }
    // Received: posted ahead by postReceives (else now).
    auto it = posted.find({in.boundary, task.j});
    if (it == posted.end()) {
      it = posted.try_emplace({in.boundary, task.j}).first;
      it->second.receive = startBoundaryReceive(comm, info, in, stage, task.j,
                                                it->second.value);
    }
    auto start = Clock::now();
    comm.finishReceive(it->second.receive);
    args[i] = std::move(it->second.value);
    posted.erase(it);
    received.push_back(int64_t(i));
    if (trace)
      trace->push_back(
          {"receive " + in.name + " of micro-batch " + std::to_string(task.j),
           "comm", microsecondsBetween(origin, start),
           microsecondsBetween(start, Clock::now())});
  }
}

void StageRunner::takeResults(PipelineTask task,
                              std::vector<HostTensor> &results) {
  Executor &ex = program(task.phase);
  for (size_t i = 0; i < results.size(); ++i) {
    const IOInfo &out = ex.outputs()[i];
    if (out.boundary >= 0) {
      sendBoundary(comm, info, out, results[i], stage, task.j);
      if (lastReader.count(out.boundary))
        stash[{out.boundary, task.j}] = std::move(results[i]);
    } else if (out.accumulate >= 0) {
      HostTensor &sum = sums.at(out.accumulate);
      if (sum.bytes.empty())
        sum.bytes.assign(results[i].bytes.size(), 0);
      accumulate(sum, results[i]);
    } else {
      lossSum += lossValue(results[i]);
    }
  }
}

void StageRunner::postReceives(PipelineTask task) {
  for (const IOInfo &in : program(task.phase).inputs()) {
    auto first = firstReader.find(in.boundary);
    if (in.boundary < 0 || first == firstReader.end() ||
        first->second != task.phase)
      continue;
    Posted &p = posted[{in.boundary, task.j}];
    p.receive = startBoundaryReceive(comm, info, in, stage, task.j, p.value);
  }
}

void StageRunner::runTask(PipelineTask task, int64_t step) {
  std::vector<HostTensor> args, results;
  std::vector<int64_t> received;
  bindArguments(task, step, args, received);
  Executor &ex = program(task.phase);
  auto start = Clock::now();
  ex.run(args, results, trace, &origin);
  if (trace)
    trace->push_back({slot(task.phase) + " " + std::to_string(task.j),
                      "pipeline", microsecondsBetween(origin, start),
                      microsecondsBetween(start, Clock::now())});
  // A received value that a later function of this stage reads is kept;
  // a kept value whose last reader this was is freed.
  for (int64_t i : received) {
    int64_t id = ex.inputs()[i].boundary;
    if (lastReader.at(id) != task.phase)
      stash[{id, task.j}] = std::move(args[i]);
  }
  for (const IOInfo &in : ex.inputs())
    if (in.boundary >= 0 && lastReader.at(in.boundary) == task.phase)
      stash.erase({in.boundary, task.j});
  takeResults(task, results);
}

void StageRunner::startUpdate() {
  Executor &ex = program(PipelinePhase::Update);
  std::vector<HostTensor> args;
  int64_t m = inputs.microBatches;
  for (const IOInfo &in : ex.inputs()) {
    HostTensor &sum = sums.at(in.accumulate);
    if (sum.bytes.empty()) // never: every micro-batch produces it
      sum.bytes.assign(Tensor{nullptr, in.dtype, in.shape}.numElements() *
                           byteWidth(in.dtype),
                       0);
    divide(sum, m);
    args.push_back(std::move(sum));
    sum = HostTensor{in.dtype, in.shape, {}};
  }
  updateStart = Clock::now();
  ex.start(args);
}

void StageRunner::finishUpdate() {
  std::vector<HostTensor> results;
  program(PipelinePhase::Update).finish(results);
  if (trace)
    trace->push_back({slot(PipelinePhase::Update), "pipeline",
                      microsecondsBetween(origin, updateStart),
                      microsecondsBetween(updateStart, Clock::now())});
}

void StageRunner::beginStep() {
  lossSum = 0;
  for (auto &[id, sum] : sums)
    sum.bytes.clear();
}

void StageRunner::addMemory(size_t &arena, size_t &values, size_t &in,
                            size_t &weights) const {
  for (const auto &ex : programs) {
    arena += ex->arenaBytes();
    values += ex->arenaValueBytes();
    in += ex->inputBytes();
  }
  weights += store.weightBytes;
}

/// The stages of this rank's group, each a StageRunner, run in the order
/// of the schedule.
class GroupRunner {
public:
  GroupRunner(Communicator &comm, const PipelineInfo &info,
              const PipelineInputs &inputs, PipelineSchedule schedule)
      : comm(comm), info(info), inputs(inputs), schedule(schedule) {}

  /// Builds every stage's programs, in stage order: the first stage's
  /// sets the grid, and so this rank's group (the first stage's number).
  void build(mlir::ModuleOp module, std::vector<TraceEvent> *trace) {
    int64_t groups = info.numRankGroups();
    for (int64_t stage = Executor::kThisRanksStage; stage < info.numStages();
         stage = stages.back()->getStage() + groups) {
      stages.push_back(
          std::make_unique<StageRunner>(comm, info, inputs, stage));
      stages.back()->build(module);
      stages.back()->trace = trace;
    }
    tasks = makePipelineSchedule(schedule, groups, info.chunks, comm.stage(),
                                 inputs.microBatches);
  }
  /// Runs step `step` (0-based): the schedule's tasks, then every stage's
  /// update in stage order; returns the mean of the micro-batches' losses
  /// on the ranks of the loss's stage's group (0 elsewhere).
  double runStep(int64_t step) {
    double loss = 0;
    for (auto &s : stages)
      s->beginStep();
    int64_t groups = info.numRankGroups();
    // Each task's receives are posted before the task before it runs.
    if (!tasks.empty())
      stages[tasks[0].stage / groups]->postReceives(tasks[0]);
    for (size_t t = 0; t < tasks.size(); ++t) {
      if (t + 1 < tasks.size())
        stages[tasks[t + 1].stage / groups]->postReceives(tasks[t + 1]);
      stages[tasks[t].stage / groups]->runTask(tasks[t], step);
    }
    runUpdates();
    for (auto &s : stages)
      loss += s->stepLossSum();
    comm.completeSends("rank group " + std::to_string(comm.stage()));
    return loss / double(inputs.microBatches);
  }
  void setOrigin(Clock::time_point origin) {
    for (auto &s : stages)
      s->origin = origin;
  }
  /// Prints the memory of all the group's stages together.
  void printMemory(uint64_t residentBefore) const {
    size_t arena = 0, values = 0, in = 0, weights = 0;
    for (const auto &s : stages)
      s->addMemory(arena, values, in, weights);
    printMemoryTotals(comm, arena, values, weights, in, residentBefore);
  }
  const std::vector<std::unique_ptr<StageRunner>> &getStages() const {
    return stages;
  }

private:
  void runUpdates();

  Communicator &comm;
  const PipelineInfo &info;
  const PipelineInputs &inputs;
  PipelineSchedule schedule;
  std::vector<std::unique_ptr<StageRunner>> stages;
  std::vector<PipelineTask> tasks;
};

/// The step's loss on rank 0: from grid position 0 of the loss's stage's
/// group.
static double lossToRankZero(Communicator &comm, const PipelineInfo &info,
                             double loss, int64_t step) {
  int64_t devices = comm.size() / info.numRankGroups();
  int source = int(info.rankGroupOf(info.lossStage) * devices);
  if (source == 0 || (comm.rank() != 0 && comm.rank() != source))
    return loss;
  int tag = firstFreeTag(info);
  std::vector<int64_t> scalar;
  Tensor t{&loss, DType::F64, scalar};
  std::string label = "the loss of step " + std::to_string(step + 1) +
                      " from stage " + std::to_string(info.lossStage);
  if (comm.rank() == 0)
    comm.receive(t, source, tag, "rank 0 receiving " + label);
  else
    comm.send(t, 0, tag, "sending " + label + " to rank 0");
  return loss;
}

struct TrainingPipeline::Impl {
  Impl(Communicator &comm, const PipelineInfo &info,
       const PipelineInputs &inputs)
      : comm(comm), info(info),
        group(comm, info, inputs,
              info.chunks > 1 ? PipelineSchedule::Interleaved
                              : PipelineSchedule::OneFOneB) {}
  Communicator &comm;
  const PipelineInfo &info;
  GroupRunner group;
};

TrainingPipeline::TrainingPipeline(Communicator &comm, mlir::ModuleOp module,
                                   const PipelineInfo &info,
                                   const PipelineInputs &inputs)
    : impl(std::make_unique<Impl>(comm, info, inputs)) {
  impl->group.build(module, /*trace=*/nullptr);
  impl->group.setOrigin(Clock::now());
}

TrainingPipeline::~TrainingPipeline() = default;

double TrainingPipeline::runStep(int64_t step) {
  Communicator &comm = impl->comm;
  double loss = impl->group.runStep(step);
  loss = lossToRankZero(comm, impl->info, loss, step);
  comm.completeSends("the loss");
  std::vector<int64_t> scalar;
  Tensor t{&loss, DType::F64, scalar};
  comm.broadcast(t, 0, "the loss of step " + std::to_string(step + 1));
  return loss;
}

/// Every stage's persistent weights, in stage order and each once (the
/// ranks agree on them: each sends those of its group's stages), with the
/// slice shape of the stage that holds it; `owner` gets each one's stage.
static std::vector<StateInfo> allStagesState(Communicator &comm,
                                             const PipelineInfo &info,
                                             const GroupRunner &group,
                                             std::vector<int64_t> &owner) {
  nlohmann::json record = nlohmann::json::array();
  for (const auto &stage : group.getStages()) {
    nlohmann::json weights = nlohmann::json::array();
    for (const StateInfo &s : stage->state())
      weights.push_back({s.name, int(s.dtype), s.shape, s.globalShape, s.zero});
    record.push_back({stage->getStage(), weights});
  }
  std::vector<std::string> records =
      comm.allGatherRecords(record.dump(), "the stages' weights");
  int64_t devices = comm.size() / info.numRankGroups();
  std::vector<StateInfo> all;
  std::set<std::string> seen;
  for (int64_t k = 0; k < info.numStages(); ++k)
    for (const nlohmann::json &stage :
         nlohmann::json::parse(records[info.rankGroupOf(k) * devices])) {
      if (stage[0].get<int64_t>() != k)
        continue;
      for (const nlohmann::json &w : stage[1]) {
        if (!seen.insert(w[0].get<std::string>()).second)
          continue;
        StateInfo s;
        s.name = w[0].get<std::string>();
        s.dtype = DType(w[1].get<int>());
        s.shape = w[2].get<std::vector<int64_t>>();
        s.globalShape = w[3].get<std::vector<int64_t>>();
        s.zero = w[4].get<bool>();
        all.push_back(std::move(s));
        owner.push_back(k);
      }
    }
  return all;
}

std::vector<std::pair<StateInfo, std::vector<uint8_t>>>
TrainingPipeline::gatherWeights() {
  Communicator &comm = impl->comm;
  std::vector<int64_t> owner;
  std::vector<StateInfo> all =
      allStagesState(comm, impl->info, impl->group, owner);
  std::vector<std::pair<StateInfo, std::vector<uint8_t>>> weights;
  for (size_t i = 0; i < all.size(); ++i) {
    const StateInfo *held = nullptr;
    for (const auto &stage : impl->group.getStages())
      if (stage->getStage() == owner[i])
        for (const StateInfo &s : stage->state())
          if (s.name == all[i].name)
            held = &s;
    std::vector<uint8_t> whole = gatherWhole(comm, all[i], held);
    weights.emplace_back(std::move(all[i]), std::move(whole));
  }
  return weights;
}

/// Saves every stage's weights into `dir` (rank 0 writes one model and
/// optimizer state, as a one-stage program does).
static void savePipelineState(Communicator &comm, const PipelineInfo &info,
                              const GroupRunner &group,
                              std::optional<onnx::ModelProto> model,
                              const std::string &modelDir,
                              const std::string &dir, int64_t stepsDone) {
  std::vector<int64_t> owner;
  std::vector<StateInfo> all = allStagesState(comm, info, group, owner);
  std::vector<const StateInfo *> held;
  for (size_t i = 0; i < all.size(); ++i) {
    const StateInfo *found = nullptr;
    for (const auto &stage : group.getStages())
      if (stage->getStage() == owner[i])
        for (const StateInfo &s : stage->state())
          if (s.name == all[i].name)
            found = &s;
    held.push_back(found);
  }
  saveState(comm, all, held, std::move(model), modelDir, dir, stepsDone);
}

/// Refuses what a training pipeline cannot run.
static void checkPipelineTraining(Communicator &comm,
                                  const TrainPipelineOptions &opts) {
  const TrainingOptions &t = opts.training;
  if (t.steps < 1)
    comm.abortAll("the artifact is a training pipeline (functions with "
                  "dist.phase); give --steps N");
  if (t.inputsPerRank)
    comm.abortAll("--inputs-per-rank is not supported for a pipeline: every "
                  "rank reads every model input whole");
  checkOutputPlaces(comm, t);
}

/// The schedule to run: the one asked for, or the artifact's default
/// (interleaved with dist.chunks > 1, else 1F1B); refuses a schedule that
/// does not fit the artifact's rank groups.
static PipelineSchedule chooseSchedule(Communicator &comm,
                                       const PipelineInfo &info,
                                       const TrainPipelineOptions &opts) {
  bool chunked = info.chunks > 1;
  PipelineSchedule schedule = opts.schedule.value_or(
      chunked ? PipelineSchedule::Interleaved : PipelineSchedule::OneFOneB);
  bool interleaved = schedule == PipelineSchedule::Interleaved;
  if (interleaved && !chunked)
    comm.abortAll("--schedule interleaved runs an artifact whose rank groups "
                  "each run several stages (dist.chunks > 1); this one runs "
                  "one stage per rank group: compile with --plan "
                  "schedule=interleaved,chunks=V");
  if (!interleaved && chunked)
    comm.abortAll("--schedule " + getPipelineScheduleName(schedule).str() +
                  " runs one stage per rank group, but the artifact has "
                  "dist.chunks = " +
                  std::to_string(info.chunks) + " (" +
                  std::to_string(info.numStages()) + " stages on " +
                  std::to_string(info.numRankGroups()) +
                  " rank groups): run it with --schedule interleaved");
  return schedule;
}

/// Adds `term` into `sum` elementwise (f32 or f64, one shape).
static void addTerm(Communicator &comm, Tensor sum, Tensor term,
                    const std::string &what) {
  if (sum.dtype != term.dtype || sum.shape != term.shape ||
      (sum.dtype != DType::F32 && sum.dtype != DType::F64))
    comm.abortAll(what + ": the stages' terms are " +
                  shapeText(sum.dtype, sum.shape) + " and " +
                  shapeText(term.dtype, term.shape) +
                  "; the runtime adds f32 or f64 terms of one type");
  int64_t n = sum.numElements();
  if (sum.dtype == DType::F64) {
    auto *s = static_cast<double *>(sum.data);
    auto *t = static_cast<const double *>(term.data);
    for (int64_t i = 0; i < n; ++i)
      s[i] += t[i];
    return;
  }
  auto *s = static_cast<float *>(sum.data);
  auto *t = static_cast<const float *>(term.data);
  for (int64_t i = 0; i < n; ++i)
    s[i] += t[i];
}

/// Every stage's update, side by side: each runs up to its next sum over
/// the pipeline's stages (the global gradient norm); the group adds its
/// stages' terms into the first stage's, whose all-reduce sums over the
/// rank groups, and every stage of the group takes the total. Each stage
/// makes the same sums in the same order (dist-pipeline-split puts every
/// sum in every stage).
void GroupRunner::runUpdates() {
  for (auto &s : stages)
    s->startUpdate();
  for (int64_t sumIndex = 0;; ++sumIndex) {
    size_t paused = 0;
    for (auto &s : stages)
      paused += s->update().runToStagesSum(s->trace, &s->origin);
    if (paused == 0)
      break;
    std::string what = "sum " + std::to_string(sumIndex) +
                       " over the stages of rank group " +
                       std::to_string(comm.stage());
    if (paused != stages.size())
      comm.abortAll(what + ": " + std::to_string(paused) + " of its " +
                    std::to_string(stages.size()) +
                    " stages reach it; every stage must take part");
    Executor &first = stages.front()->update();
    for (size_t i = 1; i < stages.size(); ++i)
      addTerm(comm, first.stagesSumInput(), stages[i]->update().stagesSumInput(),
              what);
    Tensor total = first.stagesSumOutput();
    first.runStep(stages.front()->trace, &stages.front()->origin);
    for (size_t i = 1; i < stages.size(); ++i) {
      Executor &ex = stages[i]->update();
      std::memcpy(ex.stagesSumOutput().data, total.data,
                  total.numElements() * byteWidth(total.dtype));
      ex.skipStep();
    }
  }
  for (auto &s : stages)
    s->finishUpdate();
}

/// With dist.chunks > 1: the job has K x G ranks.
static void checkChunkedRun(Communicator &comm, mlir::ModuleOp module,
                            const PipelineInfo &info) {
  if (info.chunks == 1)
    return;
  int64_t groups = info.numRankGroups();
  int64_t ranks = getProgramDeviceCount(module);
  if (comm.size() != ranks)
    comm.abortAll(
        "the program was compiled for " + std::to_string(groups) +
        " rank groups of " + std::to_string(ranks / groups) + " devices (" +
        std::to_string(info.numStages()) + " pipeline stages, dist.chunks = " +
        std::to_string(info.chunks) + " per group): " + std::to_string(ranks) +
        " ranks, but the job has " + std::to_string(comm.size()) +
        " ranks; launch it with mpirun -np " + std::to_string(ranks));
}

/// Reads and agrees on the model inputs of every step.
static PipelineInputs readTrainingInputs(Communicator &comm,
                                         const PipelineInfo &info,
                                         const TrainingOptions &t) {
  PipelineInputs inputs =
      readPipelineInputs(comm, info, t.inputs, t.maxMemory, t.data);
  std::vector<const HostTensor *> read;
  std::vector<std::string> names;
  for (size_t i = 0; i < inputs.tensors.size(); ++i) {
    read.push_back(&inputs.tensors[i]);
    names.push_back(info.inputs[i].name);
  }
  agreeOnInputs(comm, names, read);
  return inputs;
}

void distopt::rt::runTrainingPipeline(Communicator &comm, mlir::ModuleOp module,
                                      const PipelineInfo &info,
                                      const TrainPipelineOptions &opts,
                                      std::vector<TraceEvent> *trace) {
  checkPipelineTraining(comm, opts);
  PipelineSchedule schedule = chooseSchedule(comm, info, opts);
  const TrainingOptions &t = opts.training;
  checkChunkedRun(comm, module, info);
  PipelineInputs inputs = readTrainingInputs(comm, info, t);
  if (info.chunks > 1 && inputs.microBatches % info.numRankGroups() != 0)
    comm.abortAll("the inputs hold " + std::to_string(inputs.microBatches) +
                  " micro-batches, which the interleaved schedule cannot run "
                  "on " +
                  std::to_string(info.numRankGroups()) +
                  " rank groups: give a multiple of " +
                  std::to_string(info.numRankGroups()) + " micro-batches");
  std::optional<onnx::ModelProto> model;
  std::string modelDir;
  if (!t.saveDir.empty() && comm.rank() == 0)
    model = readSourceModel(comm, module, modelDir);
  GroupRunner group(comm, info, inputs, schedule);
  group.build(module, trace);
  int64_t first = 0;
  if (!t.resumeDir.empty()) {
    std::vector<int64_t> owner;
    size_t total = allStagesState(comm, info, group, owner).size();
    for (const auto &stage : group.getStages())
      first = resumeState(comm, stage->state(), total, t.resumeDir);
  }
  comm.barrier("before training");
  group.setOrigin(Clock::now());
  std::vector<std::pair<int64_t, double>> losses;
  for (int64_t k = first; k < first + t.steps; ++k) {
    auto start = Clock::now();
    double loss = group.runStep(k);
    loss = lossToRankZero(comm, info, loss, k);
    comm.completeSends("the loss");
    comm.barrier("after step " + std::to_string(k + 1));
    double ms =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    losses.push_back({k + 1, loss});
    if (comm.rank() == 0) {
      std::printf("step %lld loss %.9g time %.3f ms\n",
                  static_cast<long long>(k + 1), loss, ms);
      std::fflush(stdout);
    }
  }
  group.printMemory(t.residentBefore);
  if (!t.saveDir.empty())
    savePipelineState(comm, info, group, std::move(model), modelDir, t.saveDir,
                      first + t.steps);
  if (!t.lossLog.empty())
    writeLossLog(comm, t.lossLog, losses);
}
