//===- Suggest.h - "Did you mean" for mistyped names -------------*- C++ -*-===//
//
// One rule for every message that suggests a correction: the candidate with
// the smallest edit distance, if that distance is at most what the caller
// accepts as a typo.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_SUPPORT_SUGGEST_H
#define DISTOPT_SUPPORT_SUGGEST_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace distopt {

/// The first of `candidates` closest to `name` by edit distance, if that
/// distance is at most `maxDistance`.
inline std::optional<llvm::StringRef>
getClosestName(llvm::StringRef name, llvm::ArrayRef<llvm::StringRef> candidates,
               unsigned maxDistance) {
  std::optional<llvm::StringRef> best;
  unsigned bestDistance = maxDistance + 1;
  for (llvm::StringRef candidate : candidates) {
    unsigned distance = candidate.edit_distance(name, /*AllowReplacements=*/true,
                                                bestDistance);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

} // namespace distopt

#endif // DISTOPT_SUPPORT_SUGGEST_H
