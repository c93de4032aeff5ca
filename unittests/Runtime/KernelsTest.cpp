//===- KernelsTest.cpp - unit tests of the runtime's CPU kernels ----------===//
//
// Every kernel of runtime/cpu against expectations computed independently of
// it: numbers worked out by hand (the comment says how), or a naive scalar
// loop in this file that follows the op's definition directly (a triple loop
// for matmul, seven nested loops for convolution, ...), named `naive*`.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/Float16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

using namespace distopt::rt;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

template <typename T> constexpr DType dtypeOf();
template <> constexpr DType dtypeOf<float>() { return DType::F32; }
template <> constexpr DType dtypeOf<double>() { return DType::F64; }
template <> constexpr DType dtypeOf<uint8_t>() { return DType::I1; }
template <> constexpr DType dtypeOf<int8_t>() { return DType::I8; }
template <> constexpr DType dtypeOf<int16_t>() { return DType::I16; }
template <> constexpr DType dtypeOf<int32_t>() { return DType::I32; }
template <> constexpr DType dtypeOf<int64_t>() { return DType::I64; }

/// A tensor viewing `values` (which must outlive it), typed after `T`.
template <typename T>
Tensor view(std::vector<T> &values, std::vector<int64_t> shape) {
  return Tensor{values.data(), dtypeOf<T>(), std::move(shape)};
}
/// A tensor viewing 16-bit patterns as f16 or bf16.
Tensor view16(std::vector<uint16_t> &values, DType dtype,
              std::vector<int64_t> shape) {
  return Tensor{values.data(), dtype, std::move(shape)};
}

int64_t count(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Deterministic pseudo-random numbers (a 64-bit LCG).
class Numbers {
public:
  explicit Numbers(uint64_t seed) : state(seed * 6364136223846793005ull + 1) {}
  uint64_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 11;
  }
  /// Uniform in [-1, 1).
  double uniform() { return static_cast<double>(next()) / 0x1.0p52 * 2 - 1; }
  /// Integer in [lo, hi].
  int64_t integer(int64_t lo, int64_t hi) {
    return lo +
           static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  std::vector<float> floats(int64_t n) {
    std::vector<float> v(n);
    for (float &x : v)
      x = static_cast<float>(uniform());
    return v;
  }
  /// Small integers as floats: products and short sums are exact in f32.
  std::vector<float> smallInts(int64_t n, int64_t lo = -4, int64_t hi = 4) {
    std::vector<float> v(n);
    for (float &x : v)
      x = static_cast<float>(integer(lo, hi));
    return v;
  }

private:
  uint64_t state;
};

/// The multi-index of row-major position `flat` in `shape`.
std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

/// The row-major position in `shape` of the element that `index` (an index
/// into the broadcast result, of higher or equal rank) reads by NumPy rules.
int64_t broadcastRead(const std::vector<int64_t> &index,
                      const std::vector<int64_t> &shape) {
  size_t lead = index.size() - shape.size();
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[lead + d]);
  return flat;
}

/// `actual` within `tolerance` (relative above 1, absolute below) of
/// `expected`; infinities must match exactly.
template <typename T>
void expectNear(const std::vector<T> &actual,
                const std::vector<double> &expected, double tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isinf(expected[i]))
      EXPECT_EQ(actual[i], expected[i]) << "at element " << i;
    else
      EXPECT_NEAR(actual[i], expected[i],
                  tolerance * std::max(1.0, std::fabs(expected[i])))
          << "at element " << i;
  }
}

std::vector<double> toDoubles(const std::vector<float> &v) {
  return std::vector<double>(v.begin(), v.end());
}

std::vector<uint16_t> toHalfs(const std::vector<float> &v) {
  std::vector<uint16_t> r;
  for (float x : v)
    r.push_back(floatToHalf(x));
  return r;
}
std::vector<uint16_t> toBFloat16s(const std::vector<float> &v) {
  std::vector<uint16_t> r;
  for (float x : v)
    r.push_back(floatToBFloat16(x));
  return r;
}

//===----------------------------------------------------------------------===//
// f16 and bf16
//===----------------------------------------------------------------------===//

TEST(Float16Test, HalfRoundTripsEveryBitPattern) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    uint16_t h = static_cast<uint16_t>(bits);
    float f = halfToFloat(h);
    bool isNaN = (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0;
    if (isNaN) {
      EXPECT_TRUE(std::isnan(f)) << std::hex << bits;
      EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(f)))) << std::hex << bits;
    } else {
      EXPECT_EQ(floatToHalf(f), h) << std::hex << bits;
    }
  }
  // Values fixed by the format: 1.0, the largest finite, the smallest
  // subnormal (2^-24), negative zero.
  EXPECT_EQ(halfToFloat(0x3C00), 1.0f);
  EXPECT_EQ(halfToFloat(0x7BFF), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0001), 0x1.0p-24f);
  EXPECT_EQ(floatToBits(halfToFloat(0x8000)), 0x80000000u);
}

TEST(Float16Test, HalfRoundsToNearestEven) {
  // Between every two consecutive positive finite halves: the midpoint goes
  // to the one with an even mantissa, anything off the midpoint to the
  // nearer one. (Midpoints need 12 bits: exact in f32.)
  for (uint16_t h = 0; h < 0x7BFF; ++h) {
    float lo = halfToFloat(h), hi = halfToFloat(h + 1);
    float mid = lo + (hi - lo) / 2;
    uint16_t even = (h & 1) ? h + 1 : h;
    EXPECT_EQ(floatToHalf(mid), even) << h;
    EXPECT_EQ(floatToHalf(std::nextafter(mid, 0.0f)), h) << h;
    EXPECT_EQ(floatToHalf(std::nextafter(mid, INFINITY)), h + 1) << h;
    EXPECT_EQ(floatToHalf(-mid), even | 0x8000) << h;
  }
  // 65520 is the midpoint between 65504 and the next (missing) 65536: it
  // and everything above become infinity.
  EXPECT_EQ(floatToHalf(65519.99f), 0x7BFF);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7C00);
  EXPECT_EQ(floatToHalf(1e30f), 0x7C00);
  EXPECT_EQ(floatToHalf(-INFINITY), 0xFC00);
  // Half the smallest subnormal ties to zero; a bit more rounds up to it.
  EXPECT_EQ(floatToHalf(0x1.0p-25f), 0x0000);
  EXPECT_EQ(floatToHalf(0x1.01p-25f), 0x0001);
  EXPECT_EQ(floatToHalf(NAN) & 0x7E00, 0x7E00);
}

TEST(Float16Test, BFloat16RoundsToNearestEven) {
  for (uint32_t bits = 0; bits < 0x7F7F; ++bits) {
    uint16_t b = static_cast<uint16_t>(bits);
    float lo = bfloat16ToFloat(b), hi = bfloat16ToFloat(b + 1);
    EXPECT_EQ(floatToBFloat16(lo), b);
    float mid = lo + (hi - lo) / 2; // 9 bits: exact in f32.
    uint16_t even = (b & 1) ? b + 1 : b;
    EXPECT_EQ(floatToBFloat16(mid), even) << bits;
    EXPECT_EQ(floatToBFloat16(std::nextafter(mid, 0.0f)), b) << bits;
    EXPECT_EQ(floatToBFloat16(std::nextafter(mid, INFINITY)), b + 1) << bits;
  }
  // 1.0 is 0x3F80; the float max rounds up past the largest bf16 to inf.
  EXPECT_EQ(floatToBFloat16(1.0f), 0x3F80);
  EXPECT_EQ(floatToBFloat16(std::numeric_limits<float>::max()), 0x7F80);
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBFloat16(NAN))));
  // A NaN whose payload sits in the low bits must not round into infinity.
  EXPECT_TRUE(
      std::isnan(bfloat16ToFloat(floatToBFloat16(bitsToFloat(0x7F800001u)))));
}

TEST(Float16Test, DoubleRoundsOnceIntoHalfAndBFloat16) {
  // 1 + 2^-11 is the midpoint between the halves 1 and 1 + 2^-10; a double
  // a hair above it must round up. Through f32 first it would become the
  // midpoint exactly and then tie down to 1.
  double aboveMid = 1.0 + 0x1.0p-11 + 0x1.0p-40;
  EXPECT_EQ(doubleToHalf(aboveMid), 0x3C01);
  EXPECT_EQ(floatToHalf(static_cast<float>(aboveMid)), 0x3C00);
  EXPECT_EQ(doubleToHalf(1.0 + 0x1.0p-11), 0x3C00);
  // The same for bf16 around 1 + 2^-8.
  EXPECT_EQ(doubleToBFloat16(1.0 + 0x1.0p-8 + 0x1.0p-40), 0x3F81);
  EXPECT_EQ(doubleToBFloat16(1.0 + 0x1.0p-8), 0x3F80);
  EXPECT_EQ(doubleToHalf(1e300), 0x7C00);
  EXPECT_EQ(doubleToHalf(-0.0), 0x8000);
}

//===----------------------------------------------------------------------===//
// MatMul and Gemm
//===----------------------------------------------------------------------===//

/// Batched matmul by definition: the triple loop per batch element, batch
/// dimensions and bias broadcast by NumPy rules.
std::vector<double> naiveMatmul(const std::vector<float> &lhs,
                                const std::vector<int64_t> &lhsShape,
                                const std::vector<float> &rhs,
                                const std::vector<int64_t> &rhsShape,
                                const std::vector<float> *bias,
                                const std::vector<int64_t> &biasShape,
                                const std::vector<int64_t> &outShape) {
  size_t rank = outShape.size();
  int64_t m = outShape[rank - 2], n = outShape[rank - 1], k = lhsShape.back();
  std::vector<double> out(count(outShape));
  for (int64_t flat = 0; flat < count(outShape); ++flat) {
    std::vector<int64_t> index = unravel(flat, outShape);
    double sum = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      std::vector<int64_t> l = index, r = index;
      l[rank - 1] = kk;
      r[rank - 2] = kk;
      sum += static_cast<double>(lhs[broadcastRead(l, lhsShape)]) *
             rhs[broadcastRead(r, rhsShape)];
    }
    if (bias)
      sum += (*bias)[broadcastRead(index, biasShape)];
    out[flat] = sum;
  }
  (void)m;
  (void)n;
  return out;
}

TEST(MatMulTest, TwoByThreeTimesThreeByTwo) {
  // [[1 2 3] [4 5 6]] x [[7 8] [9 10] [11 12]], by hand:
  // 1*7+2*9+3*11 = 58, 1*8+2*10+3*12 = 64, 4*7+5*9+6*11 = 139, 154.
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {7, 8, 9, 10, 11, 12};
  std::vector<float> c(4);
  Tensor out = view(c, {2, 2});
  matmul(view(a, {2, 3}), view(b, {3, 2}), nullptr, out);
  EXPECT_EQ(c, (std::vector<float>{58, 64, 139, 154}));
  // With a bias row [100, 200].
  std::vector<float> bias = {100, 200};
  Tensor biasView = view(bias, {2});
  matmul(view(a, {2, 3}), view(b, {3, 2}), &biasView, out);
  EXPECT_EQ(c, (std::vector<float>{158, 264, 239, 354}));
}

TEST(MatMulTest, BroadcastBatchDimsAndBiasMatchNaiveLoop) {
  Numbers numbers(1);
  std::vector<int64_t> lhsShape = {2, 1, 3, 4}, rhsShape = {3, 4, 5},
                       biasShape = {3, 1, 5}, outShape = {2, 3, 3, 5};
  std::vector<float> lhs = numbers.smallInts(count(lhsShape));
  std::vector<float> rhs = numbers.smallInts(count(rhsShape));
  std::vector<float> bias = numbers.smallInts(count(biasShape));
  std::vector<float> result(count(outShape));
  Tensor out = view(result, outShape);
  Tensor biasView = view(bias, biasShape);
  for (int threads : {1, 2}) {
    std::fill(result.begin(), result.end(), -1.0f);
    matmul(view(lhs, lhsShape), view(rhs, rhsShape), &biasView, out, threads);
    EXPECT_EQ(toDoubles(result), naiveMatmul(lhs, lhsShape, rhs, rhsShape,
                                             &bias, biasShape, outShape));
  }
}

