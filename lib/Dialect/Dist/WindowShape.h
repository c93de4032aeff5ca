//===- WindowShape.h - sliding-window shapes of dist ops --------*- C++ -*-===//
//
// Private to lib/Dialect/Dist: the checks and output sizes of the sliding
// windows of conv2d and pool2d, shared with their backward ops.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_LIB_DIALECT_DIST_WINDOWSHAPE_H
#define DISTOPT_LIB_DIALECT_DIST_WINDOWSHAPE_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <optional>

namespace distopt::dist::detail {

/// Checks a window's strides (2, positive), pads (4, non-negative) and
/// dilations (2, positive), with an error at `loc` when given.
mlir::LogicalResult checkWindowAttrs(std::optional<mlir::Location> loc,
                                     llvm::ArrayRef<int64_t> strides,
                                     llvm::ArrayRef<int64_t> pads,
                                     llvm::ArrayRef<int64_t> dilations);

/// Output size of a sliding window along one spatial dimension (0 when the
/// window does not fit).
int64_t windowOutputSize(int64_t in, int64_t kernel, int64_t stride,
                         int64_t padBegin, int64_t padEnd, int64_t dilation,
                         bool ceilMode);

} // namespace distopt::dist::detail

#endif // DISTOPT_LIB_DIALECT_DIST_WINDOWSHAPE_H
