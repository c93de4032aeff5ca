//===- ModelChecks.cpp - what an untrusted model must pass first ----------===//
//
// The ONNX library trusts its input: a tensor whose bytes are fewer than its
// dims say is read past its end, and shape inference goes on after a node
// fails, handing later nodes types it never finished (both crash). Before
// any of the library runs, every tensor of the model is checked here against
// its dims and element type; shape inference then runs node by node, with
// the library's per-node functions, and stops at the first node it fails.
//
//===----------------------------------------------------------------------===//

#include "ModelChecks.h"

#include "ImportContext.h"

#include "llvm/ADT/Twine.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <memory>
#include <optional>
#include <unordered_map>

using namespace mlir;
using namespace distopt;
using namespace distopt::onnx_import;

/// Bytes per element of the ONNX element types with a fixed width; 0 for
/// STRING and for types this build of ONNX does not name.
static int64_t elementBytes(int32_t type) {
  switch (type) {
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::BOOL:
    return 1;
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    return 2;
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32:
    return 4;
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64:
  case onnx::TensorProto::COMPLEX64:
    return 8;
  case onnx::TensorProto::COMPLEX128:
    return 16;
  default:
    return 0;
  }
}

/// The number of values a tensor keeps in the typed field its element type
/// uses (complex numbers take two), and that field's name.
static std::pair<int64_t, const char *>
typedFieldCount(const onnx::TensorProto &t) {
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    return {t.float_data_size(), "float_data"};
  case onnx::TensorProto::COMPLEX64:
    return {t.float_data_size() / 2, "float_data"};
  case onnx::TensorProto::DOUBLE:
    return {t.double_data_size(), "double_data"};
  case onnx::TensorProto::COMPLEX128:
    return {t.double_data_size() / 2, "double_data"};
  case onnx::TensorProto::INT64:
    return {t.int64_data_size(), "int64_data"};
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    return {t.uint64_data_size(), "uint64_data"};
  case onnx::TensorProto::STRING:
    return {t.string_data_size(), "string_data"};
  default:
    return {t.int32_data_size(), "int32_data"};
  }
}

LogicalResult onnx_import::checkTensorData(const onnx::TensorProto &t,
                                           Location loc, StringRef role) {
  auto fail = [&](const Twine &why) {
    return emitError(loc) << role << " '" << t.name() << "' " << why;
  };
  int32_t type = t.data_type();
  if (type == onnx::TensorProto::UNDEFINED ||
      !onnx::TensorProto::DataType_IsValid(type))
    return fail("has no valid element type (found " + Twine(type) + ")");
  if (t.has_segment())
    return fail("is segmented, which is not supported");
  int64_t elements = 1;
  for (int64_t d : t.dims()) {
    if (d < 0)
      return fail("has a negative dim " + Twine(d));
    if (__builtin_mul_overflow(elements, d, &elements))
      return fail("has more elements than fit in 64 bits");
  }
  int64_t width = elementBytes(type);
  int64_t bytes = 0;
  if (width && __builtin_mul_overflow(elements, width, &bytes))
    return fail("has more bytes than fit in 64 bits");
  // External bytes are checked where they are read (path, range, length).
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return success();
  if (t.has_raw_data()) {
    if (!width)
      return fail("of type " + onnxElementTypeName(type) +
                  " cannot hold raw data");
    if (static_cast<int64_t>(t.raw_data().size()) != bytes)
      return fail("holds " + Twine(t.raw_data().size()) +
                  " bytes of raw data, but its dims and type " +
                  onnxElementTypeName(type) + " need " + Twine(bytes));
    return success();
  }
  auto [count, field] = typedFieldCount(t);
  if (count != elements)
    return fail("holds " + Twine(count) + " values in " + field +
                ", but its dims need " + Twine(elements));
  return success();
}

/// Checks the tensors of one attribute (and of the graphs it holds).
static LogicalResult checkAttributeTensors(const onnx::AttributeProto &a,
                                           const onnx::NodeProto &node,
                                           Location loc) {
  std::string role = "attribute '" + a.name() + "' of node '" + node.name() +
                     "' (" + node.op_type() + "): tensor";
  if (a.has_t() && failed(checkTensorData(a.t(), loc, role)))
    return failure();
  for (const onnx::TensorProto &t : a.tensors())
    if (failed(checkTensorData(t, loc, role)))
      return failure();
  if (a.has_sparse_tensor() || a.sparse_tensors_size())
    return emitError(loc) << "attribute '" << a.name() << "' of node '"
                          << node.name() << "' (" << node.op_type()
                          << ") holds a sparse tensor, which is not supported";
  if (a.has_g() && failed(checkModelTensors(a.g(), loc)))
    return failure();
  for (const onnx::GraphProto &g : a.graphs())
    if (failed(checkModelTensors(g, loc)))
      return failure();
  return success();
}

