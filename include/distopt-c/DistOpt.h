//===-- distopt-c/DistOpt.h - the dist-opt library's C API -------*- C -*-===//
//
// What a foreign caller (C, or a language with a C FFI) uses: compile an ONNX
// model for a cluster, or only plan it; then load the program on this
// process's rank and run it. A thin layer over the C++ API of
// <distopt/DistOpt.h>, in the style of MLIR's C API: opaque handles
// (`struct { void *ptr; }`) made by `distoptXCreate` or by the call that
// produces them, and freed by `distoptXDestroy`.
//
// Errors. Every call that can fail returns a DistOptStatusCode and, when its
// `status` argument is not NULL, stores there a null handle on success, or on
// failure a new status with the message (and the file, line and column when
// the error lies in a file), which the caller destroys. A null or invalid
// argument is an error (DistOptStatusInvalidArgument), never a crash; no C++
// exception crosses this interface.
//
// Ownership. The caller owns every handle it gets and destroys it once;
// destroying a null handle does nothing. Strings, shapes and bytes that a
// getter returns belong to the handle they come from and stay valid until it
// is destroyed. Data passed in is copied or only read during the call.
//
// Under `mpirun -np N`, every process makes the same calls; each runs its own
// rank, and every rank gets the whole outputs.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_C_DISTOPT_H
#define DISTOPT_C_DISTOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DISTOPT_DEFINE_C_API_STRUCT(name, storage)                             \
  struct name {                                                                \
    storage *ptr;                                                              \
  };                                                                           \
  typedef struct name name

DISTOPT_DEFINE_C_API_STRUCT(DistOptStatus, void);
DISTOPT_DEFINE_C_API_STRUCT(DistOptCompileOptions, void);
DISTOPT_DEFINE_C_API_STRUCT(DistOptCompiledModel, void);
DISTOPT_DEFINE_C_API_STRUCT(DistOptPlanReport, void);
DISTOPT_DEFINE_C_API_STRUCT(DistOptProgram, void);
DISTOPT_DEFINE_C_API_STRUCT(DistOptTensorSet, void);

#undef DISTOPT_DEFINE_C_API_STRUCT

/// A string the library owns: `length` bytes at `data`, followed by a NUL.
typedef struct DistOptStringRef {
  const char *data;
  size_t length;
} DistOptStringRef;

/// The library's version, e.g. "0.1.0".
const char *distoptGetVersion(void);

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

typedef enum DistOptStatusCode {
  DistOptStatusOk = 0,
  /// A null handle, a null pointer where a value is needed, an unknown
  /// element type, a buffer whose size does not match, an index out of range.
  DistOptStatusInvalidArgument = 1,
  /// The library refused or failed: a model it cannot read or plan, an input
  /// the program does not take, a failed run. The message says why.
  DistOptStatusError = 2,
  DistOptStatusOutOfMemory = 3,
  /// A failure the library did not expect (a bug); the message names it.
  DistOptStatusInternalError = 4,
} DistOptStatusCode;

/// The null status of a success; its getters give Ok, "" and 0.
static inline bool distoptStatusIsNull(DistOptStatus status) {
  return !status.ptr;
}
void distoptStatusDestroy(DistOptStatus status);
DistOptStatusCode distoptStatusGetCode(DistOptStatus status);
/// What went wrong, in one or more lines without a trailing newline.
DistOptStringRef distoptStatusGetMessage(DistOptStatus status);
/// The file the error lies in, and its 1-based line and column; "" and 0
/// when the error has no place in a file.
DistOptStringRef distoptStatusGetFile(DistOptStatus status);
unsigned distoptStatusGetLine(DistOptStatus status);
unsigned distoptStatusGetColumn(DistOptStatus status);

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

/// The element types of tensors (distopt::ElementType, in its order).
typedef enum DistOptElementType {
  DistOptElementTypeF32 = 0,
  DistOptElementTypeF64,
  DistOptElementTypeF16,
  DistOptElementTypeBF16,
  DistOptElementTypeBool,
  DistOptElementTypeI8,
  DistOptElementTypeI16,
  DistOptElementTypeI32,
  DistOptElementTypeI64,
} DistOptElementType;

/// "f32", "i64", "i1", ...; NULL for a value outside the enum.
const char *distoptElementTypeGetName(DistOptElementType type);
/// Bytes per element (1 for Bool); 0 for a value outside the enum.
size_t distoptElementTypeGetSize(DistOptElementType type);

//===----------------------------------------------------------------------===//
// Compile options
//===----------------------------------------------------------------------===//

/// The options of distoptCompile and distoptPlan, with `dist-opt`'s defaults
/// (see distopt::CompileOptions for what each means). A null options handle
/// passed to distoptCompile or distoptPlan stands for the defaults.
/// Returns a null handle when out of memory.
DistOptCompileOptions distoptCompileOptionsCreate(void);
void distoptCompileOptionsDestroy(DistOptCompileOptions options);

