//===- ONNXImporter.cpp - ONNX ModelProto to the dist dialect -------------===//
//
// Loads a model with protobuf, validates it with the ONNX checker, fixes
// dynamic input dimensions from the user's --shape options, runs ONNX shape
// inference, and converts the graph node by node into one function of dist
// ops. Weights become references to their bytes (inline in the model file or
// in external data, whose paths must stay inside the model's folder).
//
//===----------------------------------------------------------------------===//

#include "distopt/Import/ONNX.h"

#include "ImportContext.h"
#include "ModelChecks.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"
#include "distopt/Support/Resources.h"
#include "distopt/Support/SafePath.h"
#include "runtime/core/TensorIO.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <climits>
#include <cstring>
#include <map>

#define DEBUG_TYPE "onnx-import"

using namespace mlir;
using namespace distopt;
using namespace distopt::onnx_import;

/// Opsets of the default domain that the importer accepts. Within them,
/// each op's converter says from which opset on it handles that op (older
/// ops are reported as unsupported, naming the op and opset). Models of an
/// older opset are upgraded to kMinOpset with the ONNX version converter.
static constexpr int64_t kMinOpset = 7;
static constexpr int64_t kMaxOpset = 18;

LogicalResult distopt::parseInputShape(StringRef spec,
                                       OnnxImportOptions &options,
                                       std::string &error) {
  auto [name, dims] = spec.rsplit('=');
  if (name.empty() || dims.empty() || !spec.contains('=')) {
    error = "expected NAME=D0xD1x..., found '" + spec.str() + "'";
    return failure();
  }
  SmallVector<int64_t> shape;
  if (dims != "scalar") {
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef part : parts) {
      int64_t d;
      if (part.getAsInteger(10, d) || d <= 0) {
        error = "dimension '" + part.str() + "' of --shape " + spec.str() +
                " is not a positive integer";
        return failure();
      }
      shape.push_back(d);
    }
  }
  if (!options.inputShapes.try_emplace(name, shape).second) {
    error = "--shape gives input '" + name.str() + "' twice";
    return failure();
  }
  return success();
}

LogicalResult distopt::parseInputValue(StringRef spec,
                                       OnnxImportOptions &options,
                                       std::string &error) {
  auto [name, file] = spec.split('=');
  if (name.empty() || file.empty() || !spec.contains('=')) {
    error = "expected NAME=FILE (a .npy or ONNX .pb tensor), found '" +
            spec.str() + "'";
    return failure();
  }
  if (!options.inputValues.try_emplace(name, file.str()).second) {
    error = "--value gives input '" + name.str() + "' twice";
    return failure();
  }
  return success();
}

namespace {

/// Records the byte offset and length of every initializer's inline raw data
/// within the serialized model, by walking the protobuf wire format
/// (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.name = 8,
/// TensorProto.raw_data = 9). Protobuf's parsed messages do not keep offsets.
void findInlineDataOffsets(StringRef bytes,
                           llvm::StringMap<std::pair<int64_t, int64_t>> &out) {
  using google::protobuf::io::CodedInputStream;
  using WFL = google::protobuf::internal::WireFormatLite;
  CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()),
                      static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT_MAX);
  auto isMessage = [](uint32_t tag, int field) {
    return WFL::GetTagFieldNumber(tag) == field &&
           WFL::GetTagWireType(tag) == WFL::WIRETYPE_LENGTH_DELIMITED;
  };
  while (uint32_t tag = in.ReadTag()) {
    if (!isMessage(tag, 7)) {
      if (!WFL::SkipField(&in, tag))
        return;
      continue;
    }
    uint32_t graphLength;
    if (!in.ReadVarint32(&graphLength))
      return;
    auto graphLimit = in.PushLimit(graphLength);
    while (uint32_t gtag = in.ReadTag()) {
      if (!isMessage(gtag, 5)) {
        if (!WFL::SkipField(&in, gtag))
          return;
        continue;
      }
      uint32_t tensorLength;
      if (!in.ReadVarint32(&tensorLength))
        return;
      auto tensorLimit = in.PushLimit(tensorLength);
      std::string name;
      int64_t offset = -1, length = 0;
      while (uint32_t ttag = in.ReadTag()) {
        if (isMessage(ttag, 8)) {
          uint32_t n;
          if (!in.ReadVarint32(&n) || !in.ReadString(&name, n))
            return;
        } else if (isMessage(ttag, 9)) {
          uint32_t n;
          if (!in.ReadVarint32(&n))
            return;
          offset = in.CurrentPosition();
          length = n;
          if (!in.Skip(n))
            return;
        } else if (!WFL::SkipField(&in, ttag)) {
          return;
        }
      }
      in.PopLimit(tensorLimit);
      if (offset >= 0)
        out[name] = {offset, length};
    }
    in.PopLimit(graphLimit);
  }
}

