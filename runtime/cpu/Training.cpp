//===- Training.cpp - loss and optimizer kernels --------------------------===//
//
// Softmax cross-entropy and its gradient, mean squared error, and the AdamW
// and SGD updates, with the semantics of PyTorch's functions of the same
// names (see Kernels.h). Losses accumulate in f64; optimizer updates follow
// torch's order of operations in the element's compute type, with the
// hyper-parameters rounded to it as torch does for a Python scalar.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"
#include "runtime/cpu/Kernels.h"

#include <cassert>
#include <cmath>
#include <tuple>

using namespace distopt::rt;
using namespace distopt::rt::detail;

namespace {

/// Positions (rows) and classes (columns) of logits B... x C.
struct ClassRows {
  int64_t rows = 0, classes = 0;
};

ClassRows classRows(const Tensor &logits, const Tensor &labels) {
  assert(logits.rank() >= 1 && labels.rank() == logits.rank() - 1 &&
         "labels have the logits' shape without the class dimension");
  assert((labels.dtype == DType::I32 || labels.dtype == DType::I64) &&
         "labels are i32 or i64");
  ClassRows r;
  r.classes = logits.shape.back();
  r.rows = labels.numElements();
  return r;
}

/// The first row whose label lies outside [0, classes), or -1.
int64_t firstBadLabel(const Tensor &labels, int64_t rows, int64_t classes) {
  for (int64_t i = 0; i < rows; ++i) {
    int64_t label = indexAt(labels, i);
    if (label < 0 || label >= classes)
      return i;
  }
  return -1;
}

/// Maximum of row `row` and log(sum(exp(x - max))) of it, in f64.
template <typename S>
std::pair<double, double> rowLogSumExp(const S *x, int64_t classes) {
  using Tr = ElementTraits<S>;
  double max = -INFINITY;
  for (int64_t c = 0; c < classes; ++c)
    max = maxWithNaN(max, static_cast<double>(Tr::load(x[c])));
  double sum = 0.0;
  for (int64_t c = 0; c < classes; ++c)
    sum += std::exp(static_cast<double>(Tr::load(x[c])) - max);
  return {max, std::log(sum)};
}

template <typename S>
void crossEntropyImpl(const Tensor &logits, const Tensor &labels, Tensor &out,
                      const ClassRows &r, int threads) {
  using Tr = ElementTraits<S>;
  const S *x = dataAs<const S>(logits);
  std::vector<double> losses(r.rows, 0.0);
  parallelFor(r.rows, r.classes, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t label = indexAt(labels, i);
      if (label < 0 || label >= r.classes)
        continue;
      const S *row = x + i * r.classes;
      auto [max, lse] = rowLogSumExp(row, r.classes);
      losses[i] = max + lse - static_cast<double>(Tr::load(row[label]));
    }
  });
  double total = 0.0;
  for (double l : losses)
    total += l;
  double mean = r.rows ? total / static_cast<double>(r.rows) : NAN;
  *dataAs<S>(out) = storeDouble<S>(mean);
}

/// The label of row `i` relative to `block`, or -1 when it falls outside
/// the block's `width` classes.
inline int64_t blockLabel(const Tensor &labels, int64_t i, ClassBlock block,
                          int64_t width) {
  int64_t label = indexAt(labels, i) - block.first;
  return label >= 0 && label < width ? label : -1;
}

/// Every position's statistics over all classes when `logits` holds a
/// block of them (crossEntropyGradBlock).
struct BlockStats {
  const Tensor *max = nullptr, *sumExp = nullptr;
  ClassBlock block;
};

