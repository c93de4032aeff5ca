//===- ShardingRules.cpp - sharding rule of every dist op -----------------===//
//
// The one place where each dist op states how its iteration space may be
// split: which factors are parallel, which are reduced (and how partial
// results combine), and which must stay whole.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"

using namespace mlir;
using namespace distopt::dist;

//===----------------------------------------------------------------------===//
// ShardingRule
//===----------------------------------------------------------------------===//

StringRef distopt::dist::stringifyFactorKind(FactorKind kind) {
  switch (kind) {
  case FactorKind::Parallel:
    return "parallel";
  case FactorKind::Reduction:
    return "reduction";
  case FactorKind::Whole:
    return "whole";
  case FactorKind::Collective:
    return "collective";
  }
  llvm_unreachable("unknown factor kind");
}

SmallVector<int64_t> ShardingRule::getFactorsOfKind(FactorKind kind) const {
  SmallVector<int64_t> out;
  for (auto [i, f] : llvm::enumerate(factors))
    if (f.kind == kind)
      out.push_back(i);
  return out;
}

std::optional<int64_t> ShardingRule::lookupFactor(StringRef name) const {
  for (auto [i, f] : llvm::enumerate(factors))
    if (f.name == name)
      return static_cast<int64_t>(i);
  return std::nullopt;
}

/// Checks that every factor has a name and no two share one.
static LogicalResult verifyFactorNames(Operation *op,
                                       const ShardingRule &rule) {
  llvm::StringMap<size_t> seen;
  for (auto [i, f] : llvm::enumerate(rule.factors)) {
    if (f.name.empty())
      return op->emitOpError("sharding rule factor #") << i << " has no name";
    auto [it, inserted] = seen.try_emplace(f.name, i);
    if (!inserted)
      return op->emitOpError("sharding rule names factors #")
             << it->second << " and #" << i << " both '" << f.name << "'";
  }
  return success();
}

static LogicalResult verifyTensorFactors(Operation *op, const ShardingRule &rule,
                                         StringRef what, unsigned index,
                                         Type type, const TensorFactors &dims) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return op->emitOpError("sharding rule covers non-tensor ")
           << what << " #" << index;
  if (static_cast<int64_t>(dims.size()) != tensor.getRank())
    return op->emitOpError("sharding rule gives ")
           << dims.size() << " dims for " << what << " #" << index
           << " of rank " << tensor.getRank();
  for (auto [d, factors] : llvm::enumerate(dims)) {
    int64_t product = 1;
    for (int64_t f : factors) {
      if (f < 0 || f >= static_cast<int64_t>(rule.factors.size()))
        return op->emitOpError("sharding rule refers to factor #")
               << f << ", but it has " << rule.factors.size() << " factors";
      product *= rule.factors[f].size;
    }
    if (product != tensor.getDimSize(d))
      return op->emitOpError("sharding rule factors of ")
             << what << " #" << index << " dim " << d << " multiply to "
             << product << ", expected " << tensor.getDimSize(d);
  }
  return success();
}

LogicalResult ShardingRule::verify(Operation *op) const {
  if (failed(verifyFactorNames(op, *this)))
    return failure();
  if (operands.size() != op->getNumOperands() ||
      results.size() != op->getNumResults())
    return op->emitOpError("sharding rule covers ")
           << operands.size() << " operands and " << results.size()
           << " results, expected " << op->getNumOperands() << " and "
           << op->getNumResults();
  for (auto [i, dims] : llvm::enumerate(operands))
    if (failed(verifyTensorFactors(op, *this, "operand", i,
                                   op->getOperand(i).getType(), dims)))
      return failure();
  for (auto [i, dims] : llvm::enumerate(results))
    if (failed(verifyTensorFactors(op, *this, "result", i,
                                   op->getResult(i).getType(), dims)))
      return failure();
  for (const InnerAllReduce &inner : innerAllReduces)
    if (inner.factor < 0 || inner.factor >= int64_t(factors.size()) ||
        factors[inner.factor].kind != FactorKind::Collective)
      return op->emitOpError("sharding rule has an inner all-reduce over ")
             << "factor #" << inner.factor << ", which is not collective";
  std::optional<ReduceKind> combiner;
  for (const ShardingFactor &f : factors) {
    if (f.kind != FactorKind::Reduction)
      continue;
    if (combiner && *combiner != f.combiner)
      return op->emitOpError("sharding rule mixes reduction combiners");
    combiner = f.combiner;
  }
  return success();
}

