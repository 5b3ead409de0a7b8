//===- Support.h - Small helpers shared by the runtime sources --*- C++ -*-===//
#ifndef DLC_RUNTIME_SUPPORT_H
#define DLC_RUNTIME_SUPPORT_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace dlc {

/// memcpy that allows empty ranges (whose pointers may be null, which memcpy does not).
inline void copyBytes(void *dst, const void *src, size_t n) {
  if (n)
    std::memcpy(dst, src, n);
}

/// Concatenates the stream representations of `parts` (for error messages).
template <typename... Ts> std::string strCat(const Ts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

/// "[2, 3]": a shape as error messages and the CLI print it.
inline std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The byte size of a dense tensor with non-negative `dims`; false if it overflows int64.
inline bool denseBytes(const std::vector<int64_t> &dims, uint64_t elemSize,
                       int64_t &bytes) {
  int64_t n = static_cast<int64_t>(elemSize);
  for (int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return false;
  bytes = n;
  return true;
}

/// `v` rounded up to a multiple of `align` (a power of two).
constexpr uint64_t alignUp(uint64_t v, uint64_t align) {
  return (v + align - 1) & ~(align - 1);
}

/// The float with IEEE bits `bits`, and back.
inline float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint32_t floatToBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

/// An IEEE half's value (exact: subnormals, infinities and NaN payloads included).
inline float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0x1f)
    return bitsToFloat(sign | 0x7f800000 | mant << 13);
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  return bitsToFloat(sign | (exp + 112) << 23 | mant << 13);
}

/// `value` rounded to the nearest IEEE half (ties to even; finite inputs).
inline uint16_t floatToHalf(float value) {
  uint32_t f = floatToBits(value);
  uint16_t sign = static_cast<uint16_t>((f >> 16) & 0x8000);
  f &= 0x7fffffff;
  if (f >= 0x47800000) // 65536 or more: infinity
    return sign | 0x7c00;
  if (f < 0x38800000) // below 2^-14: subnormal
    return sign | static_cast<uint16_t>(std::nearbyint(bitsToFloat(f) * 16777216.0f));
  return sign | static_cast<uint16_t>((f + 0xfff + ((f >> 13) & 1) - 0x38000000) >> 13);
}

/// `value` rounded to the nearest bfloat16 (ties to even; finite inputs).
inline uint16_t floatToBf16(float value) {
  uint32_t f = floatToBits(value);
  return static_cast<uint16_t>((f + 0x7fff + ((f >> 16) & 1)) >> 16);
}

} // namespace dlc

#endif // DLC_RUNTIME_SUPPORT_H
