//===- LayerDetection.cpp - Find repeated identical layers ----------------===//

#include "distopt/Plan/LayerDetection.h"

#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"

using namespace mlir;
using namespace distopt;
using namespace distopt::plan;

/// The attributes that two copies of a layer share: all but the index of
/// the forward op that dist-autodiff records on a backward op.
static DictionaryAttr getCopyAttrs(Operation *op) {
  DictionaryAttr attrs = op->getRawDictionaryAttrs();
  StringRef adjoint = dist::DistDialect::AdjointOfAttrHelper::getNameStr();
  if (!attrs.contains(adjoint))
    return attrs;
  NamedAttrList kept(attrs);
  kept.erase(adjoint);
  return kept.getDictionary(op->getContext());
}

LayerStructure distopt::plan::findRepeatedLayers(func::FuncOp func) {
  LayerStructure result;
  DenseMap<Operation *, unsigned> position;
  for (Operation &op : func.getBody().front()) {
    if (isa<dist::WeightOp, dist::ConstantOp>(op) ||
        op.hasTrait<OpTrait::IsTerminator>())
      continue;
    position[&op] = result.ops.size();
    result.ops.push_back(&op);
  }
  unsigned n = result.ops.size();

  // Values every layer reads from one place (a causal mask, an attention
  // mask, position ids) are named by their producer, not by their distance:
  // values that do not depend on the function's arguments and that several
  // ops read, and values read by many ops far apart. A value computed from
  // weights alone for one reader (a layer's transposed weight, as exported
  // without constant folding) belongs to that reader's layer.
  std::vector<bool> dependsOnArgs(n, false), shared(n, false);
  for (unsigned i = 0; i < n; ++i) {
    Operation *op = result.ops[i];
    for (Value v : op->getOperands()) {
      if (isa<BlockArgument>(v))
        dependsOnArgs[i] = true;
      else if (auto it = position.find(v.getDefiningOp()); it != position.end())
        dependsOnArgs[i] = dependsOnArgs[i] || dependsOnArgs[it->second];
    }
    unsigned users = 0, first = n, last = 0;
    for (Operation *user : op->getUsers())
      if (auto it = position.find(user); it != position.end()) {
        ++users;
        first = std::min(first, it->second);
        last = std::max(last, it->second);
      }
    shared[i] =
        (!dependsOnArgs[i] && users > 1) || (users >= 4 && last - first >= 64);
  }

  // Distances count the ops that are not shared: a mask computed between
  // two ops of the first layer does not make that layer look different.
  std::vector<unsigned> local(n, 0);
  for (unsigned i = 1; i < n; ++i)
    local[i] = local[i - 1] + (shared[i - 1] ? 0 : 1);

  // The signature of an op, position independent.
  std::vector<llvm::hash_code> sig(n);
  for (unsigned i = 0; i < n; ++i) {
    Operation *op = result.ops[i];
    llvm::hash_code h =
        llvm::hash_combine(op->getName().getAsOpaquePointer(),
                           getCopyAttrs(op).getAsOpaquePointer());
    for (Type t : op->getResultTypes())
      h = llvm::hash_combine(h, t.getAsOpaquePointer());
    for (Value v : op->getOperands()) {
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        h = llvm::hash_combine(h, 1, arg.getArgNumber());
        continue;
      }
      Operation *def = v.getDefiningOp();
      if (auto w = dyn_cast<dist::WeightOp>(def))
        h = llvm::hash_combine(h, 2, v.getType().getAsOpaquePointer());
      else if (auto c = dyn_cast<dist::ConstantOp>(def))
        h = llvm::hash_combine(h, 3, c.getValue().getAsOpaquePointer());
      else if (shared[position.lookup(def)])
        h = llvm::hash_combine(h, 5, position.lookup(def),
                               cast<OpResult>(v).getResultNumber());
      else
        h = llvm::hash_combine(h, 4, local[i] - local[position.lookup(def)],
                               cast<OpResult>(v).getResultNumber());
    }
    sig[i] = h;
  }

  // Candidate periods: distances between consecutive occurrences of
  // signatures that recur at equal distances.
  DenseMap<size_t, SmallVector<unsigned>> occurrences;
  for (unsigned i = 0; i < n; ++i)
    occurrences[size_t(sig[i])].push_back(i);
  llvm::SmallDenseSet<unsigned> periods;
  for (auto &[h, where] : occurrences) {
    if (where.size() < 2)
      continue;
    unsigned d = where[1] - where[0];
    bool equal = true;
    for (unsigned k = 2; k < where.size() && equal; ++k)
      equal = where[k] - where[k - 1] == d;
    if (equal && d > 0)
      periods.insert(d);
  }

  // For each period, the longest run where sig[i] == sig[i + period].
  for (unsigned p : periods) {
    unsigned runStart = 0, runLength = 0;
    for (unsigned i = 0; i + p <= n; ++i) {
      if (i + p < n && sig[i] == sig[i + p]) {
        ++runLength;
        continue;
      }
      // Positions [runStart, runStart + runLength) match one period later:
      // the periodic stretch is runLength + p ops long.
      unsigned copies = (runLength + p) / p;
      if (copies >= 2 && copies * p > result.count * result.period) {
        result.begin = runStart;
        result.period = p;
        result.count = copies;
      }
      runStart = i + 1;
      runLength = 0;
    }
  }
  return result;
}
