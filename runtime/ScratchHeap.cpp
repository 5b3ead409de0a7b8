//===- ScratchHeap.cpp - Buffers that compiled CPU kernels allocate -------===//
//
// A compiled kernel allocates its own temporaries (memref.alloc: a padded copy of a
// pooled image, the tile of a fused producer) once per workgroup and run. From
// malloc, a block of more than a few hundred KiB is fresh pages each time: one page
// fault per 4 KiB, zeroed by the kernel, which cost a MaxPool over 64 images 48% of
// its time. The code section calls dlc_uk_alloc / dlc_uk_free instead (CpuCodegen),
// and this heap keeps freed blocks of 64 KiB and more per thread, in size classes of
// a quarter power of two, up to kCachedBytes a thread; smaller ones go to malloc, whose
// bins serve them without faults.
//
//===----------------------------------------------------------------------===//
#include "Ukernels.h"

#include <cstdlib>

namespace dlc::ukernels {
namespace {

constexpr size_t kHeader = 64;             // the block's class, keeping 64-byte alignment
constexpr size_t kMinCached = 64 << 10;    // below: malloc
constexpr size_t kCachedBytes = 256 << 20; // most bytes of free blocks a thread keeps
constexpr int kClasses = 4 * 64;

/// The size of the blocks of class `cls` (> 0): 2^e plus q quarters of it.
size_t sizeOf(int cls) {
  int e = cls / 4;
  return (size_t(1) << e) + (cls % 4) * (size_t(1) << (e - 2));
}

/// The smallest class (> 0) whose blocks hold `bytes` (>= kMinCached).
int classOf(size_t bytes) {
  int e = 63 - __builtin_clzll(bytes); // 2^e <= bytes < 2^(e+1)
  size_t quarter = size_t(1) << (e - 2);
  size_t q = (bytes - (size_t(1) << e) + quarter - 1) / quarter; // 0..4 (4: the next power)
  return 4 * e + static_cast<int>(q);
}

/// A block's header: its class, then (while free) the next free block of its class.
int64_t &classAt(void *block) { return *static_cast<int64_t *>(block); }
void *&nextAt(void *block) {
  return *reinterpret_cast<void **>(static_cast<char *>(block) + sizeof(int64_t));
}

struct FreeBlocks {
  void *head[kClasses + 1] = {};
  size_t bytes = 0;
  ~FreeBlocks() {
    for (void *&h : head)
      while (h) {
        void *next = nextAt(h);
        std::free(h);
        h = next;
      }
  }
};

thread_local FreeBlocks freeBlocks;

} // namespace

void *scratchAlloc(int64_t bytes) {
  if (bytes < 0)
    return nullptr;
  size_t need = static_cast<size_t>(bytes) + kHeader;
  int cls = need >= kMinCached ? classOf(need) : 0;
  size_t size = cls > 0 ? sizeOf(cls) : need;
  void *block = nullptr;
  if (cls > 0 && cls <= kClasses && freeBlocks.head[cls]) {
    block = freeBlocks.head[cls];
    freeBlocks.head[cls] = nextAt(block);
    freeBlocks.bytes -= size;
  } else {
    block = std::aligned_alloc(kHeader, (size + kHeader - 1) / kHeader * kHeader);
    if (!block)
      return nullptr;
  }
  classAt(block) = cls <= kClasses ? cls : 0;
  return static_cast<char *>(block) + kHeader;
}

void scratchFree(void *p) {
  if (!p)
    return;
  void *block = static_cast<char *>(p) - kHeader;
  int cls = static_cast<int>(classAt(block));
  size_t size = cls > 0 ? sizeOf(cls) : 0;
  if (cls == 0 || freeBlocks.bytes + size > kCachedBytes) {
    std::free(block);
    return;
  }
  nextAt(block) = freeBlocks.head[cls];
  freeBlocks.head[cls] = block;
  freeBlocks.bytes += size;
}

} // namespace dlc::ukernels
