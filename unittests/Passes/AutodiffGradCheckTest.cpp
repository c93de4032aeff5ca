//===- AutodiffGradCheckTest.cpp - finite-difference check of dist-autodiff
//===//
//
// For every gradient rule: a tiny f64 function `loss = sum_i sum(y_i * r_i)`
// of the op's results `y_i`, with fixed random `r_i`, is differentiated by
// the real `dist-autodiff` pass with its inputs as `dist.weight`s (backed by
// a data file), and run on the CPU runtime (Executor, one rank). Every
// gradient element is compared with the central difference of the loss,
// computed by running the same function with its inputs as arguments. A
// wrong rule (a missing transpose, a factor 2, a wrong broadcast sum) moves
// a gradient by far more than the tolerance.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Passes/Passes.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/Executor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

using namespace mlir;
using namespace distopt;

namespace {

/// One differentiated input: its name (the SSA name without `%` in the
/// body), shape, and the range its random values are drawn from. With
/// `awayFromZero`, values are in [lo, hi] with a random sign (kinks at 0).
struct InputSpec {
  std::string name;
  std::vector<int64_t> shape;
  double lo = -1.0, hi = 1.0;
  bool awayFromZero = false;
};

/// A function of the inputs: `body` defines `%y0`, `%y1`, ... of `outputs`
/// shapes (f64).
struct GradCase {
  std::string name;
  std::vector<InputSpec> inputs;
  std::string body;
  std::vector<std::vector<int64_t>> outputs;
  double tolerance = 1e-6;
  double step = 1e-5;
};

/// gtest prints a case by its name.
void PrintTo(const GradCase &c, std::ostream *os) { *os << c.name; }

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s;
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s;
}

std::string f64Type(const std::vector<int64_t> &shape) {
  return "tensor<" + shapeText(shape) + "f64>";
}

int64_t count(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// `dense<"0x...">` of little-endian doubles.
std::string denseHex(const std::vector<double> &values) {
  std::string bytes(values.size() * 8, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return "dense<\"0x" + llvm::toHex(bytes) + "\">";
}

/// The loss `sum_i sum(y_i * r_i)` after `body`, as MLIR ops.
std::string lossText(const GradCase &c,
                     const std::vector<std::vector<double>> &weights) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    std::string t = f64Type(c.outputs[i]), k = std::to_string(i);
    os << "    %r" << k << " = dist.constant " << denseHex(weights[i]) << " : "
       << t << "\n";
    os << "    %p" << k << " = dist.binary mul %y" << k << ", %r" << k << " : ("
       << t << ", " << t << ") -> " << t << "\n";
    if (c.outputs[i].empty()) {
      os << "    %s" << k << " = dist.reshape %p" << k
         << " : tensor<f64> to tensor<f64>\n";
      continue;
    }
    os << "    %s" << k << " = dist.reduce sum %p" << k
       << " {axes = array<i64: ";
    for (size_t d = 0; d < c.outputs[i].size(); ++d)
      os << (d ? ", " : "") << d;
    os << ">} : (" << t << ") -> tensor<f64>\n";
  }
  std::string last = "%s0";
  for (size_t i = 1; i < c.outputs.size(); ++i) {
    std::string next = "%acc" + std::to_string(i);
    os << "    " << next << " = dist.binary add " << last << ", %s" << i
       << " : (tensor<f64>, tensor<f64>) -> tensor<f64>\n";
    last = next;
  }
  os << "    return " << last << " : tensor<f64>\n";
  return text;
}

class AutodiffGradCheck : public ::testing::TestWithParam<GradCase> {
protected:
  AutodiffGradCheck() : ctx(makeRegistry()) { ctx.loadAllAvailableDialects(); }

  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    registerAllDialects(registry);
    return registry;
  }

  /// The one rank of this process (MPI is initialized once).
  static rt::Communicator &comm() {
    static rt::Communicator communicator(nullptr, nullptr);
    return communicator;
  }

  OwningOpRef<ModuleOp> parse(const std::string &text) {
    auto module = parseSourceString<ModuleOp>(text, &ctx);
    EXPECT_TRUE(module) << text;
    return module;
  }

  std::unique_ptr<rt::Executor> executor(ModuleOp module) {
    std::string error;
    auto ex = rt::Executor::create(module, comm(), error);
    EXPECT_TRUE(ex) << error;
    return ex;
  }

  /// The module whose inputs are weights in files under `dir`.
  std::string weightModule(const GradCase &c, const std::string &dir,
                           const std::vector<std::vector<double>> &values,
                           const std::vector<std::vector<double>> &r);
  /// The module whose inputs are function arguments.
  std::string argumentModule(const GradCase &c,
                             const std::vector<std::vector<double>> &r);

  MLIRContext ctx;
};

