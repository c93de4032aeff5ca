//===- dist-run.cpp - execute a compiled dist-opt artifact ----------------===//
//
//   dist-run model.dist --input NAME=FILE ... --output-dir DIR
//   mpirun -np N dist-run model.dist ...
//
// Loads the artifact (its checksum checked), makes sure every rank runs the
// same artifact with the same options, binds the inputs (.npy or ONNX .pb
// files; every rank must read the same bytes), runs the program on this
// rank (collectives through MPI, each watched by --collective-timeout), and
// writes each graph output as DIR/<name>.npy. A pipeline artifact runs its
// stages over micro-batches (Pipeline.h). Any error on any rank stops
// every rank with a non-zero exit; no rank is left waiting.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/Pipeline.h"
#include "runtime/core/TrainPipeline.h"
#include "runtime/core/Training.h"
#include "distopt/Artifact/Artifact.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Support/Resources.h"
#include "distopt/Support/SafePath.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/Executor.h"
#include "runtime/core/TensorIO.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Threading.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <malloc.h>
#include <map>
#include <set>
#include <thread>
#include <unistd.h>

using namespace distopt;
using namespace distopt::rt;

static const char *kUsage =
    "usage: dist-run ARTIFACT --input NAME=FILE ... --output-dir DIR\n"
    "       [--threads N] [--trace FILE] [--repeat N] [--max-memory BYTES]\n"
    "       [--collective-timeout SECONDS] [--inputs-per-rank]\n"
    "\n"
    "Executes a dist-opt artifact on this rank (under mpirun: on every rank).\n"
    "\n"
    "  --input NAME=FILE  bind graph input NAME to a .npy or ONNX .pb file\n"
    "  --output-dir DIR   write each graph output as DIR/<name>.npy\n"
    "  --threads N        threads per rank (default: cores / ranks on the "
    "node)\n"
    "  --trace FILE       write a Chrome trace (Trace Event JSON) of every\n"
    "                     kernel and communication, one process per rank\n"
    "  --repeat N         run N times and print the median time of a run\n"
    "  --max-memory BYTES the most memory the program's tensors and the\n"
    "                     inputs may take (suffix K, M, G or T; default:\n"
    "                     the machine's physical memory)\n"
    "  --collective-timeout SECONDS\n"
    "                     stop the job when a collective has waited this\n"
    "                     long for another rank (default 300; 0: wait\n"
    "                     forever)\n"
    "  --inputs-per-rank  each rank reads its own pieces of the inputs (a\n"
    "                     program whose arguments are split); without it\n"
    "                     every rank must read the same bytes\n"
    "\n"
    "Pipelines (stage functions with dist.stage, docs/pipeline.md): run on\n"
    "stages x grid devices ranks; each input holds m micro-batches along\n"
    "dimension 0 (m x the stage argument's first dimension), run GPipe\n"
    "(--schedule gpipe or 1f1b: the same order without backwards);\n"
    "--trace shows each stage's run of each micro-batch. A training pipeline\n"
    "(stage functions with dist.phase) trains with --steps and the flags\n"
    "below, and --trace times its steps:\n"
    "  --schedule S       1f1b (default) or gpipe; interleaved (Megatron-LM's\n"
    "                     interleaved 1F1B, the default and the only one)\n"
    "                     for an artifact with dist.chunks = v > 1, whose\n"
    "                     S stages run on S / v rank groups (stage c on\n"
    "                     group c mod S / v): S / v x grid devices ranks,\n"
    "                     m a multiple of S / v\n"
    "\n"
    "Training programs (a function with dist.train; --output-dir optional):\n"
    "  --steps N          run N training steps (N >= 1), printing\n"
    "                     'step K loss L time T ms' for each\n"
    "  --data NAME=FILE   FILE holds K batches of input NAME (shape K x the\n"
    "                     input's); step k uses batch k % K\n"
    "  --loss-log FILE    write the losses as CSV (step,loss)\n"
    "  --save-weights DIR write DIR/model.onnx (the source model with the\n"
    "                     trained weights as external data) and the\n"
    "                     optimizer state beside it\n"
    "  --resume DIR       start from a state saved by --save-weights\n";

