//===- GpuTarget.h - What a CUDA architecture allows a kernel --*- C++ -*-===//
//
// One description per architecture `--cuda-arch` accepts: the limits the tiling
// selection (dlc-gpu-select-tiling) plans within and the mapping (dlc-map-to-gpu)
// checks against. The heuristics' own choices (tile sizes, thread counts) are not
// limits and live with the selection.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_GPUTARGET_H
#define DLC_PASSES_GPUTARGET_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace dlc {

struct GpuTarget {
  /// The `--cuda-arch` name, e.g. "sm_80".
  llvm::StringLiteral arch;
  /// Compute capability times ten (80 for sm_80).
  int64_t computeCapability;
  /// Threads one block may have.
  int64_t maxThreadsPerBlock;
  /// Static shared memory one block may declare (bytes; more needs a dynamic opt-in).
  int64_t maxStaticSharedBytes;
  /// Shared memory one block may have with the dynamic opt-in (bytes), on every card
  /// that runs this architecture's PTX (newer ones JIT-compile it): the least of theirs.
  int64_t maxDynamicSharedBytes;
  /// 32-bit registers one thread may use.
  int64_t maxRegistersPerThread;
  /// Threads of a warp.
  int64_t warpSize;
  /// The PTX ISA version its PTX declares, times ten, when the instructions dlc emits
  /// need more than the architecture's first one (0: that one): sm_75's f16 mma.sync
  /// m16n8k8 needs PTX 6.5, where sm_75 starts at 6.3.
  int64_t ptxVersion = 0;
  /// Warpgroup tensor-core instructions (wgmma, sm_90a): dlc-gpu-mma's warpgroup tiles
  /// and the larger block tiles they take.
  bool warpgroupMma = false;
};

/// Every architecture dlc compiles for, oldest first.
llvm::ArrayRef<GpuTarget> gpuTargets();

/// The description of `arch`, or null when dlc does not know it.
const GpuTarget *lookupGpuTarget(llvm::StringRef arch);

} // namespace dlc

#endif // DLC_PASSES_GPUTARGET_H
