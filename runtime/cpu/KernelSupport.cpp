//===- KernelSupport.cpp - tensors, threads and strided copies ------------===//
//
// The Tensor and thread API of Kernels.h, and the shared machinery of
// KernelSupport.h: shapes, the OpenBLAS thread setting, strided copies.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"

#include <cblas.h>

#include <atomic>
#include <cstring>
#include <utility>

using namespace distopt::rt;
using namespace distopt::rt::detail;

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

bool distopt::rt::isFloat(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F64 || dtype == DType::F16 ||
         dtype == DType::BF16;
}

int64_t Tensor::numElements() const { return product(shape); }

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

/// The global thread setting; 0 until first read or set.
static std::atomic<int> numThreads{0};
/// The OpenBLAS thread count last set through useBlasThreads; 0 when unknown.
static std::atomic<int> blasThreads{0};

void distopt::rt::setNumThreads(int threads) {
  threads = std::max(threads, 1);
  numThreads.store(threads);
  useBlasThreads(threads);
}

int distopt::rt::getNumThreads() {
  int threads = numThreads.load();
  if (threads == 0) {
    threads = std::max(omp_get_max_threads(), 1);
    int expected = 0;
    if (!numThreads.compare_exchange_strong(expected, threads))
      threads = expected;
  }
  return threads;
}

int detail::resolveThreads(int threads) {
  return threads > 0 ? threads : getNumThreads();
}

void detail::useBlasThreads(int threads) {
  threads = resolveThreads(threads);
  if (blasThreads.exchange(threads) != threads)
    openblas_set_num_threads(threads);
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

int64_t detail::product(const int64_t *begin, const int64_t *end) {
  int64_t n = 1;
  for (const int64_t *d = begin; d != end; ++d)
    n *= *d;
  return n;
}

int64_t detail::product(const std::vector<int64_t> &dims) {
  return product(dims.data(), dims.data() + dims.size());
}

std::vector<int64_t>
detail::rowMajorStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

std::vector<int64_t>
detail::broadcastStrides(const std::vector<int64_t> &shape,
                         const std::vector<int64_t> &target) {
  assert(shape.size() <= target.size() && "broadcast to a lower rank");
  std::vector<int64_t> own = rowMajorStrides(shape);
  size_t lead = target.size() - shape.size();
  std::vector<int64_t> strides(target.size(), 0);
  for (size_t d = 0; d < shape.size(); ++d) {
    assert((shape[d] == target[lead + d] || shape[d] == 1) &&
           "shape does not broadcast to the target");
    if (shape[d] == target[lead + d] && shape[d] != 1)
      strides[lead + d] = own[d];
  }
  return strides;
}

//===----------------------------------------------------------------------===//
// Strided copies
//===----------------------------------------------------------------------===//

namespace {
/// One dimension of a strided copy.
struct CopyDim {
  int64_t size;
  int64_t src;
  int64_t dst;
};
} // namespace

/// Side of the square tiles in which a transposing copy moves elements, so
/// that both the rows read and the rows written stay in cache.
static constexpr int64_t kTile = 32;

/// Copies the innermost dimension of one outer position.
template <typename T>
static void copyRun(const T *src, T *dst, const CopyDim &last) {
  if (last.src == 1 && last.dst == 1) {
    std::memcpy(dst, src, last.size * sizeof(T));
  } else if (last.dst == 1 && last.src == 0) {
    std::fill(dst, dst + last.size, src[0]);
  } else {
    for (int64_t i = 0; i < last.size; ++i)
      dst[i * last.dst] = src[i * last.src];
  }
}

/// Copies rows [i0, i1) of `row` x `last` in kTile x kTile tiles.
template <typename T>
static void copyTiles(const T *src, T *dst, const CopyDim &row,
                      const CopyDim &last, int64_t i0, int64_t i1) {
  for (int64_t j0 = 0; j0 < last.size; j0 += kTile) {
    int64_t j1 = std::min(last.size, j0 + kTile);
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = j0; j < j1; ++j)
        dst[i * row.dst + j * last.dst] = src[i * row.src + j * last.src];
  }
}

/// Offsets of outer position `position` (row-major over `dims[0, rank)`).
static std::pair<int64_t, int64_t>
unravelOffsets(int64_t position, const std::vector<CopyDim> &dims,
               size_t rank) {
  int64_t src = 0, dst = 0;
  for (size_t d = rank; d-- > 0;) {
    int64_t index = position % dims[d].size;
    position /= dims[d].size;
    src += index * dims[d].src;
    dst += index * dims[d].dst;
  }
  return {src, dst};
}

