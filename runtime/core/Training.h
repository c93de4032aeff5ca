//===- Training.h - the training loop ---------------------------*- C++ -*-===//
//
// Runs a program whose function has `dist.train` as a training loop: binds
// the inputs (the same tensor each step, or one batch of a data file per
// step), prints and logs the loss of each step, and saves and resumes the
// persistent weights (the trained model as ONNX plus the optimizer state).
// Also the pieces dist-run shares with inference runs: the ranks' agreement
// on their inputs, and the memory report.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CORE_TRAINING_H
#define DISTOPT_RUNTIME_CORE_TRAINING_H

#include "runtime/cpu/Kernels.h"

#include "mlir/IR/BuiltinOps.h"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distopt::rt {

class Communicator;
class Executor;
struct HostTensor;
struct StateInfo;

/// The command line of a training run.
struct TrainingOptions {
  int steps = 0;
  /// `NAME=FILE`: the same tensor each step, or (data) batch k % K of the
  /// file's first dimension on step k.
  std::vector<std::string> inputs, data;
  std::string lossLog, saveDir, resumeDir;
  uint64_t maxMemory = 0;
  /// Each rank reads its own pieces of the inputs (`--inputs-per-rank`, a
  /// program partitioned by hand); otherwise the ranks check that they read
  /// the same bytes.
  bool inputsPerRank = false;
  /// Resident bytes before the program was built (printMemory).
  uint64_t residentBefore = 0;
};

/// `f32 2x3`, or `f32 scalar`: a tensor type in messages.
std::string shapeText(DType dtype, const std::vector<int64_t> &shape);

/// Gathers persistent weight `s` whole on rank 0 (empty elsewhere), from
/// the ranks that hold a slice of it (`mine`, null on the others).
/// Collective over the job.
std::vector<uint8_t> gatherWhole(Communicator &comm, const StateInfo &s,
                                 const StateInfo *mine);

/// Every rank reads every input whole, and the program treats them as the
/// same tensor on every rank (dist-partition keeps arguments whole): ranks
/// given different bytes would compute a mix of them. One agreement over
/// the job on a digest (XXH3, 128 bits) of each of `inputs` (in the order
/// of ex.inputs()); on a mismatch rank 0 names each input that differs and
/// the ranks that read other bytes than it, and every rank exits 1.
void agreeOnInputs(Communicator &comm, const Executor &ex,
                   const std::vector<const HostTensor *> &inputs);
/// As above, for inputs named `names` (a pipeline's model inputs, which
/// every rank reads whatever its stage).
void agreeOnInputs(Communicator &comm, const std::vector<std::string> &names,
                   const std::vector<const HostTensor *> &inputs);

/// Prints, on rank 0, the memory the runtime allocated for `ex` (`memory:
/// arena A bytes for V bytes of values; weights W bytes; inputs I bytes`)
/// and the process's peak resident memory against `residentBefore`.
void printMemory(Communicator &comm, const Executor &ex,
                 uint64_t residentBefore);

/// As printMemory, from totals (a training pipeline's stage: the sum over
/// its functions, its weights counted once).
void printMemoryTotals(Communicator &comm, size_t arena, size_t values,
                       size_t weights, size_t inputs, uint64_t residentBefore);

/// The value of a loss (an f32 or f64 scalar).
double lossValue(const HostTensor &t);

/// Checks, on rank 0 before the first step, that the loss log and the
/// saved state can be written where `opts` asks for them.
void checkOutputPlaces(Communicator &comm, const TrainingOptions &opts);

/// Writes `losses` (step, loss) as CSV to `path`, on rank 0.
void writeLossLog(Communicator &comm, const std::string &path,
                  const std::vector<std::pair<int64_t, double>> &losses);

/// Parses the `NAME=FILE` values of `flag` (`--input`, `--data`): NAME is
/// what comes before the first `=`. A malformed value, or a name already in
/// `seen` (name -> the flag that gave it), stops every rank with a message.
std::map<std::string, std::string>
parseSpecs(Communicator &comm, const std::vector<std::string> &specs,
           const char *flag, std::map<std::string, std::string> &seen);

/// Reads DIR/state.json (`dir`) and loads this rank's slice of each of its
/// persistent weights (`mine`) from the saved files; the state must hold
/// `total` weights (the whole program's). Returns the number of steps done.
int64_t resumeState(Communicator &comm, const std::vector<StateInfo> &mine,
                    size_t total, const std::string &dir);

/// The source ONNX model the artifact names (rank 0 reads it before
/// training, so that a missing model stops the run before anything runs).
std::optional<onnx::ModelProto> readSourceModel(Communicator &comm,
                                                mlir::ModuleOp module,
                                                std::string &modelDir);

/// Writes the trained model, the optimizer state and the index into `dir`:
/// every persistent weight of `all` (whole shapes), gathered to rank 0 from
/// the ranks that hold a slice of it (`mine[i]`, null on the others). Rank
/// 0 writes; every rank takes part in the gathers.
void saveState(Communicator &comm, const std::vector<StateInfo> &all,
               const std::vector<const StateInfo *> &mine,
               std::optional<onnx::ModelProto> model,
               const std::string &modelDir, const std::string &dir,
               int64_t stepsDone);

/// Runs `opts.steps` training steps of `ex` (built from `module`); every
/// error stops every rank with a message, before anything is written.
void runTraining(Communicator &comm, Executor &ex, mlir::ModuleOp module,
                 const TrainingOptions &opts);

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CORE_TRAINING_H