template <typename S>
void crossEntropyGradImpl(const Tensor &logits, const Tensor &labels,
                          const Tensor &scale, const BlockStats *stats,
                          Tensor &out, const ClassRows &r, int threads) {
  using Tr = ElementTraits<S>;
  const S *x = dataAs<const S>(logits);
  S *y = dataAs<S>(out);
  double k = static_cast<double>(Tr::load(*dataAs<const S>(scale)));
  parallelFor(r.rows, r.classes, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const S *row = x + i * r.classes;
      S *grad = y + i * r.classes;
      double max, lse;
      int64_t label;
      if (stats) {
        max = static_cast<double>(Tr::load(dataAs<const S>(*stats->max)[i]));
        lse = std::log(static_cast<double>(
            Tr::load(dataAs<const S>(*stats->sumExp)[i])));
        label = blockLabel(labels, i, stats->block, r.classes);
      } else {
        label = indexAt(labels, i);
        if (label < 0 || label >= r.classes) {
          for (int64_t c = 0; c < r.classes; ++c)
            grad[c] = storeDouble<S>(0.0);
          continue;
        }
        std::tie(max, lse) = rowLogSumExp(row, r.classes);
      }
      for (int64_t c = 0; c < r.classes; ++c) {
        double p = std::exp(static_cast<double>(Tr::load(row[c])) - max - lse);
        grad[c] = storeDouble<S>((p - (c == label ? 1.0 : 0.0)) * k);
      }
    }
  });
}


template <typename S>
void crossEntropyStatsImpl(const Tensor &logits, const Tensor &labels,
                           const Tensor &max, ClassBlock block, Tensor &sumExp,
                           Tensor &target, const ClassRows &r, int threads) {
  using Tr = ElementTraits<S>;
  const S *x = dataAs<const S>(logits);
  const S *m = dataAs<const S>(max);
  S *sums = dataAs<S>(sumExp);
  S *picked = dataAs<S>(target);
  parallelFor(r.rows, r.classes, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const S *row = x + i * r.classes;
      double rowMax = static_cast<double>(Tr::load(m[i]));
      double sum = 0.0;
      for (int64_t c = 0; c < r.classes; ++c)
        sum += std::exp(static_cast<double>(Tr::load(row[c])) - rowMax);
      sums[i] = storeDouble<S>(sum);
      int64_t label = blockLabel(labels, i, block, r.classes);
      picked[i] = storeDouble<S>(
          label >= 0 ? static_cast<double>(Tr::load(row[label])) : 0.0);
    }
  });
}

/// The value of a rank-0 float tensor as a double.
double scalarValue(const Tensor &t) {
  double value = 0.0;
  dispatchFloatType(t.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    value = static_cast<double>(ElementTraits<S>::load(*dataAs<const S>(t)));
  });
  return value;
}

} // namespace

int64_t distopt::rt::crossEntropy(const Tensor &logits, const Tensor &labels,
                                  Tensor &out, int threads) {
  ClassRows r = classRows(logits, labels);
  dispatchFloatType(logits.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    crossEntropyImpl<S>(logits, labels, out, r, threads);
  });
  return firstBadLabel(labels, r.rows, r.classes);
}

int64_t distopt::rt::crossEntropyGrad(const Tensor &logits,
                                      const Tensor &labels, const Tensor &scale,
                                      Tensor &out, int threads) {
  ClassRows r = classRows(logits, labels);
  assert(out.dtype == logits.dtype && scale.dtype == logits.dtype &&
         "the gradient and scale have the logits' type");
  dispatchFloatType(logits.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    crossEntropyGradImpl<S>(logits, labels, scale, nullptr, out, r, threads);
  });
  return firstBadLabel(labels, r.rows, r.classes);
}

int64_t distopt::rt::crossEntropyStats(const Tensor &logits,
                                       const Tensor &labels, const Tensor &max,
                                       ClassBlock block, Tensor &sumExp,
                                       Tensor &target, int threads) {
  ClassRows r = classRows(logits, labels);
  dispatchFloatType(logits.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    crossEntropyStatsImpl<S>(logits, labels, max, block, sumExp, target, r,
                             threads);
  });
  return firstBadLabel(labels, r.rows, block.classes);
}

int64_t distopt::rt::crossEntropyGradBlock(const Tensor &logits,
                                           const Tensor &labels,
                                           const Tensor &scale,
                                           const Tensor &max,
                                           const Tensor &sumExp,
                                           ClassBlock block, Tensor &out,
                                           int threads) {
  ClassRows r = classRows(logits, labels);
  dispatchFloatType(logits.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    BlockStats stats{&max, &sumExp, block};
    crossEntropyGradImpl<S>(logits, labels, scale, &stats, out, r, threads);
  });
  return firstBadLabel(labels, r.rows, block.classes);
}

