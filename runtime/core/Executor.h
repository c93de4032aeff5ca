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
};

/// One timed step of a run, for traces.
struct TraceEvent {
  std::string name;
  std::string category; // "kernel" or "comm"
  double startUs, durationUs;
};

class Executor {
public:
  /// Builds the executable form of `module`'s function: plans buffers, maps
  /// weights, lays out constants. `comm` supplies this rank's place in the
  /// device grid. Returns null with a message in `error` when the program
  /// holds something the runtime cannot run.
  static std::unique_ptr<Executor> create(mlir::ModuleOp module,
                                          Communicator &comm,
                                          std::string &error);
  ~Executor();

  const std::vector<IOInfo> &inputs() const { return inputs_; }
  const std::vector<IOInfo> &outputs() const { return outputs_; }
  /// Bytes of the activation arena; of all the values placed in it (more,
  /// when liveness lets values share space); and of the weights.
  size_t arenaBytes() const { return arena_.size(); }
  size_t arenaValueBytes() const { return arenaValueBytes_; }
  size_t weightBytes() const { return weightBytes_; }

  /// Runs once on `inputs` (in the order of inputs(), checked by the
  /// caller) and returns the outputs in the order of outputs(). With
  /// `trace`, every step is timed into it.
  void run(const std::vector<HostTensor> &inputs,
           std::vector<HostTensor> &outputs, std::vector<TraceEvent> *trace);

private:
  Executor() = default;
  friend class ProgramBuilder;

  struct Step {
    std::string name;
    bool comm = false;
    std::function<void()> fn;
  };
  std::vector<IOInfo> inputs_, outputs_;
  std::vector<Tensor> inputTensors_, outputTensors_;
  std::vector<Step> steps_;
  std::vector<uint8_t> arena_;
  std::vector<std::vector<uint8_t>> owned_; // constants, inputs, weight copies
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> mappings_;
  size_t weightBytes_ = 0;
  size_t arenaValueBytes_ = 0;
};

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CORE_EXECUTOR_H
