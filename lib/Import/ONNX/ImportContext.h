//===- ImportContext.h - state shared by ONNX op conversions ----*- C++ -*-===//
//
// The ONNX importer walks the graph in order and converts one node at a time.
// An ImportContext gives each conversion what it needs: the node's operands
// as MLIR values (or as constants when they are known at compile time), its
// attributes, a builder, the model's opset, and error reporting at the
// node's location.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_LIB_IMPORT_ONNX_IMPORTCONTEXT_H
#define DISTOPT_LIB_IMPORT_ONNX_IMPORTCONTEXT_H

#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <optional>
#include <string>

namespace distopt::onnx_import {

/// The ranked tensor type of a converted value (every value the importer
/// creates is one).
inline mlir::RankedTensorType typeOf(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

/// Where the bytes of one initializer are, and the materialized value once a
/// node has used it.
struct Initializer {
  const onnx::TensorProto *proto = nullptr;
  dist::DataStorage storage = dist::DataStorage::Inline;
  /// Model file (inline) or external data file, relative to the model's
  /// folder.
  std::string path;
  int64_t offset = -1;
  int64_t length = 0;
  /// The external data file does not exist (a shape-only model): the weight
  /// is a reference only, and its bytes are never read.
  bool dataAbsent = false;
  mlir::Value value;
};

struct OpConverter;

class ImportContext {
public:
  ImportContext(mlir::OpBuilder &builder, int64_t opset, std::string modelPath,
                std::string modelDir, uint64_t maxBytes)
      : builder(builder), opset(opset), modelPath(std::move(modelPath)),
        modelDir(std::move(modelDir)), maxBytes(maxBytes) {}

  mlir::OpBuilder &builder;
  /// The model's opset of the default ONNX domain.
  const int64_t opset;
  const std::string modelPath;
  const std::string modelDir;
  /// The most bytes of tensor data that the import may read into the IR
  /// (OnnxImportOptions::maxBytes), and the bytes read so far.
  const uint64_t maxBytes;
  uint64_t bytesRead = 0;
  /// Small float initializers become weights too (OnnxImportOptions).
  bool floatInitializersAsWeights = false;

  /// Values by ONNX name, and the initializers not yet materialized.
  llvm::StringMap<mlir::Value> values;
  llvm::StringMap<Initializer> initializers;

private:
  /// lookupConverter's table, made on first use.
  llvm::StringMap<const OpConverter *> converters;

public:
  /// The location of `node` (its name, or op type and index).
  mlir::Location getLoc(const onnx::NodeProto &node) const;
  /// Emits an error at `node` naming the node and its op type.
  mlir::InFlightDiagnostic emitError(const onnx::NodeProto &node) const;

  /// Number of inputs of `node` that are present (trailing empty names do
  /// not count).
  int numInputs(const onnx::NodeProto &node) const;
  /// Input `index` of `node` as a value; fails with an error when it is
  /// missing.
  mlir::FailureOr<mlir::Value> getInput(const onnx::NodeProto &node,
                                        int index);
  /// Input `index`, or null when the node omits it.
  mlir::Value getOptionalInput(const onnx::NodeProto &node, int index);
  /// The value of input `index` when it is known at compile time (a folded
  /// constant, a Constant node or a readable initializer).
  std::optional<mlir::DenseElementsAttr>
  getConstantInput(const onnx::NodeProto &node, int index);
  /// Like getConstantInput, but fails with an error saying `what` must be a
  /// constant.
  mlir::FailureOr<mlir::DenseElementsAttr>
  requireConstantInput(const onnx::NodeProto &node, int index,
                       llvm::StringRef what);
  /// A required constant integer vector input (shapes, axes, pads).
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  requireIntsInput(const onnx::NodeProto &node, int index,
                   llvm::StringRef what);

  /// The converter of `opType` in the default ONNX domain at this opset
  /// (the one of the greatest sinceVersion <= opset), or null.
  const OpConverter *lookupConverter(llvm::StringRef opType);

  /// Binds output `index` of `node` to `value`.
  void setOutput(const onnx::NodeProto &node, int index, mlir::Value value);

  /// Attributes of `node`.
  const onnx::AttributeProto *findAttr(const onnx::NodeProto &node,
                                       llvm::StringRef name) const;
  int64_t getIntAttr(const onnx::NodeProto &node, llvm::StringRef name,
                     int64_t defaultValue) const;
  float getFloatAttr(const onnx::NodeProto &node, llvm::StringRef name,
                     float defaultValue) const;
  std::string getStringAttr(const onnx::NodeProto &node, llvm::StringRef name,
                            llvm::StringRef defaultValue) const;
  std::optional<llvm::SmallVector<int64_t>>
  getIntsAttr(const onnx::NodeProto &node, llvm::StringRef name) const;

  /// Converts a TensorProto held in the model (an initializer, a Constant
  /// node's value) into an attribute, reading external data when needed.
  mlir::FailureOr<mlir::DenseElementsAttr>
  readTensor(const onnx::TensorProto &tensor, mlir::Location loc);

  /// The tensor type of `shape` and `element` that `node` produces; fails
  /// with an error at `node` when a dim is negative or the tensor would have
  /// more bytes than fit in 64 bits.
  mlir::FailureOr<mlir::RankedTensorType>
  getTensorType(const onnx::NodeProto &node, llvm::ArrayRef<int64_t> shape,
                mlir::Type element) const;

  /// Makes a constant tensor value.
  mlir::Value createConstant(mlir::Location loc, mlir::DenseElementsAttr value);

  /// Creates an `OpTy` for `node`, at its location, and folds it when its
  /// operands are constant. `args` are those of `OpTy::build` after the
  /// builder and the state; ops that infer their result type take none. The
  /// op is checked before it exists: when its result type cannot be inferred
  /// (shapes that do not fit together), its verifier fails, or a result has
  /// more elements than fit in 64 bits, nothing is created and an error
  /// names the node and the reason. Every converter creates its ops through
  /// this one function (OpBuilder::create would abort on such input).
  template <typename OpTy, typename... Args>
  mlir::FailureOr<mlir::Value> create(const onnx::NodeProto &node,
                                      Args &&...args) {
    llvm::SmallVector<mlir::Value, 1> results;
    if (mlir::failed(
            createMulti<OpTy>(results, node, std::forward<Args>(args)...)))
      return mlir::failure();
    return results.front();
  }

  /// Like create, for ops of several results (which are appended to
  /// `results`).
  template <typename OpTy, typename... Args>
  mlir::LogicalResult createMulti(llvm::SmallVectorImpl<mlir::Value> &results,
                                  const onnx::NodeProto &node, Args &&...args) {
    mlir::OperationState state(getLoc(node), OpTy::getOperationName());
    InferTypesFn infer = nullptr;
    if constexpr (OpTy::template hasTrait<
                      mlir::InferTypeOpInterface::Trait>()) {
      OpTy::build(builder, state, mlir::TypeRange(),
                  std::forward<Args>(args)...);
      infer = [](mlir::OperationState &s,
                 llvm::SmallVectorImpl<mlir::Type> &types) {
        mlir::MLIRContext *ctx = s.getContext();
        return OpTy::inferReturnTypes(ctx, s.location, s.operands,
                                      s.attributes.getDictionary(ctx),
                                      s.getRawProperties(), s.regions, types);
      };
    } else {
      OpTy::build(builder, state, std::forward<Args>(args)...);
    }
    return createChecked(node, state, infer, results);
  }

  /// Normalizes an axis that may be negative against `rank`; emits an error
  /// at `node` when it is out of range.
  mlir::FailureOr<int64_t> normalizeAxis(const onnx::NodeProto &node,
                                         int64_t axis, int64_t rank) const;

private:
  using InferTypesFn = mlir::LogicalResult (*)(
      mlir::OperationState &, llvm::SmallVectorImpl<mlir::Type> &);
  /// The part of create that does not depend on the op class: infers the
  /// result types (when `infer` is given), checks and inserts the op, folds
  /// it, and appends its results (or what it folded to) to `results`.
  mlir::LogicalResult
  createChecked(const onnx::NodeProto &node, mlir::OperationState &state,
                InferTypesFn infer,
                llvm::SmallVectorImpl<mlir::Value> &results);

  mlir::FailureOr<mlir::Value> materialize(llvm::StringRef name,
                                           mlir::Location loc);
};

/// Bindings of ImportContext::values changed for a while: the binding each
/// name had when it was first saved (or its absence) comes back when the
/// scope ends.
class ScopedValues {
public:
  explicit ScopedValues(ImportContext &ic) : ic(ic) {}
  ScopedValues(const ScopedValues &) = delete;
  ScopedValues &operator=(const ScopedValues &) = delete;
  ~ScopedValues();

  /// Remembers `name`'s binding, to restore at the end.
  void save(llvm::StringRef name);
  /// Binds `name` to `value` until the end.
  void bind(llvm::StringRef name, mlir::Value value) {
    save(name);
    ic.values[name] = value;
  }

private:
  ImportContext &ic;
  llvm::StringMap<std::optional<mlir::Value>> saved;
};

/// Converts one ONNX node into dist ops, binding its outputs.
using ConvertFn =
    std::function<mlir::LogicalResult(ImportContext &, const onnx::NodeProto &)>;

/// One converter: the ONNX op type, the first opset it serves, the function,
/// and what it does not handle (for the documentation).
struct OpConverter {
  const char *opType;
  int sinceVersion;
  ConvertFn convert;
  const char *limits = "";
};

/// Every converter of the default ONNX domain, in no particular order. For a
/// model of opset N, the converter of an op type with the greatest
/// sinceVersion <= N is used.
llvm::ArrayRef<OpConverter> getOpConverters();

/// The operators of the default domain that are not converted, each with
/// why (the operator table and the unsupported-operator error say it).
llvm::ArrayRef<std::pair<const char *, const char *>> getUnconvertedReasons();

/// The converters of ops lowered to several dist ops (Composites.cpp), and
/// of Resize and Upsample (Resampling.cpp), of RNN, GRU and LSTM unrolled
/// (Recurrent.cpp).
llvm::ArrayRef<OpConverter> getCompositeConverters();
llvm::ArrayRef<OpConverter> getResamplingConverters();
llvm::ArrayRef<OpConverter> getRecurrentConverters();
/// If with a condition known at compile time, folded; Loop unrolled, or
/// recognised as nn.EmbeddingBag (ControlFlow.cpp).
llvm::ArrayRef<OpConverter> getControlFlowConverters();
/// DFT, STFT and MelWeightMatrix on static lengths (Spectral.cpp).
llvm::ArrayRef<OpConverter> getSpectralConverters();

/// A converter of a window op (convolution, pooling) that also takes 1-D
/// windows: a 3-D input N x C x L (and its weight, input `weightInput`) is
/// seen as N x C x 1 x L, its window attributes as 1 x k, by `convert2D`;
/// the results go back to 3-D.
ConvertFn liftTo2D(ConvertFn convert2D, int weightInput = -1);

/// The spatial dims 2, 3, ... of a window op's input N x C x ...; an error
/// at `node` below rank 3.
mlir::FailureOr<llvm::SmallVector<int64_t>>
spatialAxes(ImportContext &ic, const onnx::NodeProto &node, mlir::Value x);

/// Runs `convert` on `node` with input 0 seen as `input` and the INTS
/// attributes `attrs` in place of the node's attributes of those names;
/// returns its output 0.
mlir::FailureOr<mlir::Value> convertAs(
    ImportContext &ic, const onnx::NodeProto &node, const ConvertFn &convert,
    mlir::Value input,
    llvm::ArrayRef<std::pair<const char *, llvm::SmallVector<int64_t>>> attrs);
/// The same with inputs (index, value) swapped in under their names; a
/// null value drops the input.
mlir::FailureOr<mlir::Value> convertAs(
    ImportContext &ic, const onnx::NodeProto &node, const ConvertFn &convert,
    llvm::ArrayRef<std::pair<int, mlir::Value>> inputs,
    llvm::ArrayRef<std::pair<const char *, llvm::SmallVector<int64_t>>> attrs);

/// A converter of Conv that also takes 3-D windows: a 5-D input is
/// convolved as a sum of 2-D convolutions, one per depth of the filter
/// (Composites.cpp); other ranks go to `conv2D`.
ConvertFn conv3DAsSumOf2D(ConvertFn conv2D);
/// The same for ConvTranspose: a 5-D input spread along its depth by the
/// stride, padded, and transformed as a sum of 2-D transposed convolutions,
/// one per depth of the flipped filter.
ConvertFn convTranspose3DAsSumOf2D(ConvertFn convTranspose2D);

/// The axes a reduction of `node` over `x` reduces: from the `axes`
/// attribute, or from input 1 when `axesFromInput` (which must be known at
/// compile time); every axis when none is given, unless
/// `noop_with_empty_axes` sets `noop` (the input is the result). Sorted,
/// distinct, non-negative; empty for a rank-0 input.
mlir::FailureOr<llvm::SmallVector<int64_t>>
getReduceAxes(ImportContext &ic, const onnx::NodeProto &node, mlir::Value x,
              bool axesFromInput, bool &noop);

/// Einsum, lowered while importing to transposes, reshapes, batched
/// matmuls, products and sums (Einsum.cpp).
mlir::LogicalResult convertEinsum(ImportContext &ic,
                                  const onnx::NodeProto &node);

/// Maps an ONNX element type to an MLIR type; null when unsupported.
mlir::Type convertElementType(mlir::MLIRContext *ctx, int32_t onnxType);
/// The name of an ONNX element type, for messages.
llvm::StringRef onnxElementTypeName(int32_t onnxType);

} // namespace distopt::onnx_import

#endif // DISTOPT_LIB_IMPORT_ONNX_IMPORTCONTEXT_H
