//===- Training.cpp - the training loop -----------------------------------===//
//
// Step k (0-based over the whole training, also across --resume) runs the
// program on the --input tensors and on batch k % K of each --data file,
// then the program's dist.assign ops update the persistent weights.
//
// Saved state (--save-weights DIR), written by rank 0 after gathering each
// split weight's slices one weight at a time:
//   DIR/model.onnx        the source ONNX model, every initializer that the
//                         training updated (and every one that was external
//                         data) stored as external data in
//   DIR/model.onnx.data
//   DIR/optimizer.bin     the other persistent weights (optimizer state),
//                         raw row-major bytes
//   DIR/state.json        the index: steps done, and each persistent
//                         weight's dtype, whole shape, file and offset.
// --resume DIR reads state.json and gives every rank its own slices.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/Training.h"

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Support/Resources.h"
#include "distopt/Support/SafePath.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/Executor.h"
#include "runtime/core/TensorIO.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>

using namespace distopt;
using namespace distopt::rt;

std::string distopt::rt::shapeText(DType dtype,
                                   const std::vector<int64_t> &shape) {
  std::string s = std::string(dtypeName(dtype)) + " ";
  if (shape.empty())
    return s + "scalar";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

namespace {

int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Copies the slice at `offsets` of shape `local` between a whole row-major
/// tensor of shape `global` and a packed slice buffer, row by row of the
/// innermost dim; `toSlice` picks the direction.
void copySlice(uint8_t *whole, uint8_t *slice,
               const std::vector<int64_t> &global,
               const std::vector<int64_t> &local,
               const std::vector<int64_t> &offsets, size_t width,
               bool toSlice) {
  int64_t rank = global.size();
  int64_t rowElems = rank ? local[rank - 1] : 1;
  int64_t rows =
      rank ? elementCount(local) / std::max<int64_t>(rowElems, 1) : 1;
  std::vector<int64_t> idx(rank > 0 ? rank - 1 : 0, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t at = 0;
    for (int64_t d = 0; d < rank; ++d)
      at = at * global[d] + offsets[d] + (d + 1 < rank ? idx[d] : 0);
    uint8_t *w = whole + at * width, *s = slice + r * rowElems * width;
    if (toSlice)
      std::memcpy(s, w, rowElems * width);
    else
      std::memcpy(w, s, rowElems * width);
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (++idx[d] < local[d])
        break;
      idx[d] = 0;
    }
  }
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

/// One program input: a tensor used every step, or K batches.
struct BoundInput {
  HostTensor tensor;
  int64_t batches = 0; // 0: the same tensor every step
};

} // namespace

std::map<std::string, std::string>
distopt::rt::parseSpecs(Communicator &comm,
                        const std::vector<std::string> &specs,
                        const char *flag,
                        std::map<std::string, std::string> &seen) {
  std::map<std::string, std::string> files;
  for (const std::string &spec : specs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      comm.abortAll(std::string(flag) + " expects NAME=FILE, found '" + spec +
                    "'");
    std::string name = spec.substr(0, eq);
    if (!seen.emplace(name, flag).second)
      comm.abortAll("input '" + name + "' is given twice (" + seen[name] +
                    " and " + flag + ")");
    files[name] = spec.substr(eq + 1);
  }
  return files;
}

namespace {

/// Reads and checks every input: an --input has the input's type, a --data
/// file has K >= 1 batches of it (shape K x <input shape>).
std::vector<BoundInput> bindInputs(Communicator &comm, const Executor &ex,
                                   const TrainingOptions &opts) {
  std::map<std::string, std::string> seen;
  auto whole = parseSpecs(comm, opts.inputs, "--input", seen);
  auto data = parseSpecs(comm, opts.data, "--data", seen);
  std::vector<BoundInput> bound;
  std::string error;
  for (const IOInfo &in : ex.inputs()) {
    bool isData = data.count(in.name);
    if (!isData && !whole.count(in.name))
      comm.abortAll("missing input '" + in.name + "' (" +
                    shapeText(in.dtype, in.shape) + "); give it with --input " +
                    in.name + "=FILE or --data " + in.name + "=FILE");
    const std::string &file = isData ? data[in.name] : whole[in.name];
    BoundInput b;
    if (!readTensorFile(file, opts.maxMemory, b.tensor, error))
      comm.abortAll("input '" + in.name + "': " + error);
    std::vector<int64_t> shape = b.tensor.shape;
    if (isData && !shape.empty()) {
      b.batches = shape.front();
      shape.erase(shape.begin());
    }
    if (b.tensor.dtype != in.dtype || shape != in.shape ||
        (isData && b.batches < 1))
      comm.abortAll("input '" + in.name + "': expected " +
                    (isData ? "K >= 1 batches of " : "") +
                    shapeText(in.dtype, in.shape) + ", given " +
                    shapeText(b.tensor.dtype, b.tensor.shape) + " in '" + file +
                    "'");
    bound.push_back(std::move(b));
    (isData ? data : whole).erase(in.name);
  }
  for (auto *rest : {&whole, &data})
    if (!rest->empty()) {
      std::string names;
      for (const IOInfo &in : ex.inputs())
        names += " '" + in.name + "'";
      comm.abortAll("unknown input '" + rest->begin()->first +
                    "'; the program's inputs are" + names);
    }
  return bound;
}

/// The inputs of step `k`.
void stepInputs(const std::vector<BoundInput> &bound, int64_t k,
                std::vector<HostTensor> &out) {
  out.resize(bound.size());
  for (size_t i = 0; i < bound.size(); ++i) {
    const BoundInput &b = bound[i];
    if (!b.batches) {
      if (out[i].bytes.empty())
        out[i] = b.tensor;
      continue;
    }
    size_t bytes = b.tensor.bytes.size() / b.batches;
    const uint8_t *src = b.tensor.bytes.data() + (k % b.batches) * bytes;
    out[i].dtype = b.tensor.dtype;
    out[i].shape.assign(b.tensor.shape.begin() + 1, b.tensor.shape.end());
    out[i].bytes.assign(src, src + bytes);
  }
}

//===----------------------------------------------------------------------===//
// Resume
//===----------------------------------------------------------------------===//

} // namespace

int64_t distopt::rt::resumeState(Communicator &comm,
                                 const std::vector<StateInfo> &mine,
                                 size_t total, const std::string &dir) {
  std::string where = "--resume '" + dir + "'";
  if (!llvm::sys::fs::is_directory(dir))
    comm.abortAll(where + ": no such folder");
  auto text = llvm::MemoryBuffer::getFile(dir + "/state.json");
  if (!text)
    comm.abortAll(where + ": no saved training state (state.json): " +
                  text.getError().message());
  nlohmann::json index =
      nlohmann::json::parse((*text)->getBuffer().str(), nullptr, false);
  // Built without exceptions: every field's type is checked before it is
  // read.
  auto isEntry = [](const nlohmann::json &w) {
    if (!w.is_object() || !w.contains("name") || !w["name"].is_string() ||
        !w.contains("dtype") || !w["dtype"].is_string() ||
        !w.contains("file") || !w["file"].is_string() ||
        !w.contains("offset") || !w["offset"].is_number_unsigned() ||
        !w.contains("shape") || !w["shape"].is_array())
      return false;
    for (const nlohmann::json &d : w["shape"])
      if (!d.is_number_integer())
        return false;
    return true;
  };
  bool valid = !index.is_discarded() && index.is_object() &&
               index.contains("weights") && index["weights"].is_array() &&
               index.contains("steps") && index["steps"].is_number_unsigned();
  std::map<std::string, nlohmann::json> saved;
  if (valid)
    for (const nlohmann::json &w : index["weights"]) {
      valid &= isEntry(w);
      if (valid)
        saved[w["name"].get<std::string>()] = w;
    }
  if (!valid)
    comm.abortAll(where + ": state.json is not a dist-run training state");
  if (saved.size() != total)
    comm.abortAll(where + ": the saved state has " +
                  std::to_string(saved.size()) +
                  " persistent weights, the program " + std::to_string(total));
  for (const StateInfo &s : mine) {
    auto it = saved.find(s.name);
    if (it == saved.end())
      comm.abortAll(where + ": the saved state has no weight '" + s.name +
                    "'; it was saved by another program");
    const nlohmann::json &w = it->second;
    std::string dtype = w["dtype"].get<std::string>();
    std::vector<int64_t> shape = w["shape"].get<std::vector<int64_t>>();
    if (dtype != dtypeName(s.dtype) || shape != s.globalShape)
      comm.abortAll(where + ": weight '" + s.name + "' is " + dtype + " " +
                    nlohmann::json(shape).dump() + " in the saved state but " +
                    shapeText(s.dtype, s.globalShape) + " in the program");
    size_t width = byteWidth(s.dtype);
    uint64_t length = elementCount(s.globalShape) * width;
    auto bytes = readDataFileSlice(dir, w["file"].get<std::string>(),
                                   w["offset"].get<uint64_t>(), length);
    if (!bytes)
      comm.abortAll(where + ": weight '" + s.name +
                    "': " + llvm::toString(bytes.takeError()));
    copySlice(reinterpret_cast<uint8_t *>(
                  const_cast<char *>((*bytes)->getBufferStart())),
              static_cast<uint8_t *>(s.data), s.globalShape, s.shape, s.offsets,
              width, /*toSlice=*/true);
  }
  return index["steps"].get<int64_t>();
}

namespace {

//===----------------------------------------------------------------------===//
// Save
//===----------------------------------------------------------------------===//

/// The source ONNX model the artifact names (rank 0 reads it before
/// training, so that a missing model stops the run before anything runs).
} // namespace

std::optional<onnx::ModelProto>
distopt::rt::readSourceModel(Communicator &comm, mlir::ModuleOp module,
                             std::string &modelDir) {
  mlir::MLIRContext *ctx = module.getContext();
  auto dir = dist::DistDialect::ModelDirAttrHelper(ctx).getAttr(module);
  auto source = dist::DistDialect::SourceModelAttrHelper(ctx).getAttr(module);
  if (!dir || !source)
    comm.abortAll("--save-weights: the artifact does not name the ONNX model "
                  "it was compiled from (dist.source_model); compile it from "
                  "an ONNX model to save trained weights");
  modelDir = dir.str();
  auto status = checkDataPath(modelDir, source.getValue());
  if (!status || !status->exists)
    comm.abortAll("--save-weights: the source model '" + modelDir + "/" +
                  source.str() + "' " +
                  (status ? std::string("does not exist")
                          : llvm::toString(status.takeError())));
  auto bytes = readDataFileSlice(modelDir, source.getValue(), 0, status->size);
  onnx::ModelProto model;
  if (!bytes || !model.ParseFromArray((*bytes)->getBufferStart(),
                                      static_cast<int>(status->size)))
    comm.abortAll("--save-weights: cannot read the source model '" + modelDir +
                  "/" + source.str() + "'");
  return model;
}

std::vector<uint8_t> distopt::rt::gatherWhole(Communicator &comm,
                                              const StateInfo &s,
                                              const StateInfo *mine) {
  std::string record;
  if (mine) {
    record.assign(mine->offsets.size() * 8, '\0');
    if (!mine->offsets.empty())
      std::memcpy(record.data(), mine->offsets.data(), record.size());
    record.append(static_cast<const char *>(mine->data), mine->bytes);
  }
  std::vector<std::string> parts =
      comm.gatherRecords(record, "saving weight '" + s.name + "'");
  std::vector<uint8_t> whole;
  if (comm.rank() != 0)
    return whole;
  size_t width = byteWidth(s.dtype);
  whole.resize(elementCount(s.globalShape) * width);
  for (std::string &part : parts) {
    if (part.empty())
      continue;
    std::vector<int64_t> offsets(s.globalShape.size());
    if (!offsets.empty())
      std::memcpy(offsets.data(), part.data(), offsets.size() * 8);
    copySlice(whole.data(),
              reinterpret_cast<uint8_t *>(part.data()) + offsets.size() * 8,
              s.globalShape, s.shape, offsets, width, /*toSlice=*/false);
  }
  return whole;
}

namespace {

/// Files written under temporary names and renamed into place together.
class PendingFiles {
public:
  explicit PendingFiles(std::string dir) : dir(std::move(dir)) {}
  ~PendingFiles() { discard(); }
  /// Removes the temporary files (before an abort, which runs no
  /// destructors).
  void discard() {
    for (auto &s : streams)
      s->close();
    for (auto &[tmp, final] : files)
      llvm::sys::fs::remove(tmp);
    files.clear();
  }
  /// A new temporary file for `name`; false with `error` on failure.
  std::ofstream *open(const std::string &name, std::string &error) {
    llvm::SmallString<256> model(dir + "/." + name + ".tmp-%%%%%%");
    llvm::SmallString<256> tmp;
    if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, tmp)) {
      error = "cannot create '" + std::string(model) + "': " + ec.message();
      return nullptr;
    }
    files.push_back({tmp.str().str(), dir + "/" + name});
    streams.emplace_back(std::make_unique<std::ofstream>(
        tmp.str().str(), std::ios::binary | std::ios::trunc));
    return streams.back().get();
  }
  bool commit(std::string &error) {
    for (auto &s : streams) {
      s->close();
      if (!*s) {
        error = "cannot write a file in '" + dir + "'";
        return false;
      }
    }
    for (auto &[tmp, final] : files)
      if (std::error_code ec = llvm::sys::fs::rename(tmp, final)) {
        error = "cannot write '" + final + "': " + ec.message();
        return false;
      }
    files.clear();
    return true;
  }

private:
  std::string dir;
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::unique_ptr<std::ofstream>> streams;
};