TEST(MatMulTest, SharedRightOperandAndBatchedRightOperand) {
  Numbers numbers(2);
  // A linear layer on a rank-3 activation (batch folds into M) ...
  std::vector<float> x = numbers.smallInts(4 * 3 * 8),
                     w = numbers.smallInts(8 * 6);
  std::vector<float> y(4 * 3 * 6);
  Tensor out = view(y, {4, 3, 6});
  matmul(view(x, {4, 3, 8}), view(w, {8, 6}), nullptr, out);
  EXPECT_EQ(toDoubles(y),
            naiveMatmul(x, {4, 3, 8}, w, {8, 6}, nullptr, {}, {4, 3, 6}));
  // ... and a shared left operand with a batched right one.
  std::vector<float> l = numbers.smallInts(3 * 8),
                     r = numbers.smallInts(4 * 8 * 6);
  Tensor out2 = view(y, {4, 3, 6});
  matmul(view(l, {3, 8}), view(r, {4, 8, 6}), nullptr, out2);
  EXPECT_EQ(toDoubles(y),
            naiveMatmul(l, {3, 8}, r, {4, 8, 6}, nullptr, {}, {4, 3, 6}));
}

TEST(MatMulTest, ManySmallBatchesInParallel) {
  // Attention-sized batches take the parallel-over-batch path with
  // single-threaded BLAS; threads must not change the result.
  Numbers numbers(3);
  std::vector<int64_t> lhsShape = {2, 8, 16, 8}, rhsShape = {2, 8, 8, 16},
                       outShape = {2, 8, 16, 16};
  std::vector<float> lhs = numbers.smallInts(count(lhsShape));
  std::vector<float> rhs = numbers.smallInts(count(rhsShape));
  std::vector<double> expected =
      naiveMatmul(lhs, lhsShape, rhs, rhsShape, nullptr, {}, outShape);
  std::vector<float> result(count(outShape));
  Tensor out = view(result, outShape);
  for (int threads : {1, 2, 4}) {
    for (int repeat = 0; repeat < 20; ++repeat) {
      std::fill(result.begin(), result.end(), 0.0f);
      matmul(view(lhs, lhsShape), view(rhs, rhsShape), nullptr, out, threads);
      ASSERT_EQ(toDoubles(result), expected) << threads << " threads";
    }
  }
}

TEST(MatMulTest, F64) {
  std::vector<double> a = {1, 2, 3, 4, 5, 6}, b = {7, 8, 9, 10, 11, 12};
  std::vector<double> c(4);
  Tensor out = view(c, {2, 2});
  matmul(view(a, {2, 3}), view(b, {3, 2}), nullptr, out);
  EXPECT_EQ(c, (std::vector<double>{58, 64, 139, 154}));
}

TEST(MatMulTest, F16AndBF16RoundOnceIntoTheResult) {
  // [1024 1] . [2 1]^T = 2049, the midpoint between the halves 2048 and
  // 2050: ties to even, 2048. [1024 3] . [2 1]^T = 2051, between 2050 and
  // 2052: 2052. Products are exact in f32, so these are the only roundings.
  for (DType dtype : {DType::F16, DType::BF16}) {
    auto encode = dtype == DType::F16 ? toHalfs : toBFloat16s;
    auto decode = dtype == DType::F16 ? halfToFloat : bfloat16ToFloat;
    // bf16 has 8 bits of precision: the same ties sit at 257 and 259.
    float big = dtype == DType::F16 ? 1024 : 128;
    std::vector<uint16_t> lhs = encode({big, 1, big, 3});
    std::vector<uint16_t> rhs = encode({2, 1});
    std::vector<uint16_t> result(2);
    Tensor out = view16(result, dtype, {2, 1});
    matmul(view16(lhs, dtype, {2, 2}), view16(rhs, dtype, {2, 1}), nullptr,
           out);
    float tieDown = dtype == DType::F16 ? 2048 : 256;
    float tieUp = dtype == DType::F16 ? 2052 : 260;
    EXPECT_EQ(decode(result[0]), tieDown);
    EXPECT_EQ(decode(result[1]), tieUp);
  }
}

TEST(MatMulTest, EmptyContractionGivesBiasOrZeros) {
  std::vector<float> a, b, bias = {5, 6};
  std::vector<float> c = {-1, -1, -1, -1};
  Tensor out = view(c, {2, 2});
  matmul(view(a, {2, 0}), view(b, {0, 2}), nullptr, out);
  EXPECT_EQ(c, (std::vector<float>{0, 0, 0, 0}));
  Tensor biasView = view(bias, {2});
  matmul(view(a, {2, 0}), view(b, {0, 2}), &biasView, out);
  EXPECT_EQ(c, (std::vector<float>{5, 6, 5, 6}));
}

/// ONNX Gemm by definition.
std::vector<double>
naiveGemm(const std::vector<float> &a, const std::vector<int64_t> &aShape,
          const std::vector<float> &b, const std::vector<int64_t> &bShape,
          const std::vector<float> *c, const std::vector<int64_t> &cShape,
          bool transA, bool transB, double alpha, double beta) {
  int64_t m = transA ? aShape[1] : aShape[0];
  int64_t k = transA ? aShape[0] : aShape[1];
  int64_t n = transB ? bShape[0] : bShape[1];
  std::vector<double> out(m * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        double x = transA ? a[kk * aShape[1] + i] : a[i * aShape[1] + kk];
        double y = transB ? b[j * bShape[1] + kk] : b[kk * bShape[1] + j];
        sum += x * y;
      }
      out[i * n + j] = alpha * sum;
      if (c)
        out[i * n + j] += beta * (*c)[broadcastRead({i, j}, cShape)];
    }
  }
  return out;
}

TEST(GemmTest, TransposesAlphaBetaAndEveryBiasShape) {
  Numbers numbers(4);
  const int64_t m = 3, n = 4, k = 5;
  std::vector<float> a = numbers.smallInts(m * k), b = numbers.smallInts(k * n);
  std::vector<std::vector<int64_t>> cShapes = {{}, {n}, {1, n}, {m, 1}, {m, n}};
  for (bool transA : {false, true}) {
    for (bool transB : {false, true}) {
      std::vector<int64_t> aShape =
          transA ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k};
      std::vector<int64_t> bShape =
          transB ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
      for (const auto &cShape : cShapes) {
        std::vector<float> c = numbers.smallInts(count(cShape));
        Tensor cView = view(c, cShape);
        std::vector<float> result(m * n);
        Tensor out = view(result, {m, n});
        gemm(view(a, aShape), view(b, bShape), &cView, out, transA, transB,
             2.0f, 0.5f);
        EXPECT_EQ(toDoubles(result), naiveGemm(a, aShape, b, bShape, &c, cShape,
                                               transA, transB, 2.0, 0.5));
      }
      std::vector<float> result(m * n);
      Tensor out = view(result, {m, n});
      gemm(view(a, aShape), view(b, bShape), nullptr, out, transA, transB);
      EXPECT_EQ(toDoubles(result), naiveGemm(a, aShape, b, bShape, nullptr, {},
                                             transA, transB, 1.0, 0.0));
    }
  }
}

TEST(GemmTest, BetaZeroIgnoresC) {
  // [1 2] [3 4]^T = 11; c is infinite but beta is 0.
  std::vector<float> a = {1, 2}, b = {3, 4}, c = {INFINITY}, result(1);
  Tensor cView = view(c, {});
  Tensor out = view(result, {1, 1});
  gemm(view(a, {1, 2}), view(b, {2, 1}), &cView, out, false, false, 1.0f, 0.0f);
  EXPECT_EQ(result[0], 11.0f);
}

TEST(GemmTest, BFloat16) {
  // [[1 2] [3 4]] x [[5 6] [7 8]] = [[19 22] [43 50]], + bias [1 1]: exact.
  std::vector<uint16_t> a = toBFloat16s({1, 2, 3, 4}),
                        b = toBFloat16s({5, 6, 7, 8});
  std::vector<uint16_t> c = toBFloat16s({1, 1}), result(4);
  Tensor cView = view16(c, DType::BF16, {2});
  Tensor out = view16(result, DType::BF16, {2, 2});
  gemm(view16(a, DType::BF16, {2, 2}), view16(b, DType::BF16, {2, 2}), &cView,
       out, false, false);
  EXPECT_EQ(result, toBFloat16s({20, 23, 44, 51}));
}

//===----------------------------------------------------------------------===//
// Conv2D
//===----------------------------------------------------------------------===//

/// Convolution by definition: for every output element, the sum over the
/// input channels of its group and the filter taps, zero outside the input.
std::vector<double>
naiveConv(const std::vector<float> &x, const std::vector<int64_t> &xs,
          const std::vector<float> &w, const std::vector<int64_t> &ws,
          const std::vector<float> *bias, std::array<int64_t, 2> strides,
          std::array<int64_t, 4> pads, std::array<int64_t, 2> dilations,
          int64_t group, std::vector<int64_t> &outShape) {
  int64_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3];
  int64_t o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
  int64_t oh =
      (h + pads[0] + pads[2] - ((kh - 1) * dilations[0] + 1)) / strides[0] + 1;
  int64_t ow =
      (wd + pads[1] + pads[3] - ((kw - 1) * dilations[1] + 1)) / strides[1] + 1;
  outShape = {n, o, oh, ow};
  std::vector<double> out(n * o * oh * ow);
  int64_t og = o / group;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t z = 0; z < ow; ++z) {
          double sum = bias ? (*bias)[oc] : 0.0;
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t ih = y * strides[0] - pads[0] + i * dilations[0];
                int64_t iw = z * strides[1] - pads[1] + j * dilations[1];
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd)
                  continue;
                int64_t channel = oc / og * cg + ic;
                sum += static_cast<double>(
                           x[((b * c + channel) * h + ih) * wd + iw]) *
                       w[((oc * cg + ic) * kh + i) * kw + j];
              }
          out[((b * o + oc) * oh + y) * ow + z] = sum;
        }
  (void)c;
  return out;
}

/// Runs conv2d on random small integers and compares with naiveConv.
void checkConv(std::vector<int64_t> xs, std::vector<int64_t> ws, bool withBias,
               std::array<int64_t, 2> strides, std::array<int64_t, 4> pads,
               std::array<int64_t, 2> dilations, int64_t group, int threads) {
  Numbers numbers(xs[1] * 100 + ws[0]);
  std::vector<float> x = numbers.smallInts(count(xs));
  std::vector<float> w = numbers.smallInts(count(ws));
  std::vector<float> bias = numbers.smallInts(ws[0]);
  std::vector<int64_t> outShape;
  std::vector<double> expected =
      naiveConv(x, xs, w, ws, withBias ? &bias : nullptr, strides, pads,
                dilations, group, outShape);
  std::vector<float> result(count(outShape), -7.0f);
  Tensor out = view(result, outShape);
  Tensor biasView = view(bias, {ws[0]});
  conv2d(view(x, xs), view(w, ws), withBias ? &biasView : nullptr, out, strides,
         pads, dilations, group, threads);
  EXPECT_EQ(toDoubles(result), expected);
}

TEST(Conv2DTest, HandComputed) {
  // Input 3x3 [[1 2 3] [4 5 6] [7 8 9]], filter 2x2 [[1 0] [0 -1]], bias 10:
  // each output is top-left minus bottom-right of its window, plus 10:
  // 1-5, 2-6, 4-8, 5-9 = -4 each, so 6 everywhere.
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w = {1, 0, 0, -1};
  std::vector<float> b = {10}, y(4);
  Tensor bias = view(b, {1});
  Tensor out = view(y, {1, 1, 2, 2});
  conv2d(view(x, {1, 1, 3, 3}), view(w, {1, 1, 2, 2}), &bias, out, {1, 1},
         {0, 0, 0, 0}, {1, 1}, 1);
  EXPECT_EQ(y, (std::vector<float>{6, 6, 6, 6}));
  // Padding 1 on every side with stride 2: windows at rows/cols -1 and 1.
  // (-1,-1): only bottom-right tap x[0][0] = 1 -> -1 + 10 = 9;
  // (-1, 1): bottom-right x[0][2] = 3 -> 7; (1, -1): x[2][0] = 7 -> 3;
  // (1, 1): 5 - 9 -> 6.
  conv2d(view(x, {1, 1, 3, 3}), view(w, {1, 1, 2, 2}), &bias, out, {2, 2},
         {1, 1, 1, 1}, {1, 1}, 1);
  EXPECT_EQ(y, (std::vector<float>{9, 7, 3, 6}));
}

