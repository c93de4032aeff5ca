//===- TrainingKernelsTest.cpp - loss and optimizer kernels ---------------===//
//
// The training kernels of runtime/cpu/Training.cpp against numbers worked out
// by hand (the comment says how; each also equals what PyTorch's
// F.cross_entropy, F.mse_loss, torch.optim.AdamW and torch.optim.SGD give).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace distopt::rt;

namespace {

template <typename T> constexpr DType dtypeOf();
template <> constexpr DType dtypeOf<float>() { return DType::F32; }
template <> constexpr DType dtypeOf<double>() { return DType::F64; }
template <> constexpr DType dtypeOf<int32_t>() { return DType::I32; }
template <> constexpr DType dtypeOf<int64_t>() { return DType::I64; }

template <typename T>
Tensor view(std::vector<T> &values, std::vector<int64_t> shape) {
  return Tensor{values.data(), dtypeOf<T>(), std::move(shape)};
}

//===----------------------------------------------------------------------===//
// Cross-entropy
//===----------------------------------------------------------------------===//

// Row [0, 0, 0] with label 1: log 3. Row [1, 2, 3] with label 2:
// 3 + log(e^-2 + e^-1 + 1) - 3 = 0.4076059644. Mean 0.7531091266.
TEST(CrossEntropyTest, MeanOverPositions) {
  std::vector<double> logits = {0, 0, 0, 1, 2, 3};
  std::vector<int64_t> labels = {1, 2};
  std::vector<double> out = {-1};
  Tensor o = view(out, {});
  EXPECT_EQ(crossEntropy(view(logits, {2, 3}), view(labels, {2}), o), -1);
  EXPECT_NEAR(out[0], 0.7531091265562451, 1e-15);
}

// Positions are every leading dimension: B1 x B2 x C with i32 labels.
TEST(CrossEntropyTest, LeadingDimsAreAllPositionsF32) {
  std::vector<float> logits = {0, 0, 0, 1, 2, 3, 0, 0, 0, 1, 2, 3};
  std::vector<int32_t> labels = {1, 2, 0, 0};
  std::vector<float> out = {-1};
  Tensor o = view(out, {});
  EXPECT_EQ(crossEntropy(view(logits, {2, 2, 3}), view(labels, {2, 2}), o), -1);
  // log 3, 0.4076, log 3, 2.4076: mean (2 log 3 + 2.8152119289) / 4.
  EXPECT_NEAR(out[0], (2 * std::log(3.0) + 0.40760596444 + 2.40760596444) / 4,
              1e-6);
}

// Logits of 1000 overflow exp() unless the row's maximum is subtracted:
// label 0 costs log(1 + e^-1000) = 0, label 1 costs 1000.
TEST(CrossEntropyTest, LargeLogitsAreStable) {
  std::vector<float> logits = {1000, 0, 1000, 0};
  std::vector<int64_t> labels = {0, 1};
  std::vector<float> out = {-1};
  Tensor o = view(out, {});
  crossEntropy(view(logits, {2, 2}), view(labels, {2}), o);
  EXPECT_FLOAT_EQ(out[0], 500.0f);
}

TEST(CrossEntropyTest, LabelOutOfRangeIsReported) {
  std::vector<float> logits(9, 0.0f);
  std::vector<int64_t> labels = {0, 3, -1};
  std::vector<float> out = {-1};
  Tensor o = view(out, {});
  EXPECT_EQ(crossEntropy(view(logits, {3, 3}), view(labels, {3}), o), 1);
  std::vector<float> grad(9, 7.0f), scale = {1.0f};
  Tensor g = view(grad, {3, 3});
  EXPECT_EQ(crossEntropyGrad(view(logits, {3, 3}), view(labels, {3}),
                             view(scale, {}), g),
            1);
  // The bad rows of the gradient are zeros, not left as they were.
  for (int i = 3; i < 9; ++i)
    EXPECT_EQ(grad[i], 0.0f) << i;
}

// Row [0, 0, 0], label 1, scale 0.5: (1/3 - [0, 1, 0]) / 2. Row [1000, 0],
// label 1: softmax [1, 0] (no overflow), minus onehot.
TEST(CrossEntropyTest, GradIsSoftmaxMinusOnehotTimesScale) {
  std::vector<double> logits = {0, 0, 0}, scale = {0.5}, grad(3);
  std::vector<int64_t> labels = {1};
  Tensor g = view(grad, {1, 3});
  EXPECT_EQ(crossEntropyGrad(view(logits, {1, 3}), view(labels, {1}),
                             view(scale, {}), g),
            -1);
  EXPECT_NEAR(grad[0], 1.0 / 6, 1e-15);
  EXPECT_NEAR(grad[1], -1.0 / 3, 1e-15);
  EXPECT_NEAR(grad[2], 1.0 / 6, 1e-15);

  std::vector<float> big = {1000, 0}, one = {1}, bigGrad(2);
  Tensor bg = view(bigGrad, {2});
  std::vector<int64_t> label = {1};
  crossEntropyGrad(view(big, {2}), view(label, {}), view(one, {}), bg);
  EXPECT_FLOAT_EQ(bigGrad[0], 1.0f);
  EXPECT_FLOAT_EQ(bigGrad[1], -1.0f);
}

//===----------------------------------------------------------------------===//
// MSE
//===----------------------------------------------------------------------===//

// Classes split in two blocks of 2 (of 4): each block's statistics against
// the row maxima over all classes, summed over the blocks, give the whole
// row's loss; each block's gradient is the whole gradient's columns. Rows
// [0, 1, 2, 3] label 2 and [3, 0, 0, 1] label 0 (both labels in different
// blocks than some of their maxima).
TEST(CrossEntropyTest, BlocksOfClassesCombineToTheWholeRow) {
  std::vector<double> whole = {0, 1, 2, 3, 3, 0, 0, 1};
  std::vector<int64_t> labels = {2, 0};
  std::vector<double> scale = {0.5};
  std::vector<double> loss = {0}, grad(8);
  Tensor l = view(loss, {}), g = view(grad, {2, 4});
  ASSERT_EQ(crossEntropy(view(whole, {2, 4}), view(labels, {2}), l), -1);
  ASSERT_EQ(crossEntropyGrad(view(whole, {2, 4}), view(labels, {2}),
                             view(scale, {}), g),
            -1);
  std::vector<double> max = {3, 3};
  std::vector<double> sums = {0, 0}, targets = {0, 0};
  std::vector<std::vector<double>> blocks = {{0, 1, 3, 0}, {2, 3, 0, 1}};
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<double> sum(2), target(2);
    Tensor s = view(sum, {2}), t = view(target, {2});
    ASSERT_EQ(crossEntropyStats(view(blocks[b], {2, 2}), view(labels, {2}),
                                view(max, {2}), ClassBlock{2 * b, 4}, s, t),
              -1);
    for (int i = 0; i < 2; ++i) {
      sums[i] += sum[i];
      targets[i] += target[i];
    }
  }
  // The label logits: row 0's label 2 is in block 1, row 1's label 0 in
  // block 0.
  EXPECT_EQ(targets[0], 2);
  EXPECT_EQ(targets[1], 3);
  double mean = 0;
  for (int i = 0; i < 2; ++i)
    mean += (std::log(sums[i]) + max[i] - targets[i]) / 2;
  EXPECT_NEAR(mean, loss[0], 1e-14);
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<double> part(4);
    Tensor p = view(part, {2, 2});
    ASSERT_EQ(crossEntropyGradBlock(view(blocks[b], {2, 2}), view(labels, {2}),
                                    view(scale, {}), view(max, {2}),
                                    view(sums, {2}), ClassBlock{2 * b, 4}, p),
              -1);
    for (int i = 0; i < 2; ++i)
      for (int c = 0; c < 2; ++c)
        EXPECT_NEAR(part[i * 2 + c], grad[i * 4 + 2 * b + c], 1e-15)
            << "block " << b << " row " << i << " class " << c;
  }
  // A label beyond all classes is reported by every block.
  std::vector<int64_t> bad = {1, 4};
  std::vector<double> sum(2), target(2);
  Tensor s = view(sum, {2}), t = view(target, {2});
  EXPECT_EQ(crossEntropyStats(view(blocks[0], {2, 2}), view(bad, {2}),
                              view(max, {2}), ClassBlock{0, 4}, s, t),
            1);
}

