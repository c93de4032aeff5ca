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
// node costs first. Dominated strategies are removed before (exact), and
// when the linear relaxation's optimum is integral (Clp) it is the optimum
// and CBC is not run.
//
//===----------------------------------------------------------------------===//

#include "distopt/Plan/StrategyProblem.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <Cbc_C_Interface.h>
#include <Clp_C_Interface.h>

#include <cmath>
#include <optional>

using namespace distopt::plan;
using llvm::ArrayRef;

static double edgeCost(const StrategyProblem::Edge &e, unsigned s, unsigned t) {
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
/// Elimination of leaves: a node with one edge is merged into the node at
/// the other end, whose strategies become the pairs (its strategy, the
/// leaf's strategy) that are Pareto-optimal in cost and memory for each of
/// its own strategies. Its other edges see the same classes, so the
/// program loses the leaf's pair variables and keeps its other ones.
struct LeafElimination {
  StrategyProblem p;
  std::vector<char> nodeAlive, edgeAlive;
  /// Per node and strategy, the original (node, strategy) pairs it stands
  /// for.
  std::vector<std::vector<llvm::SmallVector<std::pair<unsigned, unsigned>>>>
      assign;
  /// A merged node keeps at most this many strategies.
  static constexpr unsigned kMaxStrategies = 512;

  explicit LeafElimination(const StrategyProblem &original) : p(original) {
    nodeAlive.assign(p.nodes.size(), 1);
    edgeAlive.assign(p.edges.size(), 1);
    for (auto [n, node] : llvm::enumerate(p.nodes)) {
      assign.emplace_back();
      for (unsigned s = 0; s < node.cost.size(); ++s)
        assign[n].push_back({{unsigned(n), s}});
    }
    // Self edges are node costs.
    for (auto [i, e] : llvm::enumerate(p.edges))
      if (e.src == e.dst) {
        for (unsigned s = 0; s < p.nodes[e.src].cost.size(); ++s)
          p.nodes[e.src].cost[s] += edgeCost(e, s, s);
        edgeAlive[i] = 0;
      }
  }

  /// The one live edge of `n`, or -1.
  int onlyEdge(unsigned n) const {
    int found = -1;
    for (auto [i, e] : llvm::enumerate(p.edges))
      if (edgeAlive[i] && (e.src == n || e.dst == n)) {
        if (found >= 0)
          return -1;
        found = i;
      }
    return found;
  }

  /// Merges leaf `l` into the other end of edge `ei`; false when the
  /// merged node would be too large.
  bool merge(unsigned l, unsigned ei) {
    const StrategyProblem::Edge &e = p.edges[ei];
    unsigned n = e.src == l ? e.dst : e.src;
    const StrategyProblem::Node &leaf = p.nodes[l], &node = p.nodes[n];
    std::vector<std::pair<unsigned, unsigned>> pairs;
    for (unsigned t = 0; t < node.cost.size(); ++t) {
      std::vector<std::tuple<double, double, unsigned>> options;
      for (unsigned w = 0; w < leaf.cost.size(); ++w) {
        double c =
            leaf.cost[w] + (e.src == l ? edgeCost(e, w, t) : edgeCost(e, t, w));
        options.push_back({c, leaf.memory[w], w});
      }
      llvm::sort(options);
      double bestMemory = std::numeric_limits<double>::infinity();
      for (auto [c, m, w] : options)
        if (m < bestMemory) {
          bestMemory = m;
          pairs.push_back({t, w});
        }
    }
    if (pairs.size() > std::max<size_t>(kMaxStrategies, node.cost.size()))
      return false;
    StrategyProblem::Node merged;
    std::vector<llvm::SmallVector<std::pair<unsigned, unsigned>>> mergedAssign;
    for (auto [t, w] : pairs) {
      double c =
          leaf.cost[w] + (e.src == l ? edgeCost(e, w, t) : edgeCost(e, t, w));
      merged.cost.push_back(node.cost[t] + c);
      merged.memory.push_back(node.memory[t] + leaf.memory[w]);
      mergedAssign.push_back(assign[n][t]);
      llvm::append_range(mergedAssign.back(), assign[l][w]);
    }
    edgeAlive[ei] = 0;
    nodeAlive[l] = 0;
    for (auto [i, other] : llvm::enumerate(p.edges)) {
      if (!edgeAlive[i])
        continue;
      for (llvm::SmallVector<unsigned> *cls :
           {other.src == n ? &other.srcClass : nullptr,
            other.dst == n ? &other.dstClass : nullptr})
        if (cls) {
          llvm::SmallVector<unsigned> expanded;
          for (auto [t, w] : pairs)
            expanded.push_back((*cls)[t]);
          *cls = std::move(expanded);
        }
    }
    p.nodes[n] = std::move(merged);
    assign[n] = std::move(mergedAssign);
    return true;
  }

  void run() {
    std::vector<char> tried(p.nodes.size(), 0);
    for (bool changed = true; changed;) {
      changed = false;
      for (unsigned l = 0; l < p.nodes.size(); ++l) {
        if (!nodeAlive[l] || tried[l])
          continue;
        int ei = onlyEdge(l);
        if (ei < 0)
          continue;
        if (merge(l, ei))
          changed = true;
        else
          tried[l] = 1;
      }
    }
  }

  /// The live nodes and edges as a problem; `nodeOf` maps live nodes.
  StrategyProblem result(std::vector<unsigned> &live) const {
    StrategyProblem q;
    q.memoryLimit = p.memoryLimit;
    std::vector<unsigned> index(p.nodes.size(), 0);
    for (unsigned n = 0; n < p.nodes.size(); ++n)
      if (nodeAlive[n]) {
        index[n] = q.nodes.size();
        live.push_back(n);
        q.nodes.push_back(p.nodes[n]);
      }
    for (auto [i, e] : llvm::enumerate(p.edges))
      if (edgeAlive[i]) {
        StrategyProblem::Edge r = e;
        r.src = index[e.src];
        r.dst = index[e.dst];
        q.edges.push_back(std::move(r));
      }
    return q;
  }
};
} // namespace

