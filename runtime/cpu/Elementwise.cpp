//===- Elementwise.cpp - unary, binary, compare, select and cast ----------===//
//
// The elementwise families of the dist dialect. Each kind is one tight loop
// over contiguous runs (see BroadcastPlan), switched on outside the loop so
// that the compiler can vectorize it; f16 and bf16 runs are converted to f32
// in small chunks, computed, and rounded back.
//
// Integer semantics follow the dialect's folders (lib/Dialect/Dist/
// Folders.cpp): signed, wrapping add / sub / mul / pow, division truncating
// toward zero, pow by repeated multiplication. Where the folder leaves a
// value undefined, the kernel picks one rather than trap: x / 0 is 0,
// INT_MIN / -1 is INT_MIN, 0 ** -n is 0.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelSupport.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace distopt::rt;
using namespace distopt::rt::detail;

/// Elements per conversion chunk of f16 / bf16 loops (kept in L1).
static constexpr int64_t kChunk = 256;
/// Elements per parallel task of contiguous elementwise loops.
static constexpr int64_t kBlock = 8192;

//===----------------------------------------------------------------------===//
// Loops
//===----------------------------------------------------------------------===//

/// `out[i] = op(in[i])` for `i < n`, `op` taking and returning compute types.
template <typename SI, typename SO, typename Op>
static void mapRange(const SI *in, SO *out, int64_t n, const Op &op) {
  using TI = ElementTraits<SI>;
  using TO = ElementTraits<SO>;
  if constexpr (TI::kDirect && TO::kDirect) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<SO>(op(in[i]));
  } else {
    ComputeT<SI> x[kChunk];
    ComputeT<SO> y[kChunk];
    for (int64_t start = 0; start < n; start += kChunk) {
      int64_t len = std::min(kChunk, n - start);
      for (int64_t j = 0; j < len; ++j)
        x[j] = TI::load(in[start + j]);
      for (int64_t j = 0; j < len; ++j)
        y[j] = static_cast<ComputeT<SO>>(op(x[j]));
      for (int64_t j = 0; j < len; ++j)
        out[start + j] = TO::store(y[j]);
    }
  }
}

/// mapRange over `n` contiguous elements, in parallel blocks.
template <typename SI, typename SO, typename Op>
static void mapElements(const SI *in, SO *out, int64_t n, int threads,
                        const Op &op) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  parallelFor(blocks, kBlock, threads, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      int64_t start = b * kBlock;
      mapRange(in + start, out + start, std::min(kBlock, n - start), op);
    }
  });
}

/// `o[i] = op(a[i * sa], b[i * sb])` for `i < n`, strides 0 or 1.
template <typename SA, typename SO, typename Op>
static void zipRange(const SA *a, int64_t sa, const SA *b, int64_t sb, SO *o,
                     int64_t n, const Op &op) {
  using TA = ElementTraits<SA>;
  using TO = ElementTraits<SO>;
  using C = ComputeT<SA>;
  if constexpr (TA::kDirect && TO::kDirect) {
    // One loop per stride pattern, so that each vectorizes.
    if (sa && sb) {
      for (int64_t i = 0; i < n; ++i)
        o[i] = static_cast<SO>(op(a[i], b[i]));
    } else if (sa) {
      C y = b[0];
      for (int64_t i = 0; i < n; ++i)
        o[i] = static_cast<SO>(op(a[i], y));
    } else if (sb) {
      C x = a[0];
      for (int64_t i = 0; i < n; ++i)
        o[i] = static_cast<SO>(op(x, b[i]));
    } else {
      std::fill(o, o + n, static_cast<SO>(op(a[0], b[0])));
    }
  } else {
    C x[kChunk], y[kChunk];
    ComputeT<SO> r[kChunk];
    for (int64_t start = 0; start < n; start += kChunk) {
      int64_t len = std::min(kChunk, n - start);
      for (int64_t j = 0; j < len; ++j)
        x[j] = TA::load(a[(start + j) * sa]);
      for (int64_t j = 0; j < len; ++j)
        y[j] = TA::load(b[(start + j) * sb]);
      for (int64_t j = 0; j < len; ++j)
        r[j] = static_cast<ComputeT<SO>>(op(x[j], y[j]));
      for (int64_t j = 0; j < len; ++j)
        o[start + j] = TO::store(r[j]);
    }
  }
}

