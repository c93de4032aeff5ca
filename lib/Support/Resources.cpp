//===- Resources.cpp - Memory limits of a compile or a run ----------------===//

#include "distopt/Support/Resources.h"

#include "llvm/ADT/StringSwitch.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cctype>
#include <fstream>
#include <unistd.h>

using namespace distopt;

uint64_t distopt::getPhysicalMemory() {
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return UINT64_MAX;
  return uint64_t(pages) * uint64_t(pageSize);
}

std::optional<uint64_t> distopt::parseByteSize(llvm::StringRef text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit((unsigned char)text[digits]))
    ++digits;
  uint64_t value = 0;
  if (digits == 0 || text.substr(0, digits).getAsInteger(10, value) ||
      value == 0)
    return std::nullopt;
  int shift = llvm::StringSwitch<int>(text.substr(digits))
                  .Case("", 0)
                  .Cases({"K", "KiB"}, 10)
                  .Cases({"M", "MiB"}, 20)
                  .Cases({"G", "GiB"}, 30)
                  .Cases({"T", "TiB"}, 40)
                  .Default(-1);
  if (shift < 0 || value > (UINT64_MAX >> shift))
    return std::nullopt;
  return value << shift;
}

/// The value of `field` (in kB) of /proc/self/status, in bytes.
static uint64_t readStatusBytes(llvm::StringRef field) {
  auto buffer = llvm::MemoryBuffer::getFileAsStream("/proc/self/status");
  if (!buffer)
    return 0;
  llvm::StringRef text = (*buffer)->getBuffer();
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    if (!line.consume_front(field) || !line.consume_front(":"))
      continue;
    llvm::StringRef number = line.trim();
    uint64_t kb = 0;
    if (!number.consume_back("kB") || number.trim().getAsInteger(10, kb))
      return 0;
    return kb * 1024;
  }
  return 0;
}

uint64_t distopt::getResidentBytes() { return readStatusBytes("VmRSS"); }

uint64_t distopt::getPeakResidentBytes() { return readStatusBytes("VmHWM"); }

bool distopt::resetPeakResident() {
  // Writing 5 to clear_refs resets VmHWM to VmRSS (Linux 4.0 and later).
  std::ofstream refs("/proc/self/clear_refs");
  return refs && (refs << "5").flush().good();
}
