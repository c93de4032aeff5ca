//===- ShardingRuleTest.cpp - unit tests of dist sharding rules -----------===//
//
// Builds dist ops in memory and checks their sharding rules factor by factor,
// the helpers that rules are made of, and the reader and writer of
// `dist.factor_axes`.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/ShardingRule.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/FactorAxes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

namespace {

class ShardingRuleTest : public ::testing::Test {
protected:
  ShardingRuleTest() : ctx(makeRegistry()), builder(&ctx) {
    ctx.loadAllAvailableDialects();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    registerAllDialects(registry);
    return registry;
  }

  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }

  /// A weight of the given shape, so that ops have operands to use.
  Value weight(ArrayRef<int64_t> shape) {
    RankedTensorType type = f32(shape);
    auto data = DataLocationAttr::get(&ctx, DataStorage::External, "w.bin", 0,
                                      type.getNumElements() * 4);
    return WeightOp::create(builder, builder.getUnknownLoc(), type, "w", data,
                            nullptr, nullptr, nullptr);
  }

  /// A handler that stores the last diagnostic's message in `message`.
  ScopedDiagnosticHandler captureDiagnostics(std::string &message) {
    return ScopedDiagnosticHandler(&ctx, [&message](Diagnostic &diag) {
      message = diag.str();
      return success();
    });
  }

  static std::string str(const ShardingRule &rule) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << rule;
    return s;
  }

  MLIRContext ctx;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};

TEST_F(ShardingRuleTest, MatMulContractsK) {
  Location loc = builder.getUnknownLoc();
  auto mm = MatMulOp::create(builder, loc, weight({8, 16}), weight({16, 32}));
  ASSERT_TRUE(succeeded(verify(mm)));
  ShardingRule rule = mm.getShardingRule();
  ASSERT_TRUE(succeeded(rule.verify(mm)));
  // m and n parallel, k reduced with a sum.
  EXPECT_EQ(str(rule), "factors [m=8 parallel, n=32 parallel, "
                       "k=16 reduction(sum)] operands ([m, k], [k, n]) "
                       "results ([m, n])");
  EXPECT_EQ(rule.lookupFactor("k"), 2);
  EXPECT_EQ(rule.lookupFactor("d2"), std::nullopt);
}

TEST_F(ShardingRuleTest, BatchedMatMulBroadcastsBatch) {
  Location loc = builder.getUnknownLoc();
  auto mm =
      MatMulOp::create(builder, loc, weight({4, 1, 8, 16}), weight({3, 16, 2}));
  EXPECT_EQ(mm.getType().getShape(), ArrayRef<int64_t>({4, 3, 8, 2}));
  ShardingRule rule = mm.getShardingRule();
  ASSERT_TRUE(succeeded(rule.verify(mm)));
  // The lhs's size-1 batch dim broadcasts against 3 and has no factor; the
  // rhs has no leading batch dim at all.
  ASSERT_EQ(rule.operands[0].size(), 4u);
  EXPECT_TRUE(rule.operands[0][1].empty());
  EXPECT_EQ(rule.operands[1][0], rule.results[0][1]);
  EXPECT_EQ(rule.getFactorsOfKind(FactorKind::Reduction).size(), 1u);
}

TEST_F(ShardingRuleTest, GemmTransposedOperandsShareFactors) {
  Location loc = builder.getUnknownLoc();
  auto gemm = GemmOp::create(builder, loc, weight({16, 8}), weight({32, 16}),
                             weight({32}), /*trans_a=*/true, /*trans_b=*/true,
                             llvm::APFloat(1.0f), llvm::APFloat(1.0f));
  ASSERT_TRUE(succeeded(verify(gemm)));
  EXPECT_EQ(gemm.getType().getShape(), ArrayRef<int64_t>({8, 32}));
  ShardingRule rule = gemm.getShardingRule();
  ASSERT_TRUE(succeeded(rule.verify(gemm)));
  // a is k x m, b is n x k, the bias is indexed by n only.
  EXPECT_EQ(str(rule), "factors [m=8 parallel, n=32 parallel, "
                       "k=16 reduction(sum)] operands ([k, m], [n, k], "
                       "[n]) results ([m, n])");
}

