//===- dist-calibrate.cpp - measure this machine for the cost model -------===//
//
//   dist-calibrate -o profile.yaml [--quick] [--kernel-threads N]
//   mpirun -np 4 dist-calibrate -o profile.yaml
//   mpirun -np 4 dist-calibrate --compare profile.yaml [--json out.json]
//   dist-calibrate --verify cluster.{yaml,json}
//   dist-calibrate --estimate-memory program.{dist,mlir}
//
// Calibration times the runtime's own kernels (runtime/cpu/Kernels.h, on
// one-op dist programs whose work getOpWork counts) on rank 0 while the
// other ranks sleep, then the runtime's own collectives (rt::Communicator,
// as dist-run calls them) of 1 KiB to 64 MiB on the first 2, 4, ... ranks.
// The library fits the figures (distopt/Cost/Calibration.h) and writes the
// cluster file (writeClusterFile); this tool only measures. --compare
// measures a different set of ops and the same collectives and prints them
// against the cost model's prediction from a cluster file.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Artifact.h"
#include "distopt/Cost/Calibration.h"
#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/CollectiveCost.h"
#include "distopt/Cost/MemoryEstimate.h"
#include "distopt/Cost/OpCost.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/KernelKinds.h"
#include "runtime/cpu/Kernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <functional>
#include <limits>
#include <thread>
#include <unistd.h>

using namespace distopt;
using namespace distopt::cost;
namespace cl = llvm::cl;

static cl::OptionCategory calibrateCategory("dist-calibrate options");

static cl::opt<std::string> outputPath("o", cl::desc("Write the profile here"),
                                       cl::value_desc("file"),
                                       cl::cat(calibrateCategory));
static cl::opt<std::string>
    comparePath("compare",
                cl::desc("Measure the check set and compare it with the "
                         "prediction from this cluster file or preset"),
                cl::value_desc("cluster"), cl::cat(calibrateCategory));
static cl::opt<std::string>
    jsonPath("json", cl::desc("With --compare: also write the rows as JSON"),
             cl::value_desc("file"), cl::cat(calibrateCategory));
static cl::opt<std::string>
    verifyPath("verify",
               cl::desc("Parse a cluster file (YAML or .json) and print it"),
               cl::value_desc("file"), cl::cat(calibrateCategory));
static cl::opt<std::string>
    memoryPath("estimate-memory",
               cl::desc("Print the cost model's memory estimate of a program "
                        "(artifact, or .mlir)"),
               cl::value_desc("file"), cl::cat(calibrateCategory));
static cl::opt<bool> quick("quick",
                           cl::desc("Few, small measurements (for tests)"),
                           cl::cat(calibrateCategory));
static cl::opt<int> threadsOpt(
    "kernel-threads",
    cl::desc("Threads of the kernels (default 1: the cpu preset's rank is "
             "one core)"),
    cl::init(1), cl::cat(calibrateCategory));
static cl::opt<std::string> profileName("name",
                                        cl::desc("Name of the written cluster"),
                                        cl::init("cpu-calibrated"),
                                        cl::cat(calibrateCategory));
static cl::opt<int>
    sweeps("sweeps",
           cl::desc("Measure everything this many times, at different moments, "
                    "and keep the fastest (default 3; 1 with --quick)"),
           cl::init(0), cl::cat(calibrateCategory));
static cl::opt<bool> verbose("verbose", cl::desc("Print every measurement"),
                             cl::cat(calibrateCategory));

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// Prints `message` as this tool's error and ends every rank with `code`.
[[noreturn]] static void fatal(rt::Communicator &comm,
                               const std::string &message, int code = 1) {
  llvm::errs() << "dist-calibrate: rank " << comm.rank()
               << ": error: " << message << "\n";
  llvm::errs().flush();
  if (comm.size() > 1)
    MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

static double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

//===----------------------------------------------------------------------===//
// Single-op programs, run by the runtime's executor
//===----------------------------------------------------------------------===//

namespace {
/// One op of the measured sets, as a one-op program.
struct OpCase {
  std::string label;
  std::string program;
};

} // namespace

static std::string tensorType(llvm::ArrayRef<int64_t> shape) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + "f32>";
}

static std::string shapeLabel(llvm::ArrayRef<int64_t> shape) {
  return llvm::join(
      llvm::map_range(shape, [](int64_t d) { return std::to_string(d); }), "x");
}