/// Fixes the dimensions of the graph input `name` (`--shape`); a second call
/// for the same name replaces its shape.
DistOptStatusCode distoptCompileOptionsSetShape(DistOptCompileOptions options,
                                                const char *name,
                                                const int64_t *shape,
                                                size_t rank);
/// Gives the graph input `name` its value at compile time from the .npy or
/// ONNX .pb tensor file at `path` (`--value`); a second call for the same
/// name replaces it.
DistOptStatusCode distoptCompileOptionsSetValue(DistOptCompileOptions options,
                                                const char *name,
                                                const char *path);
/// The setters below take NUL-terminated strings (copied) and return
/// DistOptStatusInvalidArgument for a null handle or string.
DistOptStatusCode distoptCompileOptionsSetCluster(DistOptCompileOptions options,
                                                  const char *cluster);
DistOptStatusCode distoptCompileOptionsSetDevices(DistOptCompileOptions options,
                                                  unsigned devices);
DistOptStatusCode distoptCompileOptionsSetPlan(DistOptCompileOptions options,
                                               const char *plan);
DistOptStatusCode distoptCompileOptionsSetMode(DistOptCompileOptions options,
                                               const char *mode);
DistOptStatusCode distoptCompileOptionsSetBatch(DistOptCompileOptions options,
                                                int64_t batch);
DistOptStatusCode
distoptCompileOptionsSetPrecision(DistOptCompileOptions options,
                                  const char *precision);
DistOptStatusCode
distoptCompileOptionsSetRaisePatterns(DistOptCompileOptions options,
                                      bool raisePatterns);
DistOptStatusCode distoptCompileOptionsSetLoss(DistOptCompileOptions options,
                                               const char *loss);
DistOptStatusCode distoptCompileOptionsSetLabels(DistOptCompileOptions options,
                                                 const char *labels);
DistOptStatusCode
distoptCompileOptionsSetOptimizer(DistOptCompileOptions options,
                                  const char *optimizer);
DistOptStatusCode
distoptCompileOptionsSetLearningRate(DistOptCompileOptions options, double lr);
DistOptStatusCode distoptCompileOptionsSetBeta1(DistOptCompileOptions options,
                                                double beta1);
DistOptStatusCode distoptCompileOptionsSetBeta2(DistOptCompileOptions options,
                                                double beta2);
DistOptStatusCode distoptCompileOptionsSetEps(DistOptCompileOptions options,
                                              double eps);
/// Negative: the optimizer's default.
DistOptStatusCode
distoptCompileOptionsSetWeightDecay(DistOptCompileOptions options,
                                    double weightDecay);
DistOptStatusCode
distoptCompileOptionsSetMomentum(DistOptCompileOptions options,
                                 double momentum);
DistOptStatusCode
distoptCompileOptionsSetClipNorm(DistOptCompileOptions options,
                                 double clipNorm);
DistOptStatusCode
distoptCompileOptionsSetTrainable(DistOptCompileOptions options,
                                  const char *trainable);
DistOptStatusCode distoptCompileOptionsSetFreeze(DistOptCompileOptions options,
                                                 const char *freeze);

//===----------------------------------------------------------------------===//
// Compiling and planning
//===----------------------------------------------------------------------===//

/// Imports the ONNX model at `modelPath`, plans it when the options ask for a
/// plan, partitions it and stores the result in `*model` (a null handle on
/// failure). Nothing is written to disk.
DistOptStatusCode distoptCompile(const char *modelPath,
                                 DistOptCompileOptions options,
                                 DistOptCompiledModel *model,
                                 DistOptStatus *status);
void distoptCompiledModelDestroy(DistOptCompiledModel model);

/// The artifact's bytes (what `dist-opt -o` writes).
DistOptStringRef distoptCompiledModelGetArtifact(DistOptCompiledModel model);
/// The plan report as JSON and as text; empty when the model was compiled
/// without planning.
DistOptStringRef distoptCompiledModelGetReportJson(DistOptCompiledModel model);
DistOptStringRef distoptCompiledModelGetReportText(DistOptCompiledModel model);
/// The number of ranks the program runs on (0 for a null handle).
unsigned distoptCompiledModelGetDeviceCount(DistOptCompiledModel model);
/// The folder the program's weights are read from (the model's).
DistOptStringRef distoptCompiledModelGetWeightsDir(DistOptCompiledModel model);
/// Writes the artifact to `path`; nothing partial is left on failure.
DistOptStatusCode distoptCompiledModelSave(DistOptCompiledModel model,
                                           const char *path,
                                           DistOptStatus *status);

/// Plans the model only (distopt::planModel: no artifact, no MPI) and
/// stores the report in `*report` (a null handle on failure).
DistOptStatusCode distoptPlan(const char *modelPath,
                              DistOptCompileOptions options,
                              DistOptPlanReport *report, DistOptStatus *status);
