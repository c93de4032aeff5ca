//===- ShardingRule.h - per-op sharding rules -------------------*- C++ -*-===//
//
// A sharding rule describes an op's iteration space as factors and says, for
// every operand and result dimension, which factors index it. It is the one
// statement of how an op may be split; the planner and the ShardingInterface
// external models both read it.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_SHARDINGRULE_H
#define DISTOPT_DIALECT_DIST_SHARDINGRULE_H

#include "distopt/Dialect/Dist/DistDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace mlir {
class Operation;
} // namespace mlir

namespace distopt::dist {

/// How a factor of an op's iteration space may be split across devices.
enum class FactorKind {
  /// Splitting it splits the work with no communication inside the op.
  Parallel,
  /// It is contracted or reduced: splitting it leaves partial results that
  /// are combined (all-reduce with the factor's combiner) afterwards.
  Reduction,
  /// It must stay whole on every device (a softmax axis, a convolution's
  /// spatial window, a reshaped group of dimensions).
  Whole,
  /// It may be split, but then the op has a local form of its own
  /// (SplitFormOpInterface) that combines per-device statistics with
  /// all-reduces over the factor's grid axes, listed in the rule
  /// (`ShardingRule::innerAllReduces`): the classes of a cross-entropy split
  /// across a vocabulary-parallel group.
  Collective,
};

/// One factor of an op's iteration space.
struct ShardingFactor {
  /// The factor's name, unique within its rule: what `dist.factor_axes`
  /// and printed rules call it (`m`, `n`, `k` of a matmul, `d0` for the
  /// first dimension of an elementwise op).
  std::string name;
  int64_t size = 1;
  FactorKind kind = FactorKind::Parallel;
  /// For reduction factors: how partial results combine.
  ReduceKind combiner = ReduceKind::Sum;
};

/// The factors that index one tensor dimension, major to minor. Empty for a
/// size-1 dimension that broadcasts against a larger one.
using DimFactors = llvm::SmallVector<int64_t, 1>;
/// The factors of every dimension of one tensor.
using TensorFactors = llvm::SmallVector<DimFactors, 4>;

/// An operand that an op adds to the result of its contraction (a bias).
/// When a reduction factor is split, the op runs without it and the bias
/// is added once, where the partial results are combined.
struct BiasAfterReduction {
  /// The operand's index.
  unsigned operand = 0;
  /// Multiplies the bias (a gemm's beta).
  double scale = 1.0;
  /// The result dimension of each bias dimension.
  llvm::SmallVector<int64_t, 4> resultDims;
  /// The attribute that holds `scale`, if any; it is reset to its default
  /// when the op runs without its bias.
  llvm::StringRef scaleAttr;
};

/// An all-reduce inside the local form of an op whose `collective` factor
/// is split: over the factor's grid axes, of a tensor indexed by `dims`
/// (factors of the rule) with elements of `elementType`.
struct InnerAllReduce {
  int64_t factor = 0;
  ReduceKind kind = ReduceKind::Sum;
  TensorFactors dims;
  mlir::Type elementType;
  /// What it combines, for reports (`row maxima`).
  std::string what;
};

/// A factor whose split pieces the op's local form must know the position
/// of: a gather from a table split by rows looks up only the rows of its
/// block. When the factor is split, the partitioner sets the attribute
/// `attr` of the local op to the factor's grid axes (a DenseI16ArrayAttr),
/// from which each device derives its block's first element.
struct BlockAxes {
  int64_t factor = 0;
  llvm::StringRef attr;
};

/// The sharding rule of one op.
struct ShardingRule {
  llvm::SmallVector<ShardingFactor> factors;
  llvm::SmallVector<TensorFactors> operands;
  llvm::SmallVector<TensorFactors> results;
  /// Set when the op adds a bias after its contraction.
  std::optional<BiasAfterReduction> bias;
  /// The all-reduces of the op's local form when its `collective` factors
  /// are split, in the order it runs them.
  llvm::SmallVector<InnerAllReduce> innerAllReduces;
  /// Set when the local form of a split factor needs its block's position.
  std::optional<BlockAxes> blockAxes;

  /// Appends a factor named `name` and returns its index.
  int64_t addFactor(llvm::StringRef name, int64_t size, FactorKind kind,
                    ReduceKind combiner = ReduceKind::Sum) {
    factors.push_back({name.str(), size, kind, combiner});
    return static_cast<int64_t>(factors.size()) - 1;
  }

  /// Checks that the rule fits `op`: unique non-empty factor names, one
  /// entry per operand and result, one per dimension, factor sizes
  /// multiplying to the dimension size, size-1 dimensions only without
  /// factors, and one combiner for all reductions. Emits an error on `op`
  /// and fails otherwise.
  mlir::LogicalResult verify(mlir::Operation *op) const;

  /// Indices of factors of `kind`.
  llvm::SmallVector<int64_t> getFactorsOfKind(FactorKind kind) const;

  /// The index of the factor named `name`, if there is one.
  std::optional<int64_t> lookupFactor(llvm::StringRef name) const;

  /// Prints the rule, for example
  /// `factors [m=8 parallel, n=16 parallel, k=4 reduction(sum)]
  ///  operands ([m, k], [k, n]) results ([m, n])`.
  void print(llvm::raw_ostream &os) const;
};

inline llvm::raw_ostream &operator<<(llvm::raw_ostream &os,
                                     const ShardingRule &rule) {
  rule.print(os);
  return os;
}

/// Returns the name of `kind` as printed in rules.
llvm::StringRef stringifyFactorKind(FactorKind kind);

//===----------------------------------------------------------------------===//
// Building blocks shared by the rules of many ops.
//===----------------------------------------------------------------------===//

/// Maps `operandShape` onto the result factors `resultFactors` by NumPy
/// broadcasting (trailing dimensions aligned): a dimension of the same size
/// shares the result's factors, a size-1 dimension that broadcasts has none.
TensorFactors broadcastFactors(llvm::ArrayRef<int64_t> operandShape,
                               llvm::ArrayRef<int64_t> resultShape,
                               const TensorFactors &resultFactors);

/// Adds one parallel factor per dimension of `shape` (size-1 dims get none)
/// and returns them. The factor of dim `i` is named `<prefix><firstDim + i>`
/// (`d0`, `d1`, ... by default).
TensorFactors addParallelFactors(ShardingRule &rule,
                                 llvm::ArrayRef<int64_t> shape,
                                 llvm::StringRef prefix = "d",
                                 int64_t firstDim = 0);

} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_SHARDINGRULE_H
