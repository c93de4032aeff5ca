//===- Pipeline.cpp - pipelines of stages ---------------------------------===//
//
// Micro-batch j of a model input is rows [j*b, (j+1)*b) of it, b the stage
// argument's leading dimension: contiguous bytes, since dimension 0 is the
// outermost. Boundary value with index i (in PipelineInfo::boundaries) goes
// with tag i; model output k is gathered with tag B + k (B boundaries).
// Transfers of one tag between two ranks arrive in order, so micro-batch j
// is the j-th message of its tag.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/Pipeline.h"
#include "runtime/core/Training.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/TensorIO.h"

#include "mlir/IR/BuiltinTypes.h"

#include <map>

using namespace distopt;
using namespace distopt::rt;

namespace {
/// The dtype and shape of one micro-batch of a model value.
struct ValueType {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};
} // namespace

/// The runtime's view of `type`, or nothing for a type it cannot run (the
/// executor of the stage that has it says why).
static std::optional<ValueType> toValueType(mlir::Type type) {
  auto tensor = mlir::dyn_cast<mlir::RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return std::nullopt;
  mlir::Type e = tensor.getElementType();
  ValueType v;
  v.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  if (e.isF32())
    v.dtype = DType::F32;
  else if (e.isF64())
    v.dtype = DType::F64;
  else if (e.isF16())
    v.dtype = DType::F16;
  else if (e.isBF16())
    v.dtype = DType::BF16;
  else if (e.isInteger(1))
    v.dtype = DType::I1;
  else if (e.isInteger(8))
    v.dtype = DType::I8;
  else if (e.isInteger(16))
    v.dtype = DType::I16;
  else if (e.isInteger(32))
    v.dtype = DType::I32;
  else if (e.isInteger(64))
    v.dtype = DType::I64;
  else
    return std::nullopt;
  return v;
}

std::optional<IOInfo>
distopt::rt::getMicroBatchInfo(const PipelineValue &value) {
  std::optional<ValueType> micro = toValueType(value.type);
  if (!micro)
    return std::nullopt;
  IOInfo info;
  info.name = value.name;
  info.dtype = micro->dtype;
  info.shape = micro->shape;
  return info;
}

/// The number of micro-batches that `t`, given for input `name` of
/// micro-batch type `micro`, holds; stops every rank when it is not a whole
/// number of them.
static int64_t countMicroBatches(Communicator &comm, const std::string &name,
                                 const std::string &file, const HostTensor &t,
                                 const ValueType &micro) {
  std::string expected = shapeText(micro.dtype, micro.shape);
  if (micro.shape.empty())
    comm.abortAll("input '" + name + "' is a scalar (" + expected +
                  "): a pipeline splits its inputs into micro-batches along "
                  "dimension 0");
  bool sameTrailing =
      t.dtype == micro.dtype && t.shape.size() == micro.shape.size() &&
      std::equal(t.shape.begin() + 1, t.shape.end(), micro.shape.begin() + 1);
  int64_t b = micro.shape[0];
  if (!sameTrailing || b == 0 || t.shape[0] == 0 || t.shape[0] % b != 0)
    comm.abortAll("input '" + name + "': given " + shapeText(t.dtype, t.shape) +
                  " in '" + file +
                  "', which is not a whole number of "
                  "micro-batches of " +
                  expected +
                  " (the stage's argument; micro-batches go along dimension "
                  "0)");
  return t.shape[0] / b;
}

/// Reads the file of input `in` (`batched`: K batches of it along a
/// leading dimension, --data), checks it, and returns its number of
/// micro-batches; `batches` gets K (0 for an --input).
static int64_t readPipelineInput(Communicator &comm, const PipelineValue &in,
                                 const std::string &file, bool batched,
                                 uint64_t maxMemory, HostTensor &t,
                                 int64_t &batches) {
  std::optional<ValueType> micro = toValueType(in.type);
  std::string error;
  if (!readTensorFile(file, maxMemory, t, error))
    comm.abortAll("input '" + in.name + "': " + error);
  batches = 0;
  if (!batched)
    return countMicroBatches(comm, in.name, file, t, *micro);
  if (t.shape.empty() || t.shape[0] < 1)
    comm.abortAll("input '" + in.name + "': given " +
                  shapeText(t.dtype, t.shape) + " in '" + file +
                  "', which holds no batches (--data: K >= 1 batches along "
                  "dimension 0)");
  batches = t.shape[0];
  HostTensor batch{
      t.dtype, std::vector<int64_t>(t.shape.begin() + 1, t.shape.end()), {}};
  return countMicroBatches(comm, in.name, file, batch, *micro);
}

