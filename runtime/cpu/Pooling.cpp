//===- Pooling.cpp - pool2d and global_pool -------------------------------===//
//
// Max and average pooling in NCHW with ONNX semantics, one (n, c) plane per
// parallel task. f16 and bf16 are computed in f32; averages accumulate in
// f64.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"

#include <cmath>
#include <limits>

using namespace distopt::rt;
using namespace distopt::rt::detail;

/// Pools one `height` x `width` plane into `outH` x `outW`.
template <typename S>
static void poolPlane(const S *plane, S *result, int64_t height, int64_t width,
                      int64_t outH, int64_t outW, const PoolWindow &window) {
  using C = ComputeT<S>;
  const std::array<int64_t, 2> &kernel = window.kernel;
  const std::array<int64_t, 2> &strides = window.strides;
  const std::array<int64_t, 2> &dilations = window.dilations;
  const std::array<int64_t, 4> &pads = window.pads;
  for (int64_t oh = 0; oh < outH; ++oh) {
    int64_t h0 = oh * strides[0] - pads[0];
    for (int64_t ow = 0; ow < outW; ++ow) {
      int64_t w0 = ow * strides[1] - pads[1];
      C maximum = -std::numeric_limits<C>::infinity();
      double sum = 0.0;
      int64_t valid = 0, padded = 0;
      for (int64_t kh = 0; kh < kernel[0]; ++kh) {
        int64_t h = h0 + kh * dilations[0];
        // Taps past the padded input (ceil mode) count for nothing.
        if (h < -pads[0] || h >= height + pads[2])
          continue;
        for (int64_t kw = 0; kw < kernel[1]; ++kw) {
          int64_t w = w0 + kw * dilations[1];
          if (w < -pads[1] || w >= width + pads[3])
            continue;
          ++padded;
          if (h < 0 || h >= height || w < 0 || w >= width)
            continue;
          ++valid;
          C v = ElementTraits<S>::load(plane[h * width + w]);
          maximum = maxWithNaN(maximum, v);
          sum += static_cast<double>(v);
        }
      }
      if (window.kind == PoolKind::Max) {
        result[oh * outW + ow] = ElementTraits<S>::store(maximum);
      } else {
        int64_t count = window.countIncludePad ? padded : valid;
        result[oh * outW + ow] =
            storeDouble<S>(count ? sum / static_cast<double>(count) : 0.0);
      }
    }
  }
}

template <typename S>
static void pool2dTyped(const Tensor &in, Tensor &out, const PoolWindow &window,
                        int threads) {
  int64_t planes = in.shape[0] * in.shape[1];
  int64_t height = in.shape[2], width = in.shape[3];
  int64_t outH = out.shape[2], outW = out.shape[3];
  const S *x = dataAs<const S>(in);
  S *y = dataAs<S>(out);
  int64_t work = outH * outW * window.kernel[0] * window.kernel[1];
  parallelFor(planes, work, threads, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p)
      poolPlane(x + p * height * width, y + p * outH * outW, height, width,
                outH, outW, window);
  });
}

void distopt::rt::pool2d(PoolKind kind, const Tensor &in, Tensor &out,
                         const std::array<int64_t, 2> &kernel,
                         const std::array<int64_t, 2> &strides,
                         const std::array<int64_t, 4> &pads,
                         const std::array<int64_t, 2> &dilations, bool ceilMode,
                         bool countIncludePad, int threads) {
  assert(in.rank() == 4 && out.rank() == 4 && in.dtype == out.dtype &&
         in.shape[0] == out.shape[0] && in.shape[1] == out.shape[1] &&
         "pool2d expects 4-D input and result of one type");
#ifndef NDEBUG
  // The result size the compiler derived (DistOps.cpp, windowOutputSize).
  for (int d = 0; d < 2; ++d) {
    int64_t span = (kernel[d] - 1) * dilations[d] + 1;
    int64_t avail = in.shape[2 + d] + pads[d] + pads[d + 2] - span;
    int64_t size = ceilMode ? (avail + strides[d] - 1) / strides[d] + 1
                            : avail / strides[d] + 1;
    if (ceilMode && (size - 1) * strides[d] >= in.shape[2 + d] + pads[d])
      --size;
    assert(out.shape[2 + d] == size && "pool2d result size is not ONNX's");
  }
#else
  (void)ceilMode;
#endif
  PoolWindow window{kind, kernel, strides, dilations, pads, countIncludePad};
  dispatchFloatType(in.dtype, [&](auto tag) {
    pool2dTyped<typename decltype(tag)::type>(in, out, window, threads);
  });
}

void distopt::rt::globalPool(PoolKind kind, const Tensor &in, Tensor &out,
                             int threads) {
  assert(in.rank() == 4 && in.dtype == out.dtype &&
         out.numElements() == in.shape[0] * in.shape[1] &&
         "global_pool expects N x C x H x W into N x C x 1 x 1");
  int64_t planes = in.shape[0] * in.shape[1];
  int64_t size = in.shape[2] * in.shape[3];
  dispatchFloatType(in.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    using C = ComputeT<S>;
    const S *x = dataAs<const S>(in);
    S *y = dataAs<S>(out);
    parallelFor(planes, size, threads, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const S *plane = x + p * size;
        if (kind == PoolKind::Max) {
          C value = -std::numeric_limits<C>::infinity();
          for (int64_t i = 0; i < size; ++i)
            value = maxWithNaN(value, ElementTraits<S>::load(plane[i]));
          y[p] = ElementTraits<S>::store(value);
        } else {
          double sum = 0.0;
#pragma omp simd reduction(+ : sum)
          for (int64_t i = 0; i < size; ++i)
            sum += static_cast<double>(ElementTraits<S>::load(plane[i]));
          y[p] = storeDouble<S>(sum / static_cast<double>(size));
        }
      }
    });
  });
}
