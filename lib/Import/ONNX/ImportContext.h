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
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <optional>
#include <string>

namespace distopt::onnx_import {

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

class ImportContext {
public:
  ImportContext(mlir::OpBuilder &builder, int64_t opset, std::string modelPath,
                std::string modelDir)
      : builder(builder), opset(opset), modelPath(std::move(modelPath)),
        modelDir(std::move(modelDir)) {}

  mlir::OpBuilder &builder;
  /// The model's opset of the default ONNX domain.
  const int64_t opset;
  const std::string modelPath;
  const std::string modelDir;

  /// Values by ONNX name, and the initializers not yet materialized.
  llvm::StringMap<mlir::Value> values;
  llvm::StringMap<Initializer> initializers;

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

  /// Makes a constant tensor value.
  mlir::Value createConstant(mlir::Location loc, mlir::DenseElementsAttr value);

  /// Normalizes an axis that may be negative against `rank`; emits an error
  /// at `node` when it is out of range.
  mlir::FailureOr<int64_t> normalizeAxis(const onnx::NodeProto &node,
                                         int64_t axis, int64_t rank) const;

private:
  mlir::FailureOr<mlir::Value> materialize(llvm::StringRef name,
                                           mlir::Location loc);
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

/// Maps an ONNX element type to an MLIR type; null when unsupported.
mlir::Type convertElementType(mlir::MLIRContext *ctx, int32_t onnxType);
/// The name of an ONNX element type, for messages.
llvm::StringRef onnxElementTypeName(int32_t onnxType);

} // namespace distopt::onnx_import

#endif // DISTOPT_LIB_IMPORT_ONNX_IMPORTCONTEXT_H
