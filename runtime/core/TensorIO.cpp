//===- TensorIO.cpp - tensors in .npy and ONNX .pb files ------------------===//
//
// The .npy format (NumPy's NEP 1): magic "\x93NUMPY", a version, a header
// length, then a Python dict literal with 'descr', 'fortran_order' and
// 'shape', padded so that the data starts aligned. Only the dtypes dist-opt
// carries are accepted, little-endian and in C order.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/TensorIO.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace distopt::rt;

int32_t distopt::rt::onnxDataType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return onnx::TensorProto::FLOAT;
  case DType::F64:
    return onnx::TensorProto::DOUBLE;
  case DType::F16:
    return onnx::TensorProto::FLOAT16;
  case DType::BF16:
    return onnx::TensorProto::BFLOAT16;
  case DType::I1:
    return onnx::TensorProto::BOOL;
  case DType::I8:
    return onnx::TensorProto::INT8;
  case DType::I16:
    return onnx::TensorProto::INT16;
  case DType::I32:
    return onnx::TensorProto::INT32;
  case DType::I64:
    return onnx::TensorProto::INT64;
  }
  return onnx::TensorProto::UNDEFINED;
}

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

/// NumPy refuses longer headers unless told to trust the file
/// (`max_header_size` of numpy.load).
static constexpr size_t kMaxNpyHeaderBytes = 10000;

/// Opens `path` for reading and checks that it is a regular file (not a
/// device such as /dev/zero, a pipe or a folder) of at most `maxBytes`.
static bool openRegularFile(const std::string &path, uint64_t maxBytes, int &fd,
                            uint64_t &size, std::string &error) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  struct stat status;
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(fd);
    error = "'" + path + "' is not a regular file (a device, a pipe or a " +
            "folder); give a .npy or .pb file";
    return false;
  }
  size = status.st_size;
  if (size > maxBytes) {
    ::close(fd);
    error = "'" + path + "' has " + std::to_string(size) +
            " bytes, more than the limit of " + std::to_string(maxBytes);
    return false;
  }
  return true;
}

/// Reads exactly `n` bytes of `fd` into `out`.
static bool readExactly(int fd, uint8_t *out, size_t n, const std::string &path,
                        std::string &error) {
  while (n > 0) {
    ssize_t got = ::read(fd, out, std::min<size_t>(n, size_t(1) << 30));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      error = "cannot read '" + path +
              "': " + (got < 0 ? std::strerror(errno) : "the file ends early");
      return false;
    }
    out += got;
    n -= got;
  }
  return true;
}