/// Checks an external data location with the one rule for data paths
/// (checkDataPath: relative, no `..`, no symbolic link on the way) and, when
/// the file exists, the byte range inside the file. Sets `absent` when the
/// file does not exist (a shape-only model).
LogicalResult checkExternalLocation(StringRef modelDir, StringRef location,
                                    int64_t offset, int64_t length,
                                    StringRef tensorName, Location loc,
                                    bool &absent) {
  absent = false;
  auto fail = [&](const Twine &why) {
    return emitError(loc) << "external data of tensor '" << tensorName
                          << "' at '" << location << "' " << why;
  };
  if (location.empty())
    return fail("has no location");
  if (offset < 0 || length < 0)
    return fail("has a negative offset or length");
  llvm::Expected<DataFileStatus> status = checkDataPath(modelDir, location);
  if (!status)
    return fail(llvm::toString(status.takeError()));
  absent = !status->exists;
  if (status->exists && (static_cast<uint64_t>(offset) > status->size ||
                         static_cast<uint64_t>(length) > status->size - offset))
    return fail("asks for bytes " + Twine(offset) + ".." +
                Twine(offset + length) + " of a file of " +
                Twine(status->size) + " bytes");
  return success();
}

/// Builds the MLIR type of a graph input or output, or explains why not.
FailureOr<RankedTensorType> convertValueType(const onnx::ValueInfoProto &info,
                                             MLIRContext *ctx, Location loc,
                                             StringRef role) {
  if (!info.type().has_tensor_type())
    return emitError(loc) << role << " '" << info.name()
                          << "' is not a tensor";
  const onnx::TypeProto::Tensor &t = info.type().tensor_type();
  Type element = convertElementType(ctx, t.elem_type());
  if (!element)
    return emitError(loc) << role << " '" << info.name()
                          << "' has unsupported element type "
                          << onnxElementTypeName(t.elem_type());
  if (!t.has_shape())
    return emitError(loc) << role << " '" << info.name()
                          << "' has no shape; give one with --shape "
                          << info.name() << "=D0xD1x...";
  SmallVector<int64_t> shape;
  int64_t elements = 1;
  for (auto [i, dim] : llvm::enumerate(t.shape().dim())) {
    if (!dim.has_dim_value() || dim.dim_value() <= 0) {
      InFlightDiagnostic diag = emitError(loc);
      diag << role << " '" << info.name() << "' dim " << i;
      if (dim.has_dim_param())
        diag << " ('" << dim.dim_param() << "')";
      diag << " is dynamic; fix it with --shape " << info.name() << "=";
      for (auto [j, d] : llvm::enumerate(t.shape().dim()))
        diag << (j ? "x" : "")
             << (d.has_dim_value() && d.dim_value() > 0
                     ? std::to_string(d.dim_value())
                     : std::string("N"));
      return diag;
    }
    if (__builtin_mul_overflow(elements, dim.dim_value(), &elements))
      return emitError(loc) << role << " '" << info.name()
                            << "' has more elements than fit in 64 bits";
    shape.push_back(dim.dim_value());
  }
  int64_t bytes;
  if (__builtin_mul_overflow(elements,
                             (element.getIntOrFloatBitWidth() + 7) / 8, &bytes))
    return emitError(loc) << role << " '" << info.name()
                          << "' has more bytes than fit in 64 bits";
  return RankedTensorType::get(shape, element);
}

/// The declared type of graph output `info` as text (`N` for a dim that is
/// symbolic or unknown).
std::string declaredTypeStr(const onnx::TypeProto::Tensor &t) {
  std::string out;
  for (const auto &dim : t.shape().dim())
    out += (dim.has_dim_value() ? std::to_string(dim.dim_value())
                                : std::string("N")) +
           "x";
  return out + onnxElementTypeName(t.elem_type()).str();
}

/// Checks a graph output's declared type against the one the graph
/// computes: a declared element type, rank or concrete dim that differs is
/// an error; symbolic and unknown dims match anything.
LogicalResult checkDeclaredOutput(const onnx::ValueInfoProto &output,
                                  RankedTensorType computed, Location loc) {
  if (!output.type().has_tensor_type())
    return success();
  const onnx::TypeProto::Tensor &t = output.type().tensor_type();
  bool matches = true;
  if (t.elem_type() != onnx::TensorProto::UNDEFINED)
    matches = convertElementType(computed.getContext(), t.elem_type()) ==
              computed.getElementType();
  if (t.has_shape()) {
    matches &= t.shape().dim_size() == computed.getRank();
    for (auto [i, dim] : llvm::enumerate(t.shape().dim()))
      if (matches && dim.has_dim_value())
        matches = dim.dim_value() == computed.getDimSize(i);
  }
  if (matches)
    return success();
  return emitError(loc) << "output '" << output.name() << "' is declared as "
                        << declaredTypeStr(t) << ", but the graph computes "
                        << computed;
}

