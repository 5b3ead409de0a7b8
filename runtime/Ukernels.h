//===- Ukernels.h - Hand-written CPU micro-kernels --------------*- C++ -*-===//
//
// The runtime's CPU micro-kernels ("ukernels", as in IREE): code the compiled kernels
// call for the work LLVM's loop vectorizer does badly, chosen at run time from the
// CPU's features (AVX-512, AVX2+FMA, or portable C++). docs/cpu.md says which exist
// and why.
//
// A code section calls ukernel NAME through a pointer global `NAME_ptr` it defines
// (null until bound) and lists the names it uses, comma-separated, in the global
// string `dlc_ukernels`. The loader binds every listed name or refuses the artifact,
// so no compiled call can reach a null pointer and the runtime need not export
// symbols from the executable that embeds it.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_UKERNELS_H
#define DLC_RUNTIME_UKERNELS_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace dlc {

class ThreadPool;

namespace ukernels {

/// The address of ukernel `name`, or null when this runtime has none by that name.
void *lookup(const char *name);

/// dlc_uk_alloc / dlc_uk_free: the buffers compiled kernels allocate for themselves,
/// from a per-thread cache of freed blocks (ScratchHeap.cpp). Null when out of memory.
void *scratchAlloc(int64_t bytes);
void scratchFree(void *p);

/// Weights packed for the micro-kernels, once per model (the CPU executor owns one;
/// it frees them with the model). Thread-safe.
class PackCache {
public:
  PackCache();
  ~PackCache();
  PackCache(const PackCache &) = delete;
  PackCache &operator=(const PackCache &) = delete;
  /// Bytes of packed weights held.
  size_t bytes() const;
  struct Impl;
  Impl &impl() { return *impl_; }

private:
  std::unique_ptr<Impl> impl_;
};

/// The context of the micro-kernels called on this thread while alive: `pool` (may
/// be null) to split their work across (the executor sets it around a launch that runs
/// as one workgroup, so the pool is otherwise idle) and `cache` (may be null: weights
/// are then packed per call) for packed weights. With `flushDenormals` (x86), this
/// thread's float arithmetic reads denormal operands as zero and writes denormal
/// results as zero meanwhile (MXCSR DAZ and FTZ; the micro-kernels' tasks on other
/// threads take the calling thread's mode); the previous mode is restored after.
class LaunchScope {
public:
  LaunchScope(ThreadPool *pool, PackCache *cache, bool flushDenormals = false);
  ~LaunchScope();
  LaunchScope(const LaunchScope &) = delete;
  LaunchScope &operator=(const LaunchScope &) = delete;

private:
  ThreadPool *previousPool_;
  PackCache *previousCache_;
  unsigned previousFloatMode_;
};

/// The descriptor of `dlc_uk_contract_f32` (int64 slots):
///   [0] loops L (at most kMaxLoops), plus bit 8 / 9 when A / B is a weight (the same
///       bytes in every run at this address: packed once, cached in the PackCache)
///   [1] A address   [2] B address   [3] C address
///   then per loop i, at 4 + 5 i: extent, reduction (0/1), stride in A, in B, in C
/// (element strides; 0 where the operand does not depend on the loop). It computes
/// C[c(i)] += A[a(i)] * B[b(i)] over the whole iteration space, f32.
constexpr int kMaxLoops = 12;
constexpr int kDescriptorSlots = 4 + 5 * kMaxLoops;
void contractF32(const int64_t *desc);
/// The same over i32, with wrapping arithmetic (`dlc_uk_contract_i32`: MatMulInteger,
/// ConvInteger and other integer contractions; exact, so any order is the same).
void contractI32(const int64_t *desc);

/// The descriptor of `dlc_uk_transpose` (int64 slots):
///   [0] loops L (at most kMaxLoops) | element bytes (1, 2, 4 or 8) << 8
///   [1] input address   [2] output address
///   then per loop i, at 3 + 3 i: extent, stride in the input, in the output
/// (element strides). It copies out[o(i)] = in[in(i)] over the whole iteration space:
/// a transposition, blocked where one loop is contiguous in the input and another in
/// the output (Transpose.cpp). `stream` (`dlc_uk_transpose_nt`, which the CPU codegen
/// calls instead for an output it streams) writes whole output lines with
/// non-temporal stores where it can.
void transpose(const int64_t *desc, bool stream = false);

/// Whether this CPU has the x86 feature `name` (LLVM's spelling: "avx2", "avx512f", ...);
/// true for names this runtime cannot test.
bool cpuHasFeature(const std::string &name);

/// The CPU's vector ISA the ukernels use: "avx512", "avx2" or "generic".
const char *isaName();

/// Makes the ukernels use `name` ("avx512", "avx2", "generic") if this CPU has it, for
/// tests of every variant on one machine; false (and no change) otherwise.
bool setIsaForTesting(const char *name);

} // namespace ukernels
} // namespace dlc

#endif // DLC_RUNTIME_UKERNELS_H