PipelineInputs
distopt::rt::readPipelineInputs(Communicator &comm, const PipelineInfo &info,
                                const std::vector<std::string> &specs,
                                uint64_t maxMemory,
                                const std::vector<std::string> &dataSpecs) {
  std::map<std::string, std::string> seen;
  std::map<std::string, std::string> files =
      parseSpecs(comm, specs, "--input", seen);
  std::map<std::string, std::string> data =
      parseSpecs(comm, dataSpecs, "--data", seen);
  PipelineInputs result;
  std::string firstName;
  for (const PipelineValue &in : info.inputs) {
    std::optional<ValueType> micro = toValueType(in.type);
    if (!micro)
      comm.abortAll("input '" + in.name +
                    "' has a type the runtime cannot "
                    "run");
    bool batched = data.count(in.name);
    auto &from = batched ? data : files;
    auto it = from.find(in.name);
    if (it == from.end())
      comm.abortAll("missing input '" + in.name + "' (micro-batches of " +
                    shapeText(micro->dtype, micro->shape) +
                    "); give it with --input " + in.name + "=FILE");
    HostTensor t;
    int64_t batches = 0;
    int64_t m =
        readPipelineInput(comm, in, it->second, batched, maxMemory, t, batches);
    if (firstName.empty()) {
      firstName = in.name;
      result.microBatches = m;
    } else if (m != result.microBatches) {
      comm.abortAll("inputs '" + firstName + "' and '" + in.name + "' hold " +
                    std::to_string(result.microBatches) + " and " +
                    std::to_string(m) +
                    " micro-batches; every model input must hold the same "
                    "number");
    }
    result.tensors.push_back(std::move(t));
    result.batches.push_back(batches);
    from.erase(it);
  }
  for (auto *rest : {&files, &data})
    if (!rest->empty()) {
      std::string names;
      for (const PipelineValue &in : info.inputs)
        names += " '" + in.name + "'";
      comm.abortAll("unknown input '" + rest->begin()->first +
                    "'; the pipeline's inputs are" + names);
    }
  return result;
}

std::vector<IOInfo> distopt::rt::getPipelineOutputs(Communicator &comm,
                                                    const PipelineInfo &info,
                                                    int64_t microBatches) {
  std::vector<IOInfo> outputs;
  for (const PipelineValue &out : info.outputs) {
    std::optional<ValueType> micro = toValueType(out.type);
    if (!micro)
      comm.abortAll("output '" + out.name +
                    "' has a type the runtime "
                    "cannot run");
    if (micro->shape.empty() && microBatches > 1)
      comm.abortAll("output '" + out.name + "' of stage " +
                    std::to_string(out.stages.front()) +
                    " is a scalar, which cannot be concatenated over " +
                    std::to_string(microBatches) +
                    " micro-batches; run it with one micro-batch");
    if (!micro->shape.empty())
      micro->shape[0] *= microBatches;
    outputs.push_back({out.name, micro->dtype, micro->shape});
  }
  return outputs;
}

void distopt::rt::getMicroBatch(const PipelineInputs &inputs, size_t input,
                                int64_t step, int64_t j, const IOInfo &micro,
                                HostTensor &out) {
  const HostTensor &whole = inputs.tensors[input];
  int64_t batches = inputs.batches.empty() ? 0 : inputs.batches[input];
  size_t batchBytes =
      whole.bytes.size() / size_t(std::max<int64_t>(batches, 1));
  size_t bytes = batchBytes / size_t(inputs.microBatches);
  size_t at = (batches ? (step % batches) * batchBytes : 0) + j * bytes;
  out.dtype = micro.dtype;
  out.shape = micro.shape;
  out.bytes.assign(whole.bytes.begin() + at, whole.bytes.begin() + at + bytes);
}

