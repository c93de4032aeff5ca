//===- Backward.cpp - kernels of the backward ops
//--------------------------===//
//
// gather_grad (scatter-add into the table), conv2d_grad_input,
// conv2d_grad_filter and pool2d_grad. Every output element is owned by one
// parallel task and summed in a fixed order, so results do not depend on the
// thread count. Sums accumulate in f64 (f32, f16, bf16 round once), except
// gather_grad on f32 / f64, which adds into the output in index order.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace distopt::rt;
using namespace distopt::rt::detail;

//===----------------------------------------------------------------------===//
// gather_grad
//===----------------------------------------------------------------------===//

/// Adds the rows of `grad` (outer x count x inner) into `acc` (outer x
/// axisSize x inner, zeroed), columns split into chunks across tasks.
/// Only the indices in `block` (rows [block.first, block.first + axisSize)
/// of a table of block.rows rows) add anything.
template <typename S, typename A>
static void scatterAddRows(const S *grad, const Tensor &indices, A *acc,
                           int64_t outer, int64_t count, int64_t axisSize,
                           const RowBlock &block, int64_t inner, int threads) {
  constexpr int64_t kChunk = 256;
  int64_t chunks = (inner + kChunk - 1) / kChunk;
  parallelFor(outer * chunks, count * kChunk, threads,
              [&](int64_t begin, int64_t end) {
                for (int64_t task = begin; task < end; ++task) {
                  int64_t o = task / chunks;
                  int64_t c0 = (task % chunks) * kChunk;
                  int64_t c1 = std::min(inner, c0 + kChunk);
                  for (int64_t i = 0; i < count; ++i) {
                    int64_t index = indexAt(indices, i);
                    if (index < 0)
                      index += block.rows;
                    index -= block.first;
                    if (index < 0 || index >= axisSize)
                      continue;
                    const S *src = grad + (o * count + i) * inner;
                    A *dst = acc + (o * axisSize + index) * inner;
                    for (int64_t c = c0; c < c1; ++c)
                      dst[c] += static_cast<A>(ElementTraits<S>::load(src[c]));
                  }
                }
              });
}

int64_t distopt::rt::gatherGrad(const Tensor &grad, const Tensor &indices,
                                Tensor &out, int64_t axis, int threads) {
  assert(axis >= 0 && axis < out.rank() && "gather_grad axis");
  return gatherGradBlock(grad, indices, RowBlock{0, out.shape[axis]}, out, axis,
                         threads);
}

int64_t distopt::rt::gatherGradBlock(const Tensor &grad, const Tensor &indices,
                                     const RowBlock &block, Tensor &out,
                                     int64_t axis, int threads) {
  assert(grad.dtype == out.dtype && axis >= 0 && axis < out.rank() &&
         grad.rank() == out.rank() - 1 + indices.rank() &&
         "gather_grad: grad has the shape of the gather's result");
  assert(block.first >= 0 && block.first + out.shape[axis] <= block.rows &&
         "gather_grad block within the table");
  int64_t outer = 1, inner = 1, axisSize = out.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= out.shape[d];
  for (int64_t d = axis + 1; d < out.rank(); ++d)
    inner *= out.shape[d];
  int64_t count = indices.numElements();
  int64_t firstBad = -1;
  for (int64_t i = count - 1; i >= 0; --i) {
    int64_t index = indexAt(indices, i);
    if (index < -block.rows || index >= block.rows)
      firstBad = i;
  }
  dispatchFloatType(out.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    S *dst = dataAs<S>(out);
    const S *src = dataAs<const S>(grad);
    int64_t n = out.numElements();
    if constexpr (ElementTraits<S>::kDirect) {
      std::fill(dst, dst + n, S(0));
      scatterAddRows(src, indices, dst, outer, count, axisSize, block, inner,
                     threads);
    } else {
      std::vector<float> acc(n, 0.0f);
      scatterAddRows(src, indices, acc.data(), outer, count, axisSize, block,
                     inner, threads);
      for (int64_t i = 0; i < n; ++i)
        dst[i] = ElementTraits<S>::store(acc[i]);
    }
  });
  return firstBad;
}

//===----------------------------------------------------------------------===//
// conv2d_grad_input, conv2d_grad_filter
//===----------------------------------------------------------------------===//

namespace {
/// The shapes and window of a convolution (N x C x H x W input, O x C/group
/// x KH x KW filter, N x O x OH x OW result).
struct ConvShape {
  int64_t n, c, h, w, o, kh, kw, oh, ow, group;
  std::array<int64_t, 2> strides, dilations;
  std::array<int64_t, 4> pads;
  int64_t cg() const { return c / group; }
  int64_t og() const { return o / group; }
  /// The input row (column) of output row `y` and kernel row `k`.
  int64_t inRow(int64_t y, int64_t k) const {
    return y * strides[0] - pads[0] + k * dilations[0];
  }
  int64_t inCol(int64_t x, int64_t k) const {
    return x * strides[1] - pads[1] + k * dilations[1];
  }
};
} // namespace

