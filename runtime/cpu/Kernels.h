//===- Kernels.h - CPU kernels of the dist-opt runtime ----------*- C++ -*-===//
//
// One kernel per dist op, on plain row-major buffers. The runtime turns a
// partitioned module into a flat list of calls to these functions; the
// compiler knows every shape, so kernels never allocate their outputs: the
// caller passes output tensors of the right shape and element type.
//
// This library depends on the C++ standard library, OpenBLAS (cblas) and
// OpenMP only: no MLIR, no LLVM. The kind enums have the dist dialect's
// cases in the dialect's order; runtime/core/KernelKinds.h converts one to
// the other and fails to compile when they differ.
//
// Element semantics are those of the dialect's folders
// (lib/Dialect/Dist/Folders.cpp, docs/dialect.md): integers are signed and
// wrap, `div` truncates toward zero, integer `pow` multiplies repeatedly, NaN
// propagates through max / min / reductions, comparisons follow IEEE, casts
// round to nearest even into floats and truncate toward zero into integers.
// f16 and bf16 are storage types: kernels compute in f32 and round the result
// to nearest even into the element type (for + - * / that equals rounding the
// exact result once, as the folders do). Transcendental functions run in the
// compute type (f32 for f32, f16, bf16; f64 for f64) where the folders use
// f64, so f32 results may differ from folded ones in the last bit. Where the
// folders leave a value undefined (integer division by zero, a float cast to
// an integer type it does not fit), the kernels still produce a value and
// never trap; see each function. A gather index out of range produces zeros
// and is reported to the caller, which stops the program (ONNX calls it an
// error).
//
// Preconditions (shapes and element types as the dialect's verifiers accept
// them) are checked with `assert` only: a combination the verifier rejects
// leaves `out` unspecified.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CPU_KERNELS_H
#define DISTOPT_RUNTIME_CPU_KERNELS_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace distopt::rt {

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

/// Element types of dist tensors. f16 and bf16 are stored as their 16-bit
/// patterns (see Float16.h); i1 is one byte per element holding 0 or 1.
enum class DType { F32, F64, F16, BF16, I1, I8, I16, I32, I64 };

/// Bytes per element of `dtype` (1 for i1).
inline size_t byteWidth(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
    return 2;
  case DType::I1:
  case DType::I8:
    return 1;
  }
  return 0;
}

/// True for f16, bf16, f32 and f64.
bool isFloat(DType dtype);

/// A view of a contiguous row-major buffer. Kernels read inputs through a
/// const view and write outputs through a view the caller allocated.
struct Tensor {
  void *data = nullptr;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;

  /// The product of the dimensions (1 for a rank-0 tensor).
  int64_t numElements() const;
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
};

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

/// Sets the number of threads kernels use when called with `threads = 0`,
/// and the number of OpenBLAS threads (openblas_set_num_threads). Values
/// below 1 mean 1. The initial setting is OpenMP's default
/// (`OMP_NUM_THREADS`, else the number of cores).
void setNumThreads(int threads);
int getNumThreads();

// Every kernel takes `int threads`: 0 means the global setting above. Loops
// over fewer than about 32K elements run on the calling thread. Contractions
// set the (process-wide) OpenBLAS thread count to their `threads` when it
// differs from the last one set.

//===----------------------------------------------------------------------===//
// Kinds: the dist dialect's enums (same cases, same order, checked by
// runtime/core/KernelKinds.h)
//===----------------------------------------------------------------------===//

enum class UnaryKind {
  Relu,
  GeluErf,
  GeluTanh,
  Tanh,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Erf,
  Neg,
  Reciprocal,
  Sigmoid,
  Abs,
  Floor,
  Ceil,
  Sin,
  Cos,
  Silu,
  Not,
  LeakyRelu,
  Elu,
  Selu,
  Celu,
  Softplus,
  Softsign,
  HardSigmoid,
  HardSwish,
  Mish,
  ThresholdedRelu,
  Tan,
  Asin,
  Acos,
  Atan,
  Sinh,
  Cosh,
  Asinh,
  Acosh,
  Atanh,
  Round,
};
/// The parameters of the unary kinds that take them.
struct UnaryParams {
  float alpha = 0.0f;
  float beta = 0.0f;
};
/// `Mod` is the remainder of the floored quotient (the divisor's sign, as
/// Python's %), `FMod` that of the truncated one (the dividend's sign, as
/// C's fmod and %).
enum class BinaryKind {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Max,
  Min,
  And,
  Or,
  Xor,
  Mod,
  FMod
};
enum class CompareKind { Eq, Ne, Lt, Le, Gt, Ge };
enum class ReduceKind { Sum, Mean, Max, Min, Prod };
enum class PoolKind { Max, Avg };
enum class ScatterReduction { None, Add, Mul, Max, Min };

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