/// The command line. dist-run parses its few flags itself: libLLVM already
/// registers a global --threads option with llvm::cl.
struct Options {
  std::string artifact, outputDir, trace;
  std::vector<std::string> inputs;
  int threads = 0, repeat = 1;
  uint64_t maxMemory = 0; // 0: the machine's physical memory
  double collectiveTimeout = 300;
  bool inputsPerRank = false;
  /// Training (--steps and the flags that only training takes).
  TrainingOptions training;
  bool trainingFlags = false;
  /// --schedule, for pipelines (nothing: not given).
  std::optional<PipelineSchedule> schedule;
};

/// The hardware threads of this machine.
static int getHardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return int(std::max<long>({long(n), online, 1}));
}

/// Stores the value of --data, --loss-log, --save-weights or --resume.
static void setTrainingFlag(const std::string &arg, const std::string &value,
                            Options &o) {
  o.trainingFlags = true;
  if (arg == "--data")
    o.training.data.push_back(value);
  else if (arg == "--loss-log")
    o.training.lossLog = value;
  else if (arg == "--save-weights")
    o.training.saveDir = value;
  else
    o.training.resumeDir = value;
}

static bool checkRequiredArgs(const Options &o, std::string &error);

/// Reads --schedule's value, a schedule's name, into `schedule`.
static bool readSchedule(const std::string &name,
                         std::optional<PipelineSchedule> &schedule,
                         std::string &error) {
  schedule = parsePipelineSchedule(name);
  if (!schedule)
    error =
        "--schedule expects gpipe, 1f1b or interleaved, found '" + name + "'";
  return schedule.has_value();
}

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
      errno = 0;
      long v = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end || v <= 0 || errno == ERANGE || v > INT_MAX) {
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
      if (o.threads > getHardwareThreads()) {
        error = "--threads " + std::to_string(o.threads) +
                " is more than the " + std::to_string(getHardwareThreads()) +
                " hardware threads of this machine";
        return false;
      }
    } else if (arg == "--steps") {
      if (!number(o.training.steps))
        return false;
    } else if (arg == "--data" || arg == "--loss-log" ||
               arg == "--save-weights" || arg == "--resume") {
      if (!next(text))
        return false;
      setTrainingFlag(arg, text, o);
    } else if (arg == "--schedule") {
      if (!next(text) || !readSchedule(text, o.schedule, error))
        return false;
    } else if (arg == "--inputs-per-rank") {
      o.inputsPerRank = true;
    } else if (arg == "--collective-timeout") {
      if (!next(text))
        return false;
      char *end = nullptr;
      errno = 0;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end || errno == ERANGE || !(v >= 0) || v > 1e9) {
        error = "--collective-timeout expects a number of seconds (0: no "
                "timeout), found '" +
                text + "'";
        return false;
      }
      o.collectiveTimeout = v;
    } else if (arg == "--repeat") {
      if (!number(o.repeat))
        return false;
    } else if (arg == "--max-memory") {
      if (!next(text))
        return false;
      std::optional<uint64_t> bytes = distopt::parseByteSize(text);
      if (bytes)
        o.maxMemory = *bytes;
      else {
        error = "--max-memory expects a positive number of bytes (with an "
                "optional K, M, G or T), found '" +
                text + "'";
        return false;
      }
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
  return checkRequiredArgs(o, error);
}

