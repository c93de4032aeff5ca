//===- DistOpt.cpp - the C API over the dist-opt library's C++ API --------===//
//
// Each handle points to a C++ object of this file (or of the C++ API) made
// with `new`. Every entry point checks its arguments before it dereferences
// one, and runs its body inside `guard`, which turns any C++ exception into
// a status: this file is built with exceptions so that an allocation that
// fails anywhere below it (std::bad_alloc) ends as an error, not as
// std::terminate at the C boundary.
//
//===----------------------------------------------------------------------===//

#include "distopt-c/DistOpt.h"
#include "distopt/DistOpt.h"

#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

struct StatusImpl {
  DistOptStatusCode code;
  std::string message, file;
  unsigned line = 0, column = 0;
};

struct PlanReportImpl {
  std::string json, text;
};

/// Named tensors as the C++ API fills them, and the order they are indexed
/// in.
struct TensorSetImpl {
  std::map<std::string, distopt::TensorData> byName;
  std::vector<std::pair<const std::string *, const distopt::TensorData *>>
      ordered;
};

} // namespace

/// What an out-of-memory status points to: creating a status needs memory,
/// so this one exists beforehand and distoptStatusDestroy leaves it alone.
static StatusImpl outOfMemoryStatus{
    DistOptStatusOutOfMemory, "out of memory", {}};

static DistOptStringRef wrap(const std::string &string) {
  return {string.c_str(), string.size()};
}

static DistOptStringRef emptyString() { return {"", 0}; }

/// Stores in `*status` (when given) a new status with `code` and `message`,
/// and returns `code`.
static DistOptStatusCode fail(DistOptStatus *status, DistOptStatusCode code,
                              std::string message, std::string file = {},
                              unsigned line = 0, unsigned column = 0) {
  if (status) {
    auto *impl = new (std::nothrow)
        StatusImpl{code, std::move(message), std::move(file), line, column};
    status->ptr = impl ? impl : &outOfMemoryStatus;
  }
  return code;
}

/// The C status of a C++ API call's `result`.
static DistOptStatusCode convert(DistOptStatus *status,
                                 const distopt::Status &result) {
  if (result.isOk())
    return DistOptStatusOk;
  return fail(status, DistOptStatusError, result.getMessage(), result.getFile(),
              result.getLine(), result.getColumn());
}

static DistOptStatusCode failOutOfMemory(DistOptStatus *status) {
  if (status)
    status->ptr = &outOfMemoryStatus;
  return DistOptStatusOutOfMemory;
}

/// An InternalError status for an unexpected exception (`what` is its
/// message, or null). Building the message may itself run out of memory.
static DistOptStatusCode failInternal(DistOptStatus *status,
                                      const char *what) noexcept {
  try {
    return fail(status, DistOptStatusInternalError,
                what ? std::string("unexpected C++ exception: ") + what
                     : "unexpected C++ exception of an unknown type");
  } catch (...) {
    return failOutOfMemory(status);
  }
}

/// Runs `body` (which returns a DistOptStatusCode) after clearing `*status`,
/// and turns an exception thrown below it into an error status.
template <typename Body>
static DistOptStatusCode guard(DistOptStatus *status, Body &&body) {
  if (status)
    status->ptr = nullptr;
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return failOutOfMemory(status);
  } catch (const std::exception &error) {
    return failInternal(status, error.what());
  } catch (...) {
    return failInternal(status, nullptr);
  }
}

/// An InvalidArgument status that names the call and the argument.
static DistOptStatusCode invalid(DistOptStatus *status, const char *function,
                                 const std::string &what) {
  return fail(status, DistOptStatusInvalidArgument,
              std::string(function) + ": " + what);
}

static bool isElementType(DistOptElementType type) {
  return type >= DistOptElementTypeF32 && type <= DistOptElementTypeI64;
}

static distopt::ElementType unwrap(DistOptElementType type) {
  return static_cast<distopt::ElementType>(type);
}

static DistOptElementType wrap(distopt::ElementType type) {
  return static_cast<DistOptElementType>(type);
}

