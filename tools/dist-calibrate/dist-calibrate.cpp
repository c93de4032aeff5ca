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
// other ranks sleep, then MPI collectives of 1 KiB to 64 MiB on the first 2, 4,
// ... ranks. It fits the device figures and the link's alpha-beta by relative
// least squares and rank 0 writes a cluster file (docs/cluster.md) with the
// efficiency keys, atomically. --compare measures a different set of ops
// and the same collectives and prints them against the cost model's
// prediction from a cluster file.
//
//===----------------------------------------------------------------------===//

#include "distopt/Artifact/Artifact.h"
#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Cost/CollectiveCost.h"
#include "distopt/Cost/MemoryEstimate.h"
#include "distopt/Cost/OpCost.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "runtime/comm/Communicator.h"
#include "runtime/cpu/Kernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
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
// Idle waiting: ranks that do not measure must not spin on a core.
//===----------------------------------------------------------------------===//

static void sleepingBarrier(MPI_Comm comm) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  int done = 0;
  while (!done) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done)
      usleep(2000);
  }
}

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

/// A measured op: its work as the cost model counts it and its median
/// kernel time.
struct OpMeasurement {
  std::string label;
  OpWork work;
  double seconds = 0;
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

/// Runs the op of `c` through the runtime's kernel, called as the
/// executor calls it (runtime/core/Executor.cpp), until `minSeconds` and
/// `minRuns` have passed; records the median time of a call. The programs
/// are one-op programs, so that the work is counted by getOpWork on the
/// real op. (The executor itself cannot run here: it requires the job's
/// rank count to equal the program's devices.)
static bool measureOp(mlir::MLIRContext &context, const OpCase &c,
                      double minSeconds, int minRuns, OpMeasurement &out,
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
  auto in = [&](unsigned i) -> const rt::Tensor & { return operands[i].view; };
  rt::Tensor &res = result.view;
  std::function<void()> call;
  if (auto matmul = mlir::dyn_cast<dist::MatMulOp>(op))
    call = [&] { rt::matmul(in(0), in(1), nullptr, res); };
  else if (auto binary = mlir::dyn_cast<dist::BinaryOp>(op))
    call = [&, kind = static_cast<rt::BinaryKind>(binary.getKind())] {
      rt::binary(kind, in(0), in(1), res);
    };
  else if (auto unary = mlir::dyn_cast<dist::UnaryOp>(op))
    call = [&, kind = static_cast<rt::UnaryKind>(unary.getKind())] {
      rt::unary(kind, in(0), res);
    };
  else if (auto softmax = mlir::dyn_cast<dist::SoftmaxOp>(op))
    call = [&, axis = softmax.getAxis(), log = softmax.getLog()] {
      rt::softmax(in(0), res, axis, log);
    };
  else if (auto norm = mlir::dyn_cast<dist::LayerNormOp>(op))
    call = [&, axis = norm.getAxis(),
            eps = norm.getEpsilon().convertToFloat()] {
      rt::layerNorm(in(0), in(1), &in(2), res, axis, eps);
    };
  else {
    error = "no kernel call for '" + c.label + "'";
    return false;
  }

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
  out.seconds = median(times);
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
                       std::vector<OpMeasurement> &out, std::string &error) {
  double minSeconds = quick ? 0.002 : 0.1;
  int minRuns = quick ? 2 : 5;
  int rounds = sweeps > 0 ? int(sweeps) : quick ? 1 : 3;
  size_t first = out.size();
  for (int round = 0; round < rounds; ++round)
    for (auto [i, c] : llvm::enumerate(cases)) {
      OpMeasurement m;
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
// Collectives
//===----------------------------------------------------------------------===//

namespace {
struct CollectiveMeasurement {
  CollectiveKind kind;
  unsigned ranks;
  double bytes;
  double seconds;
};
} // namespace

/// Times `kind` on `comm` with the buffer size the cost model uses for
/// `bytes` (the all-reduce buffer, the all-gather output, the
/// reduce-scatter input): the slowest rank's mean over a batch of calls,
/// the fastest of several batches.
static double timeCollective(MPI_Comm comm, CollectiveKind kind, size_t bytes) {
  int n;
  MPI_Comm_size(comm, &n);
  size_t count = bytes / sizeof(float);
  std::vector<float> buffer(count, 1.0f), other(count, 0.0f);
  size_t piece = count / n;
  auto once = [&] {
    switch (kind) {
    case CollectiveKind::AllReduce:
      MPI_Allreduce(MPI_IN_PLACE, buffer.data(), int(count), MPI_FLOAT, MPI_SUM,
                    comm);
      break;
    case CollectiveKind::AllGather:
      MPI_Allgather(buffer.data(), int(piece), MPI_FLOAT, other.data(),
                    int(piece), MPI_FLOAT, comm);
      break;
    case CollectiveKind::ReduceScatter:
      MPI_Reduce_scatter_block(buffer.data(), other.data(), int(piece),
                               MPI_FLOAT, MPI_SUM, comm);
      break;
    default:
      break;
    }
  };
  using Clock = std::chrono::steady_clock;
  once();
  MPI_Barrier(comm);
  auto start = Clock::now();
  once();
  double first = std::chrono::duration<double>(Clock::now() - start).count();
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_DOUBLE, MPI_MAX, comm);
  double target = quick ? 0.001 : 0.01;
  int calls = int(std::clamp(target / std::max(first, 1e-7), 1.0, 1000.0));
  int batches = quick ? 3 : 15;
  std::vector<double> samples;
  for (int b = 0; b < batches; ++b) {
    MPI_Barrier(comm);
    start = Clock::now();
    for (int i = 0; i < calls; ++i)
      once();
    double mean =
        std::chrono::duration<double>(Clock::now() - start).count() / calls;
    MPI_Allreduce(MPI_IN_PLACE, &mean, 1, MPI_DOUBLE, MPI_MAX, comm);
    samples.push_back(mean);
  }
  // The fastest batch: other processes on the machine only ever slow a
  // batch down, so the minimum is the collective's own time.
  return *std::min_element(samples.begin(), samples.end());
}

/// Measures the collectives on the first 2, 4, ... ranks and on all of
/// them; ranks outside the group sleep. Rank 0 gets the results.
static std::vector<CollectiveMeasurement>
measureCollectivesOnce(int rank, int size, llvm::ArrayRef<size_t> sizes) {
  std::vector<CollectiveMeasurement> out;
  std::vector<int> groups;
  for (int g = 2; g < size; g *= 2)
    groups.push_back(g);
  if (size >= 2)
    groups.push_back(size);
  const CollectiveKind kinds[] = {CollectiveKind::AllReduce,
                                  CollectiveKind::AllGather,
                                  CollectiveKind::ReduceScatter};
  for (int g : groups) {
    MPI_Comm group;
    MPI_Comm_split(MPI_COMM_WORLD, rank < g ? 0 : MPI_UNDEFINED, rank, &group);
    if (rank < g) {
      for (CollectiveKind kind : kinds)
        for (size_t bytes : sizes) {
          double seconds = timeCollective(group, kind, bytes);
          out.push_back({kind, unsigned(g), double(bytes), seconds});
          if (verbose && rank == 0)
            llvm::errs() << llvm::formatv("  {0,-14} {1} ranks {2,10} B "
                                          "{3,10:e} s\n",
                                          stringifyCollectiveKind(kind), g,
                                          bytes, seconds);
        }
      MPI_Comm_free(&group);
    }
    sleepingBarrier(MPI_COMM_WORLD);
  }
  return out;
}

/// Measures the collectives `sweeps` times over and keeps the fastest time
/// of each: the machine may be shared, and other processes only ever slow
/// a measurement down.
static std::vector<CollectiveMeasurement>
measureCollectives(int rank, int size, llvm::ArrayRef<size_t> sizes) {
  int count = sweeps > 0 ? int(sweeps) : quick ? 1 : 3;
  std::vector<CollectiveMeasurement> best;
  for (int sweep = 0; sweep < count; ++sweep) {
    std::vector<CollectiveMeasurement> next =
        measureCollectivesOnce(rank, size, sizes);
    if (best.empty()) {
      best = std::move(next);
      continue;
    }
    for (auto [b, n] : llvm::zip(best, next))
      b.seconds = std::min(b.seconds, n.seconds);
  }
  return best;
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

/// Cores of this machine, over which the ranks of a job are spread.
static unsigned getNumCores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

//===----------------------------------------------------------------------===//
// Fits
//===----------------------------------------------------------------------===//

/// Least squares of `t ~ x . p` with two parameters, weighted by `1 / t^2`
/// so that every point counts by its relative error (the times span six
/// orders of magnitude). Returns false if the system is singular.
static bool fitRelative(llvm::ArrayRef<std::array<double, 2>> x,
                        llvm::ArrayRef<double> t, std::array<double, 2> &p) {
  double a00 = 0, a01 = 0, a11 = 0, b0 = 0, b1 = 0;
  for (auto [xi, ti] : llvm::zip(x, t)) {
    double w = 1.0 / (ti * ti);
    a00 += w * xi[0] * xi[0];
    a01 += w * xi[0] * xi[1];
    a11 += w * xi[1] * xi[1];
    b0 += w * xi[0] * ti;
    b1 += w * xi[1] * ti;
  }
  double det = a00 * a11 - a01 * a01;
  if (!(std::fabs(det) > 1e-300))
    return false;
  p = {(a11 * b0 - a01 * b1) / det, (a00 * b1 - a01 * b0) / det};
  return true;
}

/// The fitted figures of the profile.
namespace {
struct Profile {
  DeviceType device;
  LinkSpec link{5e9, 1e-6};
  bool linkMeasured = false;
  unsigned ranks = 1;
  int threads = 1;
};
} // namespace

/// Relative least squares with one parameter: `t - offset ~ x * p`.
static double fitScale(llvm::ArrayRef<double> x, llvm::ArrayRef<double> t,
                       double offset) {
  double num = 0, den = 0;
  for (auto [xi, ti] : llvm::zip(x, t)) {
    double w = 1.0 / (ti * ti);
    num += w * xi * (ti - offset);
    den += w * xi * xi;
  }
  return den > 0 ? num / den : 0;
}

static bool fitCompute(const OpMeasurement &tiny,
                       llvm::ArrayRef<OpMeasurement> streaming,
                       llvm::ArrayRef<OpMeasurement> gemms,
                       llvm::ArrayRef<OpMeasurement> vector, Profile &profile,
                       std::string &error) {
  ComputeEfficiency &eff = profile.device.efficiency;
  // The fixed cost of a kernel: an add of a few elements.
  eff.opOverhead = tiny.seconds;

  // Streaming kernels from in-cache to past the caches: one bandwidth
  // curve point each, t = overhead + bytes / bandwidth(bytes).
  eff.memoryEfficiency = 1.0;
  eff.bandwidthCurve.clear();
  // A point whose time is within the overhead's own noise says nothing
  // about bandwidth: it is left out (the curve's first point then holds
  // for smaller sizes).
  for (const OpMeasurement &m : streaming) {
    double seconds = m.seconds - eff.opOverhead;
    if (!(seconds > 0.5 * m.seconds))
      continue;
    if (eff.bandwidthCurve.empty() ||
        m.work.bytes > eff.bandwidthCurve.back().bytes)
      eff.bandwidthCurve.push_back({m.work.bytes, m.work.bytes / seconds});
  }
  if (eff.bandwidthCurve.empty()) {
    error = "no streaming kernel took clearly longer than the overhead";
    return false;
  }
  profile.device.memoryBandwidth = eff.bandwidthCurve.back().bandwidth;

  // GEMMs: t = overhead + (flops + half) / rate, i.e. intercept
  // overhead + half / rate and slope 1 / rate.
  std::vector<std::array<double, 2>> x;
  std::vector<double> t;
  for (const OpMeasurement &m : gemms) {
    x.push_back({1.0, m.work.flops});
    t.push_back(m.seconds);
  }
  std::array<double, 2> p;
  if (!fitRelative(x, t, p) || p[1] <= 0) {
    error = "cannot fit the GEMM rate to the GEMM timings";
    return false;
  }
  // On a CPU the peak is the fitted asymptotic rate of sgemm: efficiency 1.
  profile.device.peakFlops = 1.0 / p[1];
  eff.gemmEfficiency = 1.0;
  eff.gemmHalfFlops = std::max(0.0, (p[0] - eff.opOverhead) / p[1]);

  // Arithmetic-bound kernels: t = overhead + flops / vectorFlops.
  std::vector<double> flops, times;
  for (const OpMeasurement &m : vector) {
    flops.push_back(m.work.flops);
    times.push_back(m.seconds);
  }
  double inverse = fitScale(flops, times, eff.opOverhead);
  eff.vectorFlops = inverse > 0 ? 1.0 / inverse : 0;
  return true;
}

static bool fitLink(llvm::ArrayRef<CollectiveMeasurement> measured,
                    Profile &profile, std::string &error) {
  // The ring formula of getFlatCollectiveTime, with ranks beyond the cores
  // sharing them as the cpu preset models it (bandwidth * share, latency /
  // share): t = steps * latency / share + bytes * f / (bandwidth * share).
  unsigned cores = getNumCores();
  auto share = [&](unsigned ranks) {
    return std::min(1.0, double(cores) / ranks);
  };
  auto steps = [](const CollectiveMeasurement &m) {
    return m.kind == CollectiveKind::AllReduce ? 2.0 * (m.ranks - 1)
                                               : m.ranks - 1.0;
  };
  auto busBytes = [&](const CollectiveMeasurement &m) {
    return m.bytes * getBusBandwidthFactor(m.kind, m.ranks) / share(m.ranks);
  };
  // 1. Latency and one bandwidth for every size, from all-reduce.
  std::vector<std::array<double, 2>> x;
  std::vector<double> t;
  for (const CollectiveMeasurement &m : measured)
    if (m.kind == CollectiveKind::AllReduce) {
      x.push_back({steps(m) / share(m.ranks), busBytes(m)});
      t.push_back(m.seconds);
    }
  std::array<double, 2> p;
  if (!fitRelative(x, t, p) || p[1] <= 0) {
    error = "cannot fit the link's bandwidth to the all-reduce timings";
    return false;
  }
  LinkSpec &link = profile.link;
  link = LinkSpec();
  link.latency = std::max(0.0, p[0]);
  link.bandwidth = 1.0 / p[1];
  // 2. Each collective's bus bandwidth at each size, with that latency.
  for (auto [kind, curve] :
       {std::pair(CollectiveKind::AllReduce, &link.bandwidthCurve),
        std::pair(CollectiveKind::AllGather, &link.allGatherCurve),
        std::pair(CollectiveKind::ReduceScatter, &link.reduceScatterCurve)}) {
    std::map<double, std::pair<std::vector<double>, std::vector<double>>>
        bySize;
    for (const CollectiveMeasurement &m : measured)
      if (m.kind == kind) {
        auto &[xs, ts] = bySize[m.bytes];
        xs.push_back(busBytes(m));
        ts.push_back(m.seconds - steps(m) * link.latency / share(m.ranks));
      }
    for (auto &[bytes, points] : bySize) {
      // Relative least squares of `ts ~ xs / bandwidth`, one parameter.
      double num = 0, den = 0;
      for (auto [xi, ti] : llvm::zip(points.first, points.second)) {
        double w = 1.0 / (ti * ti);
        num += w * xi * ti;
        den += w * xi * xi;
      }
      if (num > 0)
        curve->push_back({bytes, den / num});
    }
  }
  profile.linkMeasured = true;
  return true;
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
// Writing the profile
//===----------------------------------------------------------------------===//

/// `value` with 4 significant digits, as YAML reads it back.
static std::string num(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", value);
  return text;
}

static std::string formatProfile(const Profile &profile, llvm::StringRef name,
                                 llvm::StringRef command) {
  const DeviceType &d = profile.device;
  const ComputeEfficiency &e = d.efficiency;
  std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%d", std::gmtime(&now));
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "# Calibration profile written by dist-calibrate on " << date << ":\n"
     << "#   " << command << "\n"
     << "# A rank is " << profile.threads << " kernel thread(s). peak_tflops: "
     << "the fitted asymptotic sgemm rate\n"
     << "# (gemm_efficiency 1); bandwidth_curve: adds of 3 KB to 200 MB; "
     << "vector_tflops:\n"
     << "# fitted to exp, erf, tanh, sigmoid, softmax and layer norm "
     << "(docs/cluster.md).\n";
  if (!profile.linkMeasured)
    os << "# The link was not measured (one rank): its figures are defaults.\n";
  else
    os << "# The link: MPI all-reduce, all-gather and reduce-scatter of 1 KiB "
          "to 64 MiB on\n# 2.."
       << profile.ranks
       << " ranks, fitted to the ring formula, a bus bandwidth curve per "
          "collective\n# (docs/cluster.md).\n";
  os << llvm::formatv("name: {0}\n", name);
  os << "device_types:\n";
  os << llvm::formatv("  - name: cpu-rank\n"
                      "    peak_tflops: {0}\n"
                      "    memory_gib: {1}\n"
                      "    memory_bandwidth: {2}\n"
                      "    gemm_efficiency: {3}\n"
                      "    gemm_half_gflop: {4}\n"
                      "    memory_efficiency: {5}\n"
                      "    vector_tflops: {6}\n"
                      "    op_overhead_us: {7}\n",
                      num(d.peakFlops / 1e12),
                      num(double(d.memoryBytes) / (1 << 30)),
                      num(d.memoryBandwidth / 1e9), num(e.gemmEfficiency),
                      num(e.gemmHalfFlops / 1e9), num(e.memoryEfficiency),
                      num(e.vectorFlops / 1e12), num(e.opOverhead / 1e-6));
  if (!e.bandwidthCurve.empty()) {
    os << "    bandwidth_curve:  # [MB moved, GB/s]\n";
    for (const BandwidthPoint &point : e.bandwidthCurve)
      os << "      - [" << num(point.bytes / 1e6) << ", "
         << num(point.bandwidth / 1e9) << "]\n";
  }
  const LinkSpec &link = profile.link;
  os << llvm::formatv("sites:\n"
                      "  - name: localhost\n"
                      "    nodes:\n"
                      "      - name: localhost\n"
                      "        device: cpu-rank\n"
                      "        devices_per_node: {0}\n"
                      "        intra_node: &shared_memory\n"
                      "          bandwidth: {1}\n"
                      "          latency: {2}\n",
                      profile.ranks, num(link.bandwidth / 1e9),
                      num(link.latency / 1e-6));
  if (profile.linkMeasured) {
    for (auto [key, curve] :
         {std::pair("bandwidth_curve:  # all-reduce", &link.bandwidthCurve),
          std::pair("all_gather_curve:  #", &link.allGatherCurve),
          std::pair("reduce_scatter_curve:  #", &link.reduceScatterCurve)}) {
      os << "          " << key << " [MB, GB/s] bus bandwidth\n";
      for (const BandwidthPoint &point : *curve)
        os << "            - [" << num(point.bytes / 1e6) << ", "
           << num(point.bandwidth / 1e9) << "]\n";
    }
  }
  os << "        inter_node: *shared_memory\n";
  return s;
}

/// Writes `text` to `path` through a temporary file in the same folder and
/// a rename, so that a reader never sees a partial profile.
static bool writeAtomically(llvm::StringRef path, llvm::StringRef text,
                            std::string &error) {
  std::string temp = (path + ".tmp" + std::to_string(getpid())).str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(temp, ec);
    if (ec) {
      error = "cannot write '" + temp + "': " + ec.message();
      return false;
    }
    os << text;
    os.close();
    if (os.has_error()) {
      error = "cannot write '" + temp + "': " + os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return false;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    error =
        "cannot rename '" + temp + "' to '" + path.str() + "': " + ec.message();
    return false;
  }
  return true;
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

static int calibrate(mlir::MLIRContext &context, rt::Communicator &comm,
                     const std::string &command) {
  Profile profile;
  profile.ranks = unsigned(comm.size());
  profile.threads = rt::getNumThreads();
  std::string error;
  double physical = double(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  profile.device.name = "cpu-rank";
  profile.device.memoryBytes = uint64_t(physical);
  if (comm.rank() == 0) {
    std::vector<OpCase> tiny, streaming, gemms, vector;
    getCalibrationCases(tiny, streaming, gemms, vector);
    std::vector<OpMeasurement> t, m, g, v;
    if (!measureOps(context, tiny, t, error) ||
        !measureOps(context, streaming, m, error) ||
        !measureOps(context, gemms, g, error) ||
        !measureOps(context, vector, v, error) ||
        !fitCompute(t.front(), m, g, v, profile, error))
      fatal(comm, error);
  }
  sleepingBarrier(MPI_COMM_WORLD);
  std::vector<CollectiveMeasurement> collectives =
      measureCollectives(comm.rank(), comm.size(), getCalibrationSizes());
  if (comm.rank() != 0)
    return 0;
  if (!collectives.empty() && !fitLink(collectives, profile, error))
    fatal(comm, error);
  std::string text = formatProfile(profile, profileName, command);
  // The profile must read back with the cluster reader before it replaces
  // anything.
  auto spec = parseClusterYAML(text, outputPath);
  if (!spec)
    fatal(comm, "the profile does not parse, nothing was written: " +
                    llvm::toString(spec.takeError()));
  if (!writeAtomically(outputPath, text, error))
    fatal(comm, error);
  llvm::outs() << text;
  return 0;
}

/// Relative error of `predicted` against `measured`.
static double relativeError(double predicted, double measured) {
  return std::fabs(predicted - measured) / measured;
}

static int compare(mlir::MLIRContext &context, rt::Communicator &comm) {
  auto spec = getClusterSpec(comparePath, 0);
  if (!spec)
    fatal(comm, llvm::toString(spec.takeError()));
  nlohmann::json rows = nlohmann::json::array();
  std::string error;
  if (comm.rank() == 0) {
    const DeviceType &device = spec->getDeviceType(0);
    std::vector<OpMeasurement> measured;
    if (!measureOps(context, getCheckCases(), measured, error))
      fatal(comm, error);
    std::vector<double> errors;
    llvm::outs() << llvm::formatv("{0,-28} {1,-6} {2,12} {3,12} {4,8}\n", "op",
                                  "class", "predicted", "measured", "error");
    for (const OpMeasurement &m : measured) {
      double predicted = getComputeTime(device, m.work);
      errors.push_back(relativeError(predicted, m.seconds));
      llvm::outs() << llvm::formatv(
          "{0,-28} {1,-6} {2,9:f1} us {3,9:f1} us {4,7:f1}%\n", m.label,
          stringifyOpClass(m.work.opClass), predicted * 1e6, m.seconds * 1e6,
          errors.back() * 100);
      rows.push_back({{"group", "op"},
                      {"name", m.label},
                      {"class", stringifyOpClass(m.work.opClass).str()},
                      {"flops", m.work.flops},
                      {"bytes", m.work.bytes},
                      {"predicted_s", predicted},
                      {"measured_s", m.seconds}});
    }
    llvm::outs() << llvm::formatv("ops: median |relative error| {0:f1}% over "
                                  "{1} ops\n",
                                  median(errors) * 100, errors.size());
  }
  sleepingBarrier(MPI_COMM_WORLD);
  std::vector<CollectiveMeasurement> collectives =
      measureCollectives(comm.rank(), comm.size(), getCheckSizes());
  if (comm.rank() != 0)
    return 0;
  if (!collectives.empty()) {
    std::vector<double> errors;
    llvm::outs() << llvm::formatv("{0,-14} {1,5} {2,10} {3,12} {4,12} {5,8}\n",
                                  "collective", "ranks", "bytes", "predicted",
                                  "measured", "error");
    for (const CollectiveMeasurement &m : collectives) {
      auto cluster = getClusterSpec(comparePath, m.ranks);
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
      rows.push_back({{"group", "collective"},
                      {"name", stringifyCollectiveKind(m.kind).str()},
                      {"ranks", m.ranks},
                      {"bytes", m.bytes},
                      {"predicted_s", predicted},
                      {"measured_s", m.seconds}});
    }
    llvm::outs() << llvm::formatv("collectives: median |relative error| "
                                  "{0:f1}% over {1} measurements\n",
                                  median(errors) * 100, errors.size());
  }
  if (!jsonPath.empty()) {
    std::string text = rows.dump(1) + "\n";
    if (!writeAtomically(jsonPath, text, error))
      fatal(comm, error);
  }
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