/// Points initializer `t` at `length` bytes at `offset` of `location`.
void setExternal(onnx::TensorProto &t, const std::string &location,
                 uint64_t offset, uint64_t length) {
  t.clear_raw_data();
  t.clear_float_data();
  t.clear_double_data();
  t.clear_int32_data();
  t.clear_int64_data();
  t.clear_uint64_data();
  t.clear_external_data();
  t.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char *key, const std::string &value) {
    onnx::StringStringEntryProto *e = t.add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  add("location", location);
  add("offset", std::to_string(offset));
  add("length", std::to_string(length));
}

/// The external data bytes of an initializer of the source model.
bool readExternal(const onnx::TensorProto &t, const std::string &modelDir,
                  std::string &out) {
  std::string location;
  uint64_t offset = 0, length = 0;
  bool hasLength = false;
  for (const auto &e : t.external_data()) {
    if (e.key() == "location")
      location = e.value();
    else if (e.key() == "offset")
      offset = std::strtoull(e.value().c_str(), nullptr, 10);
    else if (e.key() == "length") {
      length = std::strtoull(e.value().c_str(), nullptr, 10);
      hasLength = true;
    }
  }
  if (!hasLength) {
    auto status = checkDataPath(modelDir, location);
    if (!status || !status->exists)
      return false;
    length = status->size - offset;
  }
  auto bytes = readDataFileSlice(modelDir, location, offset, length);
  if (!bytes) {
    llvm::consumeError(bytes.takeError());
    return false;
  }
  out.assign((*bytes)->getBufferStart(), length);
  return true;
}

} // namespace

