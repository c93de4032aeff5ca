//===- Reduction.cpp - reduce, softmax and layer_norm ---------------------===//
//
// Reductions over sets of axes, softmax along one axis, and layer
// normalization over trailing dimensions.
//
// A reduction merges adjacent dimensions of the same class (reduced or kept)
// and then runs one of two loops: when the innermost dimension is reduced,
// every output element reduces contiguous runs; when it is kept, a chunk of
// consecutive output elements accumulates row after row, which vectorizes
// across the chunk. Float sums and products accumulate in f64, integer sums
// and products wrap in the element type, and the integer mean is the exact
// sum (128-bit) divided by the count, truncated toward zero, as in the
// folders.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"

#include <cmath>
#include <limits>

using namespace distopt::rt;
using namespace distopt::rt::detail;

/// Output elements per chunk of the kept-innermost reduction and of softmax
/// along a non-innermost axis.
static constexpr int64_t kColumns = 256;

namespace {

/// The dimensions of a walk over part of a tensor, and the position in it.
class Odometer {
public:
  Odometer(std::vector<int64_t> sizes, std::vector<int64_t> strides)
      : sizes(std::move(sizes)), strides(std::move(strides)),
        index(this->sizes.size(), 0) {}

  /// The element offset of the current position.
  int64_t offset() const { return current; }
  /// Moves to the next position (wrapping to the first after the last).
  void next() {
    for (size_t d = sizes.size(); d-- > 0;) {
      current += strides[d];
      if (++index[d] < sizes[d])
        return;
      current -= strides[d] * sizes[d];
      index[d] = 0;
    }
  }
  /// The number of positions.
  int64_t count() const { return product(sizes); }
  /// The offset of position `position`, without moving.
  int64_t offsetOf(int64_t position) const {
    int64_t offset = 0;
    for (size_t d = sizes.size(); d-- > 0;) {
      offset += position % sizes[d] * strides[d];
      position /= sizes[d];
    }
    return offset;
  }

private:
  std::vector<int64_t> sizes, strides, index;
  int64_t current = 0;
};

/// One reduction kind over storage type `S`: the accumulator, how elements
/// enter it, how partial accumulators merge, and the final value.
template <typename S, ReduceKind K> struct Reducer {
  using C = ComputeT<S>;
  static constexpr bool kFloat = kIsFloatStorage<S>;
  static constexpr bool kExtremum =
      K == ReduceKind::Max || K == ReduceKind::Min;
  using Acc = std::conditional_t<
      kFloat, std::conditional_t<kExtremum, C, double>,
      std::conditional_t<K == ReduceKind::Mean, __int128, S>>;
  using WideUnsigned = std::conditional_t<
      (sizeof(S) < sizeof(uint32_t)), uint32_t,
      std::make_unsigned_t<std::conditional_t<kFloat, int, S>>>;

  static Acc init() {
    if constexpr (K == ReduceKind::Max) {
      if constexpr (kFloat)
        return -std::numeric_limits<Acc>::infinity();
      else
        return std::numeric_limits<S>::min();
    } else if constexpr (K == ReduceKind::Min) {
      if constexpr (kFloat)
        return std::numeric_limits<Acc>::infinity();
      else
        return std::numeric_limits<S>::max();
    } else if constexpr (K == ReduceKind::Prod) {
      return Acc(1);
    } else {
      return Acc(0);
    }
  }

  static Acc merge(Acc a, Acc b) {
    if constexpr (K == ReduceKind::Max) {
      if constexpr (kFloat)
        return maxWithNaN(a, b);
      else
        return a < b ? b : a;
    } else if constexpr (K == ReduceKind::Min) {
      if constexpr (kFloat)
        return minWithNaN(a, b);
      else
        return b < a ? b : a;
    } else if constexpr (K == ReduceKind::Prod) {
      if constexpr (kFloat)
        return a * b;
      else
        return static_cast<S>(static_cast<WideUnsigned>(a) *
                              static_cast<WideUnsigned>(b));
    } else if constexpr (!kFloat && K == ReduceKind::Sum) {
      return static_cast<S>(static_cast<WideUnsigned>(a) +
                            static_cast<WideUnsigned>(b));
    } else {
      return a + b;
    }
  }

  static Acc add(Acc acc, S element) {
    return merge(acc, static_cast<Acc>(ElementTraits<S>::load(element)));
  }

  static S finish(Acc acc, int64_t count) {
    if constexpr (kFloat) {
      if constexpr (K == ReduceKind::Mean)
        return storeDouble<S>(acc / static_cast<double>(count));
      else if constexpr (kExtremum)
        return ElementTraits<S>::store(acc);
      else
        return storeDouble<S>(acc);
    } else {
      if constexpr (K == ReduceKind::Mean)
        return count ? static_cast<S>(acc / count) : S(0);
      else
        return acc;
    }
  }

  /// The accumulation of `n` contiguous elements.
  static Acc run(const S *p, int64_t n) {
    Acc acc = init();
    if constexpr (kFloat && (K == ReduceKind::Sum || K == ReduceKind::Mean)) {
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < n; ++i)
        acc += static_cast<double>(ElementTraits<S>::load(p[i]));
    } else {
      for (int64_t i = 0; i < n; ++i)
        acc = add(acc, p[i]);
    }
    return acc;
  }
};