void ShardingRule::print(raw_ostream &os) const {
  os << "factors [";
  llvm::interleaveComma(factors, os, [&](const ShardingFactor &f) {
    os << f.name << "=" << f.size << " " << stringifyFactorKind(f.kind);
    if (f.kind == FactorKind::Reduction)
      os << "(" << stringifyReduceKind(f.combiner) << ")";
  });
  os << "]";
  auto printDims = [&](const TensorFactors &dims) {
    os << "[";
    llvm::interleaveComma(dims, os, [&](const DimFactors &factors) {
      if (factors.empty()) {
        os << "_";
        return;
      }
      llvm::interleave(
          factors, os, [&](int64_t f) { os << this->factors[f].name; }, "*");
    });
    os << "]";
  };
  auto printTensors = [&](StringRef label, ArrayRef<TensorFactors> tensors) {
    os << " " << label << " (";
    llvm::interleaveComma(tensors, os, printDims);
    os << ")";
  };
  printTensors("operands", operands);
  printTensors("results", results);
  if (blockAxes)
    os << " split " << factors[blockAxes->factor].name << " sets "
       << blockAxes->attr;
  if (innerAllReduces.empty())
    return;
  os << " split " << factors[innerAllReduces.front().factor].name
     << " all-reduces (";
  llvm::interleaveComma(innerAllReduces, os, [&](const InnerAllReduce &a) {
    os << stringifyReduceKind(a.kind) << " ";
    printDims(a.dims);
  });
  os << ")";
}

TensorFactors distopt::dist::broadcastFactors(ArrayRef<int64_t> operandShape,
                                              ArrayRef<int64_t> resultShape,
                                              const TensorFactors &resultFactors) {
  TensorFactors out(operandShape.size());
  size_t lead = resultShape.size() - operandShape.size();
  for (size_t i = 0; i < operandShape.size(); ++i)
    if (operandShape[i] == resultShape[lead + i])
      out[i] = resultFactors[lead + i];
  return out;
}

/// One factor of `kind` per dimension of `shape` (size-1 dims get none),
/// named `<prefix><firstDim + i>` for dim `i`.
static TensorFactors addFactors(ShardingRule &rule, ArrayRef<int64_t> shape,
                                FactorKind kind, StringRef prefix,
                                int64_t firstDim = 0) {
  TensorFactors out;
  for (auto [i, size] : llvm::enumerate(shape)) {
    if (size == 1)
      out.push_back({});
    else
      out.push_back({rule.addFactor(
          (prefix + Twine(firstDim + static_cast<int64_t>(i))).str(), size,
          kind)});
  }
  return out;
}

TensorFactors distopt::dist::addParallelFactors(ShardingRule &rule,
                                                ArrayRef<int64_t> shape,
                                                StringRef prefix,
                                                int64_t firstDim) {
  return addFactors(rule, shape, FactorKind::Parallel, prefix, firstDim);
}

/// A factor of `size` named `name`, as the factors of one dim: none for a
/// size-1 dim.
static DimFactors addDimFactor(ShardingRule &rule, StringRef name, int64_t size,
                               FactorKind kind,
                               ReduceKind combiner = ReduceKind::Sum) {
  if (size == 1)
    return {};
  return {rule.addFactor(name, size, kind, combiner)};
}

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// Rule of an op whose result broadcasts all its operands elementwise.
static ShardingRule elementwiseRule(Operation *op) {
  ShardingRule rule;
  ArrayRef<int64_t> resultShape = shapeOf(op->getResult(0));
  TensorFactors result = addParallelFactors(rule, resultShape);
  for (Value operand : op->getOperands())
    rule.operands.push_back(
        broadcastFactors(shapeOf(operand), resultShape, result));
  rule.results.push_back(result);
  return rule;
}

//===----------------------------------------------------------------------===//
// Per-op rules
//===----------------------------------------------------------------------===//

ShardingRule WeightOp::getShardingRule() {
  ShardingRule rule;
  rule.results.push_back(addParallelFactors(rule, shapeOf(getResult())));
  return rule;
}

/// A bias operand #`operand` of `biasShape` broadcast against the result of
/// `resultShape` with trailing dimensions aligned.
static BiasAfterReduction trailingBias(unsigned operand, double scale,
                                       ArrayRef<int64_t> biasShape,
                                       ArrayRef<int64_t> resultShape) {
  BiasAfterReduction bias{operand, scale, {}};
  int64_t offset = resultShape.size() - biasShape.size();
  for (size_t d = 0; d < biasShape.size(); ++d)
    bias.resultDims.push_back(offset + d);
  return bias;
}

ShardingRule MatMulOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> ls = getLhs().getType().getShape();
  ArrayRef<int64_t> rs = getRhs().getType().getShape();
  ArrayRef<int64_t> res = shapeOf(getResult());
  // Batch dims b0, b1, ... of the result; rows m, columns n, contracted k.
  TensorFactors batch = addParallelFactors(rule, res.drop_back(2), "b");
  DimFactors fm =
      addDimFactor(rule, "m", ls[ls.size() - 2], FactorKind::Parallel);
  DimFactors fn = addDimFactor(rule, "n", rs.back(), FactorKind::Parallel);
  DimFactors fk = addDimFactor(rule, "k", ls.back(), FactorKind::Reduction);
  TensorFactors lhs =
      broadcastFactors(ls.drop_back(2), res.drop_back(2), batch);
  lhs.append({fm, fk});
  TensorFactors rhs =
      broadcastFactors(rs.drop_back(2), res.drop_back(2), batch);
  rhs.append({fk, fn});
  TensorFactors result = batch;
  result.append({fm, fn});
  rule.operands = {lhs, rhs};
  if (Value bias = getBias()) {
    rule.operands.push_back(broadcastFactors(shapeOf(bias), res, result));
    rule.bias = trailingBias(2, 1.0, shapeOf(bias), res);
  }
  rule.results = {result};
  return rule;
}