/// `func.func @main(args) { %0 = <body> ; return %0 }`.
static std::string oneOpProgram(llvm::ArrayRef<std::string> argTypes,
                                const std::string &body,
                                const std::string &resultType) {
  std::string args;
  for (auto [i, type] : llvm::enumerate(argTypes))
    args += (i ? ", " : "") + llvm::formatv("%a{0}: {1}", i, type).str();
  return llvm::formatv("func.func @main({0}) -> {1} {{\n  %0 = {2}\n  return "
                       "%0 : {1}\n}\n",
                       args, resultType, body)
      .str();
}

static OpCase matmulCase(int64_t batch, int64_t m, int64_t k, int64_t n) {
  llvm::SmallVector<int64_t> l{m, k}, r{k, n}, o{m, n};
  if (batch > 1) {
    l.insert(l.begin(), batch);
    r.insert(r.begin(), batch);
    o.insert(o.begin(), batch);
  }
  std::string lt = tensorType(l), rt = tensorType(r), ot = tensorType(o);
  std::string label =
      llvm::formatv("matmul {0}{1}x{2}x{3}",
                    batch > 1 ? std::to_string(batch) + "*" : "", m, k, n);
  return {label,
          oneOpProgram({lt, rt},
                       llvm::formatv("dist.matmul %a0, %a1 : ({0}, {1}) -> {2}",
                                     lt, rt, ot),
                       ot)};
}

static OpCase binaryCase(llvm::StringRef kind, llvm::ArrayRef<int64_t> shape) {
  std::string t = tensorType(shape);
  return {llvm::formatv("{0} {1}", kind, shapeLabel(shape)),
          oneOpProgram({t, t},
                       llvm::formatv("dist.binary {0} %a0, %a1 : ({1}, {1}) -> "
                                     "{1}",
                                     kind, t),
                       t)};
}

static OpCase unaryCase(llvm::StringRef kind, llvm::ArrayRef<int64_t> shape) {
  std::string t = tensorType(shape);
  return {
      llvm::formatv("{0} {1}", kind, shapeLabel(shape)),
      oneOpProgram({t}, llvm::formatv("dist.unary {0} %a0 : {1}", kind, t), t)};
}

static OpCase softmaxCase(llvm::ArrayRef<int64_t> shape) {
  std::string t = tensorType(shape);
  return {llvm::formatv("softmax {0}", shapeLabel(shape)),
          oneOpProgram({t},
                       llvm::formatv("dist.softmax %a0 {{axis = {0} : i64} : "
                                     "{1}",
                                     shape.size() - 1, t),
                       t)};
}

static OpCase layerNormCase(llvm::ArrayRef<int64_t> shape) {
  std::string t = tensorType(shape), s = tensorType(shape.back());
  return {llvm::formatv("layer_norm {0}", shapeLabel(shape)),
          oneOpProgram({t, s, s},
                       llvm::formatv("dist.layer_norm %a0, %a1, %a2 {{axis = "
                                     "{0} : i64, epsilon = 1.0e-05 : f32} : "
                                     "({1}, {2}, {2}) -> {1}",
                                     shape.size() - 1, t, s),
                       t)};
}

/// CPU seconds of the calling thread. With one kernel thread the kernel
/// runs on the calling thread, and its CPU time is what it costs on a core
/// of its own even while other processes share the machine.
static double getThreadCpuClock() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

/// A float tensor of `type` with its own storage, filled with
/// deterministic values in [-1, 1).
namespace {
struct OwnedTensor {
  std::vector<float> storage;
  rt::Tensor view;
};
} // namespace

static OwnedTensor makeTensor(mlir::Type type, uint32_t &state) {
  auto tensor = mlir::cast<mlir::RankedTensorType>(type);
  OwnedTensor t;
  t.storage.resize(tensor.getNumElements());
  for (float &v : t.storage) {
    state = state * 1664525u + 1013904223u;
    v = float(state >> 8) / float(1 << 24) * 2.0f - 1.0f;
  }
  t.view = {
      t.storage.data(), rt::DType::F32,
      std::vector<int64_t>(tensor.getShape().begin(), tensor.getShape().end())};
  return t;
}