/// A reduction with its dimensions merged into runs of one class.
struct ReductionShape {
  std::vector<int64_t> keptSizes, keptStrides;
  std::vector<int64_t> reducedSizes, reducedStrides;
  /// Whether the innermost (merged) dimension is reduced.
  bool innerReduced = false;
};

} // namespace

static ReductionShape mergeReductionDims(const std::vector<int64_t> &shape,
                                         const std::vector<int64_t> &axes) {
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t axis : axes)
    reduced[axis] = true;
  std::vector<int64_t> strides = rowMajorStrides(shape);
  ReductionShape result;
  // Walk dimensions in order; a dimension joins the previous one when both
  // are of one class (row-major strides then always merge).
  int lastClass = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    bool isReduced = reduced[d];
    std::vector<int64_t> &sizes =
        isReduced ? result.reducedSizes : result.keptSizes;
    std::vector<int64_t> &dimStrides =
        isReduced ? result.reducedStrides : result.keptStrides;
    if (lastClass == static_cast<int>(isReduced)) {
      sizes.back() *= shape[d];
      dimStrides.back() = strides[d];
    } else {
      sizes.push_back(shape[d]);
      dimStrides.push_back(strides[d]);
    }
    lastClass = isReduced;
  }
  result.innerReduced = lastClass == 1;
  return result;
}

template <typename S, ReduceKind K>
static void reduceTyped(const Tensor &in, Tensor &out,
                        const std::vector<int64_t> &axes, int threads) {
  using R = Reducer<S, K>;
  using Acc = typename R::Acc;
  const S *x = dataAs<const S>(in);
  S *y = dataAs<S>(out);
  int64_t outCount = out.numElements();
  int64_t reducedCount = 1;
  for (int64_t axis : axes)
    reducedCount *= in.shape[axis];
  if (outCount == 0)
    return;
  if (reducedCount == 0) {
    std::fill(y, y + outCount, R::finish(R::init(), 0));
    return;
  }
  ReductionShape dims = mergeReductionDims(in.shape, axes);

  if (dims.innerReduced) {
    // Every output element reduces contiguous runs of `inner` elements.
    int64_t inner = dims.reducedSizes.back();
    dims.reducedSizes.pop_back();
    dims.reducedStrides.pop_back();
    Odometer kept(dims.keptSizes, dims.keptStrides);
    parallelFor(outCount, reducedCount, threads,
                [&](int64_t begin, int64_t end) {
                  Odometer runs(dims.reducedSizes, dims.reducedStrides);
                  int64_t runCount = runs.count();
                  for (int64_t o = begin; o < end; ++o) {
                    const S *base = x + kept.offsetOf(o);
                    Acc acc = R::init();
                    for (int64_t r = 0; r < runCount; ++r, runs.next())
                      acc = R::merge(acc, R::run(base + runs.offset(), inner));
                    y[o] = R::finish(acc, reducedCount);
                  }
                });
    return;
  }

  // The innermost dimension is kept: chunks of it accumulate over every
  // reduced position.
  int64_t inner = dims.keptSizes.empty() ? 1 : dims.keptSizes.back();
  if (!dims.keptSizes.empty()) {
    dims.keptSizes.pop_back();
    dims.keptStrides.pop_back();
  }
  Odometer blocks(dims.keptSizes, dims.keptStrides);
  int64_t chunks = (inner + kColumns - 1) / kColumns;
  parallelFor(blocks.count() * chunks, reducedCount * std::min(inner, kColumns),
              threads, [&](int64_t begin, int64_t end) {
                Odometer positions(dims.reducedSizes, dims.reducedStrides);
                int64_t positionCount = positions.count();
                Acc acc[kColumns];
                for (int64_t task = begin; task < end; ++task) {
                  int64_t block = task / chunks;
                  int64_t start = task % chunks * kColumns;
                  int64_t len = std::min(kColumns, inner - start);
                  const S *base = x + blocks.offsetOf(block) + start;
                  for (int64_t j = 0; j < len; ++j)
                    acc[j] = R::init();
                  for (int64_t r = 0; r < positionCount;
                       ++r, positions.next()) {
                    const S *row = base + positions.offset();
                    for (int64_t j = 0; j < len; ++j)
                      acc[j] = R::add(acc[j], row[j]);
                  }
                  S *result = y + block * inner + start;
                  for (int64_t j = 0; j < len; ++j)
                    result[j] = R::finish(acc[j], reducedCount);
                }
              });
}

