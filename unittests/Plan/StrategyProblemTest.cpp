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

#include <random>

using namespace distopt::plan;

namespace {

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
  if (limitMemory) {
    // Between the smallest and the largest possible memory.
    double lo = 0, hi = 0;
    for (const auto &node : p.nodes) {
      lo += *std::min_element(node.memory.begin(), node.memory.end());
      hi += *std::max_element(node.memory.begin(), node.memory.end());
    }
    p.memoryLimit = lo + (hi - lo) * 0.3;
  }
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