/// A declared dim must not be negative (ONNX has no meaning for it).
static LogicalResult checkValueInfo(const onnx::ValueInfoProto &info,
                                    Location loc) {
  if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape())
    return success();
  for (const auto &dim : info.type().tensor_type().shape().dim())
    if (dim.has_dim_value() && dim.dim_value() < 0)
      return emitError(loc)
             << "value '" << info.name() << "' is declared with a negative dim "
             << dim.dim_value();
  return success();
}

LogicalResult onnx_import::checkModelTensors(const onnx::GraphProto &graph,
                                             Location loc) {
  if (graph.sparse_initializer_size())
    return emitError(loc) << "sparse initializer '"
                          << graph.sparse_initializer(0).values().name()
                          << "' is not supported";
  for (const onnx::TensorProto &t : graph.initializer())
    if (failed(checkTensorData(t, loc, "initializer")))
      return failure();
  for (const onnx::NodeProto &node : graph.node())
    for (const onnx::AttributeProto &a : node.attribute())
      if (failed(checkAttributeTensors(a, node, loc)))
        return failure();
  for (const auto *infos :
       {&graph.input(), &graph.output(), &graph.value_info()})
    for (const onnx::ValueInfoProto &info : *infos)
      if (failed(checkValueInfo(info, loc)))
        return failure();
  return success();
}

/// ONNX's messages span several lines; diagnostics here are one line.
std::string onnx_import::oneLine(const char *what) {
  SmallVector<StringRef> words;
  StringRef(what).split(words, ' ', -1, /*KeepEmpty=*/false);
  std::string out;
  for (StringRef w : words) {
    SmallVector<StringRef> parts;
    w.split(parts, '\n', -1, /*KeepEmpty=*/false);
    for (StringRef part : parts) {
      part = part.trim();
      if (part.empty())
        continue;
      if (!out.empty())
        out += ' ';
      out += part.str();
    }
  }
  return out;
}

namespace {
/// The state of node-by-node inference over one graph: the type of every
/// value known so far (pointers into the graph's value infos, or types made
/// here for initializers and for outputs nothing declares), and the values
/// known at compile time.
struct NodeInference {
  NodeInference(onnx::GraphProto &graph,
                const std::unordered_map<std::string, int> &opsets)
      : graph(graph),
        graphContext(types, opsets, /*symbol_table=*/nullptr, {},
                     onnx::OpSchemaRegistry::Instance(), &shapeData) {}

  void collect();
  /// Infers the types of `node`'s outputs and merges them into what is
  /// declared; throws what ONNX throws.
  void inferNode(onnx::NodeProto &node);

  onnx::GraphProto &graph;
  std::unordered_map<std::string, onnx::TypeProto *> types;
  std::unordered_map<std::string, const onnx::TensorProto *> data;
  std::unordered_map<std::string, const onnx::SparseTensorProto *> sparseData;
  std::unordered_map<std::string, onnx::TensorShapeProto> shapeData;
  std::vector<std::unique_ptr<onnx::TypeProto>> owned;
  onnx::shape_inference::GraphInferenceContext graphContext;
};
} // namespace

void NodeInference::collect() {
  for (auto *infos : {graph.mutable_value_info(), graph.mutable_input(),
                      graph.mutable_output()})
    for (onnx::ValueInfoProto &info : *infos)
      if (info.has_type())
        types[info.name()] = info.mutable_type();
  for (const onnx::TensorProto &t : graph.initializer()) {
    data[t.name()] = &t;
    onnx::TypeProto *&type = types[t.name()];
    if (!type) {
      owned.push_back(std::make_unique<onnx::TypeProto>());
      type = owned.back().get();
    }
    if (type->has_tensor_type())
      continue;
    onnx::TypeProto::Tensor *tensor = type->mutable_tensor_type();
    tensor->set_elem_type(t.data_type());
    onnx::TensorShapeProto *shape = tensor->mutable_shape();
    for (int64_t d : t.dims())
      shape->add_dim()->set_dim_value(d);
  }
}