void distopt::rt::reduce(ReduceKind kind, const Tensor &in, Tensor &out,
                         const std::vector<int64_t> &axes, bool keepDims,
                         int threads) {
  // keepDims changes the result's shape, not its layout.
  (void)keepDims;
  assert(in.dtype == out.dtype && "reduce keeps the element type");
  assert(in.dtype != DType::I1 && "reduce expects number elements");
  assert(std::is_sorted(axes.begin(), axes.end()) && "axes must be sorted");
  dispatchAnyType(in.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<S, Bool>) {
      switch (kind) {
      case ReduceKind::Sum:
        return reduceTyped<S, ReduceKind::Sum>(in, out, axes, threads);
      case ReduceKind::Mean:
        return reduceTyped<S, ReduceKind::Mean>(in, out, axes, threads);
      case ReduceKind::Max:
        return reduceTyped<S, ReduceKind::Max>(in, out, axes, threads);
      case ReduceKind::Min:
        return reduceTyped<S, ReduceKind::Min>(in, out, axes, threads);
      case ReduceKind::Prod:
        return reduceTyped<S, ReduceKind::Prod>(in, out, axes, threads);
      }
    }
  });
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// Softmax over `size` rows `inner` elements apart, for the `columns`
/// consecutive columns at `x` (columns <= kColumns).
template <typename S>
static void softmaxColumns(const S *x, S *y, int64_t size, int64_t inner,
                           int64_t columns, bool log) {
  using C = ComputeT<S>;
  using T = ElementTraits<S>;
  C maximum[kColumns];
  double sum[kColumns];
  for (int64_t j = 0; j < columns; ++j) {
    maximum[j] = -std::numeric_limits<C>::infinity();
    sum[j] = 0.0;
  }
  for (int64_t a = 0; a < size; ++a)
    for (int64_t j = 0; j < columns; ++j)
      maximum[j] = maxWithNaN(maximum[j], T::load(x[a * inner + j]));
  for (int64_t a = 0; a < size; ++a)
    for (int64_t j = 0; j < columns; ++j)
      sum[j] +=
          static_cast<double>(std::exp(T::load(x[a * inner + j]) - maximum[j]));
  if (log) {
    C logSum[kColumns];
    for (int64_t j = 0; j < columns; ++j)
      logSum[j] = static_cast<C>(std::log(sum[j]));
    for (int64_t a = 0; a < size; ++a)
      for (int64_t j = 0; j < columns; ++j)
        y[a * inner + j] =
            T::store(T::load(x[a * inner + j]) - maximum[j] - logSum[j]);
    return;
  }
  for (int64_t a = 0; a < size; ++a)
    for (int64_t j = 0; j < columns; ++j)
      y[a * inner + j] =
          storeDouble<S>(static_cast<double>(
                             std::exp(T::load(x[a * inner + j]) - maximum[j])) /
                         sum[j]);
}