namespace {
/// The dominance search over one problem: alive strategies per node and
/// the edges of each node.
struct DominanceSearch {
  const StrategyProblem &p;
  std::vector<std::vector<char>> alive;
  std::vector<llvm::SmallVector<const StrategyProblem::Edge *>> incident;
  /// Node cost plus the node's self edges, per strategy.
  std::vector<llvm::SmallVector<double>> ownCost;

  explicit DominanceSearch(const StrategyProblem &p)
      : p(p), alive(p.nodes.size()), incident(p.nodes.size()),
        ownCost(p.nodes.size()) {
    for (auto [n, node] : llvm::enumerate(p.nodes)) {
      alive[n].assign(node.cost.size(), 1);
      ownCost[n] = node.cost;
    }
    for (const StrategyProblem::Edge &e : p.edges) {
      if (e.src == e.dst) {
        for (unsigned s = 0; s < ownCost[e.src].size(); ++s)
          ownCost[e.src][s] += edgeCost(e, s, s);
        continue;
      }
      incident[e.src].push_back(&e);
      incident[e.dst].push_back(&e);
    }
  }

  /// True when, on edge `e` of node `n`, strategy t costs no more than s
  /// against every class the other end still has.
  bool edgeNoWorse(const StrategyProblem::Edge &e, unsigned n, unsigned t,
                   unsigned s) const {
    bool isSrc = e.src == n;
    ArrayRef<unsigned> own = isSrc ? e.srcClass : e.dstClass;
    ArrayRef<unsigned> other = isSrc ? e.dstClass : e.srcClass;
    unsigned ct = own[t], cs = own[s];
    if (ct == cs)
      return true;
    unsigned m = isSrc ? e.dst : e.src;
    llvm::SmallVector<char> seen(isSrc ? e.numDstClasses : e.numSrcClasses, 0);
    for (auto [u, cls] : llvm::enumerate(other)) {
      if (!alive[m][u] || seen[cls])
        continue;
      seen[cls] = 1;
      auto at = [&](unsigned mine) {
        return isSrc ? e.cost[mine * e.numDstClasses + cls]
                     : e.cost[cls * e.numDstClasses + mine];
      };
      if (at(ct) > at(cs))
        return false;
    }
    return true;
  }

  bool dominates(unsigned n, unsigned t, unsigned s) const {
    const StrategyProblem::Node &node = p.nodes[n];
    if (ownCost[n][t] > ownCost[n][s] || node.memory[t] > node.memory[s])
      return false;
    return llvm::all_of(incident[n], [&](const StrategyProblem::Edge *e) {
      return edgeNoWorse(*e, n, t, s);
    });
  }