std::string
AutodiffGradCheck::weightModule(const GradCase &c, const std::string &dir,
                                const std::vector<std::vector<double>> &values,
                                const std::vector<std::vector<double>> &r) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "module attributes {dist.model_dir = \"" << dir << "\"} {\n"
     << "  func.func @main() -> (tensor<f64> {dist.loss}) {\n";
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const InputSpec &in = c.inputs[i];
    std::string file = in.name + ".bin";
    std::ofstream(dir + "/" + file, std::ios::binary)
        .write(reinterpret_cast<const char *>(values[i].data()),
               values[i].size() * 8);
    os << "    %" << in.name << " = dist.weight \"" << in.name
       << "\" : " << f64Type(in.shape)
       << " at #dist.data<storage = external, path = \"" << file
       << "\", offset = 0, length = " << values[i].size() * 8 << ">\n";
  }
  os << c.body << lossText(c, r) << "  }\n}\n";
  return text;
}

std::string
AutodiffGradCheck::argumentModule(const GradCase &c,
                                  const std::vector<std::vector<double>> &r) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "module {\n  func.func @main(";
  for (size_t i = 0; i < c.inputs.size(); ++i)
    os << (i ? ", " : "") << "%" << c.inputs[i].name << ": "
       << f64Type(c.inputs[i].shape);
  os << ") -> tensor<f64> {\n" << c.body << lossText(c, r) << "  }\n}\n";
  return text;
}

std::vector<double> randomValues(std::mt19937 &rng, int64_t n, double lo,
                                 double hi, bool awayFromZero) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> out(n);
  for (double &v : out) {
    v = dist(rng);
    if (awayFromZero && (rng() & 1))
      v = -v;
  }
  return out;
}

rt::HostTensor hostTensor(const std::vector<int64_t> &shape,
                          const std::vector<double> &values) {
  rt::HostTensor t;
  t.dtype = rt::DType::F64;
  t.shape = shape;
  t.bytes.resize(values.size() * 8);
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

std::vector<double> doubles(const rt::HostTensor &t) {
  std::vector<double> out(t.bytes.size() / 8);
  std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

TEST_P(AutodiffGradCheck, MatchesCentralDifferences) {
  const GradCase &c = GetParam();
  std::mt19937 rng(std::hash<std::string>()(c.name) & 0xffffffff);
  std::vector<std::vector<double>> values, r;
  for (const InputSpec &in : c.inputs)
    values.push_back(
        randomValues(rng, count(in.shape), in.lo, in.hi, in.awayFromZero));
  for (const auto &shape : c.outputs)
    r.push_back(randomValues(rng, count(shape), 0.5, 1.5, true));

  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("autodiff-gradcheck", dir));
  OwningOpRef<ModuleOp> trained =
      parse(weightModule(c, dir.str().str(), values, r));
  ASSERT_TRUE(trained);
  PassManager pm(&ctx);
  pm.addNestedPass<func::FuncOp>(createAutodiffPass());
  ASSERT_TRUE(succeeded(pm.run(*trained)));
  auto gradEx = executor(*trained);
  ASSERT_TRUE(gradEx);
  ASSERT_EQ(gradEx->outputs().size(), 1 + c.inputs.size());
  std::vector<rt::HostTensor> outputs;
  gradEx->run({}, outputs, nullptr);

  OwningOpRef<ModuleOp> plain = parse(argumentModule(c, r));
  ASSERT_TRUE(plain);
  auto lossEx = executor(*plain);
  ASSERT_TRUE(lossEx);
  std::vector<rt::HostTensor> inputs;
  for (size_t i = 0; i < c.inputs.size(); ++i)
    inputs.push_back(hostTensor(c.inputs[i].shape, values[i]));
  auto lossAt = [&]() {
    std::vector<rt::HostTensor> out;
    lossEx->run(inputs, out, nullptr);
    return doubles(out[0])[0];
  };
  EXPECT_NEAR(lossAt(), doubles(outputs[0])[0], 1e-12);

  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::vector<double> analytic = doubles(outputs[1 + i]);
    ASSERT_EQ(analytic.size(), values[i].size());
    for (size_t j = 0; j < values[i].size(); ++j) {
      double *x = reinterpret_cast<double *>(inputs[i].bytes.data()) + j;
      double saved = *x;
      *x = saved + c.step;
      double up = lossAt();
      *x = saved - c.step;
      double down = lossAt();
      *x = saved;
      double numeric = (up - down) / (2 * c.step);
      EXPECT_NEAR(analytic[j], numeric,
                  c.tolerance * (1.0 + std::fabs(numeric)))
          << "d loss / d " << c.inputs[i].name << "[" << j << "]";
    }
  }
  llvm::sys::fs::remove_directories(dir);
}

