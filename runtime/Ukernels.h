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

#include <cstdint>

namespace dlc {

class ThreadPool;

namespace ukernels {

/// The address of ukernel `name`, or null when this runtime has none by that name.
void *lookup(const char *name);

/// While alive, contraction ukernels called on this thread may split their work
/// across `pool` (set by the executor around a launch that runs as one workgroup, so
/// the pool is otherwise idle).
class PoolScope {
public:
  explicit PoolScope(ThreadPool *pool);
  ~PoolScope();
  PoolScope(const PoolScope &) = delete;
  PoolScope &operator=(const PoolScope &) = delete;

private:
  ThreadPool *previous_;
};

/// The descriptor of `dlc_uk_contract_f32` (int64 slots):
///   [0] loops L (at most kMaxLoops)   [1] A address   [2] B address   [3] C address
///   then per loop i, at 4 + 5 i: extent, reduction (0/1), stride in A, in B, in C
/// (element strides; 0 where the operand does not depend on the loop). It computes
/// C[c(i)] += A[a(i)] * B[b(i)] over the whole iteration space, f32.
constexpr int kMaxLoops = 12;
constexpr int kDescriptorSlots = 4 + 5 * kMaxLoops;
void contractF32(const int64_t *desc);

/// The CPU's vector ISA the ukernels use: "avx512", "avx2" or "generic".
const char *isaName();

/// Makes the ukernels use `name` ("avx512", "avx2", "generic") if this CPU has it, for
/// tests of every variant on one machine; false (and no change) otherwise.
bool setIsaForTesting(const char *name);

} // namespace ukernels
} // namespace dlc

#endif // DLC_RUNTIME_UKERNELS_H
