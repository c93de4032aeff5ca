//===- ControlFlow.cpp - Loop and If, unrolled or folded while importing -===//
//
// dist programs have no control flow: their shapes and their collectives are
// fixed at compile time. An If whose condition is known at compile time is
// replaced by the branch it takes; a Loop whose trip count and condition are
// known at compile time is unrolled, its body converted once per iteration.
// torch.onnx exports nn.EmbeddingBag as a Loop over the bags whose bounds
// are run-time data (the offsets input); that body is recognised and lowered
// as a masked reduction of the gathered rows, which has static shapes.
//
//===----------------------------------------------------------------------===//

#include "Composer.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <limits>
#include <optional>

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;
using namespace distopt::onnx_import;
using Node = onnx::NodeProto;

namespace {

/// The most body nodes an unrolled Loop or Scan may convert in all (their
/// steps are bounded by Composer::kMaxUnrolledSteps).
constexpr int64_t kMaxUnrolledNodes = int64_t{1} << 20;

/// The graph attribute `name` of `node`, or null.
const onnx::GraphProto *graphAttr(ImportContext &ic, const Node &node,
                                  llvm::StringRef name) {
  const onnx::AttributeProto *a = ic.findAttr(node, name);
  return a && a->has_g() ? &a->g() : nullptr;
}

/// Converts the nodes of `graph` with the converters of the model's opset;
/// the caller has bound the graph's inputs. `budget` counts down the nodes
/// an unrolled Loop may still convert.
LogicalResult convertGraph(ImportContext &ic, const Node &owner,
                           const onnx::GraphProto &graph, int64_t &budget) {
  if (graph.initializer_size() || graph.sparse_initializer_size())
    return ic.emitError(owner)
           << "has initializers inside its subgraph '" << graph.name()
           << "', which are not supported (move them to the main graph)";
  for (const Node &node : graph.node()) {
    if (--budget < 0)
      return ic.emitError(owner)
             << "unrolls to more than " << kMaxUnrolledNodes << " nodes";
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    const OpConverter *converter =
        defaultDomain ? ic.lookupConverter(node.op_type()) : nullptr;
    if (!converter)
      return ic.emitError(owner)
             << "has the unsupported operator "
             << (defaultDomain ? "" : node.domain() + ".") << node.op_type()
             << " (node '" << node.name() << "') in its subgraph '"
             << graph.name() << "'";
    if (failed(converter->convert(ic, node)))
      return failure();
  }
  return success();
}

/// The value `name` names (a fresh node that reads it, for lookups).
Node reader(const Node &owner, llvm::StringRef name) {
  Node n;
  n.set_op_type(owner.op_type());
  n.set_name(owner.name());
  n.add_input(name.str());
  return n;
}

/// Converts `graph` (an If branch, one step of a Loop or Scan body) once,
/// its inputs bound to `inputs`, and returns its outputs. The names the
/// graph defines are bound only while it converts.
FailureOr<SmallVector<Value>> runBody(ImportContext &ic, const Node &owner,
                                      const onnx::GraphProto &graph,
                                      ArrayRef<Value> inputs,
                                      int64_t &budget) {
  ScopedValues scope(ic);
  for (const Node &node : graph.node())
    for (const std::string &name : node.output())
      scope.save(name);
  for (auto [info, value] : llvm::zip_equal(graph.input(), inputs))
    scope.bind(info.name(), value);
  if (failed(convertGraph(ic, owner, graph, budget)))
    return failure();
  SmallVector<Value> outputs;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    FailureOr<Value> v = ic.getInput(reader(owner, output.name()), 0);
    if (failed(v))
      return failure();
    outputs.push_back(*v);
  }
  return outputs;
}

/// The values of scan output `k`, one per step, stacked along a new dim
/// `axis`: they must all have one shape.
V stack(Composer &c, ArrayRef<Value> steps, int64_t axis, int64_t k) {
  ArrayRef<int64_t> shape = typeOf(steps.front()).getShape();
  SmallVector<int64_t> row(shape);
  row.insert(row.begin() + axis, 1);
  SmallVector<V> parts;
  for (Value v : steps) {
    if (typeOf(v).getShape() != shape)
      return c.ic.emitError(c.node)
             << "gives scan output " << k << " of shape " << typeOf(v)
             << " at one step and " << typeOf(steps.front()) << " at the first";
    parts.push_back(c.reshape(v, row));
  }
  return c.concat(parts, axis);
}

