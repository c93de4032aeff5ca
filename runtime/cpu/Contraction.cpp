//===- Contraction.cpp - matmul, gemm and conv2d on OpenBLAS --------------===//
//
// The contractions of the dist dialect as calls to cblas_sgemm /
// cblas_dgemm. f16 and bf16 operands are converted to f32, multiplied, and
// rounded once into the result. A bias is written into the result first and
// the GEMM accumulates onto it (beta = 1).
//
// Batched matmuls whose right operand is shared by every batch (a linear
// layer on activations of any rank) are one GEMM with the batch folded into
// M. Other batches are one GEMM each; small ones run in parallel over the
// batch with single-threaded BLAS, large ones one after another with
// threaded BLAS.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"

#include <cblas.h>

#include <limits>

using namespace distopt::rt;
using namespace distopt::rt::detail;

/// Below this many multiply-adds per GEMM, a batch of GEMMs runs in parallel
/// over the batch rather than one threaded GEMM after another.
static constexpr int64_t kSmallGemm = int64_t(1) << 21;

namespace {
/// Row-major cblas GEMM by element type.
template <typename T> struct Blas;
template <> struct Blas<float> {
  static void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float beta, float *c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta,
                c, static_cast<blasint>(ldc));
  }
};
template <> struct Blas<double> {
  static void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                   double alpha, const double *a, int64_t lda, const double *b,
                   int64_t ldb, double beta, double *c, int64_t ldc) {
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta,
                c, static_cast<blasint>(ldc));
  }
};
} // namespace

/// True when `n` fits the BLAS integer type.
[[maybe_unused]] static bool fitsBlas(int64_t n) {
  return n <= std::numeric_limits<blasint>::max();
}

/// A float copy of a float tensor of any float type (f16 / bf16 operands of
/// contractions are multiplied in f32).
static std::vector<float> toFloats(const Tensor &t, int threads) {
  std::vector<float> values(t.numElements());
  loadFloats(t, values.data(), t.numElements(), threads);
  return values;
}

//===----------------------------------------------------------------------===//
// MatMul
//===----------------------------------------------------------------------===//

/// matmul on buffers of the compute type `T` (float or double).
template <typename T>
static void matmulCompute(const T *lhs, const std::vector<int64_t> &lhsShape,
                          const T *rhs, const std::vector<int64_t> &rhsShape,
                          const T *bias, const std::vector<int64_t> *biasShape,
                          T *out, const std::vector<int64_t> &outShape,
                          int threads) {
  size_t rank = outShape.size();
  int64_t m = outShape[rank - 2], n = outShape[rank - 1];
  int64_t k = lhsShape.back();
  assert(rhsShape[rhsShape.size() - 2] == k &&
         lhsShape[lhsShape.size() - 2] == m && rhsShape.back() == n &&
         "matmul shapes do not match");
  assert(fitsBlas(m) && fitsBlas(n) && fitsBlas(k) && "matrix too large");
  std::vector<int64_t> outBatch(outShape.begin(), outShape.end() - 2);
  int64_t batch = product(outBatch);
  if (batch == 0 || m == 0 || n == 0)
    return;
  if (bias)
    broadcastInto(sizeof(T), bias, *biasShape, out, outShape, threads);
  else if (k == 0)
    std::fill(out, out + batch * m * n, T(0));
  if (k == 0)
    return;
  T beta = bias ? T(1) : T(0);

  std::vector<int64_t> lhsBatch(lhsShape.begin(), lhsShape.end() - 2);
  std::vector<int64_t> rhsBatch(rhsShape.begin(), rhsShape.end() - 2);
  // One operand shared by the whole batch and the other not broadcast: the
  // batch folds into M.
  if (product(rhsBatch) == 1 && product(lhsBatch) == batch) {
    assert(fitsBlas(batch * m) && "matrix too large");
    useBlasThreads(threads);
    Blas<T>::gemm(false, false, batch * m, n, k, T(1), lhs, k, rhs, n, beta,
                  out, n);
    return;
  }

  // The matrix each batch element reads from either operand.
  std::vector<int64_t> lhsStrides = broadcastStrides(lhsBatch, outBatch);
  std::vector<int64_t> rhsStrides = broadcastStrides(rhsBatch, outBatch);
  std::vector<int64_t> lhsOffsets(batch), rhsOffsets(batch);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t rest = b, l = 0, r = 0;
    for (size_t d = outBatch.size(); d-- > 0;) {
      int64_t index = rest % outBatch[d];
      rest /= outBatch[d];
      l += index * lhsStrides[d];
      r += index * rhsStrides[d];
    }
    lhsOffsets[b] = l * m * k;
    rhsOffsets[b] = r * k * n;
  }
  auto gemmOf = [&](int64_t b) {
    Blas<T>::gemm(false, false, m, n, k, T(1), lhs + lhsOffsets[b], k,
                  rhs + rhsOffsets[b], n, beta, out + b * m * n, n);
  };
  int teams = resolveThreads(threads);
  if (batch > 1 && teams > 1 && m * n * k < kSmallGemm) {
    useBlasThreads(1);
    parallelFor(batch, m * n * k, teams, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        gemmOf(b);
    });
    return;
  }
  useBlasThreads(threads);
  for (int64_t b = 0; b < batch; ++b)
    gemmOf(b);
}

