//===- Resources.h - Memory limits of a compile or a run ---------*- C++ -*-===//
//
// dist-opt and dist-run bound the memory that an untrusted model or program
// may make them allocate: `--max-memory BYTES`, by default the machine's
// physical memory, is checked before anything of that size is allocated.
// Both tools read the flag and the default through these functions.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_SUPPORT_RESOURCES_H
#define DISTOPT_SUPPORT_RESOURCES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace distopt {

/// The machine's physical memory in bytes (UINT64_MAX when the system does
/// not say).
uint64_t getPhysicalMemory();

/// Parses a positive byte count with an optional binary suffix: `4096`,
/// `512K`, `8M`, `2G`, `1T` (or `KiB`, `MiB`, `GiB`, `TiB`). Returns
/// nothing for zero, for another suffix and for counts beyond 64 bits.
std::optional<uint64_t> parseByteSize(llvm::StringRef text);

/// The memory this process has resident now, and the most it had since it
/// started or since resetPeakResident, in bytes (Linux's VmRSS and VmHWM; 0
/// where the system does not say).
uint64_t getResidentBytes();
uint64_t getPeakResidentBytes();
/// Starts the peak over from what is resident now; false where the system
/// cannot.
bool resetPeakResident();

} // namespace distopt

#endif // DISTOPT_SUPPORT_RESOURCES_H