/// The runtime's kernel for `op`, called as the executor calls it
/// (runtime/core/Executor.cpp), on `operands` into `result`; empty for an
/// op the calibration does not measure.
static std::function<void()> getKernelCall(mlir::Operation *op,
                                           std::vector<OwnedTensor> &operands,
                                           OwnedTensor &result) {
  auto in = [&operands](unsigned i) -> const rt::Tensor & {
    return operands[i].view;
  };
  rt::Tensor &res = result.view;
  if (mlir::isa<dist::MatMulOp>(op))
    return [=, &res] { rt::matmul(in(0), in(1), nullptr, res); };
  if (auto binary = mlir::dyn_cast<dist::BinaryOp>(op))
    return [=, &res, kind = rt::toKernelKind(binary.getKind())] {
      rt::binary(kind, in(0), in(1), res);
    };
  if (auto unary = mlir::dyn_cast<dist::UnaryOp>(op))
    return [=, &res, kind = rt::toKernelKind(unary.getKind()),
            params = rt::toKernelParams(unary)] {
      rt::unary(kind, in(0), res, params);
    };
  if (auto softmax = mlir::dyn_cast<dist::SoftmaxOp>(op))
    return [=, &res, axis = softmax.getAxis(), log = softmax.getLog()] {
      rt::softmax(in(0), res, axis, log);
    };
  if (auto norm = mlir::dyn_cast<dist::LayerNormOp>(op))
    return [=, &res, axis = norm.getAxis(),
            eps = norm.getEpsilon().convertToFloat()] {
      rt::layerNorm(in(0), in(1), &in(2), res, axis, eps);
    };
  return {};
}

/// Calls `call` until `minSeconds` and `minRuns` have passed; the median
/// time of a call.
static double timeCalls(const std::function<void()> &call, double minSeconds,
                        int minRuns) {
  call(); // warm-up
  call();
  std::vector<double> times;
  double total = 0;
  while ((total < minSeconds || int(times.size()) < minRuns) &&
         times.size() < 5000) {
    // The smaller of CPU and wall time: CPU time leaves out the slices
    // other processes took; wall time leaves out the clock's own cost.
    double cpuStart = getThreadCpuClock();
    auto wallStart = std::chrono::steady_clock::now();
    call();
    double wall = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - wallStart)
                      .count();
    double seconds = wall;
    if (threadsOpt == 1)
      seconds = std::min(wall, getThreadCpuClock() - cpuStart);
    times.push_back(seconds);
    total += seconds;
  }
  return median(times);
}

/// Runs the op of `c` through the runtime's kernel until `minSeconds` and
/// `minRuns` have passed; records the median time of a call. The programs
/// are one-op programs, so that the work is counted by getOpWork on the
/// real op. (The executor itself cannot run here: it requires the job's
/// rank count to equal the program's devices.)
static bool measureOp(mlir::MLIRContext &context, const OpCase &c,
                      double minSeconds, int minRuns, KernelTiming &out,
                      std::string &error) {
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(c.program, &context);
  if (!module) {
    error = "cannot parse the program of '" + c.label + "'";
    return false;
  }
  auto func = *module->getOps<mlir::func::FuncOp>().begin();
  mlir::Operation *op = &func.getBody().front().front();
  out.label = c.label;
  out.work = getOpWork(op);

  uint32_t state = 12345;
  std::vector<OwnedTensor> operands;
  for (mlir::Value operand : op->getOperands())
    operands.push_back(makeTensor(operand.getType(), state));
  OwnedTensor result = makeTensor(op->getResult(0).getType(), state);
  std::function<void()> call = getKernelCall(op, operands, result);
  if (!call) {
    error = "no kernel call for '" + c.label + "'";
    return false;
  }
  out.seconds = timeCalls(call, minSeconds, minRuns);
  if (verbose)
    llvm::errs() << llvm::formatv("  {0,-32} {1,10:e} s  {2,10:e} FLOP  "
                                  "{3,10:e} B\n",
                                  c.label, out.seconds, out.work.flops,
                                  out.work.bytes);
  return true;
}

/// Measures every case `sweeps` times over, a round over all cases at a
/// time, and keeps the fastest median of each: other processes on the
/// machine (even on the other hardware thread of the core) only ever slow
/// a measurement down.
static bool measureOps(mlir::MLIRContext &context, llvm::ArrayRef<OpCase> cases,
                       std::vector<KernelTiming> &out, std::string &error) {
  double minSeconds = quick ? 0.002 : 0.1;
  int minRuns = quick ? 2 : 5;
  int rounds = sweeps > 0 ? int(sweeps) : quick ? 1 : 3;
  size_t first = out.size();
  for (int round = 0; round < rounds; ++round)
    for (auto [i, c] : llvm::enumerate(cases)) {
      KernelTiming m;
      if (!measureOp(context, c, minSeconds, minRuns, m, error))
        return false;
      if (round == 0)
        out.push_back(std::move(m));
      else
        out[first + i].seconds = std::min(out[first + i].seconds, m.seconds);
    }
  return true;
}

