//===- dist-run.cpp - execute a compiled dist-opt artifact ----------------===//
//
//   dist-run model.dist --input NAME=FILE ... --output-dir DIR
//   mpirun -np N dist-run model.dist ...
//
// Loads the artifact, binds the inputs (.npy or ONNX .pb files), runs the
// program on this rank (collectives through MPI), and writes each graph
// output as DIR/<name>.npy. Any error on any rank stops every rank with a
// non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Artifact.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/Executor.h"
#include "runtime/core/TensorIO.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Threading.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>

using namespace distopt;
using namespace distopt::rt;

static const char *kUsage =
    "usage: dist-run ARTIFACT --input NAME=FILE ... --output-dir DIR\n"
    "       [--threads N] [--trace FILE] [--repeat N]\n"
    "\n"
    "Executes a dist-opt artifact on this rank (under mpirun: on every rank).\n"
    "\n"
    "  --input NAME=FILE  bind graph input NAME to a .npy or ONNX .pb file\n"
    "  --output-dir DIR   write each graph output as DIR/<name>.npy\n"
    "  --threads N        threads per rank (default: cores / ranks on the node)\n"
    "  --trace FILE       write a Chrome trace (Trace Event JSON) of every\n"
    "                     kernel and communication, one process per rank\n"
    "  --repeat N         run N times and print the median time of a run\n";

/// The command line. dist-run parses its few flags itself: libLLVM already
/// registers a global --threads option with llvm::cl.
struct Options {
  std::string artifact, outputDir, trace;
  std::vector<std::string> inputs;
  int threads = 0, repeat = 1;
};

static bool parseArgs(int argc, char **argv, Options &o, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    bool hasValue = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasValue = true;
      }
    }
    auto next = [&](std::string &out) {
      if (hasValue) {
        out = value;
        return true;
      }
      if (i + 1 >= argc) {
        error = arg + " expects a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    auto number = [&](int &out) {
      std::string text;
      if (!next(text))
        return false;
      char *end = nullptr;
      long v = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end || v <= 0) {
        error = arg + " expects a positive integer, found '" + text + "'";
        return false;
      }
      out = int(v);
      return true;
    };
    std::string text;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--input") {
      if (!next(text))
        return false;
      o.inputs.push_back(text);
    } else if (arg == "--output-dir") {
      if (!next(o.outputDir))
        return false;
    } else if (arg == "--trace") {
      if (!next(o.trace))
        return false;
    } else if (arg == "--threads") {
      if (!number(o.threads))
        return false;
    } else if (arg == "--repeat") {
      if (!number(o.repeat))
        return false;
    } else if (arg.rfind("-", 0) == 0) {
      error = "unknown option '" + arg + "'";
      return false;
    } else if (o.artifact.empty()) {
      o.artifact = arg;
    } else {
      error = "more than one artifact given ('" + o.artifact + "', '" + arg +
              "')";
      return false;
    }
  }
  if (o.artifact.empty()) {
    error = "no artifact given";
    return false;
  }
  if (o.outputDir.empty()) {
    error = "--output-dir is required";
    return false;
  }
  return true;
}