namespace {
/// The three entries of a .npy header.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// A strict reader of the header's dict literal: exactly the keys 'descr',
/// 'fortran_order' and 'shape', each once, with a quoted string, True or
/// False, and a tuple of non-negative integers. What NumPy would refuse is
/// refused, and a few things it would accept (duplicate keys, escapes in
/// strings) too.
class NpyHeaderParser {
public:
  explicit NpyHeaderParser(const std::string &text) : text(text) {}
  bool parse(NpyHeader &header, std::string &why);

private:
  void skipSpace() {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n'))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool parseString(std::string &out);
  bool parseBool(bool &out);
  bool parseShape(std::vector<int64_t> &shape, std::string &why);
  bool parseEntry(NpyHeader &header, std::vector<std::string> &seen,
                  std::string &why);

  const std::string &text;
  size_t pos = 0;
};
} // namespace

bool NpyHeaderParser::parseString(std::string &out) {
  skipSpace();
  if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
    return false;
  char quote = text[pos];
  size_t end = text.find(quote, pos + 1);
  if (end == std::string::npos)
    return false;
  out = text.substr(pos + 1, end - pos - 1);
  if (out.find_first_of("\\\n") != std::string::npos)
    return false;
  pos = end + 1;
  return true;
}

bool NpyHeaderParser::parseBool(bool &out) {
  skipSpace();
  for (auto [word, value] : {std::pair{"True", true}, {"False", false}}) {
    size_t n = std::strlen(word);
    if (text.compare(pos, n, word) == 0 &&
        (pos + n == text.size() ||
         !std::isalnum((unsigned char)text[pos + n]))) {
      pos += n;
      out = value;
      return true;
    }
  }
  return false;
}

bool NpyHeaderParser::parseShape(std::vector<int64_t> &shape,
                                 std::string &why) {
  why = "'shape' is not a tuple of non-negative integers";
  shape.clear();
  if (!consume('('))
    return false;
  if (consume(')'))
    return true;
  while (true) {
    skipSpace();
    size_t begin = pos;
    while (pos < text.size() && std::isdigit((unsigned char)text[pos]))
      ++pos;
    std::string digits = text.substr(begin, pos - begin);
    // Python has no leading zeros in integers.
    if (digits.empty() || (digits.size() > 1 && digits[0] == '0'))
      return false;
    errno = 0;
    unsigned long long d = std::strtoull(digits.c_str(), nullptr, 10);
    if (errno == ERANGE || d > uint64_t(INT64_MAX)) {
      why = "dimension " + digits + " in 'shape' is too large";
      return false;
    }
    shape.push_back(int64_t(d));
    if (consume(',')) {
      if (consume(')'))
        return true;
      continue;
    }
    // A one-element tuple needs its comma: (5) is the integer 5.
    return shape.size() > 1 && consume(')');
  }
}

bool NpyHeaderParser::parseEntry(NpyHeader &header,
                                 std::vector<std::string> &seen,
                                 std::string &why) {
  std::string key;
  if (!parseString(key)) {
    why = "the header's dict has a key that is not a quoted string";
    return false;
  }
  if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
    why = "the header names '" + key + "' twice";
    return false;
  }
  seen.push_back(key);
  if (!consume(':')) {
    why = "no ':' after '" + key + "' in the header";
    return false;
  }
  if (key == "descr") {
    if (!parseString(header.descr)) {
      why = "'descr' is not a quoted string";
      return false;
    }
  } else if (key == "fortran_order") {
    if (!parseBool(header.fortranOrder)) {
      why = "'fortran_order' is neither True nor False";
      return false;
    }
  } else if (key == "shape") {
    return parseShape(header.shape, why);
  } else {
    why = "the header has the key '" + key +
          "'; a .npy header has exactly 'descr', 'fortran_order' and 'shape'";
    return false;
  }
  return true;
}

bool NpyHeaderParser::parse(NpyHeader &header, std::string &why) {
  if (!consume('{')) {
    why = "the header is not a dict literal";
    return false;
  }
  std::vector<std::string> seen;
  if (!consume('}')) {
    while (true) {
      if (!parseEntry(header, seen, why))
        return false;
      bool comma = consume(',');
      if (consume('}'))
        break;
      if (!comma) {
        why = "expected ',' or '}' in the header's dict";
        return false;
      }
    }
  }
  skipSpace();
  if (pos != text.size()) {
    why = "text after the header's dict";
    return false;
  }
  for (const char *key : {"descr", "fortran_order", "shape"})
    if (std::find(seen.begin(), seen.end(), key) == seen.end()) {
      why = std::string("no '") + key + "' in the header";
      return false;
    }
  return true;
}

/// The dtype of a NumPy descr that dist-opt carries, or false.
static bool dtypeOfDescr(const std::string &descr, DType &dtype) {
  static const std::pair<const char *, DType> descrs[] = {
      {"<f4", DType::F32}, {"<f8", DType::F64}, {"<f2", DType::F16},
      {"|b1", DType::I1},  {"|i1", DType::I8},  {"<i2", DType::I16},
      {"<i4", DType::I32}, {"<i8", DType::I64}};
  for (auto [d, t] : descrs)
    if (descr == d) {
      dtype = t;
      return true;
    }
  return false;
}