/// Checks the flags that depend on each other, after parsing.
static bool checkRequiredArgs(const Options &o, std::string &error) {
  if (o.artifact.empty()) {
    error = "no artifact given";
    return false;
  }
  bool training = o.training.steps > 0;
  if (training && o.repeat > 1) {
    error = "--repeat and --trace time inference runs; a training run "
            "prints the time of each step";
    return false;
  }
  if (!training && o.trainingFlags) {
    error = "--data, --loss-log, --save-weights and --resume train: give "
            "--steps N too";
    return false;
  }
  if (o.outputDir.empty() && !training) {
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

/// Writes `text` to `path` through a temporary file in the same folder,
/// checking every write and the close, then renamed into place.
static bool writeFileAtomically(const std::string &path,
                                const std::string &text, std::string &error) {
  llvm::SmallString<256> model(path);
  model += ".tmp-%%%%%%";
  llvm::SmallString<256> tmp;
  int fd = -1;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tmp)) {
    error = "cannot create '" + std::string(model) + "': " + ec.message();
    return false;
  }
  llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
  out << text;
  out.close();
  std::error_code ec = out.error();
  out.clear_error();
  if (!ec)
    ec = llvm::sys::fs::rename(tmp, path);
  if (ec) {
    llvm::sys::fs::remove(tmp);
    error = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  return true;
}

/// Checks, before the program runs, that the memory its tensors may take
/// (every value and weight of the program, an upper bound of its arena, its
/// inputs and outputs) is within `maxMemory`. Each size is computed without
/// overflow, so an artifact compiled for a huge shape is refused here
/// instead of failing to allocate.
static bool checkProgramMemory(mlir::ModuleOp module, uint64_t maxMemory,
                               std::string &error) {
  uint64_t total = 0, largest = 0;
  std::string largestName;
  bool overflow = false;
  auto count = [&](mlir::Value v, llvm::StringRef what) {
    auto type = mlir::dyn_cast<mlir::RankedTensorType>(v.getType());
    if (!type || !type.hasStaticShape() ||
        !type.getElementType().isIntOrFloat())
      return; // The executor refuses these with its own message.
    uint64_t bytes = (type.getElementType().getIntOrFloatBitWidth() + 7) / 8;
    for (int64_t d : type.getShape())
      overflow |= __builtin_mul_overflow(bytes, uint64_t(d), &bytes);
    overflow |= __builtin_add_overflow(total, bytes, &total);
    if (bytes > largest) {
      largest = bytes;
      largestName = what.str();
    }
  };
  module.walk([&](mlir::Operation *op) {
    if (auto func = mlir::dyn_cast<mlir::func::FuncOp>(op))
      for (mlir::BlockArgument arg : func.getArguments())
        count(arg, "an input");
    for (mlir::Value result : op->getResults())
      count(result, "a result of " + op->getName().getStringRef().str());
  });
  if (!overflow && total <= maxMemory)
    return true;
  error = overflow ? "the program's tensors need more bytes than fit in 64 "
                     "bits"
                   : "the program's tensors may need up to " +
                         std::to_string(total) + " bytes (the largest, " +
                         largestName + ", " + std::to_string(largest) +
                         "), more than the limit of " +
                         std::to_string(maxMemory) + " bytes";
  error += "; give a larger --max-memory if the machine has the memory";
  return false;
}

/// Every output becomes the file DIR/<name>.npy: its name must be a plain
/// file name (no folder, no `..`), and no two outputs may share one.
static bool checkOutputNames(const std::vector<IOInfo> &outputs,
                             std::string &error) {
  std::set<std::string> seen;
  for (const IOInfo &out : outputs) {
    if (llvm::Error e = checkPlainFileName(out.name)) {
      error = "the program's output '" + out.name +
              "' cannot name a file: " + llvm::toString(std::move(e));
      return false;
    }
    if (!seen.insert(out.name).second) {
      error = "the program has two outputs named '" + out.name +
              "'; each output is written to a file of its name";
      return false;
    }
  }
  return true;
}

/// Publishes every output as DIR/<name>.npy, or none: each is written to a
/// temporary file in DIR first (every write and close checked), and only
/// when all are written are they renamed into place. On an error nothing of
/// this run is left in DIR.
static bool publishOutputs(const std::string &dir,
                           const std::vector<IOInfo> &infos,
                           const std::vector<HostTensor> &outputs,
                           std::string &error) {
  std::vector<std::string> tmps, targets;
  auto removeAll = [](const std::vector<std::string> &paths) {
    for (const std::string &p : paths)
      llvm::sys::fs::remove(p);
  };
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string tmp;
    if (!writeNpyTemporary(dir, infos[i].name, outputs[i], tmp, error)) {
      removeAll(tmps);
      return false;
    }
    tmps.push_back(tmp);
    llvm::SmallString<256> target(dir);
    llvm::sys::path::append(target, infos[i].name + ".npy");
    targets.push_back(std::string(target));
  }
  // A target that is a folder (or another non-file) would fail its rename
  // after earlier outputs were published: refuse before publishing any.
  for (const std::string &target : targets) {
    llvm::sys::fs::file_status status;
    if (!llvm::sys::fs::status(target, status, /*follow=*/false) &&
        !llvm::sys::fs::is_regular_file(status)) {
      error = "cannot write '" + target + "': it exists and is not a file";
      removeAll(tmps);
      return false;
    }
  }
  for (size_t i = 0; i < tmps.size(); ++i) {
    if (std::error_code ec = llvm::sys::fs::rename(tmps[i], targets[i])) {
      error = "cannot rename '" + tmps[i] + "' to '" + targets[i] +
              "': " + ec.message();
      removeAll(std::vector<std::string>(targets.begin(), targets.begin() + i));
      removeAll(std::vector<std::string>(tmps.begin() + i, tmps.end()));
      return false;
    }
  }
  return true;
}

