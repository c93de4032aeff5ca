//===- StrategyProblemTest.cpp - The ILP against brute force --------------===//
//
// Random strategy problems (nodes with costs and memory, edges with class
// cost matrices, chains with skip edges as in residual networks, and a
// memory limit) solved by CBC and by enumerating every choice: the costs
// must agree, and CBC's choice must respect the limit.
//
//===----------------------------------------------------------------------===//

#include "distopt/Plan/StrategyProblem.h"

#include "gtest/gtest.h"

#include <optional>
#include <random>

using namespace distopt::plan;

namespace {

/// A memory limit between the smallest and the largest memory any choice
/// of `p` needs.
void limitMemoryOf(StrategyProblem &p) {
  double lo = 0, hi = 0;
  for (const auto &node : p.nodes) {
    lo += *std::min_element(node.memory.begin(), node.memory.end());
    hi += *std::max_element(node.memory.begin(), node.memory.end());
  }
  p.memoryLimit = lo + (hi - lo) * 0.3;
}

StrategyProblem randomProblem(std::mt19937 &rng, unsigned numNodes,
                              bool limitMemory) {
  std::uniform_int_distribution<unsigned> numStrategies(1, 4);
  std::uniform_real_distribution<double> cost(0.0, 10.0);
  StrategyProblem p;
  for (unsigned n = 0; n < numNodes; ++n) {
    StrategyProblem::Node node;
    unsigned k = numStrategies(rng);
    for (unsigned s = 0; s < k; ++s) {
      node.cost.push_back(cost(rng));
      node.memory.push_back(cost(rng));
    }
    p.nodes.push_back(node);
  }
  auto addEdge = [&](unsigned src, unsigned dst) {
    StrategyProblem::Edge e;
    e.src = src;
    e.dst = dst;
    // Classes: strategies grouped at random.
    std::uniform_int_distribution<unsigned> classes(1, 3);
    e.numSrcClasses = classes(rng);
    e.numDstClasses = classes(rng);
    for (size_t s = 0; s < p.nodes[src].cost.size(); ++s)
      e.srcClass.push_back(rng() % e.numSrcClasses);
    for (size_t t = 0; t < p.nodes[dst].cost.size(); ++t)
      e.dstClass.push_back(rng() % e.numDstClasses);
    for (unsigned i = 0; i < e.numSrcClasses * e.numDstClasses; ++i)
      e.cost.push_back(cost(rng));
    p.edges.push_back(e);
  };
  for (unsigned n = 1; n < numNodes; ++n) {
    addEdge(n - 1, n);
    if (n >= 3 && rng() % 2)
      addEdge(n - 3, n); // a residual connection
  }
  if (limitMemory)
    limitMemoryOf(p);
  return p;
}

TEST(StrategyProblemTest, MatchesBruteForceOnRandomProblems) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 60; ++trial) {
    StrategyProblem p = randomProblem(rng, 3 + trial % 6, trial % 2 == 1);
    StrategySolution expected = solveByEnumeration(p);
    ASSERT_FALSE(expected.choice.empty()) << "trial " << trial;
    llvm::Expected<StrategySolution> got = solveStrategyProblem(p);
    ASSERT_TRUE(static_cast<bool>(got))
        << "trial " << trial << ": " << llvm::toString(got.takeError());
    EXPECT_NEAR(got->cost, expected.cost, 1e-6) << "trial " << trial;
    EXPECT_LE(got->memory, p.memoryLimit + 1e-9) << "trial " << trial;
    EXPECT_NEAR(p.evaluateCost(got->choice), got->cost, 1e-9);
  }
}

