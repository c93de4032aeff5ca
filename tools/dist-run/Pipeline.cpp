//===- Pipeline.cpp - dist-run's pipeline of stages -----------------------===//
//
// Micro-batch j of a model input is rows [j*b, (j+1)*b) of it, b the stage
// argument's leading dimension: contiguous bytes, since dimension 0 is the
// outermost. Boundary value with index i (in PipelineInfo::boundaries) goes
// with tag i; model output k is gathered with tag B + k (B boundaries).
// Transfers of one tag between two ranks arrive in order, so micro-batch j
// is the j-th message of its tag.
//
//===----------------------------------------------------------------------===//

#include "Pipeline.h"
#include "Training.h"
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

PipelineInputs
distopt::rt::readPipelineInputs(Communicator &comm, const PipelineInfo &info,
                                const std::vector<std::string> &specs,
                                uint64_t maxMemory) {
  std::map<std::string, std::string> seen;
  std::map<std::string, std::string> files =
      parseSpecs(comm, specs, "--input", seen);
  PipelineInputs result;
  std::string firstName, error;
  for (const PipelineValue &in : info.inputs) {
    std::optional<ValueType> micro = toValueType(in.type);
    if (!micro)
      comm.abortAll("input '" + in.name +
                    "' has a type the runtime cannot "
                    "run");
    auto it = files.find(in.name);
    if (it == files.end())
      comm.abortAll("missing input '" + in.name + "' (micro-batches of " +
                    shapeText(micro->dtype, micro->shape) +
                    "); give it with --input " + in.name + "=FILE");
    HostTensor t;
    if (!readTensorFile(it->second, maxMemory, t, error))
      comm.abortAll("input '" + in.name + "': " + error);
    int64_t m = countMicroBatches(comm, in.name, it->second, t, *micro);
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
    files.erase(it);
  }
  if (!files.empty()) {
    std::string names;
    for (const PipelineValue &in : info.inputs)
      names += " '" + in.name + "'";
    comm.abortAll("unknown input '" + files.begin()->first +
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

/// Micro-batch `j` of `whole`, a tensor of `m` micro-batches.
static void sliceMicroBatch(const HostTensor &whole, int64_t j, int64_t m,
                            const IOInfo &micro, HostTensor &out) {
  size_t bytes = whole.bytes.size() / size_t(m);
  out.dtype = micro.dtype;
  out.shape = micro.shape;
  out.bytes.assign(whole.bytes.begin() + j * bytes,
                   whole.bytes.begin() + (j + 1) * bytes);
}

static double microseconds(std::chrono::steady_clock::time_point from,
                           std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

/// Receives boundary argument `in` of micro-batch `j` into `out`, from the
/// rank of its producing stage at this rank's grid position.
static void receiveBoundary(Communicator &comm, const PipelineInfo &info,
                            const IOInfo &in, int64_t stage, int64_t j,
                            HostTensor &out) {
  int64_t index = info.boundaryIndex(in.boundary);
  int64_t producer = info.boundaries[index].producer;
  out.dtype = in.dtype;
  out.shape = in.shape;
  out.bytes.resize(Tensor{nullptr, in.dtype, in.shape}.numElements() *
                   byteWidth(in.dtype));
  Tensor t{out.bytes.data(), in.dtype, in.shape};
  comm.receive(t, comm.stageRank(producer), int(index),
               "stage " + std::to_string(stage) + " receiving boundary " +
                   std::to_string(in.boundary) + " of micro-batch " +
                   std::to_string(j) + " from stage " +
                   std::to_string(producer));
}

/// Sends boundary result `out` of micro-batch `j` to every stage that
/// consumes it (without waiting for the sends to complete).
static void sendBoundary(Communicator &comm, const PipelineInfo &info,
                         const IOInfo &out, HostTensor &value, int64_t stage,
                         int64_t j) {
  int64_t index = info.boundaryIndex(out.boundary);
  Tensor t{value.bytes.data(), value.dtype, value.shape};
  for (int64_t consumer : info.boundaries[index].consumers)
    comm.send(t, comm.stageRank(consumer), int(index),
              "stage " + std::to_string(stage) + " sending boundary " +
                  std::to_string(out.boundary) + " of micro-batch " +
                  std::to_string(j) + " to stage " + std::to_string(consumer));
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
        sliceMicroBatch(inputs.tensors[inputIndex.at(in.name)], j, m, in,
                        args[i]);
        continue;
      }
      auto start = Clock::now();
      receiveBoundary(comm, info, in, stage, j, args[i]);
      if (trace)
        trace->push_back(
            {"receive " + in.name + " of micro-batch " + std::to_string(j),
             "comm", microseconds(origin, start),
             microseconds(start, Clock::now())});
    }
    auto start = Clock::now();
    ex.run(args, results, trace, &origin);
    if (trace)
      trace->push_back({slot, "pipeline", microseconds(origin, start),
                        microseconds(start, Clock::now())});
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
  int tagBase = int(info.boundaries.size());
  std::vector<HostTensor> gathered;
  for (size_t i = 0; i < outputs.size(); ++i) {
    int64_t producer = info.outputs[i].stages.front();
    int source = int(producer * devices);
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