// The two enums are one list; a new element type goes into both.
static_assert(DistOptElementTypeI64 ==
                  static_cast<int>(distopt::ElementType::I64),
              "DistOptElementType and distopt::ElementType differ");

static StatusImpl *unwrap(DistOptStatus status) {
  return static_cast<StatusImpl *>(status.ptr);
}
static distopt::CompileOptions *unwrap(DistOptCompileOptions options) {
  return static_cast<distopt::CompileOptions *>(options.ptr);
}
static distopt::CompiledModel *unwrap(DistOptCompiledModel model) {
  return static_cast<distopt::CompiledModel *>(model.ptr);
}
static PlanReportImpl *unwrap(DistOptPlanReport report) {
  return static_cast<PlanReportImpl *>(report.ptr);
}
static distopt::Program *unwrap(DistOptProgram program) {
  return static_cast<distopt::Program *>(program.ptr);
}
static TensorSetImpl *unwrap(DistOptTensorSet set) {
  return static_cast<TensorSetImpl *>(set.ptr);
}

//===----------------------------------------------------------------------===//
// Version, status and element types
//===----------------------------------------------------------------------===//

const char *distoptGetVersion(void) { return distopt::getVersion(); }

void distoptStatusDestroy(DistOptStatus status) {
  if (unwrap(status) != &outOfMemoryStatus)
    delete unwrap(status);
}

DistOptStatusCode distoptStatusGetCode(DistOptStatus status) {
  return status.ptr ? unwrap(status)->code : DistOptStatusOk;
}

DistOptStringRef distoptStatusGetMessage(DistOptStatus status) {
  return status.ptr ? wrap(unwrap(status)->message) : emptyString();
}

DistOptStringRef distoptStatusGetFile(DistOptStatus status) {
  return status.ptr ? wrap(unwrap(status)->file) : emptyString();
}

unsigned distoptStatusGetLine(DistOptStatus status) {
  return status.ptr ? unwrap(status)->line : 0;
}

unsigned distoptStatusGetColumn(DistOptStatus status) {
  return status.ptr ? unwrap(status)->column : 0;
}

const char *distoptElementTypeGetName(DistOptElementType type) {
  return isElementType(type) ? distopt::getElementTypeName(unwrap(type))
                             : nullptr;
}

size_t distoptElementTypeGetSize(DistOptElementType type) {
  return isElementType(type) ? distopt::getElementSize(unwrap(type)) : 0;
}

//===----------------------------------------------------------------------===//
// Compile options
//===----------------------------------------------------------------------===//

DistOptCompileOptions distoptCompileOptionsCreate(void) {
  // The defaults' strings allocate; a failure there is a null handle.
  try {
    return {new distopt::CompileOptions()};
  } catch (...) {
    return {nullptr};
  }
}

void distoptCompileOptionsDestroy(DistOptCompileOptions options) {
  delete unwrap(options);
}

/// Sets one field of the options behind `options` with `set`.
template <typename Set>
static DistOptStatusCode setOption(DistOptCompileOptions options, Set &&set) {
  if (!options.ptr)
    return DistOptStatusInvalidArgument;
  return guard(nullptr, [&] {
    set(*unwrap(options));
    return DistOptStatusOk;
  });
}

/// Sets the string field `field` to `value`.
static DistOptStatusCode setString(DistOptCompileOptions options,
                                   std::string distopt::CompileOptions::*field,
                                   const char *value) {
  if (!value)
    return DistOptStatusInvalidArgument;
  return setOption(options,
                   [&](distopt::CompileOptions &o) { o.*field = value; });
}

/// Sets the floating-point field `field` to `value`.
static DistOptStatusCode setDouble(DistOptCompileOptions options,
                                   double distopt::CompileOptions::*field,
                                   double value) {
  return setOption(options,
                   [&](distopt::CompileOptions &o) { o.*field = value; });
}