TEST_F(ShardingRuleTest, SoftmaxAxisStaysWhole) {
  Location loc = builder.getUnknownLoc();
  Value x = weight({2, 4, 16});
  auto sm = SoftmaxOp::create(builder, loc, x.getType(), x, /*axis=*/2,
                              /*log=*/false);
  ShardingRule rule = sm.getShardingRule();
  ASSERT_TRUE(succeeded(rule.verify(sm)));
  EXPECT_EQ(rule.factors[2].kind, FactorKind::Whole);
  EXPECT_EQ(rule.getFactorsOfKind(FactorKind::Parallel).size(), 2u);
}

TEST_F(ShardingRuleTest, ReshapeSplitsADimIntoCompoundFactors) {
  Location loc = builder.getUnknownLoc();
  Value x = weight({2, 16, 768});
  auto rs = ReshapeOp::create(builder, loc, f32({2, 16, 12, 64}), x);
  ShardingRule rule = rs.getShardingRule();
  ASSERT_TRUE(succeeded(rule.verify(rs)));
  // Batch and sequence carry over; 768 is indexed by the heads factor (12,
  // major) and the head-size factor (64), both parallel.
  EXPECT_EQ(rule.operands[0][0], rule.results[0][0]);
  EXPECT_EQ(rule.operands[0][1], rule.results[0][1]);
  ASSERT_EQ(rule.operands[0][2].size(), 2u);
  EXPECT_EQ(rule.operands[0][2][0], rule.results[0][2].front());
  EXPECT_EQ(rule.operands[0][2][1], rule.results[0][3].front());
  EXPECT_EQ(rule.factors[rule.results[0][2].front()].size, 12);
  EXPECT_EQ(rule.factors[rule.results[0][2].front()].kind,
            FactorKind::Parallel);
  EXPECT_EQ(rule.factors[rule.results[0][3].front()].kind,
            FactorKind::Parallel);
}

TEST_F(ShardingRuleTest, ReshapeKeepsRegroupedDimsWhole) {
  Location loc = builder.getUnknownLoc();
  Value x = weight({6, 4});
  auto rs = ReshapeOp::create(builder, loc, f32({4, 6}), x);
  ShardingRule rule = rs.getShardingRule();
  ASSERT_TRUE(succeeded(rule.verify(rs)));
  // 6x4 -> 4x6 is neither a split nor a merge of one dim: all whole.
  EXPECT_TRUE(rule.getFactorsOfKind(FactorKind::Parallel).empty());
  EXPECT_EQ(rule.getFactorsOfKind(FactorKind::Whole).size(), 4u);
}

TEST_F(ShardingRuleTest, ReduceMeanCombinesWithMean) {
  Location loc = builder.getUnknownLoc();
  auto red = ReduceOp::create(builder, loc, ReduceKind::Mean, weight({4, 8}),
                              builder.getDenseI64ArrayAttr({1}),
                              /*keep_dims=*/true);
  EXPECT_EQ(red.getType().getShape(), ArrayRef<int64_t>({4, 1}));
  ShardingRule rule = red.getShardingRule();
  ASSERT_TRUE(succeeded(rule.verify(red)));
  ASSERT_EQ(rule.factors.size(), 2u);
  EXPECT_EQ(rule.factors[1].kind, FactorKind::Reduction);
  EXPECT_EQ(rule.factors[1].combiner, ReduceKind::Mean);
  // The kept size-1 dim has no factor.
  EXPECT_TRUE(rule.results[0][1].empty());
}

TEST_F(ShardingRuleTest, VerifyRejectsWrongFactorSizes) {
  Location loc = builder.getUnknownLoc();
  auto mm = MatMulOp::create(builder, loc, weight({8, 16}), weight({16, 32}));
  ShardingRule rule = mm.getShardingRule();
  rule.factors[2].size = 15;
  std::string message;
  ScopedDiagnosticHandler handler = captureDiagnostics(message);
  EXPECT_TRUE(failed(rule.verify(mm)));
  EXPECT_NE(message.find("multiply to 15, expected 16"), std::string::npos)
      << message;
}

