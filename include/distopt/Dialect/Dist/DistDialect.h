//===- DistDialect.h - dist dialect declaration -----------------*- C++ -*-===//
//
// Declares the dist dialect class, its enums and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_DISTDIALECT_H
#define DISTOPT_DIALECT_DIST_DISTDIALECT_H

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
// The generated helpers of the dialect's discardable attributes use
// Operation.
#include "mlir/IR/Operation.h"

#include "distopt/Dialect/Dist/DistDialect.h.inc"
#include "distopt/Dialect/Dist/DistEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "distopt/Dialect/Dist/DistAttrs.h.inc"

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace distopt {
/// Registers every dialect that dist-opt reads or produces (dist, func,
/// arith, tensor, shard) and the external models that connect them.
void registerAllDialects(mlir::DialectRegistry &registry);
} // namespace distopt

#endif // DISTOPT_DIALECT_DIST_DISTDIALECT_H
