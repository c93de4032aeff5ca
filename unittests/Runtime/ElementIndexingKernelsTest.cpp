//===- ElementIndexingKernelsTest.cpp - top_k, gathers, scatters ----------===//
//
// The element-indexing kernels (runtime/cpu/ElementIndexing.cpp) on cases
// worked out by hand: TopK's order of ties and NaNs, negative indices, the
// position of the first index out of range, scatter reductions in update
// order, and top_k on many threads equal to one thread.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using namespace distopt::rt;

namespace {

Tensor f32(std::vector<float> &v, std::vector<int64_t> shape) {
  return Tensor{v.data(), DType::F32, std::move(shape)};
}

Tensor i64(std::vector<int64_t> &v, std::vector<int64_t> shape) {
  return Tensor{v.data(), DType::I64, std::move(shape)};
}

TEST(ElementIndexingKernels, TopKOrdersTiesByPositionAndNaNFirst) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> in{1, 3, 3, nan, 2, 3};
  std::vector<float> values(3);
  std::vector<int64_t> indices(3);
  Tensor x = f32(in, {6}), v = f32(values, {3}), i = i64(indices, {3});
  topK(x, v, i, 0, 3, /*smallest=*/false);
  EXPECT_TRUE(std::isnan(values[0]));
  EXPECT_EQ(indices, (std::vector<int64_t>{3, 1, 2}));
  // The smallest: the NaN last, ties by position.
  topK(x, v, i, 0, 3, /*smallest=*/true);
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(indices, (std::vector<int64_t>{0, 4, 1}));
}

TEST(ElementIndexingKernels, TopKOnAnInnerAxisOfIntegers) {
  // 2 x 3 x 2, top 2 along axis 1.
  std::vector<int32_t> in{5, -1, 7, 4, 6, 4, 0, 0, -3, 9, 2, 1};
  std::vector<int32_t> values(8);
  std::vector<int64_t> indices(8);
  Tensor x{in.data(), DType::I32, {2, 3, 2}};
  Tensor v{values.data(), DType::I32, {2, 2, 2}};
  Tensor i = i64(indices, {2, 2, 2});
  topK(x, v, i, 1, 2, /*smallest=*/false);
  EXPECT_EQ(values, (std::vector<int32_t>{7, 4, 6, 4, 2, 9, 0, 1}));
  EXPECT_EQ(indices, (std::vector<int64_t>{1, 1, 2, 2, 2, 1, 0, 2}));
}

TEST(ElementIndexingKernels, TopKOnThreadsEqualsOneThread) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(-20, 20); // many ties
  std::vector<float> in(4096 * 16);
  for (float &x : in)
    x = float(pick(rng));
  std::vector<float> v1(4096 * 4), v4(4096 * 4);
  std::vector<int64_t> i1(4096 * 4), i4(4096 * 4);
  Tensor x = f32(in, {4096, 16});
  Tensor a = f32(v1, {4096, 4}), b = f32(v4, {4096, 4});
  Tensor ia = i64(i1, {4096, 4}), ib = i64(i4, {4096, 4});
  topK(x, a, ia, 1, 4, false, /*threads=*/1);
  topK(x, b, ib, 1, 4, false, /*threads=*/4);
  EXPECT_EQ(v1, v4);
  EXPECT_EQ(i1, i4);
}

TEST(ElementIndexingKernels, GatherElementsNegativeAndOutOfRange) {
  std::vector<float> data{0, 1, 2, 10, 11, 12};
  std::vector<int64_t> ids{2, -3, -1, 3};
  std::vector<float> out(4, -1.0f);
  Tensor d = f32(data, {2, 3}), idx = i64(ids, {2, 2}), y = f32(out, {2, 2});
  // Index 3 (position 3) is outside [-3, 3): reported, its element zero.
  EXPECT_EQ(gatherElements(d, idx, y, 1), 3);
  EXPECT_EQ(out, (std::vector<float>{2, 0, 12, 0}));
}

TEST(ElementIndexingKernels, ScatterElementsReductionsInOrder) {
  std::vector<float> data{1, 1, 1, 1};
  std::vector<int64_t> ids{1, 1, 3};
  std::vector<float> upd{2, 3, 5};
  Tensor d = f32(data, {4}), idx = i64(ids, {3}), u = f32(upd, {3});
  struct Case {
    ScatterReduction reduction;
    std::vector<float> want;
  } cases[] = {{ScatterReduction::None, {1, 3, 1, 5}},
               {ScatterReduction::Add, {1, 6, 1, 6}},
               {ScatterReduction::Mul, {1, 6, 1, 5}},
               {ScatterReduction::Max, {1, 3, 1, 5}},
               {ScatterReduction::Min, {1, 1, 1, 1}}};
  for (const Case &c : cases) {
    std::vector<float> out(4);
    Tensor y = f32(out, {4});
    EXPECT_EQ(scatterElements(c.reduction, d, idx, u, y, 0), -1);
    EXPECT_EQ(out, c.want);
  }
  // An index out of range drops its update and is reported.
  std::vector<int64_t> bad{0, 4, -5};
  std::vector<float> out(4);
  Tensor b = i64(bad, {3}), y = f32(out, {4});
  EXPECT_EQ(scatterElements(ScatterReduction::None, d, b, u, y, 0), 1);
  EXPECT_EQ(out, (std::vector<float>{2, 1, 1, 1}));
}

TEST(ElementIndexingKernels, ScatterElementsIntegersWrap) {
  std::vector<int32_t> data{std::numeric_limits<int32_t>::max(), 0};
  std::vector<int64_t> ids{0};
  std::vector<int32_t> upd{1}, out(2);
  Tensor d{data.data(), DType::I32, {2}}, u{upd.data(), DType::I32, {1}};
  Tensor idx = i64(ids, {1}), y{out.data(), DType::I32, {2}};
  EXPECT_EQ(scatterElements(ScatterReduction::Add, d, idx, u, y, 0), -1);
  EXPECT_EQ(out[0], std::numeric_limits<int32_t>::min());
}

TEST(ElementIndexingKernels, ScatterNDRowsAndOutOfRangeRow) {
  // 3 x 2 data, rows [-1] and [0] replaced, then row [0] added to.
  std::vector<float> data{1, 2, 3, 4, 5, 6};
  std::vector<int64_t> ids{-1, 0, 0};
  std::vector<float> upd{10, 20, 30, 40, 1, 1}, out(6);
  Tensor d = f32(data, {3, 2}), idx = i64(ids, {3, 1}), u = f32(upd, {3, 2});
  Tensor y = f32(out, {3, 2});
  EXPECT_EQ(scatterND(ScatterReduction::None, d, idx, u, y), -1);
  EXPECT_EQ(out, (std::vector<float>{1, 1, 3, 4, 10, 20}));
  EXPECT_EQ(scatterND(ScatterReduction::Add, d, idx, u, y), -1);
  EXPECT_EQ(out, (std::vector<float>{32, 43, 3, 4, 15, 26}));
  // Elements of a 3 x 2 tensor by both coordinates; [3, 0] is outside.
  std::vector<int64_t> pairs{2, 1, 3, 0};
  std::vector<float> two{7, 8};
  Tensor p = i64(pairs, {2, 2}), t = f32(two, {2});
  EXPECT_EQ(scatterND(ScatterReduction::None, d, p, t, y), 1);
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 4, 5, 7}));
}

} // namespace
