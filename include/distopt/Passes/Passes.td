//===- Passes.td - dist-opt passes -------------------------*- tablegen -*-===//
//
// Passes of dist-opt. Definitions are named FooBarPass, flags dist-foo-bar.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_PASSES_PASSES_TD
#define DISTOPT_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def PrintShardingRulesPass : Pass<"dist-print-sharding-rules"> {
  let summary = "Report the sharding rule of every dist op as a remark";
  let description = [{
    Emits one remark per op that implements the sharding-rule interface,
    listing its factors (size and kind: parallel, reduction with combiner, or
    whole) and the factors that index each operand and result dimension
    (`_` for a size-1 dimension that broadcasts). The rule is also checked
    against the op's types; a mismatch is an error.

    ```
    remark: factors [m=8 parallel, n=32 parallel, k=16 reduction(sum)]
            operands ([m, k], [k, n]) results ([m, n])
    ```
  }];
}

def RaisePatternsPass : Pass<"dist-raise-patterns"> {
  let summary = "Raise decomposed layer norms, GELUs, Mish, Softsign and "
                "biased linear layers to single dist ops";
  let description = [{
    Exporters decompose several layers into chains of elementwise ops and
    reductions; the planner and the runtime want each as one op. This pass
    recognizes the chains and replaces each with one dist op. Constants are
    `dist.constant` splats (rank 0 or any shape that does not broadcast the
    other operand further) and match their expected value up to a relative
    1e-6 (or the rounding of f16 / bf16). A chain is raised only when none of
    its intermediate values has a user outside it and the raised op has the
    type of the value it replaces; anything else is left exactly as it was
    (the pass neither folds nor moves constants). The patterns are also
    available to C++ through `populateRaisePatterns`.

    **Layer normalization**, as PyTorch exports `nn.LayerNorm` up to opset
    16: both means reduce the same trailing dims `axis ..< rank` with
    `keep_dims`, `eps` is a splat constant, and `gamma` (and `beta`, when
    present) have exactly the shape of the normalized dims.

    ```mlir
    %mean = dist.reduce mean %x {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
    %d = dist.binary sub %x, %mean : (tensor<2x16x64xf32>, tensor<2x16x1xf32>) -> tensor<2x16x64xf32>
    %sq = dist.binary pow %d, %two : (tensor<2x16x64xf32>, tensor<f32>) -> tensor<2x16x64xf32>
    %var = dist.reduce mean %sq {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
    %ve = dist.binary add %var, %eps : (tensor<2x16x1xf32>, tensor<f32>) -> tensor<2x16x1xf32>
    %std = dist.unary sqrt %ve : tensor<2x16x1xf32>
    %n = dist.binary div %d, %std : (tensor<2x16x64xf32>, tensor<2x16x1xf32>) -> tensor<2x16x64xf32>
    %s = dist.binary mul %n, %gamma : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    %y = dist.binary add %s, %beta : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    // becomes (epsilon 1e-5 is the default, so it is not printed)
    %y = dist.layer_norm %x, %gamma, %beta {axis = 2 : i64}
        : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    ```

    Variants: `mul %d, %d` for the square; `mul %d, %r` with `%r` one of
    `rsqrt(%ve)`, `reciprocal(sqrt(%ve))`, `pow(%ve, -0.5)`,
    `div 1.0, sqrt(%ve)` instead of `div %d, sqrt(%ve)`; `pow(%ve, 0.5)` for
    `sqrt`; either operand order of every add and mul. Without the final add
    the result is a `dist.layer_norm` without bias; without the mul by
    `gamma` nothing is raised. A bias add after a `dist.layer_norm` without
    bias (and no other use) is folded into it:

    ```mlir
    %n = dist.layer_norm %x, %gamma {axis = 1 : i64} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
    %y = dist.binary add %beta, %n : (tensor<64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
    // becomes
    %y = dist.layer_norm %x, %gamma, %beta {axis = 1 : i64} : (tensor<8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
    ```

    **GELU, erf form**, as PyTorch exports `nn.GELU()`:
    `0.5 * x * (1 + erf(x / 1.4142135))`.

    ```mlir
    %a = dist.binary div %x, %sqrt2 : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
    %e = dist.unary erf %a : tensor<8x128xf32>
    %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
    %c = dist.binary mul %x, %b : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    %y = dist.binary mul %c, %half : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
    // becomes
    %y = dist.unary gelu_erf %x : tensor<8x128xf32>
    ```

    **GELU, tanh form**, as PyTorch exports `nn.GELU(approximate='tanh')`:
    `0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * x^3)))`.

    ```mlir
    %x2 = dist.binary mul %x, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    %x3 = dist.binary mul %x, %x2 : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    %a = dist.binary mul %c0044715, %x3 : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    %b = dist.binary add %x, %a : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    %c = dist.binary mul %c07978846, %b : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    %t = dist.unary tanh %c : tensor<8x128xf32>
    %d = dist.binary add %one, %t : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    %e = dist.binary mul %x, %d : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    %y = dist.binary mul %half, %e : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    // becomes
    %y = dist.unary gelu_tanh %x : tensor<8x128xf32>
    ```

    For both GELUs the products are read as a whole: any association and
    operand order of the muls (`0.5` applied to `x` first or last), a
    division by a constant as a mul by its inverse (`x / 1.4142135` or
    `x * 0.70710678`), and `pow(x, 3.0)` or `pow(x, 2.0)` as products of `x`;
    the adds of `1` take either operand order.

    **Mish**, as PyTorch exports `nn.Mish()` before opset 18:
    `x * tanh(softplus(x))`, either operand order of the mul.

    ```mlir
    %s = dist.unary softplus %x : tensor<8x128xf32>
    %t = dist.unary tanh %s : tensor<8x128xf32>
    %y = dist.binary mul %x, %t : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    // becomes
    %y = dist.unary mish %x : tensor<8x128xf32>
    ```

    **Softsign**, as PyTorch exports `nn.Softsign()`: `x / (1 + abs(x))`,
    either operand order of the add.

    ```mlir
    %a = dist.unary abs %x : tensor<8x128xf32>
    %d = dist.binary add %a, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
    %y = dist.binary div %x, %d : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
    // becomes
    %y = dist.unary softsign %x : tensor<8x128xf32>
    ```

    **Linear layers**: a bias add after a `dist.matmul` without bias (and no
    other use), when the bias is a row along the result's last dim (`[N]` or
    `[1, ..., 1, N]`, of no higher rank than the result), either operand
    order:

    ```mlir
    %m = dist.matmul %x, %w : (tensor<4x128x64xf32>, tensor<64x256xf32>) -> tensor<4x128x256xf32>
    %y = dist.binary add %b, %m : (tensor<256xf32>, tensor<4x128x256xf32>) -> tensor<4x128x256xf32>
    // becomes
    %y = dist.matmul %x, %w, %b : (tensor<4x128x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<4x128x256xf32>
    ```

    The same for a `dist.gemm` without bias and with `alpha = 1`, bias `[N]`
    or `[1, N]`; the raised gemm has `beta = 1`:

    ```mlir
    %g = dist.gemm %x, %w {trans_b} : (tensor<8x64xf32>, tensor<32x64xf32>) -> tensor<8x32xf32>
    %y = dist.binary add %g, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
    // becomes
    %y = dist.gemm %x, %w, %b {trans_b} : (tensor<8x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<8x32xf32>
    ```
  }];
  let dependentDialects = ["distopt::dist::DistDialect"];
}