void distopt::rt::saveState(Communicator &comm,
                            const std::vector<StateInfo> &all,
                            const std::vector<const StateInfo *> &mine,
                            std::optional<onnx::ModelProto> model,
                            const std::string &modelDir, const std::string &dir,
                            int64_t stepsDone) {
  bool root = comm.rank() == 0;
  std::string error;
  if (root) {
    if (std::error_code ec = llvm::sys::fs::create_directories(dir))
      comm.abortAll("--save-weights: cannot create '" + dir +
                    "': " + ec.message());
  }
  PendingFiles pending(dir);
  auto fail = [&](const std::string &message) {
    pending.discard();
    comm.abortAll(message);
  };
  std::ofstream *data = nullptr, *optim = nullptr;
  if (root && (!(data = pending.open("model.onnx.data", error)) ||
               !(optim = pending.open("optimizer.bin", error))))
    fail("--save-weights: " + error);
  std::map<std::string, onnx::TensorProto *> inits;
  if (root)
    for (onnx::TensorProto &t : *model->mutable_graph()->mutable_initializer())
      inits[t.name()] = &t;
  uint64_t dataSize = 0, optimSize = 0;
  nlohmann::json weights = nlohmann::json::array();
  for (size_t i = 0; i < all.size(); ++i) {
    const StateInfo &s = all[i];
    std::vector<uint8_t> whole = gatherWhole(comm, s, mine[i]);
    if (!root)
      continue;
    auto it = inits.find(s.name);
    bool inModel = !s.zero && it != inits.end();
    uint64_t &size = inModel ? dataSize : optimSize;
    (inModel ? data : optim)
        ->write(reinterpret_cast<const char *>(whole.data()), whole.size());
    if (inModel) {
      setExternal(*it->second, "model.onnx.data", size, whole.size());
      inits.erase(it);
    }
    weights.push_back({{"name", s.name},
                       {"dtype", dtypeName(s.dtype)},
                       {"shape", s.globalShape},
                       {"file", inModel ? "model.onnx.data" : "optimizer.bin"},
                       {"offset", size}});
    size += whole.size();
  }
  if (!root)
    return;
  // The untrained initializers that were external data move along.
  for (auto &[name, t] : inits) {
    if (t->data_location() != onnx::TensorProto::EXTERNAL)
      continue;
    std::string bytes;
    if (!readExternal(*t, modelDir, bytes))
      fail("--save-weights: cannot read the data of initializer '" + name +
           "' of the source model");
    data->write(bytes.data(), bytes.size());
    setExternal(*t, "model.onnx.data", dataSize, bytes.size());
    dataSize += bytes.size();
  }
  std::ofstream *onnxFile = pending.open("model.onnx", error);
  std::ofstream *indexFile =
      onnxFile ? pending.open("state.json", error) : nullptr;
  if (!indexFile)
    fail("--save-weights: " + error);
  if (!model->SerializeToOstream(onnxFile))
    fail("--save-weights: cannot write '" + dir + "/model.onnx'");
  *indexFile << nlohmann::json{{"format", 1},
                               {"steps", stepsDone},
                               {"weights", weights}}
                    .dump(1)
             << "\n";
  if (!pending.commit(error))
    fail("--save-weights: " + error);
}