void distopt::rt::matmul(const Tensor &lhs, const Tensor &rhs,
                         const Tensor *bias, Tensor &out, int threads) {
  assert(lhs.rank() >= 2 && rhs.rank() >= 2 && out.rank() >= 2 &&
         "matmul expects operands of rank >= 2");
  assert(lhs.dtype == out.dtype && rhs.dtype == out.dtype &&
         (!bias || bias->dtype == out.dtype) && "matmul expects one type");
  const std::vector<int64_t> *biasShape = bias ? &bias->shape : nullptr;
  switch (out.dtype) {
  case DType::F32:
    return matmulCompute(dataAs<const float>(lhs), lhs.shape,
                         dataAs<const float>(rhs), rhs.shape,
                         bias ? dataAs<const float>(*bias) : nullptr, biasShape,
                         dataAs<float>(out), out.shape, threads);
  case DType::F64:
    return matmulCompute(dataAs<const double>(lhs), lhs.shape,
                         dataAs<const double>(rhs), rhs.shape,
                         bias ? dataAs<const double>(*bias) : nullptr,
                         biasShape, dataAs<double>(out), out.shape, threads);
  case DType::F16:
  case DType::BF16: {
    std::vector<float> l = toFloats(lhs, threads), r = toFloats(rhs, threads);
    std::vector<float> b =
        bias ? toFloats(*bias, threads) : std::vector<float>();
    std::vector<float> result(out.numElements());
    matmulCompute(l.data(), lhs.shape, r.data(), rhs.shape,
                  bias ? b.data() : nullptr, biasShape, result.data(),
                  out.shape, threads);
    return storeHalfFloats(result.data(), out, out.numElements(), threads);
  }
  default:
    assert(false && "matmul expects float elements");
  }
}

//===----------------------------------------------------------------------===//
// Gemm
//===----------------------------------------------------------------------===//

template <typename T>
static void gemmCompute(const T *a, const std::vector<int64_t> &aShape,
                        const T *b, const std::vector<int64_t> &bShape,
                        const T *c, const std::vector<int64_t> *cShape, T *out,
                        const std::vector<int64_t> &outShape, bool transA,
                        bool transB, T alpha, T beta, int threads) {
  int64_t m = outShape[0], n = outShape[1];
  int64_t k = transA ? aShape[0] : aShape[1];
  assert((transA ? aShape[1] : aShape[0]) == m &&
         (transB ? bShape[1] : bShape[0]) == k &&
         (transB ? bShape[0] : bShape[1]) == n && "gemm shapes do not match");
  assert(fitsBlas(m) && fitsBlas(n) && fitsBlas(k) && "matrix too large");
  if (m == 0 || n == 0)
    return;
  int64_t count = m * n;
  // beta = 0 ignores c, as BLAS and ONNX Runtime do.
  bool addC = c && beta != T(0);
  if (addC) {
    // beta * c first; the GEMM accumulates onto it.
    broadcastInto(sizeof(T), c, *cShape, out, outShape, threads);
    if (beta != T(1))
      parallelFor(count, 1, threads, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          out[i] *= beta;
      });
  } else if (k == 0) {
    std::fill(out, out + count, T(0));
  }
  if (k == 0)
    return;
  useBlasThreads(threads);
  Blas<T>::gemm(transA, transB, m, n, k, alpha, a, aShape[1], b, bShape[1],
                addC ? T(1) : T(0), out, n);
}

