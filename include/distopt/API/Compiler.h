//===- Compiler.h - what dist-opt and the library share ---------*- C++ -*-===//
//
// The steps between a model file and the compile flow that the command
// line (dist-opt) and the library API (distopt/DistOpt.h) take alike.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_API_COMPILER_H
#define DISTOPT_API_COMPILER_H

#include "distopt/Import/ONNX.h"
#include "distopt/Plan/Planner.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace distopt {

/// A plan that fixes `microbatch=b` (training, or an inference pipeline)
/// with input shapes that give a batch B of b-sample micro-batches: the
/// model is imported with b as its batch dimension (the first of every
/// shape, which must agree), and B becomes `globalBatch` unless it is set.
/// `planSpec` and `mode` are the `--plan` and `--mode` texts. Returns the
/// message of a problem; a plan that does not parse is left to the planner
/// to report.
std::optional<std::string>
splitIntoMicroBatches(llvm::StringRef planSpec, llvm::StringRef mode,
                      OnnxImportOptions &options,
                      std::optional<int64_t> &globalBatch);

/// The model the planner prices at another micro-batch size, when the
/// batch of an ONNX model's forward graph is the first dimension of every
/// input of `imported` (the model as imported with `options`; they must
/// agree, null otherwise), whether the model leaves it dynamic or fixes it:
/// the file at `path` imported again into `context` with that dimension
/// set to the size (OnnxImportOptions::resizeBatch), then `prepare`d as the
/// first import was. Its errors are returned, not reported.
plan::ModelAtMicroBatch getModelAtMicroBatch(
    llvm::StringRef path, const OnnxImportOptions &options,
    mlir::ModuleOp imported, mlir::MLIRContext &context,
    std::function<mlir::LogicalResult(mlir::ModuleOp)> prepare);

} // namespace distopt

#endif // DISTOPT_API_COMPILER_H
