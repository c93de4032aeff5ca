//===- ErrorHelpers.h - llvm::Expected checks for the cost unit tests
//------===//
//
// The unit tests link gtest without gmock, so llvm/Testing/Support matchers
// are not available; these two helpers take their place.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_UNITTESTS_COST_ERRORHELPERS_H
#define DISTOPT_UNITTESTS_COST_ERRORHELPERS_H

#include "llvm/Support/Error.h"

#include <string>

namespace distopt::cost::testing {

/// The message of a failed `value`, or "<success>" if it holds a value.
template <typename T> std::string getErrorMessage(llvm::Expected<T> value) {
  if (value)
    return "<success>";
  return llvm::toString(value.takeError());
}

/// The message of a failed `value`, or "" if it succeeded (so that
/// EXPECT_EQ(succeeded(...), "") prints the error when it fails).
template <typename T> std::string succeeded(llvm::Expected<T> &value) {
  if (value)
    return "";
  std::string message = llvm::toString(value.takeError());
  value = llvm::createStringError(message);
  return message;
}

} // namespace distopt::cost::testing

#endif // DISTOPT_UNITTESTS_COST_ERRORHELPERS_H