TEST(Conv2DTest, StridesPadsDilationsMatchNaiveLoop) {
  checkConv({2, 3, 7, 8}, {4, 3, 3, 2}, true, {2, 1}, {1, 0, 2, 1}, {1, 2}, 1,
            1);
  checkConv({1, 2, 9, 9}, {3, 2, 3, 3}, false, {3, 2}, {2, 2, 2, 2}, {2, 1}, 1,
            2);
}

TEST(Conv2DTest, GroupedAndDepthwiseMatchNaiveLoop) {
  checkConv({2, 4, 6, 6}, {6, 2, 3, 3}, true, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2,
            1);
  checkConv({1, 5, 6, 7}, {5, 1, 3, 3}, true, {2, 2}, {1, 1, 0, 0}, {1, 1}, 5,
            2);
}

TEST(Conv2DTest, PointwiseMatchesNaiveLoop) {
  checkConv({3, 8, 5, 4}, {6, 8, 1, 1}, true, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1,
            2);
}

TEST(Conv2DTest, LargeImageMatchesNaiveLoopWithThreads) {
  checkConv({1, 3, 64, 64}, {8, 3, 3, 3}, true, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1,
            4);
}

TEST(Conv2DTest, Half) {
  // The hand-computed case above, in f16.
  std::vector<uint16_t> x = toHalfs({1, 2, 3, 4, 5, 6, 7, 8, 9});
  std::vector<uint16_t> w = toHalfs({1, 0, 0, -1}), b = toHalfs({10}), y(4);
  Tensor bias = view16(b, DType::F16, {1});
  Tensor out = view16(y, DType::F16, {1, 1, 2, 2});
  conv2d(view16(x, DType::F16, {1, 1, 3, 3}),
         view16(w, DType::F16, {1, 1, 2, 2}), &bias, out, {2, 2}, {1, 1, 1, 1},
         {1, 1}, 1);
  EXPECT_EQ(y, toHalfs({9, 7, 3, 6}));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(PoolTest, MaxIgnoresPadding) {
  // All-negative 3x3 input, kernel 2x2, stride 2, pads 1: windows at
  // (-1,-1) {x00}, (-1,1) {x01 x02}, (1,-1) {x10 x20}, (1,1) {x11 x12 x21
  // x22}. Zeros of the padding must not win.
  std::vector<float> x = {-1, -2, -3, -4, -5, -6, -7, -8, -9}, y(4);
  Tensor out = view(y, {1, 1, 2, 2});
  pool2d(PoolKind::Max, view(x, {1, 1, 3, 3}), out, {2, 2}, {2, 2},
         {1, 1, 1, 1}, {1, 1}, false, false);
  EXPECT_EQ(y, (std::vector<float>{-1, -2, -4, -5}));
}

TEST(PoolTest, AverageExcludesOrIncludesPadding) {
  // 3x3 [[1 2 3] [4 5 6] [7 8 9]], kernel 2x2, stride 2, pads 1, windows as
  // above: sums 1, 2+3=5, 4+7=11, 5+6+8+9=28 over 1, 2, 2, 4 valid
  // elements; with count_include_pad every window has 4 positions.
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y(4);
  Tensor out = view(y, {1, 1, 2, 2});
  pool2d(PoolKind::Avg, view(x, {1, 1, 3, 3}), out, {2, 2}, {2, 2},
         {1, 1, 1, 1}, {1, 1}, false, false);
  EXPECT_EQ(y, (std::vector<float>{1, 2.5, 5.5, 7}));
  pool2d(PoolKind::Avg, view(x, {1, 1, 3, 3}), out, {2, 2}, {2, 2},
         {1, 1, 1, 1}, {1, 1}, false, true);
  EXPECT_EQ(y, (std::vector<float>{0.25, 1.25, 2.75, 7}));
}

TEST(PoolTest, CeilModeClipsTheLastWindow) {
  // 1x5 rows of [1 2 3 4 5] (H = 1), kernel 1x2, stride 2, no padding:
  // floor mode gives 2 outputs, ceil mode 3; the last window starts at
  // column 4 and holds only x = 5.
  std::vector<float> x = {1, 2, 3, 4, 5}, y(3);
  Tensor out = view(y, {1, 1, 1, 3});
  pool2d(PoolKind::Avg, view(x, {1, 1, 1, 5}), out, {1, 2}, {1, 2},
         {0, 0, 0, 0}, {1, 1}, true, false);
  EXPECT_EQ(y, (std::vector<float>{1.5, 3.5, 5}));
  // Past the (zero) padding nothing counts, even with count_include_pad.
  pool2d(PoolKind::Avg, view(x, {1, 1, 1, 5}), out, {1, 2}, {1, 2},
         {0, 0, 0, 0}, {1, 1}, true, true);
  EXPECT_EQ(y, (std::vector<float>{1.5, 3.5, 5}));
  pool2d(PoolKind::Max, view(x, {1, 1, 1, 5}), out, {1, 2}, {1, 2},
         {0, 0, 0, 0}, {1, 1}, true, false);
  EXPECT_EQ(y, (std::vector<float>{2, 4, 5}));
  // Ceil mode with padding: W = 4, kernel 3, stride 2, pads 1 left 1 right:
  // windows start at -1, 1, (3 is inside the input: kept) -> columns
  // {-1,0,1}, {1,2,3}, {3,4,5}; the padded input spans [-1, 5).
  // Averages: (1+2)/2, (2+3+4)/3, 4/1; including padding: 3/3, 9/3, 4/2.
  std::vector<float> x4 = {1, 2, 3, 4};
  pool2d(PoolKind::Avg, view(x4, {1, 1, 1, 4}), out, {1, 3}, {1, 2},
         {0, 1, 0, 1}, {1, 1}, true, false);
  EXPECT_EQ(y, (std::vector<float>{1.5, 3, 4}));
  pool2d(PoolKind::Avg, view(x4, {1, 1, 1, 4}), out, {1, 3}, {1, 2},
         {0, 1, 0, 1}, {1, 1}, true, true);
  EXPECT_EQ(y, (std::vector<float>{1, 3, 2}));
}

TEST(PoolTest, DilationAndChannels) {
  // 2 channels of 1x5 rows; kernel 1x2 with dilation 2 takes columns
  // (c, c + 2): outputs for c = 0, 1, 2.
  std::vector<float> x = {1, 5, 2, 4, 3, -1, -5, -2, -4, -3}, y(6);
  Tensor out = view(y, {1, 2, 1, 3});
  pool2d(PoolKind::Max, view(x, {1, 2, 1, 5}), out, {1, 2}, {1, 1},
         {0, 0, 0, 0}, {1, 2}, false, false);
  EXPECT_EQ(y, (std::vector<float>{2, 5, 3, -1, -4, -2}));
}

TEST(PoolTest, GlobalMaxAndAverage) {
  std::vector<float> x = {1, 2, 3, 4, -1, -2, -3, -6}, y(2);
  Tensor out = view(y, {1, 2, 1, 1});
  globalPool(PoolKind::Max, view(x, {1, 2, 2, 2}), out);
  EXPECT_EQ(y, (std::vector<float>{4, -1}));
  globalPool(PoolKind::Avg, view(x, {1, 2, 2, 2}), out);
  EXPECT_EQ(y, (std::vector<float>{2.5, -3}));
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

/// The definition of each float unary kind, in double.
double unaryFormula(UnaryKind kind, double x) {
  double sigmoid = 1.0 / (1.0 + std::exp(-x));
  switch (kind) {
  case UnaryKind::Relu:
    return x < 0 ? 0 : x;
  case UnaryKind::GeluErf:
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  case UnaryKind::GeluTanh:
    return 0.5 * x *
           (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case UnaryKind::Tanh:
    return std::tanh(x);
  case UnaryKind::Exp:
    return std::exp(x);
  case UnaryKind::Log:
    return std::log(x);
  case UnaryKind::Sqrt:
    return std::sqrt(x);
  case UnaryKind::Rsqrt:
    return 1 / std::sqrt(x);
  case UnaryKind::Erf:
    return std::erf(x);
  case UnaryKind::Neg:
    return -x;
  case UnaryKind::Reciprocal:
    return 1 / x;
  case UnaryKind::Sigmoid:
    return sigmoid;
  case UnaryKind::Abs:
    return std::fabs(x);
  case UnaryKind::Floor:
    return std::floor(x);
  case UnaryKind::Ceil:
    return std::ceil(x);
  case UnaryKind::Sin:
    return std::sin(x);
  case UnaryKind::Cos:
    return std::cos(x);
  case UnaryKind::Silu:
    return x * sigmoid;
  case UnaryKind::Tan:
    return std::tan(x);
  case UnaryKind::Asin:
    return std::asin(x);
  case UnaryKind::Acos:
    return std::acos(x);
  case UnaryKind::Atan:
    return std::atan(x);
  case UnaryKind::Sinh:
    return std::sinh(x);
  case UnaryKind::Cosh:
    return std::cosh(x);
  case UnaryKind::Asinh:
    return std::asinh(x);
  case UnaryKind::Acosh:
    return std::acosh(x);
  case UnaryKind::Atanh:
    return std::atanh(x);
  case UnaryKind::Round:
    return std::nearbyint(x);
  // The activations: ActivationsMatchTheirFormulas.
  case UnaryKind::LeakyRelu:
  case UnaryKind::Elu:
  case UnaryKind::Selu:
  case UnaryKind::Celu:
  case UnaryKind::Softplus:
  case UnaryKind::Softsign:
  case UnaryKind::HardSigmoid:
  case UnaryKind::HardSwish:
  case UnaryKind::Mish:
  case UnaryKind::ThresholdedRelu:
  case UnaryKind::Not:
    break;
  }
  return NAN;
}

const UnaryKind kFloatUnaryKinds[] = {
    UnaryKind::Relu, UnaryKind::GeluErf,    UnaryKind::GeluTanh,
    UnaryKind::Tanh, UnaryKind::Exp,        UnaryKind::Log,
    UnaryKind::Sqrt, UnaryKind::Rsqrt,      UnaryKind::Erf,
    UnaryKind::Neg,  UnaryKind::Reciprocal, UnaryKind::Sigmoid,
    UnaryKind::Abs,  UnaryKind::Floor,      UnaryKind::Ceil,
    UnaryKind::Sin,  UnaryKind::Cos,        UnaryKind::Silu,
    UnaryKind::Tan,  UnaryKind::Atan,       UnaryKind::Sinh,
    UnaryKind::Cosh, UnaryKind::Asinh,      UnaryKind::Round};

bool positiveOnly(UnaryKind kind) {
  return kind == UnaryKind::Log || kind == UnaryKind::Sqrt ||
         kind == UnaryKind::Rsqrt;
}

TEST(UnaryTest, FloatKindsMatchTheirFormulas) {
  std::vector<float> values = {-3.5f, -1.25f, -0.5f, -0.0f, 0.0f,
                               0.3f,  1.0f,   2.5f,  7.0f};
  for (UnaryKind kind : kFloatUnaryKinds) {
    std::vector<float> in = values;
    if (positiveOnly(kind))
      for (float &x : in)
        x = std::fabs(x) + 0.25f;
    std::vector<double> expected;
    for (float x : in)
      expected.push_back(unaryFormula(kind, x));
    std::vector<float> result(in.size());
    Tensor out = view(result, {3, 3});
    unary(kind, view(in, {3, 3}), out);
    SCOPED_TRACE(static_cast<int>(kind));
    expectNear(result, expected, 2e-6);
    // f64 computes in f64.
    std::vector<double> in64(in.begin(), in.end()), result64(in.size());
    Tensor out64 = view(result64, {9});
    unary(kind, view(in64, {9}), out64);
    expectNear(result64, expected, 1e-14);
  }
}

TEST(UnaryTest, GeluValuesByHand) {
  // gelu_erf(1) = 0.5 (1 + erf(1/sqrt 2)) = 0.5 * 1.6826894921 = 0.8413447461;
  // gelu_tanh(1) = 0.5 (1 + tanh(0.7978845608 * 1.044715)) = 0.8411919906.
  std::vector<float> x = {1.0f}, y(1);
  Tensor out = view(y, {1});
  unary(UnaryKind::GeluErf, view(x, {1}), out);
  EXPECT_NEAR(y[0], 0.8413447461, 1e-7);
  unary(UnaryKind::GeluTanh, view(x, {1}), out);
  EXPECT_NEAR(y[0], 0.8411919906, 1e-7);
}

TEST(UnaryTest, SigmoidAndSiluStableForLargeMagnitudes) {
  std::vector<float> x = {-1000.0f, -100.0f, 100.0f, 1000.0f}, y(4);
  Tensor out = view(y, {4});
  unary(UnaryKind::Sigmoid, view(x, {4}), out);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_NEAR(y[1], 3.720076e-44, 1e-45); // e^-100, an f32 subnormal.
  EXPECT_EQ(y[2], 1.0f);
  EXPECT_EQ(y[3], 1.0f);
  unary(UnaryKind::Silu, view(x, {4}), out);
  for (float v : y)
    EXPECT_FALSE(std::isnan(v));
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[3], 1000.0f);
}

TEST(UnaryTest, ActivationsMatchTheirFormulas) {
  // Values by hand (f64 formulas of the ONNX operator documentation), at
  // the kinks too: 0 for the ELU family, 0.5 (= alpha) for
  // thresholded_relu, -3 and 3 for hard_swish.
  std::vector<double> x = {-3.0, -1.0, 0.0, 0.5, 2.0, 3.0};
  struct Case {
    UnaryKind kind;
    UnaryParams params;
    double (*formula)(double x, double alpha, double beta);
  };
  const Case cases[] = {
      {UnaryKind::LeakyRelu,
       {0.1f, 0.0f},
       [](double v, double a, double) { return v < 0 ? a * v : v; }},
      {UnaryKind::Elu,
       {2.0f, 0.0f},
       [](double v, double a, double) {
         return v < 0 ? a * std::expm1(v) : v;
       }},
      {UnaryKind::Selu,
       {1.5f, 1.25f},
       [](double v, double a, double b) {
         return b * (v <= 0 ? a * std::expm1(v) : v);
       }},
      {UnaryKind::Celu,
       {2.0f, 0.0f},
       [](double v, double a, double) {
         return std::max(0.0, v) + std::min(0.0, a * std::expm1(v / a));
       }},
      {UnaryKind::HardSigmoid,
       {0.25f, 0.5f},
       [](double v, double a, double b) {
         return std::max(0.0, std::min(1.0, a * v + b));
       }},
      {UnaryKind::ThresholdedRelu,
       {0.5f, 0.0f},
       [](double v, double a, double) { return v > a ? v : 0.0; }},
      {UnaryKind::Softplus,
       {},
       [](double v, double, double) { return std::log1p(std::exp(v)); }},
      {UnaryKind::Softsign,
       {},
       [](double v, double, double) { return v / (1 + std::fabs(v)); }},
      {UnaryKind::HardSwish,
       {},
       [](double v, double, double) {
         return v * std::max(0.0, std::min(1.0, v / 6 + 0.5));
       }},
      {UnaryKind::Mish,
       {},
       [](double v, double, double) {
         return v * std::tanh(std::log1p(std::exp(v)));
       }},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(static_cast<int>(c.kind));
    std::vector<double> expected;
    for (double v : x)
      expected.push_back(c.formula(v, c.params.alpha, c.params.beta));
    std::vector<double> result(x.size());
    Tensor out = view(result, {6});
    unary(c.kind, view(x, {6}), out, c.params);
    expectNear(result, expected, 1e-14);
    std::vector<float> x32(x.begin(), x.end()), result32(x.size());
    Tensor out32 = view(result32, {6});
    unary(c.kind, view(x32, {6}), out32, c.params);
    expectNear(result32, expected, 2e-6);
  }
}

TEST(UnaryTest, SoftplusAndMishStableForLargeMagnitudes) {
  std::vector<float> x = {-1000.0f, -100.0f, 100.0f, 1000.0f}, y(4);
  Tensor out = view(y, {4});
  unary(UnaryKind::Softplus, view(x, {4}), out);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[3], 1000.0f);
  unary(UnaryKind::Mish, view(x, {4}), out);
  for (float v : y)
    EXPECT_FALSE(std::isnan(v));
  EXPECT_EQ(y[0], -0.0f);
  EXPECT_EQ(y[2], 100.0f);
  EXPECT_EQ(y[3], 1000.0f);
}

TEST(UnaryTest, IntegerKindsWrap) {
  std::vector<int8_t> x = {-128, -5, 0, 7, 127}, y(5);
  Tensor out = view(y, {5});
  unary(UnaryKind::Neg, view(x, {5}), out);
  EXPECT_EQ(y, (std::vector<int8_t>{-128, 5, 0, -7, -127}));
  unary(UnaryKind::Abs, view(x, {5}), out);
  EXPECT_EQ(y, (std::vector<int8_t>{-128, 5, 0, 7, 127}));
  unary(UnaryKind::Relu, view(x, {5}), out);
  EXPECT_EQ(y, (std::vector<int8_t>{0, 0, 0, 7, 127}));
  std::vector<int64_t> big = {std::numeric_limits<int64_t>::min(), -3}, r(2);
  Tensor out64 = view(r, {2});
  unary(UnaryKind::Neg, view(big, {2}), out64);
  EXPECT_EQ(r, (std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 3}));
}

