//===- Dist.td - dist dialect definition -------------------*- tablegen -*-===//
//
// The dist dialect: a graph of tensor operations at the granularity that the
// runtime executes with one kernel and the planner decides about.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_DIST_TD
#define DISTOPT_DIALECT_DIST_DIST_TD

include "mlir/IR/OpBase.td"

def Dist_Dialect : Dialect {
  let name = "dist";
  let cppNamespace = "::distopt::dist";
  let summary = "Tensor graph dialect of the dist-opt parallelizing compiler";
  let description = [{
    The `dist` dialect holds a model graph between import and partitioning.
    Its operations are deliberately coarse: one op is one kernel at run time
    and one decision for the planner (a matmul, a convolution, a layer norm,
    an elementwise family keyed by an enum). Weights are references to bytes
    in the model file or its external data and are never copied into the IR.

    All tensors are ranked and statically shaped; the importer folds shape
    computations once input shapes are fixed. Axes are always given as
    non-negative dimension indices.

    Every op declares a *sharding rule* (see `ShardingRuleOpInterface`): the
    factors of its iteration space, whether each is parallel, reduced, or must
    stay whole, and which tensor dimensions each factor indexes. The planner
    reads only that rule; upstream MLIR's `shard` dialect partitions dist ops
    through `ShardingInterface` external models derived from the same rule.
  }];
  let useDefaultAttributePrinterParser = 1;
  // Folders (lib/Dialect/Dist/Folders.cpp) return attributes; the
  // canonicalizer and createOrFold turn them into `dist.constant` ops
  // through this hook.
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::shard::ShardDialect"];

  // Attributes that cross components (planner, partitioner, importer,
  // artifact, runtime). TableGen generates a helper per attribute
  // (`DistDialect::FactorAxesAttrHelper`, ...) that owns its name and type;
  // code never spells `"dist.<name>"` itself. They are checked once, by
  // `verifyOperationAttribute` and `verifyRegion{Arg,Result}Attribute`
  // (lib/Dialect/Dist/DiscardableAttrs.cpp).
  let discardableAttrs = (ins
    // On an op with a sharding rule: the grid axes that split each factor,
    // by factor name, listing only split factors, major to minor, e.g.
    // `{m = array<i16: 0>, k = array<i16: 1>}` (lib/Dialect/Dist/FactorAxes.cpp).
    "::mlir::DictionaryAttr":$factor_axes,
    // On a function argument or result: the name the runtime binds it by.
    "::mlir::StringAttr":$name,
    // On the module: the absolute folder that weight paths start from.
    "::mlir::StringAttr":$model_dir,
    // On the module of a compiled artifact: its format version.
    "::mlir::IntegerAttr":$artifact_version,
    // On an imported module: the ONNX opset, IR version and producer.
    "::mlir::IntegerAttr":$onnx_opset,
    "::mlir::IntegerAttr":$onnx_ir_version,
    "::mlir::StringAttr":$onnx_producer,
    // On a function: it is a training step (its dist.assign ops update the
    // weights), run by dist-run --steps.
    "::mlir::UnitAttr":$train,
    // On an imported module: the ONNX model file, relative to
    // dist.model_dir, that dist-run --save-weights writes trained weights
    // into.
    "::mlir::StringAttr":$source_model,
    // On a function result: the training loss that dist-autodiff
    // differentiates (a rank-0 float).
    "::mlir::UnitAttr":$loss,
    // On a function result added by dist-autodiff: the name of the
    // `dist.weight` whose gradient it is.
    "::mlir::StringAttr":$gradient_of,
    // Pipelines (docs/pipeline.md). On a function: the pipeline stage it is
    // the program of (i64, from 0). On an op of a function to be split into
    // stages: the stage the planner put it in.
    "::mlir::IntegerAttr":$stage,
    // On a stage function's argument or result: the value that crosses
    // between stages; the one result of that id is sent, per micro-batch,
    // to every argument of that id in later stages (i64, from 0).
    "::mlir::IntegerAttr":$boundary,
    // On a stage function of a training pipeline: what it runs, "forward"
    // or "backward" (once per micro-batch) or "update" (once per step).
    "::mlir::StringAttr":$phase,
    // On a result of a training pipeline's forward or backward function:
    // the value summed over the step's micro-batches and divided by their
    // number; on an argument of the same stage's update function: that
    // mean (i64 id, from 0).
    "::mlir::IntegerAttr":$accumulate,
    // On an op that dist-autodiff built: the backward of which op, as the
    // index of that op in the function's block when autodiff ran (i64).
    "::mlir::IntegerAttr":$adjoint_of,
    // On an op that dist-optimizer built: it belongs to the update, which
    // runs once per step after every micro-batch's backward.
    "::mlir::UnitAttr":$update,
    // On a shard.grid of one axis, in a training pipeline: the axis is the
    // pipeline's stages; a collective on it runs between the ranks at the
    // same position of every stage's grid (the global gradient norm).
    "::mlir::UnitAttr":$stages,
    // On the module of a training pipeline run by the interleaved 1F1B
    // schedule: the number v of stages (chunks) each rank group runs; the
    // K * v stage functions run on K rank groups, stage c on group c mod K
    // (i64, at least 1; absent: 1).
    "::mlir::IntegerAttr":$chunks
  );
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
}

class Dist_Op<string mnemonic, list<Trait> traits = []>
    : Op<Dist_Dialect, mnemonic, traits>;

#endif // DISTOPT_DIALECT_DIST_DIST_TD
