//===- Einsum.cpp - ONNX Einsum lowered to dist ops -----------------------===//
//
// Einsum has no dist op of its own: the importer parses the equation and
// lowers it to ops the planner and the runtime already know. Every operand
// first sums the indices that nothing else needs; then the operands are
// contracted pairwise from the left, each pair as one batched matmul
// (indices of both operands that stay are batch dims, indices of both that
// go are the contracted dim, the others the rows and the columns), or, when
// nothing is contracted or the elements are integers, as a broadcast product
// followed by a sum; a final transpose puts the indices in the output's
// order. An index repeated within one operand (a diagonal; with a sum, a
// trace) is taken first: the two dims merged into one, of which a strided
// slice takes the diagonal.
//
// The equation is untrusted input: every malformed equation is an error at
// the node that says what is wrong.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"

#include <algorithm>
#include <map>

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;
using namespace distopt::onnx_import;
using Node = onnx::NodeProto;

namespace {

/// An index of the equation: a letter (its ASCII code), or dim `i` of the
/// broadcast ellipsis dims (kEllipsisLabel + i, counted from the left of the
/// longest ellipsis).
using Label = int;
constexpr Label kEllipsisLabel = 256;

/// The indices of every operand and of the output.
struct EinsumSpec {
  SmallVector<SmallVector<Label>> inputs;
  SmallVector<Label> output;
};

/// The text of `label` for messages.
std::string labelName(Label label) {
  if (label >= kEllipsisLabel)
    return "dim " + std::to_string(label - kEllipsisLabel) + " of '...'";
  return "'" + std::string(1, static_cast<char>(label)) + "'";
}

bool isIndexLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// One term of the equation: its letters, and where its ellipsis stands
/// (-1 without one).
struct Term {
  SmallVector<Label> letters;
  int ellipsisAt = -1;
};

/// Parses one term (`what` names it in messages); an index may repeat in
/// an operand's term (a diagonal) but not in the output's.
FailureOr<Term> parseTerm(ImportContext &ic, const Node &node, StringRef text,
                          const Twine &what, bool isOutput = false) {
  Term term;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (isIndexLetter(c)) {
      if (isOutput && llvm::is_contained(term.letters, Label(c)))
        return ic.emitError(node)
               << "Einsum: index '" << c << "' is repeated in " << what;
      term.letters.push_back(c);
      continue;
    }
    if (c == '.') {
      if (!text.substr(i).starts_with("..."))
        return ic.emitError(node)
               << "Einsum: " << what << " has a '.' that is not part of '...'";
      if (term.ellipsisAt >= 0)
        return ic.emitError(node)
               << "Einsum: " << what << " has more than one '...'";
      term.ellipsisAt = term.letters.size();
      i += 2;
      continue;
    }
    return ic.emitError(node)
           << "Einsum: unexpected character '" << c << "' in " << what
           << " (indices are letters a-z, A-Z)";
  }
  return term;
}

/// The labels of `term` with `ellipsisDims` dims for its ellipsis, of an
/// ellipsis of `maxEllipsis` dims broadcast over all operands.
SmallVector<Label> expandTerm(const Term &term, int64_t ellipsisDims,
                              int64_t maxEllipsis) {
  SmallVector<Label> labels;
  for (auto [i, letter] : llvm::enumerate(term.letters)) {
    if (static_cast<int>(i) == term.ellipsisAt)
      for (int64_t d = 0; d < ellipsisDims; ++d)
        labels.push_back(kEllipsisLabel + maxEllipsis - ellipsisDims + d);
    labels.push_back(letter);
  }
  if (term.ellipsisAt == static_cast<int>(term.letters.size()))
    for (int64_t d = 0; d < ellipsisDims; ++d)
      labels.push_back(kEllipsisLabel + maxEllipsis - ellipsisDims + d);
  return labels;
}

