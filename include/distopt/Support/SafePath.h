//===- SafePath.h - Data paths that stay inside their folder ----*- C++ -*-===//
//
// One rule for every file a model, a program or an artifact names: weights
// and external data are relative paths inside the model's folder, with no
// absolute path, no `..` and no symbolic link on the way; outputs are plain
// file names. The ONNX importer, the artifact writer and the runtime all
// check through these functions (docs/security.md).
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_SUPPORT_SAFEPATH_H
#define DISTOPT_SUPPORT_SAFEPATH_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>

namespace distopt {

/// Checks the text of `location`, a path relative to a model's folder: not
/// empty, no NUL character, not absolute, and no `..` component. The error's
/// message completes a sentence about the path ("is an absolute path; ...").
llvm::Error checkRelativeDataPath(llvm::StringRef location);

/// What lies at a data path that checkDataPath accepted.
struct DataFileStatus {
  /// False when the file, or a folder on its way, does not exist.
  bool exists = false;
  /// The file's size in bytes, when it exists.
  uint64_t size = 0;
};

/// Checks that `location` (checkRelativeDataPath) names, below `baseDir`, a
/// regular file reached without any symbolic link: each component that
/// exists is looked at without following links. A path that does not exist
/// is accepted with `exists` false (shape-only models name files that were
/// never written).
llvm::Expected<DataFileStatus> checkDataPath(llvm::StringRef baseDir,
                                             llvm::StringRef location);

/// Reads `length` bytes at `offset` of the data file `location` below
/// `baseDir`. The file is opened one component at a time, never following a
/// symbolic link, so a link put in place after an earlier check is refused
/// too; anything but a regular file, or a file that ends before the range,
/// is an error. The buffer may map the file.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readDataFileSlice(llvm::StringRef baseDir, llvm::StringRef location,
                  uint64_t offset, uint64_t length);

/// Checks that `name` can be used as one file's name inside a folder: not
/// empty, not `.` or `..`, and without `/`, `\` or NUL characters.
llvm::Error checkPlainFileName(llvm::StringRef name);

} // namespace distopt

#endif // DISTOPT_SUPPORT_SAFEPATH_H
