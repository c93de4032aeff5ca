//===- TensorIO.cpp - tensors in .npy and ONNX .pb files ------------------===//
//
// The .npy format (NumPy's NEP 1): magic "\x93NUMPY", a version, a header
// length, then a Python dict literal with 'descr', 'fortran_order' and
// 'shape', padded so that the data starts aligned. Only the dtypes dist-opt
// carries are accepted, little-endian and in C order.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/TensorIO.h"

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

using namespace distopt::rt;

const char *distopt::rt::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32: return "f32";
  case DType::F64: return "f64";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::I1: return "i1";
  case DType::I8: return "i8";
  case DType::I16: return "i16";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  }
  return "?";
}

/// NumPy descr of each dtype ('|b1' for bool; bfloat16 has none).
static const char *npyDescr(DType dtype) {
  switch (dtype) {
  case DType::F32: return "<f4";
  case DType::F64: return "<f8";
  case DType::F16: return "<f2";
  case DType::I1: return "|b1";
  case DType::I8: return "|i1";
  case DType::I16: return "<i2";
  case DType::I32: return "<i4";
  case DType::I64: return "<i8";
  case DType::BF16: return nullptr;
  }
  return nullptr;
}

static bool readFile(const std::string &path, std::string &data,
                     std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  data = ss.str();
  return true;
}

static bool readNpy(const std::string &path, const std::string &data,
                    HostTensor &tensor, std::string &error) {
  auto fail = [&](const std::string &why) {
    error = "'" + path + "' is not a usable .npy file: " + why;
    return false;
  };
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0)
    return fail("no NumPy magic at the start");
  uint8_t major = data[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = uint8_t(data[8]) | (uint8_t(data[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12)
      return fail("truncated header");
    headerLength = uint32_t(uint8_t(data[8])) | (uint32_t(uint8_t(data[9])) << 8) |
                   (uint32_t(uint8_t(data[10])) << 16) |
                   (uint32_t(uint8_t(data[11])) << 24);
    headerStart = 12;
  } else {
    return fail("unknown format version " + std::to_string(major));
  }
  if (headerStart + headerLength > data.size())
    return fail("truncated header");
  std::string header = data.substr(headerStart, headerLength);

  std::smatch m;
  static const std::regex descrRe("'descr'\\s*:\\s*'([^']*)'");
  static const std::regex fortranRe("'fortran_order'\\s*:\\s*(True|False)");
  static const std::regex shapeRe("'shape'\\s*:\\s*\\(([^)]*)\\)");
  if (!std::regex_search(header, m, descrRe))
    return fail("no 'descr' in the header");
  std::string descr = m[1];
  if (!std::regex_search(header, m, fortranRe))
    return fail("no 'fortran_order' in the header");
  if (m[1] == "True")
    return fail("Fortran order is not supported; save with C order");
  if (!std::regex_search(header, m, shapeRe))
    return fail("no 'shape' in the header");
  std::string dims = m[1];

  static const std::pair<const char *, DType> descrs[] = {
      {"<f4", DType::F32}, {"<f8", DType::F64}, {"<f2", DType::F16},
      {"|b1", DType::I1},  {"|i1", DType::I8},  {"<i2", DType::I16},
      {"<i4", DType::I32}, {"<i8", DType::I64}};
  bool known = false;
  for (auto [d, t] : descrs)
    if (descr == d) {
      tensor.dtype = t;
      known = true;
    }
  if (!known)
    return fail("element type '" + descr +
                "' is not one of f32, f64, f16, bool, i8, i16, i32, i64 "
                "(little-endian)");

  tensor.shape.clear();
  std::stringstream ss(dims);
  std::string item;
  int64_t count = 1;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b == std::string::npos)
      continue;
    item = item.substr(b, e - b + 1);
    char *end = nullptr;
    long long d = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || d < 0)
      return fail("bad dimension '" + item + "' in the shape");
    if (__builtin_mul_overflow(count, d, &count))
      return fail("the shape overflows");
    tensor.shape.push_back(d);
  }
  size_t dataStart = headerStart + headerLength;
  size_t bytes = size_t(count) * byteWidth(tensor.dtype);
  if (data.size() - dataStart != bytes)
    return fail("holds " + std::to_string(data.size() - dataStart) +
                " data bytes, the shape needs " + std::to_string(bytes));
  tensor.bytes.assign(data.begin() + dataStart, data.end());
  return true;
}

