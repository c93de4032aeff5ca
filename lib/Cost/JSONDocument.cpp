//===- JSONDocument.cpp - JSON cluster files as a located tree ------------===//
//
// A strict JSON parser (RFC 8259) that keeps the line and column of every
// value and key, so that the cluster reader can place its messages in a
// JSON file as it does in a YAML file. Syntax errors say what was being
// parsed, what was found and what was expected, at the offending token. A
// key given twice in one object is an error (YAML and most JSON parsers
// would keep one of the two silently).
//
//===----------------------------------------------------------------------===//

#include "ClusterDocument.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace distopt::cost;
using llvm::StringRef;

namespace {
/// Recursive descent over one JSON text; the first error stops it.
class JSONParser {
public:
  JSONParser(StringRef text, StringRef bufferName)
      : text(text), bufferName(bufferName) {}

  llvm::Expected<DocumentNode> parse();

private:
  /// An error at byte `offset` of the text (on the current line).
  llvm::Error fail(size_t offset, const llvm::Twine &message) const {
    DocumentLocation location = getLocation(offset);
    return llvm::createStringError(llvm::formatv("{0}:{1}:{2}: {3}", bufferName,
                                                 location.line, location.column,
                                                 message.str())
                                       .str());
  }
  /// "syntax error while parsing `context` - unexpected X; expected Y" at
  /// the next token.
  llvm::Error unexpected(StringRef context, StringRef expected) const;

  DocumentLocation getLocation(size_t offset) const {
    return {line, unsigned(offset - lineStart + 1)};
  }
  /// Skips JSON whitespace (space, tab, CR, LF), counting lines.
  void skipWhitespace();
  bool atEnd() const { return pos >= text.size(); }
  char peek() const { return atEnd() ? '\0' : text[pos]; }

  llvm::Error parseValue(unsigned depth, DocumentNode &out);
  llvm::Error parseObject(unsigned depth, DocumentNode &out);
  llvm::Error parseArray(unsigned depth, DocumentNode &out);
  llvm::Error parseString(std::string &out);
  llvm::Error parseNumber(DocumentNode &out);
  llvm::Error parseLiteral(DocumentNode &out);
  /// Reads the four hex digits of a \u escape.
  llvm::Error parseHex4(unsigned &out);

  StringRef text;
  StringRef bufferName;
  size_t pos = 0;
  unsigned line = 1;
  size_t lineStart = 0;
  /// Values parsed so far (kMaxDocumentNodes at most).
  size_t nodes = 0;
};
} // namespace

void JSONParser::skipWhitespace() {
  while (!atEnd()) {
    char c = text[pos];
    if (c == '\n') {
      ++line;
      lineStart = pos + 1;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      return;
    }
    ++pos;
  }
}

llvm::Error JSONParser::unexpected(StringRef context,
                                   StringRef expected) const {
  std::string found;
  if (atEnd())
    found = "end of input";
  else if (text[pos] == '"')
    found = "string literal";
  else
    found = llvm::formatv("'{0}'", text[pos]).str();
  return fail(pos, llvm::formatv("syntax error while parsing {0} - "
                                 "unexpected {1}; expected {2}",
                                 context, found, expected));
}

llvm::Error JSONParser::parseValue(unsigned depth, DocumentNode &out) {
  if (depth > kMaxDocumentDepth)
    return fail(pos, llvm::formatv("nesting deeper than {0} levels",
                                   kMaxDocumentDepth));
  if (++nodes > kMaxDocumentNodes)
    return fail(pos, llvm::formatv("more than {0} values", kMaxDocumentNodes));
  skipWhitespace();
  out.location = getLocation(pos);
  switch (peek()) {
  case '{':
    return parseObject(depth, out);
  case '[':
    return parseArray(depth, out);
  case '"':
    out.kind = DocumentNode::Kind::Scalar;
    out.quoted = true;
    return parseString(out.scalar);
  case '-':
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9':
    return parseNumber(out);
  default:
    if (atEnd() || text[pos] == ']' || text[pos] == '}' || text[pos] == ',' ||
        text[pos] == ':')
      return unexpected("value", "'[', '{', or a literal");
    return parseLiteral(out);
  }
}