/// The rank of value `name` when its type says it, or -1.
static int
rankOf(const std::unordered_map<std::string, onnx::TypeProto *> &types,
       const std::string &name) {
  auto it = types.find(name);
  if (it == types.end() || !it->second->has_tensor_type() ||
      !it->second->tensor_type().has_shape())
    return -1;
  return it->second->tensor_type().shape().dim_size();
}

/// Einsum's inference in ONNX 1.12 counts the indices of an equation
/// without `->` in an array of the 26 letters a-z, at `c - 'a'`: any other
/// character (an upper-case index, a digit) writes out of its bounds.
static void checkEinsumEquation(const onnx::NodeProto &node) {
  for (const onnx::AttributeProto &a : node.attribute()) {
    if (a.name() != "equation")
      continue;
    const std::string &equation = a.s();
    if (equation.find("->") != std::string::npos)
      return;
    for (char c : equation)
      if (c != ' ' && c != ',' && c != '.' && (c < 'a' || c > 'z'))
        throw std::runtime_error(
            "Einsum: the equation '" + equation + "' has no '->' and the " +
            "character '" + std::string(1, c) +
            "', which ONNX 1.12's shape inference cannot count (it takes "
            "a-z only there); give the output after '->'");
  }
}

/// Checks what ONNX 1.12's inference functions take for granted and read
/// or write out of bounds when it is not so: Conv's and ConvTranspose's
/// kernel, taken from the weight's dims, is indexed with the input's
/// spatial rank; Einsum's
/// implicit output is counted in an array of the letters a-z. Inside a
/// subgraph (`inSubgraph`), whose values' types this check does not know,
/// a rank-dependent attribute other than the harmless default is refused.
static void checkBeforeInference(
    const onnx::NodeProto &node,
    const std::unordered_map<std::string, onnx::TypeProto *> &types,
    bool inSubgraph = false) {
  if (node.op_type() == "Einsum")
    return checkEinsumEquation(node);
  // DepthToSpace's and SpaceToDepth's inference divide by blocksize^2,
  // which overflows to 0; GatherND's indexes dims by batch_dims; the
  // softmax family's (before opset 13) and Hardmax's by the axis.
  auto intAttr = [&](const char *name) -> std::optional<int64_t> {
    for (const onnx::AttributeProto &a : node.attribute())
      if (a.name() == name && a.type() == onnx::AttributeProto::INT)
        return a.i();
    return std::nullopt;
  };
  const std::string &op = node.op_type();
  if (op == "DepthToSpace" || op == "SpaceToDepth") {
    std::optional<int64_t> b = intAttr("blocksize");
    if (b && (*b < 1 || *b > (int64_t{1} << 20)))
      throw std::runtime_error("blocksize " + std::to_string(*b) +
                               " is not from 1 to 2^20");
    return;
  }
  if (op == "GatherND" && node.input_size() >= 2) {
    std::optional<int64_t> b = intAttr("batch_dims");
    int data = rankOf(types, node.input(0)),
        indices = rankOf(types, node.input(1));
    if (inSubgraph && b && *b != 0 && (data < 0 || indices < 0))
      throw std::runtime_error("batch_dims other than 0 inside a subgraph "
                               "cannot be checked before inference");
    if (b && (*b < 0 || (data >= 0 && *b >= data) ||
              (indices >= 0 && *b >= indices)))
      throw std::runtime_error("batch_dims " + std::to_string(*b) +
                               " is not below the ranks of the data and "
                               "the indices");
    return;
  }
  if ((op == "Hardmax" || op == "Softmax" || op == "LogSoftmax") &&
      node.input_size() >= 1) {
    std::optional<int64_t> axis = intAttr("axis");
    int rank = rankOf(types, node.input(0));
    if (inSubgraph && axis && *axis != 0 && *axis != -1 && rank < 0)
      throw std::runtime_error("an axis other than 0 or -1 inside a subgraph "
                               "cannot be checked before inference");
    if (axis && rank >= 0 && (*axis < -rank || *axis > rank))
      throw std::runtime_error("axis " + std::to_string(*axis) +
                               " is out of range for rank " +
                               std::to_string(rank));
    return;
  }
  // Conv's and ConvTranspose's take the kernel from the weight's dims and
  // index it with the input's spatial rank.
  if ((op != "Conv" && op != "ConvTranspose") || node.input_size() < 2)
    return;
  int input = rankOf(types, node.input(0)),
      weight = rankOf(types, node.input(1));
  if (inSubgraph && (input < 0 || weight < 0))
    throw std::runtime_error("a convolution inside a subgraph cannot be "
                             "checked before inference (its ranks are not "
                             "known yet)");
  if (input >= 0 && weight >= 0 && input != weight)
    throw std::runtime_error("the input has rank " + std::to_string(input) +
                             " but the weight rank " + std::to_string(weight) +
                             "; they must be equal");
  if (input >= 0 && input < 3)
    throw std::runtime_error("the input has rank " + std::to_string(input) +
                             "; a window needs N x C and a spatial dim");
}