/// Writes the trace: rank 0 gathers every rank's events.
static void writeTrace(Communicator &comm, const std::vector<TraceEvent> &events,
                       const std::string &path) {
  nlohmann::json mine = nlohmann::json::array();
  for (const TraceEvent &e : events)
    mine.push_back({{"name", e.name},
                    {"cat", e.category},
                    {"ph", "X"},
                    {"ts", e.startUs},
                    {"dur", e.durationUs},
                    {"pid", comm.rank()},
                    {"tid", e.category == "comm"       ? 1
                            : e.category == "pipeline" ? 2
                                                       : 0}});
  std::vector<std::string> all =
      comm.gatherRecords(mine.dump(), "the trace's events");
  if (comm.rank() != 0)
    return;
  nlohmann::json trace = {{"traceEvents", nlohmann::json::array()},
                          {"displayTimeUnit", "ms"}};
  for (int r = 0; r < comm.size(); ++r) {
    trace["traceEvents"].push_back({{"name", "process_name"}, {"ph", "M"},
                                    {"pid", r},
                                    {"args", {{"name", "rank " + std::to_string(r)}}}});
    for (auto &e : nlohmann::json::parse(all[r]))
      trace["traceEvents"].push_back(e);
  }
  std::string error;
  if (!writeFileAtomically(path, trace.dump(1) + "\n", error))
    comm.abortAll("cannot write the trace: " + error);
}

/// Reads the inputs named by `--input NAME=FILE`, in the order of the
/// program's inputs, each checked against its declared type and shape.
static std::vector<HostTensor> readInputs(Communicator &comm,
                                          const Options &opts,
                                          const Executor &ex,
                                          uint64_t maxMemory) {
  std::map<std::string, std::string> seen;
  std::map<std::string, std::string> files =
      parseSpecs(comm, opts.inputs, "--input", seen);
  std::vector<HostTensor> inputs;
  std::string error;
  for (const IOInfo &in : ex.inputs()) {
    auto it = files.find(in.name);
    if (it == files.end())
      comm.abortAll("missing input '" + in.name + "' (" +
                    shapeStr(in.dtype, in.shape) + "); give it with --input " +
                    in.name + "=FILE");
    HostTensor t;
    if (!readTensorFile(it->second, maxMemory, t, error)) {
      // The reader names the limit; the flag that sets it is ours to name.
      bool overLimit =
          error.find("the limit of " + std::to_string(maxMemory)) !=
          std::string::npos;
      comm.abortAll("input '" + in.name + "': " + error +
                    (overLimit ? " bytes (--max-memory)" : ""));
    }
    if (t.dtype != in.dtype || t.shape != in.shape)
      comm.abortAll("input '" + in.name + "': expected " +
                    shapeStr(in.dtype, in.shape) + ", given " +
                    shapeStr(t.dtype, t.shape) + " in '" + it->second + "'");
    inputs.push_back(std::move(t));
    files.erase(it);
  }
  if (!files.empty()) {
    std::string names;
    for (const IOInfo &in : ex.inputs())
      names += " '" + in.name + "'";
    comm.abortAll("unknown input '" + files.begin()->first +
                  "'; the program's inputs are" + names);
  }
  return inputs;
}

