//===- ClusterDocument.h - Located tree of a cluster file -------*- C++ -*-===//
//
// The syntax-free form of a cluster file: maps, lists and scalars, each with
// the line and column where it starts. The YAML reader (yaml-cpp) and the
// JSON reader (a strict parser of its own) both produce it, and one reader
// (ClusterFileReader.cpp) turns it into a ClusterSpec, so that both formats
// have the same keys, checks and messages. Private to lib/Cost.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_LIB_COST_CLUSTERDOCUMENT_H
#define DISTOPT_LIB_COST_CLUSTERDOCUMENT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace distopt::cost {

/// The units of the cluster file format, in the library's SI units.
namespace fileunits {
inline constexpr double kTFLOPs = 1e12; // peak_tflops, vector_tflops
inline constexpr double kGFLOP = 1e9;   // gemm_half_gflop
inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0; // memory_gib
inline constexpr double kGBs = 1e9;          // bandwidths, curve GB/s
inline constexpr double kMB = 1e6;           // curve sizes
inline constexpr double kMicrosecond = 1e-6; // latency, op_overhead_us
} // namespace fileunits

/// A 1-based position in the text of a file.
struct DocumentLocation {
  unsigned line = 1;
  unsigned column = 1;
};

/// One node of a cluster file: null, a scalar (numbers and strings alike,
/// as written), a list or a map whose keys keep their order.
struct DocumentNode {
  enum class Kind { Null, Scalar, Sequence, Map };

  Kind kind = Kind::Null;
  DocumentLocation location;
  /// The text of a scalar (a JSON string without its quotes and escapes).
  std::string scalar;
  /// Whether the scalar was written as a string (in quotes): a number
  /// written as `"4"` is a string, not a number.
  bool quoted = false;
  /// The items of a list.
  std::vector<DocumentNode> items;
  /// The entries of a map: the key as a scalar node (for its position) and
  /// its value.
  std::vector<std::pair<DocumentNode, DocumentNode>> entries;

  bool isNull() const { return kind == Kind::Null; }
  bool isScalar() const { return kind == Kind::Scalar; }
  bool isSequence() const { return kind == Kind::Sequence; }
  bool isMap() const { return kind == Kind::Map; }

  /// The value of the first entry whose key is `key`, or null if this is
  /// not a map or has no such key.
  const DocumentNode *lookup(llvm::StringRef key) const;
};

/// Nesting deeper than this is an error in both formats (it also stops a
/// YAML alias that refers to its own anchor).
inline constexpr unsigned kMaxDocumentDepth = 64;

/// More values (scalars, lists and maps, keys not counted) than this is an
/// error in both formats. A cluster file has a few thousand; the limit stops
/// YAML aliases of aliases, which would expand to billions of copies, and
/// bounds the memory of the tree for any text.
inline constexpr size_t kMaxDocumentNodes = size_t(1) << 18;

/// Parses YAML `text` (one document). Syntax errors are
/// `bufferName:line:column: message`.
llvm::Expected<DocumentNode> parseYAMLDocument(llvm::StringRef text,
                                               llvm::StringRef bufferName);

/// Parses strict JSON `text` (RFC 8259): no comments, no trailing commas,
/// UTF-8; a key given twice in one object is an error. Errors are
/// `bufferName:line:column: message`.
llvm::Expected<DocumentNode> parseJSONDocument(llvm::StringRef text,
                                               llvm::StringRef bufferName);

} // namespace distopt::cost

#endif // DISTOPT_LIB_COST_CLUSTERDOCUMENT_H