ShardingRule GemmOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> res = shapeOf(getResult());
  int64_t k = getTransA() ? shapeOf(getA())[0] : shapeOf(getA())[1];
  DimFactors fm = addDimFactor(rule, "m", res[0], FactorKind::Parallel);
  DimFactors fn = addDimFactor(rule, "n", res[1], FactorKind::Parallel);
  TensorFactors result = {fm, fn};
  DimFactors fk = addDimFactor(rule, "k", k, FactorKind::Reduction);
  TensorFactors a = getTransA() ? TensorFactors{fk, fm} : TensorFactors{fm, fk};
  TensorFactors b = getTransB() ? TensorFactors{fn, fk} : TensorFactors{fk, fn};
  rule.operands = {a, b};
  if (Value c = getC()) {
    rule.operands.push_back(broadcastFactors(shapeOf(c), res, result));
    rule.bias = trailingBias(2, getBeta().convertToDouble(), shapeOf(c), res);
    rule.bias->scaleAttr = getBetaAttrName().getValue();
  }
  rule.results = {result};
  return rule;
}

ShardingRule Conv2DOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> filter = shapeOf(getFilter());
  ArrayRef<int64_t> res = shapeOf(getResult());
  bool grouped = getGroup() != 1;
  // Batch n and output channels o split freely; input channels i are
  // contracted (only without groups; with groups the filter has its own
  // per-group channels gi); the input's (ih, iw), the window's (kh, kw) and
  // the output's (oh, ow) spatial dims need halos and stay whole for now.
  auto whole = [&](StringRef name, int64_t size) {
    return addDimFactor(rule, name, size, FactorKind::Whole);
  };
  DimFactors n = addDimFactor(rule, "n", res[0], FactorKind::Parallel);
  DimFactors o = addDimFactor(
      rule, "o", res[1], grouped ? FactorKind::Whole : FactorKind::Parallel);
  DimFactors c = addDimFactor(
      rule, "i", in[1], grouped ? FactorKind::Whole : FactorKind::Reduction);
  DimFactors fc = grouped ? whole("gi", filter[1]) : c;
  DimFactors ih = whole("ih", in[2]), iw = whole("iw", in[3]);
  DimFactors kh = whole("kh", filter[2]), kw = whole("kw", filter[3]);
  DimFactors oh = whole("oh", res[2]), ow = whole("ow", res[3]);
  rule.operands = {{n, c, ih, iw}, {o, fc, kh, kw}};
  if (getBias()) {
    rule.operands.push_back({o});
    // The bias of shape O indexes dim 1 of N x O x H x W.
    rule.bias = BiasAfterReduction{2, 1.0, {1}};
  }
  rule.results = {{n, o, oh, ow}};
  return rule;
}

ShardingRule Pool2DOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> res = shapeOf(getResult());
  // Batch n and channels c; the input's (ih, iw) and the output's (oh, ow)
  // spatial dims stay whole.
  DimFactors n = addDimFactor(rule, "n", res[0], FactorKind::Parallel);
  DimFactors c = addDimFactor(rule, "c", res[1], FactorKind::Parallel);
  DimFactors ih = addDimFactor(rule, "ih", in[2], FactorKind::Whole);
  DimFactors iw = addDimFactor(rule, "iw", in[3], FactorKind::Whole);
  DimFactors oh = addDimFactor(rule, "oh", res[2], FactorKind::Whole);
  DimFactors ow = addDimFactor(rule, "ow", res[3], FactorKind::Whole);
  rule.operands = {{n, c, ih, iw}};
  rule.results = {{n, c, oh, ow}};
  return rule;
}

ShardingRule GlobalPoolOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> in = shapeOf(getInput());
  ReduceKind combiner =
      getKind() == PoolKind::Max ? ReduceKind::Max : ReduceKind::Mean;
  // Batch n and channels c; the pooled spatial dims h and w are reduced.
  DimFactors n = addDimFactor(rule, "n", in[0], FactorKind::Parallel);
  DimFactors c = addDimFactor(rule, "c", in[1], FactorKind::Parallel);
  DimFactors h =
      addDimFactor(rule, "h", in[2], FactorKind::Reduction, combiner);
  DimFactors w =
      addDimFactor(rule, "w", in[3], FactorKind::Reduction, combiner);
  rule.operands = {{n, c, h, w}};
  rule.results = {{n, c, {}, {}}};
  return rule;
}