void distopt::rt::mse(const Tensor &pred, const Tensor &target, Tensor &out,
                      int threads) {
  assert(pred.dtype == target.dtype && pred.shape == target.shape &&
         "mse operands share one type");
  (void)threads;
  dispatchFloatType(pred.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    using Tr = ElementTraits<S>;
    const S *p = dataAs<const S>(pred), *t = dataAs<const S>(target);
    int64_t n = pred.numElements();
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      double d = static_cast<double>(Tr::load(p[i])) -
                 static_cast<double>(Tr::load(t[i]));
      total += d * d;
    }
    *dataAs<S>(out) = storeDouble<S>(n ? total / static_cast<double>(n) : NAN);
  });
}

void distopt::rt::adamw(const Tensor &param, const Tensor &grad,
                        const Tensor &m, const Tensor &v, const Tensor &step,
                        Tensor &newParam, Tensor &newM, Tensor &newV,
                        const AdamWOptions &o, int threads) {
  assert(grad.dtype == param.dtype && m.dtype == param.dtype &&
         v.dtype == param.dtype && "adamw tensors share one type");
  double t = scalarValue(step);
  dispatchFloatType(param.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    using Tr = ElementTraits<S>;
    using C = ComputeT<S>;
    // torch: the scalars are Python floats (f64) cast to the compute type by
    // each tensor op.
    C decay = static_cast<C>(1.0 - o.lr * o.weightDecay);
    C keep1 = static_cast<C>(1.0 - o.beta1);
    C b2 = static_cast<C>(o.beta2), keep2 = static_cast<C>(1.0 - o.beta2);
    C stepSize = static_cast<C>(o.lr / (1.0 - std::pow(o.beta1, t)));
    C bc2Sqrt = static_cast<C>(std::sqrt(1.0 - std::pow(o.beta2, t)));
    C eps = static_cast<C>(o.eps);
    const S *p = dataAs<const S>(param), *g = dataAs<const S>(grad);
    const S *m0 = dataAs<const S>(m), *v0 = dataAs<const S>(v);
    S *p1 = dataAs<S>(newParam), *m1 = dataAs<S>(newM), *v1 = dataAs<S>(newV);
    parallelFor(param.numElements(), 8, threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        C pi = Tr::load(p[i]), gi = Tr::load(g[i]);
        C mi = Tr::load(m0[i]), vi = Tr::load(v0[i]);
        if (o.weightDecay != 0.0)
          pi = pi * decay;
        mi = mi + keep1 * (gi - mi); // lerp with weight < 0.5
        vi = vi * b2 + keep2 * (gi * gi);
        C denom = std::sqrt(vi) / bc2Sqrt + eps;
        pi = pi + (-stepSize) * (mi / denom);
        p1[i] = Tr::store(pi);
        m1[i] = Tr::store(mi);
        v1[i] = Tr::store(vi);
      }
    });
  });
}

void distopt::rt::sgd(const Tensor &param, const Tensor &grad,
                      const Tensor *buffer, Tensor &newParam, Tensor *newBuffer,
                      const SgdOptions &o, int threads) {
  assert(grad.dtype == param.dtype && "sgd tensors share one type");
  assert((buffer != nullptr) == (newBuffer != nullptr) &&
         "a momentum buffer comes with its new value");
  dispatchFloatType(param.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    using Tr = ElementTraits<S>;
    using C = ComputeT<S>;
    C wd = static_cast<C>(o.weightDecay), mom = static_cast<C>(o.momentum);
    C lr = static_cast<C>(o.lr);
    const S *p = dataAs<const S>(param), *g = dataAs<const S>(grad);
    const S *b0 = buffer ? dataAs<const S>(*buffer) : nullptr;
    S *p1 = dataAs<S>(newParam),
      *b1 = newBuffer ? dataAs<S>(*newBuffer) : nullptr;
    parallelFor(param.numElements(), 4, threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        C pi = Tr::load(p[i]), gi = Tr::load(g[i]);
        if (o.weightDecay != 0.0)
          gi = gi + wd * pi;
        if (b0) {
          gi = Tr::load(b0[i]) * mom + gi;
          b1[i] = Tr::store(gi);
        }
        p1[i] = Tr::store(pi + (-lr) * gi);
      }
    });
  });
}