/// `out[..., m, n] = sum_k lhs[..., m, k] * rhs[..., k, n] (+ bias)`. Both
/// operands have rank >= 2 and one float element type; their batch
/// dimensions broadcast (NumPy) to those of `out`; `bias` (may be null)
/// broadcasts to `out`. f32 runs on cblas_sgemm, f64 on cblas_dgemm, f16 and
/// bf16 are converted to f32 and rounded once into `out`.
void matmul(const Tensor &lhs, const Tensor &rhs, const Tensor *bias,
            Tensor &out, int threads = 0);

/// ONNX Gemm: `out = alpha * op(a) * op(b) + beta * c`, with `op(x)` the
/// transpose of the 2-D `x` when `transA` / `transB` is set. `c` (may be
/// null) broadcasts unidirectionally to `out` (M x N): a scalar, `N`, `1 x N`,
/// `M x 1` or `M x N`; `beta = 0` ignores `c` (as BLAS and ONNX Runtime do,
/// so an infinite or NaN `c` does not turn into NaN).
void gemm(const Tensor &a, const Tensor &b, const Tensor *c, Tensor &out,
          bool transA, bool transB, float alpha = 1.0f, float beta = 1.0f,
          int threads = 0);

/// 2-D convolution: `input` N x C x H x W, `filter` O x C/group x KH x KW,
/// `bias` (may be null) O, `out` N x O x OH x OW. `pads` is [top, left,
/// bottom, right]; `strides` and `dilations` are [h, w]. im2col + GEMM.
void conv2d(const Tensor &input, const Tensor &filter, const Tensor *bias,
            Tensor &out, const std::array<int64_t, 2> &strides,
            const std::array<int64_t, 4> &pads,
            const std::array<int64_t, 2> &dilations, int64_t group,
            int threads = 0);

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// 2-D pooling of `in` (N x C x H x W) into `out` (N x C x OH x OW) with ONNX
/// semantics: window `(oh, ow)` covers rows `oh * strides[0] - pads[0] +
/// kh * dilations[0]` for `kh < kernel[0]` (columns alike). Max ignores
/// padding; average divides by the number of window positions inside the
/// input, or, with `countIncludePad`, inside the padded input. `out`'s shape
/// already reflects `ceilMode` (the compiler computed it); windows that run
/// past the padded input in ceil mode are clipped to it.
void pool2d(PoolKind kind, const Tensor &in, Tensor &out,
            const std::array<int64_t, 2> &kernel,
            const std::array<int64_t, 2> &strides,
            const std::array<int64_t, 4> &pads,
            const std::array<int64_t, 2> &dilations, bool ceilMode,
            bool countIncludePad, int threads = 0);

/// Max or average over H and W: `in` N x C x H x W, `out` N x C x 1 x 1.
void globalPool(PoolKind kind, const Tensor &in, Tensor &out, int threads = 0);

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// `out = kind(in)`, same shape and element type. `not` takes i1; `relu`,
/// `neg` and `abs` take any number type (integers wrap: `neg` and `abs` of
/// the minimum stay the minimum); every other kind takes floats.
/// `gelu_erf(x) = 0.5 x (1 + erf(x / sqrt 2))`, `gelu_tanh(x) = 0.5 x (1 +
/// tanh(0.7978845608 (x + 0.044715 x^3)))`, `silu(x) = x sigmoid(x)`.
/// The activations with parameters read them from `params` (dist.unary's
/// description gives every formula): `leaky_relu`, `elu`, `celu`,
/// `thresholded_relu` alpha; `selu` alpha and gamma (`beta`);
/// `hard_sigmoid` alpha and beta.
void unary(UnaryKind kind, const Tensor &in, Tensor &out,
           UnaryParams params = {}, int threads = 0);

/// `out = lhs kind rhs` with NumPy broadcasting; operands and `out` have one
/// element type. `and`, `or`, `xor` take i1, the other kinds numbers.
/// Integers: `add`, `sub`, `mul`, `pow` wrap; `div` truncates toward zero,
/// `x / 0` is 0 and `INT_MIN / -1` wraps to `INT_MIN`; `pow` with a negative
/// exponent is `1 / b^-e` truncated (1 for b = 1, +-1 for b = -1, 0 for other
/// b, including b = 0). Floats: `max` and `min` propagate NaN.
void binary(BinaryKind kind, const Tensor &lhs, const Tensor &rhs, Tensor &out,
            int threads = 0);

