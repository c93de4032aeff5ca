//===- ONNX.h - import ONNX models into the dist dialect --------*- C++ -*-===//
//
// Reads an ONNX ModelProto (protobuf, validated by the ONNX checker and shape
// inference) and builds a dist-dialect module: one function whose arguments
// are the graph inputs, weights as references to their bytes, shape
// computations folded to constants.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_IMPORT_ONNX_H
#define DISTOPT_IMPORT_ONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace distopt {

/// Options of the ONNX importer.
struct OnnxImportOptions {
  /// Shapes that fix the graph inputs' dimensions, by input name. Every
  /// dimension that the model leaves dynamic must be fixed here.
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Raise decomposed patterns (layer norm, GELU, linear layers) to single
  /// dist ops after import.
  bool raisePatterns = true;
  /// The most memory the import may take for the model file and the tensor
  /// data it reads into the IR (Constant values, constant inputs), checked
  /// before reading; 0 means the machine's physical memory. Weights are
  /// references and do not count.
  uint64_t maxBytes = 0;
  /// Every floating-point initializer becomes a `dist.weight`, however small
  /// (training: each one is a parameter that may be trained, such as a
  /// classifier's bias of 10 elements). Otherwise float initializers of at
  /// most 16 elements become `dist.constant`s that folding can use.
  bool floatInitializersAsWeights = false;
  /// The first dimension `inputShapes` gives may differ from one the model
  /// fixes (the micro-batch search imports a model exported with a static
  /// batch again at other batch sizes). The shapes the model declares for
  /// its outputs and intermediate values are then dropped and inferred
  /// again; a model whose constants fix the batch (a Reshape to a literal
  /// shape) fails to import with that size, with the error of the op.
  bool resizeBatch = false;
  /// Graph inputs given a value at compile time, by name: the path of a
  /// NumPy `.npy` or ONNX TensorProto `.pb` file that holds it. Such an
  /// input becomes a constant of the model, as if it were an initializer,
  /// so that ops needing compile-time values (a Reshape's shape, a Slice's
  /// starts, a TopK's k) can read it. Its type and shape must agree with
  /// what the model declares for the input.
  llvm::StringMap<std::string> inputValues;
};

/// Parses one `NAME=D0xD1x...` shape override into `options`. Fails with a
/// message in `error` that names the problem.
mlir::LogicalResult parseInputShape(llvm::StringRef spec,
                                    OnnxImportOptions &options,
                                    std::string &error);

/// Parses one `NAME=FILE` value (dist-opt --value) into `options`. Fails
/// with a message in `error` that names the problem.
mlir::LogicalResult parseInputValue(llvm::StringRef spec,
                                    OnnxImportOptions &options,
                                    std::string &error);

/// Imports the ONNX model at `path` into a new module. Every problem (a file
/// that is not a valid model, an unsupported operator, a dynamic dimension
/// left unfixed, external data outside the model's folder) is reported as a
/// diagnostic on `context`, and null is returned.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(llvm::StringRef path, mlir::MLIRContext *context,
               const OnnxImportOptions &options);

/// Prints, as a Markdown table, every operator of the default ONNX domain
/// that the linked ONNX library knows, whether the importer converts it,
/// from which opset, and what it does not handle. `dist-opt
/// --onnx-operators` prints it; docs/ONNXOperators.md is its output.
void printOnnxOperatorTable(llvm::raw_ostream &os);

} // namespace distopt

#endif // DISTOPT_IMPORT_ONNX_H
