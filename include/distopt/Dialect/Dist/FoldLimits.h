//===- FoldLimits.h - how large a constant folding may make -----*- C++ -*-===//
//
// The one bound on the constants that folding builds, shared by the dist
// ops' folders and the ONNX importer (which evaluates Range eagerly).
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_FOLDLIMITS_H
#define DISTOPT_DIALECT_DIST_FOLDLIMITS_H

#include <cstdint>

namespace distopt::dist {

/// The largest number of elements a fold may produce, unless the result is a
/// splat (one value, stored once, whatever its shape). Shape computations are
/// far below it; a 2048 x 2048 attention mask is far above it and stays an
/// op. The work of a fold is also bounded by it: a fold that would have to
/// visit more elements (of its inputs or its result) does not happen.
inline constexpr int64_t kMaxFoldedElements = 16384;

} // namespace distopt::dist

#endif // DISTOPT_DIALECT_DIST_FOLDLIMITS_H
