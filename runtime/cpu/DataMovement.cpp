//===- DataMovement.cpp - gather, transpose, slice, concat, split, ... ----===//
//
// Data movement copies bit patterns, so every kernel here works for every
// element type and depends only on the element width. All but gather and
// copy are strided copies (KernelSupport.h): the source and destination
// strides say where each element comes from and goes to.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"

#include <cstring>

using namespace distopt::rt;
using namespace distopt::rt::detail;

int64_t distopt::rt::indexAt(const Tensor &indices, int64_t i) {
  if (indices.dtype == DType::I32)
    return dataAs<const int32_t>(indices)[i];
  return dataAs<const int64_t>(indices)[i];
}

/// The row of a table of `rows` rows that `index` selects (negative
/// indices count from the end, ONNX), or -1 outside [-rows, rows).
static int64_t normalizeIndex(int64_t index, int64_t rows) {
  if (index < -rows || index >= rows)
    return -1;
  return index < 0 ? index + rows : index;
}

/// `gather` from `data`, the rows `[block.first, block.first + n)` of a
/// table of `block.rows` rows along `axis` (the whole table when `first` is
/// 0 and `rows` is n): slices of rows outside the block are zeros.
static int64_t gatherRows(const Tensor &data, const Tensor &indices,
                          const RowBlock &block, Tensor &out, int64_t axis,
                          int threads) {
  assert(data.dtype == out.dtype && axis >= 0 && axis < data.rank() &&
         out.rank() == data.rank() - 1 + indices.rank() &&
         "gather result shape is data[:axis] ++ indices ++ data[axis+1:]");
  assert((indices.dtype == DType::I32 || indices.dtype == DType::I64) &&
         "gather expects i32 or i64 indices");
  int64_t outer = product(data.shape.data(), data.shape.data() + axis);
  int64_t axisSize = data.shape[axis];
  int64_t inner = product(data.shape.data() + axis + 1,
                          data.shape.data() + data.shape.size());
  int64_t count = indices.numElements();
  size_t sliceBytes = static_cast<size_t>(inner) * byteWidth(data.dtype);
  const char *src = static_cast<const char *>(data.data);
  char *dst = static_cast<char *>(out.data);
  // The first index outside [-rows, rows), found before any copy (indices
  // are few next to the slices they select).
  int64_t firstBad = -1;
  for (int64_t i = 0; i < count && firstBad < 0; ++i)
    if (normalizeIndex(indexAt(indices, i), block.rows) < 0)
      firstBad = i;
  parallelFor(outer * count, inner, threads, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t o = item / count;
      int64_t row = normalizeIndex(indexAt(indices, item % count), block.rows);
      int64_t local = row - block.first;
      char *target = dst + item * sliceBytes;
      if (row < 0 || local < 0 || local >= axisSize) {
        std::memset(target, 0, sliceBytes);
        continue;
      }
      std::memcpy(target, src + (o * axisSize + local) * sliceBytes,
                  sliceBytes);
    }
  });
  return firstBad;
}

int64_t distopt::rt::gather(const Tensor &data, const Tensor &indices,
                            Tensor &out, int64_t axis, int threads) {
  assert(axis >= 0 && axis < data.rank() && "gather axis");
  return gatherRows(data, indices, RowBlock{0, data.shape[axis]}, out, axis,
                    threads);
}

int64_t distopt::rt::gatherBlock(const Tensor &data, const Tensor &indices,
                                 const RowBlock &block, Tensor &out,
                                 int64_t axis, int threads) {
  assert(axis >= 0 && axis < data.rank() && block.first >= 0 &&
         block.first + data.shape[axis] <= block.rows &&
         "gather block within the table");
  return gatherRows(data, indices, block, out, axis, threads);
}

void distopt::rt::transpose(const Tensor &in, Tensor &out,
                            const std::vector<int64_t> &perm, int threads) {
  assert(in.dtype == out.dtype && perm.size() == in.shape.size() &&
         out.shape.size() == in.shape.size() && "transpose keeps the rank");
  std::vector<int64_t> inStrides = rowMajorStrides(in.shape);
  std::vector<int64_t> srcStrides;
  for (size_t i = 0; i < perm.size(); ++i) {
    assert(out.shape[i] == in.shape[perm[i]] && "transpose result shape");
    srcStrides.push_back(inStrides[perm[i]]);
  }
  stridedCopy(byteWidth(in.dtype), in.data, srcStrides, out.data,
              rowMajorStrides(out.shape), out.shape, threads);
}