DistOptStatusCode distoptCompileOptionsSetShape(DistOptCompileOptions options,
                                                const char *name,
                                                const int64_t *shape,
                                                size_t rank) {
  if (!name || (rank && !shape))
    return DistOptStatusInvalidArgument;
  return setOption(options, [&](distopt::CompileOptions &o) {
    std::vector<int64_t> dims(shape, shape + rank);
    for (auto &[inputName, inputShape] : o.shapes) {
      if (inputName == name) {
        inputShape = std::move(dims);
        return;
      }
    }
    o.shapes.emplace_back(name, std::move(dims));
  });
}

DistOptStatusCode distoptCompileOptionsSetValue(DistOptCompileOptions options,
                                                const char *name,
                                                const char *path) {
  if (!name || !path)
    return DistOptStatusInvalidArgument;
  return setOption(options, [&](distopt::CompileOptions &o) {
    for (auto &[inputName, file] : o.values) {
      if (inputName == name) {
        file = path;
        return;
      }
    }
    o.values.emplace_back(name, path);
  });
}

DistOptStatusCode distoptCompileOptionsSetCluster(DistOptCompileOptions options,
                                                  const char *cluster) {
  return setString(options, &distopt::CompileOptions::cluster, cluster);
}

DistOptStatusCode distoptCompileOptionsSetDevices(DistOptCompileOptions options,
                                                  unsigned devices) {
  return setOption(options,
                   [&](distopt::CompileOptions &o) { o.devices = devices; });
}

DistOptStatusCode distoptCompileOptionsSetPlan(DistOptCompileOptions options,
                                               const char *plan) {
  return setString(options, &distopt::CompileOptions::plan, plan);
}

DistOptStatusCode distoptCompileOptionsSetMode(DistOptCompileOptions options,
                                               const char *mode) {
  return setString(options, &distopt::CompileOptions::mode, mode);
}

DistOptStatusCode distoptCompileOptionsSetBatch(DistOptCompileOptions options,
                                                int64_t batch) {
  return setOption(options,
                   [&](distopt::CompileOptions &o) { o.batch = batch; });
}

DistOptStatusCode
distoptCompileOptionsSetPrecision(DistOptCompileOptions options,
                                  const char *precision) {
  return setString(options, &distopt::CompileOptions::precision, precision);
}

DistOptStatusCode
distoptCompileOptionsSetRaisePatterns(DistOptCompileOptions options,
                                      bool raisePatterns) {
  return setOption(options, [&](distopt::CompileOptions &o) {
    o.raisePatterns = raisePatterns;
  });
}

DistOptStatusCode distoptCompileOptionsSetLoss(DistOptCompileOptions options,
                                               const char *loss) {
  return setString(options, &distopt::CompileOptions::loss, loss);
}

DistOptStatusCode distoptCompileOptionsSetLabels(DistOptCompileOptions options,
                                                 const char *labels) {
  return setString(options, &distopt::CompileOptions::labels, labels);
}

DistOptStatusCode
distoptCompileOptionsSetOptimizer(DistOptCompileOptions options,
                                  const char *optimizer) {
  return setString(options, &distopt::CompileOptions::optimizer, optimizer);
}

DistOptStatusCode
distoptCompileOptionsSetLearningRate(DistOptCompileOptions options, double lr) {
  return setDouble(options, &distopt::CompileOptions::lr, lr);
}

DistOptStatusCode distoptCompileOptionsSetBeta1(DistOptCompileOptions options,
                                                double beta1) {
  return setDouble(options, &distopt::CompileOptions::beta1, beta1);
}

DistOptStatusCode distoptCompileOptionsSetBeta2(DistOptCompileOptions options,
                                                double beta2) {
  return setDouble(options, &distopt::CompileOptions::beta2, beta2);
}

DistOptStatusCode distoptCompileOptionsSetEps(DistOptCompileOptions options,
                                              double eps) {
  return setDouble(options, &distopt::CompileOptions::eps, eps);
}

DistOptStatusCode
distoptCompileOptionsSetWeightDecay(DistOptCompileOptions options,
                                    double weightDecay) {
  return setDouble(options, &distopt::CompileOptions::weightDecay, weightDecay);
}

