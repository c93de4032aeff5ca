//===- MicroBatchSearchTest.cpp - unit tests of the micro-batch search ----===//
//
// lib/Plan/MicroBatchSearch.cpp: the sizes tried, and the choice among the
// plans of a model given at each size (here a one-op model written at each
// batch). test/Plan/microbatch-search.test plans ONNX models imported again
// at each size.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/ClusterSpec.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Plan/Planner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

using namespace distopt;
using namespace distopt::plan;

namespace {

TEST(MicroBatchSearchTest, SizesAroundTheModelsBatchThatDivideTheStep) {
  using Sizes = llvm::SmallVector<int64_t>;
  EXPECT_EQ(getMicroBatchSizes(1, 16), (Sizes{1, 2, 4}));
  EXPECT_EQ(getMicroBatchSizes(4, 32), (Sizes{1, 2, 4, 8, 16}));
  // 24 does not divide the step of 36.
  EXPECT_EQ(getMicroBatchSizes(6, 36), (Sizes{3, 6, 12}));
  EXPECT_EQ(getMicroBatchSizes(2, 2), (Sizes{1, 2}));
  // The model's batch does not divide the step: not a size either.
  EXPECT_EQ(getMicroBatchSizes(3, 8), (Sizes{}));
  EXPECT_EQ(getMicroBatchSizes(0, 8), (Sizes{}));
}

/// A one-matmul model whose batch dimension is `batch`.
std::string getModelText(int64_t batch) {
  return llvm::formatv(
             R"(func.func @f(%x: tensor<{0}x256xf32>) -> tensor<{0}x256xf32> {{
  %w = dist.weight "w" : tensor<256x256xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 262144>
  %y = dist.matmul %x, %w : (tensor<{0}x256xf32>, tensor<256x256xf32>) -> tensor<{0}x256xf32>
  return %y : tensor<{0}x256xf32>
})",
             batch)
      .str();
}

struct MicroBatchSearchFixture : public ::testing::Test {
  void SetUp() override {
    context.getOrLoadDialect<dist::DistDialect>();
    context.getOrLoadDialect<mlir::func::FuncDialect>();
    context.getOrLoadDialect<mlir::shard::ShardDialect>();
  }
  mlir::OwningOpRef<mlir::ModuleOp> parse(int64_t batch) {
    return mlir::parseSourceString<mlir::ModuleOp>(getModelText(batch),
                                                   &context);
  }
  cost::PlanOptions trainingOptions(std::optional<int64_t> globalBatch) {
    auto options = cost::makePlanOptions("", "train", globalBatch);
    EXPECT_TRUE(bool(options));
    return *options;
  }
  mlir::MLIRContext context;
};

// Every size is tried; a size whose search found no plan faster than the
// best step of the sizes before it says so, and planned alone it is indeed
// not faster (the pruning lost nothing).
TEST_F(MicroBatchSearchFixture, EverySizeIsTriedAndTheFastestWins) {
  auto cluster = cost::getClusterSpec("cpu", 2);
  ASSERT_TRUE(bool(cluster));
  mlir::OwningOpRef<mlir::ModuleOp> model = parse(2);
  ASSERT_TRUE(model);
  llvm::SmallVector<int64_t> asked;
  ModelAtMicroBatch modelAt = [&](int64_t size)
      -> llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> {
    asked.push_back(size);
    if (size == 8)
      return llvm::createStringError("no such batch");
    return parse(size);
  };
  mlir::OwningOpRef<mlir::ModuleOp> planned;
  llvm::Expected<Plan> plan = planMicroBatchSizes(
      *model, *cluster, trainingOptions(16), modelAt, planned);
  ASSERT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  // The model's own size is planned on `model`; the others are asked for.
  EXPECT_EQ(asked, (llvm::SmallVector<int64_t>{1, 4, 8}));
  ASSERT_EQ(plan->microBatchTrials.size(), 4u);
  const MicroBatchTrial *chosen = nullptr;
  double fastest = std::numeric_limits<double>::infinity();
  const int64_t sizes[] = {1, 2, 4, 8};
  for (auto [trial, size] : llvm::zip_equal(plan->microBatchTrials, sizes)) {
    EXPECT_EQ(trial.size, size);
    if (size == 8) {
      EXPECT_FALSE(trial.priced);
      EXPECT_EQ(trial.reason,
                "the model cannot be used at this batch: no such batch");
      continue;
    }
    // The size planned alone: its fastest plan.
    mlir::OwningOpRef<mlir::ModuleOp> alone = parse(size);
    llvm::Expected<Plan> own =
        planModule(*alone, *cluster, trainingOptions(16));
    ASSERT_TRUE(bool(own)) << llvm::toString(own.takeError());
    if (!trial.priced) {
      EXPECT_TRUE(
          llvm::StringRef(trial.reason).starts_with("no plan is faster than "))
          << trial.reason;
      EXPECT_GE(own->step.stepSeconds, plan->step.stepSeconds) << size;
      continue;
    }
    EXPECT_TRUE(trial.fits);
    // A plan of that size; its fastest unless slower than the best anyway.
    EXPECT_GE(trial.stepSeconds, own->step.stepSeconds);
    if (trial.stepSeconds != own->step.stepSeconds)
      EXPECT_GE(own->step.stepSeconds, plan->step.stepSeconds) << size;
    if (trial.stepSeconds < fastest) {
      fastest = trial.stepSeconds;
      chosen = &trial;
    }
  }
  ASSERT_TRUE(chosen);
  EXPECT_EQ(plan->step.plan.microBatch, chosen->size);
  EXPECT_EQ(plan->step.stepSeconds, fastest);
  // A plan of another size refers to the ops of the module planned.
  EXPECT_EQ(bool(planned), chosen->size != 2);
  mlir::ModuleOp owner = planned ? *planned : *model;
  for (auto &[op, axes] : plan->choices)
    EXPECT_EQ(op->getParentOfType<mlir::ModuleOp>(), owner);
}

TEST_F(MicroBatchSearchFixture, FixedOrInferenceIsOneSize) {
  auto cluster = cost::getClusterSpec("cpu", 2);
  ASSERT_TRUE(bool(cluster));
  mlir::OwningOpRef<mlir::ModuleOp> model = parse(2);
  ASSERT_TRUE(model);
  unsigned calls = 0;
  ModelAtMicroBatch modelAt = [&](int64_t size)
      -> llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> {
    ++calls;
    return parse(size);
  };
  mlir::OwningOpRef<mlir::ModuleOp> planned;
  auto fixed = cost::makePlanOptions("microbatch=2", "train", 16);
  ASSERT_TRUE(bool(fixed));
  llvm::Expected<Plan> plan =
      planMicroBatchSizes(*model, *cluster, *fixed, modelAt, planned);
  ASSERT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  EXPECT_TRUE(plan->microBatchTrials.empty());
  auto inference = cost::makePlanOptions("", "infer", std::nullopt);
  ASSERT_TRUE(bool(inference));
  plan = planMicroBatchSizes(*model, *cluster, *inference, modelAt, planned);
  ASSERT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  EXPECT_TRUE(plan->microBatchTrials.empty());
  // No global batch: the step is one micro-batch of the model's batch.
  plan = planMicroBatchSizes(*model, *cluster, trainingOptions(std::nullopt), modelAt,
                             planned);
  ASSERT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  EXPECT_TRUE(plan->microBatchTrials.empty());
  EXPECT_EQ(calls, 0u);
  EXPECT_FALSE(planned);
}

} // namespace
