//===- StrategyProblem.cpp - Exact strategy choice with CBC ---------------===//
//
// The integer program: one binary x(n, s) per node and strategy with
// sum_s x(n, s) = 1; per edge one continuous y(e, a, b) >= 0 per pair of
// source class a and destination class b, tied to the nodes by
//   sum_b y(e, a, b) = sum_{s in a} x(src, s)   for every a,
//   sum_a y(e, a, b) = sum_{t in b} x(dst, t)   for every b.
// With x integral, y is the indicator of the one pair chosen, so the
// objective sum c x + sum c y is the exact plan cost. Edges whose cost
// depends on one side only, and nodes with one strategy, are folded into
// node costs first.
//
//===----------------------------------------------------------------------===//

#include "distopt/Plan/StrategyProblem.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <Cbc_C_Interface.h>

#include <cmath>

using namespace distopt::plan;
using llvm::ArrayRef;

static double edgeCost(const StrategyProblem::Edge &e, unsigned s,
                       unsigned t) {
  return e.cost[e.srcClass[s] * e.numDstClasses + e.dstClass[t]];
}

double StrategyProblem::evaluateCost(ArrayRef<unsigned> choice) const {
  double total = 0;
  for (auto [n, node] : llvm::enumerate(nodes))
    total += node.cost[choice[n]];
  for (const Edge &e : edges)
    total += edgeCost(e, choice[e.src], choice[e.dst]);
  return total;
}

double StrategyProblem::evaluateMemory(ArrayRef<unsigned> choice) const {
  double total = 0;
  for (auto [n, node] : llvm::enumerate(nodes))
    total += node.memory[choice[n]];
  return total;
}

namespace {
/// RAII owner of a CBC model.
struct CbcModel {
  Cbc_Model *model = Cbc_newModel();
  ~CbcModel() { Cbc_deleteModel(model); }
};

/// One constraint row: lo <= sum coefs * cols <= hi.
struct Row {
  std::vector<int> cols;
  std::vector<double> coefs;
  double lo, hi;
};

/// The integer program in row form: x columns first (binary), then y.
struct IntegerProgram {
  std::vector<double> objective, lower, upper;
  int numX = 0;
  /// First x column of each node (and one past the last), first y column
  /// of each pair edge.
  std::vector<int> xStart, yStart;
  std::vector<Row> rows;

  int addColumn(double cost) {
    objective.push_back(cost);
    lower.push_back(0);
    upper.push_back(1);
    return objective.size() - 1;
  }
};
} // namespace

/// Folds edges whose cost depends on one side only (a self edge, one
/// strategy or one class on a side) into node costs; returns the edges
/// left, which need pair variables.
static std::vector<const StrategyProblem::Edge *>
foldOneSidedEdges(const StrategyProblem &p,
                  std::vector<llvm::SmallVector<double>> &nodeCost) {
  for (auto [n, node] : llvm::enumerate(p.nodes))
    nodeCost[n] = node.cost;
  std::vector<const StrategyProblem::Edge *> pairEdges;
  for (const StrategyProblem::Edge &e : p.edges) {
    unsigned ns = p.nodes[e.src].cost.size(), nd = p.nodes[e.dst].cost.size();
    if (e.src == e.dst) {
      for (unsigned s = 0; s < ns; ++s)
        nodeCost[e.src][s] += edgeCost(e, s, s);
      continue;
    }
    if (ns == 1 || e.numSrcClasses == 1) {
      for (unsigned t = 0; t < nd; ++t)
        nodeCost[e.dst][t] += edgeCost(e, 0, t);
      continue;
    }
    if (nd == 1 || e.numDstClasses == 1) {
      for (unsigned s = 0; s < ns; ++s)
        nodeCost[e.src][s] += edgeCost(e, s, 0);
      continue;
    }
    pairEdges.push_back(&e);
  }
  return pairEdges;
}

/// The rows tying an edge's pair variables to its nodes' choices:
/// sum_b y(a, b) = sum_{s in a} x(src, s), and the same per b.
static void addEdgeRows(const StrategyProblem::Edge &e, int base,
                        const IntegerProgram &ip, std::vector<Row> &rows) {
  for (unsigned a = 0; a < e.numSrcClasses; ++a) {
    Row r{{}, {}, 0, 0};
    for (unsigned b = 0; b < e.numDstClasses; ++b) {
      r.cols.push_back(base + a * e.numDstClasses + b);
      r.coefs.push_back(1);
    }
    for (auto [s, cls] : llvm::enumerate(e.srcClass))
      if (cls == a) {
        r.cols.push_back(ip.xStart[e.src] + s);
        r.coefs.push_back(-1);
      }
    rows.push_back(std::move(r));
  }
  for (unsigned b = 0; b < e.numDstClasses; ++b) {
    Row r{{}, {}, 0, 0};
    for (unsigned a = 0; a < e.numSrcClasses; ++a) {
      r.cols.push_back(base + a * e.numDstClasses + b);
      r.coefs.push_back(1);
    }
    for (auto [t, cls] : llvm::enumerate(e.dstClass))
      if (cls == b) {
        r.cols.push_back(ip.xStart[e.dst] + t);
        r.coefs.push_back(-1);
      }
    rows.push_back(std::move(r));
  }
}