TEST(UnaryTest, NotOnI1) {
  std::vector<uint8_t> x = {0, 1, 1, 0}, y(4);
  Tensor out = view(y, {2, 2});
  unary(UnaryKind::Not, view(x, {2, 2}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{1, 0, 0, 1}));
}

TEST(UnaryTest, HalfAndBFloat16ComputeInF32AndRoundOnce) {
  // Exact kinds are exact; exp is within half an f16 ulp of the exact value
  // plus the f32 error (so at most one f16 ulp away).
  std::vector<float> values = {-2.5f, -1.0f, -0.125f, 0.0f, 0.5f, 1.5f, 3.0f};
  for (DType dtype : {DType::F16, DType::BF16}) {
    auto encode = dtype == DType::F16 ? toHalfs : toBFloat16s;
    auto decode = dtype == DType::F16 ? halfToFloat : bfloat16ToFloat;
    std::vector<uint16_t> x = encode(values), y(values.size());
    Tensor out = view16(y, dtype, {7});
    unary(UnaryKind::Relu, view16(x, dtype, {7}), out);
    EXPECT_EQ(y, encode({0, 0, 0, 0, 0.5f, 1.5f, 3.0f}));
    unary(UnaryKind::Neg, view16(x, dtype, {7}), out);
    EXPECT_EQ(y, encode({2.5f, 1.0f, 0.125f, -0.0f, -0.5f, -1.5f, -3.0f}));
    unary(UnaryKind::Exp, view16(x, dtype, {7}), out);
    for (size_t i = 0; i < values.size(); ++i) {
      double exact = std::exp(static_cast<double>(values[i]));
      uint16_t nearest =
          dtype == DType::F16 ? doubleToHalf(exact) : doubleToBFloat16(exact);
      EXPECT_LE(std::abs(int(y[i]) - int(nearest)), 1) << i;
      EXPECT_NEAR(decode(y[i]), exact, exact * 0.01);
    }
  }
}

TEST(UnaryTest, LargeTensorsMatchScalarLoop) {
  // More elements than one parallel block and not a multiple of the
  // conversion chunk.
  Numbers numbers(5);
  std::vector<float> x = numbers.floats(100003);
  std::vector<uint16_t> h = toHalfs(x), hy(x.size());
  std::vector<float> y(x.size());
  Tensor out = view(y, {100003});
  Tensor hout = view16(hy, DType::F16, {100003});
  for (int threads : {1, 3}) {
    unary(UnaryKind::Sigmoid, view(x, {100003}), out, {}, threads);
    unary(UnaryKind::Abs, view16(h, DType::F16, {100003}), hout, {}, threads);
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_NEAR(y[i], unaryFormula(UnaryKind::Sigmoid, x[i]), 1e-6) << i;
      ASSERT_EQ(hy[i], h[i] & 0x7FFF) << i;
    }
  }
}

//===----------------------------------------------------------------------===//
// Binary, compare, select
//===----------------------------------------------------------------------===//

TEST(BinaryTest, BroadcastRowColumnAndScalar) {
  std::vector<float> m = {1, 2, 3, 4, 5, 6}, row = {10, 20, 30}, col = {2, 3},
                     scalar = {100}, y(6);
  Tensor out = view(y, {2, 3});
  binary(BinaryKind::Add, view(m, {2, 3}), view(row, {3}), out);
  EXPECT_EQ(y, (std::vector<float>{11, 22, 33, 14, 25, 36}));
  binary(BinaryKind::Mul, view(col, {2, 1}), view(row, {1, 3}), out);
  EXPECT_EQ(y, (std::vector<float>{20, 40, 60, 30, 60, 90}));
  binary(BinaryKind::Sub, view(scalar, {}), view(m, {2, 3}), out);
  EXPECT_EQ(y, (std::vector<float>{99, 98, 97, 96, 95, 94}));
  binary(BinaryKind::Div, view(m, {2, 3}), view(col, {2, 1}), out);
  EXPECT_EQ(y, (std::vector<float>{0.5, 1, 1.5, 4.0f / 3, 5.0f / 3, 2}));
}

/// A float binary kind by definition, in double.
double binaryFormula(BinaryKind kind, double a, double b) {
  switch (kind) {
  case BinaryKind::Add:
    return a + b;
  case BinaryKind::Sub:
    return a - b;
  case BinaryKind::Mul:
    return a * b;
  case BinaryKind::Div:
    return a / b;
  case BinaryKind::Pow:
    return std::pow(a, b);
  case BinaryKind::Max:
    return std::max(a, b);
  case BinaryKind::Min:
    return std::min(a, b);
  case BinaryKind::FMod:
    return std::fmod(a, b);
  case BinaryKind::Mod:
    return a - b * std::floor(a / b);
  default:
    return NAN;
  }
}

TEST(BinaryTest, EveryFloatKindBroadcastMatchesNaiveLoop) {
  // Shapes whose broadcasting interleaves stretched and full dimensions; the
  // second pair is large enough to run in parallel.
  struct Case {
    std::vector<int64_t> lhs, rhs, out;
  };
  std::vector<Case> cases = {{{4, 1, 5}, {3, 1}, {4, 3, 5}},
                             {{2, 1, 300, 1}, {1, 70, 1, 9}, {2, 70, 300, 9}},
                             {{6, 7}, {6, 7}, {6, 7}}};
  Numbers numbers(6);
  for (const Case &c : cases) {
    std::vector<float> a = numbers.floats(count(c.lhs));
    std::vector<float> b = numbers.floats(count(c.rhs));
    for (float &x : b)
      x = x + 2.0f; // Positive, away from 0: pow and div are tame.
    for (float &x : a)
      x = std::fabs(x);
    std::vector<float> y(count(c.out));
    Tensor out = view(y, c.out);
    for (BinaryKind kind :
         {BinaryKind::Add, BinaryKind::Sub, BinaryKind::Mul, BinaryKind::Div,
          BinaryKind::Pow, BinaryKind::Max, BinaryKind::Min, BinaryKind::Mod,
          BinaryKind::FMod}) {
      binary(kind, view(a, c.lhs), view(b, c.rhs), out, 2);
      for (int64_t i = 0; i < count(c.out); ++i) {
        std::vector<int64_t> index = unravel(i, c.out);
        double expected = binaryFormula(kind, a[broadcastRead(index, c.lhs)],
                                        b[broadcastRead(index, c.rhs)]);
        ASSERT_NEAR(y[i], expected, 1e-6 * std::max(1.0, std::fabs(expected)))
            << "kind " << static_cast<int>(kind) << " element " << i;
      }
    }
  }
}

TEST(BinaryTest, IntegerDivisionTruncatesTowardZero) {
  std::vector<int32_t> a = {7,  -7, 7,
                            -7, 5,  std::numeric_limits<int32_t>::min()};
  std::vector<int32_t> b = {2, 2, -2, -2, 0, -1}, y(6);
  Tensor out = view(y, {6});
  binary(BinaryKind::Div, view(a, {6}), view(b, {6}), out);
  // x / 0 is 0 and INT_MIN / -1 wraps (both undefined in the folder).
  EXPECT_EQ(y, (std::vector<int32_t>{3, -3, -3, 3, 0,
                                     std::numeric_limits<int32_t>::min()}));
  std::vector<int8_t> a8 = {-128, -9, 100}, b8 = {-1, 4, -7}, y8(3);
  Tensor out8 = view(y8, {3});
  binary(BinaryKind::Div, view(a8, {3}), view(b8, {3}), out8);
  EXPECT_EQ(y8, (std::vector<int8_t>{-128, -2, -14}));
}