ShardingRule UnaryOp::getShardingRule() { return elementwiseRule(*this); }
ShardingRule BinaryOp::getShardingRule() { return elementwiseRule(*this); }
ShardingRule CompareOp::getShardingRule() { return elementwiseRule(*this); }
ShardingRule SelectOp::getShardingRule() { return elementwiseRule(*this); }
ShardingRule CastOp::getShardingRule() { return elementwiseRule(*this); }
ShardingRule BroadcastOp::getShardingRule() { return elementwiseRule(*this); }

ShardingRule ReduceOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> axes = getAxes();
  TensorFactors input, result;
  // The factor of input dim `i` is `d<i>`, reduced or not.
  for (auto [d, size] : llvm::enumerate(in)) {
    bool reduced = llvm::is_contained(axes, static_cast<int64_t>(d));
    DimFactors f = reduced ? addDimFactor(rule, ("d" + Twine(d)).str(), size,
                                          FactorKind::Reduction, getKind())
                           : addDimFactor(rule, ("d" + Twine(d)).str(), size,
                                          FactorKind::Parallel);
    input.push_back(f);
    if (!reduced)
      result.push_back(f);
    else if (getKeepDims())
      result.push_back({});
  }
  rule.operands = {input};
  rule.results = {result};
  return rule;
}

ShardingRule SoftmaxOp::getShardingRule() {
  ShardingRule rule;
  TensorFactors dims;
  for (auto [d, size] : llvm::enumerate(shapeOf(getResult()))) {
    FactorKind kind = static_cast<int64_t>(d) == getAxis() ? FactorKind::Whole
                                                          : FactorKind::Parallel;
    dims.push_back(addDimFactor(rule, ("d" + Twine(d)).str(), size, kind));
  }
  rule.operands = {dims};
  rule.results = {dims};
  return rule;
}

ShardingRule LayerNormOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> shape = shapeOf(getResult());
  int64_t axis = getAxis();
  TensorFactors dims = addParallelFactors(rule, shape.take_front(axis));
  TensorFactors normalized =
      addFactors(rule, shape.drop_front(axis), FactorKind::Whole, "d", axis);
  dims.append(normalized.begin(), normalized.end());
  rule.operands = {dims, normalized};
  if (getBias())
    rule.operands.push_back(normalized);
  rule.results = {dims};
  return rule;
}

ShardingRule GatherOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> data = shapeOf(getData());
  int64_t axis = getAxis();
  // Data dims d<i>, index dims i<j>. The gathered dim of a float table is a
  // sum: split by rows, every device looks up the rows it holds (zeros for
  // the others) and the partial results add up (Megatron-LM's
  // vocabulary-parallel embedding). A local form (`row_axes` set) is
  // already split; integer tables keep it whole.
  bool splittable = !getRowAxes() && isa<FloatType>(getType().getElementType());
  TensorFactors outer = addParallelFactors(rule, data.take_front(axis));
  TensorFactors gathered = addFactors(
      rule, data.slice(axis, 1),
      splittable ? FactorKind::Reduction : FactorKind::Whole, "d", axis);
  if (splittable && !gathered.front().empty())
    rule.blockAxes = BlockAxes{gathered.front().front(), "row_axes"};
  TensorFactors indices = addParallelFactors(rule, shapeOf(getIndices()), "i");
  TensorFactors inner =
      addParallelFactors(rule, data.drop_front(axis + 1), "d", axis + 1);
  TensorFactors dataDims = outer;
  dataDims.append(gathered.begin(), gathered.end());
  dataDims.append(inner.begin(), inner.end());
  TensorFactors result = outer;
  result.append(indices.begin(), indices.end());
  result.append(inner.begin(), inner.end());
  rule.operands = {dataDims, indices};
  rule.results = {result};
  return rule;
}