class OnnxImporter {
public:
  OnnxImporter(MLIRContext *ctx, StringRef path,
               const OnnxImportOptions &options)
      : ctx(ctx), path(path.str()), options(options),
        fileLoc(FileLineColLoc::get(ctx, path, 0, 0)) {
    SmallString<256> dir(path);
    llvm::sys::path::remove_filename(dir);
    modelDir = dir.empty() ? "." : std::string(dir);
  }

  OwningOpRef<ModuleOp> run();

private:
  LogicalResult load();
  LogicalResult fixInputShapes();
  LogicalResult validate();
  /// Reports the ops that no converter of the model's opset handles (of
  /// any opset, with `atAnyOpset`: before an upgrade).
  LogicalResult checkSupported(bool atAnyOpset = false);
  LogicalResult upgradeOpset();
  LogicalResult applyInputValues();
  LogicalResult collectInitializers(ImportContext &ic);
  OwningOpRef<ModuleOp> convert();

  MLIRContext *ctx;
  std::string path;
  std::string modelDir;
  /// The limit of OnnxImportOptions::maxBytes, defaulted.
  uint64_t getMaxBytes() const {
    return options.maxBytes ? options.maxBytes : getPhysicalMemory();
  }

  const OnnxImportOptions &options;
  Location fileLoc;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  onnx::ModelProto model;
  int64_t opset = 0;
  llvm::StringMap<std::pair<int64_t, int64_t>> inlineOffsets;
  /// Inputs that OnnxImportOptions::inputValues made initializers.
  llvm::StringSet<> valuedInputs;
};

} // namespace

LogicalResult OnnxImporter::load() {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return emitError(fileLoc) << "cannot open ONNX model '" << path
                              << "': " << file.getError().message();
  buffer = std::move(*file);
  StringRef bytes = buffer->getBuffer();
  // The file is mapped, not read; parsing it takes about its size again.
  if (bytes.size() > getMaxBytes())
    return emitError(fileLoc)
           << "is " << bytes.size() << " bytes, more than the limit of "
           << getMaxBytes() << " bytes (--max-memory)";
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return emitError(fileLoc)
           << "is larger than 2 GB; store the weights as external data";
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t *>(bytes.data()),
      static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT_MAX);
  if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    return emitError(fileLoc)
           << "is not an ONNX model: the protobuf does not parse "
              "(the file is truncated or of another format)";
  if (model.ir_version() <= 0 || !model.has_graph())
    return emitError(fileLoc)
           << "is not an ONNX model: it has no "
           << (model.ir_version() <= 0 ? "IR version" : "graph");

  // One version per domain ("" and "ai.onnx" are one): with two, which one
  // the model means is a guess.
  llvm::StringMap<int64_t> versions;
  for (const onnx::OperatorSetIdProto &id : model.opset_import()) {
    bool defaultDomain = id.domain().empty() || id.domain() == "ai.onnx";
    StringRef domain = defaultDomain ? "ai.onnx" : StringRef(id.domain());
    auto [it, inserted] = versions.try_emplace(domain, id.version());
    if (!inserted)
      return emitError(fileLoc)
             << "imports domain '" << domain << "' twice in opset_import "
             << "(versions " << it->second << " and " << id.version() << ")";
    if (defaultDomain)
      opset = id.version();
  }
  // A model of other domains only (training ops, vendor ops) goes on to
  // the unsupported-operator report, which names its ops.
  // Older opsets are upgraded (upgradeOpset) once the model is checked.
  if (opset < 0 || opset > kMaxOpset)
    return emitError(fileLoc)
           << "uses opset " << opset << "; dist-opt supports opsets 1 through "
           << kMaxOpset << " (opsets below " << kMinOpset << " are upgraded to "
           << kMinOpset << ")";
  findInlineDataOffsets(bytes, inlineOffsets);
  return success();
}