TEST(BinaryTest, IntegerRemaindersTakeTheSignOfTheirQuotient) {
  std::vector<int32_t> a = {
      7, -7, 7, -7, 6, 5, std::numeric_limits<int32_t>::min()};
  std::vector<int32_t> b = {3, 3, -3, -3, 3, 0, -1}, y(7);
  Tensor out = view(y, {7});
  // Floored (Python's %): the divisor's sign.
  binary(BinaryKind::Mod, view(a, {7}), view(b, {7}), out);
  EXPECT_EQ(y, (std::vector<int32_t>{1, 2, -2, -1, 0, 0, 0}));
  // Truncated (C's %): the dividend's sign.
  binary(BinaryKind::FMod, view(a, {7}), view(b, {7}), out);
  EXPECT_EQ(y, (std::vector<int32_t>{1, -1, 1, -1, 0, 0, 0}));
  std::vector<float> fa = {5.5f, -5.5f, 5.5f, -5.5f}, fb = {2, 2, -2, -2},
                     fy(4);
  Tensor fout = view(fy, {4});
  binary(BinaryKind::Mod, view(fa, {4}), view(fb, {4}), fout);
  EXPECT_EQ(fy, (std::vector<float>{1.5f, 0.5f, -0.5f, -1.5f}));
  binary(BinaryKind::FMod, view(fa, {4}), view(fb, {4}), fout);
  EXPECT_EQ(fy, (std::vector<float>{1.5f, -1.5f, 1.5f, -1.5f}));
}

TEST(BinaryTest, IntegerPowMultipliesRepeatedly) {
  std::vector<int32_t> base = {2, -2, 3, 2, 1, -1, -1, 0, 5, 2};
  std::vector<int32_t> exponent = {10, 3, 0, -1, -5, -3, -2, -1, 1, 31};
  std::vector<int32_t> y(10);
  Tensor out = view(y, {10});
  binary(BinaryKind::Pow, view(base, {10}), view(exponent, {10}), out);
  // 2^31 wraps to INT_MIN; 2^-1 truncates to 0; 0^-1 is 0 (undefined in
  // the folder).
  EXPECT_EQ(y, (std::vector<int32_t>{1024, -8, 1, 0, 1, -1, 1, 0, 5,
                                     std::numeric_limits<int32_t>::min()}));
  // i8: 3^5 = 243 wraps to -13; 2^7 = 128 wraps to -128; 2^8 to 0.
  std::vector<int8_t> b8 = {3, 2, 2}, e8 = {5, 7, 8}, y8(3);
  Tensor out8 = view(y8, {3});
  binary(BinaryKind::Pow, view(b8, {3}), view(e8, {3}), out8);
  EXPECT_EQ(y8, (std::vector<int8_t>{-13, -128, 0}));
  // i64: 3^40 modulo 2^64, by a plain loop of wrapping multiplications.
  uint64_t wrapped = 1;
  for (int i = 0; i < 40; ++i)
    wrapped *= 3;
  std::vector<int64_t> b64 = {3}, e64 = {40}, y64(1);
  Tensor out64 = view(y64, {1});
  binary(BinaryKind::Pow, view(b64, {1}), view(e64, {1}), out64);
  EXPECT_EQ(static_cast<uint64_t>(y64[0]), wrapped);
}

TEST(BinaryTest, IntegerArithmeticWrapsAndCompareSigned) {
  int32_t max = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> a = {max, -5, 70000}, b = {1, 3, 70000}, y(3);
  Tensor out = view(y, {3});
  binary(BinaryKind::Add, view(a, {3}), view(b, {3}), out);
  EXPECT_EQ(y[0], std::numeric_limits<int32_t>::min());
  binary(BinaryKind::Mul, view(a, {3}), view(b, {3}), out);
  // 70000^2 = 4900000000 = 4900000000 - 2^32 = 605032704.
  EXPECT_EQ(y, (std::vector<int32_t>{max, -15, 605032704}));
  binary(BinaryKind::Max, view(a, {3}), view(b, {3}), out);
  EXPECT_EQ(y, (std::vector<int32_t>{max, 3, 70000}));
  binary(BinaryKind::Min, view(a, {3}), view(b, {3}), out);
  EXPECT_EQ(y, (std::vector<int32_t>{1, -5, 70000}));
  std::vector<int16_t> s = {-32768, 300}, t = {1, 300}, r(2);
  Tensor out16 = view(r, {2});
  binary(BinaryKind::Sub, view(s, {2}), view(t, {2}), out16);
  EXPECT_EQ(r, (std::vector<int16_t>{32767, 0}));
  binary(BinaryKind::Mul, view(s, {2}), view(t, {2}), out16);
  // 300 * 300 = 90000 = 90000 - 65536 = 24464.
  EXPECT_EQ(r, (std::vector<int16_t>{-32768, 24464}));
}

TEST(BinaryTest, FloatMaxMinPropagateNaN) {
  std::vector<float> a = {NAN, 1, 2, -1}, b = {1, NAN, 3, -2}, y(4);
  Tensor out = view(y, {4});
  binary(BinaryKind::Max, view(a, {4}), view(b, {4}), out);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_EQ(y[2], 3);
  EXPECT_EQ(y[3], -1);
  binary(BinaryKind::Min, view(a, {4}), view(b, {4}), out);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_EQ(y[2], 2);
  EXPECT_EQ(y[3], -2);
}

TEST(BinaryTest, BooleanLogic) {
  // Truth tables, with b broadcast against a column of a.
  std::vector<uint8_t> a = {0, 1}, b = {0, 1}, y(4);
  Tensor out = view(y, {2, 2});
  binary(BinaryKind::And, view(a, {2, 1}), view(b, {2}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 0, 0, 1}));
  binary(BinaryKind::Or, view(a, {2, 1}), view(b, {2}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 1, 1, 1}));
  binary(BinaryKind::Xor, view(a, {2, 1}), view(b, {2}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 1, 1, 0}));
}

TEST(BinaryTest, HalfAndBFloat16RoundOnce) {
  // 2048 + 1 = 2049 ties to 2048 in f16, 2048 + 3 = 2051 ties to 2052; in
  // bf16 the same happens at 256 + 1 and 256 + 3.
  for (DType dtype : {DType::F16, DType::BF16}) {
    auto encode = dtype == DType::F16 ? toHalfs : toBFloat16s;
    auto decode = dtype == DType::F16 ? halfToFloat : bfloat16ToFloat;
    float big = dtype == DType::F16 ? 2048 : 256;
    std::vector<uint16_t> a = encode({big, big}), b = encode({1, 3}), y(2);
    Tensor out = view16(y, dtype, {2});
    binary(BinaryKind::Add, view16(a, dtype, {2}), view16(b, dtype, {2}), out);
    EXPECT_EQ(decode(y[0]), big);
    EXPECT_EQ(decode(y[1]), big + 4);
  }
}

