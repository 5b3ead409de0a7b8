//===- GpuTarget.cpp - The CUDA architectures dlc compiles for ------------===//
#include "passes/GpuTarget.h"

#include "llvm/ADT/STLExtras.h"

namespace dlc {

llvm::ArrayRef<GpuTarget> gpuTargets() {
  // The CUDA C Programming Guide's "Technical Specifications per Compute Capability".
  // sm_70 (V100) and sm_75 (Titan RTX, T4) have the same limits as the others here but
  // for the opt-in shared memory per block: 96 KiB on 7.0, 64 on 7.5, 163 on 8.0 and
  // 8.7, 99 on 8.6, 8.9 and 12.x, 227 on 9.0 and 10.x. PTX for an architecture runs on
  // the later ones, so each takes the least from it on (sm_90's PTX runs on 12.x;
  // sm_90a's on 9.0 only).
  constexpr int64_t k64 = 64 * 1024, k99 = 99 * 1024, k227 = 227 * 1024;
  static const GpuTarget targets[] = {
      {"sm_70", 70, 1024, 48 * 1024, k64, 255, 32},
      {"sm_75", 75, 1024, 48 * 1024, k64, 255, 32, 65},
      {"sm_80", 80, 1024, 48 * 1024, k99, 255, 32},
      {"sm_86", 86, 1024, 48 * 1024, k99, 255, 32},
      {"sm_89", 89, 1024, 48 * 1024, k99, 255, 32},
      {"sm_90", 90, 1024, 48 * 1024, k99, 255, 32},
      {"sm_90a", 90, 1024, 48 * 1024, k227, 255, 32, 0, /*warpgroupMma=*/true},
  };
  return targets;
}

const GpuTarget *lookupGpuTarget(llvm::StringRef arch) {
  for (const GpuTarget &t : gpuTargets())
    if (t.arch == arch)
      return &t;
  return nullptr;
}

} // namespace dlc
