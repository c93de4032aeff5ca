//===- ElementIndexing.cpp - top_k, gather_elements, scatters -------------===//
//
// Kernels that index single elements (or, for scatter_nd, slices) through a
// tensor of indices. Indices are checked before anything is written: an
// index out of range is reported to the caller (its element is zero, its
// update dropped), never read or written through. Scatters apply their
// updates in row-major order on one thread, so that repeated indices give
// the same result every run.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

using namespace distopt::rt;
using namespace distopt::rt::detail;

/// The position along a dim of `size` that `index` selects (negative
/// indices count from the end), or -1 outside [-size, size).
static int64_t normalizeIndex(int64_t index, int64_t size) {
  if (index < -size || index >= size)
    return -1;
  return index < 0 ? index + size : index;
}

template <typename C> static bool isNaN(C value) {
  if constexpr (std::is_floating_point_v<C>)
    return std::isnan(value);
  else
    return false;
}

//===----------------------------------------------------------------------===//
// top_k
//===----------------------------------------------------------------------===//

void distopt::rt::topK(const Tensor &in, Tensor &values, Tensor &indices,
                       int64_t axis, int64_t k, bool smallest, int threads) {
  assert(axis >= 0 && axis < in.rank() && k >= 0 && k <= in.shape[axis] &&
         values.dtype == in.dtype && indices.dtype == DType::I64 &&
         "top_k: k along axis, i64 indices");
  int64_t outer = product(in.shape.data(), in.shape.data() + axis);
  int64_t n = in.shape[axis];
  int64_t inner =
      product(in.shape.data() + axis + 1, in.shape.data() + in.shape.size());
  dispatchAnyType(in.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    using C = ComputeT<S>;
    const S *src = dataAs<const S>(in);
    S *dstValues = dataAs<S>(values);
    int64_t *dstIndices = dataAs<int64_t>(indices);
    int64_t work = n * std::max<int64_t>(1, int64_t(std::log2(double(k) + 1)));
    parallelFor(outer * inner, work, threads, [&](int64_t begin, int64_t end) {
      std::vector<C> line(n);
      std::vector<int64_t> order(n);
      for (int64_t item = begin; item < end; ++item) {
        int64_t o = item / inner, i = item % inner;
        for (int64_t j = 0; j < n; ++j)
          line[j] = ElementTraits<S>::load(src[(o * n + j) * inner + i]);
        std::iota(order.begin(), order.end(), int64_t{0});
        // A strict order: NaN above every number, then by value, then by
        // position (the earlier first).
        auto before = [&](int64_t a, int64_t b) {
          C x = line[a], y = line[b];
          bool nanX = isNaN(x), nanY = isNaN(y);
          if (nanX != nanY)
            return smallest ? nanY : nanX;
          if (!nanX && x != y)
            return smallest ? x < y : x > y;
          return a < b;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          before);
        for (int64_t j = 0; j < k; ++j) {
          int64_t at = (o * k + j) * inner + i;
          dstValues[at] = src[(o * n + order[j]) * inner + i];
          dstIndices[at] = order[j];
        }
      }
    });
  });
}

//===----------------------------------------------------------------------===//
// gather_elements and scatter_elements
//===----------------------------------------------------------------------===//

/// The first position of `indices` whose value lies outside [-size, size),
/// or -1.
static int64_t firstIndexOutside(const Tensor &indices, int64_t size) {
  for (int64_t i = 0, e = indices.numElements(); i < e; ++i)
    if (normalizeIndex(indexAt(indices, i), size) < 0)
      return i;
  return -1;
}

/// The element of a tensor of `strides` that position `position` of
/// `indices` addresses along `axis` (`row` is the normalized index there).
static int64_t elementOffset(int64_t position, const Tensor &indices,
                             const std::vector<int64_t> &strides, int64_t axis,
                             int64_t row) {
  int64_t offset = 0;
  for (int64_t d = indices.rank() - 1; d >= 0; --d) {
    int64_t coordinate = position % indices.shape[d];
    position /= indices.shape[d];
    offset += (d == axis ? row : coordinate) * strides[d];
  }
  return offset;
}

int64_t distopt::rt::gatherElements(const Tensor &data, const Tensor &indices,
                                    Tensor &out, int64_t axis, int threads) {
  assert(data.dtype == out.dtype && axis >= 0 && axis < data.rank() &&
         indices.rank() == data.rank() && out.shape == indices.shape &&
         "gather_elements: out has the indices' shape");
  int64_t size = data.shape[axis];
  int64_t firstBad = firstIndexOutside(indices, size);
  std::vector<int64_t> strides = rowMajorStrides(data.shape);
  dispatchWidth(byteWidth(data.dtype), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *src = dataAs<const T>(data);
    T *dst = dataAs<T>(out);
    parallelFor(
        indices.numElements(), indices.rank(), threads,
        [&](int64_t begin, int64_t end) {
          for (int64_t p = begin; p < end; ++p) {
            int64_t row = normalizeIndex(indexAt(indices, p), size);
            dst[p] = row < 0
                         ? T{0}
                         : src[elementOffset(p, indices, strides, axis, row)];
          }
        });
  });
  return firstBad;
}