std::string caseName(const ::testing::TestParamInfo<GradCase> &info) {
  return info.param.name;
}

//===----------------------------------------------------------------------===//
// The cases: one or more per rule
//===----------------------------------------------------------------------===//

/// An input of `shape` with values in [-1, 1].
InputSpec in(std::string name, std::vector<int64_t> shape) {
  return InputSpec{std::move(name), std::move(shape)};
}
/// An input of `shape` with values of magnitude in [lo, hi], either sign.
InputSpec away(std::string name, std::vector<int64_t> shape, double lo = 0.2,
               double hi = 1.0) {
  return InputSpec{std::move(name), std::move(shape), lo, hi, true};
}
/// An input of `shape` with values in [lo, hi].
InputSpec ranged(std::string name, std::vector<int64_t> shape, double lo,
                 double hi) {
  return InputSpec{std::move(name), std::move(shape), lo, hi, false};
}

std::vector<GradCase> contractionCases() {
  return {
      {"matmul",
       {in("a", {3, 4}), in("b", {4, 5})},
       "    %y0 = dist.matmul %a, %b : (tensor<3x4xf64>, tensor<4x5xf64>) -> "
       "tensor<3x5xf64>\n",
       {{3, 5}}},
      {"matmul_batch_bias",
       {in("a", {2, 3, 4}), in("b", {4, 5}), in("c", {5})},
       "    %y0 = dist.matmul %a, %b, %c : (tensor<2x3x4xf64>, "
       "tensor<4x5xf64>, tensor<5xf64>) -> tensor<2x3x5xf64>\n",
       {{2, 3, 5}}},
      {"matmul_broadcast_batch",
       {in("a", {2, 1, 3, 4}), in("b", {3, 4, 2}), in("c", {3, 1, 2})},
       "    %y0 = dist.matmul %a, %b, %c : (tensor<2x1x3x4xf64>, "
       "tensor<3x4x2xf64>, tensor<3x1x2xf64>) -> tensor<2x3x3x2xf64>\n",
       {{2, 3, 3, 2}}},
      {"gemm",
       {in("a", {3, 4}), in("b", {4, 5}), in("c", {5})},
       "    %y0 = dist.gemm %a, %b, %c {alpha = 5.0e-01 : f32, beta = 2.0 : "
       "f32} : (tensor<3x4xf64>, tensor<4x5xf64>, tensor<5xf64>) -> "
       "tensor<3x5xf64>\n",
       {{3, 5}}},
      {"gemm_trans_a",
       {in("a", {4, 3}), in("b", {4, 5}), in("c", {3, 1})},
       "    %y0 = dist.gemm %a, %b, %c {trans_a, alpha = 1.5 : f32} : "
       "(tensor<4x3xf64>, tensor<4x5xf64>, tensor<3x1xf64>) -> "
       "tensor<3x5xf64>\n",
       {{3, 5}}},
      {"gemm_trans_b",
       {in("a", {3, 4}), in("b", {5, 4}), in("c", {3, 5})},
       "    %y0 = dist.gemm %a, %b, %c {trans_b, beta = 5.0e-01 : f32} : "
       "(tensor<3x4xf64>, tensor<5x4xf64>, tensor<3x5xf64>) -> "
       "tensor<3x5xf64>\n",
       {{3, 5}}},
      {"gemm_trans_ab",
       {in("a", {4, 3}), in("b", {5, 4}), in("c", {1, 5})},
       "    %y0 = dist.gemm %a, %b, %c {trans_a, trans_b, alpha = 2.0 : f32, "
       "beta = 3.0 : f32} : (tensor<4x3xf64>, tensor<5x4xf64>, "
       "tensor<1x5xf64>) -> tensor<3x5xf64>\n",
       {{3, 5}}},
      {"conv2d_stride_pad",
       {in("x", {2, 3, 5, 5}), in("w", {4, 3, 3, 3}), in("b", {4})},
       "    %y0 = dist.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = "
       "array<i64: 1, 1, 1, 1>} : (tensor<2x3x5x5xf64>, tensor<4x3x3x3xf64>, "
       "tensor<4xf64>) -> tensor<2x4x3x3xf64>\n",
       {{2, 4, 3, 3}}},
      {"conv2d_group_dilation",
       {in("x", {1, 4, 6, 6}), in("w", {4, 2, 2, 2})},
       "    %y0 = dist.conv2d %x, %w {group = 2 : i64, dilations = array<i64: "
       "2, 2>, pads = array<i64: 1, 0, 1, 0>} : (tensor<1x4x6x6xf64>, "
       "tensor<4x2x2x2xf64>) -> tensor<1x4x6x4xf64>\n",
       {{1, 4, 6, 4}}},
  };
}