void distoptPlanReportDestroy(DistOptPlanReport report);
DistOptStringRef distoptPlanReportGetJson(DistOptPlanReport report);
DistOptStringRef distoptPlanReportGetText(DistOptPlanReport report);

//===----------------------------------------------------------------------===//
// Programs
//===----------------------------------------------------------------------===//

/// How a program runs on this process (distopt::RunOptions); a NULL pointer
/// passed to a load stands for distoptRunOptionsGetDefault().
typedef struct DistOptRunOptions {
  /// Threads of this rank's kernels; 0: this node's cores shared by its
  /// ranks.
  int threads;
  /// Seconds a collective may wait before the job is stopped; 0: forever.
  double collectiveTimeout;
} DistOptRunOptions;

DistOptRunOptions distoptRunOptionsGetDefault(void);

/// Loads the artifact at `artifactPath` on this process's rank into
/// `*program` (a null handle on failure). MPI starts on the first load.
DistOptStatusCode distoptProgramLoad(const char *artifactPath,
                                     const DistOptRunOptions *options,
                                     DistOptProgram *program,
                                     DistOptStatus *status);
/// Loads a compiled model; `model` may be destroyed afterwards.
DistOptStatusCode distoptProgramLoadCompiled(DistOptCompiledModel model,
                                             const DistOptRunOptions *options,
                                             DistOptProgram *program,
                                             DistOptStatus *status);
void distoptProgramDestroy(DistOptProgram program);

/// This process's rank and the job's number of ranks (-1 for a null handle).
int distoptProgramGetRank(DistOptProgram program);
int distoptProgramGetNumRanks(DistOptProgram program);

/// A tensor: `byteSize` row-major bytes at `data`, of `elementType` with the
/// `rank` dimensions at `shape`. Passed in (inputs), the library reads it
/// during the call only. Given out (outputs, and the inputs and outputs a
/// program declares, whose `data` is NULL), its pointers belong to the
/// handle it comes from.
typedef struct DistOptTensor {
  const char *name;
  DistOptElementType elementType;
  const int64_t *shape;
  size_t rank;
  const void *data;
  size_t byteSize;
} DistOptTensor;

/// The model's inputs and outputs as the program declares them (no data);
/// for an inference pipeline, one micro-batch's shapes (a run takes any
/// whole number of micro-batches along dimension 0).
size_t distoptProgramGetNumInputs(DistOptProgram program);
size_t distoptProgramGetNumOutputs(DistOptProgram program);
DistOptStatusCode distoptProgramGetInput(DistOptProgram program, size_t index,
                                         DistOptTensor *info);
DistOptStatusCode distoptProgramGetOutput(DistOptProgram program, size_t index,
                                          DistOptTensor *info);

/// Runs the program once on `inputs` (every model input, whole, by name;
/// every rank passes the same) and stores every model output, whole, in a
/// new `*outputs` (a null handle on failure), on every rank.
DistOptStatusCode distoptProgramRun(DistOptProgram program,
                                    const DistOptTensor *inputs,
                                    size_t numInputs, DistOptTensorSet *outputs,
                                    DistOptStatus *status);

/// A caller's buffer for the output `name`: `byteSize` bytes at `data`.
typedef struct DistOptOutputBuffer {
  const char *name;
  void *data;
  size_t byteSize;
} DistOptOutputBuffer;

/// Runs the program once as distoptProgramRun does and copies each output
/// that `outputs` names into its buffer, whose size must be that of the
/// output the run gives, exactly; outputs not named are dropped. On failure
/// no buffer is written.
DistOptStatusCode
distoptProgramRunInto(DistOptProgram program, const DistOptTensor *inputs,
                      size_t numInputs, const DistOptOutputBuffer *outputs,
                      size_t numOutputs, DistOptStatus *status);

/// The weights the program keeps from one run to the next (a training
/// step's trained weights and optimizer state), each whole on every rank,
/// in a new `*weights` (a null handle on failure), ordered by name.
/// Collective: every rank calls it.
DistOptStatusCode distoptProgramGetWeights(DistOptProgram program,
                                           DistOptTensorSet *weights,
                                           DistOptStatus *status);

//===----------------------------------------------------------------------===//
// Tensor sets
//===----------------------------------------------------------------------===//

/// Named tensors the library owns: the outputs of a run, in the program's
/// order, or a program's weights.
void distoptTensorSetDestroy(DistOptTensorSet set);
size_t distoptTensorSetGetCount(DistOptTensorSet set);
DistOptStatusCode distoptTensorSetGet(DistOptTensorSet set, size_t index,
                                      DistOptTensor *tensor);
/// The tensor `name`; DistOptStatusInvalidArgument when there is none.
DistOptStatusCode distoptTensorSetLookup(DistOptTensorSet set, const char *name,
                                         DistOptTensor *tensor);

#ifdef __cplusplus
}
#endif

#endif // DISTOPT_C_DISTOPT_H