/// checkBeforeInference for every node of `node`'s subgraphs, at any depth:
/// ONNX's inference of Loop, If and Scan infers their bodies itself.
static void checkSubgraphsBeforeInference(
    const onnx::NodeProto &node,
    const std::unordered_map<std::string, onnx::TypeProto *> &types) {
  auto checkGraph = [&](const onnx::GraphProto &graph) {
    for (const onnx::NodeProto &inner : graph.node()) {
      try {
        checkBeforeInference(inner, types, /*inSubgraph=*/true);
      } catch (const std::exception &e) {
        throw std::runtime_error("in subgraph '" + graph.name() + "', node '" +
                                 inner.name() + "' (" + inner.op_type() +
                                 "): " + e.what());
      }
      checkSubgraphsBeforeInference(inner, types);
    }
  };
  for (const onnx::AttributeProto &a : node.attribute()) {
    if (a.has_g())
      checkGraph(a.g());
    for (const onnx::GraphProto &g : a.graphs())
      checkGraph(g);
  }
}

void NodeInference::inferNode(onnx::NodeProto &node) {
  if (node.op_type() == "Constant" && node.output_size() == 1)
    for (const onnx::AttributeProto &a : node.attribute())
      if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR &&
          a.has_t())
        data[node.output(0)] = &a.t();
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  auto opset = graphContext.opset_imports.find(domain);
  if (opset == graphContext.opset_imports.end())
    throw std::runtime_error("no opset is imported for domain '" + domain +
                             "'");
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(node.op_type(), opset->second, domain);
  // Ops ONNX does not know (other domains) were reported as unsupported.
  if (!schema)
    return;
  checkBeforeInference(node, types);
  checkSubgraphsBeforeInference(node, types);
  onnx::shape_inference::InferenceContextImpl ctx(node, types, data, sparseData,
                                                  &shapeData, &graphContext);
  // ONNX 1.12's STFT inference reads onesided with a default of 0 where the
  // operator's is 1, and so contradicts the frequencies of every STFT that
  // leaves it out; the importer computes STFT's shape itself.
  bool skipInference = node.op_type() == "STFT" && opset->second <= 17;
  if (schema->has_type_and_shape_inference_function() && !skipInference) {
    schema->GetTypeAndShapeInferenceFunction()(ctx);
    schema->CheckInputOutputType(ctx);
  }
  if (schema->has_data_propagation_function()) {
    onnx::shape_inference::DataPropagationContextImpl propagation(
        node, types, data, shapeData);
    schema->GetDataPropagationFunction()(propagation);
  }
  for (int i = 0; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    onnx::TypeProto *inferred = ctx.getOutputType(i);
    if (inferred->value_case() == onnx::TypeProto::VALUE_NOT_SET)
      continue;
    onnx::TypeProto *&existing = types[node.output(i)];
    if (!existing) {
      owned.push_back(std::make_unique<onnx::TypeProto>());
      existing = owned.back().get();
    }
    onnx::shape_inference::mergeShapesAndTypes(*inferred, existing);
  }
}

LogicalResult onnx_import::inferShapesNodeByNode(onnx::ModelProto &model,
                                                 Location loc) {
  std::unordered_map<std::string, int> opsets;
  for (const onnx::OperatorSetIdProto &id : model.opset_import())
    opsets[id.domain() == "ai.onnx" ? "" : id.domain()] =
        static_cast<int>(id.version());
  NodeInference inference(*model.mutable_graph(), opsets);
  inference.collect();
  for (onnx::NodeProto &node : *model.mutable_graph()->mutable_node()) {
    try {
      inference.inferNode(node);
    } catch (const std::exception &e) {
      return emitError(loc)
             << "fails ONNX shape inference at node '" << node.name() << "' ("
             << node.op_type() << "): " << oneLine(e.what());
    }
  }
  return success();
}