//===----------------------------------------------------------------------===//
// Collectives, through the runtime's Communicator
//===----------------------------------------------------------------------===//

/// Times `kind` through `grid` over its axis 1 (a group of consecutive
/// ranks) with the buffer size the cost model uses for `bytes` (the
/// all-reduce buffer, the all-gather output, the reduce-scatter input),
/// rounded down to whole float pieces per rank: the slowest rank's mean
/// over a batch of calls, the fastest of several batches. Returns the
/// seconds and sets `bytes` to the size timed.
static double timeCollective(rt::Communicator &grid, CollectiveKind kind,
                             size_t &bytes) {
  const std::vector<int64_t> axes = {1};
  int64_t n = grid.groupSize(axes);
  int64_t count = int64_t(bytes / sizeof(float)) / n * n;
  bytes = count * sizeof(float);
  std::vector<float> whole(count, 1.0f), piece(count / n, 1.0f);
  rt::Tensor wholeTensor{whole.data(), rt::DType::F32, {count}};
  rt::Tensor pieceTensor{piece.data(), rt::DType::F32, {count / n}};
  // The calls dist-run's executor makes for these collectives.
  auto once = [&] {
    if (kind == CollectiveKind::AllGather)
      grid.allGather(pieceTensor, wholeTensor, axes, /*axis=*/0);
    else if (kind == CollectiveKind::ReduceScatter)
      grid.reduceScatter(wholeTensor, pieceTensor, axes, /*axis=*/0);
    else
      grid.allReduce(wholeTensor, axes, /*kind=*/0);
  };
  // The slowest rank's time (an all-reduce of one double, max).
  auto slowest = [&](double seconds) {
    rt::Tensor value{&seconds, rt::DType::F64, {1}};
    grid.allReduce(value, axes, /*kind=*/1);
    return seconds;
  };
  using Clock = std::chrono::steady_clock;
  once();
  slowest(0); // lines the ranks up
  auto start = Clock::now();
  once();
  double first =
      slowest(std::chrono::duration<double>(Clock::now() - start).count());
  double target = quick ? 0.001 : 0.01;
  int calls = int(std::clamp(target / std::max(first, 1e-7), 1.0, 1000.0));
  int batches = quick ? 3 : 15;
  double fastest = std::numeric_limits<double>::infinity();
  for (int b = 0; b < batches; ++b) {
    slowest(0);
    start = Clock::now();
    for (int i = 0; i < calls; ++i)
      once();
    double mean =
        std::chrono::duration<double>(Clock::now() - start).count() / calls;
    // The fastest batch: other processes on the machine only ever slow a
    // batch down, so the minimum is the collective's own time.
    fastest = std::min(fastest, slowest(mean));
  }
  return fastest;
}

/// Group sizes of the calibration: 2, 4, ... that divide the job, and the
/// whole job.
static std::vector<int> getGroupSizes(int size) {
  std::vector<int> groups;
  for (int g = 2; g < size; g *= 2)
    if (size % g == 0)
      groups.push_back(g);
  if (size >= 2)
    groups.push_back(size);
  return groups;
}

/// Measures the collectives on the first g ranks for every group size g;
/// the other ranks sleep. Rank 0 gets the results.
static std::vector<CollectiveTiming>
measureCollectivesOnce(rt::Communicator &comm, llvm::ArrayRef<size_t> sizes) {
  std::vector<CollectiveTiming> out;
  const CollectiveKind kinds[] = {CollectiveKind::AllReduce,
                                  CollectiveKind::AllGather,
                                  CollectiveKind::ReduceScatter};
  for (int g : getGroupSizes(comm.size())) {
    // The job as a grid of groups of g consecutive ranks; the first group
    // measures. Every rank runs one collective in its own group, which
    // creates the groups' communicators (a split over the whole job).
    rt::Communicator grid(nullptr, nullptr);
    std::string error;
    if (!grid.setGrid({comm.size() / g, g}, error))
      fatal(comm, error);
    double ready = 0;
    rt::Tensor readyTensor{&ready, rt::DType::F64, {1}};
    grid.allReduce(readyTensor, {1}, /*kind=*/0);
    if (comm.rank() < g) {
      for (CollectiveKind kind : kinds)
        for (size_t bytes : sizes) {
          double seconds = timeCollective(grid, kind, bytes);
          out.push_back({kind, unsigned(g), double(bytes), seconds});
          if (verbose && comm.rank() == 0)
            llvm::errs() << llvm::formatv("  {0,-14} {1} ranks {2,10} B "
                                          "{3,10:e} s\n",
                                          stringifyCollectiveKind(kind), g,
                                          bytes, seconds);
        }
    }
    comm.waitForAll();
  }
  return out;
}