/// Runs `op` over `lhs` and `rhs` broadcast to `out`.
template <typename SA, typename SO, typename Op>
static void zipBroadcast(const Tensor &lhs, const Tensor &rhs, Tensor &out,
                         int threads, const Op &op) {
  const SA *a = dataAs<const SA>(lhs);
  const SA *b = dataAs<const SA>(rhs);
  SO *o = dataAs<SO>(out);
  BroadcastPlan<2> plan(out.shape, {&lhs.shape, &rhs.shape});
  plan.run(threads, [&](const std::array<int64_t, 2> &offsets,
                        const std::array<int64_t, 2> &strides,
                        int64_t outOffset, int64_t n) {
    zipRange(a + offsets[0], strides[0], b + offsets[1], strides[1],
             o + outOffset, n, op);
  });
}

//===----------------------------------------------------------------------===//
// Integer arithmetic
//===----------------------------------------------------------------------===//

/// The unsigned type in which `T` arithmetic wraps without undefined
/// behaviour (at least unsigned int, so that nothing promotes to int).
template <typename T>
using WrapT = std::conditional_t<(sizeof(T) < sizeof(uint32_t)), uint32_t,
                                 std::make_unsigned_t<T>>;

template <typename T> static T wrapAdd(T a, T b) {
  return static_cast<T>(static_cast<WrapT<T>>(a) + static_cast<WrapT<T>>(b));
}
template <typename T> static T wrapSub(T a, T b) {
  return static_cast<T>(static_cast<WrapT<T>>(a) - static_cast<WrapT<T>>(b));
}
template <typename T> static T wrapMul(T a, T b) {
  return static_cast<T>(static_cast<WrapT<T>>(a) * static_cast<WrapT<T>>(b));
}
template <typename T> static T wrapNeg(T a) { return wrapSub(T(0), a); }

/// Truncating division; x / 0 is 0 and INT_MIN / -1 wraps to INT_MIN.
template <typename T> static T intDiv(T a, T b) {
  if (b == 0)
    return 0;
  if (b == T(-1))
    return wrapNeg(a);
  return static_cast<T>(a / b);
}

/// The remainder of `a / b` truncated (`floored`: of `a / b` floored, with
/// the divisor's sign); 0 for b = 0 (undefined in the folder) and for
/// b = -1 (where INT_MIN % -1 would overflow).
template <typename T> static T intRemainder(T a, T b, bool floored) {
  if (b == 0 || b == T(-1))
    return 0;
  T r = static_cast<T>(a % b);
  if (floored && r != 0 && ((r < 0) != (b < 0)))
    r = static_cast<T>(r + b);
  return r;
}

/// The float remainder of `a / b` floored (with the divisor's sign).
template <typename C> static C flooredFMod(C a, C b) {
  C r = std::fmod(a, b);
  if (r != C(0) && ((r < C(0)) != (b < C(0))))
    r += b;
  return r;
}

