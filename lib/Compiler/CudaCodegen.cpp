//===- CudaCodegen.cpp - Launch geometry and PTX of the CUDA target --------===//
#include "Compiler.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace dlc::compiler {

LogicalResult assignGpuLaunches(ModuleOp module, artifact::ArtifactSpec &spec) {
  using namespace artifact;
  auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>("dlc_kernels");
  for (Launch &launch : spec.launches) {
    if (launch.isHost())
      continue;
    const Kernel &k = spec.kernels[launch.kernel];
    // A gpu.func, or with GPU emulation on the CPU the kernel function itself.
    Operation *func = gpuModule ? gpuModule.lookupSymbol(k.name) : nullptr;
    if (!func)
      func = module.lookupSymbol(k.name);
    if (!func)
      return module.emitError("kernel '") << k.name << "' was not mapped to the GPU";
    auto block = func->getAttrOfType<DenseI64ArrayAttr>(attrs::kBlock);
    launch.block = {static_cast<int32_t>(block && block.size() == 1 ? block[0] : 1), 1, 1};
    launch.sharedMemory = 0;
    launch.staticSharedMemory = 0; // sharedMemoryFromPtx, once the PTX is made
  }
  return assignGrids(module, spec);
}

void dynamicSharedFromKernels(ModuleOp module, artifact::ArtifactSpec &spec) {
  auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>("dlc_kernels");
  if (!gpuModule)
    return;
  for (artifact::Launch &launch : spec.launches) {
    if (launch.isHost())
      continue;
    Operation *func = gpuModule.lookupSymbol(spec.kernels[launch.kernel].name);
    if (auto bytes = func ? func->getAttrOfType<IntegerAttr>(attrs::kDynamicShared) : nullptr)
      launch.sharedMemory = static_cast<int32_t>(bytes.getInt());
  }
}

void sharedMemoryFromPtx(StringRef ptx, artifact::ArtifactSpec &spec) {
  // The workgroup buffers as the NVVM lowering names them: `.shared .align A .b8
  // __wg_KERNEL_I[BYTES];` at module scope.
  llvm::StringMap<int32_t> bytes;
  StringRef rest = ptx;
  while (!rest.empty()) {
    auto [line, next] = rest.split('\n');
    rest = next;
    line = line.trim();
    if (!line.consume_front(".shared") || !line.consume_back("];"))
      continue;
    size_t name = line.find("__wg_"), open = line.rfind('[');
    if (name == StringRef::npos || open == StringRef::npos || open < name)
      continue;
    StringRef symbol = line.slice(name + 5, open);
    int32_t n = 0;
    if (line.substr(open + 1).getAsInteger(10, n))
      continue;
    // KERNEL_I: the kernel's name is all but the last `_I`.
    StringRef kernel = symbol.rsplit('_').first;
    bytes[kernel] += n;
  }
  for (artifact::Launch &launch : spec.launches)
    if (!launch.isHost())
      launch.staticSharedMemory = bytes.lookup(spec.kernels[launch.kernel].name);
}

FailureOr<std::string> extractPtx(ModuleOp module) {
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute a : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a))
        return object.getObject().str();
  return module.emitError("no PTX was produced"), failure();
}

std::string findCudaToolkit(const CompileOptions &options) {
  std::vector<std::string> candidates;
  if (!options.cudaToolkit.empty())
    candidates.push_back(options.cudaToolkit);
  candidates.push_back("/usr/local/cuda");
  candidates.push_back("/usr/lib/cuda");
  for (const std::string &c : candidates) {
    llvm::SmallString<256> libdevice(c);
    llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
    if (llvm::sys::fs::exists(libdevice))
      return c;
  }
  return "";
}

} // namespace dlc::compiler