void distopt::rt::gemm(const Tensor &a, const Tensor &b, const Tensor *c,
                       Tensor &out, bool transA, bool transB, float alpha,
                       float beta, int threads) {
  assert(a.rank() == 2 && b.rank() == 2 && out.rank() == 2 &&
         "gemm expects 2-D operands");
  assert(a.dtype == out.dtype && b.dtype == out.dtype &&
         (!c || c->dtype == out.dtype) && "gemm expects one type");
  const std::vector<int64_t> *cShape = c ? &c->shape : nullptr;
  switch (out.dtype) {
  case DType::F32:
    return gemmCompute(dataAs<const float>(a), a.shape, dataAs<const float>(b),
                       b.shape, c ? dataAs<const float>(*c) : nullptr, cShape,
                       dataAs<float>(out), out.shape, transA, transB, alpha,
                       beta, threads);
  case DType::F64:
    return gemmCompute(
        dataAs<const double>(a), a.shape, dataAs<const double>(b), b.shape,
        c ? dataAs<const double>(*c) : nullptr, cShape, dataAs<double>(out),
        out.shape, transA, transB, static_cast<double>(alpha),
        static_cast<double>(beta), threads);
  case DType::F16:
  case DType::BF16: {
    std::vector<float> x = toFloats(a, threads), y = toFloats(b, threads);
    std::vector<float> z = c ? toFloats(*c, threads) : std::vector<float>();
    std::vector<float> result(out.numElements());
    gemmCompute(x.data(), a.shape, y.data(), b.shape, c ? z.data() : nullptr,
                cShape, result.data(), out.shape, transA, transB, alpha, beta,
                threads);
    return storeHalfFloats(result.data(), out, out.numElements(), threads);
  }
  default:
    assert(false && "gemm expects float elements");
  }
}

//===----------------------------------------------------------------------===//
// Conv2D
//===----------------------------------------------------------------------===//

namespace {
/// Sizes of one convolution.
struct ConvGeometry {
  int64_t batch, channels, height, width;
  int64_t outChannels, groupChannels, kernelH, kernelW;
  int64_t outH, outW, group;
  std::array<int64_t, 2> strides, dilations;
  std::array<int64_t, 4> pads;

  int64_t colRows() const { return groupChannels * kernelH * kernelW; }
  int64_t colCols() const { return outH * outW; }
  /// A 1x1 convolution with stride 1 and no padding multiplies the input
  /// planes as they are.
  bool isPointwise() const {
    return kernelH == 1 && kernelW == 1 && strides[0] == 1 && strides[1] == 1 &&
           pads[0] == 0 && pads[1] == 0 && pads[2] == 0 && pads[3] == 0 &&
           outH == height && outW == width;
  }
};
} // namespace

/// The range [lo, hi) of output columns `o` whose input column `o * stride +
/// offset` lies in [0, size), clipped to [0, count).
static std::pair<int64_t, int64_t> validRange(int64_t offset, int64_t stride,
                                              int64_t size, int64_t count) {
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  lo = std::min(lo, count);
  hi = std::min(std::max(hi, lo), count);
  return {lo, hi};
}

/// Unfolds the `groupChannels` input planes at `x` into the column matrix
/// `col` (colRows x colCols): row (c, kh, kw), column (oh, ow) holds the
/// input element under that filter tap, or 0 in the padding.
template <typename T>
static void im2col(const T *x, T *col, const ConvGeometry &g, int threads) {
  int64_t rows = g.colRows(), cols = g.colCols();
  parallelFor(rows, cols, threads, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t c = r / (g.kernelH * g.kernelW);
      int64_t kh = r / g.kernelW % g.kernelH, kw = r % g.kernelW;
      int64_t colOffset = kw * g.dilations[1] - g.pads[1];
      auto [lo, hi] = validRange(colOffset, g.strides[1], g.width, g.outW);
      for (int64_t oh = 0; oh < g.outH; ++oh) {
        T *dst = col + r * cols + oh * g.outW;
        int64_t ih = oh * g.strides[0] - g.pads[0] + kh * g.dilations[0];
        if (ih < 0 || ih >= g.height) {
          std::fill(dst, dst + g.outW, T(0));
          continue;
        }
        const T *src = x + (c * g.height + ih) * g.width;
        std::fill(dst, dst + lo, T(0));
        if (g.strides[1] == 1) {
          std::copy(src + lo + colOffset, src + hi + colOffset, dst + lo);
        } else {
          for (int64_t ow = lo; ow < hi; ++ow)
            dst[ow] = src[ow * g.strides[1] + colOffset];
        }
        std::fill(dst + hi, dst + g.outW, T(0));
      }
    }
  });
}