DistOptStatusCode
distoptCompileOptionsSetMomentum(DistOptCompileOptions options,
                                 double momentum) {
  return setDouble(options, &distopt::CompileOptions::momentum, momentum);
}

DistOptStatusCode
distoptCompileOptionsSetClipNorm(DistOptCompileOptions options,
                                 double clipNorm) {
  return setDouble(options, &distopt::CompileOptions::clipNorm, clipNorm);
}

DistOptStatusCode
distoptCompileOptionsSetTrainable(DistOptCompileOptions options,
                                  const char *trainable) {
  return setString(options, &distopt::CompileOptions::trainable, trainable);
}

DistOptStatusCode distoptCompileOptionsSetFreeze(DistOptCompileOptions options,
                                                 const char *freeze) {
  return setString(options, &distopt::CompileOptions::freeze, freeze);
}

//===----------------------------------------------------------------------===//
// Compiling and planning
//===----------------------------------------------------------------------===//

/// The options behind `options`, or the defaults for a null handle.
static const distopt::CompileOptions &
getOptionsOrDefault(DistOptCompileOptions options,
                    distopt::CompileOptions &defaults) {
  return options.ptr ? *unwrap(options) : defaults;
}

DistOptStatusCode distoptCompile(const char *modelPath,
                                 DistOptCompileOptions options,
                                 DistOptCompiledModel *model,
                                 DistOptStatus *status) {
  return guard(status, [&] {
    if (!model)
      return invalid(status, "distoptCompile", "the model pointer is null");
    model->ptr = nullptr;
    if (!modelPath)
      return invalid(status, "distoptCompile", "the model path is null");
    distopt::CompileOptions defaults;
    auto result = std::make_unique<distopt::CompiledModel>();
    if (DistOptStatusCode code = convert(
            status,
            distopt::compile(modelPath, getOptionsOrDefault(options, defaults),
                             *result)))
      return code;
    model->ptr = result.release();
    return DistOptStatusOk;
  });
}

void distoptCompiledModelDestroy(DistOptCompiledModel model) {
  delete unwrap(model);
}

DistOptStringRef distoptCompiledModelGetArtifact(DistOptCompiledModel model) {
  return model.ptr ? wrap(unwrap(model)->getArtifact()) : emptyString();
}

DistOptStringRef distoptCompiledModelGetReportJson(DistOptCompiledModel model) {
  return model.ptr ? wrap(unwrap(model)->getReportJson()) : emptyString();
}

DistOptStringRef distoptCompiledModelGetReportText(DistOptCompiledModel model) {
  return model.ptr ? wrap(unwrap(model)->getReportText()) : emptyString();
}

unsigned distoptCompiledModelGetDeviceCount(DistOptCompiledModel model) {
  return model.ptr ? unwrap(model)->getDeviceCount() : 0;
}

DistOptStringRef distoptCompiledModelGetWeightsDir(DistOptCompiledModel model) {
  return model.ptr ? wrap(unwrap(model)->getWeightsDir()) : emptyString();
}

DistOptStatusCode distoptCompiledModelSave(DistOptCompiledModel model,
                                           const char *path,
                                           DistOptStatus *status) {
  return guard(status, [&] {
    if (!model.ptr)
      return invalid(status, "distoptCompiledModelSave", "the model is null");
    if (!path)
      return invalid(status, "distoptCompiledModelSave", "the path is null");
    return convert(status, unwrap(model)->save(path));
  });
}

DistOptStatusCode distoptPlan(const char *modelPath,
                              DistOptCompileOptions options,
                              DistOptPlanReport *report,
                              DistOptStatus *status) {
  return guard(status, [&] {
    if (!report)
      return invalid(status, "distoptPlan", "the report pointer is null");
    report->ptr = nullptr;
    if (!modelPath)
      return invalid(status, "distoptPlan", "the model path is null");
    distopt::CompileOptions defaults;
    auto result = std::make_unique<PlanReportImpl>();
    if (DistOptStatusCode code = convert(
            status, distopt::planModel(modelPath,
                                       getOptionsOrDefault(options, defaults),
                                       result->json, &result->text)))
      return code;
    report->ptr = result.release();
    return DistOptStatusOk;
  });
}