void distopt::rt::slice(const Tensor &in, Tensor &out,
                        const std::vector<int64_t> &offsets,
                        const std::vector<int64_t> &strides, int threads) {
  assert(in.dtype == out.dtype && offsets.size() == in.shape.size() &&
         strides.size() == in.shape.size() &&
         out.shape.size() == in.shape.size() && "slice keeps the rank");
  std::vector<int64_t> inStrides = rowMajorStrides(in.shape);
  std::vector<int64_t> srcStrides;
  int64_t base = 0;
  for (size_t d = 0; d < in.shape.size(); ++d) {
    assert((out.shape[d] == 0 ||
            offsets[d] + (out.shape[d] - 1) * strides[d] < in.shape[d]) &&
           "slice reads past the input");
    base += offsets[d] * inStrides[d];
    srcStrides.push_back(strides[d] * inStrides[d]);
  }
  if (out.numElements() == 0)
    return;
  size_t width = byteWidth(in.dtype);
  stridedCopy(width, static_cast<const char *>(in.data) + base * width,
              srcStrides, out.data, rowMajorStrides(out.shape), out.shape,
              threads);
}

void distopt::rt::concat(const std::vector<const Tensor *> &inputs, Tensor &out,
                         int64_t axis, int threads) {
  assert(axis >= 0 && axis < out.rank() && "concat axis out of range");
  size_t width = byteWidth(out.dtype);
  std::vector<int64_t> outStrides = rowMajorStrides(out.shape);
  int64_t offset = 0;
  for (const Tensor *input : inputs) {
    assert(input->dtype == out.dtype && input->rank() == out.rank() &&
           "concat inputs have the result's type and rank");
    stridedCopy(width, input->data, rowMajorStrides(input->shape),
                static_cast<char *>(out.data) +
                    offset * outStrides[axis] * static_cast<int64_t>(width),
                outStrides, input->shape, threads);
    offset += input->shape[axis];
  }
  assert(offset == out.shape[axis] && "concat sizes do not add up");
}

void distopt::rt::split(const Tensor &in, const std::vector<Tensor *> &outs,
                        int64_t axis, int threads) {
  assert(axis >= 0 && axis < in.rank() && "split axis out of range");
  size_t width = byteWidth(in.dtype);
  std::vector<int64_t> inStrides = rowMajorStrides(in.shape);
  int64_t offset = 0;
  for (Tensor *piece : outs) {
    assert(piece->dtype == in.dtype && piece->rank() == in.rank() &&
           "split results have the input's type and rank");
    stridedCopy(width,
                static_cast<const char *>(in.data) +
                    offset * inStrides[axis] * static_cast<int64_t>(width),
                inStrides, piece->data, rowMajorStrides(piece->shape),
                piece->shape, threads);
    offset += piece->shape[axis];
  }
  assert(offset == in.shape[axis] && "split sizes do not add up");
}

void distopt::rt::broadcast(const Tensor &in, Tensor &out, int threads) {
  assert(in.dtype == out.dtype && "broadcast keeps the element type");
  broadcastInto(byteWidth(in.dtype), in.data, in.shape, out.data, out.shape,
                threads);
}

void distopt::rt::copy(const Tensor &in, Tensor &out, int threads) {
  assert(in.dtype == out.dtype && in.numElements() == out.numElements() &&
         "copy keeps the element type and count");
  if (in.data == out.data)
    return;
  size_t total = static_cast<size_t>(out.numElements()) * byteWidth(out.dtype);
  constexpr size_t kBlockBytes = size_t(1) << 20;
  int64_t blocks =
      static_cast<int64_t>((total + kBlockBytes - 1) / kBlockBytes);
  const char *src = static_cast<const char *>(in.data);
  char *dst = static_cast<char *>(out.data);
  // Parallel only for several megabytes: one thread nearly saturates memory
  // bandwidth below that.
  parallelFor(
      blocks, kParallelThreshold / 4, threads, [&](int64_t begin, int64_t end) {
        size_t first = static_cast<size_t>(begin) * kBlockBytes;
        size_t last = std::min(total, static_cast<size_t>(end) * kBlockBytes);
        std::memcpy(dst + first, src + first, last - first);
      });
}
