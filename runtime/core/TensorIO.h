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

/// Reads a .npy (NumPy format 1.0-3.0, little-endian, C order; a header
/// NumPy would refuse is refused) or, for a `.pb` suffix, an ONNX
/// TensorProto file. Before anything is allocated, refuses what is not a
/// regular file (a device such as /dev/zero, a pipe, a folder), a file or a
/// tensor larger than `maxBytes`, negative dimensions, and a .npy file whose
/// size is not its header's plus the bytes its shape needs. Returns false
/// with a message in `error` naming the file and the problem.
bool readTensorFile(const std::string &path, uint64_t maxBytes,
                    HostTensor &tensor, std::string &error);

/// The ONNX TensorProto element type (onnx::TensorProto::DataType's value)
/// of `dtype`: the inverse of how readTensorFile reads a .pb file's type.
int32_t onnxDataType(DType dtype);

/// Writes `tensor` as a .npy file (format 1.0) to a new temporary file in
/// `dir`, named after `name`, and returns its path in `tmpPath`; the caller
/// renames it into place. Every write and the close are checked: on failure
/// the temporary is removed and `error` says why.
bool writeNpyTemporary(const std::string &dir, const std::string &name,
                       const HostTensor &tensor, std::string &tmpPath,
                       std::string &error);

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CORE_TENSORIO_H