template <typename S>
static void softmaxTyped(const Tensor &in, Tensor &out, int64_t axis, bool log,
                         int threads) {
  using C = ComputeT<S>;
  using T = ElementTraits<S>;
  const S *x = dataAs<const S>(in);
  S *y = dataAs<S>(out);
  int64_t outer = product(in.shape.data(), in.shape.data() + axis);
  int64_t size = in.shape[axis];
  int64_t inner =
      product(in.shape.data() + axis + 1, in.shape.data() + in.shape.size());
  if (outer == 0 || size == 0 || inner == 0)
    return;

  if (inner == 1) {
    // Rows along the innermost axis.
    parallelFor(outer, size, threads, [&](int64_t begin, int64_t end) {
      std::vector<C> exps(size);
      for (int64_t o = begin; o < end; ++o) {
        const S *row = x + o * size;
        S *result = y + o * size;
        C maximum = -std::numeric_limits<C>::infinity();
        for (int64_t j = 0; j < size; ++j)
          maximum = maxWithNaN(maximum, T::load(row[j]));
        double sum = 0.0;
        for (int64_t j = 0; j < size; ++j) {
          exps[j] = std::exp(T::load(row[j]) - maximum);
          sum += static_cast<double>(exps[j]);
        }
        if (log) {
          C logSum = static_cast<C>(std::log(sum));
          for (int64_t j = 0; j < size; ++j)
            result[j] = T::store(T::load(row[j]) - maximum - logSum);
        } else {
          for (int64_t j = 0; j < size; ++j)
            result[j] = storeDouble<S>(static_cast<double>(exps[j]) / sum);
        }
      }
    });
    return;
  }

  // Along a non-innermost axis: chunks of `inner` columns, each reduced
  // over the axis in lockstep.
  int64_t chunks = (inner + kColumns - 1) / kColumns;
  parallelFor(outer * chunks, size * std::min(inner, kColumns), threads,
              [&](int64_t begin, int64_t end) {
                for (int64_t task = begin; task < end; ++task) {
                  int64_t o = task / chunks, start = task % chunks * kColumns;
                  int64_t offset = o * size * inner + start;
                  softmaxColumns(x + offset, y + offset, size, inner,
                                 std::min(kColumns, inner - start), log);
                }
              });
}

void distopt::rt::softmax(const Tensor &in, Tensor &out, int64_t axis, bool log,
                          int threads) {
  assert(in.dtype == out.dtype && in.shape == out.shape && axis >= 0 &&
         axis < in.rank() && "softmax keeps type and shape");
  dispatchFloatType(in.dtype, [&](auto tag) {
    softmaxTyped<typename decltype(tag)::type>(in, out, axis, log, threads);
  });
}

//===----------------------------------------------------------------------===//
// LayerNorm
//===----------------------------------------------------------------------===//

/// `param` (scale or bias) as f64 values over the normalized shape,
/// broadcast to it when it is smaller.
static std::vector<double> normalizedParam(const Tensor &param,
                                           const std::vector<int64_t> &shape,
                                           int threads) {
  int64_t count = product(shape);
  std::vector<double> values(count);
  if (param.numElements() == count) {
    loadFloats(param, values.data(), count, threads);
    return values;
  }
  size_t width = byteWidth(param.dtype);
  std::vector<unsigned char> expanded(count * width);
  broadcastInto(width, param.data, param.shape, expanded.data(), shape,
                threads);
  Tensor view{expanded.data(), param.dtype, shape};
  loadFloats(view, values.data(), count, threads);
  return values;
}

template <typename S>
static void layerNormTyped(const Tensor &in, const Tensor &scale,
                           const Tensor *bias, Tensor &out, int64_t axis,
                           double epsilon, int threads) {
  using T = ElementTraits<S>;
  std::vector<int64_t> normalized(in.shape.begin() + axis, in.shape.end());
  int64_t rows = product(in.shape.data(), in.shape.data() + axis);
  int64_t size = product(normalized);
  if (rows == 0 || size == 0)
    return;
  std::vector<double> gamma = normalizedParam(scale, normalized, threads);
  std::vector<double> beta = bias ? normalizedParam(*bias, normalized, threads)
                                  : std::vector<double>(size, 0.0);
  const S *x = dataAs<const S>(in);
  S *y = dataAs<S>(out);
  parallelFor(rows, size, threads, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const S *row = x + r * size;
      S *result = y + r * size;
      // Two passes: the mean, then the mean squared deviation from it.
      double sum = 0.0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < size; ++j)
        sum += static_cast<double>(T::load(row[j]));
      double mean = sum / static_cast<double>(size);
      double squares = 0.0;
#pragma omp simd reduction(+ : squares)
      for (int64_t j = 0; j < size; ++j) {
        double d = static_cast<double>(T::load(row[j])) - mean;
        squares += d * d;
      }
      double rstd =
          1.0 / std::sqrt(squares / static_cast<double>(size) + epsilon);
      for (int64_t j = 0; j < size; ++j)
        result[j] = storeDouble<S>(
            (static_cast<double>(T::load(row[j])) - mean) * rstd * gamma[j] +
            beta[j]);
    }
  });
}

void distopt::rt::layerNorm(const Tensor &in, const Tensor &scale,
                            const Tensor *bias, Tensor &out, int64_t axis,
                            float epsilon, int threads) {
  assert(in.dtype == out.dtype && in.shape == out.shape && axis >= 0 &&
         axis < in.rank() && "layer_norm keeps type and shape");
  dispatchFloatType(in.dtype, [&](auto tag) {
    layerNormTyped<typename decltype(tag)::type>(
        in, scale, bias, out, axis, static_cast<double>(epsilon), threads);
  });
}