/// Measures the collectives `sweeps` times over and keeps the fastest time
/// of each: the machine may be shared, and other processes only ever slow
/// a measurement down.
static std::vector<CollectiveTiming>
measureCollectives(rt::Communicator &comm, llvm::ArrayRef<size_t> sizes) {
  int count = sweeps > 0 ? int(sweeps) : quick ? 1 : 3;
  std::vector<CollectiveTiming> best;
  for (int sweep = 0; sweep < count; ++sweep) {
    std::vector<CollectiveTiming> next = measureCollectivesOnce(comm, sizes);
    if (best.empty()) {
      best = std::move(next);
      continue;
    }
    for (auto [b, n] : llvm::zip(best, next))
      b.seconds = std::min(b.seconds, n.seconds);
  }
  return best;
}

/// Cores of this machine, over which the ranks of a job are spread.
static unsigned getNumCores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Buffer sizes of the calibration: 1 KiB, 2 KiB, 4 KiB, ... 64 MiB.
static std::vector<size_t> getCalibrationSizes() {
  std::vector<size_t> sizes;
  for (size_t bytes = 1024; bytes <= (quick ? 65536u : 64u << 20);
       bytes *= quick ? 8 : 2)
    sizes.push_back(bytes);
  return sizes;
}

/// Buffer sizes of the check: 3 KiB, 12 KiB, ... 48 MiB, between those of
/// the calibration.
static std::vector<size_t> getCheckSizes() {
  std::vector<size_t> sizes;
  for (size_t bytes = 3072; bytes <= (quick ? 49152u : 48u << 20); bytes *= 4)
    sizes.push_back(bytes);
  return sizes;
}

//===----------------------------------------------------------------------===//
// The measured sets
//===----------------------------------------------------------------------===//

/// Calibration set. The check set of --compare uses other shapes.
static void getCalibrationCases(std::vector<OpCase> &tiny,
                                std::vector<OpCase> &streaming,
                                std::vector<OpCase> &gemms,
                                std::vector<OpCase> &vector) {
  tiny.push_back(binaryCase("add", {64}));
  // An add of 256 .. 16M elements (3 KB .. 200 MB moved): the bandwidth
  // curve from the caches to memory.
  int64_t largest = quick ? 1 << 14 : 1 << 24;
  for (int64_t n = 256; n <= largest; n *= quick ? 4 : 2)
    streaming.push_back(binaryCase("add", {n / 256, 256}));
  for (int64_t n :
       quick ? std::vector<int64_t>{32, 64}
             : std::vector<int64_t>{32, 64, 128, 256, 512, 1024, 2048})
    gemms.push_back(matmulCase(1, n, n, n));
  if (quick) {
    vector.push_back(unaryCase("exp", {64, 256}));
    return;
  }
  for (llvm::StringRef kind : {"exp", "gelu_erf", "tanh", "sigmoid"})
    vector.push_back(unaryCase(kind, {1024, 1024}));
  vector.push_back(softmaxCase({1024, 1024}));
  vector.push_back(layerNormCase({1024, 1024}));
}

/// Check set of --compare: transformer-like shapes, none in the
/// calibration set.
static std::vector<OpCase> getCheckCases() {
  std::vector<OpCase> cases;
  if (quick) {
    cases.push_back(matmulCase(1, 48, 48, 48));
    cases.push_back(binaryCase("add", {100, 100}));
    cases.push_back(softmaxCase({16, 100}));
    return cases;
  }
  cases.push_back(matmulCase(1, 128, 768, 768));
  cases.push_back(matmulCase(1, 128, 768, 3072));
  cases.push_back(matmulCase(1, 128, 3072, 768));
  cases.push_back(matmulCase(1, 512, 1024, 1024));
  cases.push_back(matmulCase(1, 1000, 300, 500));
  cases.push_back(matmulCase(1, 96, 96, 96));
  cases.push_back(matmulCase(12, 128, 64, 128));
  cases.push_back(matmulCase(12, 128, 128, 64));
  cases.push_back(binaryCase("add", {128, 768}));
  cases.push_back(binaryCase("add", {128, 3072}));
  cases.push_back(binaryCase("add", {1000, 1000}));
  cases.push_back(binaryCase("mul", {3000, 3000}));
  cases.push_back(unaryCase("relu", {2000, 2000}));
  cases.push_back(unaryCase("gelu_erf", {128, 3072}));
  cases.push_back(unaryCase("gelu_tanh", {128, 3072}));
  cases.push_back(unaryCase("tanh", {1000, 1000}));
  cases.push_back(softmaxCase({12, 128, 128}));
  cases.push_back(softmaxCase({8, 512, 512}));
  cases.push_back(softmaxCase({128, 50257}));
  cases.push_back(layerNormCase({128, 768}));
  cases.push_back(layerNormCase({512, 1024}));
  cases.push_back(layerNormCase({2048, 4096}));
  return cases;
}