namespace {

//===----------------------------------------------------------------------===//
// The loop
//===----------------------------------------------------------------------===//

/// The program must return exactly one float scalar: the loss.
void checkLossOutput(Communicator &comm, const Executor &ex) {
  const std::vector<IOInfo> &outs = ex.outputs();
  if (outs.size() != 1 || !outs[0].shape.empty() ||
      (outs[0].dtype != DType::F32 && outs[0].dtype != DType::F64))
    comm.abortAll("a training program returns one f32 or f64 scalar, the "
                  "loss; this one returns " +
                  std::to_string(outs.size()) + " values");
}

} // namespace

double distopt::rt::lossValue(const HostTensor &t) {
  if (t.dtype == DType::F64) {
    double v;
    std::memcpy(&v, t.bytes.data(), 8);
    return v;
  }
  float v;
  std::memcpy(&v, t.bytes.data(), 4);
  return v;
}

void distopt::rt::checkOutputPlaces(Communicator &comm,
                                    const TrainingOptions &opts) {
  if (comm.rank() != 0)
    return;
  if (!opts.lossLog.empty()) {
    std::string parent = llvm::sys::path::parent_path(opts.lossLog).str();
    if (!parent.empty() && !llvm::sys::fs::is_directory(parent))
      comm.abortAll("--loss-log: the folder '" + parent + "' does not exist");
    if (llvm::sys::fs::is_directory(opts.lossLog))
      comm.abortAll("--loss-log: '" + opts.lossLog + "' is a folder");
  }
  if (!opts.saveDir.empty() && llvm::sys::fs::exists(opts.saveDir) &&
      !llvm::sys::fs::is_directory(opts.saveDir))
    comm.abortAll("--save-weights: '" + opts.saveDir +
                  "' exists and is not a folder");
}