TEST_F(ShardingRuleTest, VerifyRejectsDuplicateFactorNames) {
  Location loc = builder.getUnknownLoc();
  auto mm = MatMulOp::create(builder, loc, weight({8, 16}), weight({16, 32}));
  ShardingRule rule = mm.getShardingRule();
  ASSERT_TRUE(succeeded(rule.verify(mm)));
  rule.factors[2].name = "m";
  std::string message;
  ScopedDiagnosticHandler handler = captureDiagnostics(message);
  EXPECT_TRUE(failed(rule.verify(mm)));
  EXPECT_NE(message.find("names factors #0 and #2 both 'm'"), std::string::npos)
      << message;
}

TEST_F(ShardingRuleTest, FactorAxesRoundTripByName) {
  Location loc = builder.getUnknownLoc();
  auto mm = MatMulOp::create(builder, loc, weight({8, 16}), weight({16, 32}));
  ShardingRule rule = mm.getShardingRule();
  // Per factor in rule order (m, n, k): n over axis 0, k over axis 1.
  llvm::SmallVector<llvm::SmallVector<int16_t, 2>> axes = {{}, {0}, {1}};
  writeFactorAxes(mm, rule, axes);
  // Only split factors are listed, by name.
  std::string attr;
  llvm::raw_string_ostream os(attr);
  os << mm->getAttr("dist.factor_axes");
  EXPECT_EQ(attr, "{k = array<i16: 1>, n = array<i16: 0>}");
  FailureOr<llvm::SmallVector<llvm::SmallVector<int16_t>>> read =
      readFactorAxes(mm, rule, {2, 2});
  ASSERT_TRUE(succeeded(read));
  ASSERT_EQ(read->size(), 3u);
  EXPECT_TRUE((*read)[0].empty());
  EXPECT_EQ((*read)[1], llvm::SmallVector<int16_t>{0});
  EXPECT_EQ((*read)[2], llvm::SmallVector<int16_t>{1});
  // Writing no split removes the attribute.
  writeFactorAxes(mm, rule, {{}, {}, {}});
  EXPECT_FALSE(mm->hasAttr("dist.factor_axes"));
}

TEST_F(ShardingRuleTest, FactorAxesReaderChecksAgainstTheGrid) {
  Location loc = builder.getUnknownLoc();
  auto mm = MatMulOp::create(builder, loc, weight({8, 16}), weight({16, 32}));
  ShardingRule rule = mm.getShardingRule();
  writeFactorAxes(mm, rule, {{1}, {}, {}});
  std::string message;
  ScopedDiagnosticHandler handler = captureDiagnostics(message);
  // A one-axis grid has no axis 1; a 2x3 grid does, but 8 rows do not
  // split into 3.
  EXPECT_TRUE(failed(readFactorAxes(mm, rule, {2})));
  EXPECT_NE(message.find("factor 'm' names grid axis 1, but the grid has 1 "
                         "axes"),
            std::string::npos)
      << message;
  EXPECT_TRUE(failed(readFactorAxes(mm, rule, {2, 3})));
  EXPECT_NE(message.find("factor 'm' of size 8 is not divisible by 3"),
            std::string::npos)
      << message;
  EXPECT_TRUE(succeeded(readFactorAxes(mm, rule, {3, 2})));
}

TEST_F(ShardingRuleTest, BroadcastFactorsAlignTrailingDims) {
  TensorFactors result = {{0}, {1}, {2}};
  TensorFactors bias = broadcastFactors({1, 5}, {3, 4, 5}, result);
  ASSERT_EQ(bias.size(), 2u);
  EXPECT_TRUE(bias[0].empty());
  EXPECT_EQ(bias[1], DimFactors{2});
}

/// Every op that declares a sharding rule must reach upstream partitioning
/// through shard::ShardingInterface; a new op missing from the registration
/// list fails here.
TEST_F(ShardingRuleTest, EveryRuleOpImplementsUpstreamInterface) {
  int withRule = 0;
  for (RegisteredOperationName name : ctx.getRegisteredOperations()) {
    if (name.getDialectNamespace() != "dist")
      continue;
    if (!name.hasInterface<ShardingRuleOpInterface>())
      continue;
    ++withRule;
    EXPECT_TRUE(name.hasInterface<shard::ShardingInterface>())
        << name.getStringRef().str();
  }
  EXPECT_GE(withRule, 20);
}

} // namespace