/// `out = lhs kind rhs` (i1) with NumPy broadcasting. Integers compare
/// signed, i1 as false < true, floats by IEEE rules (a NaN is unequal to
/// everything: `ne` is true, every other kind false).
void compare(CompareKind kind, const Tensor &lhs, const Tensor &rhs,
             Tensor &out, int threads = 0);

/// `out = cond ? onTrue : onFalse` (ONNX Where), all three broadcast to
/// `out`; `cond` is i1.
void select(const Tensor &cond, const Tensor &onTrue, const Tensor &onFalse,
            Tensor &out, int threads = 0);

/// Converts every element of `in` to `out`'s element type (same shape):
/// integers sign-extend or truncate; into floats, round to nearest even
/// (once, also from f64 and i64 into f16 / bf16); floats into integers
/// truncate toward zero, saturating at the type's limits, NaN giving 0;
/// anything into i1 is `x != 0` (NaN is true); i1 into anything is 0 / 1.
void cast(const Tensor &in, Tensor &out, int threads = 0);

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

/// Reduces `in` over `axes` (sorted, distinct) into `out`; with `keepDims`
/// the reduced dimensions are size 1 in `out`, otherwise absent (the data
/// layout is the same). Floats accumulate sums and products in f64 (f32, f16,
/// bf16) and round once; NaN propagates through max and min. Integers: sum and
/// prod wrap, mean truncates the exact mean toward zero. Over nothing: sum 0,
/// prod 1, max -inf / INT_MIN, min +inf / INT_MAX, mean NaN (floats) or 0.
void reduce(ReduceKind kind, const Tensor &in, Tensor &out,
            const std::vector<int64_t> &axes, bool keepDims, int threads = 0);

/// `exp(x - max) / sum(exp(x - max))` along `axis`, or with `log` its
/// logarithm `x - max - log(sum)`. Float types; sums accumulate in f64.
void softmax(const Tensor &in, Tensor &out, int64_t axis, bool log,
             int threads = 0);

/// Normalizes `in` over dimensions `axis ..< rank`:
/// `(x - mean) / sqrt(var + epsilon) * scale + bias`, with `scale` and
/// `bias` (may be null) of the normalized shape (or broadcastable to it).
/// Mean and (biased) variance are two-pass, in f64.
void layerNorm(const Tensor &in, const Tensor &scale, const Tensor *bias,
               Tensor &out, int64_t axis, float epsilon, int threads = 0);

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

/// `out = data[:axis] ++ indices ++ data[axis+1:]`: every index (i32 or i64)
/// selects a slice of `data` along `axis`; an index in [-n, 0) selects
/// slice `index + n` (ONNX). An index outside [-n, n) is an error (ONNX):
/// returns the position (in `indices`, row-major) of the first such index,
/// its slice of `out` zeros; returns -1 when every index is in range.
int64_t gather(const Tensor &data, const Tensor &indices, Tensor &out,
               int64_t axis, int threads = 0);

/// A device's block of a table split by rows along a gather's axis: its
/// first row and the whole table's row count.
struct RowBlock {
  int64_t first = 0, rows = 0;
};

/// The masked lookup of a table split by rows (Megatron-LM's
/// vocabulary-parallel embedding): `data` holds the rows `[block.first,
/// block.first + data.shape[axis])` of a table of `block.rows` rows, and
/// indices are the whole table's (negative ones count from its end). An
/// index in the block selects its slice; one outside the block gives zeros;
/// one outside [-rows, rows) is an error: returns the position of the first
/// such index (its slice zeros), or -1.
int64_t gatherBlock(const Tensor &data, const Tensor &indices,
                    const RowBlock &block, Tensor &out, int64_t axis,
                    int threads = 0);

/// The integer (i32 or i64) at row-major position `i` of `indices`.
int64_t indexAt(const Tensor &indices, int64_t i);

/// `out` dimension `i` is `in` dimension `perm[i]`.
void transpose(const Tensor &in, Tensor &out, const std::vector<int64_t> &perm,
               int threads = 0);

/// `out[i...] = in[offsets + i * strides]` elementwise over `out`'s shape.
void slice(const Tensor &in, Tensor &out, const std::vector<int64_t> &offsets,
           const std::vector<int64_t> &strides, int threads = 0);

/// Concatenates `inputs` along `axis` into `out`.
void concat(const std::vector<const Tensor *> &inputs, Tensor &out,
            int64_t axis, int threads = 0);