// Differences 1, 0, -2, 0: (1 + 4) / 4.
TEST(MseTest, MeanOfSquaredDifferences) {
  std::vector<float> pred = {1, 2, 3, 4}, target = {0, 2, 5, 4}, out = {-1};
  Tensor o = view(out, {});
  mse(view(pred, {2, 2}), view(target, {2, 2}), o);
  EXPECT_FLOAT_EQ(out[0], 1.25f);
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

// p = 1, lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.01. Step 1, g = 0.5:
// p = 0.999; m = 0.05; v = 0.00025; m^ = 0.5, v^ = 0.25;
// p = 0.999 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.899000002.
// Step 2, g = -1: m = -0.055, v = 0.00124975, p = 0.9347113542385653.
TEST(AdamWTest, TwoStepsAsTorch) {
  AdamWOptions options{0.1, 0.9, 0.999, 1e-8, 0.01};
  std::vector<double> p = {1}, m = {0}, v = {0}, g = {0.5}, t = {1};
  Tensor pt = view(p, {1}), mt = view(m, {1}), vt = view(v, {1});
  // The outputs alias the inputs, as the runtime may run them.
  adamw(pt, view(g, {1}), mt, vt, view(t, {}), pt, mt, vt, options);
  EXPECT_NEAR(p[0], 0.899000002, 1e-12);
  EXPECT_NEAR(m[0], 0.05, 1e-15);
  EXPECT_NEAR(v[0], 0.00025, 1e-15);
  g[0] = -1;
  t[0] = 2;
  adamw(pt, view(g, {1}), mt, vt, view(t, {}), pt, mt, vt, options);
  EXPECT_NEAR(p[0], 0.9347113542385653, 1e-12);
  EXPECT_NEAR(m[0], -0.055, 1e-15);
  EXPECT_NEAR(v[0], 0.00124975, 1e-15);
}

// The step is read from an f32 scalar with an f32 parameter too.
TEST(AdamWTest, FloatFirstStepWithoutDecay) {
  AdamWOptions options{0.1, 0.9, 0.999, 1e-8, 0.0};
  std::vector<float> p = {1, -2}, m = {0, 0}, v = {0, 0}, g = {0.5, 2}, t = {1};
  std::vector<float> p1(2), m1(2), v1(2);
  Tensor pt = view(p1, {2}), mt = view(m1, {2}), vt = view(v1, {2});
  adamw(view(p, {2}), view(g, {2}), view(m, {2}), view(v, {2}), view(t, {}), pt,
        mt, vt, options);
  // First step: m^ = g, v^ = g^2, so p -= lr * sign(g) (up to eps).
  EXPECT_NEAR(p1[0], 0.9f, 1e-6);
  EXPECT_NEAR(p1[1], -2.1f, 1e-6);
  EXPECT_FLOAT_EQ(m1[1], 0.2f);
  EXPECT_FLOAT_EQ(v1[1], 0.004f);
}

// p = 1, lr 0.1, momentum 0.9, wd 0.1. Step 1, g = 0.5: g' = 0.6, buf = 0.6,
// p = 0.94. Step 2, g = 0.5: g' = 0.594, buf = 0.54 + 0.594 = 1.134,
// p = 0.8266.
TEST(SgdTest, MomentumAndWeightDecayAsTorch) {
  SgdOptions options{0.1, 0.9, 0.1};
  std::vector<double> p = {1}, buf = {0}, g = {0.5};
  Tensor pt = view(p, {1}), bt = view(buf, {1});
  sgd(pt, view(g, {1}), &bt, pt, &bt, options);
  EXPECT_NEAR(p[0], 0.94, 1e-15);
  EXPECT_NEAR(buf[0], 0.6, 1e-15);
  sgd(pt, view(g, {1}), &bt, pt, &bt, options);
  EXPECT_NEAR(p[0], 0.8266, 1e-15);
  EXPECT_NEAR(buf[0], 1.134, 1e-15);
}

// Plain SGD: p = 1 - 0.1 * 0.5.
TEST(SgdTest, WithoutMomentum) {
  SgdOptions options{0.1, 0.0, 0.0};
  std::vector<float> p = {1}, g = {0.5}, out(1);
  Tensor o = view(out, {1});
  sgd(view(p, {1}), view(g, {1}), nullptr, o, nullptr, options);
  EXPECT_FLOAT_EQ(out[0], 0.95f);
}

} // namespace
