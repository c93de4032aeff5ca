//===- BackwardKernelsTest.cpp - unit tests of the backward kernels -------===//
//
// The kernels of the backward ops (runtime/cpu/Backward.cpp) against cases
// worked out by hand and against naive loops that follow the definitions,
// at sizes where they run on several threads (whose results must equal the
// one-thread results bit for bit). Their f64 results are also checked
// against finite differences through dist-autodiff
// (unittests/Passes/AutodiffGradCheckTest.cpp).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Float16.h"
#include "runtime/cpu/Kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using namespace distopt::rt;

namespace {

Tensor f32(std::vector<float> &v, std::vector<int64_t> shape) {
  return Tensor{v.data(), DType::F32, std::move(shape)};
}

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

TEST(BackwardKernels, GatherGradAddsRepeatedAndNegativeIndices) {
  // Rows 1, 3 (= -1) and 1 again of a 4 x 2 table.
  std::vector<float> grad{1, 2, 3, 4, 5, 6}, out(8, -7.0f);
  std::vector<int64_t> ids{1, -1, 1};
  Tensor g = f32(grad, {3, 2}), table = f32(out, {4, 2});
  Tensor idx{ids.data(), DType::I64, {3}};
  EXPECT_EQ(gatherGrad(g, idx, table, 0), -1);
  EXPECT_EQ(out, (std::vector<float>{0, 0, 6, 8, 0, 0, 3, 4}));
}

TEST(BackwardKernels, GatherGradOnInnerAxisAndF16) {
  // Axis 1 of a 2 x 3 table, indices [2, 2] (i32): each row of grad (2 x 2)
  // adds both of its entries into column 2.
  std::vector<uint16_t> grad, out(6);
  for (float v : {1.0f, 2.0f, 3.0f, 4.0f})
    grad.push_back(floatToHalf(v));
  std::vector<int32_t> ids{2, 2};
  Tensor g{grad.data(), DType::F16, {2, 2}};
  Tensor table{out.data(), DType::F16, {2, 3}};
  Tensor idx{ids.data(), DType::I32, {2}};
  EXPECT_EQ(gatherGrad(g, idx, table, 1), -1);
  std::vector<float> got;
  for (uint16_t bits : out)
    got.push_back(halfToFloat(bits));
  EXPECT_EQ(got, (std::vector<float>{0, 0, 3, 0, 0, 7}));
}

TEST(BackwardKernels, GatherGradReportsFirstIndexOutOfRange) {
  std::vector<float> grad{1, 2, 3}, out(3);
  std::vector<int64_t> ids{0, 3, -4};
  Tensor g = f32(grad, {3}), table = f32(out, {3});
  Tensor idx{ids.data(), DType::I64, {3}};
  EXPECT_EQ(gatherGrad(g, idx, table, 0), 1);
  EXPECT_EQ(out, (std::vector<float>{1, 0, 0})); // bad indices add nothing
}

TEST(BackwardKernels, GatherGradThreadsAgreeWithNaiveSum) {
  const int64_t rows = 50, width = 600, count = 200;
  std::vector<float> grad = randomFloats(count * width, 1);
  std::vector<int64_t> ids(count);
  std::mt19937 rng(2);
  for (int64_t &i : ids)
    i = static_cast<int64_t>(rng() % rows);
  std::vector<double> naive(rows * width, 0.0);
  for (int64_t i = 0; i < count; ++i)
    for (int64_t c = 0; c < width; ++c)
      naive[ids[i] * width + c] += grad[i * width + c];
  std::vector<float> one(rows * width), four(rows * width);
  Tensor g = f32(grad, {count, width});
  Tensor idx{ids.data(), DType::I64, {count}};
  Tensor t1 = f32(one, {rows, width}), t4 = f32(four, {rows, width});
  gatherGrad(g, idx, t1, 0, /*threads=*/1);
  gatherGrad(g, idx, t4, 0, /*threads=*/4);
  EXPECT_EQ(one, four);
  for (size_t i = 0; i < naive.size(); ++i)
    ASSERT_NEAR(one[i], naive[i], 1e-4) << i;
}

/// Naive conv2d gradients by the definition: every (n, o, y, x, c, kh, kw)
/// term of the convolution adds its share to dx and dw.
struct NaiveConv {
  int64_t n, c, h, w, o, kh, kw, oh, ow, group, stride, pad, dil;
  void run(const std::vector<float> &x, const std::vector<float> &wt,
           const std::vector<float> &dy, std::vector<double> &dx,
           std::vector<double> &dw) const {
    int64_t cg = c / group, og = o / group;
    dx.assign(n * c * h * w, 0.0);
    dw.assign(o * cg * kh * kw, 0.0);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t f = 0; f < o; ++f)
        for (int64_t y = 0; y < oh; ++y)
          for (int64_t xo = 0; xo < ow; ++xo)
            for (int64_t k = 0; k < cg; ++k)
              for (int64_t i = 0; i < kh; ++i)
                for (int64_t j = 0; j < kw; ++j) {
                  int64_t ih = y * stride - pad + i * dil;
                  int64_t iw = xo * stride - pad + j * dil;
                  if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                    continue;
                  int64_t ci = (f / og) * cg + k;
                  int64_t xi = ((b * c + ci) * h + ih) * w + iw;
                  int64_t wi = ((f * cg + k) * kh + i) * kw + j;
                  double g = dy[((b * o + f) * oh + y) * ow + xo];
                  dx[xi] += g * wt[wi];
                  dw[wi] += g * x[xi];
                }
  }
};