LogicalResult OnnxImporter::applyInputValues() {
  if (options.inputValues.empty())
    return success();
  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &t : model.graph().initializer())
    initializerNames.insert(t.name());
  auto *inputs = model.mutable_graph()->mutable_input();
  for (const auto &entry : options.inputValues) {
    StringRef name = entry.getKey();
    const std::string &file = entry.getValue();
    auto input = llvm::find_if(*inputs, [&](const onnx::ValueInfoProto &i) {
      return i.name() == name && !initializerNames.contains(name);
    });
    if (input == inputs->end()) {
      InFlightDiagnostic diag = emitError(fileLoc);
      diag << "--value names '" << name
           << "', which is not an input of the graph; its inputs are";
      for (const onnx::ValueInfoProto &i : model.graph().input())
        if (!initializerNames.contains(i.name()))
          diag << " '" << i.name() << "'";
      return diag;
    }
    rt::HostTensor value;
    std::string error;
    if (!rt::readTensorFile(file, getMaxBytes(), value, error))
      return emitError(fileLoc) << "--value " << name << ": " << error;
    auto type =
        static_cast<onnx::TensorProto::DataType>(rt::onnxDataType(value.dtype));
    const onnx::TypeProto &declared = input->type();
    if (!declared.has_tensor_type())
      return emitError(fileLoc)
             << "--value names input '" << name << "', which is not a tensor";
    const onnx::TypeProto::Tensor &t = declared.tensor_type();
    if (t.elem_type() != type)
      return emitError(fileLoc)
             << "--value " << name << ": '" << file << "' holds "
             << rt::dtypeName(value.dtype) << " values, but the model declares "
             << onnx::TensorProto::DataType_Name(
                    static_cast<onnx::TensorProto::DataType>(t.elem_type()));
    // "shape 4x-1" or "a scalar"; -1 for a dim the model leaves open.
    auto shapeText = [](ArrayRef<int64_t> dims) {
      if (dims.empty())
        return std::string("a scalar");
      std::string text = "shape ";
      llvm::raw_string_ostream os(text);
      llvm::interleave(dims, os, "x");
      return text;
    };
    bool agrees = !t.has_shape() ||
                  t.shape().dim_size() == static_cast<int>(value.shape.size());
    SmallVector<int64_t> declaredDims;
    if (t.has_shape())
      for (auto [i, dim] : llvm::enumerate(t.shape().dim())) {
        bool open = !dim.has_dim_value() || dim.dim_value() <= 0;
        declaredDims.push_back(open ? -1 : dim.dim_value());
        agrees &= open ||
                  (i < value.shape.size() && dim.dim_value() == value.shape[i]);
      }
    if (!agrees)
      return emitError(fileLoc)
             << "--value " << name << ": '" << file << "' holds a tensor of "
             << shapeText(value.shape) << ", but the model declares "
             << shapeText(declaredDims)
             << (llvm::is_contained(declaredDims, -1) ? " (-1: any size)" : "");
    auto given = options.inputShapes.find(name);
    if (given != options.inputShapes.end() &&
        ArrayRef<int64_t>(given->second) != ArrayRef<int64_t>(value.shape))
      return emitError(fileLoc)
             << "--shape gives input '" << name << "' the "
             << shapeText(given->second) << ", but its --value holds "
             << shapeText(value.shape);
    onnx::TensorProto *init = model.mutable_graph()->add_initializer();
    init->set_name(name.str());
    init->set_data_type(type);
    for (int64_t d : value.shape)
      init->add_dims(d);
    init->set_raw_data(value.bytes.data(), value.bytes.size());
    inputs->erase(input);
    valuedInputs.insert(name);
  }
  return success();
}

LogicalResult OnnxImporter::fixInputShapes() {
  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &t : model.graph().initializer())
    initializerNames.insert(t.name());
  llvm::StringSet<> seen;
  for (onnx::ValueInfoProto &input : *model.mutable_graph()->mutable_input()) {
    auto it = options.inputShapes.find(input.name());
    if (it == options.inputShapes.end())
      continue;
    seen.insert(input.name());
    ArrayRef<int64_t> given = it->second;
    if (!input.type().has_tensor_type())
      return emitError(fileLoc) << "--shape names input '" << input.name()
                                << "', which is not a tensor";
    onnx::TypeProto::Tensor *t = input.mutable_type()->mutable_tensor_type();
    if (t->has_shape() &&
        t->shape().dim_size() != static_cast<int>(given.size()))
      return emitError(fileLoc)
             << "--shape gives input '" << input.name() << "' rank "
             << given.size() << ", but the model declares rank "
             << t->shape().dim_size();
    if (t->has_shape()) {
      for (auto [i, dim] : llvm::enumerate(t->shape().dim()))
        if (dim.has_dim_value() && dim.dim_value() > 0 &&
            dim.dim_value() != given[i] && !(options.resizeBatch && i == 0))
          return emitError(fileLoc)
                 << "--shape gives input '" << input.name() << "' dim " << i
                 << " = " << given[i] << ", but the model fixes it to "
                 << dim.dim_value();
    }
    onnx::TensorShapeProto *shape = t->mutable_shape();
    shape->clear_dim();
    for (int64_t d : given)
      shape->add_dim()->set_dim_value(d);
  }
  // At another batch the declared dimensions of the other values may be
  // wrong: they become unknown (the ranks stay), and shape inference finds
  // them again.
  if (options.resizeBatch)
    for (auto *infos : {model.mutable_graph()->mutable_value_info(),
                        model.mutable_graph()->mutable_output()})
      for (onnx::ValueInfoProto &info : *infos)
        if (info.type().has_tensor_type() &&
            info.type().tensor_type().has_shape())
          for (onnx::TensorShapeProto::Dimension &dim :
               *info.mutable_type()
                    ->mutable_tensor_type()
                    ->mutable_shape()
                    ->mutable_dim())
            dim.Clear();
  for (const auto &entry : options.inputShapes) {
    // A valued input's shape was checked against its value.
    if (seen.contains(entry.getKey()) || valuedInputs.contains(entry.getKey()))
      continue;
    InFlightDiagnostic diag = emitError(fileLoc);
    diag << "--shape names '" << entry.getKey()
         << "', which is not an input of the graph; its inputs are";
    for (const onnx::ValueInfoProto &input : model.graph().input())
      if (!initializerNames.contains(input.name()))
        diag << " '" << input.name() << "'";
    return diag;
  }
  return success();
}

