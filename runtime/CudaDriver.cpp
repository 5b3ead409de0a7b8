//===- CudaDriver.cpp - dlopen of libcuda.so.1 and error text -------------===//
// Built only with cuda.h (DLC_HAVE_CUDA_H); see runtime/CMakeLists.txt.
#ifdef DLC_HAVE_CUDA_H
#include "CudaDriver.h"

#include "Support.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

namespace dlc {
namespace {

Expected<const CudaDriver *> load() {
  const char *env = std::getenv("DLC_CUDA_DRIVER");
  std::string path = env && *env ? env : "libcuda.so.1";
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return Status::error("no CUDA driver (" + path + ") found");
  static CudaDriver driver;
#define DLC_CUDA_LOOKUP(name)                                                            \
  driver.name = reinterpret_cast<decltype(driver.name)>(dlsym(handle, #name));           \
  if (!driver.name)                                                                      \
    return Status::error("the CUDA driver (" + path + ") lacks " #name                   \
                         "; a newer driver is needed");
  DLC_CUDA_SYMBOLS(DLC_CUDA_LOOKUP)
#undef DLC_CUDA_LOOKUP
  CUresult r = driver.cuInit(0);
  if (r == CUDA_ERROR_NO_DEVICE)
    return Status::error("no CUDA device");
  if (Status s = driver.check(r, "cuInit"); !s)
    return s;
  int count = 0;
  if (Status s = driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount"); !s)
    return s;
  if (count == 0)
    return Status::error("no CUDA device");
  return static_cast<const CudaDriver *>(&driver);
}

/// Names of common results, for drivers (such as the toolkit's stub) whose
/// cuGetErrorName fails too.
const char *knownName(CUresult r) {
  switch (r) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    return "CUDA_ERROR_OUT_OF_MEMORY";
  case CUDA_ERROR_NOT_INITIALIZED:
    return "CUDA_ERROR_NOT_INITIALIZED";
  case CUDA_ERROR_STUB_LIBRARY:
    return "CUDA_ERROR_STUB_LIBRARY (the CUDA toolkit's stub, not a driver)";
  case CUDA_ERROR_NO_DEVICE:
    return "CUDA_ERROR_NO_DEVICE";
  case CUDA_ERROR_INVALID_PTX:
    return "CUDA_ERROR_INVALID_PTX";
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    return "CUDA_ERROR_ILLEGAL_ADDRESS";
  case CUDA_ERROR_LAUNCH_FAILED:
    return "CUDA_ERROR_LAUNCH_FAILED";
  default:
    return nullptr;
  }
}

} // namespace

Expected<const CudaDriver *> CudaDriver::get() {
  static std::once_flag once;
  static Expected<const CudaDriver *> result = Status::error("unreachable");
  std::call_once(once, [] { result = load(); });
  return result;
}

Status CudaDriver::check(CUresult result, const char *call) const {
  if (result == CUDA_SUCCESS)
    return Status::ok();
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = knownName(result);
  if (cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = nullptr;
  std::string what = name ? name : strCat("CUresult ", static_cast<int>(result));
  if (text)
    what += strCat(" (", text, ")");
  return Status::error(strCat(call, " failed: ", what));
}

} // namespace dlc

#endif // DLC_HAVE_CUDA_H