/// `target` combined with `update` by `reduction`, in the compute type
/// (integers wrap).
template <typename S>
static S combine(ScatterReduction reduction, S target, S update) {
  using C = ComputeT<S>;
  C a = ElementTraits<S>::load(target), b = ElementTraits<S>::load(update);
  C result = b;
  switch (reduction) {
  case ScatterReduction::None:
    return update;
  case ScatterReduction::Add:
    if constexpr (kIsSignedInt<C>)
      result = C(std::make_unsigned_t<C>(a) + std::make_unsigned_t<C>(b));
    else
      result = a + b;
    break;
  case ScatterReduction::Mul:
    if constexpr (kIsSignedInt<C>)
      result = C(std::make_unsigned_t<C>(a) * std::make_unsigned_t<C>(b));
    else
      result = a * b;
    break;
  case ScatterReduction::Max:
    result = maxWithNaN(a, b);
    break;
  case ScatterReduction::Min:
    result = minWithNaN(a, b);
    break;
  }
  return ElementTraits<S>::store(result);
}

/// Copies `data` into `out` unless they share a buffer.
static void copyData(const Tensor &data, Tensor &out, int threads) {
  if (out.data != data.data)
    copy(data, out, threads);
}

int64_t distopt::rt::scatterElements(ScatterReduction reduction,
                                     const Tensor &data, const Tensor &indices,
                                     const Tensor &updates, Tensor &out,
                                     int64_t axis, int threads) {
  assert(data.dtype == out.dtype && data.dtype == updates.dtype &&
         out.shape == data.shape && updates.shape == indices.shape &&
         axis >= 0 && axis < data.rank() && indices.rank() == data.rank() &&
         "scatter_elements: updates of the indices' shape");
  copyData(data, out, threads);
  int64_t size = data.shape[axis];
  int64_t firstBad = firstIndexOutside(indices, size);
  std::vector<int64_t> strides = rowMajorStrides(data.shape);
  dispatchAnyType(data.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S *src = dataAs<const S>(updates);
    S *dst = dataAs<S>(out);
    for (int64_t p = 0, e = indices.numElements(); p < e; ++p) {
      int64_t row = normalizeIndex(indexAt(indices, p), size);
      if (row < 0)
        continue;
      S &target = dst[elementOffset(p, indices, strides, axis, row)];
      target = combine(reduction, target, src[p]);
    }
  });
  return firstBad;
}

//===----------------------------------------------------------------------===//
// scatter_nd
//===----------------------------------------------------------------------===//

int64_t distopt::rt::scatterND(ScatterReduction reduction, const Tensor &data,
                               const Tensor &indices, const Tensor &updates,
                               Tensor &out, int threads) {
  assert(indices.rank() >= 1 && data.dtype == out.dtype &&
         data.dtype == updates.dtype && out.shape == data.shape &&
         "scatter_nd: updates of the data's type");
  copyData(data, out, threads);
  int64_t k = indices.shape.back();
  assert(k >= 1 && k <= data.rank() && "scatter_nd: k coordinates per row");
  int64_t rows = indices.numElements() / std::max<int64_t>(k, 1);
  int64_t slice =
      product(data.shape.data() + k, data.shape.data() + data.shape.size());
  // Strides of the indexed dims, in slices.
  std::vector<int64_t> strides(k, 1);
  for (int64_t d = k - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * data.shape[d + 1];
  int64_t firstBad = -1;
  dispatchAnyType(data.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S *src = dataAs<const S>(updates);
    S *dst = dataAs<S>(out);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t offset = 0;
      bool inRange = true;
      for (int64_t d = 0; d < k && inRange; ++d) {
        int64_t c = normalizeIndex(indexAt(indices, r * k + d), data.shape[d]);
        inRange = c >= 0;
        offset += c * strides[d];
      }
      if (!inRange) {
        if (firstBad < 0)
          firstBad = r;
        continue;
      }
      S *target = dst + offset * slice;
      const S *update = src + r * slice;
      for (int64_t i = 0; i < slice; ++i)
        target[i] = combine(reduction, target[i], update[i]);
    }
  });
  return firstBad;
}