TEST(BackwardKernels, Conv2DGradsMatchNaiveOnThreads) {
  // 2 groups, stride 2, pad 1, dilation 2: 4 x 8 x 17 x 17 input, 12 x 4 x
  // 3 x 3 filter, 4 x 12 x 7 x 7 result.
  NaiveConv s{4, 8, 17, 17, 12, 3, 3, 7, 7, 2, 2, 1, 2};
  std::vector<float> x = randomFloats(s.n * s.c * s.h * s.w, 3);
  std::vector<float> wt = randomFloats(s.o * (s.c / 2) * 9, 4);
  std::vector<float> dy = randomFloats(s.n * s.o * s.oh * s.ow, 5);
  std::vector<double> dxNaive, dwNaive;
  s.run(x, wt, dy, dxNaive, dwNaive);
  std::array<int64_t, 2> strides{2, 2}, dilations{2, 2};
  std::array<int64_t, 4> pads{1, 1, 1, 1};
  std::vector<float> dx1(dxNaive.size()), dx4(dxNaive.size());
  std::vector<float> dw1(dwNaive.size()), dw4(dwNaive.size());
  Tensor tx = f32(x, {s.n, s.c, s.h, s.w}), tw = f32(wt, {s.o, 4, 3, 3});
  Tensor tdy = f32(dy, {s.n, s.o, s.oh, s.ow});
  for (auto [dx, dw, threads] :
       {std::tuple{&dx1, &dw1, 1}, std::tuple{&dx4, &dw4, 4}}) {
    Tensor tdx = f32(*dx, tx.shape), tdw = f32(*dw, tw.shape);
    conv2dGradInput(tdy, tw, tdx, strides, pads, dilations, 2, threads);
    conv2dGradFilter(tx, tdy, tdw, strides, pads, dilations, 2, threads);
  }
  EXPECT_EQ(dx1, dx4);
  EXPECT_EQ(dw1, dw4);
  for (size_t i = 0; i < dxNaive.size(); ++i)
    ASSERT_NEAR(dx1[i], dxNaive[i], 1e-5) << "dx " << i;
  for (size_t i = 0; i < dwNaive.size(); ++i)
    ASSERT_NEAR(dw1[i], dwNaive[i], 1e-4) << "dw " << i;
}