/// `base ** exponent` by repeated (wrapping) multiplication, as the folder's
/// powInt: a negative exponent gives 1 / base^-exponent truncated (0 for
/// base 0, where the folder leaves the value undefined).
template <typename T> static T intPow(T base, T exponent) {
  if (exponent < 0) {
    if (base == 1)
      return 1;
    if (base == T(-1))
      return (exponent & 1) ? T(-1) : T(1);
    return 0;
  }
  WrapT<T> result = 1, factor = static_cast<WrapT<T>>(base);
  auto remaining = static_cast<std::make_unsigned_t<T>>(exponent);
  while (remaining != 0) {
    if (remaining & 1u)
      result *= factor;
    factor *= factor;
    remaining >>= 1;
  }
  return static_cast<T>(result);
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

/// 1 / (1 + exp(-x)), without overflow for large |x|: exp only ever sees a
/// non-positive argument.
template <typename C> static inline C sigmoidOf(C x) {
  C e = std::exp(-std::fabs(x));
  C s = C(1) / (C(1) + e);
  return x >= C(0) ? s : e * s;
}

/// log(1 + exp(x)) without overflow.
template <typename C> static inline C softplusOf(C x) {
  return std::max(x, C(0)) + std::log1p(std::exp(-std::fabs(x)));
}

/// max(0, min(1, alpha x + beta)).
template <typename C> static inline C hardSigmoidOf(C x, C alpha, C beta) {
  return std::max(C(0), std::min(C(1), alpha * x + beta));
}

template <typename S>
static void unaryFloat(UnaryKind kind, const S *in, S *out, int64_t n,
                       UnaryParams params, int threads) {
  using C = ComputeT<S>;
  auto run = [&](auto op) { mapElements<S, S>(in, out, n, threads, op); };
  const C alpha = params.alpha, beta = params.beta;
  switch (kind) {
  case UnaryKind::Relu:
    return run([](C x) { return x < C(0) ? C(0) : x; });
  case UnaryKind::GeluErf:
    return run([](C x) {
      return C(0.5) * x * (C(1) + std::erf(x * C(0.70710678118654752440)));
    });
  case UnaryKind::GeluTanh:
    // sqrt(2 / pi) = 0.7978845608..., to double precision as in the folder.
    return run([](C x) {
      return C(0.5) * x *
             (C(1) + std::tanh(C(0.79788456080286535588) *
                               (x + C(0.044715) * x * x * x)));
    });
  case UnaryKind::Tanh:
    return run([](C x) { return std::tanh(x); });
  case UnaryKind::Exp:
    return run([](C x) { return std::exp(x); });
  case UnaryKind::Log:
    return run([](C x) { return std::log(x); });
  case UnaryKind::Sqrt:
    return run([](C x) { return std::sqrt(x); });
  case UnaryKind::Rsqrt:
    return run([](C x) { return C(1) / std::sqrt(x); });
  case UnaryKind::Erf:
    return run([](C x) { return std::erf(x); });
  case UnaryKind::Neg:
    return run([](C x) { return -x; });
  case UnaryKind::Reciprocal:
    return run([](C x) { return C(1) / x; });
  case UnaryKind::Sigmoid:
    return run([](C x) { return sigmoidOf(x); });
  case UnaryKind::Abs:
    return run([](C x) { return std::fabs(x); });
  case UnaryKind::Floor:
    return run([](C x) { return std::floor(x); });
  case UnaryKind::Ceil:
    return run([](C x) { return std::ceil(x); });
  case UnaryKind::Sin:
    return run([](C x) { return std::sin(x); });
  case UnaryKind::Cos:
    return run([](C x) { return std::cos(x); });
  case UnaryKind::Silu:
    return run([](C x) { return x * sigmoidOf(x); });
  case UnaryKind::LeakyRelu:
    return run([=](C x) { return x < C(0) ? alpha * x : x; });
  case UnaryKind::Elu:
    return run([=](C x) { return x < C(0) ? alpha * std::expm1(x) : x; });
  case UnaryKind::Selu:
    return run(
        [=](C x) { return beta * (x <= C(0) ? alpha * std::expm1(x) : x); });
  case UnaryKind::Celu:
    return run([=](C x) {
      return std::max(C(0), x) + std::min(C(0), alpha * std::expm1(x / alpha));
    });
  case UnaryKind::Softplus:
    return run([](C x) { return softplusOf(x); });
  case UnaryKind::Softsign:
    return run([](C x) { return x / (C(1) + std::fabs(x)); });
  case UnaryKind::HardSigmoid:
    return run([=](C x) { return hardSigmoidOf(x, alpha, beta); });
  case UnaryKind::HardSwish:
    return run([](C x) { return x * hardSigmoidOf(x, C(1) / C(6), C(0.5)); });
  case UnaryKind::Mish:
    return run([](C x) { return x * std::tanh(softplusOf(x)); });
  case UnaryKind::ThresholdedRelu:
    return run([=](C x) { return x > alpha ? x : C(0); });
  case UnaryKind::Tan:
    return run([](C x) { return std::tan(x); });
  case UnaryKind::Asin:
    return run([](C x) { return std::asin(x); });
  case UnaryKind::Acos:
    return run([](C x) { return std::acos(x); });
  case UnaryKind::Atan:
    return run([](C x) { return std::atan(x); });
  case UnaryKind::Sinh:
    return run([](C x) { return std::sinh(x); });
  case UnaryKind::Cosh:
    return run([](C x) { return std::cosh(x); });
  case UnaryKind::Asinh:
    return run([](C x) { return std::asinh(x); });
  case UnaryKind::Acosh:
    return run([](C x) { return std::acosh(x); });
  case UnaryKind::Atanh:
    return run([](C x) { return std::atanh(x); });
  case UnaryKind::Round:
    // Halves to even (ONNX Round), in the default rounding mode.
    return run([](C x) { return std::nearbyint(x); });
  case UnaryKind::Not:
    break;
  }
  assert(false && "unary kind not defined on floats");
}

template <typename T>
static void unaryInt(UnaryKind kind, const T *in, T *out, int64_t n,
                     int threads) {
  auto run = [&](auto op) { mapElements<T, T>(in, out, n, threads, op); };
  switch (kind) {
  case UnaryKind::Relu:
    return run([](T x) { return x < 0 ? T(0) : x; });
  case UnaryKind::Neg:
    return run([](T x) { return wrapNeg(x); });
  case UnaryKind::Abs:
    return run([](T x) { return x < 0 ? wrapNeg(x) : x; });
  default:
    break;
  }
  assert(false && "unary kind not defined on integers");
}

void distopt::rt::unary(UnaryKind kind, const Tensor &in, Tensor &out,
                        UnaryParams params, int threads) {
  assert(in.dtype == out.dtype && in.numElements() == out.numElements() &&
         "unary expects one type and shape");
  int64_t n = out.numElements();
  dispatchAnyType(in.dtype, [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S *x = dataAs<const S>(in);
    S *y = dataAs<S>(out);
    if constexpr (kIsFloatStorage<S>) {
      unaryFloat(kind, x, y, n, params, threads);
    } else if constexpr (std::is_same_v<S, Bool>) {
      assert(kind == UnaryKind::Not && "only 'not' is defined on i1");
      mapElements<S, S>(x, y, n, threads,
                        [](Bool v) { return Bool(v == 0 ? 1 : 0); });
    } else {
      unaryInt(kind, x, y, n, threads);
    }
  });
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

template <typename S>
static void binaryTyped(BinaryKind kind, const Tensor &lhs, const Tensor &rhs,
                        Tensor &out, int threads) {
  using C = ComputeT<S>;
  auto run = [&](auto op) { zipBroadcast<S, S>(lhs, rhs, out, threads, op); };
  if constexpr (kIsFloatStorage<S>) {
    switch (kind) {
    case BinaryKind::Add:
      return run([](C a, C b) { return a + b; });
    case BinaryKind::Sub:
      return run([](C a, C b) { return a - b; });
    case BinaryKind::Mul:
      return run([](C a, C b) { return a * b; });
    case BinaryKind::Div:
      return run([](C a, C b) { return a / b; });
    case BinaryKind::Pow:
      return run([](C a, C b) { return std::pow(a, b); });
    // std::max / std::min, except that a NaN in either operand wins.
    case BinaryKind::Max:
      return run([](C a, C b) { return b != b ? b : (a < b ? b : a); });
    case BinaryKind::Min:
      return run([](C a, C b) { return b != b ? b : (b < a ? b : a); });
    case BinaryKind::Mod:
      return run([](C a, C b) { return flooredFMod(a, b); });
    case BinaryKind::FMod:
      return run([](C a, C b) { return std::fmod(a, b); });
    default:
      break;
    }
    assert(false && "binary kind not defined on floats");
  } else if constexpr (std::is_same_v<S, Bool>) {
    switch (kind) {
    case BinaryKind::And:
      return run([](Bool a, Bool b) { return Bool((a != 0) & (b != 0)); });
    case BinaryKind::Or:
      return run([](Bool a, Bool b) { return Bool((a != 0) | (b != 0)); });
    case BinaryKind::Xor:
      return run([](Bool a, Bool b) { return Bool((a != 0) ^ (b != 0)); });
    default:
      break;
    }
    assert(false && "only 'and', 'or' and 'xor' are defined on i1");
  } else {
    switch (kind) {
    case BinaryKind::Add:
      return run([](S a, S b) { return wrapAdd(a, b); });
    case BinaryKind::Sub:
      return run([](S a, S b) { return wrapSub(a, b); });
    case BinaryKind::Mul:
      return run([](S a, S b) { return wrapMul(a, b); });
    case BinaryKind::Div:
      return run([](S a, S b) { return intDiv(a, b); });
    case BinaryKind::Pow:
      return run([](S a, S b) { return intPow(a, b); });
    case BinaryKind::Max:
      return run([](S a, S b) { return a < b ? b : a; });
    case BinaryKind::Min:
      return run([](S a, S b) { return b < a ? b : a; });
    case BinaryKind::Mod:
      return run([](S a, S b) { return intRemainder(a, b, true); });
    case BinaryKind::FMod:
      return run([](S a, S b) { return intRemainder(a, b, false); });
    default:
      break;
    }
    assert(false && "binary kind not defined on integers");
  }
}

void distopt::rt::binary(BinaryKind kind, const Tensor &lhs, const Tensor &rhs,
                         Tensor &out, int threads) {
  assert(lhs.dtype == rhs.dtype && lhs.dtype == out.dtype &&
         "binary expects one element type");
  dispatchAnyType(out.dtype, [&](auto tag) {
    binaryTyped<typename decltype(tag)::type>(kind, lhs, rhs, out, threads);
  });
}

//===----------------------------------------------------------------------===//
// Compare and select
//===----------------------------------------------------------------------===//

template <typename S>
static void compareTyped(CompareKind kind, const Tensor &lhs, const Tensor &rhs,
                         Tensor &out, int threads) {
  using C = ComputeT<S>;
  auto run = [&](auto op) {
    zipBroadcast<S, Bool>(lhs, rhs, out, threads, op);
  };
  // Native operators: IEEE for floats (NaN unequal to everything), signed for
  // integers, unsigned (false < true) for i1.
  switch (kind) {
  case CompareKind::Eq:
    return run([](C a, C b) { return Bool(a == b); });
  case CompareKind::Ne:
    return run([](C a, C b) { return Bool(a != b); });
  case CompareKind::Lt:
    return run([](C a, C b) { return Bool(a < b); });
  case CompareKind::Le:
    return run([](C a, C b) { return Bool(a <= b); });
  case CompareKind::Gt:
    return run([](C a, C b) { return Bool(a > b); });
  case CompareKind::Ge:
    return run([](C a, C b) { return Bool(a >= b); });
  }
}

void distopt::rt::compare(CompareKind kind, const Tensor &lhs,
                          const Tensor &rhs, Tensor &out, int threads) {
  assert(lhs.dtype == rhs.dtype && out.dtype == DType::I1 &&
         "compare expects one operand type and an i1 result");
  dispatchAnyType(lhs.dtype, [&](auto tag) {
    compareTyped<typename decltype(tag)::type>(kind, lhs, rhs, out, threads);
  });
}

void distopt::rt::select(const Tensor &cond, const Tensor &onTrue,
                         const Tensor &onFalse, Tensor &out, int threads) {
  assert(cond.dtype == DType::I1 && onTrue.dtype == out.dtype &&
         onFalse.dtype == out.dtype && "select expects i1 and one type");
  BroadcastPlan<3> plan(out.shape,
                        {&cond.shape, &onTrue.shape, &onFalse.shape});
  const Bool *c = dataAs<const Bool>(cond);
  dispatchWidth(byteWidth(out.dtype), [&](auto tag) {
    using W = typename decltype(tag)::type;
    const W *t = dataAs<const W>(onTrue);
    const W *f = dataAs<const W>(onFalse);
    W *o = dataAs<W>(out);
    plan.run(threads, [&](const std::array<int64_t, 3> &offsets,
                          const std::array<int64_t, 3> &strides,
                          int64_t outOffset, int64_t n) {
      const Bool *cr = c + offsets[0];
      const W *tr = t + offsets[1];
      const W *fr = f + offsets[2];
      W *orow = o + outOffset;
      if (strides[0] && strides[1] && strides[2]) {
        for (int64_t i = 0; i < n; ++i)
          orow[i] = cr[i] ? tr[i] : fr[i];
      } else {
        for (int64_t i = 0; i < n; ++i)
          orow[i] =
              cr[i * strides[0]] ? tr[i * strides[1]] : fr[i * strides[2]];
      }
    });
  });
}

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

/// `value` as a double, rounded to odd when it is not exact (|value| > 2^53),
/// so that a second rounding to f16 / bf16 rounds as if once.
static double int64ToOddDouble(int64_t value) {
  auto setLowestBit = [](double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof(bits));
    bits |= 1u;
    std::memcpy(&d, &bits, sizeof(d));
    return d;
  };
  double rounded = static_cast<double>(value);
  // Rounded up to 2^63, past INT64_MAX: inexact, and 2^63 - 1024 below.
  if (rounded >= 0x1.0p63)
    return setLowestBit(std::nextafter(rounded, 0.0));
  int64_t back = static_cast<int64_t>(rounded);
  if (back == value)
    return rounded;
  if ((value > 0 && back > value) || (value < 0 && back < value))
    rounded = std::nextafter(rounded, 0.0);
  return setLowestBit(rounded);
}

/// One element of `cast`, storage to storage.
template <typename To, typename From> static To convertElement(From x) {
  if constexpr (std::is_same_v<From, To>) {
    return x;
  } else if constexpr (std::is_same_v<To, Bool>) {
    // Anything into i1 is `!= 0`; a NaN is true.
    return Bool(ElementTraits<From>::load(x) != 0);
  } else if constexpr (std::is_same_v<From, Bool>) {
    return ElementTraits<To>::store(static_cast<ComputeT<To>>(x != 0 ? 1 : 0));
  } else if constexpr (!kIsFloatStorage<From> && !kIsFloatStorage<To>) {
    // Sign extension or truncation (modular).
    return static_cast<To>(x);
  } else if constexpr (!kIsFloatStorage<From>) {
    // Integer into float, rounded once to nearest even.
    if constexpr (std::is_same_v<To, Half>)
      return Half{doubleToHalf(int64ToOddDouble(x))};
    else if constexpr (std::is_same_v<To, BFloat16>)
      return BFloat16{doubleToBFloat16(int64ToOddDouble(x))};
    else
      return static_cast<To>(x);
  } else if constexpr (!kIsFloatStorage<To>) {
    // Float into integer: truncation toward zero, saturating, NaN to 0.
    double d = ElementTraits<From>::load(x);
    constexpr double limit =
        static_cast<double>(std::numeric_limits<To>::max()) + 1.0;
    if (d != d)
      return 0;
    if (d >= limit)
      return std::numeric_limits<To>::max();
    if (d <= -limit - 1.0)
      return std::numeric_limits<To>::min();
    return static_cast<To>(d);
  } else {
    // Float into float: widening is exact; narrowing rounds once.
    if constexpr (std::is_same_v<To, double>) {
      return static_cast<double>(ElementTraits<From>::load(x));
    } else if constexpr (std::is_same_v<From, double>) {
      if constexpr (std::is_same_v<To, float>)
        return static_cast<float>(x);
      else if constexpr (std::is_same_v<To, Half>)
        return Half{doubleToHalf(x)};
      else
        return BFloat16{doubleToBFloat16(x)};
    } else {
      return ElementTraits<To>::store(ElementTraits<From>::load(x));
    }
  }
}

void distopt::rt::cast(const Tensor &in, Tensor &out, int threads) {
  assert(in.numElements() == out.numElements() && "cast keeps the shape");
  int64_t n = out.numElements();
  dispatchAnyType(in.dtype, [&](auto fromTag) {
    using From = typename decltype(fromTag)::type;
    dispatchAnyType(out.dtype, [&](auto toTag) {
      using To = typename decltype(toTag)::type;
      const From *x = dataAs<const From>(in);
      To *y = dataAs<To>(out);
      int64_t blocks = (n + kBlock - 1) / kBlock;
      parallelFor(blocks, kBlock, threads, [&](int64_t begin, int64_t end) {
        int64_t last = std::min(n, end * kBlock);
        for (int64_t i = begin * kBlock; i < last; ++i)
          y[i] = convertElement<To>(x[i]);
      });
    });
  });
}
