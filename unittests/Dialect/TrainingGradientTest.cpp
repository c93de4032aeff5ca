//===- TrainingGradientTest.cpp - gradient rules of the loss ops ----------===//
//
// Builds dist.cross_entropy and dist.mse in memory, asks their
// GradientOpInterface for the operands' gradients, and checks the ops the
// rules build: the scale that divides by the whole batch's position count,
// and 2 (pred - target) / N for the mean squared error.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
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

class TrainingGradientTest : public ::testing::Test {
protected:
  TrainingGradientTest() : ctx(makeRegistry()), builder(&ctx) {
    ctx.loadAllAvailableDialects();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    registerAllDialects(registry);
    return registry;
  }

  /// A function with arguments of `types`, the builder inside it.
  func::FuncOp function(ArrayRef<Type> types) {
    auto fn = func::FuncOp::create(builder, builder.getUnknownLoc(), "f",
                                   builder.getFunctionType(types, {}));
    builder.setInsertionPointToStart(fn.addEntryBlock());
    return fn;
  }

  /// The value of a rank-0 float dist.constant.
  static double scalarOf(Value v) {
    auto c = v.getDefiningOp<ConstantOp>();
    EXPECT_TRUE(c) << "expected a dist.constant";
    if (!c)
      return 0;
    return cast<DenseElementsAttr>(c.getValue())
        .getSplatValue<APFloat>()
        .convertToDouble();
  }

  MLIRContext ctx;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};

// logits 2x3x5, labels 2x3: the gradient is cross_entropy_grad with scale
// dloss / 6 (the positions of the whole batch).
TEST_F(TrainingGradientTest, CrossEntropyScaleDividesByPositions) {
  auto logitsType = RankedTensorType::get({2, 3, 5}, builder.getF32Type());
  auto labelsType = RankedTensorType::get({2, 3}, builder.getI64Type());
  auto scalar = RankedTensorType::get({}, builder.getF32Type());
  func::FuncOp fn = function({logitsType, labelsType, scalar});
  Location loc = builder.getUnknownLoc();
  auto ce = CrossEntropyOp::create(builder, loc, fn.getArgument(0),
                                   fn.getArgument(1));
  SmallVector<Value> grads;
  auto iface = cast<GradientOpInterface>(ce.getOperation());
  ASSERT_TRUE(
      succeeded(iface.buildGradients(builder, {fn.getArgument(2)}, grads)));
  ASSERT_EQ(grads.size(), 2u);
  EXPECT_FALSE(grads[1]) << "integer labels get no gradient";
  auto g = grads[0].getDefiningOp<CrossEntropyGradOp>();
  ASSERT_TRUE(g);
  EXPECT_EQ(g.getType(), logitsType);
  EXPECT_EQ(g.getLogits(), fn.getArgument(0));
  auto div = g.getScale().getDefiningOp<BinaryOp>();
  ASSERT_TRUE(div);
  EXPECT_EQ(div.getKind(), BinaryKind::Div);
  EXPECT_EQ(div.getLhs(), fn.getArgument(2));
  EXPECT_DOUBLE_EQ(scalarOf(div.getRhs()), 6.0);
  func::ReturnOp::create(builder, loc);
  EXPECT_TRUE(succeeded(verify(*module)));
}

// pred, target 4x2: d pred = (pred - target) * (dloss * 2 / 8), d target its
// negation.
TEST_F(TrainingGradientTest, MseIsTwiceTheDifferenceOverN) {
  auto type = RankedTensorType::get({4, 2}, builder.getF64Type());
  auto scalar = RankedTensorType::get({}, builder.getF64Type());
  func::FuncOp fn = function({type, type, scalar});
  Location loc = builder.getUnknownLoc();
  auto mse = MseOp::create(builder, loc, fn.getArgument(0), fn.getArgument(1));
  SmallVector<Value> grads;
  auto iface = cast<GradientOpInterface>(mse.getOperation());
  ASSERT_TRUE(
      succeeded(iface.buildGradients(builder, {fn.getArgument(2)}, grads)));
  ASSERT_EQ(grads.size(), 2u);
  auto mul = grads[0].getDefiningOp<BinaryOp>();
  ASSERT_TRUE(mul);
  EXPECT_EQ(mul.getKind(), BinaryKind::Mul);
  EXPECT_EQ(mul.getType(), type);
  auto diff = mul.getLhs().getDefiningOp<BinaryOp>();
  ASSERT_TRUE(diff);
  EXPECT_EQ(diff.getKind(), BinaryKind::Sub);
  EXPECT_EQ(diff.getLhs(), fn.getArgument(0));
  EXPECT_EQ(diff.getRhs(), fn.getArgument(1));
  auto coef = mul.getRhs().getDefiningOp<BinaryOp>();
  ASSERT_TRUE(coef);
  EXPECT_EQ(coef.getLhs(), fn.getArgument(2));
  EXPECT_DOUBLE_EQ(scalarOf(coef.getRhs()), 2.0 / 8);
  auto neg = grads[1].getDefiningOp<UnaryOp>();
  ASSERT_TRUE(neg);
  EXPECT_EQ(neg.getKind(), UnaryKind::Neg);
  EXPECT_EQ(neg.getInput(), grads[0]);
  func::ReturnOp::create(builder, loc);
  EXPECT_TRUE(succeeded(verify(*module)));
}

} // namespace
