//===- DistOps.td - dist dialect operations ----------------*- tablegen -*-===//
//
// Operations of the dist dialect. Each op carries a summary, a description
// with an example, a declarative assembly format, and a verifier whose
// messages say what was expected and what was found. Ops whose result type
// follows from operands and attributes infer it (InferTypeOpAdaptor), so a
// mismatching result type is reported with the type that was expected.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_DISTOPS_TD
#define DISTOPT_DIALECT_DIST_DISTOPS_TD

include "distopt/Dialect/Dist/Dist.td"
include "distopt/Dialect/Dist/DistAttrs.td"
include "distopt/Dialect/Dist/DistInterfaces.td"
include "mlir/Dialect/Shard/IR/ShardBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Dist_FloatElement : AnyTypeOf<[F16, BF16, F32, F64]>;
def Dist_Element : AnyTypeOf<[F16, BF16, F32, F64, I1, I8, I16, I32, I64]>;
def Dist_Tensor : StaticShapeTensorOf<[Dist_Element]>;
def Dist_FloatTensor : StaticShapeTensorOf<[Dist_FloatElement]>;
def Dist_IndexTensor : StaticShapeTensorOf<[I32, I64]>;
def Dist_BoolTensor : StaticShapeTensorOf<[I1]>;
def Dist_Tensor4D : TypeConstraint<
    And<[Dist_FloatTensor.predicate, HasAnyRankOfPred<[4]>]>,
    "4-D statically shaped float tensor (N x C x H x W)">;

/// Ops that declare a sharding rule and have no side effects.
class Dist_ComputeOp<string mnemonic, list<Trait> traits = []>
    : Dist_Op<mnemonic, !listconcat(traits, [
        Pure, DeclareOpInterfaceMethods<Dist_ShardingRuleOpInterface>])>;

//===----------------------------------------------------------------------===//
// Sources: weights and constants
//===----------------------------------------------------------------------===//

def Dist_WeightOp : Dist_ComputeOp<"weight", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Reference to a model weight stored outside the IR";
  let description = [{
    Produces the tensor `name` whose bytes live at `data` (the model file or
    its external data). The IR never holds the bytes: a 175B-parameter model
    plans without reading them, and the runtime memory-maps and slices them.

    After partitioning, a weight may hold only this device's shard. Then
    `global_shape` is the shape of the whole weight, `grid` the device grid
    and `split_axes` the grid axes that split each dimension (the same form as
    `shard.sharding`); the result type is the local shard and the runtime
    derives which slice to read from the device's position in the grid, so
    the verifier checks that `grid` names a `shard.grid` and that each
    dimension is split by exactly the product of its grid axes' sizes.

    ```mlir
    %w = dist.weight "fc1.weight" : tensor<32x32xf32>
        at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 4096>
    ```
  }];
  let arguments = (ins
    StrAttr:$name,
    Dist_DataLocationAttr:$data,
    OptionalAttr<DenseI64ArrayAttr>:$global_shape,
    OptionalAttr<FlatSymbolRefAttr>:$grid,
    OptionalAttr<Shard_GridAxesArrayAttr>:$split_axes
  );
  let results = (outs Dist_Tensor:$result);
  // The type comes first: an attribute followed by `: type` would take the
  // type as its own.
  let assemblyFormat = "$name `:` type($result) `at` qualified($data) attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Shape of the whole weight: `global_shape` when partitioned, otherwise
    /// the result shape.
    ::llvm::SmallVector<int64_t> getFullShape();
    /// True when this op refers to a shard of a larger weight.
    bool isPartitioned() { return getGlobalShape().has_value(); }
  }];
}