//===----------------------------------------------------------------------===//
// Modes
//===----------------------------------------------------------------------===//

static std::string commandLine(int argc, char **argv, int ranks) {
  std::string s = ranks > 1 ? "mpirun -np " + std::to_string(ranks) + " " : "";
  for (int i = 0; i < argc; ++i)
    s += (i ? " " : "") + std::string(i ? argv[i] : "dist-calibrate");
  return s;
}

/// The profile's header: when and how it was made, and what it measured.
static std::string getProfileComment(const std::string &command,
                                     bool linkMeasured, unsigned ranks) {
  std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%d", std::gmtime(&now));
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "Calibration profile written by dist-calibrate on " << date << ":\n"
     << "  " << command << "\n"
     << "A rank is " << rt::getNumThreads()
     << " kernel thread(s). peak_tflops: the fitted asymptotic sgemm rate\n"
     << "(gemm_efficiency 1); bandwidth_curve: adds of 3 KB to 200 MB; "
        "vector_tflops:\n"
     << "fitted to exp, erf, tanh, sigmoid, softmax and layer norm "
        "(docs/cluster.md).\n";
  if (!linkMeasured)
    os << "The link was not measured (one rank): its figures are defaults.";
  else
    os << "The link: the runtime's all-reduce, all-gather and reduce-scatter\n"
          "(rt::Communicator) of 1 KiB to 64 MiB on 2.."
       << ranks
       << " ranks, fitted to the ring\nformula, a bus bandwidth curve per "
          "collective (docs/cluster.md).";
  return s;
}

/// Times the calibration set's kernels on this rank and fits a device type
/// to them.
static DeviceType measureDevice(mlir::MLIRContext &context,
                                rt::Communicator &comm) {
  std::vector<OpCase> tiny, streaming, gemms, vector;
  getCalibrationCases(tiny, streaming, gemms, vector);
  std::vector<KernelTiming> t, m, g, v;
  std::string error;
  if (!measureOps(context, tiny, t, error) ||
      !measureOps(context, streaming, m, error) ||
      !measureOps(context, gemms, g, error) ||
      !measureOps(context, vector, v, error))
    fatal(comm, error);
  KernelTimings timings;
  timings.tiny = t.front();
  timings.streaming.assign(m.begin(), m.end());
  timings.gemms.assign(g.begin(), g.end());
  timings.vector.assign(v.begin(), v.end());
  DeviceType device;
  device.name = "cpu-rank";
  device.memoryBytes =
      uint64_t(double(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE));
  if (llvm::Error fitError = fitDeviceType(timings, device))
    fatal(comm, llvm::toString(std::move(fitError)));
  return device;
}

static int calibrate(mlir::MLIRContext &context, rt::Communicator &comm,
                     const std::string &command) {
  DeviceType device;
  if (comm.rank() == 0)
    device = measureDevice(context, comm);
  comm.waitForAll();
  std::vector<CollectiveTiming> collectives =
      measureCollectives(comm, getCalibrationSizes());
  if (comm.rank() != 0)
    return 0;
  // With one rank the link is not measured: default figures, and the file
  // says so.
  LinkSpec link{5e9, 1e-6};
  if (!collectives.empty()) {
    llvm::Expected<LinkSpec> fitted = fitLink(collectives, getNumCores());
    if (!fitted)
      fatal(comm, llvm::toString(fitted.takeError()));
    link = std::move(*fitted);
  }
  ClusterSpec profile =
      makeCalibrationCluster(profileName, device, link, comm.size());
  ClusterFileStyle style;
  style.headerComment =
      getProfileComment(command, !collectives.empty(), comm.size());
  style.significantDigits = 4;
  if (llvm::Error error = writeClusterFile(outputPath, profile, style))
    fatal(comm, llvm::toString(std::move(error)));
  llvm::Expected<std::string> text = formatClusterYAML(profile, style);
  if (!text)
    fatal(comm, llvm::toString(text.takeError()));
  llvm::outs() << *text;
  return 0;
}