static std::string shapeStr(DType dtype, const std::vector<int64_t> &shape) {
  std::string s = dtypeName(dtype);
  s += " ";
  if (shape.empty())
    return s + "scalar";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

/// Writes the trace: rank 0 gathers every rank's events.
static void writeTrace(Communicator &comm, const std::vector<TraceEvent> &events,
                       const std::string &path) {
  nlohmann::json mine = nlohmann::json::array();
  for (const TraceEvent &e : events)
    mine.push_back({{"name", e.name}, {"cat", e.category}, {"ph", "X"},
                    {"ts", e.startUs}, {"dur", e.durationUs},
                    {"pid", comm.rank()}, {"tid", e.category == "comm" ? 1 : 0}});
  std::string text = mine.dump();
  int length = text.size();
  std::vector<int> lengths(comm.size());
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> displs(comm.size(), 0);
  std::string all;
  if (comm.rank() == 0) {
    for (int r = 1; r < comm.size(); ++r)
      displs[r] = displs[r - 1] + lengths[r - 1];
    all.resize(displs.back() + lengths.back());
  }
  MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(),
              displs.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  if (comm.rank() != 0)
    return;
  nlohmann::json trace = {{"traceEvents", nlohmann::json::array()},
                          {"displayTimeUnit", "ms"}};
  for (int r = 0; r < comm.size(); ++r) {
    trace["traceEvents"].push_back({{"name", "process_name"}, {"ph", "M"},
                                    {"pid", r},
                                    {"args", {{"name", "rank " + std::to_string(r)}}}});
    for (auto &e : nlohmann::json::parse(all.substr(displs[r], lengths[r])))
      trace["traceEvents"].push_back(e);
  }
  std::ofstream out(path);
  out << trace.dump(1) << "\n";
  if (!out)
    comm.abortAll("cannot write the trace to '" + path + "'");
}

int main(int argc, char **argv) {
  Communicator comm(&argc, &argv);
  Options opts;
  std::string error;
  if (!parseArgs(argc, argv, opts, error))
    comm.abortAll(error + "\n" + kUsage, 2);
  const std::string &artifactPath = opts.artifact;
  const std::string &outputDir = opts.outputDir;
  const std::string &tracePath = opts.trace;
  const int threads = opts.threads, repeat = opts.repeat;

  // Threads: this node's cores shared by the ranks on it.
  int localRanks = 1;
  if (const char *n = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE"))
    localRanks = std::max(1, std::atoi(n));
  int nthreads = threads > 0 ? int(threads)
                             : std::max(1, int(llvm::hardware_concurrency()
                                                   .compute_thread_count()) /
                                               localRanks);
  setNumThreads(nthreads);

  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  std::string firstError;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (firstError.empty())
      firstError = d.str();
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = readArtifact(artifactPath, &context);
  if (!module)
    comm.abortAll("'" + artifactPath + "' " + firstError);

  std::unique_ptr<Executor> ex = Executor::create(*module, comm, error);
  if (!ex)
    comm.abortAll(error);

  // Inputs, by name.
  std::map<std::string, std::string> files;
  for (const std::string &spec : opts.inputs) {
    size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      comm.abortAll("--input expects NAME=FILE, found '" + spec + "'");
    if (!files.emplace(spec.substr(0, eq), spec.substr(eq + 1)).second)
      comm.abortAll("--input gives '" + spec.substr(0, eq) + "' twice");
  }
  std::vector<HostTensor> inputs;
  for (const IOInfo &in : ex->inputs()) {
    auto it = files.find(in.name);
    if (it == files.end())
      comm.abortAll("missing input '" + in.name + "' (" +
                    shapeStr(in.dtype, in.shape) + "); give it with --input " +
                    in.name + "=FILE");
    HostTensor t;
    if (!readTensorFile(it->second, t, error))
      comm.abortAll("input '" + in.name + "': " + error);
    if (t.dtype != in.dtype || t.shape != in.shape)
      comm.abortAll("input '" + in.name + "': expected " +
                    shapeStr(in.dtype, in.shape) + ", given " +
                    shapeStr(t.dtype, t.shape) + " in '" + it->second + "'");
    inputs.push_back(std::move(t));
    files.erase(it);
  }
  if (!files.empty()) {
    std::string names;
    for (const IOInfo &in : ex->inputs())
      names += " '" + in.name + "'";
    comm.abortAll("unknown input '" + files.begin()->first +
                  "'; the program's inputs are" + names);
  }
  if (comm.rank() == 0)
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      comm.abortAll("cannot create '" + outputDir + "': " + ec.message());

  std::vector<HostTensor> outputs;
  std::vector<TraceEvent> events;
  std::vector<double> times;
  for (int i = 0; i < std::max(1, int(repeat)); ++i) {
    bool last = i + 1 == std::max(1, int(repeat));
    MPI_Barrier(MPI_COMM_WORLD);
    auto start = std::chrono::steady_clock::now();
    ex->run(inputs, outputs, last && !tracePath.empty() ? &events : nullptr);
    MPI_Barrier(MPI_COMM_WORLD);
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  if (repeat > 1 && comm.rank() == 0) {
    std::sort(times.begin(), times.end());
    std::printf("median run time: %.3f ms over %d runs (%d ranks, %d threads "
                "each)\n",
                times[times.size() / 2], int(times.size()), comm.size(),
                nthreads);
    std::printf("memory: arena %zu bytes for %zu bytes of values; weights "
                "%zu bytes\n",
                ex->arenaBytes(), ex->arenaValueBytes(), ex->weightBytes());
  }
  if (!tracePath.empty())
    writeTrace(comm, events, tracePath);

  // Rank 0 writes the outputs (partitioned programs return them whole).
  if (comm.rank() == 0) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      llvm::SmallString<256> path(outputDir);
      llvm::sys::path::append(path, ex->outputs()[i].name + ".npy");
      if (!writeNpy(std::string(path), outputs[i], error))
        comm.abortAll(error);
    }
  }
  return 0;
}