/// Every rank must run the same artifact the same way (the options that
/// decide which collectives run: --repeat, --trace), else their collectives
/// would not match and the job would hang or mix programs. One agreement
/// over the job; on a mismatch every rank that differs from rank 0 says how,
/// and every rank exits 1.
static void agreeOnArtifact(Communicator &comm, const Options &opts,
                            const ArtifactDigest &digest) {
  if (comm.size() == 1)
    return;
  std::string steps =
      opts.training.steps ? " --steps " + std::to_string(opts.training.steps)
                          : "";
  std::string options = "--repeat " + std::to_string(opts.repeat) + steps +
                        (opts.trace.empty() ? "" : " --trace") +
                        (opts.inputsPerRank ? " --inputs-per-rank" : "");
  std::string record = digestToHex(digest, digest.size()) + "\n" + options +
                       "\n" + opts.artifact;
  std::vector<std::string> records =
      comm.allGatherRecords(record, "the ranks' check of the artifact");
  // Each record: digest, options, path, one per line.
  auto fields = [](const std::string &r) {
    size_t a = r.find('\n'), b = r.find('\n', a + 1);
    return std::array<std::string, 3>{
        r.substr(0, a), r.substr(a + 1, b - a - 1), r.substr(b + 1)};
  };
  std::array<std::string, 3> first = fields(records[0]);
  int disagreeing = 0;
  for (const std::string &r : records) {
    std::array<std::string, 3> f = fields(r);
    disagreeing += f[0] != first[0] || f[1] != first[1];
  }
  if (!disagreeing)
    return;
  std::array<std::string, 3> mine = fields(records[comm.rank()]);
  std::string rank = "rank " + std::to_string(comm.rank());
  if (mine[0] != first[0])
    std::fprintf(stderr,
                 "dist-run: %s: error: %s runs artifact '%s' (SHA-256 %.16s) "
                 "but rank 0 runs '%s' (SHA-256 %.16s); every rank must run "
                 "the same artifact\n",
                 rank.c_str(), rank.c_str(), mine[2].c_str(), mine[0].c_str(),
                 first[2].c_str(), first[0].c_str());
  else if (mine[1] != first[1])
    std::fprintf(stderr,
                 "dist-run: %s: error: %s was given %s but rank 0 %s; every "
                 "rank must be given the same --repeat, --steps, --trace and "
                 "--inputs-per-rank\n",
                 rank.c_str(), rank.c_str(), mine[1].c_str(), first[1].c_str());
  if (comm.rank() == 0)
    std::fprintf(stderr,
                 "dist-run: rank 0: error: %d of %d ranks run another artifact "
                 "or other options than rank 0\n",
                 disagreeing, comm.size());
  comm.exitAll(1);
}

/// Test-only: DIST_RUN_TEST_STOP_RANK=R makes rank R stop itself (SIGSTOP)
/// before its first run, as a hung rank would, so that tests can check the
/// collective watchdog.
static void stopIfTestAsks(Communicator &comm) {
  const char *rank = std::getenv("DIST_RUN_TEST_STOP_RANK");
  if (rank && std::to_string(comm.rank()) == rank)
    ::raise(SIGSTOP);
}

/// Runs the program `repeat` times (tracing the last run when asked), then
/// prints the median time of a run when it ran more than once.
static void runRepeatedly(Communicator &comm, Executor &ex, const Options &opts,
                          int nthreads, const std::vector<HostTensor> &inputs,
                          std::vector<HostTensor> &outputs,
                          std::vector<TraceEvent> &events) {
  std::vector<double> times;
  int repeat = std::max(1, opts.repeat);
  for (int i = 0; i < repeat; ++i) {
    bool last = i + 1 == repeat;
    comm.barrier("before run " + std::to_string(i + 1));
    if (i == 0)
      stopIfTestAsks(comm);
    auto start = std::chrono::steady_clock::now();
    ex.run(inputs, outputs, last && !opts.trace.empty() ? &events : nullptr);
    comm.barrier("after run " + std::to_string(i + 1));
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
    printMemory(comm, ex, opts.training.residentBefore);
  }
}

/// Creates the output folder on rank 0.
static void createOutputDir(Communicator &comm, const std::string &dir) {
  if (comm.rank() != 0)
    return;
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    comm.abortAll("cannot create '" + dir + "': " + ec.message());
  if (!llvm::sys::fs::is_directory(dir))
    comm.abortAll("cannot create '" + dir + "': it exists and is not a folder");
}

