//===- Passes.h - dist-opt pass entry points --------------------*- C++ -*-===//
//
// Declares the passes of dist-opt and the function that registers them and
// the pipelines, used by the dist-opt driver and the library API alike.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_PASSES_PASSES_H
#define DISTOPT_PASSES_PASSES_H

#include "distopt/Plan/Planner.h"

#include "mlir/Pass/Pass.h"

#include <functional>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir {
class ModuleOp;
class OpPassManager;
class RewritePatternSet;
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace distopt {

#define GEN_PASS_DECL
#include "distopt/Passes/Passes.h.inc"

/// Adds the patterns of `dist-raise-patterns` to `patterns`: they raise the
/// decomposed forms of layer normalization, GELU (erf and tanh) and biased
/// linear layers (matmul or gemm followed by a bias add) that exporters emit
/// to single dist ops; the ONNX importer can run them as part of import.
void populateRaisePatterns(mlir::RewritePatternSet &patterns);

/// The function of `module` that the training passes (`dist-add-loss`,
/// `dist-autodiff`, `dist-optimizer`) work on: the module's only one. Fails
/// with an error at the module, naming `pass`, otherwise.
mlir::FailureOr<mlir::func::FuncOp>
getTrainingFunction(mlir::ModuleOp module, llvm::StringRef pass);

/// Appends the SPMD partitioning pipeline to `pm`: for every function,
/// upstream `sharding-propagation` completes the sharding annotations,
/// `shard-partition` rewrites the function into the program of one device
/// with the collectives it needs, and canonicalize + CSE tidy the result.
/// Registered as `dist-spmd-partition`.
void addSpmdPartitionPipeline(mlir::OpPassManager &pm);

/// Called by `dist-auto-plan` with the plan it chose and the cluster it
/// planned for: how a C++ caller gets the report as data.
using PlanObserver =
    std::function<void(const plan::Plan &, const cost::ClusterSpec &)>;

/// `dist-auto-plan` with `options`, printing the report (option `report`) to
/// `reportStream` instead of stderr. With `modelAt` (the model imported
/// again at another batch), a report of a training plan also chooses the
/// micro-batch size (plan::planMicroBatchSizes).
std::unique_ptr<mlir::Pass> createAutoPlanPass(
    const AutoPlanPassOptions &options, llvm::raw_ostream &reportStream,
    plan::ModelAtMicroBatch modelAt = nullptr, PlanObserver observer = nullptr);

/// The options of the compile flow's `dist-auto-plan` step: the plan parts
/// of `options` (cluster `cpu` when none is named), restricted to plans that
/// `dist-run` runs today.
AutoPlanPassOptions getAutoPlanOptions(const CompilePassOptions &options);

/// Appends the generation of a training step to `pm` (a pass manager on
/// `builtin.module`): `dist-add-loss` with `options.loss` (KIND or
/// KIND:OUTPUT) and `options.labels`, `dist-autodiff` with the trainable and
/// frozen weights, `dist-optimizer` with the optimizer's settings.
void addTrainingStepPipeline(mlir::OpPassManager &pm,
                             const CompilePassOptions &options);

/// Appends the compile flow to `pm`, a pass manager on `builtin.module`: when
/// `options` ask for a plan (more than one device, a cluster, a plan, a mode
/// or a report), `dist-auto-plan` restricted to plans that `dist-run` runs
/// today, then `dist-partition`; then `dist-finish-artifact` (the weights'
/// folder, the device count, the weights' bytes). The plan report, when asked
/// for, goes to `reportStream`; `observer`, when given, gets the plan.
/// `dist-compile` runs the same pipeline; `writeArtifact`
/// (distopt/Artifact/Artifact.h) writes its result.
void addCompilePipeline(mlir::OpPassManager &pm,
                        const CompilePassOptions &options,
                        llvm::raw_ostream &reportStream,
                        PlanObserver observer = nullptr);
void addCompilePipeline(mlir::OpPassManager &pm,
                        const CompilePassOptions &options);

/// `dist-compile` with `options`, printing the plan report to `reportStream`:
/// `addCompilePipeline` run on the module, except that a module laid out or
/// partitioned by hand through upstream shard ops is only finished.
std::unique_ptr<mlir::Pass> createCompilePass(const CompilePassOptions &options,
                                              llvm::raw_ostream &reportStream,
                                              PlanObserver observer = nullptr);

/// Registers every dist-opt pass and pipeline, and the upstream passes that
/// dist-opt pipelines use (shard propagation and partitioning, canonicalize,
/// CSE, ...).
void registerDistOptPassesAndPipelines();

} // namespace distopt

#endif // DISTOPT_PASSES_PASSES_H
