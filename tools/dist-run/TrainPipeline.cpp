//===- TrainPipeline.cpp - dist-run's training pipelines ------------------===//
//
// Each rank runs its stage: the forward and backward functions over the
// micro-batches in the order of the schedule, then the update function.
//
// Boundary values: a value read by functions of this stage is kept per
// micro-batch (the stash) from the time it is produced or received until
// the last of them has run; a value read by another stage is sent to the
// rank at this grid position of that stage (tag: its index in
// PipelineInfo::boundaries). Every function runs its micro-batches in
// increasing order, so the j-th message of a tag between two ranks is
// micro-batch j. The step's mean loss goes from grid position 0 of the
// loss's stage to rank 0 with the tag after the boundaries'.
//
// Accumulated values are zeroed at the start of each step, summed over the
// micro-batches in order (in their type) and divided by m before the
// update.
//
//===----------------------------------------------------------------------===//

#include "TrainPipeline.h"
#include "Pipeline.h"

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

namespace {

/// One run of a stage function in a step: a forward or backward of
/// micro-batch `j`.
struct Task {
  PipelinePhase phase;
  int64_t j;
};

/// The forwards and backwards that stage `stage` of `stages` runs in a step
/// of `m` micro-batches.
std::vector<Task> makeSchedule(PipelineSchedule schedule, int64_t stages,
                               int64_t stage, int64_t m) {
  std::vector<Task> tasks;
  auto forward = [&](int64_t j) {
    tasks.push_back({PipelinePhase::Forward, j});
  };
  auto backward = [&](int64_t j) {
    tasks.push_back({PipelinePhase::Backward, j});
  };
  int64_t warmup =
      schedule == PipelineSchedule::GPipe ? m : std::min(stages - 1 - stage, m);
  for (int64_t j = 0; j < warmup; ++j)
    forward(j);
  // 1F1B's steady state: one forward, one backward.
  int64_t done = 0;
  for (int64_t j = warmup; j < m; ++j) {
    forward(j);
    backward(done++);
  }
  while (done < m)
    backward(done++);
  return tasks;
}

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

/// This rank's stage of a training pipeline: its three programs over one
/// weight store, and what a step keeps between them.
class StageRunner {
public:
  StageRunner(Communicator &comm, const PipelineInfo &info,
              const PipelineInputs &inputs)
      : comm(comm), info(info), inputs(inputs), stage(comm.stage()) {}

  /// Builds the stage's programs; stops every rank on an error.
  void build(mlir::ModuleOp module);
  /// Runs step `step` (0-based) as `schedule` says; returns the mean of the
  /// micro-batches' losses on the ranks of the loss's stage (0 elsewhere).
  double runStep(int64_t step, PipelineSchedule schedule);
  void printMemory(uint64_t residentBefore) const;
  /// This rank's persistent weights (its stage's).
  const std::vector<StateInfo> &state() const { return store.state; }

  std::vector<TraceEvent> *trace = nullptr;
  Clock::time_point origin;

private:
  void bindArguments(Task task, int64_t step, std::vector<HostTensor> &args,
                     std::vector<int64_t> &received);
  void takeResults(Task task, std::vector<HostTensor> &results);
  void runTask(Task task, int64_t step);
  void runUpdate();
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
  /// The last function of this stage that reads each boundary it reads.
  std::map<int64_t, PipelinePhase> lastReader;
  /// Boundary values kept for later functions of this stage, by (id, j).
  std::map<std::pair<int64_t, int64_t>, HostTensor> stash;
  /// The step's sums of the accumulated values, by id.
  std::map<int64_t, HostTensor> sums;
  double lossSum = 0;
};

} // namespace

void StageRunner::build(mlir::ModuleOp module) {
  std::string error;
  for (PipelinePhase p : {PipelinePhase::Forward, PipelinePhase::Backward,
                          PipelinePhase::Update}) {
    programs[int(p)] =
        Executor::create(module, comm, error, Executor::kThisRanksStage,
                         getPipelinePhaseName(p), &store);
    if (!programs[int(p)])
      comm.abortAll(error);
  }
  stage = comm.stage();
  for (const IOInfo &out : program(PipelinePhase::Forward).outputs())
    if (out.boundary < 0 && out.accumulate < 0 && out.dtype != DType::F32 &&
        out.dtype != DType::F64)
      comm.abortAll("the loss of stage " + std::to_string(stage) + " is " +
                    shapeText(out.dtype, out.shape) +
                    "; the runtime reads an f32 or f64 loss");
  for (size_t i = 0; i < info.inputs.size(); ++i)
    inputIndex[info.inputs[i].name] = i;
  for (const PipelineBoundary &b : info.boundaries)
    for (const PipelineReader &r : b.readers)
      if (r.stage == stage &&
          (!lastReader.count(b.id) || int(r.phase) > int(lastReader[b.id])))
        lastReader[b.id] = r.phase;
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

void StageRunner::bindArguments(Task task, int64_t step,
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
    auto start = Clock::now();
    receiveBoundary(comm, info, in, stage, task.j, args[i]);
    received.push_back(int64_t(i));
    if (trace)
      trace->push_back(
          {"receive " + in.name + " of micro-batch " + std::to_string(task.j),
           "comm", microsecondsBetween(origin, start),
           microsecondsBetween(start, Clock::now())});
  }
}

