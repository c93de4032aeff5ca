//===- Program.cpp - run a compiled program through the library API ------===//
//
// distopt::Program: an artifact loaded on this process's rank, run on
// tensors in memory, as dist-run runs it on files. MPI is started once per
// process, by the first load, and ended at exit: a framework may load many
// programs. Every rank checks the same things in the same order, so that a
// bad artifact or input is an error on every rank, not a hang.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Artifact.h"
#include "distopt/Artifact/Pipeline.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/DistOpt.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/Executor.h"
#include "runtime/core/Pipeline.h"
#include "runtime/core/TrainPipeline.h"
#include "runtime/core/Training.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/xxhash.h"

#include <cstdlib>
#include <cstring>
#include <mpi.h>

using namespace mlir;
using namespace distopt;

/// Starts MPI unless the process (or its framework) has, and ends it when
/// the process exits, after every program is gone.
static void startMpi() {
  static bool started = [] {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized)
      return true;
    MPI_Init(nullptr, nullptr);
    std::atexit([] {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized)
        MPI_Finalize();
    });
    return true;
  }();
  (void)started;
}

static ElementType toElementType(rt::DType type) {
  switch (type) {
  case rt::DType::F32:
    return ElementType::F32;
  case rt::DType::F64:
    return ElementType::F64;
  case rt::DType::F16:
    return ElementType::F16;
  case rt::DType::BF16:
    return ElementType::BF16;
  case rt::DType::I1:
    return ElementType::Bool;
  case rt::DType::I8:
    return ElementType::I8;
  case rt::DType::I16:
    return ElementType::I16;
  case rt::DType::I32:
    return ElementType::I32;
  case rt::DType::I64:
    return ElementType::I64;
  }
  return ElementType::F32;
}

static rt::DType toDType(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return rt::DType::F32;
  case ElementType::F64:
    return rt::DType::F64;
  case ElementType::F16:
    return rt::DType::F16;
  case ElementType::BF16:
    return rt::DType::BF16;
  case ElementType::Bool:
    return rt::DType::I1;
  case ElementType::I8:
    return rt::DType::I8;
  case ElementType::I16:
    return rt::DType::I16;
  case ElementType::I32:
    return rt::DType::I32;
  case ElementType::I64:
    return rt::DType::I64;
  }
  return rt::DType::F32;
}

/// `type` and `shape` as messages write them: f32[2x3].
static std::string describe(ElementType type,
                            const std::vector<int64_t> &shape) {
  std::string text = getElementTypeName(type);
  text += "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text + "]";
}

static std::vector<TensorInfo> getInfos(const std::vector<rt::IOInfo> &ios) {
  std::vector<TensorInfo> infos;
  for (const rt::IOInfo &io : ios)
    infos.push_back({io.name, toElementType(io.dtype), io.shape});
  return infos;
}

struct Program::Impl {
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<rt::Communicator> comm;
  /// This rank's program: the whole one, or its pipeline stage.
  std::unique_ptr<rt::Executor> executor;
  /// The model's inputs and outputs; in a pipeline, one micro-batch's.
  std::vector<TensorInfo> inputs, outputs;
  std::string name;
  /// A pipeline's stages (checkPipeline), when the program is one.
  std::optional<PipelineInfo> pipeline;
  /// A training pipeline: built on the first run, with the inputs that
  /// every step reads, and the number of steps run.
  std::unique_ptr<rt::TrainingPipeline> training;
  rt::PipelineInputs trainingInputs;
  int64_t steps = 0;

  /// The arguments of a run from `inputs`, checked against `inputs`; in a
  /// pipeline, `microBatches` gets the number they hold.
  Status bindInputs(const std::map<std::string, TensorData> &given,
                    std::vector<rt::HostTensor> &args, int64_t &microBatches);
  Status runPipeline(std::vector<rt::HostTensor> &args, int64_t microBatches,
                     std::map<std::string, TensorData> &outputs);
  Status runTrainingStep(std::vector<rt::HostTensor> &args,
                         int64_t microBatches,
                         std::map<std::string, TensorData> &outputs);
};

