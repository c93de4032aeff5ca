//===- KernelSupport.h - shared machinery of the CPU kernels ----*- C++ -*-===//
//
// Private to runtime/cpu: element type traits and dispatch, the parallel loop
// over OpenMP threads, NumPy broadcasting as runs of contiguous elements,
// strided copies (transpose, slice, broadcast, concat, split) and the BLAS
// thread setting.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CPU_KERNELSUPPORT_H
#define DISTOPT_RUNTIME_CPU_KERNELSUPPORT_H

#include "runtime/cpu/Float16.h"
#include "runtime/cpu/Kernels.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace distopt::rt::detail {

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

/// Storage of an f16 element.
struct Half {
  uint16_t bits;
};
/// Storage of a bf16 element.
struct BFloat16 {
  uint16_t bits;
};
/// Storage of an i1 element: 0 or 1. (uint8_t is used for nothing else, so
/// that overloads tell i1 from i8.)
using Bool = uint8_t;

/// How an element is stored and computed with. `Compute` is the type
/// arithmetic happens in; `kDirect` says storage and compute types are the
/// same, so that loops can work on the buffer itself.
template <typename S> struct ElementTraits {
  using Compute = S;
  static constexpr bool kDirect = true;
  static Compute load(S value) { return value; }
  static S store(Compute value) { return value; }
};
template <> struct ElementTraits<Half> {
  using Compute = float;
  static constexpr bool kDirect = false;
  static float load(Half value) { return halfToFloat(value.bits); }
  static Half store(float value) { return Half{floatToHalf(value)}; }
};
template <> struct ElementTraits<BFloat16> {
  using Compute = float;
  static constexpr bool kDirect = false;
  static float load(BFloat16 value) { return bfloat16ToFloat(value.bits); }
  static BFloat16 store(float value) {
    return BFloat16{floatToBFloat16(value)};
  }
};

template <typename S> using ComputeT = typename ElementTraits<S>::Compute;

/// `value` rounded once into storage type `S` (a float type).
template <typename S> inline S storeDouble(double value) {
  if constexpr (std::is_same_v<S, Half>)
    return Half{doubleToHalf(value)};
  else if constexpr (std::is_same_v<S, BFloat16>)
    return BFloat16{doubleToBFloat16(value)};
  else
    return static_cast<S>(value);
}

/// `acc` and `value` combined by a max (min) in which a NaN wins, as the
/// folders' reductions and NumPy do.
template <typename C> inline C maxWithNaN(C acc, C value) {
  return (value > acc || value != value) ? value : acc;
}
template <typename C> inline C minWithNaN(C acc, C value) {
  return (value < acc || value != value) ? value : acc;
}

template <typename S>
constexpr bool kIsFloatStorage =
    std::is_floating_point_v<S> || std::is_same_v<S, Half> ||
    std::is_same_v<S, BFloat16>;
template <typename S>
constexpr bool kIsSignedInt = std::is_integral_v<S> &&std::is_signed_v<S>;

/// Names a type for generic lambdas: `[](auto tag) { using T = typename
/// decltype(tag)::type; }`.
template <typename T> struct TypeTag { using type = T; };

/// Calls `fn(TypeTag<S>{})` with the storage type of `dtype`.
template <typename Fn> void dispatchAnyType(DType dtype, Fn &&fn) {
  switch (dtype) {
  case DType::F32:
    return fn(TypeTag<float>{});
  case DType::F64:
    return fn(TypeTag<double>{});
  case DType::F16:
    return fn(TypeTag<Half>{});
  case DType::BF16:
    return fn(TypeTag<BFloat16>{});
  case DType::I1:
    return fn(TypeTag<Bool>{});
  case DType::I8:
    return fn(TypeTag<int8_t>{});
  case DType::I16:
    return fn(TypeTag<int16_t>{});
  case DType::I32:
    return fn(TypeTag<int32_t>{});
  case DType::I64:
    return fn(TypeTag<int64_t>{});
  }
}

/// Calls `fn(TypeTag<S>{})` for the float types only.
template <typename Fn> void dispatchFloatType(DType dtype, Fn &&fn) {
  switch (dtype) {
  case DType::F32:
    return fn(TypeTag<float>{});
  case DType::F64:
    return fn(TypeTag<double>{});
  case DType::F16:
    return fn(TypeTag<Half>{});
  case DType::BF16:
    return fn(TypeTag<BFloat16>{});
  default:
    assert(false && "expected a float element type");
  }
}