template <typename T>
static void conv2dCompute(const T *input, const T *filter, const T *bias,
                          T *out, const ConvGeometry &g, int threads) {
  int64_t rows = g.colRows(), cols = g.colCols();
  int64_t groupOut = g.outChannels / g.group;
  assert(fitsBlas(rows) && fitsBlas(cols) && "convolution too large");
  bool pointwise = g.isPointwise();
  std::vector<T> col(pointwise ? 0 : rows * cols);
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t grp = 0; grp < g.group; ++grp) {
      const T *x =
          input + (n * g.channels + grp * g.groupChannels) * g.height * g.width;
      T *y = out + (n * g.outChannels + grp * groupOut) * cols;
      if (bias) {
        for (int64_t o = 0; o < groupOut; ++o)
          std::fill(y + o * cols, y + (o + 1) * cols, bias[grp * groupOut + o]);
      } else if (rows == 0) {
        std::fill(y, y + groupOut * cols, T(0));
      }
      if (rows == 0 || cols == 0 || groupOut == 0)
        continue;
      const T *columns = x;
      if (!pointwise) {
        im2col(x, col.data(), g, threads);
        columns = col.data();
      }
      useBlasThreads(threads);
      Blas<T>::gemm(false, false, groupOut, cols, rows, T(1),
                    filter + grp * groupOut * rows, rows, columns, cols,
                    bias ? T(1) : T(0), y, cols);
    }
  }
}

void distopt::rt::conv2d(const Tensor &input, const Tensor &filter,
                         const Tensor *bias, Tensor &out,
                         const std::array<int64_t, 2> &strides,
                         const std::array<int64_t, 4> &pads,
                         const std::array<int64_t, 2> &dilations, int64_t group,
                         int threads) {
  assert(input.rank() == 4 && filter.rank() == 4 && out.rank() == 4 &&
         "conv2d expects 4-D input, filter and result");
  assert(input.dtype == out.dtype && filter.dtype == out.dtype &&
         (!bias || bias->dtype == out.dtype) && "conv2d expects one type");
  ConvGeometry g;
  g.batch = input.shape[0];
  g.channels = input.shape[1];
  g.height = input.shape[2];
  g.width = input.shape[3];
  g.outChannels = filter.shape[0];
  g.groupChannels = filter.shape[1];
  g.kernelH = filter.shape[2];
  g.kernelW = filter.shape[3];
  g.outH = out.shape[2];
  g.outW = out.shape[3];
  g.group = group;
  g.strides = strides;
  g.dilations = dilations;
  g.pads = pads;
  assert(group > 0 && g.channels == g.groupChannels * group &&
         g.outChannels % group == 0 && out.shape[1] == g.outChannels &&
         out.shape[0] == g.batch && "conv2d channels do not match");
  switch (out.dtype) {
  case DType::F32:
    return conv2dCompute(dataAs<const float>(input),
                         dataAs<const float>(filter),
                         bias ? dataAs<const float>(*bias) : nullptr,
                         dataAs<float>(out), g, threads);
  case DType::F64:
    return conv2dCompute(dataAs<const double>(input),
                         dataAs<const double>(filter),
                         bias ? dataAs<const double>(*bias) : nullptr,
                         dataAs<double>(out), g, threads);
  case DType::F16:
  case DType::BF16: {
    std::vector<float> x = toFloats(input, threads);
    std::vector<float> w = toFloats(filter, threads);
    std::vector<float> b =
        bias ? toFloats(*bias, threads) : std::vector<float>();
    std::vector<float> result(out.numElements());
    conv2dCompute(x.data(), w.data(), bias ? b.data() : nullptr, result.data(),
                  g, threads);
    return storeHalfFloats(result.data(), out, out.numElements(), threads);
  }
  default:
    assert(false && "conv2d expects float elements");
  }
}