TEST(CompareTest, FloatsFollowIEEEWithBroadcasting) {
  // Column [1, NaN] against row [0, 1, 2].
  std::vector<float> a = {1, NAN}, b = {0, 1, 2};
  std::vector<uint8_t> y(6);
  Tensor out = view(y, {2, 3});
  auto run = [&](CompareKind kind) {
    compare(kind, view(a, {2, 1}), view(b, {3}), out);
    return y;
  };
  EXPECT_EQ(run(CompareKind::Eq), (std::vector<uint8_t>{0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(run(CompareKind::Ne), (std::vector<uint8_t>{1, 0, 1, 1, 1, 1}));
  EXPECT_EQ(run(CompareKind::Lt), (std::vector<uint8_t>{0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(run(CompareKind::Le), (std::vector<uint8_t>{0, 1, 1, 0, 0, 0}));
  EXPECT_EQ(run(CompareKind::Gt), (std::vector<uint8_t>{1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(run(CompareKind::Ge), (std::vector<uint8_t>{1, 1, 0, 0, 0, 0}));
}

TEST(CompareTest, IntegersSignedAndBooleansUnsigned) {
  std::vector<int64_t> a = {-1, 5}, b = {1, 5};
  std::vector<uint8_t> y(2);
  Tensor out = view(y, {2});
  compare(CompareKind::Lt, view(a, {2}), view(b, {2}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{1, 0}));
  std::vector<int8_t> c = {-128, 127}, d = {127, -128};
  compare(CompareKind::Gt, view(c, {2}), view(d, {2}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 1}));
  std::vector<uint8_t> f = {0, 1}, t = {1, 0};
  compare(CompareKind::Lt, view(f, {2}), view(t, {2}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{1, 0})); // false < true
}

TEST(CompareTest, Half) {
  std::vector<uint16_t> a = toHalfs({0.5f, -2.0f, 3.0f}), b = toHalfs({0.5f});
  std::vector<uint8_t> y(3);
  Tensor out = view(y, {3});
  compare(CompareKind::Ge, view16(a, DType::F16, {3}),
          view16(b, DType::F16, {1}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{1, 0, 1}));
}

TEST(SelectTest, BroadcastsConditionAndBothBranches) {
  // cond column [1, 0], on_true row [1 2 3], on_false scalar -1.
  std::vector<uint8_t> cond = {1, 0};
  std::vector<float> t = {1, 2, 3}, f = {-1}, y(6);
  Tensor out = view(y, {2, 3});
  select(view(cond, {2, 1}), view(t, {3}), view(f, {}), out);
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, -1, -1, -1}));
}

TEST(SelectTest, EveryElementWidth) {
  std::vector<uint8_t> cond = {0, 1, 1, 0};
  std::vector<int64_t> t64 = {1, 2, 3, 4}, f64 = {-1, -2, -3, -4}, y64(4);
  Tensor out64 = view(y64, {4});
  select(view(cond, {4}), view(t64, {4}), view(f64, {4}), out64);
  EXPECT_EQ(y64, (std::vector<int64_t>{-1, 2, 3, -4}));
  std::vector<uint16_t> th = toHalfs({1, 2, 3, 4}), fh = toHalfs({9}), yh(4);
  Tensor outh = view16(yh, DType::BF16, {4});
  select(view(cond, {4}), view16(th, DType::BF16, {4}),
         view16(fh, DType::BF16, {}), outh);
  EXPECT_EQ(yh, (std::vector<uint16_t>{fh[0], th[1], th[2], fh[0]}));
  std::vector<uint8_t> tb = {1, 1, 1, 1}, fb = {0, 0, 0, 0}, yb(4);
  Tensor outb = view(yb, {4});
  select(view(cond, {4}), view(tb, {4}), view(fb, {4}), outb);
  EXPECT_EQ(yb, cond);
}

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

TEST(CastTest, FloatToIntegerTruncatesTowardZeroAndSaturates) {
  std::vector<float> x = {2.7f, -2.7f, 1e10f, -1e10f, NAN, -0.5f};
  std::vector<int32_t> y(6);
  Tensor out = view(y, {6});
  cast(view(x, {6}), out);
  EXPECT_EQ(y,
            (std::vector<int32_t>{2, -2, std::numeric_limits<int32_t>::max(),
                                  std::numeric_limits<int32_t>::min(), 0, 0}));
  std::vector<double> d = {300.5, -128.9, -129.0, 1e300};
  std::vector<int8_t> y8(4);
  Tensor out8 = view(y8, {4});
  cast(view(d, {4}), out8);
  EXPECT_EQ(y8, (std::vector<int8_t>{127, -128, -128, 127}));
  std::vector<double> big = {9.3e18, -9.3e18, 4611686018427387904.0};
  std::vector<int64_t> y64(3);
  Tensor out64 = view(y64, {3});
  cast(view(big, {3}), out64);
  EXPECT_EQ(y64, (std::vector<int64_t>{std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min(),
                                       int64_t(1) << 62}));
}

TEST(CastTest, IntoAndOutOfI1) {
  std::vector<float> x = {0.0f, -0.0f, 0.5f, NAN, -3.0f};
  std::vector<uint8_t> y(5);
  Tensor out = view(y, {5});
  cast(view(x, {5}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 0, 1, 1, 1}));
  std::vector<int64_t> ints = {0, -3, 256, 1, 0};
  cast(view(ints, {5}), out);
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 1, 1, 1, 0}));
  // i1 true is 1, not -1, in a signed type.
  std::vector<uint8_t> b = {1, 0};
  std::vector<int64_t> wide(2);
  Tensor outWide = view(wide, {2});
  cast(view(b, {2}), outWide);
  EXPECT_EQ(wide, (std::vector<int64_t>{1, 0}));
  std::vector<uint16_t> h(2);
  Tensor outHalf = view16(h, DType::F16, {2});
  cast(view(b, {2}), outHalf);
  EXPECT_EQ(h, (std::vector<uint16_t>{0x3C00, 0}));
}

TEST(CastTest, IntegersSignExtendOrTruncate) {
  std::vector<int32_t> x = {300, -1, -129, 65537};
  std::vector<int8_t> y8(4);
  Tensor out8 = view(y8, {4});
  cast(view(x, {4}), out8);
  // 300 mod 256 = 44; -129 mod 256 = 127; 65537 mod 256 = 1.
  EXPECT_EQ(y8, (std::vector<int8_t>{44, -1, 127, 1}));
  std::vector<int64_t> y64(4);
  Tensor out64 = view(y64, {4});
  cast(view(y8, {4}), out64);
  EXPECT_EQ(y64, (std::vector<int64_t>{44, -1, 127, 1}));
}

TEST(CastTest, IntoFloatsRoundsToNearestEvenOnce) {
  // i32 -> f32: 2^24 + 1 ties to 2^24, 2^24 + 3 to 2^24 + 4.
  std::vector<int32_t> x = {16777217, 16777219};
  std::vector<float> y(2);
  Tensor out = view(y, {2});
  cast(view(x, {2}), out);
  EXPECT_EQ(y, (std::vector<float>{16777216.0f, 16777220.0f}));
  // i64 -> bf16: 2^60 + 2^52 + 1 lies just above the midpoint between 2^60
  // and 2^60 + 2^53 (bf16 has 8 bits). Through f64 it would become the
  // midpoint and tie down to 2^60.
  std::vector<int64_t> big = {(int64_t(1) << 60) + (int64_t(1) << 52) + 1,
                              (int64_t(1) << 60) + (int64_t(1) << 52)};
  std::vector<uint16_t> b(2);
  Tensor outB = view16(b, DType::BF16, {2});
  cast(view(big, {2}), outB);
  EXPECT_EQ(bfloat16ToFloat(b[0]), 0x1.02p60f);
  EXPECT_EQ(bfloat16ToFloat(b[1]), 0x1.0p60f);
  // f64 -> f16 just above a midpoint (see Float16Test), f32 -> f16 at one.
  std::vector<double> d = {1.0 + 0x1.0p-11 + 0x1.0p-40, 65520.0};
  std::vector<uint16_t> h(2);
  Tensor outH = view16(h, DType::F16, {2});
  cast(view(d, {2}), outH);
  EXPECT_EQ(h, (std::vector<uint16_t>{0x3C01, 0x7C00}));
  // f16 -> bf16 and back: 1 + 2^-10 is not a bf16 (7 fraction bits); it
  // rounds to 1.
  std::vector<uint16_t> one = {0x3C01}, asBf(1), back(1);
  Tensor outBf = view16(asBf, DType::BF16, {1});
  cast(view16(one, DType::F16, {1}), outBf);
  EXPECT_EQ(asBf[0], 0x3F80);
  Tensor outBack = view16(back, DType::F16, {1});
  cast(view16(asBf, DType::BF16, {1}), outBack);
  EXPECT_EQ(back[0], 0x3C00);
}

//===----------------------------------------------------------------------===//
// Reduce
//===----------------------------------------------------------------------===//

TEST(ReduceTest, HandComputed) {
  // [[1 2 3] [4 5 6]]: rows sum to 6 and 15, columns to 5 7 9.
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, rows(2), cols(3), all(1);
  Tensor outRows = view(rows, {2, 1}), outCols = view(cols, {3});
  Tensor outAll = view(all, {});
  reduce(ReduceKind::Sum, view(x, {2, 3}), outRows, {1}, true);
  EXPECT_EQ(rows, (std::vector<float>{6, 15}));
  reduce(ReduceKind::Sum, view(x, {2, 3}), outCols, {0}, false);
  EXPECT_EQ(cols, (std::vector<float>{5, 7, 9}));
  reduce(ReduceKind::Mean, view(x, {2, 3}), outRows, {1}, true);
  EXPECT_EQ(rows, (std::vector<float>{2, 5}));
  reduce(ReduceKind::Max, view(x, {2, 3}), outCols, {0}, false);
  EXPECT_EQ(cols, (std::vector<float>{4, 5, 6}));
  reduce(ReduceKind::Min, view(x, {2, 3}), outRows, {1}, true);
  EXPECT_EQ(rows, (std::vector<float>{1, 4}));
  reduce(ReduceKind::Prod, view(x, {2, 3}), outAll, {0, 1}, false);
  EXPECT_EQ(all[0], 720);
}

/// Reduction by definition: every input element folds into the output
/// element it maps to, in double.
std::vector<double> naiveReduce(ReduceKind kind, const std::vector<float> &x,
                                const std::vector<int64_t> &shape,
                                const std::vector<int64_t> &axes) {
  std::vector<int64_t> outShape;
  for (size_t d = 0; d < shape.size(); ++d)
    outShape.push_back(
        std::count(axes.begin(), axes.end(), int64_t(d)) ? 1 : shape[d]);
  int64_t reduced = count(shape) / count(outShape);
  double init = kind == ReduceKind::Prod  ? 1.0
                : kind == ReduceKind::Max ? -INFINITY
                : kind == ReduceKind::Min ? INFINITY
                                          : 0.0;
  std::vector<double> acc(count(outShape), init);
  for (int64_t i = 0; i < count(shape); ++i) {
    std::vector<int64_t> index = unravel(i, shape);
    for (int64_t axis : axes)
      index[axis] = 0;
    int64_t o = broadcastRead(index, outShape);
    double v = x[i];
    switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Mean:
      acc[o] += v;
      break;
    case ReduceKind::Prod:
      acc[o] *= v;
      break;
    case ReduceKind::Max:
      acc[o] = std::max(acc[o], v);
      break;
    case ReduceKind::Min:
      acc[o] = std::min(acc[o], v);
      break;
    }
  }
  if (kind == ReduceKind::Mean)
    for (double &a : acc)
      a /= reduced;
  return acc;
}

TEST(ReduceTest, EveryKindAndAxisSetMatchesNaiveLoop) {
  Numbers numbers(7);
  std::vector<int64_t> shape = {3, 4, 5, 6};
  std::vector<float> x = numbers.floats(count(shape));
  for (float &v : x)
    v = 1.0f + v / 8; // Near 1: products stay in range.
  std::vector<std::vector<int64_t>> axisSets = {
      {0}, {1}, {3}, {0, 2}, {1, 3}, {2, 3}, {0, 3}, {0, 1, 2, 3}, {1, 2}};
  for (const auto &axes : axisSets) {
    for (ReduceKind kind : {ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max,
                            ReduceKind::Min, ReduceKind::Prod}) {
      std::vector<double> expected = naiveReduce(kind, x, shape, axes);
      std::vector<float> y(expected.size());
      Tensor out = view(y, {static_cast<int64_t>(y.size())});
      reduce(kind, view(x, shape), out, axes, false);
      SCOPED_TRACE(static_cast<int>(kind));
      SCOPED_TRACE(axes.size());
      expectNear(y, expected, 1e-6);
    }
  }
}

TEST(ReduceTest, LargeInputsMatchNaiveLoopWithThreads) {
  Numbers numbers(8);
  std::vector<int64_t> shape = {64, 48, 40};
  std::vector<float> x = numbers.floats(count(shape));
  for (const std::vector<int64_t> &axes :
       {std::vector<int64_t>{2}, std::vector<int64_t>{0},
        std::vector<int64_t>{1}, std::vector<int64_t>{0, 2}}) {
    std::vector<double> expected = naiveReduce(ReduceKind::Sum, x, shape, axes);
    std::vector<float> y1(expected.size()), y4(expected.size());
    Tensor out1 = view(y1, {static_cast<int64_t>(y1.size())});
    Tensor out4 = view(y4, {static_cast<int64_t>(y4.size())});
    reduce(ReduceKind::Sum, view(x, shape), out1, axes, false, 1);
    reduce(ReduceKind::Sum, view(x, shape), out4, axes, false, 4);
    expectNear(y1, expected, 1e-5);
    EXPECT_EQ(y1, y4); // Each output is summed by one thread, in one order.
  }
}

TEST(ReduceTest, IntegerSumWrapsAndMeanTruncatesTheExactMean) {
  int32_t max = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> x = {max, 1, -7, 0};
  std::vector<int32_t> y(2);
  Tensor out = view(y, {2});
  reduce(ReduceKind::Sum, view(x, {2, 2}), out, {1}, false);
  EXPECT_EQ(y, (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -7}));
  reduce(ReduceKind::Mean, view(x, {2, 2}), out, {1}, false);
  // (INT_MAX + 1) / 2 = 2^30 exactly (no wrap); -7 / 2 = -3.5 -> -3.
  EXPECT_EQ(y, (std::vector<int32_t>{1 << 30, -3}));
  // i8 mean of three 100s: the sum 300 does not fit i8, the mean does.
  std::vector<int8_t> x8 = {100, 100, 100}, y8(1);
  Tensor out8 = view(y8, {});
  reduce(ReduceKind::Mean, view(x8, {3}), out8, {0}, false);
  EXPECT_EQ(y8[0], 100);
  reduce(ReduceKind::Max, view(x8, {3}), out8, {0}, false);
  EXPECT_EQ(y8[0], 100);
  // i64: the mean of two INT64_MAX needs more than 64 bits of sum.
  int64_t big = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> x64 = {big, big, -3, 2}, y64(2);
  Tensor out64 = view(y64, {2, 1});
  reduce(ReduceKind::Mean, view(x64, {2, 2}), out64, {1}, true);
  EXPECT_EQ(y64, (std::vector<int64_t>{big, 0}));
  reduce(ReduceKind::Prod, view(x64, {2, 2}), out64, {1}, true);
  EXPECT_EQ(y64[0], 1); // INT64_MAX^2 mod 2^64 = 1.
  EXPECT_EQ(y64[1], -6);
}

TEST(ReduceTest, NaNPropagatesThroughMaxAndMin) {
  std::vector<float> x = {1, NAN, 3, 4, 5, 6}, y(2);
  Tensor out = view(y, {2});
  reduce(ReduceKind::Max, view(x, {2, 3}), out, {1}, false);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 6);
  std::vector<float> cols(3);
  Tensor outCols = view(cols, {3});
  reduce(ReduceKind::Min, view(x, {2, 3}), outCols, {0}, false);
  EXPECT_EQ(cols[0], 1);
  EXPECT_TRUE(std::isnan(cols[1]));
  EXPECT_EQ(cols[2], 3);
}

TEST(ReduceTest, OverNothing) {
  std::vector<float> x, y(2);
  Tensor out = view(y, {2});
  reduce(ReduceKind::Sum, view(x, {2, 0}), out, {1}, false);
  EXPECT_EQ(y, (std::vector<float>{0, 0}));
  reduce(ReduceKind::Prod, view(x, {2, 0}), out, {1}, false);
  EXPECT_EQ(y, (std::vector<float>{1, 1}));
  reduce(ReduceKind::Mean, view(x, {2, 0}), out, {1}, false);
  EXPECT_TRUE(std::isnan(y[0]));
  std::vector<int32_t> xi, yi = {5, 5};
  Tensor outi = view(yi, {2});
  reduce(ReduceKind::Mean, view(xi, {2, 0}), outi, {1}, false);
  EXPECT_EQ(yi, (std::vector<int32_t>{0, 0}));
}

