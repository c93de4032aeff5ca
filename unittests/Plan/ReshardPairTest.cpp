//===- ReshardPairTest.cpp - priced reshardings are the emitted ones -----===//
//
// Walks every pair of distributed states of a rank-2 value on a 2x2 and a
// 2x2x2 grid: sources split on any dims in any axis order, replicated, or
// partial (sum, max, mean) over any axes; targets split or replicated. For
// each pair, a producer (dist.reduce, whose reduced factor's axes make the
// partial state) and a consumer (dist.unary) are annotated with the two
// states and partitioned by dist-partition. The collectives emitted between
// them must be the ones the planner prices (kind, grid axes, bytes), and the
// local slices the ones planReshard lists.
//
//===----------------------------------------------------------------------===//

#include "../../lib/Plan/PlanGrid.h"

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/Reshard.h"
#include "distopt/Passes/Passes.h"
#include "distopt/Plan/Planner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

namespace {

constexpr int64_t kDim = 8;

/// A collective or slice: kind, grid axes and bytes (of the larger of its
/// local input and output; of the kept piece for a slice).
struct Movement {
  std::string kind;
  GridAxes axes;
  double bytes;

  bool operator==(const Movement &o) const {
    return kind == o.kind && axes == o.axes && bytes == o.bytes;
  }
};

std::ostream &operator<<(std::ostream &os, const Movement &m) {
  os << m.kind << " over {";
  for (int16_t a : m.axes)
    os << a << ",";
  return os << "} " << m.bytes << " B";
}

/// Every way to place `numAxes` grid axes on the two dims of a value (in
/// every order), and, with `partial`, over its partial results.
std::vector<DistState> enumerateStates(int numAxes, bool partial) {
  std::vector<DistState> states;
  int places = partial ? 4 : 3; // none, dim 0, dim 1, partial
  int total = 1;
  for (int i = 0; i < numAxes; ++i)
    total *= places;
  for (int code = 0; code < total; ++code) {
    SmallVector<GridAxes, 3> lists(3);
    int c = code;
    for (int16_t a = 0; a < numAxes; ++a, c /= places)
      if (c % places)
        lists[c % places - 1].push_back(a);
    // Every order of each list.
    std::function<void(int, DistState)> permute = [&](int l, DistState s) {
      if (l == 3) {
        states.push_back(s);
        return;
      }
      GridAxes axes = lists[l];
      std::sort(axes.begin(), axes.end());
      do {
        DistState next = s;
        (l < 2 ? next.dims[l] : next.partial) = axes;
        permute(l + 1, next);
      } while (std::next_permutation(axes.begin(), axes.end()));
    };
    permute(0, DistState::whole(2));
  }
  return states;
}

class ReshardPairTest : public ::testing::Test {
protected:
  ReshardPairTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// The movements dist-partition emits between the producer in `from`
  /// (made with a reduction of `kind`) and the consumer in `to`.
  std::vector<Movement> emitted(ArrayRef<int64_t> gridShape,
                                const DistState &from, const DistState &to,
                                StringRef kind) {
    std::string text = llvm::formatv(R"mlir(
func.func @pair(%x: tensor<{0}x{0}x{0}xf32>) -> tensor<{0}x{0}xf32> {{
  %0 = dist.reduce {1} %x {{axes = array<i64: 2>} : (tensor<{0}x{0}x{0}xf32>) -> tensor<{0}x{0}xf32>
  %1 = dist.unary neg %0 : tensor<{0}x{0}xf32>
  return %1 : tensor<{0}x{0}xf32>
}
)mlir",
                                     kDim, kind)
                           .str();
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
    EXPECT_TRUE(module);
    auto func = *module->getOps<func::FuncOp>().begin();
    Operation *producer = &func.getBody().front().front();
    Operation *consumer = producer->getNextNode();
    plan::Plan plan;
    plan.gridShape.assign(gridShape.begin(), gridShape.end());
    plan.choices.push_back(
        {producer, plan::FactorAxes{from.dims[0], from.dims[1], from.partial}});
    plan.choices.push_back(
        {consumer, plan::FactorAxes{to.dims[0], to.dims[1]}});
    plan::annotateModule(*module, plan);
    PassManager pm(&ctx, ModuleOp::getOperationName());
    pm.addPass(createPartitionPass());
    EXPECT_TRUE(succeeded(pm.run(*module)));
    EXPECT_TRUE(succeeded(verify(*module)));

    std::vector<Movement> out;
    auto elements = [](Value v) {
      return double(cast<RankedTensorType>(v.getType()).getNumElements());
    };
    for (Operation *op = producer->getNextNode(); op != consumer;
         op = op->getNextNode()) {
      auto add = [&](StringRef name, ArrayRef<int16_t> axes, double elems) {
        out.push_back(
            {name.str(), GridAxes(axes.begin(), axes.end()), elems * 4});
      };
      double in = op->getNumOperands() ? elements(op->getOperand(0)) : 0;
      double res = op->getNumResults() ? elements(op->getResult(0)) : 0;
      llvm::TypeSwitch<Operation *>(op)
          .Case([&](shard::AllReduceOp o) {
            add("all-reduce", o.getGridAxes(), std::max(in, res));
          })
          .Case([&](shard::ReduceScatterOp o) {
            add("reduce-scatter", o.getGridAxes(), std::max(in, res));
          })
          .Case([&](shard::AllGatherOp o) {
            add("all-gather", o.getGridAxes(), std::max(in, res));
          })
          .Case([&](shard::AllToAllOp o) {
            add("all-to-all", o.getGridAxes(), std::max(in, res));
          })
          .Case(
              [&](shard::AllSliceOp o) { add("slice", o.getGridAxes(), res); });
    }
    return out;
  }

  /// The movements the planner prices for the same pair, and the slices
  /// planReshard lists.
  std::vector<Movement> priced(ArrayRef<int64_t> gridShape,
                               const DistState &from, const DistState &to) {
    plan::CandidateGrid candidate;
    for (auto [a, size] : llvm::enumerate(gridShape))
      candidate.axes.push_back(
          {("a" + llvm::Twine(a)).str(), size, plan::AxisRole::Tensor});
    auto cluster = cost::getClusterSpec("cpu", 8);
    EXPECT_TRUE(bool(cluster));
    plan::GridContext grid(*cluster, candidate, /*training=*/false);
    auto type = RankedTensorType::get({kDim, kDim}, Float32Type::get(&ctx));
    double sliceSeconds = 0;
    std::vector<Movement> out;
    SmallVector<plan::CommStep> steps =
        grid.reshard(from, to, type, &sliceSeconds);
    // Interleave the planner's collectives with planReshard's slices, in
    // planReshard's order.
    auto step = steps.begin();
    for (const ReshardStep &s : planReshard(from, to)) {
      if (!s.isCollective()) {
        out.push_back(
            {"slice", s.axes, s.getElements(type.getShape(), gridShape) * 4});
        continue;
      }
      EXPECT_NE(step, steps.end());
      out.push_back({cost::stringifyCollectiveKind(step->kind).str(),
                     step->axes, step->bytes});
      ++step;
    }
    EXPECT_EQ(step, steps.end());
    EXPECT_EQ(sliceSeconds > 0,
              llvm::any_of(out, [](auto &m) { return m.kind == "slice"; }));
    return out;
  }

  /// Checks every pair on a grid of `gridShape`; returns the pair count.
  int checkAllPairs(ArrayRef<int64_t> gridShape) {
    int numAxes = gridShape.size();
    std::vector<DistState> sources = enumerateStates(numAxes, true);
    std::vector<DistState> targets = enumerateStates(numAxes, false);
    int pairs = 0;
    for (const DistState &from : sources) {
      SmallVector<StringRef> kinds{"sum"};
      if (from.isPartial())
        kinds = {"sum", "max", "mean"};
      for (StringRef kind : kinds) {
        DistState source = from;
        source.partialKind =
            getPartialKind(kind == "max" ? ReduceKind::Max
                                         : (kind == "mean" ? ReduceKind::Mean
                                                           : ReduceKind::Sum));
        for (const DistState &to : targets) {
          std::vector<Movement> want = priced(gridShape, source, to);
          std::vector<Movement> got = emitted(gridShape, source, to, kind);
          EXPECT_EQ(want, got) << "from " << source.key() << " (" << kind.str()
                               << ") to " << to.key();
          if (HasFailure())
            return pairs;
          ++pairs;
        }
      }
    }
    return pairs;
  }

  MLIRContext ctx;
};

TEST_F(ReshardPairTest, EveryPairOn2x2) {
  int pairs = checkAllPairs({2, 2});
  // 2 axes: 19 sources (8 of them partial, each of 3 kinds: 35 cases) times
  // 11 targets.
  EXPECT_EQ(pairs, 35 * 11);
}

TEST_F(ReshardPairTest, EveryPairOn2x2x2) {
  int pairs = checkAllPairs({2, 2, 2});
  // 3 axes: 106 sources (57 partial: 220 cases) times 49 targets.
  EXPECT_EQ(pairs, 220 * 49);
}

/// The model itself, on cases worked out by hand.
TEST(PlanReshard, HandWorkedCases) {
  // Partial sums over axis 1 into dim 0 split over [0, 1]: one
  // reduce-scatter onto dim 0.
  DistState from = DistState::whole(2);
  from.dims[0] = {0};
  from.partial = {1};
  DistState to = DistState::whole(2);
  to.dims[0] = {0, 1};
  std::vector<ReshardStep> steps = planReshard(from, to);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, ReshardStepKind::ReduceScatter);
  EXPECT_EQ(steps[0].dim, 0);
  EXPECT_EQ(steps[0].getElements({8, 8}, {2, 2}), 32);