Program::Program(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Program::~Program() = default;

int Program::getRank() const { return impl->comm->rank(); }
int Program::getNumRanks() const { return impl->comm->size(); }
const std::vector<TensorInfo> &Program::getInputs() const {
  return impl->inputs;
}
const std::vector<TensorInfo> &Program::getOutputs() const {
  return impl->outputs;
}

/// The share of this node's cores of each rank on it.
static int getDefaultThreads() {
  int localRanks = 1;
  if (const char *n = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE"))
    localRanks = std::max(1, std::atoi(n));
  return std::max(1, int(llvm::hardware_concurrency().compute_thread_count()) /
                         localRanks);
}

/// Loads an artifact, given as a file (`path`) or as `bytes` named `name`.
static Status loadProgram(const std::string *path, const std::string *bytes,
                          const std::string &name,
                          std::unique_ptr<Program::Impl> &impl,
                          const RunOptions &options) {
  impl = std::make_unique<Program::Impl>();
  impl->name = name;
  DialectRegistry registry;
  registerAllDialects(registry);
  impl->context =
      std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
  impl->context->loadAllAvailableDialects();
  std::string firstError;
  ScopedDiagnosticHandler handler(impl->context.get(), [&](Diagnostic &d) {
    if (firstError.empty())
      firstError = d.str();
    return mlir::success();
  });
  ArtifactDigest digest{};
  impl->module =
      path ? readArtifact(*path, impl->context.get(), &digest)
           : parseArtifact(*bytes, name, impl->context.get(), &digest);
  if (!impl->module)
    return Status::error(firstError, name);
  ModuleOp module = *impl->module;
  bool pipeline = getPipelineStageCount(module) > 0;
  if (pipeline) {
    FailureOr<PipelineInfo> info = checkPipeline(module);
    if (failed(info))
      return Status::error(firstError, name);
    impl->pipeline = std::move(*info);
  }

  startMpi();
  impl->comm = std::make_unique<rt::Communicator>(nullptr, nullptr);
  rt::Communicator &comm = *impl->comm;
  comm.setCollectiveTimeout(options.collectiveTimeout);
  // A kernel that meets bad data (an index or a label out of range) steps
  // over it; run() returns the error on every rank.
  comm.setKeepDataErrors(true);
  rt::setNumThreads(options.threads > 0 ? options.threads
                                        : getDefaultThreads());
  // Every rank must load the same program, else their collectives would
  // not match: one agreement over the job.
  if (comm.size() > 1) {
    std::string mine = digestToHex(digest, digest.size());
    std::vector<std::string> all =
        comm.allGatherRecords(mine, "the ranks' check of the program");
    for (int r = 0; r < comm.size(); ++r)
      if (all[r] != all[0])
        return Status::error("rank " + std::to_string(r) +
                                 " loaded another program than rank 0; "
                                 "every rank must load the same one",
                             name);
  }
  if (impl->pipeline && impl->pipeline->isTraining()) {
    // Its stages are built on the first run, which gives the number of
    // micro-batches; the job's size is checked now.
    int64_t ranks = getProgramDeviceCount(module);
    if (comm.size() != ranks)
      return Status::error(
          "the program was compiled for " + std::to_string(ranks) +
              " ranks (a training pipeline), but the job "
              "has " +
              std::to_string(comm.size()) + "; launch it with mpirun -np " +
              std::to_string(ranks),
          name);
  } else {
    std::string error;
    impl->executor = rt::Executor::create(module, comm, error);
    if (!impl->executor)
      return Status::error(error, name);
  }
  if (!impl->pipeline) {
    impl->inputs = getInfos(impl->executor->inputs());
    impl->outputs = getInfos(impl->executor->outputs());
    return Status();
  }
  for (auto [values, infos] :
       {std::make_pair(&impl->pipeline->inputs, &impl->inputs),
        std::make_pair(&impl->pipeline->outputs, &impl->outputs)})
    for (const PipelineValue &value : *values) {
      std::optional<rt::IOInfo> micro = rt::getMicroBatchInfo(value);
      if (!micro)
        return Status::error(
            "'" + value.name + "' has a type the runtime cannot run", name);
      infos->push_back(
          {micro->name, toElementType(micro->dtype), micro->shape});
    }
  // A training pipeline returns its loss, as a one-stage step does.
  if (impl->pipeline->isTraining())
    impl->outputs = {{"loss", ElementType::F32, {}}};
  return Status();
}

Status Program::load(const std::string &artifactPath,
                     std::unique_ptr<Program> &program,
                     const RunOptions &options) {
  program.reset();
  std::unique_ptr<Impl> impl;
  if (Status status =
          loadProgram(&artifactPath, nullptr, artifactPath, impl, options);
      !status)
    return status;
  program.reset(new Program(std::move(impl)));
  return Status();
}

Status Program::load(const CompiledModel &model,
                     std::unique_ptr<Program> &program,
                     const RunOptions &options) {
  program.reset();
  if (model.getArtifact().empty())
    return Status::error("the model is not compiled");
  std::unique_ptr<Impl> impl;
  if (Status status = loadProgram(nullptr, &model.getArtifact(),
                                  "the compiled program", impl, options);
      !status)
    return status;
  program.reset(new Program(std::move(impl)));
  return Status();
}

Status Program::Impl::bindInputs(const std::map<std::string, TensorData> &given,
                                 std::vector<rt::HostTensor> &args,
                                 int64_t &microBatches) {
  microBatches = 1;
  std::string first;
  for (const TensorInfo &in : inputs) {
    auto it = given.find(in.name);
    if (it == given.end())
      return Status::error("missing input '" + in.name + "' (" +
                           describe(in.type, in.shape) +
                           (pipeline ? ", or a whole number of them along "
                                       "dimension 0)"
                                     : ")"));
    const TensorData &tensor = it->second;
    // A pipeline takes any whole number of micro-batches along dimension 0,
    // the same number for every input.
    bool fits = tensor.type == in.type && tensor.shape == in.shape;
    if (pipeline && !fits && tensor.type == in.type && !in.shape.empty() &&
        tensor.shape.size() == in.shape.size() && in.shape[0] > 0 &&
        tensor.shape[0] > 0 && tensor.shape[0] % in.shape[0] == 0 &&
        std::equal(in.shape.begin() + 1, in.shape.end(),
                   tensor.shape.begin() + 1)) {
      int64_t m = tensor.shape[0] / in.shape[0];
      if (!first.empty() && m != microBatches)
        return Status::error("inputs '" + first + "' and '" + in.name +
                             "' hold " + std::to_string(microBatches) +
                             " and " + std::to_string(m) +
                             " micro-batches; every input must hold the "
                             "same number");
      microBatches = m;
      fits = true;
    }
    if (first.empty())
      first = in.name;
    if (!fits)
      return Status::error(
          "input '" + in.name + "': expected " + describe(in.type, in.shape) +
          (pipeline ? " (or a whole number of them along dimension 0)" : "") +
          ", given " + describe(tensor.type, tensor.shape));
    size_t bytes =
        size_t(tensor.getNumElements()) * getElementSize(tensor.type);
    if (tensor.bytes.size() != bytes)
      return Status::error(
          "input '" + in.name + "': " + describe(tensor.type, tensor.shape) +
          " holds " + std::to_string(bytes) + " bytes, given " +
          std::to_string(tensor.bytes.size()));
    rt::HostTensor &arg = args.emplace_back();
    arg.dtype = toDType(tensor.type);
    arg.shape = tensor.shape;
    arg.bytes = tensor.bytes;
  }
  for (const auto &entry : given)
    if (llvm::none_of(inputs, [&](const TensorInfo &in) {
          return in.name == entry.first;
        })) {
      std::string names;
      for (const TensorInfo &in : inputs)
        names += " '" + in.name + "'";
      return Status::error("unknown input '" + entry.first +
                           "'; the program's inputs are" + names);
    }
  if (pipeline && !pipeline->isTraining() && microBatches > 1)
    for (const TensorInfo &out : outputs)
      if (out.shape.empty())
        return Status::error("output '" + out.name +
                             "' is a scalar, which cannot be concatenated "
                             "over " +
                             std::to_string(microBatches) +
                             " micro-batches; run one micro-batch");
  return Status();
}

Status Program::Impl::runPipeline(std::vector<rt::HostTensor> &args,
                                  int64_t microBatches,
                                  std::map<std::string, TensorData> &results) {
  rt::PipelineInputs staged;
  staged.tensors = std::move(args);
  staged.microBatches = microBatches;
  staged.batches.assign(staged.tensors.size(), 0);
  std::vector<rt::IOInfo> whole =
      rt::getPipelineOutputs(*comm, *pipeline, microBatches);
  std::vector<rt::HostTensor> stageOutputs;
  rt::runPipelineOnce(*comm, *executor, *pipeline, staged, stageOutputs,
                      /*trace=*/nullptr, std::chrono::steady_clock::now());
  std::vector<rt::HostTensor> gathered = rt::gatherPipelineOutputs(
      *comm, *executor, *pipeline, whole, stageOutputs);
  // Rank 0 holds the outputs; every rank gets them.
  for (size_t i = 0; i < whole.size(); ++i) {
    rt::HostTensor out;
    if (comm->rank() == 0) {
      out = std::move(gathered[i]);
    } else {
      out.dtype = whole[i].dtype;
      out.shape = whole[i].shape;
      out.bytes.resize(
          size_t(rt::Tensor{nullptr, out.dtype, out.shape}.numElements()) *
          rt::byteWidth(out.dtype));
    }
    rt::Tensor view{out.bytes.data(), out.dtype, out.shape};
    comm->broadcast(view, 0, "model output '" + whole[i].name + "'");
    TensorData &data = results[whole[i].name];
    data.type = toElementType(out.dtype);
    data.shape = std::move(out.shape);
    data.bytes = std::move(out.bytes);
  }
  return Status();
}

Status
Program::Impl::runTrainingStep(std::vector<rt::HostTensor> &args,
                               int64_t microBatches,
                               std::map<std::string, TensorData> &outputs) {
  if (!training) {
    int64_t groups = pipeline->numRankGroups();
    if (pipeline->chunks > 1 && microBatches % groups != 0)
      return Status::error(
          "the inputs hold " + std::to_string(microBatches) +
          " micro-batches, which the interleaved schedule cannot run on " +
          std::to_string(groups) + " rank groups: give a multiple of " +
          std::to_string(groups));
    trainingInputs.microBatches = microBatches;
    trainingInputs.tensors = std::move(args);
    trainingInputs.batches.assign(trainingInputs.tensors.size(), 0);
    training = std::make_unique<rt::TrainingPipeline>(*comm, *module, *pipeline,
                                                      trainingInputs);
  } else if (microBatches != trainingInputs.microBatches) {
    return Status::error("the inputs hold " + std::to_string(microBatches) +
                         " micro-batches; this training pipeline runs steps "
                         "of " +
                         std::to_string(trainingInputs.microBatches) +
                         ", as its first");
  } else {
    trainingInputs.tensors = std::move(args);
  }
  float loss = float(training->runStep(steps++));
  TensorData &out = outputs["loss"];
  out.type = ElementType::F32;
  out.shape = {};
  out.bytes.resize(sizeof(float));
  std::memcpy(out.bytes.data(), &loss, sizeof(float));
  return Status();
}

Status Program::run(const std::map<std::string, TensorData> &inputs,
                    std::map<std::string, TensorData> &outputs) {
  outputs.clear();
  rt::Communicator &comm = *impl->comm;
  // Checked alike on every rank (they are given the same inputs), before
  // any collective.
  std::vector<rt::HostTensor> args;
  int64_t microBatches = 1;
  if (Status status = impl->bindInputs(inputs, args, microBatches); !status)
    return status;
  // A partitioned program slices its inputs by rank: ranks given different
  // tensors would compute garbage. One agreement on their hash.
  if (comm.size() > 1) {
    std::string mine;
    for (const rt::HostTensor &arg : args)
      mine += llvm::utohexstr(llvm::xxh3_64bits(arg.bytes)) + ",";
    std::vector<std::string> all =
        comm.allGatherRecords(mine, "the ranks' check of the inputs");
    for (int r = 0; r < comm.size(); ++r)
      if (all[r] != all[0])
        return Status::error("rank " + std::to_string(r) +
                             " was given other inputs than rank 0; every "
                             "rank must run the same inputs");
  }
  Status status;
  if (impl->pipeline && impl->pipeline->isTraining()) {
    status = impl->runTrainingStep(args, microBatches, outputs);
  } else if (impl->pipeline) {
    status = impl->runPipeline(args, microBatches, outputs);
  } else {
    std::vector<rt::HostTensor> results;
    impl->executor->run(args, results, /*trace=*/nullptr);
    for (size_t i = 0; i < results.size(); ++i) {
      TensorData &out = outputs[impl->outputs[i].name];
      out.type = toElementType(results[i].dtype);
      out.shape = std::move(results[i].shape);
      out.bytes = std::move(results[i].bytes);
    }
  }
  if (!status)
    return status;
  // The data errors of any rank, agreed on by every rank.
  std::vector<std::string> errors =
      comm.allGatherRecords(comm.takeDataError(), "the ranks' data errors");
  for (int r = 0; r < comm.size(); ++r) {
    if (errors[r].empty())
      continue;
    outputs.clear();
    bool training = (impl->pipeline && impl->pipeline->isTraining()) ||
                    (impl->executor && impl->executor->isTraining());
    return Status::error(
        (comm.size() > 1 ? "rank " + std::to_string(r) + ": " : "") +
        errors[r] +
        (training ? "; this step's update used it: the weights are no "
                    "longer those of a valid step"
                  : ""));
  }
  return Status();
}

/// Copies `bytes` (whole on rank 0, empty elsewhere) of a weight of type
/// `dtype` and shape `shape` to every rank, into `weight`.
static void broadcastWeight(rt::Communicator &comm, const std::string &name,
                            rt::DType dtype, const std::vector<int64_t> &shape,
                            std::vector<uint8_t> bytes, TensorData &weight) {
  if (comm.rank() != 0)
    bytes.resize(size_t(rt::Tensor{nullptr, dtype, shape}.numElements()) *
                 rt::byteWidth(dtype));
  rt::Tensor view{bytes.data(), dtype, shape};
  comm.broadcast(view, 0, "weight '" + name + "'");
  weight.type = toElementType(dtype);
  weight.shape = shape;
  weight.bytes = std::move(bytes);
}

Status Program::getWeights(std::map<std::string, TensorData> &weights) {
  weights.clear();
  rt::Communicator &comm = *impl->comm;
  if (impl->pipeline && impl->pipeline->isTraining()) {
    if (!impl->training)
      return Status::error("a training pipeline's weights are read after "
                           "its first step");
    for (auto &[state, bytes] : impl->training->gatherWeights())
      broadcastWeight(comm, state.name, state.dtype, state.globalShape,
                      std::move(bytes), weights[state.name]);
    return Status();
  }
  // An inference pipeline keeps no weights from one run to the next.
  if (impl->pipeline)
    return Status();
  // Every rank holds a slice of every persistent weight.
  for (const rt::StateInfo &state : impl->executor->state())
    broadcastWeight(comm, state.name, state.dtype, state.globalShape,
                    rt::gatherWhole(comm, state, &state), weights[state.name]);
  return Status();
}