void distopt::rt::agreeOnInputs(Communicator &comm, const Executor &ex,
                                const std::vector<const HostTensor *> &inputs) {
  std::vector<std::string> names;
  for (const IOInfo &in : ex.inputs())
    names.push_back(in.name);
  agreeOnInputs(comm, names, inputs);
}

void distopt::rt::agreeOnInputs(Communicator &comm,
                                const std::vector<std::string> &names,
                                const std::vector<const HostTensor *> &inputs) {
  if (comm.size() == 1)
    return;
  std::string record;
  for (const HostTensor *t : inputs) {
    llvm::XXH128_hash_t h = llvm::xxh3_128bits(t->bytes);
    record.append(reinterpret_cast<const char *>(&h.low64), 8);
    record.append(reinterpret_cast<const char *>(&h.high64), 8);
  }
  std::vector<std::string> records =
      comm.allGatherRecords(record, "the ranks' check of the inputs");
  bool differ = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string ranks;
    int count = 0;
    for (int r = 1; r < comm.size(); ++r)
      if (records[r].compare(i * 16, 16, records[0], i * 16, 16) != 0)
        ranks += (count++ ? ", " : "") + std::to_string(r);
    if (!count)
      continue;
    differ = true;
    if (comm.rank() == 0)
      std::fprintf(stderr,
                   "dist-run: rank 0: error: input '%s' differs between "
                   "ranks: rank%s %s read other bytes than rank 0; every rank "
                   "must be given the same data (or --inputs-per-rank for "
                   "arguments split by hand)\n",
                   names[i].c_str(), count > 1 ? "s" : "", ranks.c_str());
  }
  if (differ)
    comm.exitAll(1);
}