/// Splits `in` along `axis` into consecutive pieces `outs` (their sizes
/// along `axis` add up to `in`'s).
void split(const Tensor &in, const std::vector<Tensor *> &outs, int64_t axis,
           int threads = 0);

/// Broadcasts `in` to `out`'s shape by NumPy rules (ONNX Expand).
void broadcast(const Tensor &in, Tensor &out, int threads = 0);

/// Copies the elements of `in` into `out` (same element count and type):
/// `dist.reshape` when it cannot alias its input.
void copy(const Tensor &in, Tensor &out, int threads = 0);

//===----------------------------------------------------------------------===//
// Indexing by element: top-k, element gathers and scatters
// (ElementIndexing.cpp)
//===----------------------------------------------------------------------===//

/// ONNX TopK along `axis`: `values` and `indices` (i64) have `in`'s shape
/// with `k` along `axis`; they hold the `k` largest elements (smallest with
/// `smallest`) from the largest (smallest) down and their positions. Equal
/// elements come in the order of their positions; a NaN is larger than
/// every number. Any number type but i1.
void topK(const Tensor &in, Tensor &values, Tensor &indices, int64_t axis,
          int64_t k, bool smallest, int threads = 0);

/// ONNX GatherElements: `out[p] = data[p with p[axis] = indices[p]]` over
/// the positions `p` of `indices` (i32 or i64, `data`'s rank; `out` has its
/// shape). A negative index counts from the end of `axis`. Returns the
/// position (row-major in `indices`) of the first index outside [-n, n),
/// whose element is zero, or -1.
int64_t gatherElements(const Tensor &data, const Tensor &indices, Tensor &out,
                       int64_t axis, int threads = 0);

/// ONNX ScatterElements: `out` is `data`, then every update (row-major
/// order) lands at its position with `p[axis] = indices[p]`, replacing the
/// element (`None`) or combined with it. `indices` and `updates` have one
/// shape. Returns the position of the first index outside [-n, n) (whose
/// update is dropped), or -1.
int64_t scatterElements(ScatterReduction reduction, const Tensor &data,
                        const Tensor &indices, const Tensor &updates,
                        Tensor &out, int64_t axis, int threads = 0);

/// ONNX ScatterND: `indices` is I... x k; each row names the first k
/// coordinates of a slice of `data`, and `updates` (I... ++ data[k:]) the
/// slices, applied row by row in order. Negative coordinates count from the
/// end. Returns the first row (row-major over I...) with a coordinate
/// outside [-n, n) (which is dropped), or -1.
int64_t scatterND(ScatterReduction reduction, const Tensor &data,
                  const Tensor &indices, const Tensor &updates, Tensor &out,
                  int threads = 0);

//===----------------------------------------------------------------------===//
// Training: losses and optimizer updates (Training.cpp)
//===----------------------------------------------------------------------===//

/// Softmax cross-entropy with mean reduction, as
/// `torch.nn.functional.cross_entropy(logits.reshape(-1, C),
/// labels.reshape(-1))`: `logits` is B... x C (float), `labels` B... (i32 or
/// i64), `out` a rank-0 tensor of the logits' type. Each position's
/// `logsumexp` subtracts the row's maximum first; sums run in f64. A label
/// outside [0, C) is an error: returns the position (in `labels`, row-major)
/// of the first such label, which then adds nothing to the loss; returns -1
/// when every label is in range.
int64_t crossEntropy(const Tensor &logits, const Tensor &labels, Tensor &out,
                     int threads = 0);

/// `out = (softmax(logits) - onehot(labels)) * scale` over the last (class)
/// dimension; `scale` is a rank-0 tensor of the logits' type, `out` has the
/// logits' shape. A label outside [0, C) is reported as by crossEntropy
/// (its row of `out` is zeros).
int64_t crossEntropyGrad(const Tensor &logits, const Tensor &labels,
                         const Tensor &scale, Tensor &out, int threads = 0);

/// A device's block of the classes of a cross-entropy whose classes are
/// split across devices: the block starts at class `first` of `classes`.
struct ClassBlock {
  int64_t first = 0, classes = 0;
};

/// `dist.cross_entropy_stats`: `logits` is B... x c, this device's classes
/// `block`, `max` (B..., the logits' type) every position's maximum over
/// all classes. Writes per position the sum of exp(logit - max) over the
/// block into `sumExp`, and into `target` the label's logit when the label
/// falls in the block, else 0 (both B...). Returns the first position whose
/// label lies outside [0, block.classes), or -1.
int64_t crossEntropyStats(const Tensor &logits, const Tensor &labels,
                          const Tensor &max, ClassBlock block, Tensor &sumExp,
                          Tensor &target, int threads = 0);

