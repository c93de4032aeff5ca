//===- ModelChecks.h - what an untrusted model must pass first --*- C++ -*-===//
//
// Checks of a parsed model that guard the ONNX library, which trusts its
// input: tensor sizes against dims and types, and shape inference that stops
// at the first node it fails.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_LIB_IMPORT_ONNX_MODELCHECKS_H
#define DISTOPT_LIB_IMPORT_ONNX_MODELCHECKS_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <onnx/onnx_pb.h>

#include <string>

namespace distopt::onnx_import {

/// Checks that a tensor held in the model has a valid element type, dims
/// that are not negative and whose element count (and byte count) fits in
/// 64 bits, and exactly the bytes (raw data) or values (typed field) its
/// dims and type need. External data is checked where it is read. `role`
/// names the tensor's place in messages ("initializer").
mlir::LogicalResult checkTensorData(const onnx::TensorProto &tensor,
                                    mlir::Location loc, llvm::StringRef role);

/// Checks every tensor of `graph` (initializers, attribute values, those of
/// nested graphs) with checkTensorData, and that no declared dim is
/// negative. Sparse tensors are reported as unsupported.
mlir::LogicalResult checkModelTensors(const onnx::GraphProto &graph,
                                      mlir::Location loc);

/// Runs ONNX type and shape inference over the graph's nodes in order, with
/// the library's per-node functions (type checks and data propagation
/// included), merging what it infers into the declared types. Unlike
/// onnx::shape_inference::InferShapes, which goes on past a failing node and
/// then hands later nodes types it never finished, it stops at the first
/// failure, reported naming the node.
mlir::LogicalResult inferShapesNodeByNode(onnx::ModelProto &model,
                                          mlir::Location loc);

/// ONNX's multi-line messages as one line.
std::string oneLine(const char *what);

} // namespace distopt::onnx_import

#endif // DISTOPT_LIB_IMPORT_ONNX_MODELCHECKS_H