/// Like randomProblem, but a tree with many leaves (weights hanging off a
/// chain of ops) and up to 6 strategies, some of them copies of others (as
/// symmetric shardings are).
StrategyProblem randomTreeProblem(std::mt19937 &rng, unsigned numOps,
                                  bool limitMemory) {
  StrategyProblem p = randomProblem(rng, numOps, /*limitMemory=*/false);
  std::uniform_real_distribution<double> cost(0.0, 10.0);
  for (unsigned n = 0; n < numOps; ++n) {
    if (rng() % 2)
      continue;
    StrategyProblem::Node leaf;
    unsigned k = 1 + rng() % 6;
    for (unsigned s = 0; s < k; ++s) {
      bool copy = s > 0 && rng() % 3 == 0;
      leaf.cost.push_back(copy ? leaf.cost[s - 1] : 0.0);
      leaf.memory.push_back(copy ? leaf.memory[s - 1] : cost(rng));
    }
    p.nodes.push_back(leaf);
    StrategyProblem::Edge e;
    e.src = p.nodes.size() - 1;
    e.dst = n;
    e.numSrcClasses = k;
    e.numDstClasses = 1 + rng() % 3;
    for (unsigned s = 0; s < k; ++s)
      e.srcClass.push_back(s);
    for (size_t t = 0; t < p.nodes[n].cost.size(); ++t)
      e.dstClass.push_back(rng() % e.numDstClasses);
    for (unsigned i = 0; i < e.numSrcClasses * e.numDstClasses; ++i)
      e.cost.push_back(rng() % 4 == 0 ? 0.0 : cost(rng));
    p.edges.push_back(e);
  }
  if (limitMemory)
    limitMemoryOf(p);
  return p;
}

// The reductions before the ILP (leaves merged into their neighbour,
// dominated strategies removed, an integral relaxation taken as is) keep
// the optimum.
TEST(StrategyProblemTest, ReductionsMatchBruteForceOnTrees) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 80; ++trial) {
    StrategyProblem p = randomTreeProblem(rng, 2 + trial % 5, trial % 2 == 1);
    StrategySolution expected = solveByEnumeration(p);
    ASSERT_FALSE(expected.choice.empty()) << "trial " << trial;
    llvm::Expected<StrategySolution> got = solveStrategyProblem(p);
    ASSERT_TRUE(static_cast<bool>(got))
        << "trial " << trial << ": " << llvm::toString(got.takeError());
    EXPECT_NEAR(got->cost, expected.cost, 1e-6) << "trial " << trial;
    EXPECT_LE(got->memory, p.memoryLimit + 1e-9) << "trial " << trial;
    ASSERT_EQ(got->choice.size(), p.nodes.size());
  }
}

TEST(StrategyProblemTest, DominatedStrategiesAreRemoved) {
  // Node 0: strategy 1 costs more and needs more memory than strategy 0
  // and its edge row is no cheaper: dominated. Strategy 2 is cheaper on
  // the edge: kept.
  StrategyProblem p;
  p.nodes.push_back({{1.0, 2.0, 1.5}, {1.0, 1.0, 1.0}});
  p.nodes.push_back({{1.0, 0.0}, {0.0, 0.0}});
  p.edges.push_back({0, 1, {0, 1, 2}, {0, 1}, 3, 2, {1, 2, 1, 2, 0, 3}});
  std::vector<llvm::SmallVector<unsigned>> kept;
  StrategyProblem q = removeDominatedStrategies(p, kept);
  EXPECT_EQ(kept[0], (llvm::SmallVector<unsigned>{0, 2}));
  EXPECT_EQ(q.edges[0].numSrcClasses, 2u);
  EXPECT_EQ(kept[1], (llvm::SmallVector<unsigned>{0, 1}));
  EXPECT_EQ(q.edges[0].cost, (std::vector<double>{1, 2, 0, 3}));
}

TEST(StrategyProblemTest, LeafEdgesNeedNoPairVariables) {
  // Two ops (3 strategies each, 3 classes on their edge) and a weight
  // leaf on each (3 strategies, 3 classes): the leaves merge into the ops,
  // then op 0, a leaf now, into op 1. Without the merging the program had
  // 12 x and 27 pair columns; now one node is left.
  StrategyProblem p;
  for (int i = 0; i < 4; ++i)
    p.nodes.push_back({{1.0, 2.0, 3.0}, {0.0, 0.0, 0.0}});
  std::vector<double> diag{0, 5, 5, 5, 0, 5, 5, 5, 0};
  p.edges.push_back({0, 1, {0, 1, 2}, {0, 1, 2}, 3, 3, diag});
  p.edges.push_back({2, 0, {0, 1, 2}, {0, 1, 2}, 3, 3, diag});
  p.edges.push_back({3, 1, {0, 1, 2}, {0, 1, 2}, 3, 3, diag});
  llvm::Expected<StrategySolution> got = solveStrategyProblem(p);
  ASSERT_TRUE(static_cast<bool>(got));
  // No memory limit and no edge left: the cheapest of the 3 dominates.
  EXPECT_EQ(got->variables, 1u);
  EXPECT_EQ(got->constraints, 1u);
  EXPECT_EQ(got->cost, 4.0);
  EXPECT_EQ(got->choice, (llvm::SmallVector<unsigned>{0, 0, 0, 0}));
}

