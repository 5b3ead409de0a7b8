//===- AlignedBuffer.h - 64-byte aligned heap storage -----------*- C++ -*-===//
#ifndef DLC_RUNTIME_ALIGNEDBUFFER_H
#define DLC_RUNTIME_ALIGNEDBUFFER_H

#include "Support.h"

#include <cstdlib>
#include <memory>

namespace dlc {

/// Heap bytes on a 64-byte boundary. Once reserved, data() is never null, even for zero
/// bytes, so kernels always see a valid base pointer.
class AlignedBuffer {
public:
  static constexpr uint64_t kAlign = 64;

  /// Ensures room for `bytes` bytes, reallocating (without copying) if the current
  /// allocation is smaller. Returns false when out of memory.
  bool reserve(uint64_t bytes) {
    if (ptr_ && bytes <= capacity_)
      return true;
    if (bytes > UINT64_MAX - kAlign)
      return false;
    uint64_t capacity = alignUp(bytes ? bytes : 1, kAlign);
    void *p = std::aligned_alloc(kAlign, capacity);
    if (!p)
      return false;
    ptr_.reset(static_cast<uint8_t *>(p));
    capacity_ = capacity;
    return true;
  }
  uint8_t *data() const { return ptr_.get(); }

private:
  struct Free {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> ptr_;
  uint64_t capacity_ = 0;
};

} // namespace dlc

#endif // DLC_RUNTIME_ALIGNEDBUFFER_H