llvm::Error JSONParser::parseObject(unsigned depth, DocumentNode &out) {
  out.kind = DocumentNode::Kind::Map;
  ++pos; // '{'
  llvm::StringSet<> keys;
  skipWhitespace();
  if (peek() == '}') {
    ++pos;
    return llvm::Error::success();
  }
  while (true) {
    skipWhitespace();
    if (peek() != '"')
      return unexpected("object key", "string literal");
    DocumentNode key;
    key.kind = DocumentNode::Kind::Scalar;
    key.location = getLocation(pos);
    size_t keyStart = pos;
    if (llvm::Error error = parseString(key.scalar))
      return error;
    if (!keys.insert(key.scalar).second)
      return fail(keyStart, llvm::formatv("duplicate key '{0}'", key.scalar));
    skipWhitespace();
    if (peek() != ':')
      return unexpected("object separator", "':'");
    ++pos;
    out.entries.emplace_back(std::move(key), DocumentNode());
    if (llvm::Error error = parseValue(depth + 1, out.entries.back().second))
      return error;
    skipWhitespace();
    if (peek() == '}') {
      ++pos;
      return llvm::Error::success();
    }
    if (peek() != ',')
      return unexpected("object", "',' or '}'");
    ++pos;
  }
}

llvm::Error JSONParser::parseArray(unsigned depth, DocumentNode &out) {
  out.kind = DocumentNode::Kind::Sequence;
  ++pos; // '['
  skipWhitespace();
  if (peek() == ']') {
    ++pos;
    return llvm::Error::success();
  }
  while (true) {
    out.items.emplace_back();
    if (llvm::Error error = parseValue(depth + 1, out.items.back()))
      return error;
    skipWhitespace();
    if (peek() == ']') {
      ++pos;
      return llvm::Error::success();
    }
    if (peek() != ',')
      return unexpected("array", "',' or ']'");
    ++pos;
  }
}