std::vector<GradCase> poolCases() {
  return {
      {"pool2d_max",
       {in("x", {1, 2, 5, 5})},
       "    %y0 = dist.pool2d max %x {kernel = array<i64: 3, 3>, strides = "
       "array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : "
       "(tensor<1x2x5x5xf64>) -> tensor<1x2x3x3xf64>\n",
       {{1, 2, 3, 3}}},
      {"pool2d_avg_ceil_count_pad",
       {in("x", {1, 2, 6, 6})},
       "    %y0 = dist.pool2d avg %x {kernel = array<i64: 3, 3>, strides = "
       "array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode, "
       "count_include_pad} : (tensor<1x2x6x6xf64>) -> tensor<1x2x4x4xf64>\n",
       {{1, 2, 4, 4}}},
      {"pool2d_avg_overlap",
       {in("x", {1, 1, 4, 4})},
       "    %y0 = dist.pool2d avg %x {kernel = array<i64: 2, 2>, pads = "
       "array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf64>) -> "
       "tensor<1x1x5x5xf64>\n",
       {{1, 1, 5, 5}}},
      {"global_pool_avg",
       {in("x", {2, 3, 2, 2})},
       "    %y0 = dist.global_pool avg %x : (tensor<2x3x2x2xf64>) -> "
       "tensor<2x3x1x1xf64>\n",
       {{2, 3, 1, 1}}},
      {"global_pool_max",
       {in("x", {2, 3, 2, 2})},
       "    %y0 = dist.global_pool max %x : (tensor<2x3x2x2xf64>) -> "
       "tensor<2x3x1x1xf64>\n",
       {{2, 3, 1, 1}}},
  };
}