ShardingRule ReshapeOp::getShardingRule() {
  // Walk both shapes, ignoring size-1 dims. A dim that reappears unchanged is
  // one parallel factor. A dim that splits into several (or several that
  // merge into one) is indexed by one parallel factor per dim of the finer
  // side, major to minor: [b, s, h] -> [b, s, a, d] gives h the factors
  // [a, d], so splitting `a` splits `h` into contiguous blocks (attention
  // heads). Any other regrouping keeps its dims whole. Factors are named
  // after the dim they index alone: `in<i>` for input dim i, `out<j>` for
  // result dim j.
  ShardingRule rule;
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> out = shapeOf(getResult());
  // Without elements there are no groups whose products can be matched (the
  // walk below would run past the end of a shape): keep every dim whole.
  if (getInput().getType().getNumElements() == 0) {
    rule.operands = {addFactors(rule, in, FactorKind::Whole, "in")};
    rule.results = {addFactors(rule, out, FactorKind::Whole, "out")};
    return rule;
  }
  TensorFactors inDims(in.size()), outDims(out.size());
  size_t i = 0, j = 0;
  auto skipOnes = [](ArrayRef<int64_t> s, size_t &k) {
    while (k < s.size() && s[k] == 1)
      ++k;
  };
  skipOnes(in, i);
  skipOnes(out, j);
  while (i < in.size() && j < out.size()) {
    // Collect the smallest groups of dims with equal products.
    SmallVector<size_t> inGroup{i}, outGroup{j};
    int64_t pin = in[i++], pout = out[j++];
    while (pin != pout) {
      if (pin < pout) {
        skipOnes(in, i);
        inGroup.push_back(i);
        pin *= in[i++];
      } else {
        skipOnes(out, j);
        outGroup.push_back(j);
        pout *= out[j++];
      }
    }
    if (inGroup.size() == 1 || outGroup.size() == 1) {
      // One dim on one side: the other side's dims are its factors.
      bool splits = inGroup.size() == 1;
      ArrayRef<size_t> fine = splits ? outGroup : inGroup;
      ArrayRef<int64_t> fineShape = splits ? out : in;
      TensorFactors &fineDims = splits ? outDims : inDims;
      StringRef fineName = splits ? "out" : "in";
      DimFactors coarse;
      for (size_t k : fine) {
        int64_t f = rule.addFactor((fineName + Twine(k)).str(), fineShape[k],
                                   FactorKind::Parallel);
        fineDims[k] = {f};
        coarse.push_back(f);
      }
      (splits ? inDims[inGroup.front()] : outDims[outGroup.front()]) = coarse;
    } else {
      for (size_t k : inGroup)
        inDims[k] = {
            rule.addFactor(("in" + Twine(k)).str(), in[k], FactorKind::Whole)};
      for (size_t k : outGroup)
        outDims[k] = {rule.addFactor(("out" + Twine(k)).str(), out[k],
                                     FactorKind::Whole)};
    }
    skipOnes(in, i);
    skipOnes(out, j);
  }
  rule.operands = {inDims};
  rule.results = {outDims};
  return rule;
}

ShardingRule TransposeOp::getShardingRule() {
  ShardingRule rule;
  TensorFactors input = addParallelFactors(rule, shapeOf(getInput()));
  TensorFactors result;
  for (int64_t p : getPerm())
    result.push_back(input[p]);
  rule.operands = {input};
  rule.results = {result};
  return rule;
}

ShardingRule SliceOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> out = shapeOf(getResult());
  TensorFactors input, result;
  for (size_t d = 0; d < in.size(); ++d) {
    bool untouched = in[d] == out[d] && getOffsets()[d] == 0 &&
                     (getStrides()[d] == 1 || in[d] == 1);
    // An untouched dim is one factor d<i>; a sliced one has a whole factor
    // in<i> in the input and out<i> in the result.
    if (untouched) {
      DimFactors f = addDimFactor(rule, ("d" + Twine(d)).str(), in[d],
                                  FactorKind::Parallel);
      input.push_back(f);
      result.push_back(f);
      continue;
    }
    input.push_back(
        addDimFactor(rule, ("in" + Twine(d)).str(), in[d], FactorKind::Whole));
    result.push_back(addDimFactor(rule, ("out" + Twine(d)).str(), out[d],
                                  FactorKind::Whole));
  }
  rule.operands = {input};
  rule.results = {result};
  return rule;
}

/// Rule of concat and split: every dim but `axis` is shared and parallel
/// (`d<i>`); the axis is whole in each tensor, with a factor of its own:
/// `d<axis>` in the joined tensor, `p<k>` in piece k.
static ShardingRule joinRule(ArrayRef<Value> pieces, Value joined,
                             int64_t axis, bool piecesAreOperands) {
  ShardingRule rule;
  ArrayRef<int64_t> shape = shapeOf(joined);
  TensorFactors shared(shape.size());
  for (auto [d, size] : llvm::enumerate(shape))
    if (static_cast<int64_t>(d) != axis)
      shared[d] = addDimFactor(rule, ("d" + Twine(d)).str(), size,
                               FactorKind::Parallel);
  auto withAxis = [&](ArrayRef<int64_t> s, const Twine &name) {
    TensorFactors dims = shared;
    dims[axis] = addDimFactor(rule, name.str(), s[axis], FactorKind::Whole);
    return dims;
  };
  SmallVector<TensorFactors> pieceDims;
  for (auto [k, p] : llvm::enumerate(pieces))
    pieceDims.push_back(withAxis(shapeOf(p), "p" + Twine(k)));
  TensorFactors joinedDims = withAxis(shape, "d" + Twine(axis));
  if (piecesAreOperands) {
    rule.operands.assign(pieceDims.begin(), pieceDims.end());
    rule.results = {joinedDims};
  } else {
    rule.operands = {joinedDims};
    rule.results.assign(pieceDims.begin(), pieceDims.end());
  }
  return rule;
}

ShardingRule ConcatOp::getShardingRule() {
  return joinRule(SmallVector<Value>(getInputs()), getResult(), getAxis(),
                  /*piecesAreOperands=*/true);
}

ShardingRule SplitOp::getShardingRule() {
  return joinRule(SmallVector<Value>(getResults()), getInput(), getAxis(),
                  /*piecesAreOperands=*/false);
}

//===----------------------------------------------------------------------===//
// Indexing by element
//===----------------------------------------------------------------------===//