LogicalResult OnnxImporter::validate() {
  // The in-memory checker resolves external data files against the current
  // directory, not the model's folder, and insists that they exist, which
  // shape-only models (weights never written) do not. It is therefore given
  // a copy whose external locations name the model file itself; the real
  // locations are checked, more strictly, by checkExternalLocation.
  // Constant and ConstantOfShape values (node attributes) are treated the
  // same way: the checker would otherwise open their locations relative to
  // the current directory, before the importer's own check.
  const onnx::ModelProto *toCheck = &model;
  onnx::ModelProto copy;
  auto isExternal = [](const onnx::TensorProto &t) {
    return t.data_location() == onnx::TensorProto::EXTERNAL;
  };
  bool hasExternal = llvm::any_of(model.graph().initializer(), isExternal);
  for (const onnx::NodeProto &node : model.graph().node())
    for (const onnx::AttributeProto &a : node.attribute())
      hasExternal |= (a.has_t() && isExternal(a.t())) ||
                     llvm::any_of(a.tensors(), isExternal);
  if (hasExternal) {
    SmallString<256> absolute(path);
    llvm::sys::fs::make_absolute(absolute);
    copy = model;
    auto redirect = [&](onnx::TensorProto &t) {
      for (onnx::StringStringEntryProto &e : *t.mutable_external_data())
        if (e.key() == "location")
          e.set_value(std::string(absolute));
    };
    for (onnx::TensorProto &t : *copy.mutable_graph()->mutable_initializer())
      redirect(t);
    for (onnx::NodeProto &node : *copy.mutable_graph()->mutable_node())
      for (onnx::AttributeProto &a : *node.mutable_attribute()) {
        if (a.has_t())
          redirect(*a.mutable_t());
        for (onnx::TensorProto &t : *a.mutable_tensors())
          redirect(t);
      }
    toCheck = &copy;
  }
  try {
    onnx::checker::check_model(*toCheck);
  } catch (const std::exception &e) {
    return emitError(fileLoc) << "fails the ONNX checker: " << oneLine(e.what());
  }
  // The checker lets a graph output name a value that nothing defines; the
  // ONNX library's own IR (the version converter's input) then dereferences
  // a null value.
  llvm::StringSet<> defined;
  for (const onnx::ValueInfoProto &input : model.graph().input())
    defined.insert(input.name());
  for (const onnx::TensorProto &t : model.graph().initializer())
    defined.insert(t.name());
  for (const onnx::NodeProto &node : model.graph().node())
    for (const std::string &name : node.output())
      defined.insert(name);
  for (const onnx::ValueInfoProto &output : model.graph().output())
    if (!defined.contains(output.name()))
      return emitError(fileLoc)
             << "graph output '" << output.name()
             << "' is produced by no node and is no graph input or initializer";
  // Shape inference with the type checks and data propagation of
  // InferShapes(check_type, strict mode, data_prop), but stopping at the
  // first node that fails.
  return inferShapesNodeByNode(model, fileLoc);
}