TEST(BackwardKernels, Pool2DGradMaxGoesToFirstMaximum) {
  // One 2 x 3 plane, kernel 2 x 2, stride 1: windows [0 1; 3 4] and
  // [1 2; 4 5]. Values 5 5 1 / 2 5 0: the first window's maximum 5 is at
  // positions 0, 1 and 4 (first: 0); the second's at 1 and 4 (first: 1).
  std::vector<float> x{5, 5, 1, 2, 5, 0}, dy{10, 20}, dx(6, -1.0f);
  Tensor tx = f32(x, {1, 1, 2, 3}), tdy = f32(dy, {1, 1, 1, 2});
  Tensor tdx = f32(dx, {1, 1, 2, 3});
  pool2dGrad(PoolKind::Max, tdy, tx, tdx, {2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1},
             false);
  EXPECT_EQ(dx, (std::vector<float>{10, 20, 0, 0, 0, 0}));
}

TEST(BackwardKernels, Pool2DGradAvgCountsLikeTheForward) {
  // A 2 x 2 plane, kernel 2 x 2, pads 1 (all sides), stride 2: four windows
  // that each hold one input position. Without count_include_pad each
  // averages 1 value (the gradient passes whole); with it, 4 (a quarter).
  std::vector<float> x{1, 2, 3, 4}, dy{4, 8, 12, 16}, dx(4);
  Tensor tx = f32(x, {1, 1, 2, 2}), tdy = f32(dy, {1, 1, 2, 2});
  Tensor tdx = f32(dx, {1, 1, 2, 2});
  pool2dGrad(PoolKind::Avg, tdy, tx, tdx, {2, 2}, {2, 2}, {1, 1, 1, 1}, {1, 1},
             /*countIncludePad=*/false);
  EXPECT_EQ(dx, (std::vector<float>{4, 8, 12, 16}));
  pool2dGrad(PoolKind::Avg, tdy, tx, tdx, {2, 2}, {2, 2}, {1, 1, 1, 1}, {1, 1},
             /*countIncludePad=*/true);
  EXPECT_EQ(dx, (std::vector<float>{1, 2, 3, 4}));
}

TEST(BackwardKernels, Pool2DGradThreadsAgree) {
  const int64_t planes = 64, h = 20, w = 20;
  std::vector<float> x = randomFloats(planes * h * w, 6);
  std::vector<float> dy = randomFloats(planes * 10 * 10, 7);
  std::vector<float> one(x.size()), four(x.size());
  Tensor tx = f32(x, {4, 16, h, w}), tdy = f32(dy, {4, 16, 10, 10});
  for (PoolKind kind : {PoolKind::Max, PoolKind::Avg}) {
    Tensor t1 = f32(one, tx.shape), t4 = f32(four, tx.shape);
    pool2dGrad(kind, tdy, tx, t1, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false,
               1);
    pool2dGrad(kind, tdy, tx, t4, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false,
               4);
    EXPECT_EQ(one, four);
  }
}

TEST(BackwardKernels, GatherGradBlockScattersIntoItsRowsOnly) {
  // Rows [2, 4) of a 4 x 2 table: ids 3, 2, -1 (= 3) land in the block,
  // 0 and -4 (= 0) in another one; 4 is outside the table (reported).
  std::vector<float> grad{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out(4, -7.0f);
  std::vector<int64_t> ids{3, 2, -1, 0, -4, 4};
  Tensor g = f32(grad, {6, 2}), rows = f32(out, {2, 2});
  Tensor idx{ids.data(), DType::I64, {6}};
  EXPECT_EQ(gatherGradBlock(g, idx, RowBlock{2, 4}, rows, 0), 5);
  EXPECT_EQ(out, (std::vector<float>{3, 4, 1 + 5, 2 + 6}));
  // The blocks of both ranks are the whole gradient.
  std::vector<float> first(4, -7.0f), whole(8, -7.0f);
  Tensor firstRows = f32(first, {2, 2}), table = f32(whole, {4, 2});
  ids.back() = 1;
  EXPECT_EQ(gatherGradBlock(g, idx, RowBlock{0, 4}, firstRows, 0), -1);
  EXPECT_EQ(gatherGradBlock(g, idx, RowBlock{2, 4}, rows, 0), -1);
  EXPECT_EQ(gatherGrad(g, idx, table, 0), -1);
  std::vector<float> joined(first);
  joined.insert(joined.end(), out.begin(), out.end());
  EXPECT_EQ(joined, whole);
}

} // namespace