/// Parses `equation` for operands of `ranks`.
FailureOr<EinsumSpec> parseEquation(ImportContext &ic, const Node &node,
                                    StringRef equation,
                                    ArrayRef<int64_t> ranks) {
  SmallString<64> text;
  for (char c : equation)
    if (c != ' ')
      text.push_back(c);
  StringRef eq = text;
  size_t arrow = eq.find("->");
  if (arrow != StringRef::npos && eq.find("->", arrow + 2) != StringRef::npos)
    return ic.emitError(node)
           << "Einsum: equation '" << equation << "' has more than one '->'";
  StringRef lhs = eq.substr(0, arrow);
  SmallVector<StringRef> pieces;
  lhs.split(pieces, ',');
  if (pieces.size() != ranks.size())
    return ic.emitError(node)
           << "Einsum: equation '" << equation << "' has " << pieces.size()
           << " operand terms for " << ranks.size() << " inputs";
  SmallVector<Term> terms;
  int64_t maxEllipsis = 0;
  SmallVector<int64_t> ellipsisDims;
  for (auto [i, piece] : llvm::enumerate(pieces)) {
    FailureOr<Term> term =
        parseTerm(ic, node, piece, "operand " + Twine(i) + "'s term");
    if (failed(term))
      return failure();
    int64_t letters = term->letters.size();
    int64_t rest = ranks[i] - letters;
    if (term->ellipsisAt < 0 ? rest != 0 : rest < 0)
      return ic.emitError(node) << "Einsum: operand " << i << "'s term '"
                                << piece << "' has " << letters << " indices"
                                << (term->ellipsisAt < 0 ? "" : " and '...'")
                                << " for an operand of rank " << ranks[i];
    ellipsisDims.push_back(term->ellipsisAt < 0 ? 0 : rest);
    maxEllipsis = std::max(maxEllipsis, ellipsisDims.back());
    terms.push_back(std::move(*term));
  }
  EinsumSpec spec;
  std::map<Label, int> uses;
  bool anyEllipsis = false;
  for (auto [term, dims] : llvm::zip(terms, ellipsisDims)) {
    spec.inputs.push_back(expandTerm(term, dims, maxEllipsis));
    for (Label l : term.letters)
      ++uses[l];
    anyEllipsis |= term.ellipsisAt >= 0;
  }
  if (arrow == StringRef::npos) {
    // Implicit output: the ellipsis dims, then the letters used once, in
    // alphabetical (ASCII) order.
    for (int64_t d = 0; d < maxEllipsis; ++d)
      spec.output.push_back(kEllipsisLabel + d);
    for (auto [label, count] : uses)
      if (count == 1)
        spec.output.push_back(label);
    return spec;
  }
  FailureOr<Term> out = parseTerm(ic, node, eq.substr(arrow + 2), "the output",
                                  /*isOutput=*/true);
  if (failed(out))
    return failure();
  for (Label l : out->letters)
    if (!uses.count(l))
      return ic.emitError(node) << "Einsum: output index " << labelName(l)
                                << " appears in no operand";
  if (out->ellipsisAt < 0 && maxEllipsis > 0)
    return ic.emitError(node)
           << "Einsum: the operands have '...' dims but the output has no "
              "'...'";
  if (out->ellipsisAt >= 0 && !anyEllipsis)
    return ic.emitError(node)
           << "Einsum: the output has '...' but no operand has";
  spec.output = expandTerm(*out, maxEllipsis, maxEllipsis);
  return spec;
}

/// An intermediate value with the label of each of its dims.
struct Labeled {
  Value value;
  SmallVector<Label> labels;
};

/// Lowers one einsum node.
class EinsumLowering {
public:
  EinsumLowering(ImportContext &ic, const Node &node,
                 const std::map<Label, int64_t> &sizes)
      : ic(ic), node(node), sizes(sizes) {}