/// The boolean that `attr` holds (one bool or integer).
std::optional<bool> constantBool(DenseElementsAttr attr) {
  if (attr.getNumElements() != 1)
    return std::nullopt;
  Type element = attr.getElementType();
  if (element.isInteger(1))
    return *attr.value_begin<bool>();
  if (isa<IntegerType>(element))
    return !(*attr.value_begin<APInt>()).isZero();
  return std::nullopt;
}

/// The boolean that `v` holds when it is a constant.
std::optional<bool> constantBool(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  return constantBool(attr);
}

/// The condition that input `index` holds at compile time (one boolean),
/// and its value.
FailureOr<std::pair<bool, DenseElementsAttr>>
requireCondition(ImportContext &ic, const Node &node, int index) {
  FailureOr<DenseElementsAttr> cond =
      ic.requireConstantInput(node, index, "the condition");
  if (failed(cond))
    return failure();
  std::optional<bool> value = constantBool(*cond);
  if (!value)
    return ic.emitError(node)
           << "expects a condition of one boolean, found " << cond->getType();
  return std::make_pair(*value, *cond);
}

//===----------------------------------------------------------------------===//
// If
//===----------------------------------------------------------------------===//

LogicalResult convertIf(ImportContext &ic, const Node &node) {
  // dist programs have no branches: the condition must be known now.
  FailureOr<std::pair<bool, DenseElementsAttr>> cond =
      requireCondition(ic, node, 0);
  if (failed(cond))
    return failure();
  bool taken = cond->first;
  const onnx::GraphProto *branch =
      graphAttr(ic, node, taken ? "then_branch" : "else_branch");
  if (!branch)
    return ic.emitError(node)
           << "has no " << (taken ? "then" : "else") << "_branch graph";
  if (branch->input_size())
    return ic.emitError(node) << "has a branch with inputs";
  if (branch->output_size() != node.output_size())
    return ic.emitError(node)
           << "has " << node.output_size() << " outputs but its branch "
           << branch->output_size();
  int64_t budget = kMaxUnrolledNodes;
  FailureOr<SmallVector<Value>> results =
      runBody(ic, node, *branch, {}, budget);
  if (failed(results))
    return failure();
  for (auto [i, v] : llvm::enumerate(*results))
    ic.setOutput(node, static_cast<int>(i), v);
  return success();
}

//===----------------------------------------------------------------------===//
// Loop: nn.EmbeddingBag
//===----------------------------------------------------------------------===//

/// The Loop torch.onnx makes of nn.EmbeddingBag: per bag b (the iteration
/// number), the rows Slice(ids, starts[b], ends[b]) of a Gather from the
/// table (times the matching slice of per-sample weights), reduced over the
/// rows by ReduceSum, ReduceMean or ReduceMax.
struct BagPattern {
  std::string ids, table, starts, ends, perSampleWeights;
  ReduceKind kind;
};

class BagMatcher {
public:
  BagMatcher(ImportContext &ic, const Node &loop, const onnx::GraphProto &body)
      : ic(ic), loop(loop), body(body) {
    for (const Node &node : body.node())
      for (const std::string &name : node.output())
        producers[name] = &node;
    for (const onnx::ValueInfoProto &input : body.input())
      inputs.insert(input.name());
  }

