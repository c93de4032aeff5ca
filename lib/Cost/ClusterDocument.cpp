//===- ClusterDocument.cpp - YAML cluster files as a located tree ---------===//
//
// The YAML side of ClusterDocument.h: yaml-cpp parses the text and its
// nodes are copied into DocumentNode with their marks. yaml-cpp reports
// malformed input with exceptions; they are caught here and become
// llvm::Error with the exception's own mark and message.
//
//===----------------------------------------------------------------------===//

#include "ClusterDocument.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <yaml-cpp/yaml.h>

using namespace distopt::cost;
using llvm::StringRef;

const DocumentNode *DocumentNode::lookup(StringRef key) const {
  for (const auto &[name, value] : entries)
    if (name.scalar == key)
      return &value;
  return nullptr;
}

static DocumentLocation getLocation(const YAML::Mark &mark) {
  // yaml-cpp counts from 0; a node without a mark has -1.
  return {unsigned(std::max(0, mark.line) + 1),
          unsigned(std::max(0, mark.column) + 1)};
}

static llvm::Error makeError(StringRef bufferName, const YAML::Mark &mark,
                             const llvm::Twine &message) {
  DocumentLocation location = getLocation(mark);
  return llvm::createStringError(llvm::formatv("{0}:{1}:{2}: {3}", bufferName,
                                               location.line, location.column,
                                               message.str())
                                     .str());
}

/// Copies `node` and everything below it into `out`; `nodes` counts the
/// values copied so far (an alias is copied at each use).
static llvm::Error convert(const YAML::Node &node, StringRef bufferName,
                           unsigned depth, size_t &nodes, DocumentNode &out) {
  if (depth > kMaxDocumentDepth)
    return makeError(
        bufferName, node.Mark(),
        llvm::formatv("nesting deeper than {0} levels", kMaxDocumentDepth));
  if (++nodes > kMaxDocumentNodes)
    return makeError(bufferName, node.Mark(),
                     llvm::formatv("more than {0} values (each use of an "
                                   "alias counts as a copy)",
                                   kMaxDocumentNodes));
  out.location = getLocation(node.Mark());
  switch (node.Type()) {
  case YAML::NodeType::Undefined:
  case YAML::NodeType::Null:
    out.kind = DocumentNode::Kind::Null;
    return llvm::Error::success();
  case YAML::NodeType::Scalar:
    out.kind = DocumentNode::Kind::Scalar;
    out.scalar = node.Scalar();
    // yaml-cpp tags a quoted scalar "!" and a plain one "?".
    out.quoted = node.Tag() == "!";
    return llvm::Error::success();
  case YAML::NodeType::Sequence:
    out.kind = DocumentNode::Kind::Sequence;
    for (const YAML::Node &item : node) {
      out.items.emplace_back();
      if (llvm::Error error =
              convert(item, bufferName, depth + 1, nodes, out.items.back()))
        return error;
    }
    return llvm::Error::success();
  case YAML::NodeType::Map:
    out.kind = DocumentNode::Kind::Map;
    // A set, not lookup(): a map of n keys is checked in O(n), not O(n^2).
    llvm::StringSet<> keys;
    for (const auto &entry : node) {
      // A key that is not a scalar (`? [a]`) keeps an empty name, which no
      // key of the format matches.
      DocumentNode key;
      key.kind = DocumentNode::Kind::Scalar;
      key.location = getLocation(entry.first.Mark());
      if (entry.first.IsScalar())
        key.scalar = entry.first.Scalar();
      // yaml-cpp keeps both entries of a repeated key; the format has one.
      if (!key.scalar.empty() && !keys.insert(key.scalar).second)
        return makeError(bufferName, entry.first.Mark(),
                         llvm::formatv("duplicate key '{0}'", key.scalar));
      out.entries.emplace_back(std::move(key), DocumentNode());
      if (llvm::Error error = convert(entry.second, bufferName, depth + 1,
                                      nodes, out.entries.back().second))
        return error;
    }
    return llvm::Error::success();
  }
  return llvm::Error::success();
}

llvm::Expected<DocumentNode>
distopt::cost::parseYAMLDocument(StringRef text, StringRef bufferName) {
  try {
    YAML::Node root = YAML::Load(text.str());
    DocumentNode document;
    size_t nodes = 0;
    if (llvm::Error error = convert(root, bufferName, 0, nodes, document))
      return std::move(error);
    return document;
  } catch (const YAML::Exception &e) {
    return makeError(bufferName, e.mark, e.msg);
  }
}
