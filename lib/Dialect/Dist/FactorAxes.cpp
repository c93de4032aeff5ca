//===- FactorAxes.cpp - read and write dist.factor_axes -------------------===//
//
// The one reader and the one writer of `dist.factor_axes`, and the checks of
// an assignment: on its own (run by the dialect verifier), against the op's
// sharding rule and against the grid (run by the reader).
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/FactorAxes.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Support/Suggest.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

using FactorAxesAttrHelper = DistDialect::FactorAxesAttrHelper;
static constexpr StringLiteral kAttrName = FactorAxesAttrHelper::getNameStr();

static void printAxes(InFlightDiagnostic &diag, ArrayRef<int16_t> axes) {
  diag << "[";
  llvm::interleaveComma(axes, diag);
  diag << "]";
}

//===----------------------------------------------------------------------===//
// Checks of the attribute on its own
//===----------------------------------------------------------------------===//

LogicalResult distopt::dist::verifyFactorAxesAttr(Operation *op,
                                                  Attribute value) {
  if (!isa<ShardingRuleOpInterface>(op))
    return op->emitOpError("carries '")
           << kAttrName
           << "' but has no sharding rule; only dist ops with a rule can be "
              "split";
  auto dict = dyn_cast<DictionaryAttr>(value);
  if (!dict)
    return op->emitOpError("expects '")
           << kAttrName
           << "' to be a dictionary from factor name to array<i16> of grid "
              "axes, found "
           << value;
  // The factor that each grid axis splits.
  llvm::SmallDenseMap<int16_t, StringRef> owner;
  for (NamedAttribute entry : dict) {
    StringRef name = entry.getName().getValue();
    auto axes = dyn_cast<DenseI16ArrayAttr>(entry.getValue());
    if (!axes)
      return op->emitOpError("expects '")
             << kAttrName << "' entry '" << name
             << "' to be an array<i16> of grid axes, found "
             << entry.getValue();
    if (axes.empty())
      return op->emitOpError("'")
             << kAttrName << "' entry '" << name
             << "' lists no grid axes; list only the factors that are split";
    for (int16_t a : axes.asArrayRef()) {
      if (a < 0)
        return op->emitOpError("factor '")
               << name << "' names grid axis " << a
               << ", expected a non-negative grid axis";
      auto [it, inserted] = owner.try_emplace(a, name);
      if (inserted)
        continue;
      InFlightDiagnostic diag = op->emitOpError("grid axis ")
                                << a << " splits ";
      if (it->second == name)
        diag << "factor '" << name << "' twice";
      else
        diag << "both factor '" << it->second << "' and factor '" << name
             << "'; a grid axis splits at most one factor of an op";
      return diag;
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Checks against the rule and the grid
//===----------------------------------------------------------------------===//

/// The error for an entry that names no factor of `rule`.
static LogicalResult emitUnknownFactor(Operation *op, const ShardingRule &rule,
                                       StringRef name) {
  SmallVector<StringRef> names;
  for (const ShardingFactor &f : rule.factors)
    names.push_back(f.name);
  InFlightDiagnostic diag = op->emitOpError("'")
                            << kAttrName << "' names factor '" << name
                            << "', which the op's sharding rule does not have";
  if (std::optional<StringRef> best =
          getClosestName(name, names, std::max<unsigned>(1, name.size() / 3)))
    diag << " (did you mean '" << *best << "'?)";
  diag << "; its factors are ";
  if (names.empty())
    diag << "none";
  llvm::interleaveComma(names, diag);
  return diag;
}

/// Checks that the grid axes `axes` of `factor` exist and may split it.
static LogicalResult checkSplit(Operation *op, const ShardingFactor &factor,
                                ArrayRef<int16_t> axes,
                                ArrayRef<int64_t> gridShape) {
  if (axes.empty())
    return success();
  int64_t devices = 1;
  for (int16_t a : axes) {
    if (a >= static_cast<int64_t>(gridShape.size()))
      return op->emitOpError("factor '")
             << factor.name << "' names grid axis " << a
             << ", but the grid has " << gridShape.size() << " axes";
    devices *= gridShape[a];
  }
  if (factor.kind == FactorKind::Whole) {
    InFlightDiagnostic diag = op->emitOpError("factor '")
                              << factor.name << "' (size " << factor.size
                              << ") must stay whole, but '" << kAttrName
                              << "' splits it over grid axes ";
    printAxes(diag, axes);
    return diag;
  }
  if (factor.size % devices != 0) {
    InFlightDiagnostic diag = op->emitOpError("factor '")
                              << factor.name << "' of size " << factor.size
                              << " is not divisible by " << devices
                              << ", the device count of its grid axes ";
    printAxes(diag, axes);
    return diag;
  }
  return success();
}

/// Within one tensor dim only the major-most factor larger than 1 may be
/// split, so that every device holds one contiguous block of the dim.
static LogicalResult
checkContiguous(Operation *op, const ShardingRule &rule,
                ArrayRef<SmallVector<int16_t>> factorAxes) {
  auto check = [&](StringRef what, size_t index,
                   const TensorFactors &tensor) -> LogicalResult {
    for (auto [d, factors] : llvm::enumerate(tensor)) {
      std::optional<int64_t> major;
      for (int64_t f : factors) {
        if (rule.factors[f].size == 1)
          continue;
        if (major && !factorAxes[f].empty())
          return op->emitOpError("factor '")
                 << rule.factors[f].name
                 << "' is split, but it is not the major-most factor of "
                 << what << " #" << index << " dim " << d << " ('"
                 << rule.factors[*major].name
                 << "' is): a device would hold a strided piece of the dim";
        if (!major)
          major = f;
      }
    }
    return success();
  };
  for (auto [i, tensor] : llvm::enumerate(rule.operands))
    if (failed(check("operand", i, tensor)))
      return failure();
  for (auto [i, tensor] : llvm::enumerate(rule.results))
    if (failed(check("result", i, tensor)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Reader and writer
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<SmallVector<int16_t>>>
distopt::dist::readFactorAxes(Operation *op, const ShardingRule &rule,
                              ArrayRef<int64_t> gridShape) {
  SmallVector<SmallVector<int16_t>> factorAxes(rule.factors.size());
  // Read untyped, so that an attribute of the wrong type is reported rather
  // than taken for a missing one.
  Attribute attr = op->getAttr(kAttrName);
  if (!attr)
    return factorAxes;
  if (failed(verifyFactorAxesAttr(op, attr)))
    return failure();
  for (NamedAttribute entry : cast<DictionaryAttr>(attr)) {
    std::optional<int64_t> f = rule.lookupFactor(entry.getName().getValue());
    if (!f)
      return emitUnknownFactor(op, rule, entry.getName().getValue());
    ArrayRef<int16_t> axes =
        cast<DenseI16ArrayAttr>(entry.getValue()).asArrayRef();
    factorAxes[*f].assign(axes.begin(), axes.end());
  }
  for (auto [factor, axes] : llvm::zip_equal(rule.factors, factorAxes))
    if (failed(checkSplit(op, factor, axes, gridShape)))
      return failure();
  if (failed(checkContiguous(op, rule, factorAxes)))
    return failure();
  return factorAxes;
}

void distopt::dist::writeFactorAxes(Operation *op, const ShardingRule &rule,
                                    ArrayRef<SmallVector<int16_t, 2>> axes) {
  assert(axes.size() == rule.factors.size() &&
         "expects the grid axes of every factor of the rule");
  MLIRContext *ctx = op->getContext();
  SmallVector<NamedAttribute> entries;
  for (auto [factor, list] : llvm::zip_equal(rule.factors, axes))
    if (!list.empty())
      entries.emplace_back(StringAttr::get(ctx, factor.name),
                           DenseI16ArrayAttr::get(ctx, list));
  FactorAxesAttrHelper helper(ctx);
  if (entries.empty()) {
    op->removeAttr(helper.getName());
    return;
  }
  helper.setAttr(op, DictionaryAttr::get(ctx, entries));
}