  // The same partial maxima: all-reduce, then a local slice.
  from.partialKind = ReduceKind::Max;
  steps = planReshard(from, to);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].kind, ReshardStepKind::AllReduce);
  EXPECT_EQ(steps[1].kind, ReshardStepKind::Slice);
  EXPECT_EQ(steps[1].getElements({8, 8}, {2, 2}), 16);

  // Dim 0 split over 0 moves to dim 1: one all-to-all.
  from = DistState::whole(2);
  from.dims[0] = {0};
  to = DistState::whole(2);
  to.dims[1] = {0};
  steps = planReshard(from, to);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, ReshardStepKind::AllToAll);
  EXPECT_EQ(steps[0].toDim, 1);

  // Split over [0, 1] to [1, 0] on the same dim: gather both, slice both.
  from = DistState::whole(2);
  from.dims[0] = {0, 1};
  to = DistState::whole(2);
  to.dims[0] = {1, 0};
  steps = planReshard(from, to);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].kind, ReshardStepKind::AllGather);
  EXPECT_EQ(steps[0].getElements({8, 8}, {2, 2}), 64);
  EXPECT_EQ(steps[1].kind, ReshardStepKind::Slice);

  // Equal states: nothing.
  EXPECT_TRUE(planReshard(to, to).empty());
}

/// Ranks of a group: row-major grid, axis 0 major.
TEST(PlanReshard, GroupRanks) {
  EXPECT_EQ(getGroupRanks({1}, {2, 4}), (SmallVector<unsigned>{0, 1, 2, 3}));
  EXPECT_EQ(getGroupRanks({0}, {2, 4}), (SmallVector<unsigned>{0, 4}));
  EXPECT_EQ(getGroupRanks({0, 2}, {2, 2, 2}),
            (SmallVector<unsigned>{0, 1, 4, 5}));
  EXPECT_EQ(getGroupRanks({2, 0}, {2, 2, 2}),
            (SmallVector<unsigned>{0, 4, 1, 5}));
}

} // namespace