ShardingRule TopKOp::getShardingRule() {
  // Every dim but the axis is parallel: a router's top-k over the experts
  // splits by tokens. The axis and the k selected positions stay whole.
  ShardingRule rule;
  TensorFactors input, result;
  for (auto [d, size] : llvm::enumerate(shapeOf(getInput()))) {
    std::string name = ("d" + Twine(d)).str();
    if (static_cast<int64_t>(d) == getAxis()) {
      input.push_back(addDimFactor(rule, name, size, FactorKind::Whole));
      result.push_back(addDimFactor(rule, "k", getK(), FactorKind::Whole));
      continue;
    }
    DimFactors f = addDimFactor(rule, name, size, FactorKind::Parallel);
    input.push_back(f);
    result.push_back(f);
  }
  rule.operands = {input};
  rule.results = {result, result};
  return rule;
}

/// Factors of the data-like and index-like tensors of an element gather or
/// scatter along `axis`: a dim other than `axis` where both have one size
/// is one factor of `sharedKind`; every other dim is whole in the data
/// (`d<i>`), and in the indices (`i<i>`) of `indicesAxisKind` along `axis`
/// and whole elsewhere (an index block that is split needs the matching
/// data block, which a dim of another size does not give).
static std::pair<TensorFactors, TensorFactors>
elementIndexingFactors(ShardingRule &rule, ArrayRef<int64_t> data,
                       ArrayRef<int64_t> indices, int64_t axis,
                       FactorKind sharedKind, FactorKind indicesAxisKind) {
  TensorFactors dataDims, indexDims;
  for (auto [d, size] : llvm::enumerate(data)) {
    int64_t dim = d;
    std::string dataName = ("d" + Twine(dim)).str();
    std::string indexName = ("i" + Twine(dim)).str();
    if (dim != axis && size == indices[d]) {
      DimFactors f = addDimFactor(rule, dataName, size, sharedKind);
      dataDims.push_back(f);
      indexDims.push_back(f);
      continue;
    }
    dataDims.push_back(addDimFactor(rule, dataName, size, FactorKind::Whole));
    indexDims.push_back(
        addDimFactor(rule, indexName, indices[d],
                     dim == axis ? indicesAxisKind : FactorKind::Whole));
  }
  return {dataDims, indexDims};
}

ShardingRule GatherElementsOp::getShardingRule() {
  // Every result element reads one element of the whole axis: the indices'
  // dims (the result's) are parallel, the data's axis whole.
  ShardingRule rule;
  auto [data, indices] = elementIndexingFactors(
      rule, shapeOf(getData()), shapeOf(getIndices()), getAxis(),
      FactorKind::Parallel, FactorKind::Parallel);
  rule.operands = {data, indices};
  rule.results = {indices};
  return rule;
}

ShardingRule ScatterElementsOp::getShardingRule() {
  // Updates along the axis may land anywhere in it: the axis is whole in
  // every tensor; the other dims of one size are parallel.
  ShardingRule rule;
  auto [data, indices] = elementIndexingFactors(
      rule, shapeOf(getData()), shapeOf(getIndices()), getAxis(),
      FactorKind::Parallel, FactorKind::Whole);
  rule.operands = {data, indices, indices};
  rule.results = {data};
  return rule;
}

ShardingRule ScatterNDOp::getShardingRule() {
  // The slices' own dims data[k:] are parallel; the indexed dims and the
  // rows of indices (which may land anywhere) are whole.
  ShardingRule rule;
  ArrayRef<int64_t> data = shapeOf(getData());
  ArrayRef<int64_t> indices = shapeOf(getIndices());
  int64_t k = indices.back();
  TensorFactors dataDims =
      addFactors(rule, data.take_front(k), FactorKind::Whole, "d");
  TensorFactors slice = addParallelFactors(rule, data.drop_front(k), "d", k);
  dataDims.append(slice.begin(), slice.end());
  TensorFactors rows =
      addFactors(rule, indices.drop_back(), FactorKind::Whole, "i");
  TensorFactors indexDims = rows;
  indexDims.push_back(
      addDimFactor(rule, "c", indices.back(), FactorKind::Whole));
  TensorFactors updates = rows;
  updates.append(slice.begin(), slice.end());
  rule.operands = {dataDims, indexDims, updates};
  rule.results = {dataDims};
  return rule;
}

//===----------------------------------------------------------------------===//
// Training ops
//===----------------------------------------------------------------------===//

ShardingRule AssignOp::getShardingRule() {
  // The value is split exactly like the weight it is written into.
  ShardingRule rule;
  TensorFactors dims = addParallelFactors(rule, shapeOf(getWeight()));
  rule.operands = {dims, dims};
  return rule;
}