LogicalResult OnnxImporter::checkSupported(bool atAnyOpset) {
  llvm::StringMap<int> latest;
  for (const OpConverter &c : getOpConverters()) {
    if (c.sinceVersion > opset && !atAnyOpset)
      continue;
    latest[c.opType] = std::max(latest.lookup(c.opType), c.sinceVersion);
  }
  // Unsupported op types (with domain and opset), in order of first use,
  // with the nodes that use them.
  std::vector<std::pair<std::string, SmallVector<std::string>>> unsupported;
  llvm::StringMap<size_t> unsupportedIndex;
  llvm::StringMap<int64_t> domainOpsets;
  for (const onnx::OperatorSetIdProto &id : model.opset_import())
    domainOpsets[id.domain()] = id.version();
  llvm::StringMap<const char *> reasons;
  for (auto [op, why] : getUnconvertedReasons())
    reasons[op] = why;
  for (auto [i, node] : llvm::enumerate(model.graph().node())) {
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (defaultDomain && latest.count(node.op_type()))
      continue;
    std::string domain = defaultDomain ? "ai.onnx" : node.domain();
    int64_t version = domainOpsets.lookup(defaultDomain ? "" : node.domain());
    if (defaultDomain && !version)
      version = opset;
    std::string key = node.op_type() + " (" + domain + ", opset " +
                      std::to_string(version) + ")";
    if (defaultDomain && reasons.count(node.op_type()))
      key += " [" + std::string(reasons.lookup(node.op_type())) + "]";
    auto [it, inserted] = unsupportedIndex.try_emplace(key, unsupported.size());
    if (inserted)
      unsupported.push_back({key, {}});
    unsupported[it->second].second.push_back(
        node.name().empty() ? "#" + std::to_string(i) : "'" + node.name() + "'");
  }
  if (unsupported.empty())
    return success();
  InFlightDiagnostic diag = emitError(fileLoc);
  diag << "unsupported ONNX operator" << (unsupported.size() > 1 ? "s" : "")
       << ": ";
  bool first = true;
  for (auto &[op, nodes] : unsupported) {
    diag << (first ? "" : "; ") << op << " in node"
         << (nodes.size() > 1 ? "s " : " ") << llvm::join(nodes, ", ");
    first = false;
  }
  return diag;
}

LogicalResult OnnxImporter::upgradeOpset() {
  if (opset == 0 || opset >= kMinOpset)
    return success();
  // The converter trusts its input as the rest of the ONNX library does: it
  // sees only a model whose tensors were checked (checkModelTensors), whose
  // ops are all ones the importer converts, and which passes the checker
  // and shape inference at its own opset.
  if (failed(checkSupported(/*atAnyOpset=*/true)) || failed(validate()))
    return failure();
  // The converter finds the default domain by the name "" only.
  for (onnx::OperatorSetIdProto &id : *model.mutable_opset_import())
    if (id.domain() == "ai.onnx")
      id.set_domain("");
  onnx::ModelProto upgraded;
  try {
    upgraded = onnx::version_conversion::ConvertVersion(model, kMinOpset);
  } catch (const std::exception &e) {
    // The converter's assertions say where they are before what failed.
    StringRef why = e.what();
    size_t failedAt = why.find("failed: ");
    if (failedAt != StringRef::npos)
      why = why.drop_front(failedAt + strlen("failed: "));
    return emitError(fileLoc)
           << "uses opset " << opset << ", which the ONNX version converter "
           << "cannot upgrade to opset " << kMinOpset << ": "
           << oneLine(why.str().c_str());
  }
  // The converter rewrites initializers through its own IR; the model's
  // own protos are kept, since weights refer to their bytes in the file.
  llvm::StringMap<const onnx::TensorProto *> original;
  for (const onnx::TensorProto &t : model.graph().initializer())
    original[t.name()] = &t;
  for (onnx::TensorProto &t : *upgraded.mutable_graph()->mutable_initializer())
    if (const onnx::TensorProto *kept = original.lookup(t.name()))
      t = *kept;
  bool upgradedDefaultDomain = llvm::any_of(
      upgraded.opset_import(), [](const onnx::OperatorSetIdProto &id) {
        return id.domain().empty() && id.version() == kMinOpset;
      });
  if (!upgradedDefaultDomain)
    return emitError(fileLoc)
           << "uses opset " << opset << ", which the ONNX version converter "
           << "did not upgrade to opset " << kMinOpset;
  // ONNX 1.12's adapters can write malformed tensors (Reshape 4 -> 5 gives
  // its shape constant no dims): say where they come from.
  std::string malformed;
  LogicalResult tensorsChecked = success();
  {
    ScopedDiagnosticHandler capture(ctx, [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error && malformed.empty())
        malformed = diag.str();
      return success();
    });
    tensorsChecked = checkModelTensors(upgraded.graph(), fileLoc);
  }
  if (failed(tensorsChecked))
    return emitError(fileLoc)
           << "uses opset " << opset << ", which the ONNX version converter "
           << "upgrades to a malformed model: " << malformed;
  emitRemark(fileLoc) << "upgraded from opset " << opset << " to " << kMinOpset
                      << " with the ONNX version converter";
  model = std::move(upgraded);
  opset = kMinOpset;
  return success();
}