  /// `x` with every index that repeats in it taken once: the diagonal of
  /// the two dims (moved last, merged into one of n * n elements, of which a
  /// slice of stride n + 1 takes the diagonal).
  FailureOr<Labeled> takeDiagonals(Labeled x, int64_t operand) {
    while (true) {
      auto repeated = llvm::find_if(
          x.labels, [&](Label l) { return llvm::count(x.labels, l) > 1; });
      if (repeated == x.labels.end())
        return x;
      Label l = *repeated;
      int64_t p = repeated - x.labels.begin();
      int64_t q = std::find(x.labels.begin() + p + 1, x.labels.end(), l) -
                  x.labels.begin();
      ArrayRef<int64_t> shape = typeOf(x.value).getShape();
      if (shape[p] != shape[q])
        return ic.emitError(node)
               << "Einsum: index " << labelName(l) << " repeats in operand "
               << operand << " with sizes " << shape[p] << " and " << shape[q];
      int64_t n = shape[p];
      SmallVector<Label> order;
      SmallVector<int64_t> perm, diagonal;
      for (int64_t d = 0, e = x.labels.size(); d < e; ++d) {
        if (d == p || d == q)
          continue;
        order.push_back(x.labels[d]);
        perm.push_back(d);
        diagonal.push_back(shape[d]);
      }
      perm.append({p, q});
      order.push_back(l);
      // By position: permute() finds dims by label, which repeats here.
      FailureOr<Value> transposed = x.value;
      if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
        transposed = ic.create<TransposeOp>(
            node, x.value, ic.builder.getDenseI64ArrayAttr(perm));
      if (failed(transposed))
        return failure();
      SmallVector<int64_t> flat = diagonal;
      flat.push_back(n * n);
      FailureOr<Value> merged = reshape(*transposed, flat);
      if (failed(merged))
        return failure();
      diagonal.push_back(n);
      SmallVector<int64_t> offsets(diagonal.size(), 0),
          strides(diagonal.size(), 1);
      strides.back() = n + 1;
      auto type =
          RankedTensorType::get(diagonal, typeOf(x.value).getElementType());
      FailureOr<Value> taken = ic.create<SliceOp>(
          node, type, *merged, ic.builder.getDenseI64ArrayAttr(offsets),
          ic.builder.getDenseI64ArrayAttr(strides));
      if (failed(taken))
        return failure();
      x = Labeled{*taken, order};
    }
  }

  /// Sums the dims of `x` whose labels `keep` rejects.
  FailureOr<Labeled> sumOthers(Labeled x,
                               llvm::function_ref<bool(Label)> keep) {
    SmallVector<int64_t> axes;
    Labeled out{x.value, {}};
    for (auto [d, l] : llvm::enumerate(x.labels)) {
      if (keep(l))
        out.labels.push_back(l);
      else
        axes.push_back(d);
    }
    if (axes.empty())
      return x;
    FailureOr<Value> sum = ic.create<ReduceOp>(node, ReduceKind::Sum, x.value,
                                               ArrayRef<int64_t>(axes), false);
    if (failed(sum))
      return failure();
    out.value = *sum;
    return out;
  }

  /// `x` with its dims in the order `order` (labels of `x`).
  FailureOr<Value> permute(const Labeled &x, ArrayRef<Label> order) {
    SmallVector<int64_t> perm;
    for (Label l : order)
      perm.push_back(llvm::find(x.labels, l) - x.labels.begin());
    if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
      return x.value;
    return ic.create<TransposeOp>(node, x.value,
                                  ic.builder.getDenseI64ArrayAttr(perm));
  }

  FailureOr<Value> reshape(Value v, ArrayRef<int64_t> shape) {
    if (typeOf(v).getShape() == shape)
      return v;
    auto type = RankedTensorType::get(shape, typeOf(v).getElementType());
    return ic.create<ReshapeOp>(node, type, v);
  }

  /// `x` with the dims of `labels` stretched to their full size (a size-1
  /// dim that meets a larger one of the other operand).
  FailureOr<Labeled> stretch(Labeled x, ArrayRef<Label> labels) {
    SmallVector<int64_t> shape(typeOf(x.value).getShape());
    bool changed = false;
    for (auto [d, l] : llvm::enumerate(x.labels))
      if (llvm::is_contained(labels, l) && shape[d] != sizes.at(l)) {
        shape[d] = sizes.at(l);
        changed = true;
      }
    if (!changed)
      return x;
    auto type = RankedTensorType::get(shape, typeOf(x.value).getElementType());
    FailureOr<Value> b = ic.create<BroadcastOp>(node, type, x.value);
    if (failed(b))
      return failure();
    x.value = *b;
    return x;
  }

  /// The sizes of `labels` in `x` (1 where `x` lacks the label).
  SmallVector<int64_t> sizesIn(const Labeled &x, ArrayRef<Label> labels) {
    SmallVector<int64_t> out;
    for (Label l : labels) {
      auto it = llvm::find(x.labels, l);
      out.push_back(it == x.labels.end()
                        ? 1
                        : typeOf(x.value).getDimSize(it - x.labels.begin()));
    }
    return out;
  }

