//===- Passes.h - dist-opt pass entry points --------------------*- C++ -*-===//
//
// Declares the passes of dist-opt and the function that registers them and
// the pipelines, used by the dist-opt driver and the library API alike.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_PASSES_PASSES_H
#define DISTOPT_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace distopt {

#define GEN_PASS_DECL
#include "distopt/Passes/Passes.h.inc"

/// Adds the patterns of `dist-raise-patterns` to `patterns`: they raise the
/// decomposed forms of layer normalization, GELU (erf and tanh) and biased
/// linear layers (matmul or gemm followed by a bias add) that exporters emit
/// to single dist ops; the ONNX importer can run them as part of import.
void populateRaisePatterns(mlir::RewritePatternSet &patterns);

/// Appends the SPMD partitioning pipeline to `pm`: for every function,
/// upstream `sharding-propagation` completes the sharding annotations,
/// `shard-partition` rewrites the function into the program of one device
/// with the collectives it needs, and canonicalize + CSE tidy the result.
/// Registered as `dist-spmd-partition`.
void addSpmdPartitionPipeline(mlir::OpPassManager &pm);

/// Registers every dist-opt pass and pipeline, and the upstream passes that
/// dist-opt pipelines use (shard propagation and partitioning, canonicalize,
/// CSE, ...).
void registerDistOptPassesAndPipelines();

} // namespace distopt

#endif // DISTOPT_PASSES_PASSES_H