static bool readPb(const std::string &path, const std::string &data,
                   HostTensor &tensor, std::string &error) {
  onnx::TensorProto proto;
  if (!proto.ParseFromString(data)) {
    error = "'" + path + "' is not an ONNX TensorProto file";
    return false;
  }
  int64_t count = 1;
  tensor.shape.assign(proto.dims().begin(), proto.dims().end());
  for (int64_t d : tensor.shape)
    count *= d;
  switch (proto.data_type()) {
  case onnx::TensorProto::FLOAT: tensor.dtype = DType::F32; break;
  case onnx::TensorProto::DOUBLE: tensor.dtype = DType::F64; break;
  case onnx::TensorProto::FLOAT16: tensor.dtype = DType::F16; break;
  case onnx::TensorProto::BFLOAT16: tensor.dtype = DType::BF16; break;
  case onnx::TensorProto::BOOL: tensor.dtype = DType::I1; break;
  case onnx::TensorProto::INT8: tensor.dtype = DType::I8; break;
  case onnx::TensorProto::INT16: tensor.dtype = DType::I16; break;
  case onnx::TensorProto::INT32: tensor.dtype = DType::I32; break;
  case onnx::TensorProto::INT64: tensor.dtype = DType::I64; break;
  default:
    error = "'" + path + "' holds an element type dist-opt does not carry";
    return false;
  }
  size_t width = byteWidth(tensor.dtype);
  tensor.bytes.assign(size_t(count) * width, 0);
  auto mismatch = [&](int64_t found) {
    error = "'" + path + "' holds " + std::to_string(found) +
            " values, its shape needs " + std::to_string(count);
    return false;
  };
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != tensor.bytes.size())
      return mismatch(proto.raw_data().size() / width);
    std::memcpy(tensor.bytes.data(), proto.raw_data().data(),
                tensor.bytes.size());
    return true;
  }
  uint8_t *out = tensor.bytes.data();
  switch (tensor.dtype) {
  case DType::F32:
    if (proto.float_data_size() != count)
      return mismatch(proto.float_data_size());
    std::memcpy(out, proto.float_data().data(), tensor.bytes.size());
    return true;
  case DType::F64:
    if (proto.double_data_size() != count)
      return mismatch(proto.double_data_size());
    std::memcpy(out, proto.double_data().data(), tensor.bytes.size());
    return true;
  case DType::I64:
    if (proto.int64_data_size() != count)
      return mismatch(proto.int64_data_size());
    std::memcpy(out, proto.int64_data().data(), tensor.bytes.size());
    return true;
  default:
    // Narrow types travel one per int32 (16-bit floats as bit patterns).
    if (proto.int32_data_size() != count)
      return mismatch(proto.int32_data_size());
    for (int64_t i = 0; i < count; ++i) {
      int32_t v = proto.int32_data(i);
      std::memcpy(out + i * width, &v, width); // little-endian low bytes
    }
    return true;
  }
}

bool distopt::rt::readTensorFile(const std::string &path, HostTensor &tensor,
                                 std::string &error) {
  std::string data;
  if (!readFile(path, data, error))
    return false;
  if (path.size() >= 3 && path.compare(path.size() - 3, 3, ".pb") == 0)
    return readPb(path, data, tensor, error);
  return readNpy(path, data, tensor, error);
}

bool distopt::rt::writeNpy(const std::string &path, const HostTensor &tensor,
                           std::string &error) {
  const char *descr = npyDescr(tensor.dtype);
  std::vector<uint8_t> converted;
  const std::vector<uint8_t> *bytes = &tensor.bytes;
  if (!descr) {
    // NumPy has no bfloat16: write it widened to float32.
    descr = "<f4";
    converted.resize(tensor.bytes.size() * 2);
    for (size_t i = 0; i < tensor.bytes.size() / 2; ++i) {
      uint32_t bits = uint32_t(tensor.bytes[2 * i] | (tensor.bytes[2 * i + 1] << 8))
                      << 16;
      std::memcpy(&converted[4 * i], &bits, 4);
    }
    bytes = &converted;
  }
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    header += std::to_string(tensor.shape[i]) + ", ";
  if (tensor.shape.size() > 1)
    header.erase(header.size() - 2);
  else if (tensor.shape.size() == 1)
    header.erase(header.size() - 1);
  header += "), }";
  // Pad with spaces so that magic + lengths + header + '\n' is a multiple of
  // 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) {
      error = "cannot write '" + tmp + "': " + std::strerror(errno);
      return false;
    }
    out.write("\x93NUMPY\x01\x00", 8);
    uint16_t length = header.size();
    char le[2] = {char(length & 0xff), char(length >> 8)};
    out.write(le, 2);
    out << header;
    out.write(reinterpret_cast<const char *>(bytes->data()), bytes->size());
    if (!out) {
      error = "cannot write '" + tmp + "'";
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename '" + tmp + "' to '" + path + "': " +
            std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}