void distoptPlanReportDestroy(DistOptPlanReport report) {
  delete unwrap(report);
}

DistOptStringRef distoptPlanReportGetJson(DistOptPlanReport report) {
  return report.ptr ? wrap(unwrap(report)->json) : emptyString();
}

DistOptStringRef distoptPlanReportGetText(DistOptPlanReport report) {
  return report.ptr ? wrap(unwrap(report)->text) : emptyString();
}

//===----------------------------------------------------------------------===//
// Programs
//===----------------------------------------------------------------------===//

DistOptRunOptions distoptRunOptionsGetDefault(void) {
  distopt::RunOptions defaults;
  return {defaults.threads, defaults.collectiveTimeout};
}

static distopt::RunOptions unwrap(const DistOptRunOptions *options) {
  distopt::RunOptions result;
  if (options) {
    result.threads = options->threads;
    result.collectiveTimeout = options->collectiveTimeout;
  }
  return result;
}

/// Loads a program with `load` (a call of one of Program::load's overloads)
/// into `*program`.
template <typename Load>
static DistOptStatusCode loadProgram(const char *function,
                                     DistOptProgram *program,
                                     DistOptStatus *status, Load &&load) {
  return guard(status, [&] {
    if (!program)
      return invalid(status, function, "the program pointer is null");
    program->ptr = nullptr;
    std::unique_ptr<distopt::Program> loaded;
    if (DistOptStatusCode code = load(loaded))
      return code;
    program->ptr = loaded.release();
    return DistOptStatusOk;
  });
}

DistOptStatusCode distoptProgramLoad(const char *artifactPath,
                                     const DistOptRunOptions *options,
                                     DistOptProgram *program,
                                     DistOptStatus *status) {
  return loadProgram("distoptProgramLoad", program, status,
                     [&](std::unique_ptr<distopt::Program> &loaded) {
                       if (!artifactPath)
                         return invalid(status, "distoptProgramLoad",
                                        "the artifact path is null");
                       return convert(
                           status, distopt::Program::load(artifactPath, loaded,
                                                          unwrap(options)));
                     });
}

DistOptStatusCode distoptProgramLoadCompiled(DistOptCompiledModel model,
                                             const DistOptRunOptions *options,
                                             DistOptProgram *program,
                                             DistOptStatus *status) {
  return loadProgram(
      "distoptProgramLoadCompiled", program, status,
      [&](std::unique_ptr<distopt::Program> &loaded) {
        if (!model.ptr)
          return invalid(status, "distoptProgramLoadCompiled",
                         "the model is null");
        return convert(status, distopt::Program::load(*unwrap(model), loaded,
                                                      unwrap(options)));
      });
}

void distoptProgramDestroy(DistOptProgram program) { delete unwrap(program); }

int distoptProgramGetRank(DistOptProgram program) {
  return program.ptr ? unwrap(program)->getRank() : -1;
}

int distoptProgramGetNumRanks(DistOptProgram program) {
  return program.ptr ? unwrap(program)->getNumRanks() : -1;
}

size_t distoptProgramGetNumInputs(DistOptProgram program) {
  return program.ptr ? unwrap(program)->getInputs().size() : 0;
}

size_t distoptProgramGetNumOutputs(DistOptProgram program) {
  return program.ptr ? unwrap(program)->getOutputs().size() : 0;
}

/// A view of `info` without data.
static DistOptTensor wrap(const distopt::TensorInfo &info) {
  return {info.name.c_str(), wrap(info.type), info.shape.data(),
          info.shape.size(), nullptr,         0};
}

/// A view of the tensor `data` named `name`.
static DistOptTensor wrap(const std::string &name,
                          const distopt::TensorData &data) {
  return {name.c_str(),      wrap(data.type),   data.shape.data(),
          data.shape.size(), data.bytes.data(), data.bytes.size()};
}