TEST(ReduceTest, FloatSumsAccumulateInF64) {
  // 2^24 followed by a thousand ones: in f32 every 2^24 + 1 rounds back to
  // 2^24; in f64 the sum is 2^24 + 1000, which f32 represents exactly. Both
  // loops: the reduced axis innermost (rows) and outermost (columns).
  std::vector<float> x(1001, 1.0f);
  x[0] = 16777216.0f;
  std::vector<float> y(1);
  Tensor out = view(y, {});
  reduce(ReduceKind::Sum, view(x, {1001}), out, {0}, false);
  EXPECT_EQ(y[0], 16778216.0f);
  std::vector<float> columns;
  for (float v : x)
    columns.insert(columns.end(), {v, -v});
  std::vector<float> z(2);
  Tensor outColumns = view(z, {2});
  reduce(ReduceKind::Sum, view(columns, {1001, 2}), outColumns, {0}, false);
  EXPECT_EQ(z, (std::vector<float>{16778216.0f, -16778216.0f}));
}

TEST(ReduceTest, HalfSumsInWidePrecision) {
  // 2048 + 1 + 1 = 2050, representable in f16; adding in f16 would give
  // 2048 (each 2048 + 1 ties back to 2048).
  std::vector<uint16_t> x = toHalfs({2048, 1, 1}), y(1);
  Tensor out = view16(y, DType::F16, {});
  reduce(ReduceKind::Sum, view16(x, DType::F16, {3}), out, {0}, false);
  EXPECT_EQ(halfToFloat(y[0]), 2050.0f);
  // bf16: 256 + 1 + 1 = 258 likewise.
  std::vector<uint16_t> b = toBFloat16s({256, 1, 1});
  Tensor outB = view16(y, DType::BF16, {});
  reduce(ReduceKind::Sum, view16(b, DType::BF16, {3}), outB, {0}, false);
  EXPECT_EQ(bfloat16ToFloat(y[0]), 258.0f);
}

//===----------------------------------------------------------------------===//
// Softmax and LayerNorm
//===----------------------------------------------------------------------===//

TEST(SoftmaxTest, HandComputed) {
  // softmax([1 2 3]) = e^(x-3) / (e^-2 + e^-1 + 1) = [0.0900305732,
  // 0.2447284711, 0.6652409558]; log-softmax = x - 3 - log(1.4076059645) =
  // [-2.4076059645, -1.4076059645, -0.4076059645].
  std::vector<float> x = {1, 2, 3}, y(3);
  Tensor out = view(y, {1, 3});
  softmax(view(x, {1, 3}), out, 1, false);
  expectNear(y, {0.0900305732, 0.2447284711, 0.6652409558}, 1e-7);
  softmax(view(x, {1, 3}), out, 1, true);
  expectNear(y, {-2.4076059645, -1.4076059645, -0.4076059645}, 1e-7);
}

TEST(SoftmaxTest, LargeLogitsDoNotOverflow) {
  // [1000 1001] behaves as [0 1]: 1 / (1 + e) = 0.2689414214.
  std::vector<float> x = {1000, 1001, -1000, -1001}, y(4);
  Tensor out = view(y, {2, 2});
  softmax(view(x, {2, 2}), out, 1, false);
  expectNear(y, {0.2689414214, 0.7310585786, 0.7310585786, 0.2689414214}, 1e-7);
}

/// Softmax by definition, along `axis`, in double.
std::vector<double> naiveSoftmax(const std::vector<float> &x,
                                 const std::vector<int64_t> &shape,
                                 int64_t axis, bool log) {
  std::vector<double> out(x.size());
  for (int64_t i = 0; i < count(shape); ++i) {
    std::vector<int64_t> index = unravel(i, shape);
    double denominator = 0;
    double maximum = -INFINITY;
    for (int64_t a = 0; a < shape[axis]; ++a) {
      index[axis] = a;
      maximum = std::max(maximum, double(x[broadcastRead(index, shape)]));
    }
    for (int64_t a = 0; a < shape[axis]; ++a) {
      index[axis] = a;
      denominator += std::exp(x[broadcastRead(index, shape)] - maximum);
    }
    out[i] = log ? x[i] - maximum - std::log(denominator)
                 : std::exp(x[i] - maximum) / denominator;
  }
  return out;
}

TEST(SoftmaxTest, EveryAxisMatchesNaiveLoop) {
  Numbers numbers(9);
  std::vector<int64_t> shape = {3, 5, 300};
  std::vector<float> x = numbers.floats(count(shape));
  for (float &v : x)
    v *= 10;
  std::vector<float> y(x.size());
  Tensor out = view(y, shape);
  for (int64_t axis = 0; axis < 3; ++axis) {
    for (bool log : {false, true}) {
      softmax(view(x, shape), out, axis, log, 2);
      SCOPED_TRACE(axis);
      expectNear(y, naiveSoftmax(x, shape, axis, log), 1e-6);
    }
  }
}

TEST(SoftmaxTest, HalfAndBFloat16) {
  std::vector<float> values = {1, 2, 3, 0.5f};
  for (DType dtype : {DType::F16, DType::BF16}) {
    auto encode = dtype == DType::F16 ? toHalfs : toBFloat16s;
    auto decode = dtype == DType::F16 ? halfToFloat : bfloat16ToFloat;
    std::vector<uint16_t> x = encode(values), y(4);
    Tensor out = view16(y, dtype, {2, 2});
    softmax(view16(x, dtype, {2, 2}), out, 0, false);
    std::vector<double> expected = naiveSoftmax(values, {2, 2}, 0, false);
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(decode(y[i]), expected[i], dtype == DType::F16 ? 1e-3 : 8e-3);
  }
}

/// Layer norm by definition: mean and biased variance over the trailing
/// dims, in double.
std::vector<double>
naiveLayerNorm(const std::vector<float> &x, const std::vector<int64_t> &shape,
               int64_t axis, const std::vector<float> &scale,
               const std::vector<float> *bias, double epsilon) {
  int64_t size = 1;
  for (size_t d = axis; d < shape.size(); ++d)
    size *= shape[d];
  std::vector<double> out(x.size());
  for (size_t row = 0; row < x.size() / size; ++row) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < size; ++j)
      mean += x[row * size + j];
    mean /= size;
    for (int64_t j = 0; j < size; ++j)
      var += (x[row * size + j] - mean) * (x[row * size + j] - mean);
    var /= size;
    for (int64_t j = 0; j < size; ++j)
      out[row * size + j] =
          (x[row * size + j] - mean) / std::sqrt(var + epsilon) * scale[j] +
          (bias ? (*bias)[j] : 0.0);
  }
  return out;
}

TEST(LayerNormTest, HandComputed) {
  // [1 2 3 4]: mean 2.5, variance (2.25 + 0.25) * 2 / 4 = 1.25, sqrt =
  // 1.1180339887; normalized [-1.3416407865 -0.4472135955 ...].
  std::vector<float> x = {1, 2, 3, 4}, g = {1, 1, 1, 1}, y(4);
  Tensor out = view(y, {1, 4});
  layerNorm(view(x, {1, 4}), view(g, {4}), nullptr, out, 1, 0.0f);
  expectNear(y, {-1.3416407865, -0.4472135955, 0.4472135955, 1.3416407865},
             1e-6);
}

TEST(LayerNormTest, MatchesNaiveFormulaOverTrailingDims) {
  Numbers numbers(10);
  std::vector<int64_t> shape = {3, 4, 5};
  std::vector<float> x = numbers.floats(60);
  for (int64_t axis : {1, 2}) {
    int64_t size = axis == 1 ? 20 : 5;
    std::vector<int64_t> normalized(shape.begin() + axis, shape.end());
    std::vector<float> g = numbers.floats(size), b = numbers.floats(size);
    std::vector<float> y(60);
    Tensor out = view(y, shape);
    Tensor bias = view(b, normalized);
    layerNorm(view(x, shape), view(g, normalized), &bias, out, axis, 1e-5f);
    expectNear(y, naiveLayerNorm(x, shape, axis, g, &b, 1e-5), 1e-5);
    layerNorm(view(x, shape), view(g, normalized), nullptr, out, axis, 1e-5f);
    expectNear(y, naiveLayerNorm(x, shape, axis, g, nullptr, 1e-5), 1e-5);
  }
}

TEST(LayerNormTest, LargeOffsetKeepsPrecision) {
  // 10000 + k/8 for k = 0..7 (exact in f32): variance 0.328125 / ... is tiny
  // next to the mean squared (10^8). A one-pass E[x^2] - E[x]^2 in f32 loses
  // every digit; two passes in f64 keep them.
  std::vector<float> x, g(8, 1.0f), y(8);
  for (int k = 0; k < 8; ++k)
    x.push_back(10000.0f + k / 8.0f);
  Tensor out = view(y, {8});
  layerNorm(view(x, {8}), view(g, {8}), nullptr, out, 0, 1e-5f);
  expectNear(y, naiveLayerNorm(x, {8}, 0, g, nullptr, 1e-5), 1e-5);
}

TEST(LayerNormTest, ScaleBroadcastAndHalf) {
  // A scale of [5] over normalized dims [2, 5] broadcasts to each row.
  Numbers numbers(11);
  std::vector<float> x = numbers.floats(20), g = numbers.floats(5), y(20);
  std::vector<float> gFull;
  for (int r = 0; r < 2; ++r)
    gFull.insert(gFull.end(), g.begin(), g.end());
  Tensor out = view(y, {2, 2, 5});
  layerNorm(view(x, {2, 2, 5}), view(g, {5}), nullptr, out, 1, 1e-5f);
  expectNear(y, naiveLayerNorm(x, {2, 2, 5}, 1, gFull, nullptr, 1e-5), 1e-5);
  // f16 storage: within f16 precision of the f64 result.
  std::vector<uint16_t> hx = toHalfs(x), hg = toHalfs(gFull), hy(20);
  std::vector<float> xr, gr;
  for (uint16_t h : hx)
    xr.push_back(halfToFloat(h));
  for (uint16_t h : hg)
    gr.push_back(halfToFloat(h));
  Tensor hout = view16(hy, DType::F16, {2, 10});
  layerNorm(view16(hx, DType::F16, {2, 10}), view16(hg, DType::F16, {10}),
            nullptr, hout, 1, 1e-5f);
  std::vector<double> expected =
      naiveLayerNorm(xr, {2, 10}, 1, gr, nullptr, 1e-5);
  for (int i = 0; i < 20; ++i)
    EXPECT_NEAR(halfToFloat(hy[i]), expected[i], 2e-3) << i;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

TEST(GatherTest, EmbeddingWithNegativeIndices) {
  // Table rows r = [10r, 10r+1, 10r+2]; ids [[0 3] [1 -1]]: -1 is row 3.
  std::vector<float> table = {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32};
  std::vector<int64_t> ids = {0, 3, 1, -1};
  std::vector<float> y(12);
  Tensor out = view(y, {2, 2, 3});
  EXPECT_EQ(gather(view(table, {4, 3}), view(ids, {2, 2}), out, 0), -1);
  EXPECT_EQ(y,
            (std::vector<float>{0, 1, 2, 30, 31, 32, 10, 11, 12, 30, 31, 32}));
}

TEST(GatherTest, InnerAxisWithI32Indices) {
  // data[2][3][2] = 100a + 10b + c; indices [-3, 2] on axis 1 pick b = 0, 2.
  std::vector<int16_t> data;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 2; ++c)
        data.push_back(static_cast<int16_t>(100 * a + 10 * b + c));
  std::vector<int32_t> indices = {-3, 2};
  std::vector<int16_t> y(8);
  Tensor out = view(y, {2, 2, 2});
  gather(view(data, {2, 3, 2}), view(indices, {2}), out, 1);
  EXPECT_EQ(y, (std::vector<int16_t>{0, 1, 20, 21, 100, 101, 120, 121}));
  // A scalar index drops the axis: data[:, 1, :].
  std::vector<int32_t> one = {1};
  std::vector<int16_t> z(4);
  Tensor outScalar = view(z, {2, 2});
  gather(view(data, {2, 3, 2}), view(one, {}), outScalar, 1);
  EXPECT_EQ(z, (std::vector<int16_t>{10, 11, 110, 111}));
}