void StageRunner::takeResults(Task task, std::vector<HostTensor> &results) {
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

void StageRunner::runTask(Task task, int64_t step) {
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

void StageRunner::runUpdate() {
  Executor &ex = program(PipelinePhase::Update);
  std::vector<HostTensor> args, results;
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
  auto start = Clock::now();
  ex.run(args, results, trace, &origin);
  if (trace)
    trace->push_back({slot(PipelinePhase::Update), "pipeline",
                      microsecondsBetween(origin, start),
                      microsecondsBetween(start, Clock::now())});
}

double StageRunner::runStep(int64_t step, PipelineSchedule schedule) {
  lossSum = 0;
  for (auto &[id, sum] : sums)
    sum.bytes.clear();
  for (Task task :
       makeSchedule(schedule, info.numStages(), stage, inputs.microBatches))
    runTask(task, step);
  runUpdate();
  comm.completeSends("stage " + std::to_string(stage));
  return lossSum / double(inputs.microBatches);
}

void StageRunner::printMemory(uint64_t residentBefore) const {
  size_t arena = 0, values = 0, in = 0;
  for (const auto &ex : programs) {
    arena += ex->arenaBytes();
    values += ex->arenaValueBytes();
    in += ex->inputBytes();
  }
  printMemoryTotals(comm, arena, values, store.weightBytes, in, residentBefore);
}

/// The step's loss on rank 0: from grid position 0 of the loss's stage.
static double lossToRankZero(Communicator &comm, const PipelineInfo &info,
                             double loss, int64_t step) {
  int64_t devices = comm.size() / info.numStages();
  int source = int(info.lossStage * devices);
  if (source == 0 || (comm.rank() != 0 && comm.rank() != source))
    return loss;
  int tag = int(info.boundaries.size());
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

/// Every stage's persistent weights, in stage order and each once (the
/// ranks agree on them: each sends its own), with the slice shape of the
/// stage that holds it; `owner` gets each one's stage.
static std::vector<StateInfo> allStagesState(Communicator &comm,
                                             const PipelineInfo &info,
                                             const std::vector<StateInfo> &mine,
                                             std::vector<int64_t> &owner) {
  nlohmann::json record = nlohmann::json::array();
  for (const StateInfo &s : mine)
    record.push_back({s.name, int(s.dtype), s.shape, s.globalShape, s.zero});
  std::vector<std::string> records =
      comm.allGatherRecords(record.dump(), "the stages' weights");
  int64_t devices = comm.size() / info.numStages();
  std::vector<StateInfo> all;
  std::set<std::string> seen;
  for (int64_t k = 0; k < info.numStages(); ++k)
    for (const nlohmann::json &w :
         nlohmann::json::parse(records[k * devices])) {
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
  return all;
}

/// Saves every stage's weights into `dir` (rank 0 writes one model and
/// optimizer state, as a one-stage program does).
static void savePipelineState(Communicator &comm, const PipelineInfo &info,
                              const std::vector<StateInfo> &mine,
                              std::optional<onnx::ModelProto> model,
                              const std::string &modelDir,
                              const std::string &dir, int64_t stepsDone) {
  std::vector<int64_t> owner;
  std::vector<StateInfo> all = allStagesState(comm, info, mine, owner);
  std::vector<const StateInfo *> held;
  for (size_t i = 0; i < all.size(); ++i) {
    const StateInfo *found = nullptr;
    for (const StateInfo &s : mine)
      if (owner[i] == comm.stage() && s.name == all[i].name)
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

void distopt::rt::runTrainingPipeline(Communicator &comm, mlir::ModuleOp module,
                                      const PipelineInfo &info,
                                      const TrainPipelineOptions &opts,
                                      std::vector<TraceEvent> *trace) {
  checkPipelineTraining(comm, opts);
  const TrainingOptions &t = opts.training;
  PipelineInputs inputs =
      readPipelineInputs(comm, info, t.inputs, t.maxMemory, t.data);
  std::vector<const HostTensor *> read;
  std::vector<std::string> names;
  for (size_t i = 0; i < inputs.tensors.size(); ++i) {
    read.push_back(&inputs.tensors[i]);
    names.push_back(info.inputs[i].name);
  }
  agreeOnInputs(comm, names, read);
  std::optional<onnx::ModelProto> model;
  std::string modelDir;
  if (!t.saveDir.empty() && comm.rank() == 0)
    model = readSourceModel(comm, module, modelDir);
  StageRunner runner(comm, info, inputs);
  runner.build(module);
  runner.trace = trace;
  int64_t first = 0;
  if (!t.resumeDir.empty()) {
    std::vector<int64_t> owner;
    size_t total = allStagesState(comm, info, runner.state(), owner).size();
    first = resumeState(comm, runner.state(), total, t.resumeDir);
  }
  comm.barrier("before training");
  runner.origin = Clock::now();
  std::vector<std::pair<int64_t, double>> losses;
  for (int64_t k = first; k < first + t.steps; ++k) {
    auto start = Clock::now();
    double loss = runner.runStep(k, opts.schedule);
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
  runner.printMemory(t.residentBefore);
  if (!t.saveDir.empty())
    savePipelineState(comm, info, runner.state(), std::move(model), modelDir,
                      t.saveDir, first + t.steps);
  if (!t.lossLog.empty())
    writeLossLog(comm, t.lossLog, losses);
}