LogicalResult OnnxImporter::collectInitializers(ImportContext &ic) {
  StringRef modelFile = llvm::sys::path::filename(path);
  // External data files that do not exist, each reported once.
  llvm::StringSet<> absentFiles;
  for (const onnx::TensorProto &t : model.graph().initializer()) {
    Initializer init;
    init.proto = &t;
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      init.storage = dist::DataStorage::External;
      init.offset = 0;
      int64_t declaredLength = -1;
      for (const onnx::StringStringEntryProto &e : t.external_data()) {
        int64_t v = 0;
        if (e.key() == "location")
          init.path = e.value();
        else if ((e.key() == "offset" || e.key() == "length") &&
                 StringRef(e.value()).getAsInteger(10, v))
          return emitError(fileLoc)
                 << "external data of tensor '" << t.name() << "' has "
                 << e.key() << " '" << e.value() << "', not an integer";
        else if (e.key() == "offset")
          init.offset = v;
        else if (e.key() == "length")
          declaredLength = v;
      }
      Type element = convertElementType(ctx, t.data_type());
      int64_t elements = 1;
      for (int64_t d : t.dims())
        if (__builtin_mul_overflow(elements, d, &elements))
          return emitError(fileLoc) << "tensor '" << t.name()
                                    << "' has more elements than fit in "
                                       "64 bits";
      int64_t bytes =
          element ? elements * ((element.getIntOrFloatBitWidth() + 7) / 8) : 0;
      init.length = declaredLength >= 0 ? declaredLength : bytes;
      if (element && declaredLength >= 0 && declaredLength != bytes)
        return emitError(fileLoc)
               << "external data of tensor '" << t.name() << "' has length "
               << declaredLength << ", but its shape and type need " << bytes
               << " bytes";
      if (failed(checkExternalLocation(modelDir, init.path, init.offset,
                                       init.length, t.name(), fileLoc,
                                       init.dataAbsent)))
        return failure();
      if (init.dataAbsent && absentFiles.insert(init.path).second)
        emitWarning(fileLoc)
            << "external data file '" << init.path
            << "' does not exist: its weights are references only (a "
               "shape-only model, which can be printed and planned but not "
               "compiled)";
    } else {
      init.storage = dist::DataStorage::Inline;
      init.path = modelFile.str();
      auto it = inlineOffsets.find(t.name());
      if (it != inlineOffsets.end()) {
        init.offset = it->second.first;
        init.length = it->second.second;
      }
    }
    ic.initializers[t.name()] = init;
  }
  return success();
}