TEST(GatherTest, OutOfRangeIndexIsReportedAndGivesZeros) {
  // Axis of size 2: 2 and -3 are outside [-2, 2); the first is reported.
  std::vector<int32_t> table = {1, 2, 3, 4};
  std::vector<int64_t> ids = {1, 2, -3, -2};
  std::vector<int32_t> y(8, 7);
  Tensor out = view(y, {4, 2});
  EXPECT_EQ(gather(view(table, {2, 2}), view(ids, {4}), out, 0), 1);
  EXPECT_EQ(y, (std::vector<int32_t>{3, 4, 0, 0, 0, 0, 1, 2}));
  // The bounds themselves are in range; i32 indices too.
  std::vector<int32_t> edges = {-2, 1};
  std::vector<int32_t> z(4, 7);
  Tensor outEdges = view(z, {2, 2});
  EXPECT_EQ(gather(view(table, {2, 2}), view(edges, {2}), outEdges, 0), -1);
  EXPECT_EQ(z, (std::vector<int32_t>{1, 2, 3, 4}));
  std::vector<int32_t> past = {0, 0, 0, 2};
  std::vector<int32_t> w(8, 7);
  Tensor outPast = view(w, {2, 2, 2});
  EXPECT_EQ(gather(view(table, {2, 2}), view(past, {2, 2}), outPast, 0), 3);
  EXPECT_EQ(indexAt(view(past, {2, 2}), 3), 2);
}

TEST(GatherTest, LargeMatchesNaiveLoopWithThreads) {
  Numbers numbers(12);
  std::vector<float> table = numbers.floats(500 * 64);
  std::vector<int64_t> ids(2000);
  for (int64_t &id : ids)
    id = numbers.integer(-500, 499);
  std::vector<float> y(2000 * 64);
  Tensor out = view(y, {2000, 64});
  gather(view(table, {500, 64}), view(ids, {2000}), out, 0, 3);
  for (int64_t i = 0; i < 2000; ++i) {
    int64_t row = ids[i] < 0 ? ids[i] + 500 : ids[i];
    for (int64_t j = 0; j < 64; ++j)
      ASSERT_EQ(y[i * 64 + j], table[row * 64 + j]);
  }
}

/// Transpose by definition: out[i...] = in[i permuted back].
template <typename T>
std::vector<T> naiveTranspose(const std::vector<T> &x,
                              const std::vector<int64_t> &shape,
                              const std::vector<int64_t> &perm) {
  std::vector<int64_t> outShape;
  for (int64_t p : perm)
    outShape.push_back(shape[p]);
  std::vector<T> out(x.size());
  for (int64_t i = 0; i < count(outShape); ++i) {
    std::vector<int64_t> index = unravel(i, outShape), source(shape.size());
    for (size_t d = 0; d < perm.size(); ++d)
      source[perm[d]] = index[d];
    out[i] = x[broadcastRead(source, shape)];
  }
  return out;
}

TEST(TransposeTest, TwoByThree) {
  std::vector<int8_t> x = {1, 2, 3, 4, 5, 6}, y(6);
  Tensor out = view(y, {3, 2});
  transpose(view(x, {2, 3}), out, {1, 0});
  EXPECT_EQ(y, (std::vector<int8_t>{1, 4, 2, 5, 3, 6}));
}

TEST(TransposeTest, EveryPermutationOfRankFourMatchesNaiveLoop) {
  std::vector<int64_t> shape = {2, 3, 4, 5};
  std::vector<double> x(count(shape));
  std::iota(x.begin(), x.end(), 0.0);
  std::vector<int64_t> perm = {0, 1, 2, 3};
  do {
    std::vector<int64_t> outShape;
    for (int64_t p : perm)
      outShape.push_back(shape[p]);
    std::vector<double> y(x.size());
    Tensor out = view(y, outShape);
    transpose(view(x, shape), out, perm);
    ASSERT_EQ(y, naiveTranspose(x, shape, perm))
        << perm[0] << perm[1] << perm[2] << perm[3];
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(TransposeTest, LargeTiledTransposesMatchNaiveLoop) {
  // Sizes that are not multiples of the tile, with threads.
  std::vector<float> x(300 * 517);
  std::iota(x.begin(), x.end(), 0.0f);
  std::vector<float> y(x.size());
  Tensor out = view(y, {517, 300});
  transpose(view(x, {300, 517}), out, {1, 0}, 2);
  EXPECT_EQ(y, naiveTranspose(x, {300, 517}, {1, 0}));
  std::vector<int16_t> z(40 * 33 * 50);
  std::iota(z.begin(), z.end(), int16_t(0));
  std::vector<int16_t> w(z.size());
  Tensor out3 = view(w, {50, 40, 33});
  transpose(view(z, {40, 33, 50}), out3, {2, 0, 1}, 2);
  EXPECT_EQ(w, naiveTranspose(z, {40, 33, 50}, {2, 0, 1}));
}

TEST(SliceTest, OffsetsAndStrides) {
  // 4x5 of 10r + c; rows 1, 3 and columns 0, 2, 4.
  std::vector<int32_t> x;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 5; ++c)
      x.push_back(10 * r + c);
  std::vector<int32_t> y(6);
  Tensor out = view(y, {2, 3});
  slice(view(x, {4, 5}), out, {1, 0}, {2, 2});
  EXPECT_EQ(y, (std::vector<int32_t>{10, 12, 14, 30, 32, 34}));
  // A contiguous block: rows 2..3, columns 1..3.
  slice(view(x, {4, 5}), out, {2, 1}, {1, 1});
  EXPECT_EQ(y, (std::vector<int32_t>{21, 22, 23, 31, 32, 33}));
}

TEST(ConcatSplitTest, ConcatAlongEachAxis) {
  std::vector<int64_t> a = {1, 2, 3, 4}, b = {5, 6}, y(6);
  Tensor av = view(a, {2, 2}), bv = view(b, {2, 1});
  Tensor out = view(y, {2, 3});
  concat({&av, &bv}, out, 1);
  EXPECT_EQ(y, (std::vector<int64_t>{1, 2, 5, 3, 4, 6}));
  Tensor bRow = view(b, {1, 2});
  Tensor outRows = view(y, {3, 2});
  concat({&av, &bRow}, outRows, 0);
  EXPECT_EQ(y, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(ConcatSplitTest, SplitInvertsConcat) {
  // [2, 6, 3] split along axis 1 into 2 + 3 + 1, each piece checked against
  // the naive slice, then concatenated back.
  std::vector<float> x(36);
  std::iota(x.begin(), x.end(), 0.0f);
  std::vector<float> p0(12), p1(18), p2(6);
  Tensor v0 = view(p0, {2, 2, 3}), v1 = view(p1, {2, 3, 3}),
         v2 = view(p2, {2, 1, 3});
  split(view(x, {2, 6, 3}), {&v0, &v1, &v2}, 1);
  auto naivePiece = [&](int64_t start, int64_t size) {
    std::vector<float> piece;
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = start; b < start + size; ++b)
        for (int64_t c = 0; c < 3; ++c)
          piece.push_back(x[(a * 6 + b) * 3 + c]);
    return piece;
  };
  EXPECT_EQ(p0, naivePiece(0, 2));
  EXPECT_EQ(p1, naivePiece(2, 3));
  EXPECT_EQ(p2, naivePiece(5, 1));
  std::vector<float> y(36);
  Tensor out = view(y, {2, 6, 3});
  concat({&v0, &v1, &v2}, out, 1);
  EXPECT_EQ(y, x);
}

TEST(BroadcastTest, StretchesAndPrependsDims) {
  std::vector<uint16_t> x = {1, 2, 3};
  std::vector<uint16_t> y(24);
  Tensor out = view16(y, DType::F16, {2, 3, 4});
  broadcast(view16(x, DType::F16, {3, 1}), out);
  for (int64_t i = 0; i < 24; ++i)
    EXPECT_EQ(y[i], x[i / 4 % 3]) << i;
}

TEST(CopyTest, ReshapeCopiesBytes) {
  Numbers numbers(13);
  std::vector<float> x = numbers.floats(3 * 1024 * 1024 + 7), y(x.size());
  Tensor out = view(y, {static_cast<int64_t>(y.size())});
  copy(view(x, {static_cast<int64_t>(x.size()), 1}), out, 4);
  EXPECT_EQ(y, x);
}

TEST(ThreadsTest, GlobalSetting) {
  int before = getNumThreads();
  EXPECT_GE(before, 1);
  setNumThreads(3);
  EXPECT_EQ(getNumThreads(), 3);
  setNumThreads(0);
  EXPECT_EQ(getNumThreads(), 1);
  setNumThreads(before);
  EXPECT_EQ(getNumThreads(), before);
}

TEST(ThreadsTest, ResultsDoNotDependOnThreads) {
  Numbers numbers(14);
  std::vector<float> x = numbers.floats(96 * 1024), b = numbers.floats(1024);
  std::vector<float> y1(x.size()), y4(x.size());
  Tensor out1 = view(y1, {96, 1024}), out4 = view(y4, {96, 1024});
  binary(BinaryKind::Mul, view(x, {96, 1024}), view(b, {1024}), out1, 1);
  binary(BinaryKind::Mul, view(x, {96, 1024}), view(b, {1024}), out4, 4);
  EXPECT_EQ(y1, y4);
  softmax(view(x, {96, 1024}), out1, 1, false, 1);
  softmax(view(x, {96, 1024}), out4, 1, false, 4);
  EXPECT_EQ(y1, y4);
  std::vector<uint8_t> mask(x.size());
  Tensor maskOut = view(mask, {96, 1024});
  compare(CompareKind::Gt, view(x, {96, 1024}), view(b, {1024}), maskOut, 4);
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(mask[i], x[i] > b[i % 1024] ? 1 : 0);
}

//===----------------------------------------------------------------------===//
// Masked lookup of a table split by rows (vocabulary-parallel embedding)
//===----------------------------------------------------------------------===//

TEST(GatherBlockTest, LooksUpItsRowsAndZerosTheOthers) {
  // Rows 2 and 3 of a 6-row table (r = [10r, 10r+1]); the ids are the whole
  // table's: 2, 3 and -3 (= 3) are the block's, 0, 5 and -6 (= 0) others'.
  std::vector<float> rows = {20, 21, 30, 31};
  std::vector<int64_t> ids = {2, 0, 3, 5, -3, -6};
  std::vector<float> y(12, 7);
  Tensor out = view(y, {6, 2});
  EXPECT_EQ(
      gatherBlock(view(rows, {2, 2}), view(ids, {6}), RowBlock{2, 6}, out, 0),
      -1);
  EXPECT_EQ(y, (std::vector<float>{20, 21, 0, 0, 30, 31, 0, 0, 30, 31, 0, 0}));
}

TEST(GatherBlockTest, BlocksOfAllRanksAddUpToTheWholeLookup) {
  // Three blocks of a 6 x 3 table on an inner axis (data 2 x 6 x 3, axis 1):
  // the sum of the three masked lookups is the unsplit gather.
  std::vector<float> table(36);
  for (size_t i = 0; i < table.size(); ++i)
    table[i] = static_cast<float>(i) + 0.5f;
  std::vector<int32_t> ids = {5, -1, 0, 3, -4, 2, 1};
  std::vector<float> whole(2 * 7 * 3);
  Tensor wholeOut = view(whole, {2, 7, 3});
  ASSERT_EQ(gather(view(table, {2, 6, 3}), view(ids, {7}), wholeOut, 1), -1);
  std::vector<float> sum(whole.size(), 0.0f);
  for (int64_t block = 0; block < 3; ++block) {
    std::vector<float> rows;
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t r = 2 * block; r < 2 * block + 2; ++r)
        for (int64_t c = 0; c < 3; ++c)
          rows.push_back(table[(a * 6 + r) * 3 + c]);
    std::vector<float> part(whole.size(), 7.0f);
    Tensor partOut = view(part, {2, 7, 3});
    ASSERT_EQ(gatherBlock(view(rows, {2, 2, 3}), view(ids, {7}),
                          RowBlock{2 * block, 6}, partOut, 1),
              -1);
    for (size_t i = 0; i < sum.size(); ++i)
      sum[i] += part[i];
  }
  EXPECT_EQ(sum, whole);
}

TEST(GatherBlockTest, IndexOutsideTheWholeTableIsAnError) {
  // Block of rows [2, 4) of 4: 3 is in it, 0 another block's, 4 and -5
  // outside the table (reported: the first one), their slices zeros.
  std::vector<float> rows = {20, 30};
  std::vector<int64_t> ids = {3, 0, 4, -5};
  std::vector<float> y(4, 7);
  Tensor out = view(y, {4, 1});
  EXPECT_EQ(
      gatherBlock(view(rows, {2, 1}), view(ids, {4}), RowBlock{2, 4}, out, 0),
      2);
  EXPECT_EQ(y, (std::vector<float>{30, 0, 0, 0}));
}

} // namespace