void distopt::rt::printMemory(Communicator &comm, const Executor &ex,
                              uint64_t residentBefore) {
  printMemoryTotals(comm, ex.arenaBytes(), ex.arenaValueBytes(),
                    ex.weightBytes(), ex.inputBytes(), residentBefore);
}

void distopt::rt::printMemoryTotals(Communicator &comm, size_t arena,
                                    size_t values, size_t weights,
                                    size_t inputs, uint64_t residentBefore) {
  if (comm.rank() != 0)
    return;
  std::printf("memory: arena %zu bytes for %zu bytes of values; weights "
              "%zu bytes; inputs %zu bytes\n",
              arena, values, weights, inputs);
  if (uint64_t peak = getPeakResidentBytes())
    std::printf("resident: peak %llu bytes, %llu bytes before the program "
                "was built\n",
                (unsigned long long)peak, (unsigned long long)residentBefore);
}

void distopt::rt::runTraining(Communicator &comm, Executor &ex,
                              mlir::ModuleOp module,
                              const TrainingOptions &opts) {
  checkLossOutput(comm, ex);
  checkOutputPlaces(comm, opts);
  std::vector<BoundInput> bound = bindInputs(comm, ex, opts);
  if (!opts.inputsPerRank) {
    std::vector<const HostTensor *> read;
    for (const BoundInput &b : bound)
      read.push_back(&b.tensor);
    agreeOnInputs(comm, ex, read);
  }
  std::optional<onnx::ModelProto> model;
  std::string modelDir;
  if (!opts.saveDir.empty() && comm.rank() == 0)
    model = readSourceModel(comm, module, modelDir);
  int64_t first =
      opts.resumeDir.empty()
          ? 0
          : resumeState(comm, ex.state(), ex.state().size(), opts.resumeDir);
  comm.barrier("before training");
  std::vector<std::pair<int64_t, double>> losses;
  std::vector<HostTensor> inputs, outputs;
  for (int64_t k = first; k < first + opts.steps; ++k) {
    stepInputs(bound, k, inputs);
    auto start = std::chrono::steady_clock::now();
    ex.run(inputs, outputs, nullptr);
    comm.barrier("after step " + std::to_string(k + 1));
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    double loss = lossValue(outputs[0]);
    losses.push_back({k + 1, loss});
    if (comm.rank() == 0) {
      std::printf("step %lld loss %.9g time %.3f ms\n",
                  static_cast<long long>(k + 1), loss, ms);
      std::fflush(stdout);
    }
  }
  printMemory(comm, ex, opts.residentBefore);
  if (!opts.saveDir.empty()) {
    std::vector<const StateInfo *> mine;
    for (const StateInfo &s : ex.state())
      mine.push_back(&s);
    saveState(comm, ex.state(), mine, std::move(model), modelDir, opts.saveDir,
              first + opts.steps);
  }
  if (!opts.lossLog.empty())
    writeLossLog(comm, opts.lossLog, losses);
}

void distopt::rt::writeLossLog(
    Communicator &comm, const std::string &path,
    const std::vector<std::pair<int64_t, double>> &losses) {
  if (comm.rank() != 0)
    return;
  std::string csv = "step,loss\n";
  char line[64];
  for (auto [step, loss] : losses) {
    std::snprintf(line, sizeof(line), "%lld,%.9g\n",
                  static_cast<long long>(step), loss);
    csv += line;
  }
  PendingFiles pending(llvm::sys::path::parent_path(path).empty()
                           ? "."
                           : llvm::sys::path::parent_path(path).str());
  std::string error;
  std::ofstream *out =
      pending.open(llvm::sys::path::filename(path).str(), error);
  if (!out)
    comm.abortAll("--loss-log: " + error);
  *out << csv;
  if (!pending.commit(error)) {
    pending.discard();
    comm.abortAll("--loss-log: " + error);
  }
}
