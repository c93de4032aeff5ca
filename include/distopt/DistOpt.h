//===- DistOpt.h - the dist-opt library's C++ API ----------------*- C++ -*-===//
//
// What a framework calls: compile a model (an ONNX file) for a cluster into
// the program each device runs, or only plan it; then load that program on
// this process's rank and run it. The same flow as `dist-opt -o` and
// `dist-run`, without files in between.
//
// The header holds only standard C++: no MLIR, LLVM, ONNX or MPI type
// crosses it, so that a project links `DistOpt::DistOpt` (find_package) with
// nothing else. Errors are values (Status), never exceptions or exits.
//
//   distopt::CompileOptions options;
//   options.shapes = {{"input", {8, 128}}};
//   options.devices = 2;
//   distopt::CompiledModel model;
//   if (distopt::Status s = distopt::compile("model.onnx", options, model);
//       !s)
//     return fail(s.getMessage());
//   std::unique_ptr<distopt::Program> program;
//   distopt::Program::load(model, program);  // MPI starts here if needed
//   std::map<std::string, distopt::TensorData> outputs;
//   program->run({{"input", input}}, outputs);
//
// Run under `mpirun -np 2`, every process calls the same code; each runs its
// own rank, and every rank gets the whole outputs.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DISTOPT_H
#define DISTOPT_DISTOPT_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace distopt {

/// The version of the library, e.g. "0.1.0".
const char *getVersion();

/// The outcome of a call: success, or an error with its message and, when
/// the error is at a place in a file (the model, a cluster file), that
/// file and the 1-based line and column (0 when unknown).
class Status {
public:
  Status() = default;
  static Status error(std::string message, std::string file = {},
                      unsigned line = 0, unsigned column = 0);

  bool isOk() const { return ok; }
  explicit operator bool() const { return ok; }
  const std::string &getMessage() const { return message; }
  const std::string &getFile() const { return file; }
  unsigned getLine() const { return line; }
  unsigned getColumn() const { return column; }

private:
  bool ok = true;
  std::string message, file;
  unsigned line = 0, column = 0;
};

/// The element types of tensors that cross the API (the runtime's).
enum class ElementType { F32, F64, F16, BF16, Bool, I8, I16, I32, I64 };

/// The name of `type` as the runtime writes it ("f32", "i64", "i1", ...).
const char *getElementTypeName(ElementType type);
/// Bytes per element (1 for Bool).
size_t getElementSize(ElementType type);

/// A tensor: row-major bytes of `type` with `shape`.
struct TensorData {
  ElementType type = ElementType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t getNumElements() const;
};

/// A model input or output as the program declares it.
struct TensorInfo {
  std::string name;
  ElementType type = ElementType::F32;
  std::vector<int64_t> shape;
};

/// What `dist-opt`'s flags say, with the same defaults (docs/planner.md,
/// docs/training.md).
struct CompileOptions {
  /// Fixes the dimensions of graph inputs, by input name (`--shape`).
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  /// Gives graph inputs their values at compile time, by input name: the
  /// path of a .npy or ONNX .pb tensor file (`--value`). Such an input
  /// becomes a constant of the model (a shape or axes that ops need then).
  std::vector<std::pair<std::string, std::string>> values;
  /// A cluster preset (`cpu`, `dgx-h100x4`, ...) or a cluster file's path;
  /// empty: the `cpu` preset (`--cluster`).
  std::string cluster;
  /// Number of devices; 0 takes every device of the cluster file
  /// (`--devices`).
  unsigned devices = 1;
  /// Fixed parts of the plan, e.g. "dp=2,tp=2" (`--plan`).
  std::string plan;
  /// "infer" or "train" (`--mode`).
  std::string mode = "infer";
  /// The global batch of a training step (`--batch`); 0: none.
  int64_t batch = 0;
  /// Training precision for planning only: "bf16", "fp16" or "fp32"
  /// (`--precision`); empty: the model's.
  std::string precision;
  /// Raise decomposed patterns (layer norm, GELU, linear layers) at import.
  bool raisePatterns = true;

  /// The generated training step (mode "train" with a loss), as
  /// `--loss`, `--labels`, `--optimizer`, ... say.
  std::string loss, labels, optimizer = "adamw";
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  /// Negative: the optimizer's default.
  double weightDecay = -1;
  double momentum = 0, clipNorm = 0;
  /// Comma-separated globs of weight names (`--trainable`, `--freeze`).
  std::string trainable, freeze;
};