def Dist_ConstantOp : Dist_Op<"constant", [
    ConstantLike, Pure, InferTypeOpAdaptor]> {
  let summary = "Small constant tensor held in the IR";
  let description = [{
    A tensor whose elements are in the IR: scalars, masks, folded shape
    computations. Weights use `dist.weight` instead.

    ```mlir
    %c = dist.constant dense<1.0e-05> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Dist_MatMulOp : Dist_ComputeOp<"matmul", [InferTypeOpAdaptor]> {
  let summary = "Batched matrix multiply with broadcasting, optional bias";
  let description = [{
    `result[..., m, n] = sum_k lhs[..., m, k] * rhs[..., k, n] (+ bias[..., n])`.
    Both operands have rank at least 2; leading (batch) dimensions broadcast
    like NumPy. The optional `bias` broadcasts to the result (typically a
    vector of size `n`): a linear layer on activations of any rank is one
    op. The contracted dimension `k` is a reduction factor (sum) of the
    sharding rule; `m`, `n` and the batch dimensions are parallel.

    ```mlir
    %y = dist.matmul %x, %w, %b : (tensor<4x128x64xf32>, tensor<64x256xf32>,
                                   tensor<256xf32>) -> tensor<4x128x256xf32>
    ```
  }];
  let arguments = (ins Dist_FloatTensor:$lhs, Dist_FloatTensor:$rhs,
                   Optional<Dist_FloatTensor>:$bias);
  let results = (outs Dist_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    // Without bias; the result type is inferred.
    OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs), [{
      build($_builder, $_state, lhs, rhs, ::mlir::Value());
    }]>
  ];
}

def Dist_GemmOp : Dist_ComputeOp<"gemm", [InferTypeOpAdaptor]> {
  let summary = "General matrix multiply with transposes and bias";
  let description = [{
    `result = alpha * op(a) * op(b) + beta * c`, where `op(x)` transposes `x`
    when `trans_a` / `trans_b` is set. `a` and `b` are 2-D; the optional bias
    `c` broadcasts to `M x N` (a scalar, a row `N`, `1 x N`, `M x 1` or
    `M x N`). This is ONNX Gemm and the fused linear layer.

    ```mlir
    %y = dist.gemm %x, %w, %b {trans_b} : (tensor<8x64xf32>, tensor<32x64xf32>,
                                          tensor<32xf32>) -> tensor<8x32xf32>
    ```
  }];
  let arguments = (ins
    Dist_FloatTensor:$a,
    Dist_FloatTensor:$b,
    Optional<Dist_FloatTensor>:$c,
    UnitAttr:$trans_a,
    UnitAttr:$trans_b,
    DefaultValuedAttr<F32Attr, "1.0">:$alpha,
    DefaultValuedAttr<F32Attr, "1.0">:$beta
  );
  let results = (outs Dist_FloatTensor:$result);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Dist_Conv2DOp : Dist_ComputeOp<"conv2d", [InferTypeOpAdaptor]> {
  let summary = "2-D convolution in NCHW layout, with groups and bias";
  let description = [{
    Convolves `input` (N x C x H x W) with `filter` (O x C/group x KH x KW)
    and adds the optional `bias` (O). `pads` is `[top, left, bottom, right]`
    (ONNX order), `strides` and `dilations` are `[h, w]`.

    ```mlir
    %y = dist.conv2d %x, %w, %b {strides = array<i64: 2, 2>,
        pads = array<i64: 1, 1, 1, 1>}
        : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>)
        -> tensor<1x16x16x16xf32>
    ```
  }];
  let arguments = (ins
    Dist_Tensor4D:$input,
    Dist_Tensor4D:$filter,
    Optional<Dist_FloatTensor>:$bias,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
    DefaultValuedAttr<I64Attr, "1">:$group
  );
  let results = (outs Dist_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def Dist_Pool2DOp : Dist_ComputeOp<"pool2d", [InferTypeOpAdaptor]> {
  let summary = "2-D max or average pooling in NCHW layout";
  let description = [{
    Pools each `kernel` window of `input` (N x C x H x W). `pads` is
    `[top, left, bottom, right]`; `ceil_mode` rounds the output size up;
    `count_include_pad` makes average pooling divide by the full window.

    ```mlir
    %y = dist.pool2d max %x {kernel = array<i64: 3, 3>,
        strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
        : (tensor<1x64x56x56xf32>) -> tensor<1x64x28x28xf32>
    ```
  }];
  let arguments = (ins
    Dist_PoolKindAttr:$kind,
    Dist_Tensor4D:$input,
    DenseI64ArrayAttr:$kernel,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
    UnitAttr:$ceil_mode,
    UnitAttr:$count_include_pad
  );
  let results = (outs Dist_Tensor4D:$result);
  let assemblyFormat = [{
    ``$kind $input attr-dict `:` functional-type(operands, results)
  }];
}

def Dist_GlobalPoolOp : Dist_ComputeOp<"global_pool", [InferTypeOpAdaptor]> {
  let summary = "Max or average over all spatial positions";
  let description = [{
    Reduces the H and W dimensions of `input` (N x C x H x W) to 1.

    ```mlir
    %y = dist.global_pool avg %x : (tensor<1x512x7x7xf32>) -> tensor<1x512x1x1xf32>
    ```
  }];
  let arguments = (ins Dist_PoolKindAttr:$kind, Dist_Tensor4D:$input);
  let results = (outs Dist_Tensor4D:$result);
  let assemblyFormat = [{
    ``$kind $input attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise families
//===----------------------------------------------------------------------===//

def Dist_UnaryOp : Dist_ComputeOp<"unary", [SameOperandsAndResultType]> {
  let summary = "Elementwise unary function selected by `kind`";
  let description = [{
    Applies `kind` to each element. `not` takes `i1`; `neg`, `abs` and
    `relu` take any number type; every other kind takes floats.
    `gelu_erf` is `0.5 x (1 + erf(x / sqrt 2))` and `gelu_tanh` its tanh
    approximation. `round` rounds halves to even (ONNX Round).

    The activations of ONNX with parameters take them as `alpha` and `beta`,
    which those kinds require and every other kind refuses:

    | kind | `y` | parameters |
    |---|---|---|
    | `leaky_relu` | `x < 0 ? alpha x : x` | alpha |
    | `elu` | `x < 0 ? alpha (exp(x) - 1) : x` | alpha |
    | `selu` | `beta (x <= 0 ? alpha (exp(x) - 1) : x)` | alpha, beta (ONNX's gamma) |
    | `celu` | `max(0, x) + min(0, alpha (exp(x / alpha) - 1))` | alpha (not 0) |
    | `hard_sigmoid` | `max(0, min(1, alpha x + beta))` | alpha, beta |
    | `thresholded_relu` | `x > alpha ? x : 0` | alpha |
    | `softplus` | `log(1 + exp(x))` | |
    | `softsign` | `x / (1 + abs(x))` | |
    | `hard_swish` | `x max(0, min(1, x / 6 + 1 / 2))` | |
    | `mish` | `x tanh(softplus(x))` | |

    ```mlir
    %y = dist.unary gelu_erf %x : tensor<8x128xf32>
    %z = dist.unary leaky_relu %x {alpha = 0.00999999977 : f32} : tensor<8x128xf32>
    ```
  }];
  let arguments = (ins Dist_UnaryKindAttr:$kind, Dist_Tensor:$input,
                       OptionalAttr<F32Attr>:$alpha,
                       OptionalAttr<F32Attr>:$beta);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = "``$kind $input attr-dict `:` type($input)";
  let builders = [
    // The kinds without parameters.
    OpBuilder<(ins "UnaryKind":$kind, "::mlir::Value":$input), [{
      build($_builder, $_state, kind, input, ::mlir::FloatAttr(),
            ::mlir::FloatAttr());
    }]>
  ];
  let extraClassDeclaration = [{
    /// Whether `kind` takes the parameter `alpha` (`beta`).
    static bool takesAlpha(UnaryKind kind);
    static bool takesBeta(UnaryKind kind);
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dist_BinaryOp : Dist_ComputeOp<"binary", [InferTypeOpAdaptor]> {
  let summary = "Elementwise binary function with NumPy broadcasting";
  let description = [{
    Applies `kind` to each pair of elements after broadcasting `lhs` and
    `rhs` to a common shape (NumPy rules: align trailing dimensions; a
    dimension of size 1 stretches). Both operands have one element type.
    `and`, `or` and `xor` take `i1`. Integers are signed: `div` truncates
    toward zero (as in C++ and ONNX), `pow` multiplies repeatedly, and `add`,
    `sub`, `mul` and `pow` wrap around on overflow. `mod` is the remainder
    of the floored quotient (it has the divisor's sign, as Python's `%`),
    `fmod` that of the truncated quotient (the dividend's sign, as C's
    `fmod`); an integer remainder by 0 is 0 at run time.

    ```mlir
    %y = dist.binary add %x, %b : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
    ```
  }];
  let arguments = (ins
    Dist_BinaryKindAttr:$kind, Dist_Tensor:$lhs, Dist_Tensor:$rhs);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = [{
    ``$kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def Dist_CompareOp : Dist_ComputeOp<"compare", [InferTypeOpAdaptor]> {
  let summary = "Elementwise comparison with broadcasting, producing i1";
  let description = [{
    ```mlir
    %m = dist.compare lt %a, %b : (tensor<4x4xi64>, tensor<4x1xi64>) -> tensor<4x4xi1>
    ```
  }];
  let arguments = (ins
    Dist_CompareKindAttr:$kind, Dist_Tensor:$lhs, Dist_Tensor:$rhs);
  let results = (outs Dist_BoolTensor:$result);
  let assemblyFormat = [{
    ``$kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def Dist_SelectOp : Dist_ComputeOp<"select", [InferTypeOpAdaptor]> {
  let summary = "Elementwise choice between two tensors (ONNX Where)";
  let description = [{
    `result = condition ? on_true : on_false`, all three broadcast together.

    ```mlir
    %y = dist.select %mask, %scores, %neg_inf
        : (tensor<1x1x16x16xi1>, tensor<2x4x16x16xf32>, tensor<f32>)
        -> tensor<2x4x16x16xf32>
    ```
  }];
  let arguments = (ins
    Dist_BoolTensor:$condition, Dist_Tensor:$on_true, Dist_Tensor:$on_false);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = [{
    $condition `,` $on_true `,` $on_false attr-dict `:`
    functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def Dist_CastOp : Dist_ComputeOp<"cast"> {
  let summary = "Elementwise conversion to another element type";
  let description = [{
    ```mlir
    %y = dist.cast %x : tensor<8x16xf32> to tensor<8x16xf16>
    ```
  }];
  let arguments = (ins Dist_Tensor:$input);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

def Dist_ReduceOp : Dist_ComputeOp<"reduce", [InferTypeOpAdaptor]> {
  let summary = "Reduction over a set of axes";
  let description = [{
    Reduces `input` over `axes` (sorted, distinct, non-negative) with `kind`.
    With `keep_dims` the reduced dimensions stay as size 1.

    ```mlir
    %m = dist.reduce mean %x {axes = array<i64: 2>, keep_dims}
        : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
    ```
  }];
  let arguments = (ins
    Dist_ReduceKindAttr:$kind,
    Dist_Tensor:$input,
    DenseI64ArrayAttr:$axes,
    UnitAttr:$keep_dims
  );
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = [{
    ``$kind $input attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def Dist_SoftmaxOp : Dist_ComputeOp<"softmax", [SameOperandsAndResultType]> {
  let summary = "Softmax (or log-softmax) along one axis";
  let description = [{
    `exp(x - max) / sum(exp(x - max))` along `axis`; with `log`, the
    logarithm of it.

    ```mlir
    %p = dist.softmax %s {axis = 3 : i64} : tensor<2x4x16x16xf32>
    ```
  }];
  let arguments = (ins Dist_FloatTensor:$input, I64Attr:$axis, UnitAttr:$log);
  let results = (outs Dist_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Dist_LayerNormOp : Dist_ComputeOp<"layer_norm", [
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Layer normalization over the trailing dimensions";
  let description = [{
    Normalizes `input` over dimensions `axis ..< rank` to zero mean and unit
    variance (variance plus `epsilon`), then multiplies by `scale` and adds
    the optional `bias`; both have the shape of the normalized dimensions.

    ```mlir
    %y = dist.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32}
        : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    Dist_FloatTensor:$input,
    Dist_FloatTensor:$scale,
    Optional<Dist_FloatTensor>:$bias,
    I64Attr:$axis,
    DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon
  );
  let results = (outs Dist_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Dist_GatherOp : Dist_ComputeOp<"gather", [InferTypeOpAdaptor]> {
  let summary = "Gather slices along one axis (embedding lookup)";
  let description = [{
    `result = data[:axis] ++ indices ++ data[axis+1:]` in shape: every index
    selects one slice of `data` along `axis`. An embedding is a gather on
    axis 0 of the table.

    As in ONNX Gather, a negative index counts from the end of the axis:
    index `i` in `[-n, 0)` selects slice `i + n`, where `n` is the size of
    `data` along `axis`. An index outside `[-n, n)` is undefined behaviour
    at run time. Indices are values, not types, so the verifier checks
    neither their sign nor their range; the folder folds a gather of
    constants only when every index is in range, and otherwise leaves the
    op in place.

    Sharding rule: the dims of `data` before and after `axis` and the dims
    of `indices` are parallel; the gathered dim is a sum reduction (for
    float tables): split across devices (a vocabulary-parallel embedding,
    as in Megatron-LM), every device looks up only the rows it holds and
    the results are partial sums, combined by an all-reduce (or a
    reduce-scatter). Integer and boolean tables keep it whole.

    In that local form, `data` holds this device's block of the table
    along `axis` and `row_axes` names the grid axes that split it, from
    which the device knows its block's first slice. Indices are the whole
    table's: one in the device's block selects its slice there, one outside
    the block (but in the table) gives zeros, and one outside `[-n, n)` of
    the whole table (`n` the block's size times the devices on `row_axes`)
    is a run-time error.

    ```mlir
    %e = dist.gather %table, %ids {axis = 0 : i64}
        : (tensor<50257x768xf32>, tensor<2x128xi64>) -> tensor<2x128x768xf32>
    %p = dist.gather %rows, %ids {axis = 0 : i64, row_axes = array<i16: 1>}
        : (tensor<25000x768xf32>, tensor<2x128xi64>) -> tensor<2x128x768xf32>
    ```
  }];
  let arguments = (ins Dist_Tensor:$data, Dist_IndexTensor:$indices,
                   I64Attr:$axis, OptionalAttr<DenseI16ArrayAttr>:$row_axes);
  let results = (outs Dist_Tensor:$result);
  let builders = [
    // A gather from a whole table (no `row_axes`).
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes, "::mlir::Value":$data,
                   "::mlir::Value":$indices, "::mlir::IntegerAttr":$axis), [{
      build($_builder, $_state, resultTypes, data, indices, axis,
            ::mlir::DenseI16ArrayAttr());
    }]>
  ];
  let assemblyFormat = [{
    $data `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Dist_ReshapeOp : Dist_ComputeOp<"reshape"> {
  let summary = "Reinterpret a tensor with another shape, same elements";
  let description = [{
    The result shape is the result type; the element count and type stay.

    ```mlir
    %y = dist.reshape %x : tensor<2x16x768xf32> to tensor<2x16x12x64xf32>
    ```
  }];
  let arguments = (ins Dist_Tensor:$input);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dist_BroadcastOp : Dist_ComputeOp<"broadcast"> {
  let summary = "Broadcast to a larger shape (ONNX Expand)";
  let description = [{
    Stretches size-1 dimensions of `input` and prepends dimensions so that it
    has the result shape, by NumPy rules.

    ```mlir
    %y = dist.broadcast %x : tensor<1x64xf32> to tensor<8x16x64xf32>
    ```
  }];
  let arguments = (ins Dist_Tensor:$input);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dist_TransposeOp : Dist_ComputeOp<"transpose", [InferTypeOpAdaptor]> {
  let summary = "Permute dimensions";
  let description = [{
    `result` dimension `i` is `input` dimension `perm[i]`.

    ```mlir
    %y = dist.transpose %x {perm = array<i64: 0, 2, 1, 3>}
        : (tensor<2x16x12x64xf32>) -> tensor<2x12x16x64xf32>
    ```
  }];
  let arguments = (ins Dist_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = [{
    $input attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def Dist_SliceOp : Dist_ComputeOp<"slice"> {
  let summary = "Strided slice; sizes are the result shape";
  let description = [{
    Takes elements `offsets[d] + i * strides[d]` for `i < result.shape[d]` in
    every dimension `d`. `offsets` are non-negative and `strides` positive;
    the last element taken must lie inside the input.

    ```mlir
    %q = dist.slice %qkv {offsets = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}
        : tensor<2x16x2304xf32> to tensor<2x16x768xf32>
    ```
  }];
  let arguments = (ins
    Dist_Tensor:$input,
    DenseI64ArrayAttr:$offsets,
    DenseI64ArrayAttr:$strides
  );
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dist_ConcatOp : Dist_ComputeOp<"concat", [InferTypeOpAdaptor]> {
  let summary = "Concatenate tensors along one axis";
  let description = [{
    ```mlir
    %y = dist.concat %a, %b {axis = 1 : i64}
        : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Variadic<Dist_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def Dist_SplitOp : Dist_ComputeOp<"split"> {
  let summary = "Split a tensor into consecutive pieces along one axis";
  let description = [{
    The result types give the size of each piece along `axis`; they add up to
    the input's size there and match it elsewhere.

    ```mlir
    %q, %k, %v = dist.split %qkv {axis = 2 : i64} : (tensor<2x16x192xf32>)
        -> (tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<2x16x64xf32>)
    ```
  }];
  let arguments = (ins Dist_Tensor:$input, I64Attr:$axis);
  let results = (outs Variadic<Dist_Tensor>:$results);
  let assemblyFormat = [{
    $input attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Indexing by element: top-k, gather and scatter of single elements
//===----------------------------------------------------------------------===//

def Dist_TopKOp : Dist_ComputeOp<"top_k", [InferTypeOpAdaptor]> {
  let summary = "The k largest (or smallest) elements along one axis";
  let description = [{
    ONNX TopK: along `axis`, `values` holds the `k` largest elements of
    `input` (the `k` smallest with `smallest`), in order from the largest
    (smallest) down, and `indices` their positions along `axis` (i64).
    Elements that compare equal come in the order of their positions, as
    ONNX asks; a NaN counts as larger than every number (PyTorch's order).
    Both results have the input's shape with `k` along `axis`; `k` is at
    most the size of `axis`.

    Sharding rule: every dim but `axis` is parallel (the expert and batch
    dims of a mixture-of-experts router stay splittable); `axis` and the
    `k` selected positions are whole.

    ```mlir
    %v, %i = dist.top_k %logits {axis = 1 : i64, k = 2 : i64}
        : (tensor<16x8xf32>) -> (tensor<16x2xf32>, tensor<16x2xi64>)
    ```
  }];
  let arguments = (ins Dist_Tensor:$input, I64Attr:$axis, I64Attr:$k,
                   UnitAttr:$smallest);
  let results = (outs Dist_Tensor:$values, StaticShapeTensorOf<[I64]>:$indices);
  let assemblyFormat = [{
    $input attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Dist_GatherElementsOp : Dist_ComputeOp<"gather_elements", [
    InferTypeOpAdaptor]> {
  let summary = "Gather single elements along one axis (ONNX GatherElements)";
  let description = [{
    `result[p] = data[p with p[axis] replaced by indices[p]]` for every
    position `p` of `indices`: the result has the shape of `indices` and
    the element type of `data`, as `torch.gather`. Both have one rank, and
    every dim of `indices` but `axis` is at most `data`'s. An index in
    `[-n, 0)` counts from the end of `axis` (`n` its size); one outside
    `[-n, n)` is a run-time error (its element is zero).

    Sharding rule: the dims of `indices` are parallel, shared with `data`
    where both have one size; `data`'s `axis` is whole.

    ```mlir
    %y = dist.gather_elements %x, %idx {axis = 1 : i64}
        : (tensor<16x8xf32>, tensor<16x2xi64>) -> tensor<16x2xf32>
    ```
  }];
  let arguments = (ins Dist_Tensor:$data, Dist_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = [{
    $data `,` $indices attr-dict `:` functional-type(operands, results)
  }];
}

def Dist_ScatterElementsOp : Dist_ComputeOp<"scatter_elements", [
    InferTypeOpAdaptor]> {
  let summary = "Scatter single elements along one axis (ONNX ScatterElements)";
  let description = [{
    The result starts as a copy of `data`; then for every position `p` of
    `indices`, in row-major order, the element at `p` with `p[axis]`
    replaced by `indices[p]` becomes `updates[p]` (`reduction` none), or is
    combined with it (`add`, `mul`, `max`, `min`). `indices` and `updates`
    have one shape, of `data`'s rank, no dim but `axis` larger than
    `data`'s. Indices count from the end when negative, as in
    `dist.gather_elements`; one outside `[-n, n)` is a run-time error (its
    update is dropped). With `none`, two updates of one element leave the
    later one (ONNX leaves it undefined).

    Sharding rule: the dims other than `axis` where `data` and `indices`
    have one size are parallel, shared by all four tensors; every other dim
    is whole.

    ```mlir
    %y = dist.scatter_elements add %zeros, %idx, %g {axis = 1 : i64}
        : (tensor<16x8xf32>, tensor<16x2xi64>, tensor<16x2xf32>) -> tensor<16x8xf32>
    ```
  }];
  let arguments = (ins Dist_ScatterReductionAttr:$reduction, Dist_Tensor:$data,
                   Dist_IndexTensor:$indices, Dist_Tensor:$updates,
                   I64Attr:$axis);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = [{
    ``$reduction $data `,` $indices `,` $updates attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Dist_ScatterNDOp : Dist_ComputeOp<"scatter_nd", [InferTypeOpAdaptor]> {
  let summary = "Scatter slices at multi-dimensional indices (ONNX ScatterND)";
  let description = [{
    `indices` is `I... x k` with `k` at most the rank of `data`: each of its
    rows names the first `k` coordinates of a slice of `data`, and
    `updates` (shape `I... ++ data[k:]`) holds the slices. The result starts
    as a copy of `data`; then, row by row in order, the slice is replaced
    by the update (`none`) or combined with it elementwise (`add`, `mul`,
    `max`, `min`). A negative coordinate counts from the end of its dim;
    one outside `[-n, n)` is a run-time error (the row is dropped).

    Sharding rule: the slice dims `data[k:]` are parallel, shared with the
    trailing dims of `updates`; the indexed dims and the rows are whole.

    ```mlir
    %y = dist.scatter_nd none %data, %idx, %rows
        : (tensor<8x4xf32>, tensor<3x1xi64>, tensor<3x4xf32>) -> tensor<8x4xf32>
    ```
  }];
  let arguments = (ins Dist_ScatterReductionAttr:$reduction, Dist_Tensor:$data,
                   Dist_IndexTensor:$indices, Dist_Tensor:$updates);
  let results = (outs Dist_Tensor:$result);
  let assemblyFormat = [{
    ``$reduction $data `,` $indices `,` $updates attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Training ops: state updates, losses, optimizers
//===----------------------------------------------------------------------===//

def Dist_AssignOp : Dist_Op<"assign", [
    MemoryEffects<[MemWrite]>,
    AllTypesMatch<["weight", "value"]>,
    DeclareOpInterfaceMethods<Dist_ShardingRuleOpInterface>]> {
  let summary = "Write a new value into a weight's persistent buffer";
  let description = [{
    After the step, the persistent (per-rank) buffer of the weight that
    `weight` reads holds `value`. Every read of the weight in this step sees
    the old value: the runtime runs all assigns after every other step of
    the program. This is how a training step keeps its updated parameters
    and optimizer state from one step to the next.

    `weight` must be the result of a `dist.weight` (also after partitioning,
    where it is the weight's local shard) and `value` must have its type.
    The op writes, so it is never erased as dead and never merged with
    another assign. Sharding rule: both operands are indexed by the same
    parallel factors, so the value is split like its weight.

    ```mlir
    %w = dist.weight "fc.weight" : tensor<4x8xf32>
        at #dist.data<storage = external, path = "m.bin", offset = 0, length = 128>
    dist.assign %w, %w_new : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Dist_Tensor:$weight, Dist_Tensor:$value);
  let assemblyFormat = "$weight `,` $value attr-dict `:` type($weight)";
  let hasVerifier = 1;
}

def Dist_CrossEntropyOp : Dist_ComputeOp<"cross_entropy", [
    DeclareOpInterfaceMethods<Dist_GradientOpInterface>,
    DeclareOpInterfaceMethods<Dist_SplitFormOpInterface>,
    InferTypeOpAdaptor]> {
  let summary = "Softmax cross-entropy against integer labels, mean-reduced";
  let description = [{
    `logits` is `B... x C` (the classes last) and `labels` is `B...` of
    class indices. The result is the mean over all positions `pos` of
    `logsumexp(logits[pos, :]) - logits[pos, labels[pos]]`, as
    `torch.nn.functional.cross_entropy(logits.reshape(-1, C),
    labels.reshape(-1))`. The result is a scalar of the logits' element
    type. A label outside `[0, C)` is a run-time error (reported like an
    out-of-range gather index).

    Sharding rule: the batch factors are reductions (mean: partial losses
    are averaged); the class factor is `collective`: split over grid axes,
    each device holds a block of the classes and the local form all-reduces
    the positions' maxima (max), their sums of exponentials and the label
    logits (sum), as Megatron-LM's vocabulary-parallel cross-entropy does;
    the logits are never gathered.

    ```mlir
    %loss = dist.cross_entropy %logits, %labels
        : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Dist_FloatTensor:$logits, Dist_IndexTensor:$labels);
  let results = (outs Dist_FloatTensor:$result);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

def Dist_CrossEntropyGradOp : Dist_ComputeOp<"cross_entropy_grad", [
    DeclareOpInterfaceMethods<Dist_SplitFormOpInterface>,
    AttrSizedOperandSegments, InferTypeOpAdaptor]> {
  let summary = "Gradient of softmax cross-entropy with respect to the logits";
  let description = [{
    `(softmax(logits) - onehot(labels)) * scale`, softmax over the last
    (class) dimension. `scale` is a scalar of the logits' element type; the
    gradient rule of `dist.cross_entropy` passes the loss gradient divided by
    the (global) number of positions. A label outside `[0, C)` is a run-time
    error.

    In the local form of a split class dimension, `logits` holds this
    device's block of classes, `stats` gives every position's maximum and
    sum of `exp(logit - maximum)` over all classes (all-reduced), and
    `class_axes` names the grid axes that split the classes, from which the
    device knows its block's first class.

    Sharding rule: the batch factors are parallel, the class factor
    `collective` (as `dist.cross_entropy`'s, with the maxima and the sums
    all-reduced), `scale` unfactored.

    ```mlir
    %g = dist.cross_entropy_grad %logits, %labels, %scale
        : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>
    %l = dist.cross_entropy_grad %logits, %labels, %scale
        stats %max, %sum {class_axes = array<i16: 1>}
        : (tensor<8x5xf32>, tensor<8xi64>, tensor<f32>, tensor<8xf32>,
           tensor<8xf32>) -> tensor<8x5xf32>
    ```
  }];
  let arguments = (ins Dist_FloatTensor:$logits, Dist_IndexTensor:$labels,
                   Dist_FloatTensor:$scale,
                   Optional<Dist_FloatTensor>:$max,
                   Optional<Dist_FloatTensor>:$sum_exp,
                   OptionalAttr<DenseI16ArrayAttr>:$class_axes);
  let results = (outs Dist_FloatTensor:$result);
  let assemblyFormat = [{
    $logits `,` $labels `,` $scale (`stats` $max^ `,` $sum_exp)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Dist_CrossEntropyStatsOp : Dist_ComputeOp<"cross_entropy_stats", [
    InferTypeOpAdaptor]> {
  let summary = "Per-device statistics of a cross-entropy over split classes";
  let description = [{
    The local step of `dist.cross_entropy` (and its gradient) when the class
    dimension is split over the grid axes `class_axes`: `logits` is this
    device's block `B... x C/n` of the classes, `labels` the whole `B...`,
    and `max` every position's maximum over all classes. Returns per
    position the sum of `exp(logit - max)` over the device's classes, and
    the label's logit when the label falls in the device's block (0
    otherwise): summed over the devices (all-reduce), they give the
    softmax's denominator and the label logit. A label outside
    `[0, C)` (all classes) is a run-time error.

    ```mlir
    %sum, %target = dist.cross_entropy_stats %logits, %labels, %max
        {class_axes = array<i16: 1>}
        : (tensor<8x5xf32>, tensor<8xi64>, tensor<8xf32>)
        -> (tensor<8xf32>, tensor<8xf32>)
    ```
  }];
  let arguments = (ins Dist_FloatTensor:$logits, Dist_IndexTensor:$labels,
                   Dist_FloatTensor:$max, DenseI16ArrayAttr:$class_axes);
  let results = (outs Dist_FloatTensor:$sum_exp, Dist_FloatTensor:$target);
  let assemblyFormat = [{
    $logits `,` $labels `,` $max attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Dist_MseOp : Dist_ComputeOp<"mse", [
    DeclareOpInterfaceMethods<Dist_GradientOpInterface>, InferTypeOpAdaptor]> {
  let summary = "Mean squared error";
  let description = [{
    `mean((pred - target)^2)` over all elements, as
    `torch.nn.functional.mse_loss(pred, target)`. Both operands have one
    type; the result is a scalar of their element type. Sharding rule: every
    dimension is a reduction (mean).

    ```mlir
    %loss = dist.mse %pred, %target
        : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Dist_FloatTensor:$pred, Dist_FloatTensor:$target);
  let results = (outs Dist_FloatTensor:$result);
  let assemblyFormat = [{
    $pred `,` $target attr-dict `:` functional-type(operands, results)
  }];
}

def Dist_AdamWOp : Dist_ComputeOp<"adamw", [InferTypeOpAdaptor]> {
  let summary = "One AdamW update of a parameter and its two moments";
  let description = [{
    Exactly `torch.optim.AdamW` (amsgrad off), elementwise, with `t` the
    step number (1 on the first step):

    ```
    p = p - lr * weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
    ```

    `param`, `grad`, `m` and `v` have one type, which the three results
    (new parameter, new `m`, new `v`) have too; `step` is a float scalar.
    Sharding rule: every tensor is indexed by the same parallel factors,
    `step` is unfactored.

    ```mlir
    %p1, %m1, %v1 = dist.adamw %p, %g, %m, %v, %t {lr = 1.0e-03, beta1 = 0.9,
        beta2 = 0.999, eps = 1.0e-08, weight_decay = 1.0e-02}
        : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>,
           tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
    ```
  }];
  let arguments = (ins
    Dist_FloatTensor:$param, Dist_FloatTensor:$grad, Dist_FloatTensor:$m,
    Dist_FloatTensor:$v, Dist_FloatTensor:$step,
    F64Attr:$lr, F64Attr:$beta1, F64Attr:$beta2, F64Attr:$eps,
    F64Attr:$weight_decay
  );
  let results = (outs Dist_FloatTensor:$new_param, Dist_FloatTensor:$new_m,
                 Dist_FloatTensor:$new_v);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v `,` $step attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Dist_SgdOp : Dist_ComputeOp<"sgd", [InferTypeOpAdaptor]> {
  let summary = "One SGD update of a parameter, with optional momentum";
  let description = [{
    `torch.optim.SGD` with dampening 0 and nesterov off, elementwise:

    ```
    g = g + weight_decay * p
    buf = momentum * buf + g      (with momentum; buf starts as zeros)
    p = p - lr * buf              (without momentum: p - lr * g)
    ```

    Starting `buf` at zero gives torch's first step (`buf = g`). With a
    non-zero `momentum` the op takes the buffer as a third operand and
    returns the new buffer as a second result; with `momentum = 0` it takes
    and returns none. Sharding rule: every tensor is indexed by the same
    parallel factors.

    ```mlir
    %p1, %b1 = dist.sgd %p, %g, %b {lr = 1.0e-01, momentum = 0.9,
        weight_decay = 0.0}
        : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
        -> (tensor<4x8xf32>, tensor<4x8xf32>)
    ```
  }];
  let arguments = (ins
    Dist_FloatTensor:$param, Dist_FloatTensor:$grad,
    Optional<Dist_FloatTensor>:$momentum_buffer,
    F64Attr:$lr, DefaultValuedAttr<F64Attr, "0.0">:$momentum,
    DefaultValuedAttr<F64Attr, "0.0">:$weight_decay
  );
  let results = (outs Dist_FloatTensor:$new_param,
                 Optional<Dist_FloatTensor>:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad (`,` $momentum_buffer^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Backward ops
//
// Ops that `dist-autodiff`'s gradient rules emit where no composition of the
// forward ops above does the job (or does it far too slowly). Each is the
// adjoint of one forward op and has that op's operands' types as results.
//===----------------------------------------------------------------------===//

def Dist_GatherGradOp : Dist_ComputeOp<"gather_grad"> {
  let summary = "Gradient of a gather with respect to its table (scatter-add)";
  let description = [{
    The adjoint of `dist.gather` for its `data` operand: starts from zeros of
    the result type (the gathered table's type) and adds every slice of
    `grad` to the slice of the result that its index selected, so a row
    selected twice gets the sum of both gradients. `grad` has the shape
    `result[:axis] ++ indices ++ result[axis+1:]`. An index in `[-n, 0)`
    counts from the end as in `dist.gather`; an index outside `[-n, n)` is a
    run-time error.

    Sharding rule: the table's gathered dim is parallel, the index dims a
    sum reduction. With the gathered dim split (the local form of a table
    split by rows), `row_axes` names the grid axes that split it: the
    result is this device's block of rows, and only the indices that fall
    in it add anything (indices are the whole table's, `n` as in
    `dist.gather`'s local form).

    ```mlir
    %dtable = dist.gather_grad %dy, %ids {axis = 0 : i64}
        : (tensor<2x128x768xf32>, tensor<2x128xi64>) -> tensor<50257x768xf32>
    %drows = dist.gather_grad %dy, %ids {axis = 0 : i64, row_axes = array<i16: 1>}
        : (tensor<2x128x768xf32>, tensor<2x128xi64>) -> tensor<25000x768xf32>
    ```
  }];
  let arguments = (ins Dist_FloatTensor:$grad, Dist_IndexTensor:$indices,
                   I64Attr:$axis, OptionalAttr<DenseI16ArrayAttr>:$row_axes);
  let results = (outs Dist_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Dist_Conv2DGradInputOp : Dist_ComputeOp<"conv2d_grad_input"> {
  let summary = "Gradient of a 2-D convolution with respect to its input";
  let description = [{
    The adjoint of `dist.conv2d` for its `input` operand (a transposed
    convolution): `grad` is the gradient of the convolution's result
    (N x O x OH x OW), `filter` its filter, and the result has the type of
    its input (N x C x H x W). `strides`, `pads`, `dilations` and `group` are
    those of the convolution; the verifier checks that a convolution of the
    result's shape with them gives `grad`'s shape.

    ```mlir
    %dx = dist.conv2d_grad_input %dy, %w {strides = array<i64: 2, 2>,
        pads = array<i64: 1, 1, 1, 1>}
        : (tensor<1x16x16x16xf32>, tensor<16x3x3x3xf32>) -> tensor<1x3x32x32xf32>
    ```
  }];
  let arguments = (ins
    Dist_Tensor4D:$grad,
    Dist_Tensor4D:$filter,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
    DefaultValuedAttr<I64Attr, "1">:$group
  );
  let results = (outs Dist_Tensor4D:$result);
  let assemblyFormat = [{
    $grad `,` $filter attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Dist_Conv2DGradFilterOp : Dist_ComputeOp<"conv2d_grad_filter"> {
  let summary = "Gradient of a 2-D convolution with respect to its filter";
  let description = [{
    The adjoint of `dist.conv2d` for its `filter` operand:
    `result[o, c, kh, kw] = sum over n, oh, ow of grad[n, o, oh, ow] *
    input[n, g * C/group + c, oh * sh - pt + kh * dh, ow * sw - pl + kw * dw]`
    (zero outside the input), with `g` the group of output channel `o`. The
    result has the filter's type; the verifier checks that a convolution of
    `input` with a filter of the result's shape gives `grad`'s shape.

    ```mlir
    %dw = dist.conv2d_grad_filter %x, %dy {strides = array<i64: 2, 2>,
        pads = array<i64: 1, 1, 1, 1>}
        : (tensor<1x3x32x32xf32>, tensor<1x16x16x16xf32>) -> tensor<16x3x3x3xf32>
    ```
  }];
  let arguments = (ins
    Dist_Tensor4D:$input,
    Dist_Tensor4D:$grad,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
    DefaultValuedAttr<I64Attr, "1">:$group
  );
  let results = (outs Dist_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $grad attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Dist_Pool2DGradOp : Dist_ComputeOp<"pool2d_grad", [
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Gradient of a 2-D max or average pooling";
  let description = [{
    The adjoint of `dist.pool2d` with the same attributes: `grad` is the
    gradient of the pooling's result, `input` the pooled input, and the
    result has the input's type. Average pooling spreads each window's
    gradient evenly over the positions it averaged (the same count as the
    forward op: with or without padding). Max pooling gives each window's
    gradient to the first position (in row-major window order) holding the
    window's maximum, as PyTorch does; a window without an input position
    gives nothing.

    ```mlir
    %dx = dist.pool2d_grad max %dy, %x {kernel = array<i64: 2, 2>,
        strides = array<i64: 2, 2>}
        : (tensor<1x8x4x4xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    ```
  }];
  let arguments = (ins
    Dist_PoolKindAttr:$kind,
    Dist_Tensor4D:$grad,
    Dist_Tensor4D:$input,
    DenseI64ArrayAttr:$kernel,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
    UnitAttr:$ceil_mode,
    UnitAttr:$count_include_pad
  );
  let results = (outs Dist_Tensor4D:$result);
  let assemblyFormat = [{
    ``$kind $grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // DISTOPT_DIALECT_DIST_DISTOPS_TD
