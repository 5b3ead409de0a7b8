//===- CudaCodegen.cpp - Launch geometry and PTX of the CUDA target --------===//
#include "Compiler.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

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
    launch.staticSharedMemory = 0;
    if (auto gpuFunc = dyn_cast<gpu::GPUFuncOp>(func))
      for (BlockArgument b : gpuFunc.getWorkgroupAttributions()) {
        auto type = cast<MemRefType>(b.getType());
        launch.staticSharedMemory += static_cast<int32_t>(
            type.getNumElements() * std::max<int64_t>(1, type.getElementTypeBitWidth() / 8));
      }
  }
  return assignGrids(module, spec);
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
