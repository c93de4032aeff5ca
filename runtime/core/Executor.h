//===- Executor.h - run a compiled dist program on CPU ranks ----*- C++ -*-===//
//
// Turns the program's function, once, into a flat list of kernel calls and
// communication steps over preallocated buffers (reused by liveness), then
// runs it as often as asked. No MLIR pass runs here: the module is only read.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CORE_EXECUTOR_H
#define DISTOPT_RUNTIME_CORE_EXECUTOR_H

#include "runtime/core/TensorIO.h"
#include "runtime/cpu/Kernels.h"

#include "mlir/IR/BuiltinOps.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace distopt::rt {

class Communicator;

/// A graph input or output as the program declares it.
struct IOInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  /// The id of a pipeline stage's boundary value (`dist.boundary`), which
  /// another stage produces or consumes; -1 for a model input or output
  /// (`dist.name`).
  int64_t boundary = -1;
  /// The id of a training pipeline's accumulated value
  /// (`dist.accumulate`), -1 for others.
  int64_t accumulate = -1;
};

/// A weight that the program keeps from one run to the next: one that a
/// `dist.assign` writes, or one with zero storage (optimizer state). Each is
/// a writable buffer of this rank's slice, initialised from the weight's
/// file (or zeros), never a whole copy of a split weight.
struct StateInfo {
  std::string name;
  DType dtype = DType::F32;
  /// This rank's slice, the whole weight, and where the slice starts in it.
  std::vector<int64_t> shape, globalShape, offsets;
  /// Zero storage: no bytes anywhere, starts as zeros.
  bool zero = false;
  /// Some dist.assign writes it.
  bool assigned = false;
  /// The slice's bytes (row-major), read and written between runs.
  void *data = nullptr;
  size_t bytes = 0;
};

/// The weights of several executors of one rank (the forward, backward and
/// update functions of a training pipeline's stage): one storage per weight
/// name, so that what one function assigns the others read. A weight is
/// persistent (in `state`) when some function of the stage assigns it or
/// it has zero storage. Outlives the executors built with it.
struct WeightStore {
  /// The persistent weights, in the order the functions first read them.
  std::vector<StateInfo> state;
  /// The weights no function assigns (read-only, shared all the same).
  std::vector<StateInfo> readOnly;
  /// The names of the weights that some function sharing the store
  /// assigns.
  std::vector<std::string> assigned;
  std::vector<std::vector<uint8_t>> owned;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> mappings;
  /// Bytes of the weights held (each once).
  size_t weightBytes = 0;
  ~WeightStore();
};

/// One timed step of a run, for traces.
struct TraceEvent {
  std::string name;
  std::string category; // "kernel" or "comm"
  double startUs, durationUs;
};

class Executor {
public:
  /// Selects the stage of a pipeline that this rank runs (create's
  /// default).
  static constexpr int64_t kThisRanksStage = -1;

  /// Builds the executable form of `module`'s function: plans buffers, maps
  /// weights, lays out constants. The function is `@main` or the module's
  /// only one; in a pipeline (functions with `dist.stage`), the function of
  /// `stage`, by default the stage of this rank. `comm` supplies this
  /// rank's place in the device grid (and is told the number of stages).
  /// In a training pipeline, `phase` ("forward", "backward", "update")
  /// selects the stage's function, and `store` (when given) holds the
  /// weights that the executors of the stage share by name (weightBytes()
  /// is then 0: the store counts them).
  /// Returns null with a message in `error` when the program holds
  /// something the runtime cannot run.
  static std::unique_ptr<Executor>
  create(mlir::ModuleOp module, Communicator &comm, std::string &error,
         int64_t stage = kThisRanksStage, llvm::StringRef phase = "",
         WeightStore *store = nullptr);
  ~Executor();

  /// The pipeline stage this program is (-1 outside a pipeline) and the
  /// pipeline's number of stages (0 outside a pipeline).
  int64_t stage() const { return stage_; }
  int64_t numStages() const { return numStages_; }

  /// The function's arguments and results, in order: model values by their
  /// `dist.name`, a pipeline's boundary values by their id.
  const std::vector<IOInfo> &inputs() const { return inputs_; }
  const std::vector<IOInfo> &outputs() const { return outputs_; }
  /// Bytes of the activation arena; of all the values placed in it (more,
  /// when liveness lets values share space); and of the weights.
  size_t arenaBytes() const { return arena_.size(); }
  size_t arenaValueBytes() const { return arenaValueBytes_; }
  size_t weightBytes() const { return weightBytes_; }
  /// Bytes of the input buffers.
  size_t inputBytes() const { return inputBytes_; }

  /// True when the function has the `dist.train` attribute: a training
  /// step whose dist.assign ops update the state after each run.
  bool isTraining() const { return training_; }
  /// The persistent weights, in the order the program first reads them
  /// (the same order on every rank); with a WeightStore, its state
  /// instead.
  const std::vector<StateInfo> &state() const {
    return store_ ? store_->state : state_;
  }
  /// The persistent weight named `name`, or null.
  const StateInfo *findState(const std::string &name) const;

  /// Runs once on `inputs` (in the order of inputs(), checked by the
  /// caller) and returns the outputs in the order of outputs(). With
  /// `trace`, every step is timed into it, from `origin` (default: the
  /// start of this run).
  void run(const std::vector<HostTensor> &inputs,
           std::vector<HostTensor> &outputs, std::vector<TraceEvent> *trace,
           const std::chrono::steady_clock::time_point *origin = nullptr);

  /// run() in parts, for the stages of one rank that sum a value over the
  /// pipeline's stages together (the interleaved schedule): start() binds
  /// `inputs`; runToStagesSum() runs the steps up to the end (false) or up
  /// to the next all-reduce over the stages (true; it has not run: its
  /// input is stagesSumInput(), its result stagesSumOutput()); the caller
  /// then runs it (runStep) or writes its result and skips it
  /// (skipStep); finish() returns the outputs once no step is left.
  void start(const std::vector<HostTensor> &inputs);
  bool
  runToStagesSum(std::vector<TraceEvent> *trace,
                 const std::chrono::steady_clock::time_point *origin = nullptr);
  Tensor stagesSumInput() const { return steps_[next_].in; }
  Tensor stagesSumOutput() const { return steps_[next_].out; }
  void runStep(std::vector<TraceEvent> *trace,
               const std::chrono::steady_clock::time_point *origin = nullptr);
  void skipStep() { ++next_; }
  void finish(std::vector<HostTensor> &outputs);

private:
  Executor() = default;
  friend class ProgramBuilder;

  struct Step {
    std::string name;
    bool comm = false;
    std::function<void()> fn;
    /// An all-reduce (sum) over the pipeline's stages, of `in` into `out`.
    bool stagesSum = false;
    Tensor in, out;
  };
  /// The next step of a run in parts.
  size_t next_ = 0;
  std::vector<IOInfo> inputs_, outputs_;
  std::vector<StateInfo> state_;
  WeightStore *store_ = nullptr;
  bool training_ = false;
  int64_t stage_ = -1, numStages_ = 0;
  std::vector<Tensor> inputTensors_, outputTensors_;
  std::vector<Step> steps_;
  std::vector<uint8_t> arena_;
  std::vector<std::vector<uint8_t>> owned_; // constants, inputs, weight copies
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> mappings_;
  size_t weightBytes_ = 0;
  size_t arenaValueBytes_ = 0;
  size_t inputBytes_ = 0;
};

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CORE_EXECUTOR_H
