//===- GpuTarget.cpp - The CUDA architectures dlc compiles for ------------===//
#include "passes/GpuTarget.h"

#include "llvm/ADT/STLExtras.h"

namespace dlc {

llvm::ArrayRef<GpuTarget> gpuTargets() {
  // The CUDA C Programming Guide's "Technical Specifications per Compute Capability".
  // sm_70 (V100) and sm_75 (Titan RTX, T4) have the same limits as the others here.
  static const GpuTarget targets[] = {
      {"sm_70", 70, 1024, 48 * 1024, 255, 32},  {"sm_75", 75, 1024, 48 * 1024, 255, 32, 65},
      {"sm_80", 80, 1024, 48 * 1024, 255, 32},  {"sm_86", 86, 1024, 48 * 1024, 255, 32},
      {"sm_89", 89, 1024, 48 * 1024, 255, 32},  {"sm_90", 90, 1024, 48 * 1024, 255, 32},
      {"sm_90a", 90, 1024, 48 * 1024, 255, 32},
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
