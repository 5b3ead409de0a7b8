//===- Support.h - Small helpers shared by the runtime sources --*- C++ -*-===//
#ifndef DLC_RUNTIME_SUPPORT_H
#define DLC_RUNTIME_SUPPORT_H

#include <cstring>
#include <cstdint>
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

} // namespace dlc

#endif // DLC_RUNTIME_SUPPORT_H