TEST(StrategyProblemTest, SelfEdgesAndFixedNodesFold) {
  // A node tied to itself (a layer feeding the next copy of itself) and a
  // node with one strategy.
  StrategyProblem p;
  p.nodes.push_back({{1.0}, {0.0}});
  p.nodes.push_back({{5.0, 4.0}, {0.0, 0.0}});
  StrategyProblem::Edge fixed{0, 1, {0}, {0, 1}, 1, 2, {0.0, 3.0}};
  StrategyProblem::Edge self{1, 1, {0, 1}, {0, 1}, 2, 2, {0, 2, 2, 0}};
  p.edges = {fixed, self};
  // Strategy 0: 1 + 5 + 0 + 0 = 6; strategy 1: 1 + 4 + 3 + 0 = 8.
  llvm::Expected<StrategySolution> got = solveStrategyProblem(p);
  ASSERT_TRUE(static_cast<bool>(got));
  EXPECT_EQ(got->choice[1], 0u);
  EXPECT_DOUBLE_EQ(got->cost, 6.0);
}

TEST(StrategyProblemTest, ReportsWhenNothingFits) {
  StrategyProblem p;
  p.nodes.push_back({{1.0, 2.0}, {10.0, 20.0}});
  p.memoryLimit = 5.0;
  bool infeasible = false;
  llvm::Expected<StrategySolution> got = solveStrategyProblem(p, &infeasible);
  ASSERT_FALSE(static_cast<bool>(got));
  EXPECT_TRUE(infeasible);
  EXPECT_NE(llvm::toString(got.takeError()).find("memory"), std::string::npos);
  EXPECT_TRUE(solveByEnumeration(p).choice.empty());
}

} // namespace

// The two-step solve: the relaxation's bound is at most the optimum; with a
// cutoff at or above the optimum the optimum is found, and below it the
// solve says that every plan costs more (it is neither an error nor "no
// fit"), whether the relaxation or branch and bound decides it.
TEST(StrategyProblemTest, BoundAndCutoffMatchBruteForce) {
  std::mt19937 rng(4321);
  unsigned belowByBound = 0, belowBySearch = 0;
  for (int trial = 0; trial < 60; ++trial) {
    StrategyProblem p = randomProblem(rng, 4 + trial % 5, /*limitMemory=*/true);
    StrategySolution expected = solveByEnumeration(p);
    ASSERT_FALSE(expected.choice.empty()) << "trial " << trial;
    StrategySolver solver(p);
    EXPECT_LE(solver.getBound(), expected.cost + 1e-6) << "trial " << trial;
    if (solver.isRelaxationIntegral()) {
      EXPECT_NEAR(solver.getBound(), expected.cost, 1e-6) << "trial " << trial;
    }

    StrategySolver::Status status;
    llvm::Expected<StrategySolution> atOptimum =
        StrategySolver(p).solve(status, expected.cost + 1e-6);
    ASSERT_TRUE(static_cast<bool>(atOptimum))
        << "trial " << trial << ": " << llvm::toString(atOptimum.takeError());
    EXPECT_EQ(status, StrategySolver::Status::Solved);
    EXPECT_NEAR(atOptimum->cost, expected.cost, 1e-6) << "trial " << trial;

    double below = expected.cost - 1e-3;
    llvm::Expected<StrategySolution> under = solver.solve(status, below);
    ASSERT_FALSE(static_cast<bool>(under)) << "trial " << trial;
    llvm::consumeError(under.takeError());
    EXPECT_EQ(status, StrategySolver::Status::AboveCutoff) << "trial " << trial;
    if (solver.getBound() > below)
      ++belowByBound;
    else
      ++belowBySearch;
  }
  // Both ways of refusing a cutoff ran.
  EXPECT_GT(belowByBound, 0u);
  EXPECT_GT(belowBySearch, 0u);
}

TEST(StrategyProblemTest, NoFitIsNotAboveCutoff) {
  StrategyProblem p;
  p.nodes.push_back({{1.0, 2.0}, {5.0, 6.0}});
  p.memoryLimit = 4;
  StrategySolver solver(p);
  StrategySolver::Status status;
  llvm::Expected<StrategySolution> got = solver.solve(status, 0.5);
  ASSERT_FALSE(static_cast<bool>(got));
  llvm::consumeError(got.takeError());
  EXPECT_EQ(status, StrategySolver::Status::NoFit);
}