  std::optional<BagPattern> match() {
    // No loop-carried values, one scan output: [iteration, cond] -> [cond,
    // bag].
    if (loop.input_size() != 2 || body.input_size() != 2 ||
        body.output_size() != 2 || loop.output_size() != 1)
      return std::nullopt;
    iteration = body.input(0).name();
    const Node *reduce = producer(body.output(1).name());
    if (!reduce || ic.getIntAttr(*reduce, "keepdims", 1) != 0 ||
        axes(*reduce, 1) != SmallVector<int64_t>{0})
      return std::nullopt;
    BagPattern p;
    if (reduce->op_type() == "ReduceSum")
      p.kind = ReduceKind::Sum;
    else if (reduce->op_type() == "ReduceMean")
      p.kind = ReduceKind::Mean;
    else if (reduce->op_type() == "ReduceMax")
      p.kind = ReduceKind::Max;
    else
      return std::nullopt;
    const Node *rows = producer(reduce->input(0));
    const Node *gather = rows;
    std::string starts, ends;
    if (rows && rows->op_type() == "Mul" && p.kind == ReduceKind::Sum) {
      // The rows times per-sample weights, unsqueezed to a column.
      for (int side = 0; side < 2 && rows->input_size() == 2; ++side) {
        const Node *g = producer(rows->input(side));
        const Node *column = producer(rows->input(1 - side));
        if (!g || g->op_type() != "Gather" || !column ||
            column->op_type() != "Unsqueeze" ||
            axes(*column, 1) != SmallVector<int64_t>{1})
          continue;
        std::string weights;
        if (!matchBagSlice(column->input(0), weights, starts, ends))
          continue;
        gather = g;
        p.perSampleWeights = weights;
      }
      if (p.perSampleWeights.empty())
        return std::nullopt;
    }
    if (!gather || gather->op_type() != "Gather" || gather->input_size() != 2 ||
        ic.getIntAttr(*gather, "axis", 0) != 0 || !isOuter(gather->input(0)))
      return std::nullopt;
    p.table = gather->input(0);
    std::string idsStarts, idsEnds;
    if (!matchBagSlice(gather->input(1), p.ids, idsStarts, idsEnds))
      return std::nullopt;
    if (!p.perSampleWeights.empty() && (idsStarts != starts || idsEnds != ends))
      return std::nullopt;
    p.starts = idsStarts;
    p.ends = idsEnds;
    return p;
  }

private:
  ImportContext &ic;
  const Node &loop;
  const onnx::GraphProto &body;
  llvm::StringMap<const Node *> producers;
  llvm::StringSet<> inputs;
  std::string iteration;

  const Node *producer(llvm::StringRef name) const {
    return producers.lookup(name);
  }
  bool isOuter(llvm::StringRef name) const {
    return !name.empty() && !producers.count(name) && !inputs.contains(name);
  }
  /// The integer values of `name`: a Constant node of the body, or a
  /// compile-time value outside it.
  std::optional<SmallVector<int64_t>> ints(llvm::StringRef name) {
    DenseElementsAttr attr;
    if (const Node *c = producer(name)) {
      if (c->op_type() != "Constant")
        return std::nullopt;
      const onnx::AttributeProto *value = ic.findAttr(*c, "value");
      if (!value || !value->has_t())
        return std::nullopt;
      ScopedDiagnosticHandler quiet(ic.builder.getContext(),
                                    [](Diagnostic &) { return success(); });
      FailureOr<DenseElementsAttr> read =
          ic.readTensor(value->t(), ic.getLoc(*c));
      if (failed(read))
        return std::nullopt;
      attr = *read;
    } else if (isOuter(name)) {
      std::optional<DenseElementsAttr> read =
          ic.getConstantInput(reader(loop, name), 0);
      if (!read)
        return std::nullopt;
      attr = *read;
    } else {
      return std::nullopt;
    }
    if (!isa<IntegerType>(attr.getElementType()) || attr.getNumElements() > 8)
      return std::nullopt;
    SmallVector<int64_t> values;
    for (const APInt &v : attr.getValues<APInt>())
      values.push_back(v.getSExtValue());
    return values;
  }
  /// The axes of a Reduce or Unsqueeze node: its attribute, or input
  /// `index`.
  std::optional<SmallVector<int64_t>> axes(const Node &node, int index) {
    if (std::optional<SmallVector<int64_t>> a = ic.getIntsAttr(node, "axes"))
      return a;
    if (node.input_size() > index && !node.input(index).empty())
      return ints(node.input(index));
    return std::nullopt;
  }
  /// `name` is Unsqueeze(Gather(bounds, iteration), [0]): bounds[b] as a
  /// 1-element vector.
  bool matchBound(llvm::StringRef name, std::string &bounds) {
    const Node *unsqueeze = producer(name);
    if (!unsqueeze || unsqueeze->op_type() != "Unsqueeze" ||
        axes(*unsqueeze, 1) != SmallVector<int64_t>{0})
      return false;
    const Node *gather = producer(unsqueeze->input(0));
    if (!gather || gather->op_type() != "Gather" || gather->input_size() != 2 ||
        gather->input(1) != iteration ||
        ic.getIntAttr(*gather, "axis", 0) != 0 || !isOuter(gather->input(0)))
      return false;
    bounds = gather->input(0);
    return true;
  }
  /// `name` is Slice(data, starts[b], ends[b], [0] (, [1])) of an outer
  /// `data`.
  bool matchBagSlice(llvm::StringRef name, std::string &data,
                     std::string &starts, std::string &ends) {
    const Node *slice = producer(name);
    if (!slice || slice->op_type() != "Slice" || slice->input_size() < 3 ||
        !isOuter(slice->input(0)))
      return false;
    if (slice->input_size() > 3 && !slice->input(3).empty() &&
        ints(slice->input(3)) != SmallVector<int64_t>{0})
      return false;
    if (slice->input_size() > 4 && !slice->input(4).empty() &&
        ints(slice->input(4)) != SmallVector<int64_t>{1})
      return false;
    data = slice->input(0);
    return matchBound(slice->input(1), starts) &&
           matchBound(slice->input(2), ends);
  }
};