/// crossEntropyGrad on a block of the classes: the softmax is
/// exp(logit - max) / sumExp with the positions' statistics over all
/// classes, and the one-hot is 1 only where the label falls in `block`.
int64_t crossEntropyGradBlock(const Tensor &logits, const Tensor &labels,
                              const Tensor &scale, const Tensor &max,
                              const Tensor &sumExp, ClassBlock block,
                              Tensor &out, int threads = 0);

/// `out = mean((pred - target)^2)` (rank-0), as `F.mse_loss`; the sum runs
/// in f64.
void mse(const Tensor &pred, const Tensor &target, Tensor &out,
         int threads = 0);

/// Hyper-parameters of one AdamW update.
struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0;
};

/// One `torch.optim.AdamW` update (amsgrad off), in the order and compute
/// type torch uses on the CPU: `p *= 1 - lr wd; m += (1 - b1) (g - m); v =
/// b2 v + (1 - b2) g g; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t)
/// + eps)`. `step` (t) is a rank-0 float tensor; the others share one float
/// type and shape. Outputs may alias the matching inputs.
void adamw(const Tensor &param, const Tensor &grad, const Tensor &m,
           const Tensor &v, const Tensor &step, Tensor &newParam, Tensor &newM,
           Tensor &newV, const AdamWOptions &options, int threads = 0);

/// Hyper-parameters of one SGD update.
struct SgdOptions {
  double lr = 0.01, momentum = 0.0, weightDecay = 0.0;
};

/// One `torch.optim.SGD` update (dampening 0, no nesterov): `g += wd p`;
/// with momentum `buf = momentum buf + g` (`buffer` and `newBuffer` not
/// null) and `p -= lr buf`, else `p -= lr g`. Outputs may alias inputs.
void sgd(const Tensor &param, const Tensor &grad, const Tensor *buffer,
         Tensor &newParam, Tensor *newBuffer, const SgdOptions &options,
         int threads = 0);

//===----------------------------------------------------------------------===//
// Backward ops (the adjoints that dist-autodiff's gradient rules emit)
//===----------------------------------------------------------------------===//

/// Scatter-add, the gradient of `gather` for its table: `out` (the table's
/// shape) starts at zero and every slice of `grad` (shape `out[:axis] ++
/// indices ++ out[axis+1:]`) is added to the slice of `out` that its index
/// selects (negative indices count from the end). Returns the position of
/// the first index outside [-n, n) (which adds nothing), or -1.
int64_t gatherGrad(const Tensor &grad, const Tensor &indices, Tensor &out,
                   int64_t axis, int threads = 0);

/// `gatherGrad` into a device's block of a table split by rows: `out` holds
/// the rows `[block.first, block.first + out.shape[axis])` of a table of
/// `block.rows` rows; only the indices (the whole table's) that fall in the
/// block add anything. Returns the position of the first index outside
/// [-rows, rows), or -1.
int64_t gatherGradBlock(const Tensor &grad, const Tensor &indices,
                        const RowBlock &block, Tensor &out, int64_t axis,
                        int threads = 0);

/// The gradient of `conv2d` for its input: `grad` N x O x OH x OW, `filter`
/// O x C/group x KH x KW, `out` N x C x H x W; window attributes as conv2d.
void conv2dGradInput(const Tensor &grad, const Tensor &filter, Tensor &out,
                     const std::array<int64_t, 2> &strides,
                     const std::array<int64_t, 4> &pads,
                     const std::array<int64_t, 2> &dilations, int64_t group,
                     int threads = 0);

/// The gradient of `conv2d` for its filter: `input` N x C x H x W, `grad`
/// N x O x OH x OW, `out` O x C/group x KH x KW.
void conv2dGradFilter(const Tensor &input, const Tensor &grad, Tensor &out,
                      const std::array<int64_t, 2> &strides,
                      const std::array<int64_t, 4> &pads,
                      const std::array<int64_t, 2> &dilations, int64_t group,
                      int threads = 0);

/// The gradient of `pool2d` for its input: `grad` has the pooling's result
/// shape, `input` and `out` the input's. Average spreads each window's
/// gradient over the positions it averaged (the forward's count); max gives
/// it to the window's first position holding the maximum.
void pool2dGrad(PoolKind kind, const Tensor &grad, const Tensor &input,
                Tensor &out, const std::array<int64_t, 2> &kernel,
                const std::array<int64_t, 2> &strides,
                const std::array<int64_t, 4> &pads,
                const std::array<int64_t, 2> &dilations, bool countIncludePad,
                int threads = 0);

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CPU_KERNELS_H
