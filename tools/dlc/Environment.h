//===- Environment.h - Compiler switches from the environment --*- C++ -*-===//
//
// The compiler library reads no environment variable; the `dlc` tool turns these into
// CompileOptions fields for the checks and comparisons that set them:
//
//   DLC_EMULATE_GPU=1            emulateGpu (CPU target with the CUDA tiling and mapping)
//   DLC_EMULATE_GPU=simt         emulateGpu and emulateSimt (the CUDA kernel code, its
//                                threads run by the runtime's SIMT emulator)
//   DLC_STRICT_GPU_BLOCKS=1      strictGpuBlocks
//   DLC_GPU_CONTRACTION_TILES=0  gpuContractionTiles = false
//   DLC_GPU_COPY_STAGES=N        gpuCopyStages (1: no cp.async; for comparisons)
//   DLC_GPU_SWIZZLE=0|1          gpuSwizzleShared (0: plain shared tiles; for comparisons)
//   DLC_HALF_ACTIVATIONS=0|1     gpuHalfActivations (0: f32 activations; for comparisons)
//   DLC_FOLD_PAD=0|1             foldPadIntoLoads
//   DLC_CPU_UKERNELS=0           cpuUkernels = false
//   DLC_CPU_STREAM_STORES=0      cpuStreamStores = false
//   DLC_UNROLL_LIMIT=N           unrollLimit (0: every Loop and Scan runs in the runtime)
//   DLC_QDQ_UNITS=0              qdqUnits = false (as --qdq-as-float)
//   DLC_PRECISION=fp32|tf32|fp16|bf16  precision (as --precision; checkPrecisionEnvironment
//                                tells an unknown value)
//   DLC_CUDA_ARCH=ARCH           cudaArch (as --cuda-arch, which wins; for the SIMT
//                                emulation of an architecture's kernel code)
//   CUDA_HOME, CUDA_PATH         cudaToolkit (where nvvm/libdevice is)
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TOOLS_DLC_ENVIRONMENT_H
#define DLC_TOOLS_DLC_ENVIRONMENT_H

#include "dlc/dlc.h"

#include <cstdlib>
#include <string>

namespace dlc::tools {

/// The value of `name`, or nothing when it is unset or empty.
inline std::optional<std::string> environmentValue(const char *name) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    return std::nullopt;
  return std::string(v);
}

/// Applies the environment variables above to `options`.
inline void applyEnvironment(CompileOptions &options) {
  auto flag = [](const char *name) -> std::optional<bool> {
    std::optional<std::string> v = environmentValue(name);
    if (!v)
      return std::nullopt;
    return *v != "0";
  };
  if (std::optional<bool> v = flag("DLC_EMULATE_GPU")) {
    options.emulateGpu = *v;
    options.emulateSimt = environmentValue("DLC_EMULATE_GPU") == "simt";
  }
  if (std::optional<bool> v = flag("DLC_STRICT_GPU_BLOCKS"))
    options.strictGpuBlocks = *v;
  if (std::optional<bool> v = flag("DLC_GPU_CONTRACTION_TILES"))
    options.gpuContractionTiles = *v;
  if (std::optional<bool> v = flag("DLC_FOLD_PAD"))
    options.foldPadIntoLoads = *v;
  if (std::optional<bool> v = flag("DLC_CPU_UKERNELS"))
    options.cpuUkernels = *v;
  if (std::optional<bool> v = flag("DLC_CPU_STREAM_STORES"))
    options.cpuStreamStores = *v;
  if (std::optional<bool> v = flag("DLC_QDQ_UNITS"))
    options.qdqUnits = *v;
  if (std::optional<bool> v = flag("DLC_GPU_SWIZZLE"))
    options.gpuSwizzleShared = *v;
  if (std::optional<bool> v = flag("DLC_HALF_ACTIVATIONS"))
    options.gpuHalfActivations = *v;
  if (std::optional<std::string> v = environmentValue("DLC_GPU_COPY_STAGES")) {
    char *end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (!*end && n >= 1 && n <= 8)
      options.gpuCopyStages = n;
  }
  if (std::optional<std::string> v = environmentValue("DLC_UNROLL_LIMIT")) {
    char *end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (!*end && n >= 0)
      options.unrollLimit = n;
  }
  if (std::optional<std::string> v = environmentValue("DLC_CUDA_ARCH"))
    options.cudaArch = *v;
  if (std::optional<std::string> v = environmentValue("DLC_PRECISION"))
    if (std::optional<Precision> p = parsePrecision(*v))
      options.precision = *p;
  for (const char *name : {"CUDA_HOME", "CUDA_PATH"})
    if (std::optional<std::string> v = environmentValue(name); v && options.cudaToolkit.empty())
      options.cudaToolkit = *v;
}

/// Sets `options.precision` from `flag` (a --precision value; empty: none given), else
/// from DLC_PRECISION; an unknown name is an error.
inline Status applyPrecision(CompileOptions &options, const std::string &flag) {
  std::optional<std::string> name = flag.empty() ? environmentValue("DLC_PRECISION") : flag;
  if (!name)
    return Status::ok();
  std::optional<Precision> p = parsePrecision(*name);
  if (!p)
    return Status::error("unknown precision '" + *name + "' (expected fp32, tf32, fp16 or bf16)");
  options.precision = *p;
  return Status::ok();
}

} // namespace dlc::tools

#endif // DLC_TOOLS_DLC_ENVIRONMENT_H