std::vector<GradCase> unaryCases() {
  std::vector<GradCase> out;
  auto add = [&](const std::string &kind, InputSpec x,
                 const std::string &params = "") {
    x.name = "x";
    x.shape = {2, 3};
    out.push_back({"unary_" + kind,
                   {x},
                   "    %y0 = dist.unary " + kind + " %x " + params +
                       " : tensor<2x3xf64>\n",
                   {{2, 3}}});
  };
  // The activations: kinks at 0 (and at alpha for thresholded_relu) are
  // avoided; hard_sigmoid and hard_swish are also sampled where they
  // saturate (|x| > 2.5, |x| > 3).
  add("leaky_relu", away("x", {}, 0.3, 1.5), "{alpha = 0.1 : f32}");
  add("elu", away("x", {}, 0.3, 1.5), "{alpha = 2.0 : f32}");
  add("selu", away("x", {}, 0.3, 1.5),
      "{alpha = 1.5 : f32, beta = 1.25 : f32}");
  add("celu", in("x", {}), "{alpha = 2.0 : f32}");
  add("hard_sigmoid", ranged("x", {}, -4.0, 4.0),
      "{alpha = 0.25 : f32, beta = 0.5 : f32}");
  add("thresholded_relu", away("x", {}, 0.6, 1.5), "{alpha = 0.5 : f32}");
  add("hard_swish", ranged("x", {}, -5.0, 5.0));
  for (const char *kind : {"softplus", "softsign", "mish"})
    add(kind, ranged("x", {}, -3.0, 3.0));
  for (const char *kind : {"gelu_erf", "gelu_tanh", "tanh", "exp", "erf", "neg",
                           "sigmoid", "sin", "cos", "silu"})
    add(kind, in("x", {}));
  for (const char *kind : {"log", "sqrt", "rsqrt"})
    add(kind, ranged("x", {}, 0.5, 2.0));
  for (const char *kind : {"tan", "atan", "sinh", "cosh", "asinh"})
    add(kind, ranged("x", {}, -1.0, 1.0));
  for (const char *kind : {"asin", "acos", "atanh"})
    add(kind, ranged("x", {}, -0.8, 0.8));
  add("acosh", ranged("x", {}, 1.2, 3.0));
  for (const char *kind : {"relu", "abs", "reciprocal"})
    add(kind, away("x", {}, 0.3, 1.5));
  // No gradient: the weight's gradient is zeros, as the differences say.
  for (const char *kind : {"floor", "ceil"})
    add(kind, away("x", {}, 0.1, 0.9));
  // Round's steps are at the halves: sampled between them.
  add("round", ranged("x", {}, -0.4, 0.4));
  return out;
}

std::vector<GradCase> binaryCases() {
  std::vector<GradCase> out;
  auto add = [&](const std::string &kind, InputSpec a, InputSpec b) {
    a.name = "a", a.shape = {2, 3};
    b.name = "b", b.shape = {3};
    out.push_back({"binary_" + kind,
                   {a, b},
                   "    %y0 = dist.binary " + kind +
                       " %a, %b : (tensor<2x3xf64>, tensor<3xf64>) -> "
                       "tensor<2x3xf64>\n",
                   {{2, 3}}});
  };
  for (const char *kind : {"add", "sub", "mul", "max", "min"})
    add(kind, in("", {}), in("", {}));
  add("div", in("", {}), away("", {}, 0.5, 2.0));
  add("pow", ranged("", {}, 0.5, 2.0), ranged("", {}, -1.5, 2.5));
  // The remainders jump where the quotient crosses an integer: sampled
  // where it is between -1 and 0 (mod: floor -1) and between 2 and 3
  // (fmod: trunc 2), so that the divisor's gradient is not 0.
  add("mod", ranged("", {}, -0.9, -0.1), ranged("", {}, 1.5, 2.5));
  add("fmod", ranged("", {}, 2.5, 3.2), ranged("", {}, 1.1, 1.2));
  out.push_back({"binary_mul_both_broadcast",
                 {in("a", {2, 1}), in("b", {1, 3})},
                 "    %y0 = dist.binary mul %a, %b : (tensor<2x1xf64>, "
                 "tensor<1x3xf64>) -> tensor<2x3xf64>\n",
                 {{2, 3}}});
  out.push_back({"binary_sub_rank0",
                 {in("a", {}), in("b", {2, 2})},
                 "    %y0 = dist.binary sub %a, %b : (tensor<f64>, "
                 "tensor<2x2xf64>) -> tensor<2x2xf64>\n",
                 {{2, 2}}});
  // One weight used twice gets the sum of both gradients.
  out.push_back({"binary_mul_self",
                 {in("a", {2, 3})},
                 "    %y0 = dist.binary mul %a, %a : (tensor<2x3xf64>, "
                 "tensor<2x3xf64>) -> tensor<2x3xf64>\n",
                 {{2, 3}}});
  return out;
}

