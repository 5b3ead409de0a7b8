//===- GpuDynamicShared.cpp - The dlc-gpu-dynamic-shared pass -------------===//
//
// A CUDA kernel declares its shared buffers statically (workgroup attributions become
// `.shared` arrays), and a block may declare at most 48 KiB so. More takes dynamic
// shared memory: the kernel's one `extern .shared` array, whose size each launch
// passes, after the kernel opted in to that much (cuFuncSetAttribute; up to 99 KiB on
// sm_86, 227 KiB on sm_90). Multi-stage copies (dlc-gpu-async-copies) and larger
// contraction tiles need it. Here a kernel over the static limit gets its buffers as
// views of `gpu.dynamic_shared_memory`, laid out one after another at their
// alignments, and records the bytes (`dlc.dynamic_shared`) for its launches.
//
//===----------------------------------------------------------------------===//
#include "passes/GpuTarget.h"
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_DLCGPUDYNAMICSHARED
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// The least alignment of a buffer in dynamic shared memory (what cp.async, ldmatrix
/// and wgmma's descriptors need).
constexpr int64_t kMinAlign = 16;

struct Layout {
  SmallVector<int64_t> offsets;
  int64_t bytes = 0;
};

/// `func`'s workgroup buffers one after another, each at a multiple of its alignment.
Layout layoutOf(gpu::GPUFuncOp func) {
  Layout l;
  for (auto [i, buffer] : llvm::enumerate(func.getWorkgroupAttributions())) {
    int64_t align = kMinAlign;
    if (auto a = dyn_cast_or_null<IntegerAttr>(func.getWorkgroupAttributionAttr(i, "llvm.align")))
      align = std::max(align, a.getInt());
    l.bytes = llvm::alignTo(l.bytes, align);
    l.offsets.push_back(l.bytes);
    l.bytes += staticBytes(cast<MemRefType>(buffer.getType()));
  }
  return l;
}

/// Replaces `func`'s workgroup attributions by views of dynamic shared memory at
/// `layout`'s offsets.
void toDynamic(gpu::GPUFuncOp func, const Layout &layout) {
  MLIRContext *ctx = func.getContext();
  Block &entry = func.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Location loc = func.getLoc();
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Value base =
      gpu::DynamicSharedMemoryOp::create(b, loc,
                                         MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                                         MemRefLayoutAttrInterface(), workgroup));
  SmallVector<BlockArgument> buffers(func.getWorkgroupAttributions());
  unsigned first = buffers.empty() ? 0 : buffers.front().getArgNumber();
  unsigned count = buffers.size();
  for (auto [i, buffer] : llvm::enumerate(buffers)) {
    Value at = arith::ConstantIndexOp::create(b, loc, layout.offsets[i]);
    Value view =
        memref::ViewOp::create(b, buffer.getLoc(), buffer.getType(), base, at, ValueRange{});
    buffer.replaceAllUsesWith(view);
  }
  entry.eraseArguments(first, count);
  func->setAttr(func.getNumWorkgroupAttributionsAttrName(), b.getI64IntegerAttr(0));
  func.removeWorkgroupAttribAttrsAttr();
  func->setAttr(attrs::kDynamicShared, b.getI64IntegerAttr(layout.bytes));
}

struct DlcGpuDynamicSharedPass : impl::DlcGpuDynamicSharedBase<DlcGpuDynamicSharedPass> {
  using Base::Base;

  void runOnOperation() override {
    const GpuTarget *target = lookupGpuTarget(arch);
    if (!target) {
      getOperation().emitError("dlc-gpu-dynamic-shared: unknown architecture '") << arch << "'";
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<gpu::GPUFuncOp>()) {
      if (!func.isKernel())
        continue;
      Layout layout = layoutOf(func);
      if (layout.bytes <= target->maxStaticSharedBytes)
        continue;
      if (layout.bytes > target->maxDynamicSharedBytes) {
        func.emitOpError("needs ")
            << layout.bytes << " bytes of shared memory; " << arch << " allows a block "
            << target->maxDynamicSharedBytes << " on every card that runs its PTX";
        return signalPassFailure();
      }
      toDynamic(func, layout);
    }
  }
};

} // namespace
} // namespace dlc