/// Appends `code` (a Unicode scalar value) to `out` as UTF-8.
static void appendUTF8(unsigned code, std::string &out) {
  if (code < 0x80) {
    out += char(code);
  } else if (code < 0x800) {
    out += char(0xC0 | (code >> 6));
    out += char(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += char(0xE0 | (code >> 12));
    out += char(0x80 | ((code >> 6) & 0x3F));
    out += char(0x80 | (code & 0x3F));
  } else {
    out += char(0xF0 | (code >> 18));
    out += char(0x80 | ((code >> 12) & 0x3F));
    out += char(0x80 | ((code >> 6) & 0x3F));
    out += char(0x80 | (code & 0x3F));
  }
}

llvm::Error JSONParser::parseHex4(unsigned &out) {
  out = 0;
  for (unsigned i = 0; i < 4; ++i, ++pos) {
    char c = peek();
    unsigned digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return fail(pos, "syntax error while parsing value - invalid string: "
                       "'\\u' must be followed by 4 hex digits");
    out = out * 16 + digit;
  }
  return llvm::Error::success();
}

llvm::Error JSONParser::parseString(std::string &out) {
  size_t start = pos++; // '"'
  while (true) {
    if (atEnd())
      return fail(start, "syntax error while parsing value - invalid string: "
                         "missing closing quote");
    char c = text[pos];
    if (c == '"') {
      ++pos;
      return llvm::Error::success();
    }
    if (static_cast<unsigned char>(c) < 0x20)
      return fail(pos, "syntax error while parsing value - invalid string: "
                       "control character must be escaped");
    if (c != '\\') {
      out += c;
      ++pos;
      continue;
    }
    ++pos;
    char escape = peek();
    ++pos;
    switch (escape) {
    case '"':
    case '\\':
    case '/':
      out += escape;
      break;
    case 'b':
      out += '\b';
      break;
    case 'f':
      out += '\f';
      break;
    case 'n':
      out += '\n';
      break;
    case 'r':
      out += '\r';
      break;
    case 't':
      out += '\t';
      break;
    case 'u': {
      size_t escapeStart = pos - 2;
      unsigned code;
      if (llvm::Error error = parseHex4(code))
        return error;
      if (code >= 0xDC00 && code <= 0xDFFF)
        return fail(escapeStart, "syntax error while parsing value - invalid "
                                 "string: lone low surrogate");
      if (code >= 0xD800 && code <= 0xDBFF) {
        unsigned low;
        if (peek() != '\\' || pos + 1 >= text.size() || text[pos + 1] != 'u')
          return fail(escapeStart, "syntax error while parsing value - "
                                   "invalid string: high surrogate without "
                                   "a low one");
        pos += 2;
        if (llvm::Error error = parseHex4(low))
          return error;
        if (low < 0xDC00 || low > 0xDFFF)
          return fail(escapeStart, "syntax error while parsing value - "
                                   "invalid string: high surrogate without "
                                   "a low one");
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
      }
      appendUTF8(code, out);
      break;
    }
    default:
      return fail(pos - 2, "syntax error while parsing value - invalid "
                           "string: unknown escape");
    }
  }
}

llvm::Error JSONParser::parseNumber(DocumentNode &out) {
  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  size_t start = pos;
  auto digits = [&] {
    size_t first = pos;
    while (!atEnd() && llvm::isDigit(text[pos]))
      ++pos;
    return pos > first;
  };
  auto invalid = [&] {
    // Report what was read up to the offending character, as written.
    size_t end = std::min(pos + 1, text.size());
    return fail(start, llvm::formatv("syntax error while parsing value - "
                                     "invalid number; last read: '{0}'",
                                     text.slice(start, end)));
  };
  if (peek() == '-')
    ++pos;
  if (peek() == '0')
    ++pos;
  else if (!digits())
    return invalid();
  if (peek() == '.') {
    ++pos;
    if (!digits())
      return invalid();
  }
  if (peek() == 'e' || peek() == 'E') {
    ++pos;
    if (peek() == '+' || peek() == '-')
      ++pos;
    if (!digits())
      return invalid();
  }
  out.kind = DocumentNode::Kind::Scalar;
  out.scalar = text.slice(start, pos).str();
  return llvm::Error::success();
}

llvm::Error JSONParser::parseLiteral(DocumentNode &out) {
  for (StringRef literal : {"true", "false", "null"}) {
    if (!text.substr(pos).starts_with(literal))
      continue;
    pos += literal.size();
    if (literal == "null") {
      out.kind = DocumentNode::Kind::Null;
    } else {
      out.kind = DocumentNode::Kind::Scalar;
      out.scalar = literal.str();
    }
    return llvm::Error::success();
  }
  // Show the word that is not a literal.
  size_t end = pos;
  while (end < text.size() &&
         !llvm::StringRef(" \t\r\n,:[]{}\"").contains(text[end]))
    ++end;
  return fail(pos, llvm::formatv("syntax error while parsing value - invalid "
                                 "literal; last read: '{0}'",
                                 text.slice(pos, std::max(end, pos + 1))));
}

llvm::Expected<DocumentNode> JSONParser::parse() {
  size_t badOffset = 0;
  if (!llvm::json::isUTF8(text, &badOffset)) {
    // Count lines up to the bad byte for its position.
    StringRef before = text.take_front(badOffset);
    line = before.count('\n') + 1;
    size_t lastNewline = before.rfind('\n');
    lineStart = lastNewline == StringRef::npos ? 0 : lastNewline + 1;
    return fail(badOffset, "invalid UTF-8");
  }
  DocumentNode root;
  if (llvm::Error error = parseValue(0, root))
    return std::move(error);
  skipWhitespace();
  if (!atEnd())
    return unexpected("value", "end of input");
  return root;
}

llvm::Expected<DocumentNode>
distopt::cost::parseJSONDocument(StringRef text, StringRef bufferName) {
  return JSONParser(text, bufferName).parse();
}
