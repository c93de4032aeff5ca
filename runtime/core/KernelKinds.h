//===- KernelKinds.h - the dialect's op kinds as kernel kinds ---*- C++ -*-===//
//
// The kernels (runtime/cpu) are a plain library without MLIR, so they have
// their own copies of the dist dialect's kind enums. This header is the one
// place that converts the dialect's kinds to the kernels': one switch per
// enum, which must name every case of the dialect's enum (a missing case is
// a compile error here), and static_asserts that every dialect value maps to
// the kernel kind of the same value. Adding a case to the dialect without
// the kernels therefore fails to compile.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CORE_KERNELKINDS_H
#define DISTOPT_RUNTIME_CORE_KERNELKINDS_H

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "runtime/cpu/Kernels.h"

#include "llvm/Support/ErrorHandling.h"

#include <cstdint>
#include <optional>

// A switch below that misses a case of the dialect's enum is an error, not a
// warning.
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"

namespace distopt::rt {

/// The kernel's unary function for the dialect's `kind`.
constexpr UnaryKind toKernelKind(dist::UnaryKind kind) {
  switch (kind) {
  case dist::UnaryKind::Relu:
    return UnaryKind::Relu;
  case dist::UnaryKind::GeluErf:
    return UnaryKind::GeluErf;
  case dist::UnaryKind::GeluTanh:
    return UnaryKind::GeluTanh;
  case dist::UnaryKind::Tanh:
    return UnaryKind::Tanh;
  case dist::UnaryKind::Exp:
    return UnaryKind::Exp;
  case dist::UnaryKind::Log:
    return UnaryKind::Log;
  case dist::UnaryKind::Sqrt:
    return UnaryKind::Sqrt;
  case dist::UnaryKind::Rsqrt:
    return UnaryKind::Rsqrt;
  case dist::UnaryKind::Erf:
    return UnaryKind::Erf;
  case dist::UnaryKind::Neg:
    return UnaryKind::Neg;
  case dist::UnaryKind::Reciprocal:
    return UnaryKind::Reciprocal;
  case dist::UnaryKind::Sigmoid:
    return UnaryKind::Sigmoid;
  case dist::UnaryKind::Abs:
    return UnaryKind::Abs;
  case dist::UnaryKind::Floor:
    return UnaryKind::Floor;
  case dist::UnaryKind::Ceil:
    return UnaryKind::Ceil;
  case dist::UnaryKind::Sin:
    return UnaryKind::Sin;
  case dist::UnaryKind::Cos:
    return UnaryKind::Cos;
  case dist::UnaryKind::Silu:
    return UnaryKind::Silu;
  case dist::UnaryKind::Not:
    return UnaryKind::Not;
  case dist::UnaryKind::LeakyRelu:
    return UnaryKind::LeakyRelu;
  case dist::UnaryKind::Elu:
    return UnaryKind::Elu;
  case dist::UnaryKind::Selu:
    return UnaryKind::Selu;
  case dist::UnaryKind::Celu:
    return UnaryKind::Celu;
  case dist::UnaryKind::Softplus:
    return UnaryKind::Softplus;
  case dist::UnaryKind::Softsign:
    return UnaryKind::Softsign;
  case dist::UnaryKind::HardSigmoid:
    return UnaryKind::HardSigmoid;
  case dist::UnaryKind::HardSwish:
    return UnaryKind::HardSwish;
  case dist::UnaryKind::Mish:
    return UnaryKind::Mish;
  case dist::UnaryKind::ThresholdedRelu:
    return UnaryKind::ThresholdedRelu;
  case dist::UnaryKind::Tan:
    return UnaryKind::Tan;
  case dist::UnaryKind::Asin:
    return UnaryKind::Asin;
  case dist::UnaryKind::Acos:
    return UnaryKind::Acos;
  case dist::UnaryKind::Atan:
    return UnaryKind::Atan;
  case dist::UnaryKind::Sinh:
    return UnaryKind::Sinh;
  case dist::UnaryKind::Cosh:
    return UnaryKind::Cosh;
  case dist::UnaryKind::Asinh:
    return UnaryKind::Asinh;
  case dist::UnaryKind::Acosh:
    return UnaryKind::Acosh;
  case dist::UnaryKind::Atanh:
    return UnaryKind::Atanh;
  case dist::UnaryKind::Round:
    return UnaryKind::Round;
  }
  llvm_unreachable("not a dist unary kind");
}

/// The kernel's parameters of a `dist.unary` (0 where the kind takes none).
inline UnaryParams toKernelParams(dist::UnaryOp op) {
  UnaryParams params;
  if (std::optional<llvm::APFloat> alpha = op.getAlpha())
    params.alpha = alpha->convertToFloat();
  if (std::optional<llvm::APFloat> beta = op.getBeta())
    params.beta = beta->convertToFloat();
  return params;
}

/// The kernel's binary function for the dialect's `kind`.
constexpr BinaryKind toKernelKind(dist::BinaryKind kind) {
  switch (kind) {
  case dist::BinaryKind::Add:
    return BinaryKind::Add;
  case dist::BinaryKind::Sub:
    return BinaryKind::Sub;
  case dist::BinaryKind::Mul:
    return BinaryKind::Mul;
  case dist::BinaryKind::Div:
    return BinaryKind::Div;
  case dist::BinaryKind::Pow:
    return BinaryKind::Pow;
  case dist::BinaryKind::Max:
    return BinaryKind::Max;
  case dist::BinaryKind::Min:
    return BinaryKind::Min;
  case dist::BinaryKind::And:
    return BinaryKind::And;
  case dist::BinaryKind::Or:
    return BinaryKind::Or;
  case dist::BinaryKind::Xor:
    return BinaryKind::Xor;
  case dist::BinaryKind::Mod:
    return BinaryKind::Mod;
  case dist::BinaryKind::FMod:
    return BinaryKind::FMod;
  }
  llvm_unreachable("not a dist binary kind");
}

/// The kernel's comparison for the dialect's `kind`.
constexpr CompareKind toKernelKind(dist::CompareKind kind) {
  switch (kind) {
  case dist::CompareKind::Eq:
    return CompareKind::Eq;
  case dist::CompareKind::Ne:
    return CompareKind::Ne;
  case dist::CompareKind::Lt:
    return CompareKind::Lt;
  case dist::CompareKind::Le:
    return CompareKind::Le;
  case dist::CompareKind::Gt:
    return CompareKind::Gt;
  case dist::CompareKind::Ge:
    return CompareKind::Ge;
  }
  llvm_unreachable("not a dist compare kind");
}

/// The kernel's reduction for the dialect's `kind`.
constexpr ReduceKind toKernelKind(dist::ReduceKind kind) {
  switch (kind) {
  case dist::ReduceKind::Sum:
    return ReduceKind::Sum;
  case dist::ReduceKind::Mean:
    return ReduceKind::Mean;
  case dist::ReduceKind::Max:
    return ReduceKind::Max;
  case dist::ReduceKind::Min:
    return ReduceKind::Min;
  case dist::ReduceKind::Prod:
    return ReduceKind::Prod;
  }
  llvm_unreachable("not a dist reduce kind");
}

/// The kernel's pooling function for the dialect's `kind`.
constexpr PoolKind toKernelKind(dist::PoolKind kind) {
  switch (kind) {
  case dist::PoolKind::Max:
    return PoolKind::Max;
  case dist::PoolKind::Avg:
    return PoolKind::Avg;
  }
  llvm_unreachable("not a dist pool kind");
}

/// The kernel's scatter combination for the dialect's `reduction`.
constexpr ScatterReduction toKernelKind(dist::ScatterReduction reduction) {
  switch (reduction) {
  case dist::ScatterReduction::None:
    return ScatterReduction::None;
  case dist::ScatterReduction::Add:
    return ScatterReduction::Add;
  case dist::ScatterReduction::Mul:
    return ScatterReduction::Mul;
  case dist::ScatterReduction::Max:
    return ScatterReduction::Max;
  case dist::ScatterReduction::Min:
    return ScatterReduction::Min;
  }
  llvm_unreachable("not a dist scatter reduction");
}

namespace detail {
/// True if every value 0..`maxValue` of `DialectKind` (the dialect's enums
/// number their cases densely from 0) maps to the kernel kind of the same
/// value. A value without a case is not a constant expression, so the
/// static_assert that calls this fails to compile.
template <typename DialectKind>
constexpr bool mapsEveryValueToItself(uint32_t maxValue) {
  for (uint32_t value = 0; value <= maxValue; ++value)
    if (static_cast<uint32_t>(toKernelKind(static_cast<DialectKind>(value))) !=
        value)
      return false;
  return true;
}
} // namespace detail

static_assert(detail::mapsEveryValueToItself<dist::UnaryKind>(
                  dist::getMaxEnumValForUnaryKind()),
              "rt::UnaryKind must list dist::UnaryKind's cases in order");
static_assert(detail::mapsEveryValueToItself<dist::BinaryKind>(
                  dist::getMaxEnumValForBinaryKind()),
              "rt::BinaryKind must list dist::BinaryKind's cases in order");
static_assert(detail::mapsEveryValueToItself<dist::CompareKind>(
                  dist::getMaxEnumValForCompareKind()),
              "rt::CompareKind must list dist::CompareKind's cases in order");
static_assert(detail::mapsEveryValueToItself<dist::ReduceKind>(
                  dist::getMaxEnumValForReduceKind()),
              "rt::ReduceKind must list dist::ReduceKind's cases in order");
static_assert(detail::mapsEveryValueToItself<dist::PoolKind>(
                  dist::getMaxEnumValForPoolKind()),
              "rt::PoolKind must list dist::PoolKind's cases in order");

static_assert(
    detail::mapsEveryValueToItself<dist::ScatterReduction>(
        dist::getMaxEnumValForScatterReduction()),
    "rt::ScatterReduction must list dist::ScatterReduction's cases in order");

} // namespace distopt::rt

#pragma GCC diagnostic pop

#endif // DISTOPT_RUNTIME_CORE_KERNELKINDS_H