/// Relative error of `predicted` against `measured`.
static double relativeError(double predicted, double measured) {
  return std::fabs(predicted - measured) / measured;
}

/// Times the check set's kernels and prints them against `device`'s
/// prediction; appends one JSON row per op to `rows`.
static void compareOps(mlir::MLIRContext &context, rt::Communicator &comm,
                       const DeviceType &device, llvm::json::Array &rows) {
  std::vector<KernelTiming> measured;
  std::string error;
  if (!measureOps(context, getCheckCases(), measured, error))
    fatal(comm, error);
  std::vector<double> errors;
  llvm::outs() << llvm::formatv("{0,-28} {1,-6} {2,12} {3,12} {4,8}\n", "op",
                                "class", "predicted", "measured", "error");
  for (const KernelTiming &m : measured) {
    double predicted = getComputeTime(device, m.work);
    errors.push_back(relativeError(predicted, m.seconds));
    llvm::outs() << llvm::formatv(
        "{0,-28} {1,-6} {2,9:f1} us {3,9:f1} us {4,7:f1}%\n", m.label,
        stringifyOpClass(m.work.opClass), predicted * 1e6, m.seconds * 1e6,
        errors.back() * 100);
    rows.push_back(
        llvm::json::Object{{"group", "op"},
                           {"name", m.label},
                           {"class", stringifyOpClass(m.work.opClass)},
                           {"flops", m.work.flops},
                           {"bytes", m.work.bytes},
                           {"predicted_s", predicted},
                           {"measured_s", m.seconds}});
  }
  llvm::outs() << llvm::formatv("ops: median |relative error| {0:f1}% over "
                                "{1} ops\n",
                                median(errors) * 100, errors.size());
}

/// Prints `collectives` against the prediction of cluster `clusterName`;
/// appends one JSON row per measurement to `rows`.
static void compareCollectives(rt::Communicator &comm,
                               llvm::ArrayRef<CollectiveTiming> collectives,
                               llvm::StringRef clusterName,
                               llvm::json::Array &rows) {
  std::vector<double> errors;
  llvm::outs() << llvm::formatv("{0,-14} {1,5} {2,10} {3,12} {4,12} {5,8}\n",
                                "collective", "ranks", "bytes", "predicted",
                                "measured", "error");
  for (const CollectiveTiming &m : collectives) {
    auto cluster = getClusterSpec(clusterName, m.ranks);
    if (!cluster)
      fatal(comm, llvm::toString(cluster.takeError()));
    llvm::SmallVector<unsigned> ranks;
    for (unsigned r = 0; r < m.ranks; ++r)
      ranks.push_back(r);
    double predicted = getCollectiveTime(
        *cluster, m.kind, CollectiveAlgorithm::Ring, m.bytes, ranks);
    errors.push_back(relativeError(predicted, m.seconds));
    llvm::outs() << llvm::formatv(
        "{0,-14} {1,5} {2,10} {3,9:f1} us {4,9:f1} us {5,7:f1}%\n",
        stringifyCollectiveKind(m.kind), m.ranks, m.bytes, predicted * 1e6,
        m.seconds * 1e6, errors.back() * 100);
    rows.push_back(llvm::json::Object{{"group", "collective"},
                                      {"name", stringifyCollectiveKind(m.kind)},
                                      {"ranks", m.ranks},
                                      {"bytes", m.bytes},
                                      {"predicted_s", predicted},
                                      {"measured_s", m.seconds}});
  }
  llvm::outs() << llvm::formatv("collectives: median |relative error| "
                                "{0:f1}% over {1} measurements\n",
                                median(errors) * 100, errors.size());
}

static int compare(mlir::MLIRContext &context, rt::Communicator &comm) {
  auto spec = getClusterSpec(comparePath, 0);
  if (!spec)
    fatal(comm, llvm::toString(spec.takeError()));
  llvm::json::Array rows;
  if (comm.rank() == 0)
    compareOps(context, comm, spec->getDeviceType(0), rows);
  comm.waitForAll();
  std::vector<CollectiveTiming> collectives =
      measureCollectives(comm, getCheckSizes());
  if (comm.rank() != 0)
    return 0;
  if (!collectives.empty())
    compareCollectives(comm, collectives, comparePath, rows);
  if (jsonPath.empty())
    return 0;
  // Through a temporary file and a rename, as the profile.
  llvm::json::Value value(std::move(rows));
  if (llvm::Error error =
          llvm::writeToOutput(jsonPath, [&](llvm::raw_ostream &os) {
            os << llvm::formatv("{0:1}", value) << "\n";
            return llvm::Error::success();
          }))
    fatal(comm, llvm::toString(std::move(error)));
  return 0;
}