// Branch and bound stopped at its budget (here at the root) takes the best
// choice found: it fits, costs at least the optimum (from an unlimited
// solve, exact per the tests above), and its gap is to a bound no higher
// than the optimum. Problems too big to enumerate, so that some stop with
// a gap.
TEST(StrategyProblemTest, BudgetKeepsTheBestChoiceWithItsGap) {
  std::mt19937 rng(777);
  unsigned withGap = 0;
  for (int trial = 0; trial < 40 && withGap < 3; ++trial) {
    StrategyProblem p = randomProblem(rng, 40 + trial, /*limitMemory=*/true);
    StrategySolver::Status status;
    llvm::Expected<StrategySolution> exact = StrategySolver(p).solve(
        status, std::numeric_limits<double>::infinity(), /*maxNodes=*/1000000);
    ASSERT_TRUE(static_cast<bool>(exact))
        << "trial " << trial << ": " << llvm::toString(exact.takeError());
    ASSERT_EQ(exact->gap, 0.0);
    llvm::Expected<StrategySolution> got = StrategySolver(p).solve(
        status, std::numeric_limits<double>::infinity(), /*maxNodes=*/0);
    if (!got) {
      // No choice found within the budget is a clear failure, not a plan.
      EXPECT_EQ(status, StrategySolver::Status::Failed);
      llvm::consumeError(got.takeError());
      continue;
    }
    EXPECT_EQ(status, StrategySolver::Status::Solved);
    EXPECT_LE(got->memory, p.memoryLimit + 1e-9) << "trial " << trial;
    EXPECT_GE(got->cost, exact->cost - 1e-6) << "trial " << trial;
    EXPECT_GE(got->gap, 0.0);
    EXPECT_LE(got->cost * (1 - got->gap), exact->cost + 1e-6)
        << "trial " << trial;
    if (got->gap == 0) {
      EXPECT_NEAR(got->cost, exact->cost, 1e-6) << "trial " << trial;
    } else {
      ++withGap;
    }
  }
  EXPECT_GT(withGap, 0u);
}

// Where the memory limit alone makes the relaxation fractional, its optimum
// mixes two choices: one that fits and one that needs more memory. The mix
// of the two that meets the limit exactly costs what the relaxation's bound
// says, each is a whole choice of the problem, and the one that fits costs
// no less than the optimum (brute force).
TEST(StrategyProblemTest, RelaxationVerticesStraddleTheMemoryLimit) {
  std::mt19937 rng(2718);
  unsigned found = 0;
  for (int trial = 0; trial < 200; ++trial) {
    StrategyProblem p = randomProblem(rng, 3 + trial % 6, /*limitMemory=*/true);
    StrategySolver solver(p);
    std::optional<StrategySolver::Vertices> vertices =
        solver.getRelaxationVertices();
    if (solver.isRelaxationIntegral()) {
      EXPECT_FALSE(vertices) << "trial " << trial;
      continue;
    }
    if (!vertices)
      continue;
    ++found;
    const StrategySolution &fit = vertices->fitting,
                           &over = vertices->exceeding;
    ASSERT_EQ(fit.choice.size(), p.nodes.size());
    ASSERT_EQ(over.choice.size(), p.nodes.size());
    EXPECT_DOUBLE_EQ(fit.memory, p.evaluateMemory(fit.choice));
    EXPECT_DOUBLE_EQ(over.cost, p.evaluateCost(over.choice));
    EXPECT_LE(fit.memory, p.memoryLimit) << "trial " << trial;
    EXPECT_GT(over.memory, p.memoryLimit) << "trial " << trial;
    double share = (over.memory - p.memoryLimit) / (over.memory - fit.memory);
    double mix = share * fit.cost + (1 - share) * over.cost;
    EXPECT_NEAR(mix, solver.getBound(), 1e-6 * (1 + solver.getBound()))
        << "trial " << trial;
    StrategySolution optimum = solveByEnumeration(p);
    EXPECT_GE(fit.cost, optimum.cost - 1e-9) << "trial " << trial;
    EXPECT_LE(over.cost, optimum.cost + 1e-9) << "trial " << trial;
  }
  // The random problems do reach the case.
  EXPECT_GT(found, 10u);
}