static ConvShape convShape(const Tensor &input, const Tensor &filter,
                           const Tensor &result,
                           const std::array<int64_t, 2> &strides,
                           const std::array<int64_t, 4> &pads,
                           const std::array<int64_t, 2> &dilations,
                           int64_t group) {
  return ConvShape{input.shape[0],
                   input.shape[1],
                   input.shape[2],
                   input.shape[3],
                   filter.shape[0],
                   filter.shape[2],
                   filter.shape[3],
                   result.shape[2],
                   result.shape[3],
                   group,
                   strides,
                   dilations,
                   pads};
}

/// One input-gradient plane: (n, channel `ci`) of `dx`.
template <typename S>
static void gradInputPlane(const ConvShape &s, const S *dy, const S *wt, S *dx,
                           int64_t n, int64_t ci, std::vector<double> &acc) {
  int64_t g = ci / s.cg(), c = ci % s.cg();
  std::fill(acc.begin(), acc.end(), 0.0);
  for (int64_t o = g * s.og(); o < (g + 1) * s.og(); ++o) {
    const S *gy = dy + (n * s.o + o) * s.oh * s.ow;
    for (int64_t kh = 0; kh < s.kh; ++kh)
      for (int64_t kw = 0; kw < s.kw; ++kw) {
        double wv = ElementTraits<S>::load(
            wt[((o * s.cg() + c) * s.kh + kh) * s.kw + kw]);
        for (int64_t y = 0; y < s.oh; ++y) {
          int64_t ih = s.inRow(y, kh);
          if (ih < 0 || ih >= s.h)
            continue;
          for (int64_t x = 0; x < s.ow; ++x) {
            int64_t iw = s.inCol(x, kw);
            if (iw >= 0 && iw < s.w)
              acc[ih * s.w + iw] +=
                  wv * ElementTraits<S>::load(gy[y * s.ow + x]);
          }
        }
      }
  }
  S *plane = dx + (n * s.c + ci) * s.h * s.w;
  for (int64_t i = 0; i < s.h * s.w; ++i)
    plane[i] = storeDouble<S>(acc[i]);
}

void distopt::rt::conv2dGradInput(const Tensor &grad, const Tensor &filter,
                                  Tensor &out,
                                  const std::array<int64_t, 2> &strides,
                                  const std::array<int64_t, 4> &pads,
                                  const std::array<int64_t, 2> &dilations,
                                  int64_t group, int threads) {
  assert(grad.rank() == 4 && filter.rank() == 4 && out.rank() == 4 &&
         grad.dtype == out.dtype && filter.dtype == out.dtype &&
         "conv2d_grad_input expects 4-D tensors of one type");
  ConvShape s = convShape(out, filter, grad, strides, pads, dilations, group);
  dispatchFloatType(out.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S *dy = dataAs<const S>(grad), *wt = dataAs<const S>(filter);
    S *dx = dataAs<S>(out);
    int64_t work = s.og() * s.kh * s.kw * s.oh * s.ow;
    parallelFor(s.n * s.c, work, threads, [&](int64_t begin, int64_t end) {
      std::vector<double> acc(s.h * s.w);
      for (int64_t task = begin; task < end; ++task)
        gradInputPlane(s, dy, wt, dx, task / s.c, task % s.c, acc);
    });
  });
}

/// One filter-gradient element: (o, c, kh, kw) of the filter.
template <typename S>
static double gradFilterAt(const ConvShape &s, const S *x, const S *dy,
                           int64_t o, int64_t c, int64_t kh, int64_t kw) {
  int64_t ci = (o / s.og()) * s.cg() + c;
  double sum = 0.0;
  for (int64_t n = 0; n < s.n; ++n) {
    const S *plane = x + (n * s.c + ci) * s.h * s.w;
    const S *gy = dy + (n * s.o + o) * s.oh * s.ow;
    for (int64_t y = 0; y < s.oh; ++y) {
      int64_t ih = s.inRow(y, kh);
      if (ih < 0 || ih >= s.h)
        continue;
      for (int64_t xo = 0; xo < s.ow; ++xo) {
        int64_t iw = s.inCol(xo, kw);
        if (iw >= 0 && iw < s.w)
          sum += static_cast<double>(
                     ElementTraits<S>::load(plane[ih * s.w + iw])) *
                 ElementTraits<S>::load(gy[y * s.ow + xo]);
      }
    }
  }
  return sum;
}