static int verify() {
  auto spec = parseClusterFile(verifyPath);
  if (!spec) {
    llvm::errs() << "dist-calibrate: error: "
                 << llvm::toString(spec.takeError()) << "\n";
    return 1;
  }
  llvm::outs() << llvm::formatv("cluster '{0}': {1} devices, {2} nodes, {3} "
                                "sites\n",
                                spec->name, spec->getNumDevices(),
                                spec->nodes.size(), spec->sites.size());
  for (const DeviceType &d : spec->deviceTypes) {
    const ComputeEfficiency &e = d.efficiency;
    llvm::outs() << llvm::formatv(
        "device '{0}': peak {1:g} TFLOP/s, memory bandwidth {2:g} GB/s, "
        "gemm efficiency {3:g}, gemm half {4:g} GFLOP, memory efficiency "
        "{5:g}, vector {6:g} TFLOP/s, overhead {7:g} us\n",
        d.name, d.peakFlops / 1e12, d.memoryBandwidth / 1e9, e.gemmEfficiency,
        e.gemmHalfFlops / 1e9, e.memoryEfficiency, e.vectorFlops / 1e12,
        e.opOverhead * 1e6);
  }
  for (const NodeSpec &n : spec->nodes)
    llvm::outs() << llvm::formatv("node '{0}': {1} devices, intra-node {2:g} "
                                  "GB/s {3:g} us\n",
                                  n.name, n.numDevices,
                                  n.intraNode.bandwidth / 1e9,
                                  n.intraNode.latency * 1e6);
  return 0;
}

static int estimateMemory(mlir::MLIRContext &context) {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (llvm::StringRef(memoryPath).ends_with(".mlir"))
    module = mlir::parseSourceFile<mlir::ModuleOp>(memoryPath, &context);
  else
    module = readArtifact(memoryPath, &context);
  if (!module)
    return 1;
  mlir::func::FuncOp func = module->lookupSymbol<mlir::func::FuncOp>("main");
  if (!func) {
    auto funcs = llvm::to_vector(module->getOps<mlir::func::FuncOp>());
    if (funcs.size() != 1) {
      llvm::errs() << "dist-calibrate: error: '" << memoryPath
                   << "' has no function @main\n";
      return 1;
    }
    func = funcs.front();
  }
  ProgramMemory memory = estimateProgramMemory(func.getBody().front());
  llvm::outs() << llvm::formatv(
      "predicted memory: activations {0} bytes (peak at op {1}); weights {2} "
      "bytes; constants {3} bytes; inputs {4} bytes; total {5} bytes\n",
      memory.peakActivationBytes, memory.peakOpIndex, memory.weightBytes,
      memory.constantBytes, memory.inputBytes, memory.getTotalBytes());
  return 0;
}

int main(int argc, char **argv) {
  rt::Communicator comm(&argc, &argv);
  cl::HideUnrelatedOptions(calibrateCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "dist-calibrate: measure this machine for the cost model\n\n"
      "  dist-calibrate -o FILE [--quick]    calibrate (rank 0 writes FILE)\n"
      "  dist-calibrate --compare CLUSTER    predicted vs measured\n"
      "  dist-calibrate --verify FILE        parse a cluster file\n"
      "  dist-calibrate --estimate-memory P  memory estimate of a program\n");
  int modes = !outputPath.empty() + !comparePath.empty() + !verifyPath.empty() +
              !memoryPath.empty();
  if (modes != 1)
    fatal(comm,
          "give exactly one of -o, --compare, --verify, "
          "--estimate-memory (see --help)",
          2);
  if (threadsOpt < 1)
    fatal(comm, "--kernel-threads must be positive", 2);
  if (!verifyPath.empty())
    return comm.rank() == 0 ? verify() : 0;

  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler handler(&context, [](mlir::Diagnostic &d) {
    llvm::errs() << "dist-calibrate: error: " << d.str() << "\n";
    return mlir::success();
  });
  if (!memoryPath.empty())
    return comm.rank() == 0 ? estimateMemory(context) : 0;

  rt::setNumThreads(threadsOpt);
  if (!comparePath.empty())
    return compare(context, comm);
  return calibrate(context, comm, commandLine(argc, argv, comm.size()));
}