/// Rule of a loss over `logits`-like positions B... x C: the batch factors
/// `b<i>` have `batchKind` (reduction with mean, or parallel), the class
/// factor `c` stays whole.
static std::pair<TensorFactors, DimFactors>
classifierFactors(ShardingRule &rule, ArrayRef<int64_t> logits,
                  FactorKind batchKind) {
  TensorFactors batch = addFactors(rule, logits.drop_back(), batchKind, "b");
  if (batchKind == FactorKind::Reduction)
    for (DimFactors &dim : batch)
      for (int64_t f : dim)
        rule.factors[f].combiner = ReduceKind::Mean;
  DimFactors classes =
      addDimFactor(rule, "c", logits.back(), FactorKind::Whole);
  return {batch, classes};
}

/// The all-reduces of a softmax over classes split across devices
/// (Megatron-LM's vocabulary-parallel cross-entropy): the positions' maxima,
/// their sums of exponentials and, for the loss, the label's logit, each a
/// tensor over the positions.
static void addSplitClassAllReduces(ShardingRule &rule,
                                    const TensorFactors &batch,
                                    const DimFactors &classes,
                                    Type elementType, bool withTarget) {
  if (classes.empty())
    return;
  int64_t c = classes.front();
  rule.innerAllReduces.push_back(
      {c, ReduceKind::Max, batch, elementType, "row maxima"});
  rule.innerAllReduces.push_back(
      {c, ReduceKind::Sum, batch, elementType, "sums of exponentials"});
  if (withTarget)
    rule.innerAllReduces.push_back(
        {c, ReduceKind::Sum, batch, elementType, "label logits"});
}

/// Rule of a cross-entropy (`isGrad`: its gradient) over logits B... x C:
/// the class factor may be split, with the all-reduces of the statistics
/// (SplitFormOpInterface); the logits are never gathered.
static ShardingRule crossEntropyRule(Value logitsValue, bool isGrad) {
  ShardingRule rule;
  auto [batch, classes] = classifierFactors(
      rule, shapeOf(logitsValue),
      isGrad ? FactorKind::Parallel : FactorKind::Reduction);
  for (int64_t f : classes)
    rule.factors[f].kind = FactorKind::Collective;
  addSplitClassAllReduces(
      rule, batch, classes,
      cast<RankedTensorType>(logitsValue.getType()).getElementType(),
      /*withTarget=*/!isGrad);
  TensorFactors logits = batch;
  logits.push_back(classes);
  rule.operands = {logits, batch};
  return rule;
}

ShardingRule CrossEntropyOp::getShardingRule() {
  ShardingRule rule = crossEntropyRule(getLogits(), /*isGrad=*/false);
  rule.results = {TensorFactors{}};
  return rule;
}

ShardingRule CrossEntropyGradOp::getShardingRule() {
  ShardingRule rule = crossEntropyRule(getLogits(), /*isGrad=*/true);
  TensorFactors logits = rule.operands.front();
  rule.operands.push_back(TensorFactors{});
  // The statistics of a split form are over the positions.
  // A split form's local op: its classes are already this device's.
  if (getMax()) {
    for (int64_t f : logits.back())
      rule.factors[f].kind = FactorKind::Whole;
    rule.innerAllReduces.clear();
    rule.operands.push_back(rule.operands[1]);
    rule.operands.push_back(rule.operands[1]);
  }
  rule.results = {logits};
  return rule;
}

ShardingRule CrossEntropyStatsOp::getShardingRule() {
  ShardingRule rule;
  auto [batch, classes] = classifierFactors(rule, shapeOf(getLogits()),
                                            FactorKind::Parallel);
  TensorFactors logits = batch;
  logits.push_back(classes);
  rule.operands = {logits, batch, batch};
  rule.results = {batch, batch};
  return rule;
}

ShardingRule MseOp::getShardingRule() {
  ShardingRule rule;
  TensorFactors dims;
  for (auto [d, size] : llvm::enumerate(shapeOf(getPred())))
    dims.push_back(addDimFactor(rule, ("d" + Twine(d)).str(), size,
                                FactorKind::Reduction, ReduceKind::Mean));
  rule.operands = {dims, dims};
  rule.results = {TensorFactors{}};
  return rule;
}

/// Rule of an elementwise optimizer update: every tensor operand and result
/// of the parameter's shape shares its parallel factors; rank-0 operands
/// (the step) are unfactored.
static ShardingRule optimizerRule(Operation *op, Value param) {
  ShardingRule rule;
  TensorFactors dims = addParallelFactors(rule, shapeOf(param));
  for (Value operand : op->getOperands())
    rule.operands.push_back(shapeOf(operand).empty() && !shapeOf(param).empty()
                                ? TensorFactors{}
                                : dims);
  for (size_t i = 0; i < op->getNumResults(); ++i)
    rule.results.push_back(dims);
  return rule;
}

ShardingRule AdamWOp::getShardingRule() {
  return optimizerRule(*this, getParam());
}

ShardingRule SgdOp::getShardingRule() {
  return optimizerRule(*this, getParam());
}

//===----------------------------------------------------------------------===//
// Backward ops
//===----------------------------------------------------------------------===//