/// The .npy preamble: magic, version 1.0, 2.0 or 3.0, header length.
static bool readNpyPreamble(int fd, const std::string &path, uint64_t size,
                            size_t &headerStart, size_t &headerLength,
                            std::string &why) {
  uint8_t pre[12];
  if (size < 10 || !readExactly(fd, pre, 10, path, why) ||
      std::memcmp(pre, "\x93NUMPY", 6) != 0) {
    why = "no NumPy magic at the start";
    return false;
  }
  uint8_t major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0) {
    why = "unknown format version " + std::to_string(major) + "." +
          std::to_string(minor) + " (NumPy writes 1.0, 2.0 and 3.0)";
    return false;
  }
  headerStart = major == 1 ? 10 : 12;
  if (major != 1 && (size < 12 || !readExactly(fd, pre + 10, 2, path, why))) {
    why = "truncated header";
    return false;
  }
  headerLength = pre[8] | (pre[9] << 8);
  if (major != 1)
    headerLength |= (size_t(pre[10]) << 16) | (size_t(pre[11]) << 24);
  if (headerLength > kMaxNpyHeaderBytes) {
    why = "the header has " + std::to_string(headerLength) +
          " bytes, more than NumPy's limit of " +
          std::to_string(kMaxNpyHeaderBytes);
    return false;
  }
  if (headerStart + headerLength > size) {
    why = "truncated header";
    return false;
  }
  return true;
}

/// Reads a .npy file: preamble, header, then (once its size is known to
/// match the file's and the limit) the data.
static bool readNpy(const std::string &path, int fd, uint64_t size,
                    uint64_t maxBytes, HostTensor &tensor, std::string &error) {
  std::string why;
  auto fail = [&](const std::string &reason) {
    error = "'" + path + "' is not a usable .npy file: " + reason;
    return false;
  };
  size_t headerStart = 0, headerLength = 0;
  if (!readNpyPreamble(fd, path, size, headerStart, headerLength, why))
    return fail(why);
  std::string text(headerLength, '\0');
  if (!readExactly(fd, reinterpret_cast<uint8_t *>(text.data()), headerLength,
                   path, why))
    return fail(why);
  NpyHeader header;
  if (!NpyHeaderParser(text).parse(header, why))
    return fail(why);
  if (!dtypeOfDescr(header.descr, tensor.dtype))
    return fail("element type '" + header.descr +
                "' is not one of f32, f64, f16, bool, i8, i16, i32, i64 "
                "(little-endian)");
  if (header.fortranOrder)
    return fail("Fortran order is not supported; save with C order");
  uint64_t bytes = byteWidth(tensor.dtype);
  for (int64_t d : header.shape)
    if (__builtin_mul_overflow(bytes, uint64_t(d), &bytes))
      return fail("the shape overflows");
  uint64_t dataBytes = size - headerStart - headerLength;
  if (dataBytes != bytes)
    return fail("holds " + std::to_string(dataBytes) +
                " data bytes, the shape needs " + std::to_string(bytes));
  if (bytes > maxBytes) {
    error = "'" + path + "' holds a tensor of " + std::to_string(bytes) +
            " bytes, more than the limit of " + std::to_string(maxBytes);
    return false;
  }
  tensor.shape = header.shape;
  tensor.bytes.resize(bytes);
  return readExactly(fd, tensor.bytes.data(), bytes, path, error);
}