void distopt::rt::conv2dGradFilter(const Tensor &input, const Tensor &grad,
                                   Tensor &out,
                                   const std::array<int64_t, 2> &strides,
                                   const std::array<int64_t, 4> &pads,
                                   const std::array<int64_t, 2> &dilations,
                                   int64_t group, int threads) {
  assert(input.rank() == 4 && grad.rank() == 4 && out.rank() == 4 &&
         input.dtype == out.dtype && grad.dtype == out.dtype &&
         "conv2d_grad_filter expects 4-D tensors of one type");
  ConvShape s = convShape(input, out, grad, strides, pads, dilations, group);
  dispatchFloatType(out.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S *x = dataAs<const S>(input), *dy = dataAs<const S>(grad);
    S *dw = dataAs<S>(out);
    int64_t taps = s.kh * s.kw, perO = s.cg() * taps;
    parallelFor(s.o * perO, s.n * s.oh * s.ow, threads,
                [&](int64_t begin, int64_t end) {
                  for (int64_t i = begin; i < end; ++i) {
                    int64_t o = i / perO, rest = i % perO;
                    int64_t c = rest / taps, kh = (rest % taps) / s.kw,
                            kw = rest % s.kw;
                    dw[i] =
                        storeDouble<S>(gradFilterAt(s, x, dy, o, c, kh, kw));
                  }
                });
  });
}

//===----------------------------------------------------------------------===//
// pool2d_grad
//===----------------------------------------------------------------------===//

/// Adds the gradient of output (y, x) of one plane into `acc`.
template <typename S>
static void poolGradWindow(const PoolWindow &win, const S *plane,
                           int64_t height, int64_t width, int64_t y, int64_t x,
                           double g, std::vector<double> &acc) {
  int64_t h0 = y * win.strides[0] - win.pads[0];
  int64_t w0 = x * win.strides[1] - win.pads[1];
  int64_t valid = 0, padded = 0, best = -1;
  ComputeT<S> maximum = -std::numeric_limits<ComputeT<S>>::infinity();
  for (int64_t kh = 0; kh < win.kernel[0]; ++kh) {
    int64_t h = h0 + kh * win.dilations[0];
    if (h < -win.pads[0] || h >= height + win.pads[2])
      continue;
    for (int64_t kw = 0; kw < win.kernel[1]; ++kw) {
      int64_t w = w0 + kw * win.dilations[1];
      if (w < -win.pads[1] || w >= width + win.pads[3])
        continue;
      ++padded;
      if (h < 0 || h >= height || w < 0 || w >= width)
        continue;
      ++valid;
      ComputeT<S> v = ElementTraits<S>::load(plane[h * width + w]);
      // The first position of the maximum (a NaN counts as the maximum).
      if (best < 0 || v > maximum || (v != v && maximum == maximum)) {
        maximum = v;
        best = h * width + w;
      }
    }
  }
  if (win.kind == PoolKind::Max) {
    if (best >= 0)
      acc[best] += g;
    return;
  }
  int64_t count = win.countIncludePad ? padded : valid;
  if (count == 0)
    return;
  double share = g / static_cast<double>(count);
  for (int64_t kh = 0; kh < win.kernel[0]; ++kh) {
    int64_t h = h0 + kh * win.dilations[0];
    if (h < 0 || h >= height)
      continue;
    for (int64_t kw = 0; kw < win.kernel[1]; ++kw) {
      int64_t w = w0 + kw * win.dilations[1];
      if (w >= 0 && w < width)
        acc[h * width + w] += share;
    }
  }
}

void distopt::rt::pool2dGrad(PoolKind kind, const Tensor &grad,
                             const Tensor &input, Tensor &out,
                             const std::array<int64_t, 2> &kernel,
                             const std::array<int64_t, 2> &strides,
                             const std::array<int64_t, 4> &pads,
                             const std::array<int64_t, 2> &dilations,
                             bool countIncludePad, int threads) {
  assert(grad.rank() == 4 && input.rank() == 4 && out.shape == input.shape &&
         grad.dtype == out.dtype && input.dtype == out.dtype &&
         "pool2d_grad expects 4-D tensors of one type");
  PoolWindow win{kind, kernel, strides, dilations, pads, countIncludePad};
  int64_t planes = input.shape[0] * input.shape[1];
  int64_t height = input.shape[2], width = input.shape[3];
  int64_t outH = grad.shape[2], outW = grad.shape[3];
  dispatchFloatType(out.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S *x = dataAs<const S>(input), *dy = dataAs<const S>(grad);
    S *dx = dataAs<S>(out);
    int64_t work = outH * outW * kernel[0] * kernel[1];
    parallelFor(planes, work, threads, [&](int64_t begin, int64_t end) {
      std::vector<double> acc(height * width);
      for (int64_t p = begin; p < end; ++p) {
        std::fill(acc.begin(), acc.end(), 0.0);
        const S *plane = x + p * height * width;
        for (int64_t y = 0; y < outH; ++y)
          for (int64_t xo = 0; xo < outW; ++xo)
            poolGradWindow(
                win, plane, height, width, y, xo,
                ElementTraits<S>::load(dy[(p * outH + y) * outW + xo]), acc);
        for (int64_t i = 0; i < height * width; ++i)
          dx[p * height * width + i] = storeDouble<S>(acc[i]);
      }
    });
  });
}