/// The integer program of `p`: one strategy per node, pair edges tied to
/// their nodes, and the memory limit.
static IntegerProgram buildProgram(const StrategyProblem &p) {
  unsigned numNodes = p.nodes.size();
  std::vector<llvm::SmallVector<double>> nodeCost(numNodes);
  std::vector<const StrategyProblem::Edge *> pairEdges =
      foldOneSidedEdges(p, nodeCost);
  IntegerProgram ip;
  for (unsigned n = 0; n < numNodes; ++n) {
    ip.xStart.push_back(ip.objective.size());
    for (double c : nodeCost[n])
      ip.addColumn(c);
  }
  ip.xStart.push_back(ip.objective.size());
  ip.numX = ip.objective.size();
  for (const StrategyProblem::Edge *e : pairEdges) {
    ip.yStart.push_back(ip.objective.size());
    for (double c : e->cost)
      ip.addColumn(c);
  }
  for (unsigned n = 0; n < numNodes; ++n) {
    Row r{{}, {}, 1, 1};
    for (int c = ip.xStart[n]; c < ip.xStart[n + 1]; ++c) {
      r.cols.push_back(c);
      r.coefs.push_back(1);
    }
    ip.rows.push_back(std::move(r));
  }
  for (auto [i, e] : llvm::enumerate(pairEdges))
    addEdgeRows(*e, ip.yStart[i], ip, ip.rows);
  if (std::isfinite(p.memoryLimit)) {
    Row r{{}, {}, -1e300, p.memoryLimit};
    for (unsigned n = 0; n < numNodes; ++n)
      for (auto [s, m] : llvm::enumerate(p.nodes[n].memory)) {
        r.cols.push_back(ip.xStart[n] + s);
        r.coefs.push_back(m);
      }
    ip.rows.push_back(std::move(r));
  }
  return ip;
}

/// Loads `ip` into `cbc` (CBC takes columns: the rows are transposed).
static void loadProgram(const IntegerProgram &ip, CbcModel &cbc) {
  int numCols = ip.objective.size();
  std::vector<std::vector<std::pair<int, double>>> columns(numCols);
  for (auto [ri, r] : llvm::enumerate(ip.rows))
    for (auto [c, v] : llvm::zip(r.cols, r.coefs))
      columns[c].push_back({static_cast<int>(ri), v});
  std::vector<CoinBigIndex> start{0};
  std::vector<int> index;
  std::vector<double> value;
  for (auto &col : columns) {
    for (auto [ri, v] : col) {
      index.push_back(ri);
      value.push_back(v);
    }
    start.push_back(index.size());
  }
  std::vector<double> rowLo, rowHi;
  for (const Row &r : ip.rows) {
    rowLo.push_back(r.lo);
    rowHi.push_back(r.hi);
  }
  Cbc_loadProblem(cbc.model, numCols, ip.rows.size(), start.data(),
                  index.data(), value.data(), ip.lower.data(), ip.upper.data(),
                  ip.objective.data(), rowLo.data(), rowHi.data());
  for (int c = 0; c < ip.numX; ++c)
    Cbc_setInteger(cbc.model, c);
}

llvm::Expected<StrategySolution>
distopt::plan::solveStrategyProblem(const StrategyProblem &p,
                                    bool *infeasible) {
  if (infeasible)
    *infeasible = false;
  IntegerProgram ip = buildProgram(p);
  CbcModel cbc;
  Cbc_setLogLevel(cbc.model, 0);
  loadProgram(ip, cbc);
  // Exact: no relative or absolute gap is accepted.
  Cbc_setAllowableGap(cbc.model, 0);
  Cbc_setAllowableFractionGap(cbc.model, 0);
  Cbc_setAllowablePercentageGap(cbc.model, 0);
  Cbc_solve(cbc.model);
  if (Cbc_isProvenInfeasible(cbc.model)) {
    if (infeasible)
      *infeasible = true;
    return llvm::createStringError(
        "no sharding fits in the memory limit of %.0f bytes", p.memoryLimit);
  }
  if (!Cbc_isProvenOptimal(cbc.model))
    return llvm::createStringError(
        "the ILP solver stopped without proving a plan optimal");
  const double *solution = Cbc_getColSolution(cbc.model);
  StrategySolution result;
  for (unsigned n = 0; n < p.nodes.size(); ++n) {
    unsigned best = 0;
    for (int c = ip.xStart[n]; c < ip.xStart[n + 1]; ++c)
      if (solution[c] > solution[ip.xStart[n] + best])
        best = c - ip.xStart[n];
    result.choice.push_back(best);
  }
  result.cost = p.evaluateCost(result.choice);
  result.memory = p.evaluateMemory(result.choice);
  return result;
}

StrategySolution distopt::plan::solveByEnumeration(const StrategyProblem &p) {
  StrategySolution best;
  best.cost = std::numeric_limits<double>::infinity();
  llvm::SmallVector<unsigned> choice(p.nodes.size(), 0);
  while (true) {
    double memory = p.evaluateMemory(choice);
    if (memory <= p.memoryLimit) {
      double cost = p.evaluateCost(choice);
      if (cost < best.cost) {
        best.cost = cost;
        best.memory = memory;
        best.choice = choice;
      }
    }
    unsigned n = 0;
    for (; n < choice.size(); ++n) {
      if (++choice[n] < p.nodes[n].cost.size())
        break;
      choice[n] = 0;
    }
    if (n == choice.size())
      break;
  }
  return best;
}