std::vector<GradCase> elementwiseCases() {
  return {
      {"select",
       {in("a", {2, 3}), in("b", {3})},
       "    %c = dist.constant dense<[[true, false, true], [false, true, "
       "true]]> : tensor<2x3xi1>\n"
       "    %y0 = dist.select %c, %a, %b : (tensor<2x3xi1>, tensor<2x3xf64>, "
       "tensor<3xf64>) -> tensor<2x3xf64>\n",
       {{2, 3}}},
      // Through f32: the differences see f32 rounding, hence the tolerance.
      {"cast_f32",
       {in("x", {2, 3})},
       "    %h = dist.cast %x : tensor<2x3xf64> to tensor<2x3xf32>\n"
       "    %e = dist.unary exp %h : tensor<2x3xf32>\n"
       "    %y0 = dist.cast %e : tensor<2x3xf32> to tensor<2x3xf64>\n",
       {{2, 3}},
       1e-4,
       1e-2},
  };
}

std::vector<GradCase> reduceCases() {
  return {
      {"reduce_sum",
       {in("x", {2, 3, 4})},
       "    %y0 = dist.reduce sum %x {axes = array<i64: 1>} : "
       "(tensor<2x3x4xf64>) -> tensor<2x4xf64>\n",
       {{2, 4}}},
      {"reduce_mean_keep",
       {in("x", {2, 3, 4})},
       "    %y0 = dist.reduce mean %x {axes = array<i64: 0, 2>, keep_dims} : "
       "(tensor<2x3x4xf64>) -> tensor<1x3x1xf64>\n",
       {{1, 3, 1}}},
      {"reduce_max",
       {in("x", {3, 4})},
       "    %y0 = dist.reduce max %x {axes = array<i64: 1>} : "
       "(tensor<3x4xf64>) -> tensor<3xf64>\n",
       {{3}}},
      {"reduce_min_keep",
       {in("x", {3, 4})},
       "    %y0 = dist.reduce min %x {axes = array<i64: 0>, keep_dims} : "
       "(tensor<3x4xf64>) -> tensor<1x4xf64>\n",
       {{1, 4}}},
      {"reduce_prod",
       {away("x", {2, 3}, 0.5, 1.5)},
       "    %y0 = dist.reduce prod %x {axes = array<i64: 1>} : "
       "(tensor<2x3xf64>) -> tensor<2xf64>\n",
       {{2}}},
      {"softmax",
       {in("x", {2, 4})},
       "    %y0 = dist.softmax %x {axis = 1 : i64} : tensor<2x4xf64>\n",
       {{2, 4}}},
      {"log_softmax",
       {in("x", {3, 2})},
       "    %y0 = dist.softmax %x {axis = 0 : i64, log} : tensor<3x2xf64>\n",
       {{3, 2}}},
      {"layer_norm",
       {in("x", {3, 4}), in("g", {4}), in("b", {4})},
       "    %y0 = dist.layer_norm %x, %g, %b {axis = 1 : i64} : "
       "(tensor<3x4xf64>, tensor<4xf64>, tensor<4xf64>) -> tensor<3x4xf64>\n",
       {{3, 4}}},
      {"layer_norm_two_dims",
       {in("x", {2, 3, 4}), in("g", {3, 4})},
       "    %y0 = dist.layer_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-01 : "
       "f32} : (tensor<2x3x4xf64>, tensor<3x4xf64>) -> tensor<2x3x4xf64>\n",
       {{2, 3, 4}}},
  };
}

