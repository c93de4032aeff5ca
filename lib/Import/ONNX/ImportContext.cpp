//===- ImportContext.cpp - state shared by ONNX op conversions ------------===//
//
// Operand lookup (values, folded constants, initializers materialized on
// first use), attribute access, tensor reading, and errors at a node.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include "distopt/Support/SafePath.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace distopt;
using namespace distopt::onnx_import;

/// Initializers with at most this many elements become `dist.constant`
/// (their values take part in folding and pattern matching); larger ones
/// become `dist.weight` references.
static constexpr int64_t kMaxConstantInitializerElements = 16;
/// Integer initializers up to this size are constants too: they hold shapes,
/// axes and indices.
static constexpr int64_t kMaxConstantIntegerElements = 4096;

Type onnx_import::convertElementType(MLIRContext *ctx, int32_t onnxType) {
  Builder b(ctx);
  switch (onnxType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  case onnx::TensorProto::INT8:
    return b.getIntegerType(8);
  case onnx::TensorProto::INT16:
    return b.getIntegerType(16);
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  default:
    return nullptr;
  }
}

StringRef onnx_import::onnxElementTypeName(int32_t onnxType) {
  if (onnx::TensorProto::DataType_IsValid(onnxType))
    return onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(onnxType));
  return "unknown";
}

Location ImportContext::getLoc(const onnx::NodeProto &node) const {
  MLIRContext *ctx = builder.getContext();
  std::string name = node.name().empty() ? node.op_type() : node.name();
  return NameLoc::get(StringAttr::get(ctx, name),
                      FileLineColLoc::get(ctx, modelPath, 0, 0));
}

InFlightDiagnostic ImportContext::emitError(const onnx::NodeProto &node) const {
  InFlightDiagnostic diag = mlir::emitError(getLoc(node));
  diag << "node '" << (node.name().empty() ? "<unnamed>" : node.name())
       << "' (" << node.op_type() << "): ";
  return diag;
}

int ImportContext::numInputs(const onnx::NodeProto &node) const {
  int n = node.input_size();
  while (n > 0 && node.input(n - 1).empty())
    --n;
  return n;
}

FailureOr<Value> ImportContext::materialize(StringRef name, Location loc) {
  auto it = initializers.find(name);
  if (it == initializers.end())
    return failure();
  Initializer &init = it->second;
  if (init.value)
    return init.value;
  const onnx::TensorProto &tensor = *init.proto;
  Type elementType = convertElementType(builder.getContext(), tensor.data_type());
  if (!elementType)
    return mlir::emitError(loc) << "initializer '" << name
                                << "' has unsupported element type "
                                << onnxElementTypeName(tensor.data_type());
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  auto type = RankedTensorType::get(shape, elementType);
  int64_t elements = type.getNumElements();
  bool small =
      (elements <= kMaxConstantInitializerElements &&
       !(floatInitializersAsWeights && isa<FloatType>(elementType))) ||
      (elementType.isInteger() && elements <= kMaxConstantIntegerElements);
  // Small tensors, and tensors whose bytes have no place in a file (typed
  // fields instead of raw bytes), are held in the IR.
  bool noFileBytes = init.offset < 0;
  // A small tensor whose data file is absent (shape-only models) stays a
  // weight reference, like a large one.
  if ((small && !init.dataAbsent) || noFileBytes) {
    FailureOr<DenseElementsAttr> value = readTensor(tensor, loc);
    if (failed(value))
      return failure();
    init.value = createConstant(loc, *value);
    return init.value;
  }
  auto data = dist::DataLocationAttr::get(builder.getContext(), init.storage,
                                          init.path, init.offset, init.length);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(builder.getInsertionBlock());
  init.value = dist::WeightOp::create(builder, loc, type, name, data,
                                      /*global_shape=*/nullptr,
                                      /*grid=*/nullptr, /*split_axes=*/nullptr);
  return init.value;
}

FailureOr<Value> ImportContext::getInput(const onnx::NodeProto &node,
                                         int index) {
  if (index >= node.input_size() || node.input(index).empty())
    return emitError(node) << "expects input #" << index;
  const std::string &name = node.input(index);
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  FailureOr<Value> init = materialize(name, getLoc(node));
  if (succeeded(init)) {
    values[name] = *init;
    return *init;
  }
  if (initializers.count(name))
    return failure(); // materialize reported the error
  return emitError(node) << "input '" << name
                         << "' is produced by no earlier node";
}

Value ImportContext::getOptionalInput(const onnx::NodeProto &node, int index) {
  if (index >= node.input_size() || node.input(index).empty())
    return nullptr;
  FailureOr<Value> v = getInput(node, index);
  return succeeded(v) ? *v : nullptr;
}

