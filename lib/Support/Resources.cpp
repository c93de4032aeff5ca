//===- Resources.cpp - Memory limits of a compile or a run ----------------===//

#include "distopt/Support/Resources.h"

#include "llvm/ADT/StringSwitch.h"

#include <cctype>
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