ShardingRule GatherGradOp::getShardingRule() {
  // The table's dims d<i>; the index dims i<j> are summed over: a split of
  // the indices (data parallelism) leaves partial table gradients that an
  // all-reduce adds up. The gathered dim is parallel: split by rows, every
  // device scatters only into the rows it holds (`row_axes`, set on the
  // local form, which is already split).
  ShardingRule rule;
  ArrayRef<int64_t> table = shapeOf(getResult());
  int64_t axis = getAxis();
  TensorFactors outer = addParallelFactors(rule, table.take_front(axis));
  TensorFactors gathered = addFactors(
      rule, table.slice(axis, 1),
      getRowAxes() ? FactorKind::Whole : FactorKind::Parallel, "d", axis);
  if (!getRowAxes() && !gathered.front().empty())
    rule.blockAxes = BlockAxes{gathered.front().front(), "row_axes"};
  TensorFactors indices =
      addFactors(rule, shapeOf(getIndices()), FactorKind::Reduction, "i");
  TensorFactors inner =
      addParallelFactors(rule, table.drop_front(axis + 1), "d", axis + 1);
  TensorFactors grad = outer;
  grad.append(indices.begin(), indices.end());
  grad.append(inner.begin(), inner.end());
  TensorFactors result = outer;
  result.append(gathered.begin(), gathered.end());
  result.append(inner.begin(), inner.end());
  rule.operands = {grad, indices};
  rule.results = {result};
  return rule;
}

ShardingRule Conv2DGradInputOp::getShardingRule() {
  // Batch n parallel; the convolution's output channels o are contracted
  // and its input channels i parallel (both whole with groups); spatial dims
  // whole.
  ShardingRule rule;
  ArrayRef<int64_t> grad = shapeOf(getGrad());
  ArrayRef<int64_t> filter = shapeOf(getFilter());
  ArrayRef<int64_t> res = shapeOf(getResult());
  bool grouped = getGroup() != 1;
  auto whole = [&](StringRef name, int64_t size) {
    return addDimFactor(rule, name, size, FactorKind::Whole);
  };
  DimFactors n = addDimFactor(rule, "n", res[0], FactorKind::Parallel);
  DimFactors o = addDimFactor(
      rule, "o", grad[1], grouped ? FactorKind::Whole : FactorKind::Reduction);
  DimFactors i = addDimFactor(
      rule, "i", res[1], grouped ? FactorKind::Whole : FactorKind::Parallel);
  DimFactors fi = grouped ? whole("gi", filter[1]) : i;
  DimFactors oh = whole("oh", grad[2]), ow = whole("ow", grad[3]);
  DimFactors kh = whole("kh", filter[2]), kw = whole("kw", filter[3]);
  DimFactors ih = whole("ih", res[2]), iw = whole("iw", res[3]);
  rule.operands = {{n, o, oh, ow}, {o, fi, kh, kw}};
  rule.results = {{n, i, ih, iw}};
  return rule;
}

ShardingRule Conv2DGradFilterOp::getShardingRule() {
  // The batch n is summed over; output channels o and input channels i are
  // parallel (whole with groups); spatial dims whole.
  ShardingRule rule;
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> grad = shapeOf(getGrad());
  ArrayRef<int64_t> res = shapeOf(getResult());
  bool grouped = getGroup() != 1;
  auto whole = [&](StringRef name, int64_t size) {
    return addDimFactor(rule, name, size, FactorKind::Whole);
  };
  DimFactors n = addDimFactor(rule, "n", in[0], FactorKind::Reduction);
  DimFactors o = addDimFactor(
      rule, "o", res[0], grouped ? FactorKind::Whole : FactorKind::Parallel);
  DimFactors i = addDimFactor(
      rule, "i", in[1], grouped ? FactorKind::Whole : FactorKind::Parallel);
  DimFactors fi = grouped ? whole("gi", res[1]) : i;
  DimFactors ih = whole("ih", in[2]), iw = whole("iw", in[3]);
  DimFactors oh = whole("oh", grad[2]), ow = whole("ow", grad[3]);
  DimFactors kh = whole("kh", res[2]), kw = whole("kw", res[3]);
  rule.operands = {{n, i, ih, iw}, {n, o, oh, ow}};
  rule.results = {{o, fi, kh, kw}};
  return rule;
}

ShardingRule Pool2DGradOp::getShardingRule() {
  // Batch n and channels c parallel; spatial dims whole.
  ShardingRule rule;
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> grad = shapeOf(getGrad());
  DimFactors n = addDimFactor(rule, "n", in[0], FactorKind::Parallel);
  DimFactors c = addDimFactor(rule, "c", in[1], FactorKind::Parallel);
  DimFactors ih = addDimFactor(rule, "ih", in[2], FactorKind::Whole);
  DimFactors iw = addDimFactor(rule, "iw", in[3], FactorKind::Whole);
  DimFactors oh = addDimFactor(rule, "oh", grad[2], FactorKind::Whole);
  DimFactors ow = addDimFactor(rule, "ow", grad[3], FactorKind::Whole);
  rule.operands = {{n, c, oh, ow}, {n, c, ih, iw}};
  rule.results = {{n, c, ih, iw}};
  return rule;
}
