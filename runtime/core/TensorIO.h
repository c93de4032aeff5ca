//===- TensorIO.h - tensors in .npy and ONNX .pb files ----------*- C++ -*-===//
//
// Reads inputs given to dist-run as NumPy .npy files or ONNX TensorProto .pb
// files (the format of the ONNX backend tests) and writes outputs as .npy.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CORE_TENSORIO_H
#define DISTOPT_RUNTIME_CORE_TENSORIO_H

#include "runtime/cpu/Kernels.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distopt::rt {

/// A tensor that owns its bytes.
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

/// The name of `dtype` as written in messages (f32, i64, ...).
const char *dtypeName(DType dtype);

/// Reads a .npy (NumPy format 1.0-3.0, little-endian, C order) or, for a
/// `.pb` suffix, an ONNX TensorProto file. Returns false with a message in
/// `error` naming the file and the problem.
bool readTensorFile(const std::string &path, HostTensor &tensor,
                    std::string &error);

/// Writes `tensor` as a .npy file (format 1.0), through a temporary file
/// renamed into place. Returns false with a message in `error`.
bool writeNpy(const std::string &path, const HostTensor &tensor,
              std::string &error);

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CORE_TENSORIO_H
