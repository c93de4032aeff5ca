//===- tensor_file.cpp - fuzz the .npy and .pb tensor readers -------------===//
//
// Input: the bytes of a tensor file. Reads them as a .npy file and as an
// ONNX TensorProto .pb file (readTensorFile picks the format by suffix, as
// dist-run's inputs do), with a 64 MiB limit. A tensor that reads must hold
// exactly the bytes its shape and element type need.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "runtime/core/TensorIO.h"

#include <cstdio>
#include <cstdlib>

using namespace distopt::rt;

/// Reads `path`; aborts when a tensor that reads is inconsistent.
static void readAndCheck(const std::string &path) {
  HostTensor tensor;
  std::string error;
  if (!readTensorFile(path, /*maxBytes=*/64u << 20, tensor, error))
    return;
  unsigned __int128 elements = 1;
  for (int64_t d : tensor.shape) {
    if (d < 0) {
      std::fprintf(stderr, "fuzz: '%s' read with a negative dimension\n",
                   path.c_str());
      std::abort();
    }
    elements *= uint64_t(d);
  }
  unsigned __int128 expected =
      tensor.dtype == DType::I1 ? elements : elements * byteWidth(tensor.dtype);
  if (expected != tensor.bytes.size()) {
    std::fprintf(stderr,
                 "fuzz: '%s' read as %s with %zu dimensions and %zu bytes, "
                 "not the bytes its shape needs\n",
                 path.c_str(), dtypeName(tensor.dtype), tensor.shape.size(),
                 tensor.bytes.size());
    std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  readAndCheck(distopt::fuzz::writeScratchFile("input.npy", data, size));
  readAndCheck(distopt::fuzz::writeScratchFile("input.pb", data, size));
  return 0;
}