  static int64_t product(ArrayRef<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims)
      n *= d;
    return n;
  }

  /// Contracts `a` and `b`, keeping the labels that `keep` accepts.
  FailureOr<Labeled> contract(Labeled a, Labeled b,
                              llvm::function_ref<bool(Label)> keep) {
    auto in = [](const Labeled &x, Label l) {
      return llvm::is_contained(x.labels, l);
    };
    // Indices of one operand that nothing else needs are summed first.
    FailureOr<Labeled> sa =
        sumOthers(a, [&](Label l) { return keep(l) || in(b, l); });
    if (failed(sa))
      return failure();
    FailureOr<Labeled> sb =
        sumOthers(b, [&](Label l) { return keep(l) || in(*sa, l); });
    if (failed(sb))
      return failure();
    a = *sa;
    b = *sb;
    SmallVector<Label> batch, contracted, rows, cols;
    for (Label l : a.labels) {
      if (!in(b, l))
        rows.push_back(l);
      else if (keep(l))
        batch.push_back(l);
      else
        contracted.push_back(l);
    }
    for (Label l : b.labels)
      if (!in(a, l))
        cols.push_back(l);
    FailureOr<Labeled> fa = stretch(a, contracted);
    FailureOr<Labeled> fb = stretch(b, contracted);
    if (failed(fa) || failed(fb))
      return failure();
    a = *fa;
    b = *fb;
    SmallVector<Label> resultLabels = batch;
    llvm::append_range(resultLabels, rows);
    llvm::append_range(resultLabels, cols);
    SmallVector<int64_t> batchA = sizesIn(a, batch), batchB = sizesIn(b, batch);
    SmallVector<int64_t> rowSizes = sizesIn(a, rows),
                         colSizes = sizesIn(b, cols);
    SmallVector<int64_t> kSizes = sizesIn(a, contracted);
    SmallVector<int64_t> batchOut;
    for (auto [x, y] : llvm::zip(batchA, batchB))
      batchOut.push_back(std::max(x, y));
    SmallVector<int64_t> resultShape = batchOut;
    llvm::append_range(resultShape, rowSizes);
    llvm::append_range(resultShape, colSizes);

    SmallVector<Label> orderA = batch, orderB = batch;
    llvm::append_range(orderA, rows);
    llvm::append_range(orderA, contracted);
    bool useMatMul =
        !contracted.empty() && isa<FloatType>(typeOf(a.value).getElementType());
    if (useMatMul) {
      // [batch, M, K] x [batch, K, N] -> [batch, M, N].
      llvm::append_range(orderB, contracted);
      llvm::append_range(orderB, cols);
      FailureOr<Value> pa = permute(a, orderA), pb = permute(b, orderB);
      if (failed(pa) || failed(pb))
        return failure();
      SmallVector<int64_t> shapeA = batchA, shapeB = batchB;
      shapeA.append({product(rowSizes), product(kSizes)});
      shapeB.append({product(kSizes), product(colSizes)});
      FailureOr<Value> ma = reshape(*pa, shapeA), mb = reshape(*pb, shapeB);
      if (failed(ma) || failed(mb))
        return failure();
      FailureOr<Value> mm = ic.create<MatMulOp>(node, *ma, *mb, Value());
      if (failed(mm))
        return failure();
      FailureOr<Value> r = reshape(*mm, resultShape);
      if (failed(r))
        return failure();
      return Labeled{*r, resultLabels};
    }
    // [batch, rows, 1.., k] * [batch, 1.., cols, k], summed over k.
    llvm::append_range(orderB, cols);
    llvm::append_range(orderB, contracted);
    FailureOr<Value> pa = permute(a, orderA), pb = permute(b, orderB);
    if (failed(pa) || failed(pb))
      return failure();
    SmallVector<int64_t> shapeA = batchA, shapeB = batchB;
    llvm::append_range(shapeA, rowSizes);
    shapeA.append(cols.size(), 1);
    llvm::append_range(shapeA, kSizes);
    shapeB.append(rows.size(), 1);
    llvm::append_range(shapeB, colSizes);
    llvm::append_range(shapeB, kSizes);
    FailureOr<Value> ma = reshape(*pa, shapeA), mb = reshape(*pb, shapeB);
    if (failed(ma) || failed(mb))
      return failure();
    FailureOr<Value> prod =
        ic.create<BinaryOp>(node, BinaryKind::Mul, *ma, *mb);
    if (failed(prod))
      return failure();
    if (contracted.empty())
      return Labeled{*prod, resultLabels};
    SmallVector<int64_t> axes;
    for (size_t i = 0; i < contracted.size(); ++i)
      axes.push_back(resultLabels.size() + i);
    FailureOr<Value> sum = ic.create<ReduceOp>(node, ReduceKind::Sum, *prod,
                                               ArrayRef<int64_t>(axes), false);
    if (failed(sum))
      return failure();
    return Labeled{*sum, resultLabels};
  }