/// Stores in `*tensor` the entry `index` of `infos`.
static DistOptStatusCode getInfo(const std::vector<distopt::TensorInfo> &infos,
                                 size_t index, DistOptTensor *tensor) {
  if (!tensor || index >= infos.size())
    return DistOptStatusInvalidArgument;
  *tensor = wrap(infos[index]);
  return DistOptStatusOk;
}

DistOptStatusCode distoptProgramGetInput(DistOptProgram program, size_t index,
                                         DistOptTensor *info) {
  if (!program.ptr)
    return DistOptStatusInvalidArgument;
  return getInfo(unwrap(program)->getInputs(), index, info);
}

DistOptStatusCode distoptProgramGetOutput(DistOptProgram program, size_t index,
                                          DistOptTensor *info) {
  if (!program.ptr)
    return DistOptStatusInvalidArgument;
  return getInfo(unwrap(program)->getOutputs(), index, info);
}

/// Copies the C tensors `inputs` into `result`, or says which one is
/// malformed. The C++ API checks names, types and shapes against the
/// program; here only what the C side alone can get wrong is checked.
static DistOptStatusCode
copyInputs(const char *function, const DistOptTensor *inputs, size_t numInputs,
           std::map<std::string, distopt::TensorData> &result,
           DistOptStatus *status) {
  if (numInputs && !inputs)
    return invalid(status, function, "the inputs pointer is null");
  for (size_t i = 0; i < numInputs; ++i) {
    const DistOptTensor &input = inputs[i];
    std::string which = "input " + std::to_string(i);
    if (!input.name)
      return invalid(status, function, which + " has no name");
    which += " ('" + std::string(input.name) + "')";
    if (!isElementType(input.elementType))
      return invalid(status, function,
                     which + " has an unknown element type " +
                         std::to_string(input.elementType));
    if (input.rank && !input.shape)
      return invalid(status, function, which + " has a null shape");
    distopt::TensorData data;
    data.type = unwrap(input.elementType);
    data.shape.assign(input.shape, input.shape + input.rank);
    for (int64_t dim : data.shape)
      if (dim < 0)
        return invalid(status, function,
                       which + " has a negative dimension " +
                           std::to_string(dim));
    size_t expected = static_cast<size_t>(data.getNumElements()) *
                      distopt::getElementSize(data.type);
    if (input.byteSize != expected)
      return invalid(status, function,
                     which + " has " + std::to_string(input.byteSize) +
                         " bytes, but its type and shape take " +
                         std::to_string(expected));
    if (expected && !input.data)
      return invalid(status, function, which + " has null data");
    const auto *bytes = static_cast<const uint8_t *>(input.data);
    data.bytes.assign(bytes, bytes + expected);
    if (!result.emplace(input.name, std::move(data)).second)
      return invalid(status, function, which + " is given twice");
  }
  return DistOptStatusOk;
}

/// Runs `program` on the C tensors `inputs` and fills `outputs`.
static DistOptStatusCode
runProgram(const char *function, DistOptProgram program,
           const DistOptTensor *inputs, size_t numInputs,
           std::map<std::string, distopt::TensorData> &outputs,
           DistOptStatus *status) {
  if (!program.ptr)
    return invalid(status, function, "the program is null");
  std::map<std::string, distopt::TensorData> inputData;
  if (DistOptStatusCode code =
          copyInputs(function, inputs, numInputs, inputData, status))
    return code;
  return convert(status, unwrap(program)->run(inputData, outputs));
}

DistOptStatusCode distoptProgramRun(DistOptProgram program,
                                    const DistOptTensor *inputs,
                                    size_t numInputs, DistOptTensorSet *outputs,
                                    DistOptStatus *status) {
  return guard(status, [&] {
    if (!outputs)
      return invalid(status, "distoptProgramRun",
                     "the outputs pointer is null");
    outputs->ptr = nullptr;
    auto result = std::make_unique<TensorSetImpl>();
    if (DistOptStatusCode code =
            runProgram("distoptProgramRun", program, inputs, numInputs,
                       result->byName, status))
      return code;
    // The C++ API fills every output the program declares.
    for (const distopt::TensorInfo &info : unwrap(program)->getOutputs()) {
      auto it = result->byName.find(info.name);
      if (it != result->byName.end())
        result->ordered.emplace_back(&it->first, &it->second);
    }
    outputs->ptr = result.release();
    return DistOptStatusOk;
  });
}

