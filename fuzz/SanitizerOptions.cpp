//===- SanitizerOptions.cpp - ASan defaults of every fuzz target ----------===//
//
// allow_user_poisoning=0: LLVM's BumpPtrAllocator (inline, in headers)
// poisons the unused rest of each slab when compiled with ASan and unpoisons
// what it hands out. The project's code is instrumented, Debian's libMLIR.so
// and libLLVM.so are not: a slab that instrumented code started and that
// libMLIR's copy of the allocator then carves from stays poisoned, and the
// first write to it (StringAttr::get while reading an artifact) is reported
// as use-after-poison. The option turns the allocator's manual poisoning
// off; heap, stack and global checks stay on. scripts/test.sh sets the same
// for the ASan test suite. Options given in ASAN_OPTIONS still override it.
//
//===----------------------------------------------------------------------===//

extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}