/// Calls `fn(TypeTag<T>{})` with an unsigned type of `bytes` bytes: data
/// movement copies bit patterns and cares only about the width.
template <typename Fn> void dispatchWidth(size_t bytes, Fn &&fn) {
  switch (bytes) {
  case 1:
    return fn(TypeTag<uint8_t>{});
  case 2:
    return fn(TypeTag<uint16_t>{});
  case 4:
    return fn(TypeTag<uint32_t>{});
  case 8:
    return fn(TypeTag<uint64_t>{});
  default:
    assert(false && "unexpected element width");
  }
}

template <typename T> T *dataAs(const Tensor &t) {
  return static_cast<T *>(t.data);
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

int64_t product(const std::vector<int64_t> &dims);
int64_t product(const int64_t *begin, const int64_t *end);

/// Row-major strides (in elements) of `shape`.
std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape);

/// Strides with which a tensor of `shape` is read when it broadcasts to
/// `target` (NumPy: dimensions it lacks and size-1 dimensions that stretch
/// have stride 0).
std::vector<int64_t> broadcastStrides(const std::vector<int64_t> &shape,
                                      const std::vector<int64_t> &target);

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

/// Loops over fewer elements than this run on the calling thread.
constexpr int64_t kParallelThreshold = 32768;

/// `threads`, or the global setting when it is 0.
int resolveThreads(int threads);

/// Sets the OpenBLAS thread count to `threads` unless it already is.
void useBlasThreads(int threads);

/// Runs `fn(begin, end)` over consecutive ranges covering [0, count), split
/// statically over up to `threads` OpenMP threads when `count * workPerItem`
/// reaches kParallelThreshold; otherwise `fn(0, count)` on this thread.
template <typename Fn>
void parallelFor(int64_t count, int64_t workPerItem, int threads, Fn &&fn) {
  if (count <= 0)
    return;
  int64_t teams = std::min<int64_t>(resolveThreads(threads), count);
  if (teams <= 1 ||
      count * std::max<int64_t>(workPerItem, 1) < kParallelThreshold) {
    fn(int64_t(0), count);
    return;
  }
#pragma omp parallel num_threads(static_cast <int>(teams))
  {
    int64_t id = omp_get_thread_num(), n = omp_get_num_threads();
    int64_t begin = count * id / n, end = count * (id + 1) / n;
    if (begin < end)
      fn(begin, end);
  }
}

//===----------------------------------------------------------------------===//
// Broadcasting
//===----------------------------------------------------------------------===//