def PartitionPass : Pass<"dist-partition", "mlir::ModuleOp"> {
  let summary = "Partition every function into the program of one device, "
                "from per-op factor assignments";
  let description = [{
    Rewrites each function of a module with one `shard.grid` into the
    program that every device of the grid runs (SPMD), following the grid
    axes that the planner assigned to the factors of each op's sharding rule.
    The contract, the resharding table and the reasons for not using
    upstream `shard-partition` are in docs/partition.md.

    An op chooses its split with the discardable attribute
    `dist.factor_axes`: a dictionary from the name of a factor of the op's
    sharding rule to the grid axes that split it, major to minor, listing
    only the split factors. An op without the attribute runs whole on
    every device.
    Function arguments and results are whole on every device.

    ```mlir
    shard.grid @tp(shape = 2)
    // factors [m=8 parallel, n=64 parallel, k=16 reduction(sum)]
    %h = dist.matmul %x, %w1 {dist.factor_axes = {n = array<i16: 0>}}
        : (tensor<8x16xf32>, tensor<16x64xf32>) -> tensor<8x64xf32>
    ```

    Every value gets a distributed state: per dimension the grid axes that
    split it, plus the grid axes over which it holds partial results (from a
    split reduction factor of its producer) and how they combine. Before
    each op, every operand is resharded from its state to the one that the
    op's assignment requires: `shard.all_reduce` (partial to whole),
    `shard.reduce_scatter` (partial sums to split), `shard.all_gather`
    (split to whole), `shard.all_slice` (whole to split, a local slice), and
    `shard.all_to_all` (split on one dimension to split on another over the
    same axes). A value needed twice in one state is resharded once. The op
    then gets its local types; a split weight becomes a shard
    (`global_shape`, `grid`, `split_axes`) that the runtime reads as a
    slice. A split `mean` reduction sums locally and divides by the global
    count; a bias after a split contraction is added once, after the
    all-reduce. Function results are resharded to whole. The
    `dist.factor_axes` attributes are removed.

    An invalid assignment (a name that is not a factor of the op's rule,
    an unknown or reused grid axis, a whole factor split, a size not
    divisible by its axes, a split factor that is not the major-most of its
    dimension, the attribute on an op without a sharding rule) is an error
    at the op, and the pass fails.
  }];
  let dependentDialects = ["distopt::dist::DistDialect",
                           "mlir::shard::ShardDialect"];
}