std::vector<GradCase> movementCases() {
  return {
      {"reshape",
       {in("x", {2, 6})},
       "    %y0 = dist.reshape %x : tensor<2x6xf64> to tensor<3x4xf64>\n",
       {{3, 4}}},
      {"broadcast",
       {in("x", {1, 3})},
       "    %y0 = dist.broadcast %x : tensor<1x3xf64> to tensor<2x2x3xf64>\n",
       {{2, 2, 3}}},
      {"transpose",
       {in("x", {2, 3, 4})},
       "    %y0 = dist.transpose %x {perm = array<i64: 2, 0, 1>} : "
       "(tensor<2x3x4xf64>) -> tensor<4x2x3xf64>\n",
       {{4, 2, 3}}},
      {"slice_strided",
       {in("x", {5, 7})},
       "    %y0 = dist.slice %x {offsets = array<i64: 1, 2>, strides = "
       "array<i64: 2, 2>} : tensor<5x7xf64> to tensor<2x3xf64>\n",
       {{2, 3}}},
      {"slice_offset",
       {in("x", {4, 6})},
       "    %y0 = dist.slice %x {offsets = array<i64: 0, 1>, strides = "
       "array<i64: 1, 1>} : tensor<4x6xf64> to tensor<4x3xf64>\n",
       {{4, 3}}},
      {"concat",
       {in("a", {2, 3}), in("b", {2, 2})},
       "    %y0 = dist.concat %a, %b, %a {axis = 1 : i64} : (tensor<2x3xf64>, "
       "tensor<2x2xf64>, tensor<2x3xf64>) -> tensor<2x8xf64>\n",
       {{2, 8}}},
      {"split",
       {in("x", {2, 7})},
       "    %y0, %y1 = dist.split %x {axis = 1 : i64} : (tensor<2x7xf64>) -> "
       "(tensor<2x3xf64>, tensor<2x4xf64>)\n",
       {{2, 3}, {2, 4}}},
      {"split_one_used",
       {in("x", {2, 7})},
       "    %y0, %q = dist.split %x {axis = 1 : i64} : (tensor<2x7xf64>) -> "
       "(tensor<2x3xf64>, tensor<2x4xf64>)\n",
       {{2, 3}}},
      {"gather",
       {in("t", {5, 3})},
       "    %i = dist.constant dense<[[0, 4], [2, 0]]> : tensor<2x2xi64>\n"
       "    %y0 = dist.gather %t, %i {axis = 0 : i64} : (tensor<5x3xf64>, "
       "tensor<2x2xi64>) -> tensor<2x2x3xf64>\n",
       {{2, 2, 3}}},
      {"gather_axis1_negative",
       {in("t", {3, 4})},
       "    %i = dist.constant dense<[3, -1, 1]> : tensor<3xi32>\n"
       "    %y0 = dist.gather %t, %i {axis = 1 : i64} : (tensor<3x4xf64>, "
       "tensor<3xi32>) -> tensor<3x3xf64>\n",
       {{3, 3}}},
      // An element read twice gets both gradients; -1 is the last.
      {"gather_elements",
       {in("x", {3, 4})},
       "    %i = dist.constant dense<[[1, 1], [-1, 0], [2, 3]]> : "
       "tensor<3x2xi64>\n"
       "    %y0 = dist.gather_elements %x, %i {axis = 1 : i64} : "
       "(tensor<3x4xf64>, tensor<3x2xi64>) -> tensor<3x2xf64>\n",
       {{3, 2}}},
      // Random values have no ties: the chosen positions stay chosen
      // within the finite-difference step.
      {"top_k",
       {in("x", {3, 5})},
       "    %y0, %i = dist.top_k %x {axis = 1 : i64, k = 2 : i64} : "
       "(tensor<3x5xf64>) -> (tensor<3x2xf64>, tensor<3x2xi64>)\n",
       {{3, 2}}},
      {"top_k_smallest_axis0",
       {in("x", {4, 3})},
       "    %y0, %i = dist.top_k %x {axis = 0 : i64, k = 3 : i64, smallest} : "
       "(tensor<4x3xf64>) -> (tensor<3x3xf64>, tensor<3x3xi64>)\n",
       {{3, 3}}},
      // Distinct positions (with none, a repeated one keeps the last).
      {"scatter_elements_none",
       {in("d", {3, 4}), in("u", {3, 2})},
       "    %i = dist.constant dense<[[1, 3], [-1, 0], [2, 0]]> : "
       "tensor<3x2xi64>\n"
       "    %y0 = dist.scatter_elements none %d, %i, %u {axis = 1 : i64} : "
       "(tensor<3x4xf64>, tensor<3x2xi64>, tensor<3x2xf64>) -> "
       "tensor<3x4xf64>\n",
       {{3, 4}}},
      {"scatter_elements_add",
       {in("d", {3, 4}), in("u", {3, 2})},
       "    %i = dist.constant dense<[[1, 1], [-1, 0], [2, 0]]> : "
       "tensor<3x2xi64>\n"
       "    %y0 = dist.scatter_elements add %d, %i, %u {axis = 1 : i64} : "
       "(tensor<3x4xf64>, tensor<3x2xi64>, tensor<3x2xf64>) -> "
       "tensor<3x4xf64>\n",
       {{3, 4}}},
  };
}