private:
  ImportContext &ic;
  const Node &node;
  const std::map<Label, int64_t> &sizes;
};

} // namespace

LogicalResult onnx_import::convertEinsum(ImportContext &ic, const Node &node) {
  int count = ic.numInputs(node);
  if (count < 1)
    return ic.emitError(node) << "Einsum: expects at least one input";
  SmallVector<Value> inputs;
  SmallVector<int64_t> ranks;
  for (int i = 0; i < count; ++i) {
    FailureOr<Value> v = ic.getInput(node, i);
    if (failed(v))
      return failure();
    if (i > 0 &&
        typeOf(*v).getElementType() != typeOf(inputs.front()).getElementType())
      return ic.emitError(node)
             << "Einsum: expects inputs of one element type, found "
             << typeOf(inputs.front()).getElementType() << " and "
             << typeOf(*v).getElementType();
    inputs.push_back(*v);
    ranks.push_back(typeOf(*v).getRank());
  }
  if (!ic.findAttr(node, "equation"))
    return ic.emitError(node) << "Einsum: expects the 'equation' attribute";
  std::string equation = ic.getStringAttr(node, "equation", "");
  FailureOr<EinsumSpec> spec = parseEquation(ic, node, equation, ranks);
  if (failed(spec))
    return failure();

  // Every label's size: equal in every operand, or 1 (which broadcasts).
  // A label repeated within one operand (a diagonal) has one size there,
  // which takeDiagonals checks.
  std::map<Label, int64_t> sizes;
  std::map<Label, size_t> sizeFrom;
  for (auto [i, labels] : llvm::enumerate(spec->inputs)) {
    ArrayRef<int64_t> shape = typeOf(inputs[i]).getShape();
    for (auto [d, l] : llvm::enumerate(labels)) {
      auto [it, inserted] = sizes.try_emplace(l, shape[d]);
      if (inserted)
        sizeFrom[l] = i;
      if (inserted || it->second == shape[d] || shape[d] == 1)
        continue;
      if (it->second != 1)
        return ic.emitError(node)
               << "Einsum: index " << labelName(l) << " has size " << it->second
               << " in operand " << sizeFrom[l] << " and " << shape[d]
               << " in operand " << i;
      it->second = shape[d];
      sizeFrom[l] = i;
    }
  }

  EinsumLowering lowering(ic, node, sizes);
  auto inOutput = [&](Label l) { return llvm::is_contained(spec->output, l); };
  // Diagonals first: afterwards every operand has each index once.
  SmallVector<Labeled> operands;
  for (auto [i, labels] : llvm::enumerate(spec->inputs)) {
    FailureOr<Labeled> x =
        lowering.takeDiagonals(Labeled{inputs[i], labels}, i);
    if (failed(x))
      return failure();
    operands.push_back(std::move(*x));
    spec->inputs[i] = operands.back().labels;
  }
  Labeled acc = operands.front();
  for (size_t i = 1; i < inputs.size(); ++i) {
    // Labels that the output or a later operand needs stay.
    auto keep = [&](Label l) {
      if (inOutput(l))
        return true;
      for (size_t j = i + 1; j < inputs.size(); ++j)
        if (llvm::is_contained(spec->inputs[j], l))
          return true;
      return false;
    };
    FailureOr<Labeled> next = lowering.contract(acc, operands[i], keep);
    if (failed(next))
      return failure();
    acc = std::move(*next);
  }
  FailureOr<Labeled> summed = lowering.sumOthers(acc, inOutput);
  if (failed(summed))
    return failure();
  FailureOr<Value> result = lowering.permute(*summed, spec->output);
  if (failed(result))
    return failure();
  // An output dim of size 1 in every operand that carried it, where another
  // label's size made it larger, is stretched (broadcast ellipsis dims).
  SmallVector<int64_t> shape;
  for (Label l : spec->output)
    shape.push_back(sizes.count(l) ? sizes.at(l) : 1);
  if (typeOf(*result).getShape() != ArrayRef<int64_t>(shape)) {
    auto type = RankedTensorType::get(shape, typeOf(*result).getElementType());
    result = ic.create<BroadcastOp>(node, type, *result);
    if (failed(result))
      return failure();
  }
  ic.setOutput(node, 0, *result);
  return success();
}