/// Reads an ONNX TensorProto file; its dims are checked (non-negative, the
/// bytes they need within `maxBytes`) before anything is allocated.
static bool readPb(const std::string &path, const std::string &data,
                   uint64_t maxBytes, HostTensor &tensor, std::string &error) {
  onnx::TensorProto proto;
  if (!proto.ParseFromString(data)) {
    error = "'" + path + "' is not an ONNX TensorProto file";
    return false;
  }
  int64_t count = 1;
  tensor.shape.assign(proto.dims().begin(), proto.dims().end());
  for (int64_t d : tensor.shape) {
    if (d < 0) {
      error = "'" + path + "' has the negative dimension " + std::to_string(d);
      return false;
    }
    if (__builtin_mul_overflow(count, d, &count)) {
      error = "'" + path + "' has more elements than fit in 64 bits";
      return false;
    }
  }
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
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(uint64_t(count), uint64_t(width), &bytes) ||
      bytes > maxBytes) {
    error = "'" + path + "' holds a tensor of more bytes than the limit of " +
            std::to_string(maxBytes);
    return false;
  }
  tensor.bytes.assign(bytes, 0);
  auto mismatch = [&](int64_t found) {
    error = "'" + path + "' holds " + std::to_string(found) +
            " values, its shape needs " + std::to_string(count);
    return false;
  };
  uint8_t *out = tensor.bytes.data();
  // An empty tensor has no values to copy, and an empty field's data
  // pointer may be null, which memcpy must not get even for 0 bytes.
  auto copy = [&](const void *values) {
    if (!tensor.bytes.empty())
      std::memcpy(out, values, tensor.bytes.size());
    return true;
  };
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != tensor.bytes.size())
      return mismatch(proto.raw_data().size() / width);
    return copy(proto.raw_data().data());
  }
  switch (tensor.dtype) {
  case DType::F32:
    if (proto.float_data_size() != count)
      return mismatch(proto.float_data_size());
    return copy(proto.float_data().data());
  case DType::F64:
    if (proto.double_data_size() != count)
      return mismatch(proto.double_data_size());
    return copy(proto.double_data().data());
  case DType::I64:
    if (proto.int64_data_size() != count)
      return mismatch(proto.int64_data_size());
    return copy(proto.int64_data().data());
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

bool distopt::rt::readTensorFile(const std::string &path, uint64_t maxBytes,
                                 HostTensor &tensor, std::string &error) {
  bool pb = path.size() >= 3 && path.compare(path.size() - 3, 3, ".pb") == 0;
  // A .npy file is its data and a header of bounded size.
  uint64_t maxFileBytes = maxBytes;
  if (!pb &&
      __builtin_add_overflow(maxBytes, 12 + kMaxNpyHeaderBytes, &maxFileBytes))
    maxFileBytes = UINT64_MAX;
  int fd = -1;
  uint64_t size = 0;
  if (!openRegularFile(path, maxFileBytes, fd, size, error))
    return false;
  bool ok;
  if (pb) {
    std::string data(size, '\0');
    ok = readExactly(fd, reinterpret_cast<uint8_t *>(data.data()), size, path,
                     error) &&
         readPb(path, data, maxBytes, tensor, error);
  } else {
    ok = readNpy(path, fd, size, maxBytes, tensor, error);
  }
  ::close(fd);
  return ok;
}

/// The .npy header of `tensor` with element type `descr`, padded so that the
/// data starts at a multiple of 64 bytes.
static std::string makeNpyHeader(const char *descr, const HostTensor &tensor,
                                 size_t preamble) {
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    header += std::to_string(tensor.shape[i]) + ", ";
  if (tensor.shape.size() > 1)
    header.erase(header.size() - 2);
  else if (tensor.shape.size() == 1)
    header.erase(header.size() - 1);
  header += "), }";
  size_t total = preamble + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  return header;
}

bool distopt::rt::writeNpyTemporary(const std::string &dir,
                                    const std::string &name,
                                    const HostTensor &tensor,
                                    std::string &tmpPath, std::string &error) {
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
  // Version 1.0 unless the header needs more than 64 KiB.
  std::string header = makeNpyHeader(descr, tensor, 10);
  bool v2 = header.size() > 0xffff;
  if (v2)
    header = makeNpyHeader(descr, tensor, 12);

  llvm::SmallString<256> model(dir);
  llvm::sys::path::append(model, "." + name + ".npy.tmp-%%%%%%");
  int fd = -1;
  llvm::SmallString<256> tmp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tmp)) {
    error = "cannot create a temporary file in '" + dir + "': " + ec.message();
    return false;
  }
  tmpPath = std::string(tmp);
  llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
  out.write(v2 ? "\x93NUMPY\x02\x00" : "\x93NUMPY\x01\x00", 8);
  uint32_t length = header.size();
  char le[4] = {char(length & 0xff), char((length >> 8) & 0xff),
                char((length >> 16) & 0xff), char(length >> 24)};
  out.write(le, v2 ? 4 : 2);
  out << header;
  out.write(reinterpret_cast<const char *>(bytes->data()), bytes->size());
  out.close();
  if (out.has_error()) {
    error = "cannot write '" + tmpPath + "': " + out.error().message();
    out.clear_error();
    llvm::sys::fs::remove(tmpPath);
    return false;
  }
  return true;
}