DistOptStatusCode
distoptProgramRunInto(DistOptProgram program, const DistOptTensor *inputs,
                      size_t numInputs, const DistOptOutputBuffer *outputs,
                      size_t numOutputs, DistOptStatus *status) {
  const char *function = "distoptProgramRunInto";
  return guard(status, [&] {
    if (numOutputs && !outputs)
      return invalid(status, function, "the outputs pointer is null");
    for (size_t i = 0; i < numOutputs; ++i) {
      if (!outputs[i].name)
        return invalid(status, function,
                       "output buffer " + std::to_string(i) + " has no name");
      if (outputs[i].byteSize && !outputs[i].data)
        return invalid(status, function,
                       "output buffer " + std::to_string(i) + " ('" +
                           outputs[i].name + "') has null data");
    }
    std::map<std::string, distopt::TensorData> results;
    if (DistOptStatusCode code =
            runProgram(function, program, inputs, numInputs, results, status))
      return code;
    // Every buffer is checked before any is written.
    for (size_t i = 0; i < numOutputs; ++i) {
      auto it = results.find(outputs[i].name);
      if (it == results.end())
        return invalid(status, function,
                       std::string("the program has no output '") +
                           outputs[i].name + "'");
      if (it->second.bytes.size() != outputs[i].byteSize)
        return invalid(status, function,
                       "the buffer of output '" + it->first + "' has " +
                           std::to_string(outputs[i].byteSize) +
                           " bytes, but the output has " +
                           std::to_string(it->second.bytes.size()));
    }
    for (size_t i = 0; i < numOutputs; ++i) {
      const std::vector<uint8_t> &bytes = results.at(outputs[i].name).bytes;
      if (!bytes.empty())
        std::memcpy(outputs[i].data, bytes.data(), bytes.size());
    }
    return DistOptStatusOk;
  });
}

DistOptStatusCode distoptProgramGetWeights(DistOptProgram program,
                                           DistOptTensorSet *weights,
                                           DistOptStatus *status) {
  const char *function = "distoptProgramGetWeights";
  return guard(status, [&] {
    if (!weights)
      return invalid(status, function, "the weights pointer is null");
    weights->ptr = nullptr;
    if (!program.ptr)
      return invalid(status, function, "the program is null");
    auto result = std::make_unique<TensorSetImpl>();
    if (DistOptStatusCode code =
            convert(status, unwrap(program)->getWeights(result->byName)))
      return code;
    for (const auto &[name, data] : result->byName)
      result->ordered.emplace_back(&name, &data);
    weights->ptr = result.release();
    return DistOptStatusOk;
  });
}

//===----------------------------------------------------------------------===//
// Tensor sets
//===----------------------------------------------------------------------===//

void distoptTensorSetDestroy(DistOptTensorSet set) { delete unwrap(set); }

size_t distoptTensorSetGetCount(DistOptTensorSet set) {
  return set.ptr ? unwrap(set)->ordered.size() : 0;
}

DistOptStatusCode distoptTensorSetGet(DistOptTensorSet set, size_t index,
                                      DistOptTensor *tensor) {
  if (!set.ptr || !tensor || index >= unwrap(set)->ordered.size())
    return DistOptStatusInvalidArgument;
  const auto &[name, data] = unwrap(set)->ordered[index];
  *tensor = wrap(*name, *data);
  return DistOptStatusOk;
}

DistOptStatusCode distoptTensorSetLookup(DistOptTensorSet set, const char *name,
                                         DistOptTensor *tensor) {
  if (!set.ptr || !name || !tensor)
    return DistOptStatusInvalidArgument;
  return guard(nullptr, [&] {
    const auto &byName = unwrap(set)->byName;
    auto it = byName.find(name);
    if (it == byName.end())
      return DistOptStatusInvalidArgument;
    *tensor = wrap(it->first, it->second);
    return DistOptStatusOk;
  });
}