std::optional<DenseElementsAttr>
ImportContext::getConstantInput(const onnx::NodeProto &node, int index) {
  if (index >= node.input_size() || node.input(index).empty())
    return std::nullopt;
  const std::string &name = node.input(index);
  auto it = values.find(name);
  if (it == values.end()) {
    // An initializer used only as a compile-time value is read, not
    // materialized.
    auto init = initializers.find(name);
    if (init == initializers.end())
      return std::nullopt;
    if (init->second.value) {
      it = values.try_emplace(name, init->second.value).first;
    } else if (init->second.dataAbsent) {
      return std::nullopt;
    } else {
      // Errors reading it are not this caller's: it only asked.
      ScopedDiagnosticHandler quiet(builder.getContext(),
                                    [](Diagnostic &) { return success(); });
      FailureOr<DenseElementsAttr> value =
          readTensor(*init->second.proto, getLoc(node));
      if (failed(value))
        return std::nullopt;
      return *value;
    }
  }
  DenseElementsAttr attr;
  if (matchPattern(it->second, m_Constant(&attr)))
    return attr;
  return std::nullopt;
}

FailureOr<DenseElementsAttr>
ImportContext::requireConstantInput(const onnx::NodeProto &node, int index,
                                    StringRef what) {
  if (std::optional<DenseElementsAttr> value = getConstantInput(node, index))
    return *value;
  StringRef name = index < node.input_size() ? StringRef(node.input(index)) : "";
  auto it = values.find(name);
  if (it != values.end() && isa<BlockArgument>(it->second))
    return emitError(node) << "needs " << what << " (input #" << index << ", '"
                           << name
                           << "') at compile time, but it is a graph input; "
                              "give its value with --value "
                           << name
                           << "=FILE (a .npy or .pb tensor), or make it an "
                              "initializer or a Constant";
  return emitError(node) << "needs " << what << " (input #" << index << ", '"
                         << name
                         << "') at compile time, but it is computed from "
                            "values that are not known then (fix the graph "
                            "inputs' shapes with --shape)";
}

FailureOr<SmallVector<int64_t>>
ImportContext::requireIntsInput(const onnx::NodeProto &node, int index,
                                StringRef what) {
  FailureOr<DenseElementsAttr> value = requireConstantInput(node, index, what);
  if (failed(value))
    return failure();
  if (!value->getElementType().isInteger())
    return emitError(node) << what << " must be integers, found "
                           << value->getElementType();
  SmallVector<int64_t> out;
  for (const APInt &v : value->getValues<APInt>())
    out.push_back(v.getSExtValue());
  return out;
}

void ScopedValues::save(StringRef name) {
  if (name.empty() || saved.count(name))
    return;
  auto it = ic.values.find(name);
  saved[name] = it == ic.values.end() ? std::optional<Value>()
                                      : std::optional<Value>(it->second);
}

ScopedValues::~ScopedValues() {
  for (const auto &entry : saved) {
    if (entry.second)
      ic.values[entry.first()] = *entry.second;
    else
      ic.values.erase(entry.first());
  }
}

const OpConverter *ImportContext::lookupConverter(StringRef opType) {
  if (converters.empty())
    for (const OpConverter &c : getOpConverters()) {
      if (c.sinceVersion > opset)
        continue;
      const OpConverter *&slot = converters[c.opType];
      if (!slot || slot->sinceVersion < c.sinceVersion)
        slot = &c;
    }
  return converters.lookup(opType);
}

void ImportContext::setOutput(const onnx::NodeProto &node, int index,
                              Value value) {
  if (index < node.output_size() && !node.output(index).empty())
    values[node.output(index)] = value;
}