/// Further shapes and attributes of the rules above.
std::vector<GradCase> variantCases() {
  return {
      {"matmul_lhs_2d_rhs_batched",
       {in("a", {3, 4}), in("b", {2, 4, 5})},
       "    %y0 = dist.matmul %a, %b : (tensor<3x4xf64>, tensor<2x4x5xf64>) "
       "-> tensor<2x3x5xf64>\n",
       {{2, 3, 5}}},
      {"conv2d_asymmetric",
       {in("x", {1, 2, 6, 5}), in("w", {3, 2, 2, 3})},
       "    %y0 = dist.conv2d %x, %w {strides = array<i64: 2, 1>, pads = "
       "array<i64: 0, 1, 1, 0>} : (tensor<1x2x6x5xf64>, tensor<3x2x2x3xf64>) "
       "-> tensor<1x3x3x4xf64>\n",
       {{1, 3, 3, 4}}},
      {"pool2d_max_dilation_ceil",
       {in("x", {1, 2, 7, 7})},
       "    %y0 = dist.pool2d max %x {kernel = array<i64: 2, 2>, strides = "
       "array<i64: 2, 2>, dilations = array<i64: 2, 2>, ceil_mode} : "
       "(tensor<1x2x7x7xf64>) -> tensor<1x2x3x3xf64>\n",
       {{1, 2, 3, 3}}},
      {"softmax_middle_axis",
       {in("x", {2, 3, 2})},
       "    %y0 = dist.softmax %x {axis = 1 : i64} : tensor<2x3x2xf64>\n",
       {{2, 3, 2}}},
      {"gather_twice",
       {in("t", {4, 2})},
       "    %i = dist.constant dense<[1, 1, 3]> : tensor<3xi64>\n"
       "    %j = dist.constant dense<[3, 0, 1]> : tensor<3xi64>\n"
       "    %e = dist.gather %t, %i {axis = 0 : i64} : (tensor<4x2xf64>, "
       "tensor<3xi64>) -> tensor<3x2xf64>\n"
       "    %f = dist.gather %t, %j {axis = 0 : i64} : (tensor<4x2xf64>, "
       "tensor<3xi64>) -> tensor<3x2xf64>\n"
       "    %y0 = dist.binary mul %e, %f : (tensor<3x2xf64>, tensor<3x2xf64>) "
       "-> tensor<3x2xf64>\n",
       {{3, 2}}},
  };
}

/// A small MLP: every rule of a GPT-style block's pieces chained.
std::vector<GradCase> compositeCases() {
  return {
      {"mlp",
       {in("x", {4, 3}), in("w1", {3, 5}), in("b1", {5}), in("w2", {5, 2}),
        in("g", {2})},
       "    %h = dist.matmul %x, %w1, %b1 : (tensor<4x3xf64>, tensor<3x5xf64>, "
       "tensor<5xf64>) -> tensor<4x5xf64>\n"
       "    %a = dist.unary gelu_tanh %h : tensor<4x5xf64>\n"
       "    %o = dist.matmul %a, %w2 : (tensor<4x5xf64>, tensor<5x2xf64>) -> "
       "tensor<4x2xf64>\n"
       "    %n = dist.layer_norm %o, %g {axis = 1 : i64} : (tensor<4x2xf64>, "
       "tensor<2xf64>) -> tensor<4x2xf64>\n"
       "    %y0 = dist.softmax %n {axis = 1 : i64, log} : tensor<4x2xf64>\n",
       {{4, 2}}},
  };
}

std::vector<GradCase> allGradCases() {
  std::vector<GradCase> all;
  for (auto cases : {contractionCases(), poolCases(), unaryCases(),
                     binaryCases(), elementwiseCases(), reduceCases(),
                     movementCases(), variantCases(), compositeCases()})
    all.insert(all.end(), cases.begin(), cases.end());
  return all;
}

} // namespace

INSTANTIATE_TEST_SUITE_P(Rules, AutodiffGradCheck,
                         ::testing::ValuesIn(allGradCases()), caseName);