/// Runs a pipeline artifact (stage functions, docs/pipeline.md) for
/// inference: this rank runs its stage over every micro-batch, `repeat`
/// times, and rank 0 writes the model outputs.
static void runPipelineJob(Communicator &comm, mlir::ModuleOp module,
                           Executor &ex, const Options &opts, int nthreads,
                           uint64_t maxMemory) {
  bool training = llvm::any_of(
      module.getOps<mlir::func::FuncOp>(), [&](mlir::func::FuncOp f) {
        return dist::DistDialect::TrainAttrHelper(module.getContext())
            .isAttrPresent(f);
      });
  if (training || opts.training.steps > 0)
    comm.abortAll("'" + opts.artifact +
                  "' is a pipeline (functions with dist.stage); dist-run runs "
                  "pipelines for inference only, not training (--steps, "
                  "dist.train)");
  if (opts.inputsPerRank)
    comm.abortAll("--inputs-per-rank is not supported for a pipeline: every "
                  "rank reads every model input whole");
  mlir::FailureOr<PipelineInfo> info = checkPipeline(module);
  if (failed(info))
    comm.abortAll("'" + opts.artifact + "' breaks the pipeline contract");
  PipelineInputs inputs =
      readPipelineInputs(comm, *info, opts.inputs, maxMemory);
  std::vector<const HostTensor *> read;
  std::vector<std::string> names;
  for (size_t i = 0; i < inputs.tensors.size(); ++i) {
    read.push_back(&inputs.tensors[i]);
    names.push_back(info->inputs[i].name);
  }
  agreeOnInputs(comm, names, read);
  std::vector<IOInfo> outputs =
      getPipelineOutputs(comm, *info, inputs.microBatches);
  std::string error;
  if (!checkOutputNames(outputs, error))
    comm.abortAll(error);
  createOutputDir(comm, opts.outputDir);

  std::vector<HostTensor> stageOutputs;
  std::vector<TraceEvent> events;
  std::vector<double> times;
  for (int i = 0; i < opts.repeat; ++i) {
    bool last = i + 1 == opts.repeat;
    comm.barrier("before run " + std::to_string(i + 1));
    if (i == 0)
      stopIfTestAsks(comm);
    auto start = std::chrono::steady_clock::now();
    runPipelineOnce(comm, ex, *info, inputs, stageOutputs,
                    last && !opts.trace.empty() ? &events : nullptr, start);
    comm.barrier("after run " + std::to_string(i + 1));
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  if (opts.repeat > 1 && comm.rank() == 0) {
    std::sort(times.begin(), times.end());
    std::printf("median run time: %.3f ms over %d runs of %lld micro-batches "
                "(%lld stages, %d ranks, %d threads each)\n",
                times[times.size() / 2], int(times.size()),
                static_cast<long long>(inputs.microBatches),
                static_cast<long long>(ex.numStages()), comm.size(), nthreads);
    printMemory(comm, ex, opts.training.residentBefore);
  }
  if (!opts.trace.empty())
    writeTrace(comm, events, opts.trace);
  std::vector<HostTensor> gathered =
      gatherPipelineOutputs(comm, ex, *info, outputs, stageOutputs);
  if (comm.rank() == 0 &&
      !publishOutputs(opts.outputDir, outputs, gathered, error))
    comm.abortAll(error);
}

/// Trains a training pipeline (stage functions with dist.phase,
/// docs/pipeline.md) for --steps steps.
static void runTrainingPipelineJob(Communicator &comm, mlir::ModuleOp module,
                                   Options &opts, uint64_t maxMemory) {
  mlir::FailureOr<PipelineInfo> info = checkPipeline(module);
  if (failed(info))
    comm.abortAll("'" + opts.artifact + "' breaks the pipeline contract");
  TrainPipelineOptions run;
  run.training = opts.training;
  run.training.inputs = opts.inputs;
  run.training.maxMemory = maxMemory;
  run.training.inputsPerRank = opts.inputsPerRank;
  run.schedule = opts.schedule;
  std::vector<TraceEvent> events;
  runTrainingPipeline(comm, module, *info, run,
                      opts.trace.empty() ? nullptr : &events);
  if (!opts.trace.empty())
    writeTrace(comm, events, opts.trace);
}

/// Keeps large buffers that are freed in the process's heap for the next
/// allocation of their size. A pipeline allocates its boundary values and
/// results anew for every micro-batch: with glibc's defaults each one of
/// over 128 KiB is mapped and unmapped every time, and its pages fault in
/// again (a 2-stage GPT training step ran 2.6x slower).
static void keepFreedBuffers() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20); // glibc's largest threshold
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

