//===- StrategyProblem.h - Choose one strategy per node, exactly -*- C++ -*-===//
//
// The combinatorial core of the planner, free of MLIR: nodes (ops) each
// choose one of their strategies; a node's strategy has a cost and a memory
// footprint; an edge between two nodes costs what converting the producer's
// choice into the consumer's choice costs. Minimize the total cost subject
// to a memory limit. Solved exactly as an integer linear program with
// COIN-OR CBC; a brute-force enumerator exists for tests.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_PLAN_STRATEGYPROBLEM_H
#define DISTOPT_PLAN_STRATEGYPROBLEM_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace distopt::plan {

struct StrategyProblem {
  struct Node {
    /// Cost of each strategy (already multiplied by how often it counts).
    llvm::SmallVector<double> cost;
    /// Memory of each strategy on one device, in bytes.
    llvm::SmallVector<double> memory;
  };
  /// An edge: the cost depends on the class of the source's strategy (how
  /// it leaves the value) and the class of the destination's strategy (how
  /// it needs the value). Classes group strategies that agree on the value,
  /// which keeps the program small.
  struct Edge {
    unsigned src = 0, dst = 0;
    /// Class of each strategy of src (indexed by strategy), and of dst.
    llvm::SmallVector<unsigned> srcClass, dstClass;
    unsigned numSrcClasses = 0, numDstClasses = 0;
    /// Cost of each (src class, dst class) pair, row-major.
    std::vector<double> cost;
  };
  std::vector<Node> nodes;
  std::vector<Edge> edges;
  double memoryLimit = std::numeric_limits<double>::infinity();

  /// Objective and memory of one choice per node.
  double evaluateCost(llvm::ArrayRef<unsigned> choice) const;
  double evaluateMemory(llvm::ArrayRef<unsigned> choice) const;
};

struct StrategySolution {
  llvm::SmallVector<unsigned> choice;
  double cost = 0;
  double memory = 0;
  /// The size of the integer program solved (after dominated strategies
  /// were removed and one-sided edges folded): columns and rows.
  unsigned variables = 0, constraints = 0;
  /// Strategies removed as dominated before the program was built.
  unsigned dominated = 0;
  /// True when the linear relaxation was integral (no branch and bound).
  bool relaxationIntegral = false;
  /// 0 when the choice is proven optimal. When branch and bound stopped at
  /// its budget (kBranchAndBoundNodes) with a choice, the relative gap
  /// (cost - bound) / cost to the best bound it proved.
  double gap = 0;
};

/// The branch-and-bound nodes CBC may explore on one program. Small
/// programs never need as many (the brute-force tests solve exactly); on
/// the largest ones (GPT-3 175B exported in fp32, inference at batch 8)
/// CBC does not close the gap of a fractional relaxation in minutes, and
/// the best choice found is taken with its proven gap.
constexpr int kBranchAndBoundNodes = 200;

/// `p` without its dominated strategies: strategy s of a node is removed
/// when another strategy t of the node costs no more, needs no more memory,
/// and on every edge of the node costs no more against every strategy the
/// other end still has; of equal strategies the first is kept. Every
/// optimal choice of the result is optimal for `p`. `kept[n]` lists the
/// strategies of `p` that node n keeps, in order.
StrategyProblem
removeDominatedStrategies(const StrategyProblem &p,
                          std::vector<llvm::SmallVector<unsigned>> &kept);

/// The exact solve of a StrategyProblem in two steps, so that a search
/// over several problems can order them by their bounds and skip those that
/// cannot win. The constructor reduces the problem (leaves merged into
/// their neighbours, dominated strategies removed) and solves the linear
/// relaxation of its integer program (Clp); solve() runs branch and bound
/// (CBC) only where that relaxation is fractional.
class StrategySolver {
public:
  explicit StrategySolver(const StrategyProblem &p);
  ~StrategySolver();
  StrategySolver(StrategySolver &&) noexcept;
  StrategySolver &operator=(StrategySolver &&) noexcept;

  /// The relaxation's optimum: no choice that fits costs less. Infinity
  /// when no choice fits.
  double getBound() const;
  /// Whether the relaxation's optimum is integral (and so the solution).
  bool isRelaxationIntegral() const;

  /// Where the relaxation's optimum is fractional only because of the
  /// memory limit, it mixes two choices: `fitting`, which needs no more
  /// than the limit, and `exceeding`, which needs more and costs less (the
  /// optima without the limit, memory priced at the limit's shadow price
  /// a little above and a little below). A plan that may take different
  /// choices for copies of the same layers can mix them as the relaxation
  /// does. Empty where the relaxation is integral or infeasible, or its
  /// optimum is not such a mix.
  struct Vertices {
    StrategySolution fitting, exceeding;
  };
  std::optional<Vertices> getRelaxationVertices();

  /// How solve() ended.
  enum class Status { Solved, NoFit, AboveCutoff, Failed };
  /// The optimal choice under the memory limit that costs at most
  /// `cutoff`. Without a solution, `status` says why: no choice fits, every
  /// one that fits costs more than `cutoff`, or the solver gave up (the
  /// error's message).
  /// Branch and bound explores at most `maxNodes` nodes; then the best
  /// choice found is the solution, with its gap.
  llvm::Expected<StrategySolution>
  solve(Status &status, double cutoff = std::numeric_limits<double>::infinity(),
        int maxNodes = kBranchAndBoundNodes);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// The optimal choice under the memory limit (StrategySolver, no cutoff).
/// Fails with a message when no choice fits (`infeasible` is set then) or
/// the solver gives up.
llvm::Expected<StrategySolution> solveStrategyProblem(const StrategyProblem &p,
                                                      bool *infeasible = nullptr);

/// The same by enumerating every choice; for tests on small problems.
/// Returns an empty choice when nothing fits.
StrategySolution solveByEnumeration(const StrategyProblem &p);

} // namespace distopt::plan

#endif // DISTOPT_PLAN_STRATEGYPROBLEM_H