/// A model compiled into the program its devices run (an artifact, the
/// file `dist-opt -o` writes) with the plan's report.
class CompiledModel {
public:
  /// The artifact's bytes.
  const std::string &getArtifact() const { return artifact; }
  /// The plan report as JSON (`--report-json`'s content) and as text
  /// (`--report`'s); empty when the model was compiled without planning
  /// (one device, no cluster, no plan).
  const std::string &getReportJson() const { return reportJson; }
  const std::string &getReportText() const { return reportText; }
  /// The number of processes (ranks) the program runs on.
  unsigned getDeviceCount() const { return deviceCount; }
  /// The folder the program's weight paths start from (the model's).
  const std::string &getWeightsDir() const { return weightsDir; }
  /// Writes the artifact to `path` (through a temporary file: nothing
  /// partial is left on failure). The weights stay in the model's folder,
  /// or, with `weightsDir`, in that folder: the caller copies the model's
  /// files there (the artifact names them relative to it).
  Status save(const std::string &path,
              const std::string &weightsDir = {}) const;

private:
  friend Status compile(const std::string &, const CompileOptions &,
                        CompiledModel &);
  std::string artifact, reportJson, reportText, weightsDir;
  unsigned deviceCount = 0;
};

/// Imports the ONNX model at `modelPath`, plans it for the cluster (when
/// `options` ask for a plan: more than one device, a cluster, a plan, a
/// mode or a batch), partitions it and fills `result`. Nothing is written.
Status compile(const std::string &modelPath, const CompileOptions &options,
               CompiledModel &result);

/// The plan only, as `dist-opt --report-json` prints it (no artifact, no
/// runtime, no MPI): the report as JSON and as text. A report may show
/// what a compile does not run yet (pipelines, forward-graph training,
/// 16-bit precision).
Status planModel(const std::string &modelPath, const CompileOptions &options,
                 std::string &reportJson, std::string *reportText = nullptr);

/// How a program runs on this process.
struct RunOptions {
  /// Threads of this rank's kernels; 0: this node's cores shared by the
  /// ranks on it.
  int threads = 0;
  /// Seconds a collective may wait before the job is stopped with a
  /// message naming it; 0 waits forever.
  double collectiveTimeout = 0;
};

/// A compiled program loaded on this process's rank. MPI is started on the
/// first load (once per process, ended at exit); under `mpirun -np N` every
/// process loads the same program and runs it with the same inputs.
///
/// An inference pipeline (a plan with pp > 1) takes any whole number of
/// micro-batches along dimension 0 of every input; getInputs() and
/// getOutputs() give one micro-batch's shapes. A training step (compiled
/// with mode "train" and a loss) runs one step per run(): it updates the
/// weights it keeps on its ranks and returns the loss ("loss"). A training
/// pipeline runs its artifact's schedule (1F1B, or interleaved 1F1B) over
/// the micro-batches its inputs hold, the same number every step.
class Program {
public:
  /// Loads the artifact at `artifactPath`, or `model` as compiled.
  static Status load(const std::string &artifactPath,
                     std::unique_ptr<Program> &program,
                     const RunOptions &options = {});
  static Status load(const CompiledModel &model,
                     std::unique_ptr<Program> &program,
                     const RunOptions &options = {});
  ~Program();

  /// This process's rank and the job's number of ranks.
  int getRank() const;
  int getNumRanks() const;
  /// The model's inputs and outputs (a training step's: the model's
  /// inputs and the loss's labels; the loss).
  const std::vector<TensorInfo> &getInputs() const;
  const std::vector<TensorInfo> &getOutputs() const;

  /// Runs the program once on `inputs` (each model input by name, whole:
  /// every rank passes the same tensors) and fills `outputs` with every
  /// model output, whole, on every rank. A bad input (a missing or unknown
  /// name, another type or shape) is an error on every rank before
  /// anything runs.
  Status run(const std::map<std::string, TensorData> &inputs,
             std::map<std::string, TensorData> &outputs);

  /// The weights the program keeps from one run to the next (a training
  /// step's trained weights and optimizer state, by name), each whole on
  /// every rank, however the plan split it. Collective: every rank calls it.
  Status getWeights(std::map<std::string, TensorData> &weights);

  struct Impl;

private:
  explicit Program(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace distopt

#endif // DISTOPT_DISTOPT_H
