//===- FuzzSupport.h - helpers shared by the fuzz targets -------*- C++ -*-===//
//
// The readers under test take file paths (that is how the tools call them),
// so each fuzz target writes its input to a file in a temporary folder of
// its own process, made once and removed at exit. libFuzzer's -fork and
// -jobs modes run separate processes, which get separate folders.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_FUZZ_FUZZSUPPORT_H
#define DISTOPT_FUZZ_FUZZSUPPORT_H

#include "distopt/Dialect/Dist/DistDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace distopt::fuzz {

/// The dialects of dist-opt's programs, registered once per process.
inline const mlir::DialectRegistry &getRegistry() {
  static const mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry();
    distopt::registerAllDialects(*r);
    return r;
  }();
  return *registry;
}

/// This process's temporary folder (created on first use, removed at exit).
inline const std::string &getScratchDir() {
  static const std::string dir = [] {
    llvm::SmallString<128> path;
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("distopt-fuzz", path)) {
      std::fprintf(stderr, "fuzz: cannot create a temporary folder: %s\n",
                   ec.message().c_str());
      std::abort();
    }
    std::string result(path.str());
    static std::string toRemove = result;
    std::atexit([] { llvm::sys::fs::remove_directories(toRemove); });
    return result;
  }();
  return dir;
}

/// Writes `data` to `name` in the scratch folder (replacing the previous
/// input) and returns the file's path.
inline std::string writeScratchFile(llvm::StringRef name, const uint8_t *data,
                                    size_t size) {
  llvm::SmallString<128> path(getScratchDir());
  llvm::sys::path::append(path, name);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec) {
    std::fprintf(stderr, "fuzz: cannot write '%s': %s\n", path.c_str(),
                 ec.message().c_str());
    std::abort();
  }
  out.write(reinterpret_cast<const char *>(data), size);
  out.close();
  if (out.has_error()) {
    std::fprintf(stderr, "fuzz: cannot write '%s'\n", path.c_str());
    std::abort();
  }
  return std::string(path.str());
}

} // namespace distopt::fuzz

#endif // DISTOPT_FUZZ_FUZZSUPPORT_H