OwningOpRef<ModuleOp> OnnxImporter::convert() {
  ctx->loadDialect<dist::DistDialect, func::FuncDialect>();
  OpBuilder builder(ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  auto *dialect = ctx->getLoadedDialect<dist::DistDialect>();
  dialect->getOnnxOpsetAttrHelper().setAttr(*module,
                                            builder.getI64IntegerAttr(opset));
  dialect->getOnnxIrVersionAttrHelper().setAttr(
      *module, builder.getI64IntegerAttr(model.ir_version()));
  // Weight paths are relative to the model's folder; the runtime finds the
  // bytes there, wherever the compiled artifact is moved.
  SmallString<256> absoluteDir(modelDir);
  llvm::sys::fs::make_absolute(absoluteDir);
  llvm::sys::path::remove_dots(absoluteDir, /*remove_dot_dot=*/true);
  dialect->getModelDirAttrHelper().setAttr(*module,
                                           builder.getStringAttr(absoluteDir));
  // The model file, relative to that folder: dist-run --save-weights writes
  // the trained weights into a copy of it.
  dialect->getSourceModelAttrHelper().setAttr(
      *module, builder.getStringAttr(llvm::sys::path::filename(path)));
  if (!model.producer_name().empty())
    dialect->getOnnxProducerAttrHelper().setAttr(
        *module, builder.getStringAttr(model.producer_version().empty()
                                           ? model.producer_name()
                                           : model.producer_name() + " " +
                                                 model.producer_version()));

  const onnx::GraphProto &graph = model.graph();
  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &t : graph.initializer())
    initializerNames.insert(t.name());

  SmallVector<const onnx::ValueInfoProto *> inputs;
  SmallVector<Type> argTypes;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue; // Old exporters list initializers as inputs too.
    FailureOr<RankedTensorType> type =
        convertValueType(input, ctx, fileLoc, "input");
    if (failed(type))
      return nullptr;
    inputs.push_back(&input);
    argTypes.push_back(*type);
  }

  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, "main",
                                   builder.getFunctionType(argTypes, {}));
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToEnd(body);
  ImportContext ic(builder, opset, path, modelDir, getMaxBytes());
  ic.floatInitializersAsWeights = options.floatInitializersAsWeights;
  for (auto [i, input] : llvm::enumerate(inputs)) {
    ic.values[input->name()] = body->getArgument(i);
    func.setArgAttr(i, dialect->getNameAttrHelper().getName(),
                    builder.getStringAttr(input->name()));
  }
  if (failed(collectInitializers(ic)))
    return nullptr;

  for (const onnx::NodeProto &node : graph.node()) {
    // checkSupported found a converter for every node.
    const OpConverter *converter = ic.lookupConverter(node.op_type());
    if (failed(converter->convert(ic, node)))
      return nullptr;
    for (int i = 0; i < node.output_size(); ++i)
      if (!node.output(i).empty() && !ic.values.count(node.output(i)))
        // Optional outputs that nobody reads are fine; a read reports it.
        LLVM_DEBUG(llvm::dbgs() << "output " << node.output(i)
                                << " of " << node.name() << " unbound\n");
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = ic.values.find(output.name());
    Value value;
    if (it != ic.values.end()) {
      value = it->second;
    } else {
      // An output that is an initializer or a graph input passed through.
      onnx::NodeProto identity;
      identity.set_op_type("Identity");
      identity.set_name("output " + output.name());
      identity.add_input(output.name());
      FailureOr<Value> v = ic.getInput(identity, 0);
      if (failed(v))
        return nullptr;
      value = *v;
    }
    if (failed(checkDeclaredOutput(
            output, cast<RankedTensorType>(value.getType()), fileLoc)))
      return nullptr;
    results.push_back(value);
    resultTypes.push_back(value.getType());
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(builder.getFunctionType(argTypes, resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, dialect->getNameAttrHelper().getName(),
                       builder.getStringAttr(output.name()));
  return module;
}

OwningOpRef<ModuleOp> OnnxImporter::run() {
  // Every error the import reports fails it, even one a step reports
  // without failing (the step's caller may go on, but the model is bad).
  bool errorReported = false;
  ScopedDiagnosticHandler noteErrors(ctx, [&](Diagnostic &diag) {
    errorReported |= diag.getSeverity() == DiagnosticSeverity::Error;
    return failure(); // Still printed by the handler before this one.
  });
  // The model's tensors are checked before any of the ONNX library reads
  // them, and only ops dist-opt converts reach its shape inference.
  if (failed(load()) || failed(applyInputValues()) ||
      failed(checkModelTensors(model.graph(), fileLoc)) ||
      failed(fixInputShapes()) || failed(upgradeOpset()) ||
      failed(checkSupported()) || failed(validate()))
    return nullptr;
  OwningOpRef<ModuleOp> module = convert();
  if (!module || errorReported || failed(verify(*module)))
    return nullptr;

  // Tidy: drop what folding left unused, raise decomposed patterns.
  PassManager pm(ctx);
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  if (options.raisePatterns)
    pm.addNestedPass<func::FuncOp>(createRaisePatternsPass());
  pm.addNestedPass<func::FuncOp>(createCSEPass());
  if (failed(pm.run(*module)) || errorReported)
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> distopt::importOnnxFile(StringRef path,
                                              MLIRContext *context,
                                              const OnnxImportOptions &options) {
  OnnxImporter importer(context, path, options);
  return importer.run();
}

void distopt::printOnnxOperatorTable(llvm::raw_ostream &os) {
  // For each op type: the first opset any converter serves, and the limits
  // of every converter.
  struct Support {
    int since = INT_MAX;
    std::vector<std::string> limits;
  };
  llvm::StringMap<Support> supported;
  for (const OpConverter &c : getOpConverters()) {
    Support &s = supported[c.opType];
    s.since = std::min(s.since, c.sinceVersion);
    if (*c.limits && !llvm::is_contained(s.limits, c.limits))
      s.limits.push_back(c.limits);
  }
  // Every op of the default domain that the ONNX library knows, by name.
  std::map<std::string, int> all;
  for (const onnx::OpSchema &schema :
       onnx::OpSchemaRegistry::get_all_schemas_with_history()) {
    if (!schema.domain().empty() || schema.Deprecated())
      continue;
    auto [it, inserted] = all.try_emplace(schema.Name(), schema.since_version());
    if (!inserted)
      it->second = std::min(it->second, schema.since_version());
  }
  llvm::StringMap<const char *> reasons;
  for (auto [op, why] : getUnconvertedReasons())
    reasons[op] = why;
  unsigned count = 0;
  for (const auto &entry : all)
    count += supported.count(entry.first);
  os << "| ONNX operator | introduced in opset | converted since opset | "
        "not handled |\n|---|---|---|---|\n";
  for (const auto &[name, introduced] : all) {
    auto it = supported.find(name);
    os << "| " << name << " | " << introduced << " | ";
    if (it == supported.end()) {
      os << "no | " << reasons.lookup(name) << " |\n";
      continue;
    }
    os << std::max<int>(it->second.since, kMinOpset) << " | "
       << llvm::join(it->second.limits, "; ") << " |\n";
  }
  os << "\n"
     << count << " of " << all.size()
     << " operators of the default domain are converted (opsets " << kMinOpset
     << " through " << kMaxOpset << "; a model of an opset below " << kMinOpset
     << " is first upgraded to " << kMinOpset
     << " with the ONNX version converter).\n";
}
