//===- Float16.h - f16 and bf16 conversions of the runtime ------*- C++ -*-===//
//
// f16 (IEEE binary16) and bf16 (bfloat16) are storage types of dist tensors:
// kernels load them into f32, compute, and round once back. The conversions
// are branch-free, so that the loops around them vectorize, and round to
// nearest, ties to even, as the dialect's folders do.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CPU_FLOAT16_H
#define DISTOPT_RUNTIME_CPU_FLOAT16_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace distopt::rt {

inline uint32_t floatToBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

inline float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// The f32 value of the f16 bit pattern `h` (exact; NaN stays NaN).
inline float halfToFloat(uint16_t h) {
  // With the sign shifted out, the 5 exponent and 10 mantissa bits sit at
  // the top of `twice`.
  uint32_t word = static_cast<uint32_t>(h) << 16;
  uint32_t sign = word & 0x80000000u;
  uint32_t twice = word + word;
  // Normal numbers, infinities and NaNs: move exponent and mantissa into
  // f32 position, add 224 to the exponent (so that 31 becomes 255, inf/NaN),
  // and scale by 2^-112 to rebias from 15 to 127.
  float normal = bitsToFloat((twice >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  // Subnormals: the mantissa m as the low bits of a float in [0.5, 1) is
  // 0.5 + m * 2^-24; subtracting 0.5 leaves m * 2^-24 exactly.
  float subnormal = bitsToFloat((twice >> 17) | (126u << 23)) - 0.5f;
  uint32_t magnitude =
      twice < (1u << 27) ? floatToBits(subnormal) : floatToBits(normal);
  return bitsToFloat(sign | magnitude);
}

/// `value` rounded to nearest (ties to even) as an f16 bit pattern; values
/// from 65520 on become infinity, NaN becomes the quiet NaN 0x7E00.
inline uint16_t floatToHalf(float value) {
  // Scaling by 2^112 then 2^-110 multiplies by 4 but overflows to infinity
  // everything that rounds to infinity in f16.
  float base = (std::fabs(value) * 0x1.0p+112f) * 0x1.0p-110f;
  uint32_t word = floatToBits(value);
  uint32_t twice = word + word;
  uint32_t sign = word & 0x80000000u;
  // Adding 2^(e + 13) (e the exponent of `value`, at least -14) makes the
  // FPU round the mantissa at the 10th bit, the f16 precision at exponent e;
  // subnormals share the exponent -14 and so round at a fixed position.
  uint32_t bias = twice & 0xFF000000u;
  if (bias < 0x71000000u)
    bias = 0x71000000u;
  base = bitsToFloat((bias >> 1) + 0x07800000u) + base;
  uint32_t bits = floatToBits(base);
  uint32_t exponentBits = (bits >> 13) & 0x00007C00u;
  uint32_t mantissaBits = bits & 0x00000FFFu;
  uint32_t nonsign = exponentBits + mantissaBits;
  bool isNaN = twice > 0xFF000000u;
  return static_cast<uint16_t>((sign >> 16) | (isNaN ? 0x7E00u : nonsign));
}

/// The f32 value of the bf16 bit pattern `b` (exact).
inline float bfloat16ToFloat(uint16_t b) {
  return bitsToFloat(static_cast<uint32_t>(b) << 16);
}

/// `value` rounded to nearest (ties to even) as a bf16 bit pattern; NaN
/// stays a (quiet) NaN.
inline uint16_t floatToBFloat16(float value) {
  uint32_t word = floatToBits(value);
  bool isNaN = (word & 0x7FFFFFFFu) > 0x7F800000u;
  uint32_t rounded = word + 0x7FFFu + ((word >> 16) & 1u);
  return static_cast<uint16_t>(isNaN ? (word >> 16) | 0x0040u : rounded >> 16);
}

/// `value` rounded to f32 with round-to-odd: exact values stay, inexact ones
/// are truncated toward zero with the last mantissa bit set. Rounding that
/// to a type of at most 22 bits of precision (f16, bf16) gives the same
/// result as rounding `value` directly, which a plain double -> float ->
/// half conversion does not (it rounds twice).
inline float roundToOddFloat(double value) {
  float rounded = static_cast<float>(value);
  if (static_cast<double>(rounded) == value || value != value)
    return rounded;
  uint32_t bits = floatToBits(rounded);
  // Rounded away from zero: step back one unit toward zero (infinity
  // becomes the largest finite float).
  if (std::fabs(static_cast<double>(rounded)) > std::fabs(value))
    bits -= 1;
  return bitsToFloat(bits | 1u);
}

/// `value` rounded once to nearest even as f16 / bf16.
inline uint16_t doubleToHalf(double value) {
  return floatToHalf(roundToOddFloat(value));
}
inline uint16_t doubleToBFloat16(double value) {
  return floatToBFloat16(roundToOddFloat(value));
}

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CPU_FLOAT16_H
