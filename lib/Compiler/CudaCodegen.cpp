//===- CudaCodegen.cpp - Launch geometry and PTX of the CUDA target --------===//
#include "Compiler.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace mlir;

namespace dlc::compiler {

LogicalResult assignGpuLaunches(ModuleOp module, artifact::ArtifactSpec &spec) {
  using namespace artifact;
  auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>("dlc_kernels");
  for (Launch &launch : spec.launches) {
    const Kernel &k = spec.kernels[launch.kernel];
    // A gpu.func, or with GPU emulation on the CPU the kernel function itself.
    Operation *func = gpuModule ? gpuModule.lookupSymbol(k.name) : nullptr;
    if (!func)
      func = module.lookupSymbol(k.name);
    if (!func)
      return module.emitError("kernel '") << k.name << "' was not mapped to the GPU";
    auto block = func->getAttrOfType<DenseI64ArrayAttr>("dlc.block");
    launch.block = {static_cast<int32_t>(block && block.size() == 1 ? block[0] : 1), 1, 1};
    launch.sharedMemory = 0;
    launch.staticSharedMemory = 0;
    if (auto gpuFunc = dyn_cast<gpu::GPUFuncOp>(func))
      for (BlockArgument b : gpuFunc.getWorkgroupAttributions()) {
        auto type = cast<MemRefType>(b.getType());
        launch.staticSharedMemory += static_cast<int32_t>(
            type.getNumElements() * std::max<int64_t>(1, type.getElementTypeBitWidth() / 8));
      }
    launch.grid = 1;
    auto grid = func->getAttrOfType<DenseI64ArrayAttr>("dlc.gpu_grid");
    if (!grid || grid.empty() || grid.size() % 3 != 0)
      continue;
    // grid = prod ceildiv(extent, tile) over the (result, dim, tile) triples, where a
    // triple of tile 0 multiplies its dim into the next triple's extent.
    int64_t staticGrid = 1;
    std::vector<int64_t> code;
    int64_t staticExtent = 1;
    std::vector<int64_t> extentCode; // the dynamic factors of the extent
    for (size_t i = 0; i < grid.size(); i += 3) {
      if (grid[i] < 0 || size_t(grid[i]) >= launch.bindings.size() - launch.numInputs)
        return module.emitError("kernel '") << k.name << "' has a grid on a missing result";
      const Buffer &out = spec.buffers[launch.bindings[launch.numInputs + grid[i]]];
      if (grid[i + 1] < 0 || size_t(grid[i + 1]) >= out.dims.size())
        return module.emitError("kernel '") << k.name << "' has a grid on a missing dim";
      int64_t d = out.dims[grid[i + 1]], tile = grid[i + 2];
      if (d >= 0) {
        staticExtent *= d;
      } else {
        const std::vector<int64_t> &dimCode = spec.exprs[-(d + 1)];
        bool firstFactor = extentCode.empty();
        extentCode.insert(extentCode.end(), dimCode.begin(), dimCode.end());
        if (!firstFactor)
          extentCode.push_back(Mul);
      }
      if (tile == 0)
        continue;
      if (extentCode.empty()) {
        staticGrid *= (staticExtent + tile - 1) / tile;
      } else {
        bool first = code.empty();
        code.insert(code.end(), extentCode.begin(), extentCode.end());
        if (staticExtent != 1)
          code.insert(code.end(), {Const, staticExtent, Mul});
        code.insert(code.end(), {Const, tile, CeilDiv});
        if (!first)
          code.push_back(Mul);
      }
      staticExtent = 1;
      extentCode.clear();
    }
    if (code.empty()) {
      launch.grid = std::max<int64_t>(staticGrid, 1);
      continue;
    }
    if (staticGrid != 1)
      code.insert(code.end(), {Const, staticGrid, Mul});
    spec.exprs.push_back(std::move(code));
    launch.grid = -static_cast<int64_t>(spec.exprs.size());
  }
  return success();
}

FailureOr<std::string> extractPtx(ModuleOp module) {
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute a : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a))
        return object.getObject().str();
  return module.emitError("no PTX was produced"), failure();
}

std::string findCudaToolkit() {
  std::vector<std::string> candidates;
  for (const char *var : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"})
    if (const char *v = std::getenv(var); v && *v)
      candidates.push_back(v);
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