template <typename T>
static void stridedCopyTyped(const T *src, T *dst, std::vector<CopyDim> dims,
                             int threads) {
  // A transposing copy (the output runs contiguously where the input does
  // not, and another dimension is the input's contiguous one) is tiled over
  // that pair of dimensions, moved last for the iteration.
  if (dims.size() >= 2 && dims.back().dst == 1 && dims.back().src > 1) {
    for (size_t d = 0; d + 1 < dims.size(); ++d) {
      if (dims[d].src != 1)
        continue;
      CopyDim moved = dims[d];
      dims.erase(dims.begin() + d);
      dims.insert(dims.end() - 1, moved);
      size_t outerRank = dims.size() - 2;
      int64_t outer = 1;
      for (size_t k = 0; k < outerRank; ++k)
        outer *= dims[k].size;
      const CopyDim &row = dims[outerRank], &last = dims[outerRank + 1];
      int64_t rowTiles = (row.size + kTile - 1) / kTile;
      parallelFor(outer * rowTiles, kTile * last.size, threads,
                  [&](int64_t begin, int64_t end) {
                    for (int64_t item = begin; item < end; ++item) {
                      auto [s, t] =
                          unravelOffsets(item / rowTiles, dims, outerRank);
                      int64_t i0 = (item % rowTiles) * kTile;
                      copyTiles(src + s, dst + t, row, last, i0,
                                std::min(row.size, i0 + kTile));
                    }
                  });
      return;
    }
  }
  size_t outerRank = dims.size() - 1;
  int64_t outer = 1;
  for (size_t d = 0; d < outerRank; ++d)
    outer *= dims[d].size;
  parallelFor(
      outer, dims.back().size, threads, [&](int64_t begin, int64_t end) {
        // Unravel `begin`, then step an odometer.
        std::vector<int64_t> index(outerRank, 0);
        int64_t rest = begin;
        for (size_t d = outerRank; d-- > 0;) {
          index[d] = rest % dims[d].size;
          rest /= dims[d].size;
        }
        auto [srcOffset, dstOffset] = unravelOffsets(begin, dims, outerRank);
        for (int64_t i = begin; i < end; ++i) {
          copyRun(src + srcOffset, dst + dstOffset, dims.back());
          for (size_t d = outerRank; d-- > 0;) {
            srcOffset += dims[d].src;
            dstOffset += dims[d].dst;
            if (++index[d] < dims[d].size)
              break;
            srcOffset -= dims[d].src * dims[d].size;
            dstOffset -= dims[d].dst * dims[d].size;
            index[d] = 0;
          }
        }
      });
}

void detail::stridedCopy(size_t elementBytes, const void *src,
                         const std::vector<int64_t> &srcStrides, void *dst,
                         const std::vector<int64_t> &dstStrides,
                         const std::vector<int64_t> &shape, int threads) {
  // Drop size-1 dimensions and merge dimensions that both sides walk
  // contiguously with respect to each other.
  std::vector<CopyDim> dims;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0)
      return;
    if (shape[d] == 1)
      continue;
    CopyDim dim{shape[d], srcStrides[d], dstStrides[d]};
    if (!dims.empty() && dims.back().src == dim.src * dim.size &&
        dims.back().dst == dim.dst * dim.size) {
      dims.back() = {dims.back().size * dim.size, dim.src, dim.dst};
      continue;
    }
    dims.push_back(dim);
  }
  if (dims.empty())
    dims.push_back({1, 1, 1});
  dispatchWidth(elementBytes, [&](auto tag) {
    using T = typename decltype(tag)::type;
    stridedCopyTyped(static_cast<const T *>(src), static_cast<T *>(dst),
                     std::move(dims), threads);
  });
}

void detail::broadcastInto(size_t elementBytes, const void *src,
                           const std::vector<int64_t> &srcShape, void *dst,
                           const std::vector<int64_t> &dstShape, int threads) {
  stridedCopy(elementBytes, src, broadcastStrides(srcShape, dstShape), dst,
              rowMajorStrides(dstShape), dstShape, threads);
}

void detail::storeHalfFloats(const float *src, Tensor &dst, int64_t count,
                             int threads) {
  parallelFor(count, 1, threads, [&](int64_t begin, int64_t end) {
    if (dst.dtype == DType::F16) {
      uint16_t *out = dataAs<uint16_t>(dst);
      for (int64_t i = begin; i < end; ++i)
        out[i] = floatToHalf(src[i]);
    } else {
      assert(dst.dtype == DType::BF16 && "expected f16 or bf16");
      uint16_t *out = dataAs<uint16_t>(dst);
      for (int64_t i = begin; i < end; ++i)
        out[i] = floatToBFloat16(src[i]);
    }
  });
}