/// out[b] = reduce over j in [starts[b], ends[b]) of table[ids[j]] (times
/// perSampleWeights[j]): the rows gathered once, a [bags, L] mask of which
/// rows each bag takes, and a matmul with it (sum, mean) or a masked max.
/// The bounds are clamped as Slice clamps them. An empty bag gives zeros,
/// as nn.EmbeddingBag does.
LogicalResult lowerEmbeddingBag(ImportContext &ic, const Node &node,
                                const BagPattern &p, int64_t bags) {
  auto input = [&](llvm::StringRef name) {
    return ic.getInput(reader(node, name), 0);
  };
  FailureOr<Value> ids = input(p.ids), table = input(p.table),
                   starts = input(p.starts), ends = input(p.ends);
  if (failed(ids) || failed(table) || failed(starts) || failed(ends))
    return failure();
  RankedTensorType idsType = typeOf(*ids), tableType = typeOf(*table);
  if (idsType.getRank() != 1 || !isa<IntegerType>(idsType.getElementType()))
    return ic.emitError(node) << "(an EmbeddingBag) expects 1-D integer "
                                 "indices, found "
                              << idsType;
  if (tableType.getRank() != 2 || !isa<FloatType>(tableType.getElementType()))
    return ic.emitError(node) << "(an EmbeddingBag) expects a 2-D float "
                                 "table, found "
                              << tableType;
  for (Value bounds : {*starts, *ends}) {
    RankedTensorType t = typeOf(bounds);
    if (t.getRank() != 1 || !isa<IntegerType>(t.getElementType()) ||
        t.getDimSize(0) < bags)
      return ic.emitError(node)
             << "(an EmbeddingBag) expects 1-D integer bag bounds of at least "
             << bags << " values, found " << t;
  }
  int64_t length = idsType.getDimSize(0), dim = tableType.getDimSize(1);
  if (bags > Composer::kMaxIndexRange / std::max<int64_t>(length, 1))
    return ic.emitError(node) << "(an EmbeddingBag) needs a mask of " << bags
                              << " x " << length << " values; at most "
                              << Composer::kMaxIndexRange << " are supported";
  Composer c(ic, node);
  Type i64 = ic.builder.getI64Type();
  Type element = tableType.getElementType();
  // A bound as Slice reads it: negative counts from the end; clamped to
  // [0, L].
  auto clampBound = [&](Value bounds) -> V {
    V b = c.cast(c.slice(bounds, {0}, {bags}), i64);
    V len = c.intScalar(i64, length);
    b = c.select(c.compare(CompareKind::Lt, b, c.intScalar(i64, 0)),
                 c.add(b, len), b);
    b = c.select(c.compare(CompareKind::Lt, b, c.intScalar(i64, 0)),
                 c.intScalar(i64, 0), b);
    b = c.select(c.compare(CompareKind::Gt, b, len), len, b);
    return c.reshape(b, {bags, 1});
  };
  V positions = c.iota(length, 1, 2); // [1, L]
  V inBag = c.select(
      c.compare(CompareKind::Ge, positions, clampBound(*starts)),
      c.compare(CompareKind::Lt, positions, clampBound(*ends)),
      c.constant(ic.builder.getI1Type(), ic.builder.getBoolAttr(false)));
  V rows = c.gather(*table, *ids, 0); // [L, D]
  if (!p.perSampleWeights.empty()) {
    FailureOr<Value> weights = input(p.perSampleWeights);
    if (failed(weights))
      return failure();
    if (typeOf(*weights).getShape() != ArrayRef<int64_t>{length})
      return ic.emitError(node)
             << "(an EmbeddingBag) expects " << length
             << " per-sample weights, found " << typeOf(*weights);
    rows = c.mul(rows, c.reshape(c.cast(*weights, element), {length, 1}));
  }
  V mask = c.cast(inBag, element); // [bags, L]
  V result = failure();
  if (p.kind == ReduceKind::Max) {
    V masked = c.select(
        c.reshape(inBag, {bags, length, 1}), c.reshape(rows, {1, length, dim}),
        c.scalar(element, -std::numeric_limits<double>::infinity()));
    V best = c.reduce(ReduceKind::Max, masked, {1}, false);
    V any =
        c.compare(CompareKind::Gt, c.reduce(ReduceKind::Sum, mask, {1}, true),
                  c.scalar(element, 0));
    result = c.select(any, best, c.scalar(element, 0));
  } else {
    if (failed(mask) || failed(rows))
      return failure();
    result = ic.create<MatMulOp>(node, *mask, *rows, Value());
    if (p.kind == ReduceKind::Mean) {
      V count = c.reduce(ReduceKind::Sum, mask, {1}, true);
      V one = c.scalar(element, 1);
      result = c.div(
          result, c.select(c.compare(CompareKind::Lt, count, one), one, count));
    }
  }
  return c.bind(0, result);
}