const onnx::AttributeProto *ImportContext::findAttr(const onnx::NodeProto &node,
                                                    StringRef name) const {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

int64_t ImportContext::getIntAttr(const onnx::NodeProto &node, StringRef name,
                                  int64_t defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(node, name);
  return attr ? attr->i() : defaultValue;
}

float ImportContext::getFloatAttr(const onnx::NodeProto &node, StringRef name,
                                  float defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(node, name);
  return attr ? attr->f() : defaultValue;
}

std::string ImportContext::getStringAttr(const onnx::NodeProto &node,
                                         StringRef name,
                                         StringRef defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(node, name);
  return attr ? attr->s() : defaultValue.str();
}

std::optional<SmallVector<int64_t>>
ImportContext::getIntsAttr(const onnx::NodeProto &node, StringRef name) const {
  const onnx::AttributeProto *attr = findAttr(node, name);
  if (!attr)
    return std::nullopt;
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

/// Reads `size` bytes at `offset` of the external data file `location`,
/// relative to `modelDir`, through the one check of data paths (relative,
/// no `..`, no symbolic link), whatever tensor (initializer, Constant value,
/// ConstantOfShape value) asks for them.
static FailureOr<std::unique_ptr<llvm::MemoryBuffer>>
readExternalBytes(StringRef modelDir, StringRef location, int64_t offset,
                  int64_t size, Location loc, StringRef tensorName) {
  auto fail = [&](const Twine &why) {
    return mlir::emitError(loc) << "external data of tensor '" << tensorName
                                << "' at '" << location << "' " << why;
  };
  if (location.empty())
    return fail("has no location");
  if (offset < 0 || size < 0)
    return fail("has a negative offset or length");
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      readDataFileSlice(modelDir, location, offset, size);
  if (!buffer)
    return fail(llvm::toString(buffer.takeError()));
  return std::move(*buffer);
}

/// The `location` and `offset` of a tensor's external data.
static LogicalResult getExternalData(const onnx::TensorProto &tensor,
                                     Location loc, std::string &location,
                                     int64_t &offset) {
  offset = 0;
  for (const onnx::StringStringEntryProto &e : tensor.external_data()) {
    if (e.key() == "location")
      location = e.value();
    else if (e.key() == "offset" &&
             StringRef(e.value()).getAsInteger(10, offset))
      return mlir::emitError(loc)
             << "external data of tensor '" << tensor.name() << "' has "
             << "offset '" << e.value() << "', not an integer";
  }
  return success();
}

FailureOr<DenseElementsAttr>
ImportContext::readTensor(const onnx::TensorProto &tensor, Location loc) {
  MLIRContext *ctx = builder.getContext();
  Type elementType = convertElementType(ctx, tensor.data_type());
  if (!elementType)
    return mlir::emitError(loc)
           << "tensor '" << tensor.name() << "' has unsupported element type "
           << onnxElementTypeName(tensor.data_type());
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  auto type = RankedTensorType::get(shape, elementType);
  int64_t elements = type.getNumElements();
  unsigned bits = elementType.getIntOrFloatBitWidth();
  int64_t byteWidth = elementType.isInteger(1) ? 1 : bits / 8;

  // The bytes are counted against the import's limit before any is read.
  uint64_t bytes = uint64_t(elements) * uint64_t(byteWidth);
  if (bytes > maxBytes - std::min(bytesRead, maxBytes))
    return mlir::emitError(loc)
           << "tensor '" << tensor.name() << "' needs " << bytes
           << " bytes in the compiler's memory, which with the " << bytesRead
           << " bytes of tensors read before is more than the limit of "
           << maxBytes << " bytes (--max-memory)";
  bytesRead += bytes;

  // Raw little-endian bytes: inline, or in the external data file.
  std::unique_ptr<llvm::MemoryBuffer> external;
  StringRef raw;
  bool hasRaw = tensor.has_raw_data();
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0;
    if (failed(getExternalData(tensor, loc, location, offset)))
      return failure();
    auto bytes = readExternalBytes(modelDir, location, offset,
                                   elements * byteWidth, loc, tensor.name());
    if (failed(bytes))
      return failure();
    external = std::move(*bytes);
    raw = external->getBuffer();
    hasRaw = true;
  } else if (hasRaw) {
    raw = tensor.raw_data();
  }

  if (hasRaw) {
    if (static_cast<int64_t>(raw.size()) != elements * byteWidth)
      return mlir::emitError(loc)
             << "tensor '" << tensor.name() << "' holds " << raw.size()
             << " bytes, expected " << elements * byteWidth << " for " << type;
    if (elementType.isInteger(1)) {
      SmallVector<bool> v;
      for (char c : raw)
        v.push_back(c != 0);
      return DenseElementsAttr::get(type, ArrayRef<bool>(v));
    }
    // The host is little-endian like the format (x86-64, aarch64).
    bool detectedSplat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, ArrayRef<char>(raw.data(), raw.size()), detectedSplat))
      return mlir::emitError(loc) << "tensor '" << tensor.name()
                                  << "' has a malformed data buffer";
    return DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(raw.data(), raw.size()));
  }

  // Typed fields.
  auto check = [&](int64_t found) -> LogicalResult {
    if (found != elements)
      return mlir::emitError(loc)
             << "tensor '" << tensor.name() << "' holds " << found
             << " values, expected " << elements << " for " << type;
    return success();
  };
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT: {
    if (failed(check(tensor.float_data_size())))
      return failure();
    SmallVector<float> v(tensor.float_data().begin(), tensor.float_data().end());
    return DenseElementsAttr::get(type, ArrayRef<float>(v));
  }
  case onnx::TensorProto::DOUBLE: {
    if (failed(check(tensor.double_data_size())))
      return failure();
    SmallVector<double> v(tensor.double_data().begin(),
                          tensor.double_data().end());
    return DenseElementsAttr::get(type, ArrayRef<double>(v));
  }
  case onnx::TensorProto::INT64: {
    if (failed(check(tensor.int64_data_size())))
      return failure();
    SmallVector<int64_t> v(tensor.int64_data().begin(),
                           tensor.int64_data().end());
    return DenseElementsAttr::get(type, ArrayRef<int64_t>(v));
  }
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16: {
    // These travel in int32_data, one value (or 16-bit pattern) each.
    if (failed(check(tensor.int32_data_size())))
      return failure();
    SmallVector<APInt> v;
    for (int32_t x : tensor.int32_data())
      v.push_back(APInt(bits, static_cast<uint64_t>(x), /*isSigned=*/true,
                        /*implicitTrunc=*/true));
    if (auto ft = dyn_cast<FloatType>(elementType)) {
      SmallVector<APFloat> f;
      for (const APInt &bitsValue : v)
        f.push_back(APFloat(ft.getFloatSemantics(), bitsValue));
      return DenseElementsAttr::get(type, f);
    }
    return DenseElementsAttr::get(type, v);
  }
  default:
    return mlir::emitError(loc)
           << "tensor '" << tensor.name() << "' has unsupported element type "
           << onnxElementTypeName(tensor.data_type());
  }
}