/// The iteration space of an elementwise op whose K operands broadcast to a
/// contiguous output, as rows of contiguous output elements. Dimensions of
/// size 1 are dropped and adjacent dimensions that every operand reads
/// contiguously (or not at all) are merged, so the innermost run is as long
/// as possible and each operand reads it with stride 1 or 0.
template <int K> class BroadcastPlan {
public:
  BroadcastPlan(const std::vector<int64_t> &outShape,
                const std::array<const std::vector<int64_t> *, K> &shapes) {
    std::array<std::vector<int64_t>, K> strides;
    for (int k = 0; k < K; ++k)
      strides[k] = broadcastStrides(*shapes[k], outShape);
    // Collapse from the innermost dimension outwards.
    std::vector<int64_t> dims;
    std::vector<std::array<int64_t, K>> dimStrides;
    for (int64_t d = static_cast<int64_t>(outShape.size()) - 1; d >= 0; --d) {
      int64_t size = outShape[d];
      if (size == 1)
        continue;
      std::array<int64_t, K> s;
      for (int k = 0; k < K; ++k)
        s[k] = strides[k][d];
      if (!dims.empty()) {
        bool mergeable = true;
        for (int k = 0; k < K; ++k)
          mergeable &= s[k] == dimStrides.back()[k] * dims.back();
        if (mergeable) {
          dims.back() *= size;
          continue;
        }
      }
      dims.push_back(size);
      dimStrides.push_back(s);
    }
    if (dims.empty()) {
      dims.push_back(1);
      dimStrides.push_back({});
      for (int k = 0; k < K; ++k)
        dimStrides.back()[k] = 1;
    }
    inner = dims.front();
    innerStrides = dimStrides.front();
    for (int k = 0; k < K; ++k)
      assert((innerStrides[k] == 0 || innerStrides[k] == 1) &&
             "innermost run read with a stride other than 0 or 1");
    // Outer dimensions, outermost first.
    for (size_t i = dims.size(); i-- > 1;) {
      outerShape.push_back(dims[i]);
      outerStrides.push_back(dimStrides[i]);
    }
    rows = product(outerShape);
    if (product(outShape) == 0)
      rows = inner = 0;
  }

  /// Calls `fn(offsets, innerStrides, outOffset, count)` for runs of at most
  /// kRunLength consecutive output elements: operand k's elements are
  /// `offsets[k] + i * innerStrides[k]`, the output's `outOffset + i`, for
  /// `i < count`. Runs are spread over threads.
  template <typename Fn> void run(int threads, Fn &&fn) const {
    if (rows == 0 || inner == 0)
      return;
    int64_t runsPerRow = (inner + kRunLength - 1) / kRunLength;
    int64_t runLength = std::min(inner, kRunLength);
    parallelFor(rows * runsPerRow, runLength, threads,
                [&](int64_t begin, int64_t end) {
                  std::vector<int64_t> index(outerShape.size());
                  std::array<int64_t, K> rowOffsets{};
                  int64_t currentRow = -1;
                  for (int64_t task = begin; task < end; ++task) {
                    int64_t row = task / runsPerRow;
                    int64_t start = (task % runsPerRow) * kRunLength;
                    if (row != currentRow) {
                      locateRow(row, currentRow, index, rowOffsets);
                      currentRow = row;
                    }
                    std::array<int64_t, K> offsets;
                    for (int k = 0; k < K; ++k)
                      offsets[k] = rowOffsets[k] + start * innerStrides[k];
                    fn(offsets, innerStrides, row * inner + start,
                       std::min(kRunLength, inner - start));
                  }
                });
  }

  static constexpr int64_t kRunLength = 8192;

  std::vector<int64_t> outerShape;
  std::vector<std::array<int64_t, K>> outerStrides;
  std::array<int64_t, K> innerStrides;
  int64_t rows = 0;
  int64_t inner = 0;

private:
  /// Moves `index` / `offsets` to row `row`: one odometer step from the
  /// previous row, or a full unravel.
  void locateRow(int64_t row, int64_t previous, std::vector<int64_t> &index,
                 std::array<int64_t, K> &offsets) const {
    int64_t rank = static_cast<int64_t>(outerShape.size());
    if (previous >= 0 && row == previous + 1) {
      for (int64_t d = rank - 1; d >= 0; --d) {
        for (int k = 0; k < K; ++k)
          offsets[k] += outerStrides[d][k];
        if (++index[d] < outerShape[d])
          return;
        for (int k = 0; k < K; ++k)
          offsets[k] -= outerStrides[d][k] * outerShape[d];
        index[d] = 0;
      }
      return;
    }
    offsets.fill(0);
    int64_t rest = row;
    for (int64_t d = rank - 1; d >= 0; --d) {
      index[d] = rest % outerShape[d];
      rest /= outerShape[d];
      for (int k = 0; k < K; ++k)
        offsets[k] += index[d] * outerStrides[d][k];
    }
  }
};

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

/// Copies a `shape`-shaped set of `elementBytes`-byte elements: element
/// `i...` goes from `src + sum_d i[d] * srcStrides[d]` to `dst + sum_d i[d] *
/// dstStrides[d]` (strides in elements, >= 0). Transposes, slices,
/// broadcasts, concatenations and splits are all such copies.
void stridedCopy(size_t elementBytes, const void *src,
                 const std::vector<int64_t> &srcStrides, void *dst,
                 const std::vector<int64_t> &dstStrides,
                 const std::vector<int64_t> &shape, int threads);

/// Writes `src` (of `srcShape`, broadcast by NumPy rules) into the
/// contiguous `dst` of `dstShape`.
void broadcastInto(size_t elementBytes, const void *src,
                   const std::vector<int64_t> &srcShape, void *dst,
                   const std::vector<int64_t> &dstShape, int threads);

//===----------------------------------------------------------------------===//
// Conversions of whole buffers
//===----------------------------------------------------------------------===//

/// Loads `count` elements of `src` (any float dtype) into `dst` as `C`
/// (float or double).
template <typename C>
void loadFloats(const Tensor &src, C *dst, int64_t count, int threads) {
  dispatchFloatType(src.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S *in = dataAs<const S>(src);
    parallelFor(count, 1, threads, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        dst[i] = static_cast<C>(ElementTraits<S>::load(in[i]));
    });
  });
}

/// Stores `count` floats of `src` into `dst` (f16 or bf16), rounding.
void storeHalfFloats(const float *src, Tensor &dst, int64_t count, int threads);

/// The window of a pool2d, as pool2d (Pooling.cpp) and its gradient
/// (Backward.cpp) walk it.
struct PoolWindow {
  PoolKind kind;
  std::array<int64_t, 2> kernel, strides, dilations;
  std::array<int64_t, 4> pads;
  bool countIncludePad;
};

} // namespace distopt::rt::detail

#endif // DISTOPT_RUNTIME_CPU_KERNELSUPPORT_H