def PipelineSplitPass : Pass<"dist-pipeline-split", "mlir::ModuleOp"> {
  let summary = "Cut a function whose ops carry dist.stage into one function "
                "per pipeline stage, with explicit boundary values";
  let description = [{
    The planner marks every op of a pipeline plan with the stage that runs
    it (`dist.stage = k`). This pass moves the ops of each stage into a
    function of its own, `@<name>_stage<k>` with `dist.stage = k`, in
    program order, and makes every value that crosses stages explicit: the
    producing stage returns it and each later stage that reads it takes it
    as an argument, both marked `dist.boundary = id`. Weights and constants
    are copied into every stage that uses them (in inference, a tied
    embedding read by the first and the last stage is a weight of both);
    model inputs are
    arguments of every stage that reads them and model outputs results of
    the stage that computes them (`dist.name`). docs/pipeline.md has the
    contract the runtime follows.

    ```mlir
    func.func @main(%x: tensor<4x8xf32> {dist.name = "x"})
        -> (tensor<4x8xf32> {dist.name = "y"}) {
      %a = dist.unary relu %x {dist.stage = 0 : i64} : tensor<4x8xf32>
      %b = dist.unary exp %a {dist.stage = 1 : i64} : tensor<4x8xf32>
      return %b : tensor<4x8xf32>
    }
    // becomes
    func.func @main_stage0(%x: tensor<4x8xf32> {dist.name = "x"})
        -> (tensor<4x8xf32> {dist.boundary = 0 : i64})
        attributes {dist.stage = 0 : i64}
    func.func @main_stage1(%a: tensor<4x8xf32> {dist.boundary = 0 : i64})
        -> (tensor<4x8xf32> {dist.name = "y"})
        attributes {dist.stage = 1 : i64}
    ```

    The pass runs after `dist-partition` (values cross as local shards).
    An op without a stage (a collective the partitioner inserted) runs in
    the stage of its earliest reader, or after its operands when nothing
    reads it.

    A training step (`dist.train`) becomes three functions per stage,
    `@<name>_stage<k>_forward`, `_backward` and `_update` (`dist.phase`):
    the ops dist-autodiff built (`dist.adjoint_of`) form the backward of
    their stage, the ops dist-optimizer built (`dist.update`) the update.
    A micro-batch runs F0 .. F(K-1), B(K-1) .. B0, and values flow only
    forward in that order; a value of stage k's forward or backward that
    its update reads is returned and taken as `dist.accumulate = id` (the
    runtime passes the mean over the micro-batches). An update op runs in
    the stage whose values it reads, or in every stage that needs it when
    it reads none (AdamW's step counter); a weight that one stage's update
    assigns lives in that stage, and later stages that read it (a tied
    embedding) receive it as a boundary value.

    A sum in the update of values of several stages (the squared norms of
    the gradients, for --clip-norm) runs in every stage's update, each
    adding its own terms, and a reader takes the sum over the stages:
    `shard.all_reduce` on the grid `@stages` (one axis of K, marked
    `dist.stages`).

    A module whose ops carry no `dist.stage` is left as it is. A value read
    by an earlier slot than the one that computes it, a stage without
    forward ops, an update op other than a sum that reads values of several
    stages, or more than one function to split are errors.
  }];
  let dependentDialects = ["distopt::dist::DistDialect",
                           "mlir::shard::ShardDialect"];
}

def ConvertPrecisionPass : Pass<"dist-convert-precision", "mlir::ModuleOp"> {
  let summary = "Retype the model's float32 values to bf16 or fp16, so that "
                "the planner prices mixed precision";
  let description = [{
    A model exported in float32 is usually trained (or served) in a 16-bit
    precision. This pass retypes every f32 tensor of the module to
    `precision` (bf16 or fp16): the results of every op, the arguments of
    every block, the type of every function, and the elements of every
    `dist.constant` (rounded to nearest, ties to even). Other element types
    (f64, integers, i1) are left as they are; so are attributes that are not
    tensors (a layer norm's epsilon). The planner then sees a 16-bit graph:
    activations, communication and compute are priced in it, at the
    device's bf16/fp16 peak, and training counts fp32 master weights and
    Adam states beside the 16-bit weights (`precision` in docs/planner.md).

    ```mlir
    %w = dist.weight "fc.weight" : tensor<64x256xf32>
        at #dist.data<storage = external, path = "m.bin", offset = 0, length = 65536>
    %y = dist.matmul %x, %w : (tensor<8x64xf32>, tensor<64x256xf32>) -> tensor<8x256xf32>
    // becomes, with precision=bf16
    %w = dist.weight "fc.weight" : tensor<64x256xbf16>
        at #dist.data<storage = external, path = "m.bin", offset = 0, length = 32768>
    %y = dist.matmul %x, %w : (tensor<8x64xbf16>, tensor<64x256xbf16>) -> tensor<8x256xbf16>
    ```

    A weight keeps its path and offset and gets the byte length of its new
    type: the retyped program is for planning, its weights' bytes in the
    file are still float32, so it is not a program to run (`dist-opt
    --precision bf16` refuses `-o`). A constant whose f32 elements are not
    a dense attribute is an error at the constant.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"bf16\"",
           "The element type f32 values become: bf16 or fp16">,
  ];
}

def AutoPlanPass : Pass<"dist-auto-plan", "mlir::ModuleOp"> {
  let summary = "Choose a device grid and a sharding for every op with the "
                "cost model (shard.grid + dist.factor_axes, for dist-partition)";
  let description = [{
    Runs the planner (docs/planner.md) on the module's public function for
    a cluster and a device count, and writes its choice: a
    `shard.grid @grid` and, on every op that splits something, the
    `dist.factor_axes` attribute that `dist-partition` applies. Every
    candidate grid dp x tp (x pp when the plan fixes pipeline stages) of the
    device count is solved exactly against the cost model; the fastest plan
    that fits in memory wins. The fixed parts of the plan (`plan`) use the
    keys of `dist-opt --plan`: `dp`, `tp`, `pp`, `microbatch`, `recompute`,
    `zero`, `schedule`, `chunks`, `precision` (in a pass pipeline, quote a
    plan of several keys: `plan="pp=2,chunks=2"`). The precision is the
    model's own (its float weights' element type); a plan that fixes
    another is an error: retype the model first with
    `dist-convert-precision`.

    ```
    dist-opt model.onnx --dist-auto-plan="cluster=cpu devices=4 plan=tp=2 report=1" --dist-partition
    ```

    A module that already has a `shard.grid` was planned (or partitioned
    by hand) already and is left as it is. An unknown cluster, a bad plan
    or mode, no grid of the device count, an op without a sharding rule,
    or no plan that fits in memory is an error at the module, and the pass
    fails. With `runnable`, plans that `dist-run` cannot run yet are errors
    too: training, and pipeline stages fixed by the plan. Pipeline stages
    are searched only with `report-only`, which prints or writes the report
    and leaves the module as it is (`dist-opt --cluster` without `-o`).
  }];
  let options = [
    Option<"cluster", "cluster", "std::string", /*default=*/"\"cpu\"",
           "Cluster preset (dgx-a100-80g, dgx-a100-40g, dgx-h100, cpu) or "
           "cluster file (.yaml, .json)">,
    Option<"devices", "devices", "unsigned", /*default=*/"1",
           "Number of devices to plan for; 0 takes every device of the "
           "cluster file">,
    Option<"planSpec", "plan", "std::string", /*default=*/"\"\"",
           "Fixed parts of the plan, e.g. dp=2,tp=4; the rest is chosen">,
    Option<"mode", "mode", "std::string", /*default=*/"\"infer\"",
           "Plan for inference (infer) or training (train)">,
    Option<"batch", "batch", "int64_t", /*default=*/"0",
           "Global batch of a training step, or the batch an inference "
           "pipeline (pp fixed) runs; 0 is one micro-batch (the model's "
           "batch dimension) per data-parallel replica">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Print the plan report (to stderr on the command line)">,
    Option<"reportJson", "report-json", "std::string", /*default=*/"\"\"",
           "Write the plan report as JSON to this file">,
    Option<"reportHtml", "report-html", "std::string", /*default=*/"\"\"",
           "Write the plan report as a self-contained HTML page with "
           "pictures to this file">,
    Option<"runnable", "runnable", "bool", /*default=*/"false",
           "Accept only plans that dist-run runs today: inference, or a "
           "generated training step">,
    Option<"reportOnly", "report-only", "bool", /*default=*/"false",
           "Only report the plan (which may be of the model at another "
           "micro-batch size), and leave the module as it is">,
  ];
  let dependentDialects = ["mlir::shard::ShardDialect"];
}

def FinishArtifactPass : Pass<"dist-finish-artifact", "mlir::ModuleOp"> {
  let summary = "Check a compiled program against what dist-run needs and "
                "record where its weights are";
  let description = [{
    The last step of `dist-compile`. Sets `dist.model_dir`, the folder
    where the weights' paths start, on a module that does not name one
    yet (an imported ONNX model names its own folder): `model-dir`, or else
    the folder of the module's source file. Then checks that the program
    can run: its device count (the size of its `shard.grid`, 1 without
    one) is `devices` (unless 0), and every weight's bytes exist (the data
    file is there and holds the weight's byte range). A shape-only model,
    whose data file was never written, can be planned and printed but not
    compiled. Each problem is an error at the module or the weight.
  }];
  let options = [
    Option<"devices", "devices", "unsigned", /*default=*/"0",
           "Device count the program must run on; 0 accepts any">,
    Option<"modelDir", "model-dir", "std::string", /*default=*/"\"\"",
           "Folder of the weights' paths for a module without "
           "dist.model_dir; default: the folder of its source file">,
  ];
}

def AddLossPass : Pass<"dist-add-loss", "mlir::ModuleOp"> {
  let summary = "Make the model's function compute a training loss";
  let description = [{
    The first step of generating a training step from an inference model
    (the names follow ONNX Runtime's training artifacts). The module's one
    function gets a single result, the scalar loss, marked `dist.loss` and
    named `loss`; its other results are dropped, with the ops only they
    used.

    * `loss=cross-entropy`: `dist.cross_entropy` of the logits output
      `[..., C]` against a new int64 argument of shape `[...]`, named by
      `labels` (default `labels`).
    * `loss=mse`: `dist.mse` of the output against a new argument of its
      type, named by `labels` (default `target`).
    * `loss=output`: the output named by `output` is the loss already; it
      must hold one float.

    The output the loss reads is the function's only result, or the one
    whose `dist.name` is `output`. Weights that appear as several
    `dist.weight` ops of one name become one op, so that a tied weight is
    one trainable parameter.

    ```mlir
    func.func @main(%x: tensor<4x16xf32> {dist.name = "x"})
        -> (tensor<4x10xf32> {dist.name = "logits"})
    // becomes, with loss=cross-entropy
    func.func @main(%x: tensor<4x16xf32> {dist.name = "x"},
                    %labels: tensor<4xi64> {dist.name = "labels"})
        -> (tensor<f32> {dist.loss, dist.name = "loss"}) {
      ...
      %loss = dist.cross_entropy %logits, %labels
          : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
      return %loss : tensor<f32>
    }
    ```
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"cross-entropy\"",
           "The loss: cross-entropy, mse or output">,
    Option<"output", "output", "std::string", /*default=*/"\"\"",
           "The output the loss reads (or, with loss=output, is); empty: "
           "the only output">,
    Option<"labels", "labels", "std::string", /*default=*/"\"\"",
           "Name of the new labels (cross-entropy) or target (mse) input">,
  ];
  let dependentDialects = ["distopt::dist::DistDialect"];
}

def OptimizerPass : Pass<"dist-optimizer", "mlir::ModuleOp"> {
  let summary = "Update the weights from their gradients: the optimizer "
                "step of a training step";
  let description = [{
    Consumes the results that `dist-autodiff` appended (each marked
    `dist.gradient_of = "<weight>"`) and makes the function one training
    step: the results are removed, and each gradient updates its weight
    through the optimizer's op, whose new values are written back with
    `dist.assign`. The optimizer's state lives in weights with
    `storage = zero` (zero at the first step), written back the same way;
    the function is marked `dist.train`.

    * `optimizer=adamw` (`torch.optim.AdamW`): states `<weight>.adamw.m`
      and `<weight>.adamw.v`, and the step count `adamw.step`.
    * `optimizer=sgd` (`torch.optim.SGD`, dampening 0): with `momentum`
      above 0, the state `<weight>.sgd.momentum`.
    * `clip-norm` above 0: before the update, every gradient is scaled by
      `min(1, clip / (norm + 1e-6))`, where `norm` is the 2-norm of all
      gradients together (`torch.nn.utils.clip_grad_norm_`). Each sum of
      squares is a reduction of its gradient, so over shards it becomes a
      partial sum and an all-reduce: the norm is the same on 1 and N ranks.

    ```mlir
    %p2, %m2, %v2 = dist.adamw %p, %g, %m, %v, %t {beta1 = 0.9, ...}
    dist.assign %p, %p2 : tensor<64x32xf32>
    ```
  }];
  let options = [
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "The optimizer: adamw or sgd">,
    Option<"lr", "lr", "double", /*default=*/"1e-3", "Learning rate">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9",
           "AdamW's first-moment decay">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999",
           "AdamW's second-moment decay">,
    Option<"eps", "eps", "double", /*default=*/"1e-8",
           "AdamW's denominator term">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"-1",
           "Weight decay (decoupled for AdamW); negative: the optimizer's "
           "default (0.01 for adamw, 0 for sgd)">,
    Option<"momentum", "momentum", "double", /*default=*/"0",
           "SGD's momentum">,
    Option<"clipNorm", "clip-norm", "double", /*default=*/"0",
           "Clip the gradients' global 2-norm to this; 0: no clipping">,
  ];
  let dependentDialects = ["distopt::dist::DistDialect"];
}

def CompilePass : Pass<"dist-compile", "mlir::ModuleOp"> {
  let summary = "Compile a model into the program dist-run executes: plan, "
                "partition, finish the artifact";
  let description = [{
    The compile flow as one pass, with the same options as the C++ function
    `addCompilePipeline(pm, options)` that builds it and that `dist-opt -o`
    runs. It runs, as a nested pipeline:

    0. With `mode=train` and a `loss`, the training step is generated:
       `dist-add-loss`, `dist-autodiff`, `dist-optimizer`.
    1. `dist-auto-plan` with `runnable` (pipeline stages are refused until
       the runtime runs them), then `dist-partition`, when
       the options ask for a plan: more than one device, a cluster, a plan,
       a mode or a report. A one-device program without them is compiled as
       it is, and a module that already has a `shard.grid` is not planned
       again.
    2. `dist-finish-artifact`: `dist.model_dir`, the device count, the
       weights' bytes.

    ```
    dist-opt model.onnx --dist-compile="cluster=cpu devices=4"
    ```

    prints the program that each of the 4 devices runs; `dist-opt
    model.onnx --cluster cpu --devices 4 -o model.dist` writes it as the
    artifact. Errors of any step stop the pass at that step.
  }];
  let options = [
    Option<"cluster", "cluster", "std::string", /*default=*/"\"\"",
           "Cluster preset or file to plan for; empty: the cpu preset">,
    Option<"devices", "devices", "unsigned", /*default=*/"1",
           "Number of devices; 0 takes every device of the cluster file">,
    Option<"planSpec", "plan", "std::string", /*default=*/"\"\"",
           "Fixed parts of the plan, e.g. dp=2,tp=4; the rest is chosen">,
    Option<"mode", "mode", "std::string", /*default=*/"\"infer\"",
           "Plan for inference (infer); training (train) is refused until "
           "the runtime runs it">,
    Option<"batch", "batch", "int64_t", /*default=*/"0",
           "Global batch of a training step, or the batch an inference "
           "pipeline (pp fixed) runs; 0 is one micro-batch per "
           "data-parallel replica">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Print the plan report (to stderr on the command line)">,
    Option<"reportJson", "report-json", "std::string", /*default=*/"\"\"",
           "Write the plan report as JSON to this file">,
    Option<"reportHtml", "report-html", "std::string", /*default=*/"\"\"",
           "Write the plan report as a self-contained HTML page with "
           "pictures to this file">,
    Option<"modelDir", "model-dir", "std::string", /*default=*/"\"\"",
           "Folder of the weights' paths for a module without "
           "dist.model_dir; default: the folder of its source file">,
    Option<"loss", "loss", "std::string", /*default=*/"\"\"",
           "With mode=train, generate the training step with this loss: "
           "cross-entropy[:OUTPUT], mse[:OUTPUT] or output:NAME">,
    Option<"labels", "labels", "std::string", /*default=*/"\"\"",
           "Name of the loss's labels (target) input">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "The optimizer of the training step: adamw or sgd">,
    Option<"lr", "lr", "double", /*default=*/"1e-3", "Learning rate">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9",
           "AdamW's first-moment decay">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999",
           "AdamW's second-moment decay">,
    Option<"eps", "eps", "double", /*default=*/"1e-8",
           "AdamW's denominator term">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"-1",
           "Weight decay; negative: the optimizer's default">,
    Option<"momentum", "momentum", "double", /*default=*/"0",
           "SGD's momentum">,
    Option<"clipNorm", "clip-norm", "double", /*default=*/"0",
           "Clip the gradients' global 2-norm; 0: no clipping">,
    Option<"trainable", "trainable", "std::string", /*default=*/"\"\"",
           "Only the weights matching these globs (comma separated) train">,
    Option<"freeze", "freeze", "std::string", /*default=*/"\"\"",
           "The weights matching these globs (comma separated) do not "
           "train">,
  ];
  let dependentDialects = ["distopt::dist::DistDialect",
                           "mlir::shard::ShardDialect"];
}

def AutodiffPass : Pass<"dist-autodiff", "mlir::func::FuncOp"> {
  let summary = "Append the gradients of the function's loss with respect to "
                "its trainable weights (reverse mode)";
  let description = [{
    The function has exactly one result marked `dist.loss`, a rank-0 float
    tensor. The pass appends one result per trainable weight, in the order
    the `dist.weight` ops appear: the gradient of the loss with respect to
    that weight (seeded with 1.0), with the result attribute
    `dist.gradient_of = "<weight name>"`. A weight used several times gets
    the sum of its gradients.

    Trainable weights are the float `dist.weight`s from which the loss is
    differentiable: there is a path of float values from the weight to the
    loss (integer and boolean values, such as a `dist.compare` result or
    gather indices, end a path). `trainable` keeps only the weights whose
    names match one of its globs (comma separated, `llvm::GlobPattern`);
    `freeze` then removes those that match one of its globs.

    Every op on a path from a trainable weight to the loss must implement
    `GradientOpInterface`; the gradient ops are appended before the return,
    located at the op they differentiate. Gradient ops that nothing uses
    (the gradients of operands that need none) are erased.

    ```mlir
    func.func @main(%x: tensor<8x16xf32>) -> (tensor<f32> {dist.loss}) {
      %w = dist.weight "fc.weight" : tensor<16x4xf32> at #dist.data<...>
      %y = dist.matmul %x, %w : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
      %l = dist.reduce mean %y {axes = array<i64: 0, 1>} : (tensor<8x4xf32>) -> tensor<f32>
      return %l : tensor<f32>
    }
    // becomes a function returning (loss, d loss / d fc.weight), the
    // second result with {dist.gradient_of = "fc.weight"}.
    ```

    `recompute=full` recomputes the activations of each repeated layer (the
    planner's layer detection, `plan::findRepeatedLayers`): right before the
    gradient ops of a layer copy, the pass emits a clone of that copy's
    side-effect-free forward ops, computed from the values the copy reads
    (its input, weights, constants, shared values such as a mask), and the
    gradient rules of the copy are built on the clones. The copy's internal
    activations are then dead after the forward; only the values a copy
    reads from outside stay live until its backward. Clones that no gradient
    uses are erased. The values computed are the same as without recompute.
    Nothing after this pass in `dist-compile` runs CSE, which would merge
    the clones back into the forward ops.

    Errors, each at its cause, fail the pass: no `dist.loss` result (or
    several), a loss that is not a rank-0 float tensor, an op on a path
    without a gradient rule (`'dist.foo' has no gradient rule`), a glob that
    does not parse, a `recompute` other than `none` or `full`, and no
    trainable weight left.
  }];
  let options = [
    Option<"trainable", "trainable", "std::string", /*default=*/"\"\"",
           "Comma-separated globs: only weights whose names match one are "
           "trainable (default: every float weight the loss depends on)">,
    Option<"freeze", "freeze", "std::string", /*default=*/"\"\"",
           "Comma-separated globs: weights whose names match one are not "
           "trainable">,
    Option<"recompute", "recompute", "std::string", /*default=*/"\"none\"",
           "Activation recompute: 'none' keeps every forward activation "
           "until the backward, 'full' recomputes each repeated layer's "
           "forward right before its backward">,
  ];
  let dependentDialects = ["distopt::dist::DistDialect"];
}

#endif // DISTOPT_PASSES_PASSES_TD