Value ImportContext::createConstant(Location loc, DenseElementsAttr value) {
  return dist::ConstantOp::create(builder, loc, value);
}

/// Why a result of `type` cannot exist: a negative or dynamic dim, or more
/// bytes than fit in 64 bits. Empty when it can.
static std::string checkResultSize(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasRank())
    return "";
  int64_t bytes = shaped.getElementType().isIntOrFloat()
                      ? (shaped.getElementTypeBitWidth() + 7) / 8
                      : 1;
  for (int64_t d : shaped.getShape()) {
    if (d < 0)
      return "a result would have a dim of size " + std::to_string(d);
    if (__builtin_mul_overflow(bytes, d, &bytes))
      return "a result would have more bytes than fit in 64 bits";
  }
  return "";
}

FailureOr<RankedTensorType>
ImportContext::getTensorType(const onnx::NodeProto &node,
                             ArrayRef<int64_t> shape, Type element) const {
  auto type = RankedTensorType::get(shape, element);
  std::string reason = checkResultSize(type);
  if (!reason.empty())
    return emitError(node) << "cannot be converted: " << reason;
  return type;
}

LogicalResult ImportContext::createChecked(const onnx::NodeProto &node,
                                           OperationState &state,
                                           InferTypesFn infer,
                                           SmallVectorImpl<Value> &results) {
  // The first error that inference or verification reports is the reason;
  // it is re-emitted at the node, naming it.
  std::string reason;
  Operation *op = nullptr;
  {
    ScopedDiagnosticHandler capture(builder.getContext(), [&](Diagnostic &d) {
      if (reason.empty() && d.getSeverity() == DiagnosticSeverity::Error)
        reason = d.str();
      return success();
    });
    SmallVector<Type> types;
    if (infer && failed(infer(state, types))) {
      if (reason.empty())
        reason = "the result type cannot be inferred";
    } else {
      state.addTypes(types);
      for (Type t : state.types)
        if (reason.empty())
          reason = checkResultSize(t);
      if (reason.empty()) {
        op = Operation::create(state);
        if (failed(mlir::verify(op, /*verifyRecursively=*/false))) {
          if (reason.empty())
            reason = "the op it converts to is invalid";
          op->destroy();
          op = nullptr;
        }
      }
    }
  }
  if (!op)
    return emitError(node) << "cannot be converted: " << reason;
  builder.insert(op);
  // Fold as OpBuilder::createOrFold does: an in-place fold leaves no results.
  SmallVector<Value> folded;
  if (succeeded(builder.tryFold(op, folded)) && !folded.empty()) {
    op->erase();
    results.append(folded.begin(), folded.end());
  } else {
    results.append(op->result_begin(), op->result_end());
  }
  return success();
}

FailureOr<int64_t> ImportContext::normalizeAxis(const onnx::NodeProto &node,
                                                int64_t axis,
                                                int64_t rank) const {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank)
    return emitError(node) << "axis " << axis << " is out of range for rank "
                           << rank;
  return normalized;
}