  /// Removes dominated strategies of `n`; true if any was removed.
  bool pruneNode(unsigned n) {
    bool changed = false;
    unsigned k = alive[n].size();
    for (unsigned s = 0; s < k; ++s)
      for (unsigned t = 0; t < k && alive[n][s]; ++t)
        if (t != s && alive[n][t] && dominates(n, t, s)) {
          alive[n][s] = 0;
          changed = true;
        }
    return changed;
  }
};
} // namespace

/// The classes of `classOf` that the kept strategies use, renumbered.
static llvm::SmallVector<unsigned>
keepClasses(ArrayRef<unsigned> classOf, ArrayRef<unsigned> kept,
            unsigned numClasses, llvm::SmallVector<unsigned> &newClass,
            unsigned &numNew) {
  llvm::SmallVector<int> renumber(numClasses, -1);
  llvm::SmallVector<unsigned> oldOfNew;
  for (unsigned s : kept) {
    unsigned c = classOf[s];
    if (renumber[c] < 0) {
      renumber[c] = oldOfNew.size();
      oldOfNew.push_back(c);
    }
    newClass.push_back(renumber[c]);
  }
  numNew = oldOfNew.size();
  return oldOfNew;
}

StrategyProblem distopt::plan::removeDominatedStrategies(
    const StrategyProblem &p, std::vector<llvm::SmallVector<unsigned>> &kept) {
  DominanceSearch search(p);
  for (bool changed = true; changed;) {
    changed = false;
    for (unsigned n = 0; n < p.nodes.size(); ++n)
      changed |= search.pruneNode(n);
  }
  StrategyProblem q;
  q.memoryLimit = p.memoryLimit;
  kept.assign(p.nodes.size(), {});
  for (auto [n, node] : llvm::enumerate(p.nodes)) {
    StrategyProblem::Node reduced;
    for (unsigned s = 0; s < node.cost.size(); ++s)
      if (search.alive[n][s]) {
        kept[n].push_back(s);
        reduced.cost.push_back(node.cost[s]);
        reduced.memory.push_back(node.memory[s]);
      }
    q.nodes.push_back(std::move(reduced));
  }
  for (const StrategyProblem::Edge &e : p.edges) {
    StrategyProblem::Edge r;
    r.src = e.src;
    r.dst = e.dst;
    llvm::SmallVector<unsigned> from = keepClasses(
        e.srcClass, kept[e.src], e.numSrcClasses, r.srcClass, r.numSrcClasses);
    llvm::SmallVector<unsigned> to = keepClasses(
        e.dstClass, kept[e.dst], e.numDstClasses, r.dstClass, r.numDstClasses);
    for (unsigned a : from)
      for (unsigned b : to)
        r.cost.push_back(e.cost[a * e.numDstClasses + b]);
    q.edges.push_back(std::move(r));
  }
  return q;
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
/// Its objective is in microseconds: in seconds, a small model's costs
/// (1e-9 to 1e-3) sit near Clp's absolute tolerances (1e-7), and its
/// simplex crawled through degenerate pivots (a 4-layer GPT's training step
/// on dp=2 x tp=2, 146k columns: 77 s in seconds, about 3 s in
/// microseconds).
struct IntegerProgram {
  static constexpr double kUnitsPerSecond = 1e6;

  std::vector<double> objective, lower, upper;
  int numX = 0;
  /// First x column of each node (and one past the last), first y column
  /// of each pair edge.
  std::vector<int> xStart, yStart;
  std::vector<Row> rows;
  /// The last row is the memory limit.
  bool hasMemoryRow = false;

  int addColumn(double seconds) {
    objective.push_back(seconds * kUnitsPerSecond);
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
    ip.hasMemoryRow = true;
  }
  return ip;
}

namespace {
/// `ip` in the column form CBC and Clp take.
struct ColumnForm {
  std::vector<CoinBigIndex> start{0};
  std::vector<int> index;
  std::vector<double> value, rowLo, rowHi;

  explicit ColumnForm(const IntegerProgram &ip) {
    std::vector<std::vector<std::pair<int, double>>> columns(
        ip.objective.size());
    for (auto [ri, r] : llvm::enumerate(ip.rows))
      for (auto [c, v] : llvm::zip(r.cols, r.coefs))
        columns[c].push_back({static_cast<int>(ri), v});
    for (auto &col : columns) {
      for (auto [ri, v] : col) {
        index.push_back(ri);
        value.push_back(v);
      }
      start.push_back(index.size());
    }
    for (const Row &r : ip.rows) {
      rowLo.push_back(r.lo);
      rowHi.push_back(r.hi);
    }
  }
};

/// RAII owner of a Clp model.
struct ClpModel {
  Clp_Simplex *model = Clp_newModel();
  ~ClpModel() { Clp_deleteModel(model); }
};

/// How the linear relaxation came out.
enum class Relaxation { Integral, Fractional, Infeasible };
} // namespace

/// Loads `ip` into `cbc`, its x columns integer.
static void loadProgram(const IntegerProgram &ip, const ColumnForm &cols,
                        CbcModel &cbc) {
  Cbc_loadProblem(cbc.model, ip.objective.size(), ip.rows.size(),
                  cols.start.data(), cols.index.data(), cols.value.data(),
                  ip.lower.data(), ip.upper.data(), ip.objective.data(),
                  cols.rowLo.data(), cols.rowHi.data());
  for (int c = 0; c < ip.numX; ++c)
    Cbc_setInteger(cbc.model, c);
}

/// Whether `solution` (a value per column) has every x column integral,
/// within CBC's default integrality tolerance.
static bool isIntegral(const IntegerProgram &ip, const double *solution) {
  for (int c = 0; c < ip.numX; ++c)
    if (std::fabs(solution[c] - std::round(solution[c])) > 1e-7)
      return false;
  return true;
}

/// The strategy of each node that `solution` (a value per column) picks.
static llvm::SmallVector<unsigned> readChoice(const IntegerProgram &ip,
                                              const double *solution) {
  llvm::SmallVector<unsigned> choice;
  for (unsigned n = 0; n + 1 < ip.xStart.size(); ++n) {
    unsigned best = 0;
    for (int c = ip.xStart[n]; c < ip.xStart[n + 1]; ++c)
      if (solution[c] > solution[ip.xStart[n] + best])
        best = c - ip.xStart[n];
    choice.push_back(best);
  }
  return choice;
}

/// Solves the linear relaxation of `ip` with Clp. When its optimum has
/// every x integral it is the integer optimum too (the relaxation's bound
/// is reached): `choice` is set. `bound` is the relaxation's optimum.
static Relaxation solveRelaxation(const IntegerProgram &ip,
                                  const ColumnForm &cols, ClpModel &clp,
                                  llvm::SmallVector<unsigned> &choice,
                                  double &bound) {
  Clp_setLogLevel(clp.model, 0);
  Clp_loadProblem(clp.model, ip.objective.size(), ip.rows.size(),
                  cols.start.data(), cols.index.data(), cols.value.data(),
                  ip.lower.data(), ip.upper.data(), ip.objective.data(),
                  cols.rowLo.data(), cols.rowHi.data());
  // The dual simplex: on the programs of generated training steps it is
  // several times faster than what Clp_initialSolve picks, and it ends on
  // an integral vertex where the primal ended on a fractional one of the
  // same objective (BERT's step on dp=2 x tp=2 x pp=2: 53 s of planning
  // with branch and bound, 7 s without).
  Clp_initialDualSolve(clp.model);
  bound = -std::numeric_limits<double>::infinity();
  if (Clp_isProvenPrimalInfeasible(clp.model)) {
    bound = std::numeric_limits<double>::infinity();
    return Relaxation::Infeasible;
  }
  if (!Clp_isProvenOptimal(clp.model))
    return Relaxation::Fractional;
  bound = Clp_objectiveValue(clp.model) / IntegerProgram::kUnitsPerSecond;
  const double *x = Clp_getColSolution(clp.model);
  if (!isIntegral(ip, x))
    return Relaxation::Fractional;
  choice = readChoice(ip, x);
  return Relaxation::Integral;
}

/// The two choices whose mix is the optimum of the relaxation `clp` holds,
/// when that optimum is fractional only because of the memory row: the
/// optima of the program without the row, its memory priced at the row's
/// dual a little below (the choice that needs more memory) and a little
/// above (less). Empty when either is fractional or they do not straddle
/// the limit.
static std::optional<
    std::pair<llvm::SmallVector<unsigned>, llvm::SmallVector<unsigned>>>
findRelaxationVertices(const IntegerProgram &ip, const StrategyProblem &p,
                       ClpModel &clp) {
  if (!ip.hasMemoryRow || !Clp_isProvenOptimal(clp.model))
    return std::nullopt;
  int memoryRow = ip.rows.size() - 1;
  // The row is `memory <= limit`: its dual is at most 0 when minimizing.
  double price = -Clp_getRowPrice(clp.model)[memoryRow];
  if (!(price > 0))
    return std::nullopt;
  std::vector<double> memory(ip.numX, 0);
  for (unsigned n = 0; n + 1 < ip.xStart.size(); ++n)
    for (int c = ip.xStart[n]; c < ip.xStart[n + 1]; ++c)
      memory[c] = p.nodes[n].memory[c - ip.xStart[n]];
  std::vector<double> rowUpper(Clp_getRowUpper(clp.model),
                               Clp_getRowUpper(clp.model) + ip.rows.size());
  rowUpper[memoryRow] = std::numeric_limits<double>::max();
  Clp_chgRowUpper(clp.model, rowUpper.data());
  llvm::SmallVector<unsigned> choices[2];
  std::vector<double> objective = ip.objective;
  // The relative nudge of the price that breaks its ties: the least of
  // these whose optimum is integral. On the planner's programs (objective
  // in microseconds, memory in bytes) the first moves the objective by far
  // less than any two plans differ; within Clp's tolerances it may still
  // leave a tie, which a larger one breaks.
  for (unsigned i = 0; i < 2; ++i) {
    bool integral = false;
    for (double nudge : {1e-6, 1e-4, 1e-2}) {
      double scale = i == 0 ? 1 - nudge : 1 + nudge;
      for (int c = 0; c < ip.numX; ++c)
        objective[c] = ip.objective[c] + price * scale * memory[c];
      Clp_chgObjCoefficients(clp.model, objective.data());
      Clp_primal(clp.model, 0);
      if (!Clp_isProvenOptimal(clp.model))
        return std::nullopt;
      integral = isIntegral(ip, Clp_getColSolution(clp.model));
      if (integral)
        break;
    }
    if (!integral)
      return std::nullopt;
    choices[i] = readChoice(ip, Clp_getColSolution(clp.model));
  }
  if (p.evaluateMemory(choices[1]) > p.memoryLimit ||
      p.evaluateMemory(choices[0]) <= p.memoryLimit)
    return std::nullopt;
  return std::make_pair(std::move(choices[1]), std::move(choices[0]));
}

/// Solves `ip` with CBC among the choices that cost at most `cutoff`:
/// exactly (no gap accepted) within `maxNodes` nodes; beyond, the best
/// choice found, with its relative gap in `gap`.
static llvm::Expected<llvm::SmallVector<unsigned>>
solveWithCbc(const IntegerProgram &ip, const ColumnForm &cols, double cutoff,
             int maxNodes, StrategySolver::Status &status, double &gap) {
  CbcModel cbc;
  Cbc_setLogLevel(cbc.model, 0);
  loadProgram(ip, cols, cbc);
  Cbc_setAllowableGap(cbc.model, 0);
  Cbc_setAllowableFractionGap(cbc.model, 0);
  Cbc_setAllowablePercentageGap(cbc.model, 0);
  if (std::isfinite(cutoff))
    Cbc_setCutoff(cbc.model, cutoff * IntegerProgram::kUnitsPerSecond);
  // The feasibility pump heuristic took most of the solver's time on the
  // planner's programs (the search stays exact: the gap is 0).
  Cbc_setParameter(cbc.model, "feas", "off");
  Cbc_setMaximumNodes(cbc.model, maxNodes);
  Cbc_solve(cbc.model);
  gap = 0;
  if (Cbc_isProvenInfeasible(cbc.model)) {
    status = std::isfinite(cutoff) ? StrategySolver::Status::AboveCutoff
                                   : StrategySolver::Status::NoFit;
    return llvm::createStringError("infeasible");
  }
  if (!Cbc_isProvenOptimal(cbc.model)) {
    const double *best = Cbc_bestSolution(cbc.model);
    if (!Cbc_isNodeLimitReached(cbc.model) || !best) {
      status = StrategySolver::Status::Failed;
      return llvm::createStringError(
          llvm::formatv("the ILP solver found no plan within {0} "
                        "branch-and-bound nodes",
                        maxNodes)
              .str());
    }
    double cost = Cbc_getObjValue(cbc.model);
    double bound = Cbc_getBestPossibleObjValue(cbc.model);
    gap = cost > 0 ? std::max(0.0, (cost - bound) / cost) : 0;
    status = StrategySolver::Status::Solved;
    return readChoice(ip, best);
  }
  status = StrategySolver::Status::Solved;
  return readChoice(ip, Cbc_getColSolution(cbc.model));
}

struct StrategySolver::Impl {
  const StrategyProblem &p;
  LeafElimination leaves;
  std::vector<unsigned> live;
  StrategyProblem merged;
  std::vector<llvm::SmallVector<unsigned>> kept;
  StrategyProblem reduced;
  IntegerProgram ip;
  ColumnForm cols;
  // Set by solveRelaxation, so declared before `relaxation`.
  ClpModel clp;
  llvm::SmallVector<unsigned> relaxedChoice;
  double bound = 0;
  Relaxation relaxation;
  /// getRelaxationVertices' answer, once asked.
  std::optional<std::optional<Vertices>> vertices;

  explicit Impl(const StrategyProblem &p)
      : p(p), leaves(p), merged(runLeaves(leaves, live)),
        reduced(removeDominatedStrategies(merged, kept)),
        ip(buildProgram(reduced)), cols(ip),
        relaxation(solveRelaxation(ip, cols, clp, relaxedChoice, bound)) {}

  static StrategyProblem runLeaves(LeafElimination &leaves,
                                   std::vector<unsigned> &live) {
    leaves.run();
    return leaves.result(live);
  }

  /// The solution of `p` that `choice` (of the program's nodes) picks.
  StrategySolution expand(ArrayRef<unsigned> choice) const {
    StrategySolution result;
    result.variables = ip.objective.size();
    result.constraints = ip.rows.size();
    for (auto [n, node] : llvm::enumerate(merged.nodes))
      result.dominated += node.cost.size() - kept[n].size();
    result.relaxationIntegral = relaxation == Relaxation::Integral;
    result.choice.assign(p.nodes.size(), 0);
    for (auto [n, c] : llvm::enumerate(choice))
      for (auto [orig, strategy] : leaves.assign[live[n]][kept[n][c]])
        result.choice[orig] = strategy;
    result.cost = p.evaluateCost(result.choice);
    result.memory = p.evaluateMemory(result.choice);
    return result;
  }
};

StrategySolver::StrategySolver(const StrategyProblem &p)
    : impl(std::make_unique<Impl>(p)) {}
StrategySolver::~StrategySolver() = default;
StrategySolver::StrategySolver(StrategySolver &&) noexcept = default;
StrategySolver &StrategySolver::operator=(StrategySolver &&) noexcept = default;

double StrategySolver::getBound() const { return impl->bound; }

bool StrategySolver::isRelaxationIntegral() const {
  return impl->relaxation == Relaxation::Integral;
}

std::optional<StrategySolver::Vertices>
StrategySolver::getRelaxationVertices() {
  // Found once: the search changes the relaxation Clp holds.
  if (!impl->vertices) {
    impl->vertices.emplace();
    if (impl->relaxation == Relaxation::Fractional)
      if (auto found =
              findRelaxationVertices(impl->ip, impl->reduced, impl->clp))
        *impl->vertices =
            Vertices{impl->expand(found->first), impl->expand(found->second)};
  }
  return *impl->vertices;
}

llvm::Expected<StrategySolution>
StrategySolver::solve(Status &status, double cutoff, int maxNodes) {
  auto noFit = [&] {
    return llvm::createStringError(
        "no sharding fits in the memory limit of %.0f bytes",
        impl->p.memoryLimit);
  };
  auto aboveCutoff = [] {
    return llvm::createStringError("every plan costs more than the cutoff");
  };
  if (impl->relaxation == Relaxation::Infeasible) {
    status = Status::NoFit;
    return noFit();
  }
  if (impl->bound > cutoff) {
    status = Status::AboveCutoff;
    return aboveCutoff();
  }
  if (impl->relaxation == Relaxation::Integral) {
    status = Status::Solved;
    return impl->expand(impl->relaxedChoice);
  }
  double gap = 0;
  llvm::Expected<llvm::SmallVector<unsigned>> solved =
      solveWithCbc(impl->ip, impl->cols, cutoff, maxNodes, status, gap);
  if (!solved) {
    if (status == Status::Failed)
      return solved.takeError();
    llvm::consumeError(solved.takeError());
    return status == Status::NoFit ? noFit() : aboveCutoff();
  }
  StrategySolution result = impl->expand(*solved);
  result.gap = gap;
  return result;
}

llvm::Expected<StrategySolution>
distopt::plan::solveStrategyProblem(const StrategyProblem &p,
                                    bool *infeasible) {
  StrategySolver::Status status;
  llvm::Expected<StrategySolution> solution = StrategySolver(p).solve(status);
  if (infeasible)
    *infeasible = status == StrategySolver::Status::NoFit;
  return solution;
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
