//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// The runtime links no CUDA library: libcuda.so.1 is dlopen'ed on first use and its
// entry points are looked up from the X-macro table below (IREE's
// dynamic_symbol_tables.h is the model), so one binary runs on machines with and
// without a GPU and says clearly which it is on. Only cuda.h is needed to build.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_CUDADRIVER_H
#define DLC_RUNTIME_CUDADRIVER_H

#include "dlc/status.h"

#include <cuda.h>

namespace dlc {

// The versioned names are the ones cuda.h's macros resolve to.
#define DLC_CUDA_SYMBOLS(X)                                                                        \
  X(cuInit)                                                                                        \
  X(cuDriverGetVersion)                                                                            \
  X(cuGetErrorName)                                                                                \
  X(cuGetErrorString)                                                                              \
  X(cuDeviceGetCount)                                                                              \
  X(cuDeviceGet)                                                                                   \
  X(cuDeviceGetName)                                                                               \
  X(cuDeviceGetAttribute)                                                                          \
  X(cuDevicePrimaryCtxRetain)                                                                      \
  X(cuDevicePrimaryCtxRelease_v2)                                                                  \
  X(cuCtxSetCurrent)                                                                               \
  X(cuCtxSetLimit)                                                                                 \
  X(cuCtxGetLimit)                                                                                 \
  X(cuModuleLoadDataEx)                                                                            \
  X(cuModuleUnload)                                                                                \
  X(cuModuleGetFunction)                                                                           \
  X(cuFuncGetAttribute)                                                                            \
  X(cuFuncSetAttribute)                                                                            \
  X(cuMemAlloc_v2)                                                                                 \
  X(cuMemFree_v2)                                                                                  \
  X(cuMemAllocHost_v2)                                                                             \
  X(cuMemFreeHost)                                                                                 \
  X(cuMemcpyHtoD_v2)                                                                               \
  X(cuMemcpyHtoDAsync_v2)                                                                          \
  X(cuMemcpyDtoHAsync_v2)                                                                          \
  X(cuStreamCreate)                                                                                \
  X(cuStreamDestroy_v2)                                                                            \
  X(cuStreamSynchronize)                                                                           \
  X(cuLaunchKernel)                                                                                \
  X(cuStreamBeginCapture_v2)                                                                       \
  X(cuStreamEndCapture)                                                                            \
  X(cuGraphInstantiateWithFlags)                                                                   \
  X(cuGraphLaunch)                                                                                 \
  X(cuGraphDestroy)                                                                                \
  X(cuGraphExecDestroy)                                                                            \
  X(cuMemcpyDtoDAsync_v2)                                                                          \
  X(cuEventCreate)                                                                                 \
  X(cuEventRecord)                                                                                 \
  X(cuEventSynchronize)                                                                            \
  X(cuEventElapsedTime)                                                                            \
  X(cuEventDestroy_v2)

/// The driver's entry points. Loaded once per process; never unloaded.
struct CudaDriver {
#define DLC_CUDA_DECLARE(name) decltype(&::name) name = nullptr;
  DLC_CUDA_SYMBOLS(DLC_CUDA_DECLARE)
#undef DLC_CUDA_DECLARE

  /// Loads libcuda.so.1 (or $DLC_CUDA_DRIVER) and runs cuInit; the error says what is
  /// missing ("no CUDA driver (libcuda.so.1) found", "no CUDA device", ...).
  static Expected<const CudaDriver *> get();

  /// OK for CUDA_SUCCESS, else "CALL: CUDA_ERROR_NAME (description)".
  Status check(CUresult result, const char *call) const;
};

} // namespace dlc

#endif // DLC_RUNTIME_CUDADRIVER_H