int main(int argc, char **argv) {
  keepFreedBuffers();
  Communicator comm(&argc, &argv);
  Options opts;
  std::string error;
  if (!parseArgs(argc, argv, opts, error))
    comm.abortAll(error + "\n" + kUsage, 2);
  comm.setCollectiveTimeout(opts.collectiveTimeout);
  const std::string &artifactPath = opts.artifact;
  const std::string &outputDir = opts.outputDir;
  const std::string &tracePath = opts.trace;
  const int threads = opts.threads;
  const uint64_t maxMemory =
      opts.maxMemory ? opts.maxMemory : distopt::getPhysicalMemory();
  // A file size limit (ulimit -f) makes writes fail with EFBIG, reported
  // like any other write error, instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);

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
  ArtifactDigest digest;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      readArtifact(artifactPath, &context, &digest);
  if (!module)
    comm.abortAll("'" + artifactPath + "' " + firstError);
  agreeOnArtifact(comm, opts, digest);
  if (!checkProgramMemory(*module, maxMemory, error))
    comm.abortAll("'" + artifactPath + "': " + error);

  // The peak from here on is what the program's buffers and steps add.
  resetPeakResident();
  opts.training.residentBefore = getResidentBytes();
  if (isTrainingPipeline(*module)) {
    runTrainingPipelineJob(comm, *module, opts, maxMemory);
    return 0;
  }
  // An inference pipeline runs each stage's forwards in micro-batch order:
  // GPipe and 1F1B are that one order.
  bool pipeline = getPipelineStageCount(*module) > 0;
  if (opts.schedule && !pipeline)
    comm.abortAll("--schedule runs pipelines (stage functions with "
                  "dist.stage); '" +
                  artifactPath + "' is not one");
  if (opts.schedule == PipelineSchedule::Interleaved)
    comm.abortAll("--schedule interleaved runs training pipelines; '" +
                  artifactPath +
                  "' is an inference pipeline, which runs gpipe (the same "
                  "order as 1f1b without backwards)");
  if (opts.training.steps > 0 && !tracePath.empty())
    comm.abortAll("--repeat and --trace time inference runs; a training run "
                  "prints the time of each step (--trace also times training "
                  "pipelines)");
  std::unique_ptr<Executor> ex = Executor::create(*module, comm, error);
  if (!ex)
    comm.abortAll(error);
  if (ex->numStages() > 0) {
    runPipelineJob(comm, *module, *ex, opts, nthreads, maxMemory);
    return 0;
  }
  if (!checkOutputNames(ex->outputs(), error))
    comm.abortAll(error);
  if (ex->isTraining() != (opts.training.steps > 0))
    comm.abortAll(
        ex->isTraining()
            ? "'" + artifactPath +
                  "' is a training program (dist.train); give --steps N"
            : "--steps needs a training program (a function with "
              "dist.train), but '" +
                  artifactPath + "' runs inference");
  if (ex->isTraining()) {
    opts.training.inputs = opts.inputs;
    opts.training.maxMemory = maxMemory;
    opts.training.inputsPerRank = opts.inputsPerRank;
    runTraining(comm, *ex, *module, opts.training);
    return 0;
  }
  std::vector<HostTensor> inputs = readInputs(comm, opts, *ex, maxMemory);
  if (!opts.inputsPerRank) {
    std::vector<const HostTensor *> read;
    for (const HostTensor &t : inputs)
      read.push_back(&t);
    agreeOnInputs(comm, *ex, read);
  }
  createOutputDir(comm, outputDir);

  std::vector<HostTensor> outputs;
  std::vector<TraceEvent> events;
  runRepeatedly(comm, *ex, opts, nthreads, inputs, outputs, events);
  if (!tracePath.empty())
    writeTrace(comm, events, tracePath);

  // Rank 0 writes the outputs (partitioned programs return them whole).
  if (comm.rank() == 0 &&
      !publishOutputs(outputDir, ex->outputs(), outputs, error))
    comm.abortAll(error);
  return 0;
}