//===----------------------------------------------------------------------===//
// Loop: unrolled
//===----------------------------------------------------------------------===//

LogicalResult convertLoop(ImportContext &ic, const Node &node) {
  const onnx::GraphProto *body = graphAttr(ic, node, "body");
  if (!body)
    return ic.emitError(node) << "has no body graph";
  int carried = std::max(0, node.input_size() - 2);
  if (body->input_size() != carried + 2 || body->output_size() < carried + 1)
    return ic.emitError(node)
           << "has " << carried << " loop-carried values but its body takes "
           << body->input_size() << " inputs and gives " << body->output_size()
           << " outputs";
  int scans = body->output_size() - 1 - carried;
  if (node.output_size() > carried + scans)
    return ic.emitError(node) << "has more outputs than its body gives";

  // The trip count and the first condition, when given, must be known now.
  std::optional<int64_t> tripCount;
  if (node.input_size() > 0 && !node.input(0).empty()) {
    FailureOr<DenseElementsAttr> m =
        ic.requireConstantInput(node, 0, "the trip count");
    if (failed(m))
      return failure();
    if (m->getNumElements() != 1 || !isa<IntegerType>(m->getElementType()))
      return ic.emitError(node)
             << "expects a trip count of one integer, found " << m->getType();
    tripCount = (*m->value_begin<APInt>()).getSExtValue();
  }
  bool useCondition = node.input_size() > 1 && !node.input(1).empty();
  bool condition = true;
  Value conditionValue;
  if (useCondition) {
    FailureOr<std::pair<bool, DenseElementsAttr>> cond =
        requireCondition(ic, node, 1);
    if (failed(cond))
      return failure();
    condition = cond->first;
    conditionValue = ic.createConstant(ic.getLoc(node), cond->second);
  }

  // nn.EmbeddingBag: bounds that are run-time data, in a fixed pattern.
  if (tripCount && (!useCondition || condition)) {
    if (std::optional<BagPattern> bag = BagMatcher(ic, node, *body).match()) {
      if (*tripCount < 1 || *tripCount > Composer::kMaxIndexRange)
        return ic.emitError(node)
               << "(an EmbeddingBag) has " << *tripCount
               << " bags; expected 1 to " << Composer::kMaxIndexRange;
      return lowerEmbeddingBag(ic, node, *bag, *tripCount);
    }
  }
  if (!tripCount && !useCondition)
    return ic.emitError(node) << "has neither a trip count nor a condition: "
                                 "it would not end";

  SmallVector<Value> values;
  for (int i = 0; i < carried; ++i) {
    FailureOr<Value> v = ic.getInput(node, i + 2);
    if (failed(v))
      return failure();
    values.push_back(*v);
  }
  // The iteration number, shaped as the body declares it ([] or [1]).
  SmallVector<int64_t> iterationShape;
  const onnx::ValueInfoProto &iterationInfo = body->input(0);
  if (iterationInfo.type().tensor_type().has_shape() &&
      iterationInfo.type().tensor_type().shape().dim_size() == 1)
    iterationShape.push_back(1);
  Composer c(ic, node);
  Type i64 = ic.builder.getI64Type();
  SmallVector<SmallVector<Value>> scanned(scans);
  int64_t budget = kMaxUnrolledNodes;
  int64_t iteration = 0;
  for (; (!tripCount || iteration < *tripCount) && condition; ++iteration) {
    if (iteration >= Composer::kMaxUnrolledSteps)
      return ic.emitError(node)
             << "runs more than " << Composer::kMaxUnrolledSteps
             << " iterations, the most that are unrolled";
    V counter = c.reshape(c.intScalar(i64, iteration), iterationShape);
    if (failed(counter))
      return failure();
    if (!conditionValue)
      conditionValue =
          c.constant(ic.builder.getI1Type(), ic.builder.getBoolAttr(true));
    SmallVector<Value> inputs{*counter, conditionValue};
    llvm::append_range(inputs, values);
    FailureOr<SmallVector<Value>> stepOutputs =
        runBody(ic, node, *body, inputs, budget);
    if (failed(stepOutputs))
      return failure();
    SmallVector<Value> &outputs = *stepOutputs;
    if (useCondition) {
      std::optional<bool> next = constantBool(outputs[0]);
      if (!next)
        return ic.emitError(node)
               << "computes its condition from run-time data at iteration "
               << iteration << "; only loops whose condition is known at "
               << "compile time are unrolled";
      condition = *next;
      conditionValue = outputs[0];
    }
    for (int i = 0; i < carried; ++i)
      values[i] = outputs[i + 1];
    for (int k = 0; k < scans; ++k)
      scanned[k].push_back(outputs[1 + carried + k]);
  }

  for (int i = 0; i < carried; ++i)
    ic.setOutput(node, i, values[i]);
  for (int k = 0; k < scans; ++k) {
    if (node.output_size() <= carried + k || node.output(carried + k).empty())
      continue;
    if (scanned[k].empty())
      return ic.emitError(node) << "runs no iteration, so its scan output '"
                                << node.output(carried + k) << "' has no shape";
    if (failed(c.bind(carried + k, stack(c, scanned[k], 0, k))))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Scan: unrolled over its (static) sequence
//===----------------------------------------------------------------------===//

/// Scan (opset 9 and later): the body runs once per position of the scan
/// inputs along their axes (forward or reversed), with the states carried
/// from one position to the next; its scan outputs are stacked along their
/// axes.
LogicalResult convertScan(ImportContext &ic, const Node &node) {
  const onnx::GraphProto *body = graphAttr(ic, node, "body");
  if (!body)
    return ic.emitError(node) << "has no body graph";
  int64_t scanInputs = ic.getIntAttr(node, "num_scan_inputs", -1);
  int64_t states = node.input_size() - scanInputs;
  if (scanInputs < 1 || states < 0 || body->input_size() != node.input_size() ||
      body->output_size() < states || node.output_size() > body->output_size())
    return ic.emitError(node)
           << "has " << node.input_size() << " inputs, " << scanInputs
           << " of them scanned, but its body takes " << body->input_size()
           << " inputs and gives " << body->output_size() << " outputs";
  int64_t scanOutputs = body->output_size() - states;
  auto attrOr = [&](const char *name, int64_t n) {
    SmallVector<int64_t> v =
        ic.getIntsAttr(node, name).value_or(SmallVector<int64_t>(n, 0));
    return v;
  };
  SmallVector<int64_t> inAxes = attrOr("scan_input_axes", scanInputs),
                       inDirections =
                           attrOr("scan_input_directions", scanInputs),
                       outAxes = attrOr("scan_output_axes", scanOutputs),
                       outDirections =
                           attrOr("scan_output_directions", scanOutputs);
  if (static_cast<int64_t>(inAxes.size()) != scanInputs ||
      static_cast<int64_t>(inDirections.size()) != scanInputs ||
      static_cast<int64_t>(outAxes.size()) != scanOutputs ||
      static_cast<int64_t>(outDirections.size()) != scanOutputs)
    return ic.emitError(node) << "expects one axis and direction per scan "
                                 "input and output";
  SmallVector<Value> values, scanned;
  int64_t length = -1;
  for (int64_t i = 0; i < node.input_size(); ++i) {
    FailureOr<Value> v = ic.getInput(node, static_cast<int>(i));
    if (failed(v))
      return failure();
    if (i < states) {
      values.push_back(*v);
      continue;
    }
    int64_t k = i - states, rank = typeOf(*v).getRank();
    FailureOr<int64_t> axis = ic.normalizeAxis(node, inAxes[k], rank);
    if (failed(axis))
      return failure();
    inAxes[k] = *axis;
    int64_t n = typeOf(*v).getDimSize(*axis);
    if (length >= 0 && n != length)
      return ic.emitError(node)
             << "scans inputs of " << length << " and " << n << " positions";
    length = n;
    scanned.push_back(*v);
  }
  if (length < 1 || length > Composer::kMaxUnrolledSteps)
    return ic.emitError(node) << "scans " << length << " positions; expected 1 "
                              << "to " << Composer::kMaxUnrolledSteps;
  Composer c(ic, node);
  SmallVector<SmallVector<Value>> outputs(scanOutputs);
  int64_t budget = kMaxUnrolledNodes;
  for (int64_t t = 0; t < length; ++t) {
    SmallVector<Value> inputs(values);
    for (int64_t k = 0; k < scanInputs; ++k) {
      ArrayRef<int64_t> shape = typeOf(scanned[k]).getShape();
      SmallVector<int64_t> offsets(shape.size(), 0), sizes(shape), row;
      offsets[inAxes[k]] = inDirections[k] ? length - 1 - t : t;
      sizes[inAxes[k]] = 1;
      for (auto [d, n] : llvm::enumerate(shape))
        if (static_cast<int64_t>(d) != inAxes[k])
          row.push_back(n);
      V slice = c.reshape(c.slice(scanned[k], offsets, sizes), row);
      if (failed(slice))
        return failure();
      inputs.push_back(*slice);
    }
    FailureOr<SmallVector<Value>> stepOutputs =
        runBody(ic, node, *body, inputs, budget);
    if (failed(stepOutputs))
      return failure();
    for (auto [i, v] : llvm::enumerate(*stepOutputs)) {
      if (static_cast<int64_t>(i) < states)
        values[i] = v;
      else
        outputs[i - states].push_back(v);
    }
  }
  for (int64_t i = 0; i < states; ++i)
    ic.setOutput(node, static_cast<int>(i), values[i]);
  for (int64_t k = 0; k < scanOutputs; ++k) {
    int index = static_cast<int>(states + k);
    if (node.output_size() <= index || node.output(index).empty())
      continue;
    int64_t rank = typeOf(outputs[k][0]).getRank() + 1;
    FailureOr<int64_t> axis = ic.normalizeAxis(node, outAxes[k], rank);
    if (failed(axis))
      return failure();
    if (outDirections[k])
      std::reverse(outputs[k].begin(), outputs[k].end());
    if (failed(c.bind(index, stack(c, outputs[k], *axis, k))))
      return failure();
  }
  return success();
}

} // namespace

llvm::ArrayRef<OpConverter> onnx_import::getControlFlowConverters() {
  static const OpConverter converters[] = {
      {"If", 1, convertIf, "a condition not known at compile time"},
      {"Loop", 1, convertLoop,
       "a trip count or condition not known at compile time (except "
       "nn.EmbeddingBag's pattern); scan outputs whose shape changes"},
      {"Scan", 9, convertScan,
       "opset 8's batched form; scan outputs whose shape changes"},
  };
  return converters;
}