double
distopt::rt::microsecondsBetween(std::chrono::steady_clock::time_point from,
                                 std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

int distopt::rt::boundaryTag(const PipelineInfo &info, int64_t index,
                             int64_t consumer) {
  return int(index * info.numStages() + consumer);
}

int distopt::rt::firstFreeTag(const PipelineInfo &info) {
  return int(int64_t(info.boundaries.size()) * info.numStages());
}

Communicator::PendingReceive
distopt::rt::startBoundaryReceive(Communicator &comm, const PipelineInfo &info,
                                  const IOInfo &in, int64_t stage, int64_t j,
                                  HostTensor &out) {
  int64_t index = info.boundaryIndex(in.boundary);
  int64_t producer = info.boundaries[index].producer;
  out.dtype = in.dtype;
  out.shape = in.shape;
  out.bytes.resize(Tensor{nullptr, in.dtype, in.shape}.numElements() *
                   byteWidth(in.dtype));
  Tensor t{out.bytes.data(), in.dtype, in.shape};
  return comm.startReceive(
      t, comm.stageRank(info.rankGroupOf(producer)),
      boundaryTag(info, index, stage),
      "stage " + std::to_string(stage) + " receiving boundary " +
          std::to_string(in.boundary) + " of micro-batch " + std::to_string(j) +
          " from stage " + std::to_string(producer));
}

void distopt::rt::receiveBoundary(Communicator &comm, const PipelineInfo &info,
                                  const IOInfo &in, int64_t stage, int64_t j,
                                  HostTensor &out) {
  Communicator::PendingReceive pending =
      startBoundaryReceive(comm, info, in, stage, j, out);
  comm.finishReceive(pending);
}

void distopt::rt::sendBoundary(Communicator &comm, const PipelineInfo &info,
                               const IOInfo &out, HostTensor &value,
                               int64_t stage, int64_t j) {
  int64_t index = info.boundaryIndex(out.boundary);
  Tensor t{value.bytes.data(), value.dtype, value.shape};
  for (int64_t consumer : info.boundaries[index].consumers)
    if (consumer != stage)
      comm.send(t, comm.stageRank(info.rankGroupOf(consumer)),
                boundaryTag(info, index, consumer),
                "stage " + std::to_string(stage) + " sending boundary " +
                    std::to_string(out.boundary) + " of micro-batch " +
                    std::to_string(j) + " to stage " +
                    std::to_string(consumer));
}

void distopt::rt::runPipelineOnce(
    Communicator &comm, Executor &ex, const PipelineInfo &info,
    const PipelineInputs &inputs, std::vector<HostTensor> &stageOutputs,
    std::vector<TraceEvent> *trace,
    std::chrono::steady_clock::time_point origin) {
  using Clock = std::chrono::steady_clock;
  const int64_t stage = ex.stage(), m = inputs.microBatches;
  std::map<std::string, size_t> inputIndex;
  for (size_t i = 0; i < info.inputs.size(); ++i)
    inputIndex[info.inputs[i].name] = i;
  stageOutputs.clear();
  for (const IOInfo &out : ex.outputs())
    if (out.boundary < 0)
      stageOutputs.push_back({out.dtype, out.shape, {}});
  std::vector<HostTensor> args(ex.inputs().size()), results;
  for (int64_t j = 0; j < m; ++j) {
    std::string slot =
        "stage " + std::to_string(stage) + " micro-batch " + std::to_string(j);
    for (size_t i = 0; i < args.size(); ++i) {
      const IOInfo &in = ex.inputs()[i];
      if (in.boundary < 0) {
        getMicroBatch(inputs, inputIndex.at(in.name), 0, j, in, args[i]);
        continue;
      }
      auto start = Clock::now();
      receiveBoundary(comm, info, in, stage, j, args[i]);
      if (trace)
        trace->push_back(
            {"receive " + in.name + " of micro-batch " + std::to_string(j),
             "comm", microsecondsBetween(origin, start),
             microsecondsBetween(start, Clock::now())});
    }
    auto start = Clock::now();
    ex.run(args, results, trace, &origin);
    if (trace)
      trace->push_back({slot, "pipeline", microsecondsBetween(origin, start),
                        microsecondsBetween(start, Clock::now())});
    size_t k = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      const IOInfo &out = ex.outputs()[i];
      if (out.boundary >= 0) {
        sendBoundary(comm, info, out, results[i], stage, j);
        continue;
      }
      std::vector<uint8_t> &bytes = stageOutputs[k++].bytes;
      bytes.insert(bytes.end(), results[i].bytes.begin(),
                   results[i].bytes.end());
    }
  }
  comm.completeSends("stage " + std::to_string(stage));
  for (HostTensor &out : stageOutputs)
    if (!out.shape.empty())
      out.shape[0] *= m;
}

std::vector<HostTensor> distopt::rt::gatherPipelineOutputs(
    Communicator &comm, const Executor &ex, const PipelineInfo &info,
    const std::vector<IOInfo> &outputs, std::vector<HostTensor> &stageOutputs) {
  // This stage's model outputs by name.
  std::map<std::string, HostTensor *> mine;
  size_t k = 0;
  for (const IOInfo &out : ex.outputs())
    if (out.boundary < 0)
      mine[out.name] = &stageOutputs[k++];
  int64_t devices = comm.size() / comm.numStages();
  int tagBase = firstFreeTag(info);
  std::vector<HostTensor> gathered;
  for (size_t i = 0; i < outputs.size(); ++i) {
    int64_t producer = info.outputs[i].stages.front();
    int source = int(info.rankGroupOf(producer) * devices);
    const IOInfo &want = outputs[i];
    if (comm.rank() == 0 && source == 0) {
      gathered.push_back(std::move(*mine.at(want.name)));
    } else if (comm.rank() == 0) {
      HostTensor t{want.dtype, want.shape, {}};
      t.bytes.resize(Tensor{nullptr, want.dtype, want.shape}.numElements() *
                     byteWidth(want.dtype));
      Tensor view{t.bytes.data(), t.dtype, t.shape};
      comm.receive(view, source, tagBase + int(i),
                   "rank 0 receiving model output '" + want.name +
                       "' from stage " + std::to_string(producer));
      gathered.push_back(std::move(t));
    } else if (comm.rank() == source) {
      HostTensor &t = *mine.at(want.name);
      comm.send(Tensor{t.bytes.data(), t.dtype, t.shape}, 0, tagBase + int(i),
                "stage " + std::to_string(producer) +
                    " sending model output '" + want.name + "' to rank 0");
    }
  }
  comm.completeSends("the model outputs");
  return gathered;
}
